package shop_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

const paid = "WAIT_SELLER_SEND_GOODS"

type flow struct {
	svc *shop.Service
	emu *odooemu.Emulator
	fp  *fakeshop.Platform
	st  *store.Store
}

// startFlow runs the Odoo emulator with the demo dataset and the fake
// platform over real HTTP, with a shop "demo" configured.
func startFlow(t *testing.T) *flow {
	t.Helper()
	ctx := context.Background()
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	emu := odooemu.New(ds)
	srv := odooemu.Start(emu)
	t.Cleanup(srv.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := odoo.Login(ctx, tr, ds.Database, "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	fp := fakeshop.New()
	fs := fakeshop.Start(fp)
	t.Cleanup(fs.Close)
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.SaveShop(store.Shop{Name: "demo", Platform: shop.PlatformTaobaoSandbox, OrderPrefix: "TB",
		ShippingProduct: 1, DiscountProduct: 2, GiftProduct: 3, StockLocation: 8, NewStockSyncsEnabled: true,
		AppKey: fakeshop.DemoAppKey, AppSecret: fakeshop.DemoSecret, SessionKey: fakeshop.DemoSession, APIURL: fs.URL}, time.Now()); err != nil {
		t.Fatal(err)
	}
	svc := &shop.Service{Store: st, Odoo: sess, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Platform: func(sh store.Shop) (shop.Platform, error) {
			c := shop.NewTaobao(sh, "")
			c.Backoff = time.Millisecond
			return c, nil
		}}
	return &flow{svc: svc, emu: emu, fp: fp, st: st}
}

var (
	winFrom = time.Date(2026, 11, 1, 0, 0, 0, 0, shop.Beijing)
	winTo   = time.Date(2026, 11, 30, 0, 0, 0, 0, shop.Beijing)
)

func (f *flow) order(t *testing.T, name string) (odoo.Record, []odoo.Record) {
	t.Helper()
	ctx := context.Background()
	recs, err := f.svc.Odoo.SearchRead(ctx, "sale.order", odoo.Domain{odoo.Term("name", "=", name)},
		odoo.Query{Fields: []string{"name", "state", "client_order_ref", "partner_id", "partner_shipping_id", "order_line", "date_order"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d sale.order named %s, want 1", len(recs), name)
	}
	lines, err := f.svc.Odoo.Read(ctx, "sale.order.line", recs[0].IDs("order_line"), odoo.Query{Fields: []string{"product_id", "product_uom_qty", "price_unit"}})
	if err != nil {
		t.Fatal(err)
	}
	return recs[0], lines
}

func TestSyncDemoShop(t *testing.T) {
	ctx := context.Background()
	f := startFlow(t)
	r, err := f.svc.Sync(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if r.Products.Items != 3 || r.Products.Created != 3 || r.Products.Variants != 5 {
		t.Errorf("products = %+v, want 3 items, 3 templates, 5 products", r.Products)
	}
	if r.Orders.Window != 3 || r.Orders.Imported != 3 || r.Orders.Confirmed != 2 || r.Orders.Review != 1 {
		t.Errorf("orders = %+v", r.Orders)
	}
	if r.Stock.Records != 5 || r.Stock.Pushed != 5 {
		t.Errorf("stock = %+v", r.Stock)
	}

	// The SKU variants carry the outer ids; the item without one its numeric id.
	refs := map[string]bool{}
	prods, err := f.svc.Odoo.SearchRead(ctx, "product.product", odoo.Domain{odoo.Term("default_code", "in", []any{"LAMP-01", "TEE-RED-M", "TEE-RED-L", "TEE-BLU-M", "610000000003"})},
		odoo.Query{Fields: []string{"default_code", "product_tmpl_id"}})
	if err != nil {
		t.Fatal(err)
	}
	tmpls := map[int]bool{}
	for _, p := range prods {
		refs[p.String("default_code")] = true
		tmpls[p.M2OID("product_tmpl_id")] = true
	}
	if len(refs) != 5 || len(tmpls) != 3 {
		t.Errorf("products %v in %d templates, want 5 in 3", refs, len(tmpls))
	}

	so, lines := f.order(t, "TB3900000000001")
	if so.String("state") != "sale" || so.String("client_order_ref") != "3900000000001" {
		t.Errorf("order 1 = %v", so)
	}
	// 09:30 Beijing time is 01:30 UTC.
	if got := so.String("date_order"); got != "2026-11-21 01:30:00" {
		t.Errorf("date_order = %s, want 2026-11-21 01:30:00", got)
	}
	// lamp ×2, shipping 10, discount -5
	want := map[int]float64{1: 10, 2: -5}
	for _, l := range lines {
		if p := l.M2OID("product_id"); want[p] != 0 && l.Float("price_unit") != want[p] {
			t.Errorf("line of product %d price %v, want %v", p, l.Float("price_unit"), want[p])
		}
	}
	if len(lines) != 3 {
		t.Errorf("order 1 has %d lines, want 3", len(lines))
	}
	so2, lines2 := f.order(t, "TB3900000000002")
	if len(lines2) != 3 || so2.String("state") != "sale" {
		t.Errorf("order 2: %d lines, state %s", len(lines2), so2.String("state"))
	}
	so3, _ := f.order(t, "TB3900000000003")
	if so3.String("state") != "draft" {
		t.Errorf("order 3 with buyer message: state %s, want draft", so3.String("state"))
	}
	// Same buyer and address: one partner, one delivery address.
	so1, _ := f.order(t, "TB3900000000001")
	if so1.M2OID("partner_id") != so3.M2OID("partner_id") || so1.M2OID("partner_shipping_id") != so3.M2OID("partner_shipping_id") {
		t.Errorf("buyer xiaoming88 got two partners: %v / %v", so1, so3)
	}

	// Repeating the whole sync changes nothing in Odoo nor on the platform.
	before, updates := len(f.emu.Journal()), len(f.fp.Updates())
	r2, err := f.svc.Sync(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.emu.Journal()); got != before {
		t.Errorf("second sync wrote %d records in Odoo, want 0: %+v", got-before, f.emu.Journal()[before:])
	}
	if got := len(f.fp.Updates()); got != updates {
		t.Errorf("second sync pushed %d quantities, want 0", got-updates)
	}
	if r2.Products.Same != 3 || len(r2.Orders.Missing) != 0 || r2.Stock.Unchanged != 5 {
		t.Errorf("second sync = %+v", r2)
	}
}

func TestStockPushAndRecovery(t *testing.T) {
	ctx := context.Background()
	f := startFlow(t)
	if _, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SyncStock(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	m, ok, err := f.st.ItemMapping("demo", "610000000002", "4100000000021")
	if err != nil || !ok {
		t.Fatalf("mapping: %v %v", ok, err)
	}
	// 12 on hand on a shelf under WH/Stock, 2.5 reserved: 9 whole units available.
	if _, err := f.svc.Odoo.Create(ctx, "stock.quant", map[string]any{"product_id": m.Product, "location_id": 18, "quantity": 12.0, "reserved_quantity": 2.5}); err != nil {
		t.Fatal(err)
	}
	// Elsewhere (CHIC1/Stock): not counted.
	if _, err := f.svc.Odoo.Create(ctx, "stock.quant", map[string]any{"product_id": m.Product, "location_id": 28, "quantity": 40.0}); err != nil {
		t.Fatal(err)
	}
	// More faults than one run retries (1 call + 4 retries).
	f.fp.Fail("taobao.item.quantity.update", 5, fakeshop.ServiceError)
	r, err := f.svc.SyncStock(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 1 || r.Pushed != 0 || len(r.Errors) != 1 {
		t.Errorf("with faults: %+v", r)
	}
	if q, _ := f.fp.Quantity("610000000002", "4100000000021"); q == 9 {
		t.Errorf("quantity changed despite the fault")
	}
	r, err = f.svc.SyncStock(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if r.Pushed != 1 || r.Failed != 0 || r.Unchanged != 4 {
		t.Errorf("after recovery: %+v", r)
	}
	if q, _ := f.fp.Quantity("610000000002", "4100000000021"); q != 9 {
		t.Errorf("platform quantity %d, want 9", q)
	}
	hist, err := f.st.StockPushes("demo")
	if err != nil {
		t.Fatal(err)
	}
	var failed, ok9 int
	for _, h := range hist {
		if h.Product == m.Product && !h.OK {
			failed++
		}
		if h.Product == m.Product && h.OK && h.Quantity == 9 {
			ok9++
		}
	}
	if failed != 1 || ok9 != 1 {
		t.Errorf("history of product %d: %d failed, %d ok at 9; want 1 and 1", m.Product, failed, ok9)
	}
}

func TestMissedAndOverlappingImports(t *testing.T) {
	ctx := context.Background()
	f := startFlow(t)
	if _, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo); err != nil {
		t.Fatal(err)
	}
	// A first import only saw the first day; the check finds the rest.
	day2 := time.Date(2026, 11, 21, 12, 0, 0, 0, shop.Beijing)
	if _, err := f.svc.ImportOrders(ctx, "demo", paid, winFrom, day2); err != nil {
		t.Fatal(err)
	}
	all, missing, err := f.svc.MissingOrders(ctx, "demo", paid, winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || len(missing) != 2 {
		t.Errorf("window %v, missing %v; want 3 and 2", all, missing)
	}
	// Two imports of the same window at once: each trade once.
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, tid := range []string{"3900000000001", "3900000000002", "3900000000003"} {
		f.order(t, "TB"+tid) // fails unless exactly one
	}
	if _, missing, _ = f.svc.MissingOrders(ctx, "demo", paid, winFrom, winTo); len(missing) != 0 {
		t.Errorf("still missing %v", missing)
	}
}

func TestReimportUpdates(t *testing.T) {
	ctx := context.Background()
	f := startFlow(t)
	if _, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo); err != nil {
		t.Fatal(err)
	}
	count := func(model string) int {
		n, err := f.svc.Odoo.SearchCount(ctx, model, odoo.Domain{}, odoo.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tmpls, prods, vals := count("product.template"), count("product.product"), count("product.attribute.value")
	// The seller renames the T-shirt and adds a blue L.
	f.fp.EditItem(610000000002, time.Date(2026, 11, 22, 10, 0, 0, 0, shop.Beijing), func(it *fakeshop.Item) {
		it.Title = "Organic Cotton T-Shirt"
		it.SKUs = append(it.SKUs, fakeshop.SKU{ID: "4100000000024", OuterID: "TEE-BLU-L",
			Properties: "1627207:28338:颜色:蓝色;20509:28316:尺码:L", Price: "62.00", Quantity: 5})
	})
	r, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo)
	if err != nil {
		t.Fatal(err)
	}
	if r.Updated != 1 || r.Same != 2 || r.Created != 0 || r.Variants != 1 {
		t.Errorf("re-import = %+v, want 1 updated, 2 same, 1 new variant", r)
	}
	if got := count("product.template"); got != tmpls {
		t.Errorf("templates %d → %d: re-import duplicated", tmpls, got)
	}
	if got := count("product.product"); got != prods+1 {
		t.Errorf("products %d → %d, want one more", prods, got)
	}
	// Blue and L existed already: no new attribute value.
	if got := count("product.attribute.value"); got != vals {
		t.Errorf("attribute values %d → %d, want unchanged", vals, got)
	}
	m, ok, err := f.st.ItemMapping("demo", "610000000002", "")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	recs, err := f.svc.Odoo.Read(ctx, "product.template", []int{m.Template}, odoo.Query{Fields: []string{"name", "attribute_line_ids"}})
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].String("name") != "Organic Cotton T-Shirt" || len(recs[0].IDs("attribute_line_ids")) != 2 {
		t.Errorf("template after re-import = %v", recs[0])
	}
}
