package export_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

func TestScratchWarmCalls(t *testing.T) {
	ds, _ := odooemu.Load(datasets.Demo(), ".")
	emu := odooemu.New(ds)
	srv := odooemu.Start(emu)
	defer srv.Close()
	var mu sync.Mutex
	calls := map[string]int{}
	tr, _ := odoo.NewTransport(odoo.Options{URL: srv.URL, Protocol: odoo.ProtocolJSONRPC, OnCall: func(service, model, method string, d time.Duration, err error) {
		mu.Lock(); calls[model+" "+method]++; mu.Unlock()
	}})
	s, _ := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
	st, _ := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	defer st.Close()
	clock := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	emu.SetClock(func() time.Time { return clock })
	x := &export.Exporter{Session: s, Cache: st, Modes: allCacheable(), Logger: quietLog}
	for i := 0; i < 3; i++ {
		mu.Lock(); calls = map[string]int{}; mu.Unlock()
		clock = clock.Add(time.Hour)
		stt, err := x.Export(context.Background(), io.Discard, export.Params{Mode: 1, Delta: 999, Company: "My Company (San Francisco)", Now: clock})
		if err != nil { t.Fatal(err) }
		fmt.Printf("run %d: calls %d models %d reused %d hits %d misses %d\n", i, stt.Calls, stt.ModelsChecked, stt.SectionsReused, stt.CacheHits, stt.CacheMisses)
		if i == 2 {
			var keys []string
			for k := range calls { keys = append(keys, k) }
			sort.Strings(keys)
			for _, k := range keys { fmt.Println("  ", k, calls[k]) }
		}
	}
}
