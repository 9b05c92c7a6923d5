package export_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
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

// quietLog keeps benchmark output to the figures.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchSession serves the demo scaled n times and counts RPC calls.
func benchSession(b *testing.B, scale int, calls *atomic.Int64) *odoo.Session {
	return benchSessionOver(b, scale, odoo.ProtocolXMLRPC, calls)
}

func benchSessionOver(b testing.TB, scale int, protocol odoo.Protocol, calls *atomic.Int64) *odoo.Session {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		b.Fatal(err)
	}
	srv := odooemu.Start(odooemu.New(gen.Scale(ds, scale, 1)))
	b.Cleanup(srv.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL, Protocol: protocol, OnCall: func(string, string, string, time.Duration, error) { calls.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	s, err := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkExport measures a full mode-1 export at several dataset sizes
// and over both protocols: time, Odoo calls, bytes and the heap in use at
// the end of the export.
func BenchmarkExport(b *testing.B) {
	for _, tc := range []struct {
		scale    int
		protocol odoo.Protocol
	}{{1, odoo.ProtocolXMLRPC}, {10, odoo.ProtocolXMLRPC}, {50, odoo.ProtocolXMLRPC}, {10, odoo.ProtocolJSONRPC}, {50, odoo.ProtocolJSONRPC}} {
		scale := tc.scale
		b.Run(fmt.Sprintf("scale%d/%s", scale, tc.protocol), func(b *testing.B) {
			var calls atomic.Int64
			s := benchSessionOver(b, scale, tc.protocol, &calls)
			x := &export.Exporter{Session: s, Logger: quietLog}
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
// record cache, at two sizes; "changed=1%" writes 1% of the sale order
// lines and partners before each warm export (outside the timer).
func BenchmarkIncremental(b *testing.B) {
	for _, scale := range []int{10, 50} {
		for _, variant := range []string{"cold", "warm", "warm/changed=1%"} {
			b.Run(fmt.Sprintf("scale%d/%s", scale, variant), func(b *testing.B) {
				var calls atomic.Int64
				s := benchSession(b, scale, &calls)
				st, err := store.Open(filepath.Join(b.TempDir(), "state.db"), store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				ctx := context.Background()
				p := export.Params{Mode: 2, Delta: 999, Company: "My Company (San Francisco)", Now: time.Now().UTC()}
				x := &export.Exporter{Session: s, Cache: st, Refresh: variant == "cold", Logger: quietLog}
				if _, err := x.Export(ctx, io.Discard, p); err != nil {
					b.Fatal(err)
				}
				var lines, partners []int
				if variant == "warm/changed=1%" {
					if lines, err = s.Search(ctx, "sale.order.line", nil, odoo.Query{}); err != nil {
						b.Fatal(err)
					}
					if partners, err = s.Search(ctx, "res.partner", nil, odoo.Query{}); err != nil {
						b.Fatal(err)
					}
				}
				var timed int64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if lines != nil {
						b.StopTimer()
						touch(b, s, "sale.order.line", lines, i, func(n int) map[string]any { return map[string]any{"product_uom_qty": float64(1 + n%7)} })
						touch(b, s, "res.partner", partners, i, func(n int) map[string]any { return map[string]any{"name": fmt.Sprintf("Partner %d/%d", i, n)} })
						b.StartTimer()
					}
					before := calls.Load()
					p.Now = time.Now().UTC()
					if _, err := x.Export(ctx, io.Discard, p); err != nil {
						b.Fatal(err)
					}
					timed += calls.Load() - before
				}
				b.ReportMetric(float64(timed)/float64(b.N), "calls/op")
			})
		}
	}
}

// touch writes 1% of ids (at least one), a different slice each round.
func touch(b *testing.B, s *odoo.Session, model string, ids []int, round int, vals func(int) map[string]any) {
	n := max(1, len(ids)/100)
	for k := 0; k < n; k++ {
		id := ids[(round*n+k)%len(ids)]
		if err := s.Write(context.Background(), model, []int{id}, vals(k)); err != nil {
			b.Fatal(err)
		}
	}
}
