package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/store"
)

// BenchmarkOMSProposalHTTP posts a 50-line ticket over the demo's
// warehouses to /oms/orders-proposal from 4 goroutines per core, over
// loopback, with runs kept in a state file (store=bbolt) or in memory
// (store=none). ns/op is wall time per ticket at full load: compare
// builds with benchstat over -count=6.
func BenchmarkOMSProposalHTTP(b *testing.B) {
	ticket, err := os.ReadFile("testdata/oms_ticket50.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"bbolt", "none"} {
		b.Run("store="+kind, func(b *testing.B) {
			e := emulate(b, nil, datasets.DemoExtensions...)
			var st *store.Store
			if kind == "bbolt" {
				st = tempStore(b)
			}
			engine, err := oms.NewEngine(oms.Config{StockFreshness: 1 << 40})
			if err != nil {
				b.Fatal(err)
			}
			srv := gateway.New(gateway.Config{OMS: engine}, e.tr, st, quiet)
			gw := httptest.NewServer(srv)
			defer func() { gw.Close(); srv.Close() }()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			defer client.CloseIdleConnections()
			post := func() error {
				req, _ := http.NewRequest(http.MethodPost, gw.URL+"/oms/orders-proposal", strings.NewReader(string(ticket)))
				req.SetBasicAuth("admin", "admin")
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				defer res.Body.Close()
				if _, err := io.Copy(io.Discard, res.Body); err != nil {
					return err
				}
				if res.StatusCode != http.StatusOK {
					return &statusError{res.StatusCode}
				}
				return nil
			}
			if err := post(); err != nil { // stock read, login cached
				b.Fatal(err)
			}
			b.SetParallelism(4)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := post(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

type statusError struct{ status int }

func (e *statusError) Error() string { return http.StatusText(e.status) }
