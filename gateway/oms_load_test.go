package gateway_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/oms"
)

// addWarehouses gives San Francisco n more warehouses spread over
// California, each holding most stocked products; it returns product ids
// that have stock.
func addWarehouses(ds *odooemu.Dataset, n int, seed int64) []int {
	rng := rand.New(rand.NewSource(seed))
	co := []any{1, "My Company (San Francisco)"}
	var products []int
	for _, p := range ds.Model("product.product").Records {
		if t, _ := p["type"].(string); t == "product" {
			products = append(products, odoo.AsInt(p["id"]))
		}
	}
	whs, locs, partners, quants := ds.Model("stock.warehouse"), ds.Model("stock.location"), ds.Model("res.partner"), ds.Model("stock.quant")
	for i := 0; i < n; i++ {
		wid, view, stock, pid := 100+i, 1000+2*i, 1001+2*i, 1000+i
		code := fmt.Sprintf("W%02d", i)
		partners.Records = append(partners.Records, odooemu.Record{"id": pid, "name": code + " address", "display_name": code + " address", "active": true,
			"partner_latitude": 33 + rng.Float64()*5, "partner_longitude": -122 + rng.Float64()*5, "company_id": co})
		whs.Records = append(whs.Records, odooemu.Record{"id": wid, "name": "Warehouse " + code, "display_name": "Warehouse " + code, "code": code,
			"active": true, "company_id": co, "partner_id": []any{pid, code + " address"}, "sequence": 20 + i,
			"lot_stock_id": []any{stock, code + "/Stock"}, "view_location_id": []any{view, code}})
		locs.Records = append(locs.Records,
			odooemu.Record{"id": view, "name": code, "complete_name": code, "usage": "view", "active": true, "company_id": co, "warehouse_id": []any{wid, "Warehouse " + code}},
			odooemu.Record{"id": stock, "name": "Stock", "complete_name": code + "/Stock", "usage": "internal", "active": true, "company_id": co,
				"location_id": []any{view, code}, "warehouse_id": []any{wid, "Warehouse " + code}})
		for _, p := range products {
			if rng.Intn(10) < 7 {
				quants.Records = append(quants.Records, odooemu.Record{"id": 10000 + len(quants.Records), "product_id": []any{p, "P"},
					"location_id": []any{stock, code + "/Stock"}, "quantity": float64(rng.Intn(40)), "reserved_quantity": 0.0, "company_id": co})
			}
		}
	}
	for _, m := range []*odooemu.Model{whs, locs, partners, quants} {
		odooemu.Reindex(m)
	}
	return products
}

// TestOMSThroughputHTTP (with -load=DURATION) sources 50-line tickets
// over 20 warehouses (runs of thousands of candidates) through the
// gateway, over loopback, from 8 clients, and reports tickets/s, latency,
// and the runs saved to the state file and readable from it. Without
// -load it is skipped: cmd/plangate's TestOMSLoadKeepsEveryRun measures
// the demo as a separate process, and go test ./mappers/oms -bench
// Propose the engine.
func TestOMSThroughputHTTP(t *testing.T) {
	d := *loadFlag
	if d == 0 {
		t.Skip("run with -load=DURATION")
	}
	var products []int
	e := emulate(t, func(ds *odooemu.Dataset, _ *odooemu.Emulator) { products = addWarehouses(ds, 20, 1) })
	engine, err := oms.NewEngine(oms.Config{StockFreshness: time.Hour, KeepRuns: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	st := tempStore(t)
	srv := gateway.New(gateway.Config{OMS: engine, DefaultDatabase: e.ds.Database}, e.tr, st, quiet)
	gw := httptest.NewServer(srv)
	t.Cleanup(func() { gw.Close(); srv.Close() })
	rng := rand.New(rand.NewSource(2))
	var lines []string
	for i := 0; i < 50; i++ {
		lines = append(lines, fmt.Sprintf(`{"id":"%d","product":{"id":"%d"},"qty":%d,"uom":"1"}`, i+1, products[rng.Intn(len(products))], 1+rng.Intn(6)))
	}
	ticket := `{"ticket":{"id":"LOAD","organization":{"id":"1"},"businessPartner":{"id":"10"},"lines":[` + strings.Join(lines, ",") + `]}}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	post := func() (string, time.Duration, error) {
		t0 := time.Now()
		req, _ := http.NewRequest(http.MethodPost, gw.URL+"/oms/orders-proposal", strings.NewReader(ticket))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth("admin", "admin")
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return "", 0, err
		}
		var p struct {
			OMS struct {
				RunID string `json:"obomsRunId"`
			} `json:"oms"`
		}
		err = json.NewDecoder(res.Body).Decode(&p) // read to the end: the connection is reused
		res.Body.Close()
		if res.StatusCode != 200 || err != nil {
			return "", 0, fmt.Errorf("status %d, %v", res.StatusCode, err)
		}
		return p.OMS.RunID, time.Since(t0), nil
	}
	if _, _, err := post(); err != nil { // warms the stock cache and the login
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lat []time.Duration
	var ids []string
	var failures int
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				id, l, err := post()
				mu.Lock()
				if err != nil {
					failures++
				} else {
					lat = append(lat, l)
					ids = append(ids, id)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	gw.Close()
	srv.Close() // saves what is queued
	slices.Sort(lat)
	if len(lat) == 0 {
		t.Fatal("no ticket answered")
	}
	saved, err := st.OMSRunCount()
	if err != nil {
		t.Fatal(err)
	}
	readable := 0
	for _, id := range ids {
		if doc, found, err := st.OMSRunDoc(id); err == nil && found {
			if r, err := oms.DecodeRun(doc); err == nil && r.ID == id {
				readable++
			}
		}
	}
	t.Logf("50-line tickets over 20 warehouses via HTTP, 8 clients, %v: %d tickets, %.0f/s, p50 %v, p99 %v, %d failures, runs saved %d, readable %d",
		elapsed.Round(time.Millisecond), len(lat), float64(len(lat))/elapsed.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100], failures, saved, readable)
	if failures > 0 {
		t.Errorf("%d failed requests", failures)
	}
	if readable != len(ids) {
		t.Errorf("%d of %d answered runs are not readable from the store", len(ids)-readable, len(ids))
	}
}
