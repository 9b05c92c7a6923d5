package shop_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

// TestFailedImportRetriedAtOnce: a trade whose import fails (its products
// not imported yet, or the platform refusing its details) is released
// with the reason, which the result, the trade record and the missing-
// order report show; the next run, at the same instant, retries it
// instead of waiting for the reservation to grow stale. A reservation of
// an import still running is still respected.
func TestFailedImportRetriedAtOnce(t *testing.T) {
	ctx := context.Background()
	f := startFlow(t)
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f.svc.Now = func() time.Time { return clock } // every run at the same instant

	// No products imported: every line lacks its product.
	r, err := f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if r.Imported != 0 || len(r.Failed) != 3 || r.Err() == nil {
		t.Fatalf("first run = %+v, want 3 failed", r)
	}
	for _, ft := range r.Failed {
		if !strings.Contains(ft.Error, "has no product") || ft.Attempts != 1 {
			t.Errorf("failure %+v lacks the reason", ft)
		}
	}
	m, _, _ := f.st.Trade("demo", "3900000000001")
	if !m.Failed || !strings.Contains(m.Error, "has no product") || m.Done {
		t.Errorf("trade record after the failure = %+v", m)
	}
	rep, err := f.svc.MissingReport(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Window != 3 || len(rep.Missing) != 3 || rep.Missing[0].State != "failed" || !strings.Contains(rep.Missing[0].Error, "has no product") {
		t.Errorf("missing report = %+v", rep)
	}

	if _, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo); err != nil {
		t.Fatal(err)
	}
	// The platform now refuses one trade's details more often than a run retries.
	f.fp.Fail("taobao.trade.fullinfo.get", 5, fakeshop.ServiceError)
	r, err = f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if r.Imported != 2 || r.Retried != 3 || len(r.Failed) != 1 || r.Err() != nil {
		t.Fatalf("second run = %+v, want 2 imported of 3 retried, 1 failed", r)
	}
	if !strings.Contains(r.Failed[0].Error, "isp.remote-service-error") || r.Failed[0].Attempts != 2 {
		t.Errorf("platform failure = %+v", r.Failed[0])
	}
	r, err = f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if r.Imported != 1 || r.Retried != 1 || len(r.Failed) != 0 {
		t.Errorf("third run = %+v, want the last one imported", r)
	}
	for _, tid := range []string{"3900000000001", "3900000000002", "3900000000003"} {
		f.order(t, "TB"+tid) // exactly one each
		if m, _, _ := f.st.Trade("demo", tid); !m.Done || m.Failed || m.Error != "" {
			t.Errorf("trade %s after success = %+v", tid, m)
		}
	}

	// A new trade another import is creating right now: left alone.
	f.fp.AddTrade(fakeshop.Trade{TID: 3900000000009, Status: paid, BuyerNick: "late", Created: time.Date(2026, 11, 25, 10, 0, 0, 0, shop.Beijing),
		Orders: []fakeshop.Order{{OID: 1, NumIID: 610000000001, Title: "Office Desk Lamp", Num: 1, Price: "89.00"}}})
	if _, _, err := f.st.ReserveTrade("demo", "3900000000009", "TB3900000000009", clock); err != nil {
		t.Fatal(err)
	}
	r, err = f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if r.Imported != 0 || r.Skipped != 1 || len(r.Failed) != 0 {
		t.Errorf("with a running import's reservation = %+v, want it skipped", r)
	}
}

// TestFailedTradeTakenOverOnce: runs at once after a failure retry each
// failed trade exactly once.
func TestFailedTradeTakenOverOnce(t *testing.T) {
	ctx := context.Background()
	f := startFlow(t)
	if r, _ := f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo); len(r.Failed) != 3 {
		t.Fatalf("first run failed %d, want 3", len(r.Failed))
	}
	if _, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	imported := 0
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			imported += r.Imported
			mu.Unlock()
		}()
	}
	wg.Wait()
	if imported != 3 {
		t.Errorf("%d orders imported by the concurrent runs, want 3", imported)
	}
	for _, tid := range []string{"3900000000001", "3900000000002", "3900000000003"} {
		f.order(t, "TB"+tid)
	}
}

// newProduct makes an Odoo product with internal reference ref.
func newProduct(t *testing.T, f *flow, name, ref string) (product, template int) {
	t.Helper()
	ctx := context.Background()
	tmpl, err := f.svc.Odoo.Create(ctx, "product.template", map[string]any{"name": name, "detailed_type": "product"})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.svc.Odoo.Search(ctx, "product.product", odoo.Domain{odoo.Term("product_tmpl_id", "=", tmpl)}, odoo.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 {
		id, err := f.svc.Odoo.Create(ctx, "product.product", map[string]any{"product_tmpl_id": tmpl})
		if err != nil {
			t.Fatal(err)
		}
		ids = []int{id}
	}
	if err := f.svc.Odoo.Write(ctx, "product.product", ids[:1], map[string]any{"default_code": ref}); err != nil {
		t.Fatal(err)
	}
	return ids[0], tmpl
}

// TestMatchByInternalReference: items and SKUs whose outer id is the
// internal reference of one existing product are linked to it, not
// created, and later imports leave that product alone; a reference two
// products share, and the other SKUs of an item linked to existing
// products, are listed as unmapped and mapped explicitly; an unknown
// product is refused. Orders then use the mapped products.
func TestMatchByInternalReference(t *testing.T) {
	ctx := context.Background()
	f := startFlow(t)
	lamp, lampTmpl := newProduct(t, f, "Our Desk Lamp", "LAMP-01")
	redM, _ := newProduct(t, f, "Tee red M", "TEE-RED-M")
	newProduct(t, f, "Tee blue M", "TEE-BLU-M")
	newProduct(t, f, "Tee blue M (old)", "TEE-BLU-M")
	redL, _ := newProduct(t, f, "Tee red L", "RED-L-ELSEWHERE")
	before := len(f.emu.Journal())

	r, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	// The lamp and the red M are linked; the sticker is created; the blue
	// M is ambiguous; the red L has no product and its item no template of ours.
	if r.Matched != 2 || r.Created != 1 || r.Variants != 1 || len(r.Unmapped) != 2 {
		t.Errorf("import = %+v, want 2 matched, 1 template and product created, 2 unmapped", r)
	}
	reasons := map[string]string{}
	for _, u := range r.Unmapped {
		reasons[u.OuterID] = u.Reason
	}
	if !strings.Contains(reasons["TEE-BLU-M"], "2 products have") || !strings.Contains(reasons["TEE-RED-L"], "map it explicitly") {
		t.Errorf("unmapped reasons = %v", reasons)
	}
	if m, _, _ := f.st.ItemMapping("demo", "610000000001", ""); m.Product != lamp || m.Template != lampTmpl || m.Source != store.MappingMatched {
		t.Errorf("lamp mapping = %+v, want product %d", m, lamp)
	}
	if m, _, _ := f.st.ItemMapping("demo", "610000000002", "4100000000021"); m.Product != redM {
		t.Errorf("red M mapping = %+v, want product %d", m, redM)
	}
	for _, e := range f.emu.Journal()[before:] {
		if e.Model == "product.template" && e.Method == "write" && slices.Contains(e.IDs, lampTmpl) {
			t.Errorf("the import wrote the user's lamp template: %+v", e)
		}
	}

	// Orders of the unmapped SKUs wait; trade 1 (the lamp) goes through.
	o, err := f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if o.Imported != 1 || len(o.Failed) != 2 {
		t.Errorf("orders = %+v, want 1 imported and 2 waiting for mappings", o)
	}
	_, lines := f.order(t, "TB3900000000001")
	if lines[0].M2OID("product_id") != lamp {
		t.Errorf("lamp line on product %d, want %d", lines[0].M2OID("product_id"), lamp)
	}

	if _, err := f.svc.MapItem(ctx, "demo", "610000000002", "4100000000022", 999999); !errors.Is(err, shop.ErrUnknownProduct) {
		t.Errorf("unknown product: err = %v", err)
	}
	if m, ok, _ := f.st.ItemMapping("demo", "610000000002", "4100000000022"); ok {
		t.Errorf("a refused mapping was saved: %+v", m)
	}
	for sku, prod := range map[string]int{"4100000000022": redL, "4100000000023": redM} {
		if m, err := f.svc.MapItem(ctx, "demo", "610000000002", sku, prod); err != nil || m.Source != store.MappingManual {
			t.Fatalf("map %s: %+v %v", sku, m, err)
		}
	}
	o, err = f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if o.Imported != 2 || o.Retried != 2 || len(o.Failed) != 0 {
		t.Errorf("orders after mapping = %+v", o)
	}
	_, lines = f.order(t, "TB3900000000003")
	if lines[0].M2OID("product_id") != redL {
		t.Errorf("red L line on product %d, want the mapped %d", lines[0].M2OID("product_id"), redL)
	}

	// The seller edits the lamp: the user's product stays as it is.
	f.fp.EditItem(610000000001, time.Date(2026, 11, 23, 10, 0, 0, 0, shop.Beijing), func(it *fakeshop.Item) { it.Title = "Renamed Lamp" })
	before = len(f.emu.Journal())
	if _, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo); err != nil {
		t.Fatal(err)
	}
	for _, e := range f.emu.Journal()[before:] {
		if e.Model == "product.template" || e.Model == "product.product" {
			t.Errorf("re-import wrote %s %v (%s), a product of the user's or an unchanged one", e.Model, e.IDs, e.Method)
		}
	}
}

// TestStockSyncPolicy: by default the records imports make are off and
// nothing is pushed; turning one on pushes it; a record turned off and on
// again is pushed even though its quantity did not change; records are
// made only for mapped products at internal locations.
func TestStockSyncPolicy(t *testing.T) {
	ctx := context.Background()
	f := startFlow(t)
	sh, _ := f.st.Shop("demo")
	sh.NewStockSyncsEnabled = false // the default of a new shop
	if err := f.st.SaveShop(sh, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.SyncStock(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if r.Records != 0 || r.Disabled != 5 || len(f.fp.Updates()) != 0 {
		t.Fatalf("before enabling: %+v, %d updates; want nothing pushed", r, len(f.fp.Updates()))
	}
	lamp, _, _ := f.st.ItemMapping("demo", "610000000001", "")
	if _, err := f.svc.SetStockSync(ctx, "demo", 8, lamp.Product, true); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.svc.SyncStock(ctx, "demo"); r.Pushed != 1 || r.Disabled != 4 {
		t.Errorf("one enabled: %+v", r)
	}
	if r, _ := f.svc.SyncStock(ctx, "demo"); r.Pushed != 0 || r.Unchanged != 1 {
		t.Errorf("again: %+v, want unchanged", r)
	}
	for _, on := range []bool{false, true} {
		if _, err := f.svc.SetStockSync(ctx, "demo", 8, lamp.Product, on); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := f.svc.SyncStock(ctx, "demo"); r.Pushed != 1 {
		t.Errorf("re-enabled: %+v, want pushed again", r)
	}
	hist, _ := f.st.StockPushes("demo")
	if len(hist) != 2 || hist[1].Time.IsZero() || hist[1].Product != lamp.Product {
		t.Errorf("history = %+v, want two timed pushes of the lamp", hist)
	}
	// WH/Stock/Shelf 1 (18) is internal: a second record; 99999 is not a location; 1 is mapped nowhere.
	if rec, err := f.svc.SetStockSync(ctx, "demo", 18, lamp.Product, true); err != nil || rec.ItemID != "610000000001" || !rec.Sync {
		t.Errorf("new record at 18: %+v %v", rec, err)
	}
	if _, err := f.svc.SetStockSync(ctx, "demo", 99999, lamp.Product, true); !errors.Is(err, shop.ErrUnknownLocation) {
		t.Errorf("unknown location: %v", err)
	}
	if _, err := f.svc.SetStockSync(ctx, "demo", 8, 1, true); !errors.Is(err, shop.ErrNotMapped) {
		t.Errorf("unmapped product: %v", err)
	}
	recs, _ := f.st.StockSyncs("demo")
	if len(recs) != 6 {
		t.Errorf("%d records, want 6", len(recs))
	}
}
