package gateway_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plangate/plangate/mappers/oms"
)

var loadFlag = flag.Duration("load", 0, "run the loopback load test this long (e.g. -load=30s); without it a 2-second smoke run")

type loadStats struct {
	mu      sync.Mutex
	lat     []time.Duration
	errors  int
	lastErr string
}

func (s *loadStats) add(d time.Duration, err string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != "" {
		s.errors++
		s.lastErr = err
		return
	}
	s.lat = append(s.lat, d)
}

func (s *loadStats) report(name string, elapsed time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := slices.Clone(s.lat)
	slices.Sort(l)
	q := func(p int) time.Duration {
		if len(l) == 0 {
			return 0
		}
		return l[min(len(l)-1, len(l)*p/100)]
	}
	return fmt.Sprintf("%-7s %6d ok %4d errors  %7.0f/s  p50 %-10v p99 %-10v max %v",
		name, len(l), s.errors, float64(len(l))/elapsed.Seconds(), q(50), q(99), q(100))
}

// TestLoadLoopback drives the gateway over loopback with many concurrent
// order-sourcing requests and exports at once, and reports errors,
// latency and peak heap (the Odoo emulator runs in the same process and
// is included). Every request must succeed.
func TestLoadLoopback(t *testing.T) {
	d := *loadFlag
	omsClients, exportClients := 16, 2
	if d == 0 {
		if testing.Short() {
			t.Skip("load smoke run skipped in -short mode")
		}
		d, omsClients = 2*time.Second, 8
	}
	r := startOMSRig(t, oms.Config{StockFreshness: time.Hour})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: omsClients + exportClients}}
	do := func(req *http.Request) (int, error) {
		req.SetBasicAuth("admin", "admin")
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		_, err = io.Copy(io.Discard, res.Body)
		return res.StatusCode, err
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var omsStats, exportStats loadStats
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	run := func(st *loadStats, mk func() *http.Request) {
		defer wg.Done()
		for ctx.Err() == nil {
			t0 := time.Now()
			status, err := do(mk())
			switch {
			case err != nil:
				st.add(0, err.Error())
			case status != http.StatusOK:
				st.add(0, fmt.Sprintf("status %d", status))
			default:
				st.add(time.Since(t0), "")
			}
		}
	}
	exportURL := r.gw.URL + "/frepple/xml?" + url.Values{"company": {"My Company (San Francisco)"}, "mode": {"1"}}.Encode()
	start := time.Now()
	for i := 0; i < omsClients; i++ {
		wg.Add(1)
		go run(&omsStats, func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, r.gw.URL+"/oms/orders-proposal", strings.NewReader(guideTicket))
			req.Header.Set("Content-Type", "application/json")
			return req
		})
	}
	for i := 0; i < exportClients; i++ {
		wg.Add(1)
		go run(&exportStats, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, exportURL, nil)
			return req
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	t.Logf("loopback load, %v, %d sourcing + %d export clients, GOMAXPROCS %d:", elapsed.Round(time.Millisecond), omsClients, exportClients, runtime.GOMAXPROCS(0))
	t.Log(omsStats.report("oms", elapsed))
	t.Log(exportStats.report("export", elapsed))
	t.Logf("peak heap in use %.1f MiB (gateway and emulator)", float64(peak.Load())/(1<<20))
	for _, s := range []*loadStats{&omsStats, &exportStats} {
		if s.errors > 0 {
			t.Errorf("%d failed requests, last: %s", s.errors, s.lastErr)
		}
		if len(s.lat) == 0 {
			t.Errorf("no request completed")
		}
	}
}
