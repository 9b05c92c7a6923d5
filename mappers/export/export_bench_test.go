package export_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/gen"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// benchSession serves the demo scaled n times and counts RPC calls.
func benchSession(b *testing.B, scale int, calls *atomic.Int64) *odoo.Session {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		b.Fatal(err)
	}
	srv := odooemu.Start(odooemu.New(gen.Scale(ds, scale, 1)))
	b.Cleanup(srv.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL, OnCall: func(string, string, string, time.Duration, error) { calls.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	s, err := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkExport measures a full mode-1 export at several dataset sizes:
// time, Odoo calls, bytes and the heap in use at the end of the export.
func BenchmarkExport(b *testing.B) {
	for _, scale := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("scale%d", scale), func(b *testing.B) {
			var calls atomic.Int64
			s := benchSession(b, scale, &calls)
			x := &export.Exporter{Session: s}
			p := export.Params{Mode: 1, Delta: 999, Company: "My Company (San Francisco)", Now: time.Date(2026, 11, 24, 0, 44, 33, 0, time.UTC)}
			calls.Store(0)
			var bytes int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st, err := x.Export(context.Background(), io.Discard, p)
				if err != nil {
					b.Fatal(err)
				}
				bytes = st.Bytes
			}
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(calls.Load())/float64(b.N), "calls/op")
			b.ReportMetric(float64(bytes), "doc-bytes")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		})
	}
}

// BenchmarkIncremental compares a cold and a warm mode-2 export with the
// record cache, at two sizes.
func BenchmarkIncremental(b *testing.B) {
	for _, scale := range []int{10, 50} {
		for _, warm := range []bool{false, true} {
			b.Run(fmt.Sprintf("scale%d/warm=%v", scale, warm), func(b *testing.B) {
				var calls atomic.Int64
				s := benchSession(b, scale, &calls)
				st, err := store.Open(filepath.Join(b.TempDir(), "state.db"), store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				p := export.Params{Mode: 2, Delta: 999, Company: "My Company (San Francisco)", Now: time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)}
				x := &export.Exporter{Session: s, Cache: st, Refresh: !warm}
				if _, err := x.Export(context.Background(), io.Discard, p); err != nil {
					b.Fatal(err)
				}
				calls.Store(0)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := x.Export(context.Background(), io.Discard, p); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(calls.Load())/float64(b.N), "calls/op")
			})
		}
	}
}
