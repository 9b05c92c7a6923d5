package export_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/gen"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

func TestScratchWarmProfile(t *testing.T) {
	ds, _ := odooemu.Load(datasets.Demo(), ".")
	emu := odooemu.New(gen.Scale(ds, 30, 1))
	p := emulatorProcess(t, 30, odooemu.CostModel{})
	_ = emu
	s := p.login(t, odoo.ProtocolJSONRPC)
	st, _ := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	defer st.Close()
	x := &export.Exporter{Session: s, Cache: st, Modes: allCacheable(), Logger: quietLog}
	pp := export.Params{Mode: 1, Delta: 999, Company: "My Company (San Francisco)", Now: time.Now().UTC()}
	if _, err := x.Export(context.Background(), io.Discard, pp); err != nil { t.Fatal(err) }
	f, _ := os.Create("/tmp/speedscratch/warm.prof")
	pprof.StartCPUProfile(f)
	c0 := cpuTime()
	for i := 0; i < 20; i++ {
		pp.Now = time.Now().UTC()
		if _, err := x.Export(context.Background(), io.Discard, pp); err != nil { t.Fatal(err) }
	}
	t.Logf("cpu per warm run: %v", (cpuTime()-c0)/20)
	pprof.StopCPUProfile()
	f.Close()
}
