package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

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
			// The database named, as plangate demo does: no database list per request.
			srv := gateway.New(gateway.Config{OMS: engine, DefaultDatabase: e.ds.Database}, e.tr, st, quiet)
			gw := httptest.NewServer(srv)
			defer func() { gw.Close(); srv.Close() }()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			defer client.CloseIdleConnections()
			post := func() error {
				req, _ := http.NewRequest(http.MethodPost, gw.URL+"/oms/orders-proposal", strings.NewReader(string(ticket)))
				req.SetBasicAuth("admin", "admin")
				req.Header.Set("Content-Type", "application/json")
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
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := post(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			srv.Close() // the last runs' transaction belongs to the tickets
			b.StopTimer()
			// CPU time (client, gateway and emulator alike) shifts less
			// than wall time when other work shares the machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type statusError struct{ status int }

func (e *statusError) Error() string { return http.StatusText(e.status) }
