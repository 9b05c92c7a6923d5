package oms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"testing"
	"time"
)

// benchSnapshot has nw warehouses of one company spread over California
// and np products, each stocked in most warehouses.
func benchSnapshot(nw, np int, seed int64) *Snapshot {
	rng := rand.New(rand.NewSource(seed))
	sn := &Snapshot{
		Taken:      time.Now(),
		Companies:  map[int]*Company{1: {1, "West"}},
		Warehouses: map[int]*Warehouse{},
		UOMs:       map[int]*UOM{1: {ID: 1, Name: "Units", Category: 1, Factor: 1, Rounding: 0.01}},
		Products:   map[int]*Product{},
		stock:      map[int][]Candidate{},
	}
	for w := 1; w <= nw; w++ {
		sn.Warehouses[w] = &Warehouse{ID: w, Code: fmt.Sprintf("W%02d", w), Name: fmt.Sprintf("Warehouse %d", w), Company: 1,
			Location: &Point{Lat: 33 + rng.Float64()*5, Lon: -122 + rng.Float64()*5}}
		sn.order = append(sn.order, w)
	}
	for p := 1; p <= np; p++ {
		sn.Products[p] = &Product{ID: p, Code: fmt.Sprintf("P%04d", p), Name: fmt.Sprintf("Product %d", p), UOM: 1}
		for i, w := range sn.order {
			if rng.Intn(10) < 7 {
				sn.stock[p] = append(sn.stock[p], Candidate{Warehouse: w, Product: p, Available: float64(rng.Intn(40)), Priority: float64(i)})
			}
		}
	}
	return sn
}

func benchTicket(lines, np int, seed int64) *Ticket {
	rng := rand.New(rand.NewSource(seed))
	t := &Ticket{ID: "BENCH", Organization: "1", BusinessPartner: "7"}
	for i := 0; i < lines; i++ {
		t.Lines = append(t.Lines, Line{ID: fmt.Sprint(i + 1), Product: fmt.Sprint(1 + rng.Intn(np)), Qty: float64(1 + rng.Intn(12)), UOM: "1"})
	}
	return t
}

// warmService returns a service whose scope "bench" already holds sn, as
// after the first request: the benchmark measures sourcing, not Odoo.
func warmService(b testing.TB, sn *Snapshot) *Service {
	e, err := NewEngine(Config{StockFreshness: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	s := NewService(e, nil)
	s.scopes["bench"] = &scope{snap: sn, products: map[int]*Product{}, partners: map[int]*Point{7: {Lat: 37.9, Lon: -122.1}}}
	return s
}

// BenchmarkPropose sources a 50-line ticket over 20 warehouses with the
// default rules (one warehouse, else at most three by distance).
func BenchmarkPropose(b *testing.B) {
	for _, size := range []struct{ lines, warehouses int }{{5, 5}, {50, 20}, {200, 50}} {
		b.Run(fmt.Sprintf("lines=%d/warehouses=%d", size.lines, size.warehouses), func(b *testing.B) {
			s := warmService(b, benchSnapshot(size.warehouses, 500, 1))
			req := Request{Scope: "bench", Database: "db", Ticket: benchTicket(size.lines, 500, 2)}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Propose(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestProposeLatency runs the benchmark's workload from two goroutines and
// reports tickets/s with p50/p99 latency (go test -run ProposeLatency -v).
func TestProposeLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("latency figures in -short mode")
	}
	s := warmService(t, benchSnapshot(20, 500, 1))
	req := Request{Scope: "bench", Database: "db", Ticket: benchTicket(50, 500, 2)}
	const workers, per = 2, 1000
	lat := make([][]time.Duration, workers)
	start := time.Now()
	done := make(chan int)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for i := 0; i < per; i++ {
				t0 := time.Now()
				if _, err := s.Propose(t.Context(), req); err != nil {
					t.Error(err)
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
			done <- w
		}(w)
	}
	for range workers {
		<-done
	}
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	p50, p99 := all[len(all)/2], all[len(all)*99/100]
	t.Logf("50 lines × 20 warehouses: %.0f tickets/s, p50 %v, p99 %v (%d tickets, %d goroutines)",
		float64(len(all))/elapsed.Seconds(), p50, p99, len(all), workers)
	// Generous bound: the race detector slows this ~10×.
	if p99 > 500*time.Millisecond {
		t.Errorf("p99 %v", p99)
	}
}

// BenchmarkProposeEncoded adds what the gateway does per ticket besides
// sourcing: the run document kept for /oms/runs and the 1.1.0 answer.
func BenchmarkProposeEncoded(b *testing.B) {
	s := warmService(b, benchSnapshot(20, 500, 1))
	req := Request{Scope: "bench", Database: "db", Ticket: benchTicket(50, 500, 2)}
	b.ReportAllocs()
	var runBytes int
	for i := 0; i < b.N; i++ {
		run, err := s.Propose(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		runBytes = len(EncodeRun(run))
		if _, err := json.Marshal(NewResponse(run, Version110)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(runBytes), "run-bytes")
}

// BenchmarkParseTicket reads a 50-line ticket in the shape shops send
// (references as objects, ids as strings).
func BenchmarkParseTicket(b *testing.B) {
	t := benchTicket(50, 500, 2)
	var body bytes.Buffer
	fmt.Fprintf(&body, `{"ticket": {"id": %q, "organization": {"id": %q, "_identifier": "West"}, "businessPartner": {"id": %q}, "lines": [`, t.ID, t.Organization, t.BusinessPartner)
	for i, l := range t.Lines {
		if i > 0 {
			body.WriteString(",\n")
		}
		fmt.Fprintf(&body, `{"id": %q, "product": {"id": %q, "_identifier": "Product %s"}, "qty": %g, "price": 10.5, "uom": %q}`, l.ID, l.Product, l.Product, l.Qty, l.UOM)
	}
	body.WriteString("]}}")
	b.ReportAllocs()
	b.SetBytes(int64(body.Len()))
	for b.Loop() {
		if _, err := ParseTicket(bytes.NewReader(body.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunCodec encodes and decodes the run of a 50-line ticket over
// 4 warehouses (the demo's) and over 20 (thousands of candidates).
func BenchmarkRunCodec(b *testing.B) {
	for _, warehouses := range []int{4, 20} {
		s := warmService(b, benchSnapshot(warehouses, 500, 1))
		run, err := s.Propose(b.Context(), Request{Scope: "bench", Database: "db", Ticket: benchTicket(50, 500, 2)})
		if err != nil {
			b.Fatal(err)
		}
		doc := EncodeRun(run)
		b.Run(fmt.Sprintf("encode/warehouses=%d", warehouses), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				EncodeRun(run)
			}
			b.ReportMetric(float64(len(doc)), "bytes")
		})
		b.Run(fmt.Sprintf("decode/warehouses=%d", warehouses), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeRun(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
