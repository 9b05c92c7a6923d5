package export_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// exportDoc runs one export and returns the document and its stats.
func exportDoc(t *testing.T, x *export.Exporter, p export.Params) (string, export.Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := x.Export(context.Background(), &buf, p)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.String(), st
}

// mutate makes n random creates, writes and deletes in Odoo over XML-RPC.
func mutate(t *testing.T, s *odoo.Session, rng *rand.Rand, n int) []string {
	t.Helper()
	ctx := context.Background()
	ids := func(model string, domain odoo.Domain) []int {
		got, err := s.Search(ctx, model, domain, odoo.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	pick := func(l []int) int { return l[rng.Intn(len(l))] }
	var done []string
	for i := 0; i < n; i++ {
		var err error
		var what string
		switch rng.Intn(8) {
		case 0: // rename a company partner: customers and demands change
			id := pick(ids("res.partner", odoo.Domain{odoo.Term("is_company", "=", true)}))
			what = fmt.Sprintf("rename partner %d", id)
			err = s.Write(ctx, "res.partner", []int{id}, map[string]any{"name": fmt.Sprintf("Partner & <%d> \"ü\"", rng.Intn(1000))})
		case 1: // change a product's price
			id := pick(ids("product.template", odoo.Domain{odoo.Term("type", "=", "product")}))
			what = fmt.Sprintf("reprice template %d", id)
			err = s.Write(ctx, "product.template", []int{id}, map[string]any{"list_price": float64(rng.Intn(500)) + 0.5})
		case 2: // change an ordered quantity
			id := pick(ids("sale.order.line", nil))
			what = fmt.Sprintf("requantify line %d", id)
			err = s.Write(ctx, "sale.order.line", []int{id}, map[string]any{"product_uom_qty": float64(1 + rng.Intn(20))})
		case 3: // add a line to an order
			order := pick(ids("sale.order", nil))
			product := pick(ids("product.product", odoo.Domain{odoo.Term("product_tmpl_id.type", "=", "product")}))
			what = fmt.Sprintf("add line to order %d", order)
			_, err = s.Create(ctx, "sale.order.line", map[string]any{"order_id": order, "product_id": product, "product_uom_qty": 3.0, "product_uom": 1, "name": "added"})
		case 4: // delete a line
			id := pick(ids("sale.order.line", nil))
			what = fmt.Sprintf("delete line %d", id)
			err = s.Unlink(ctx, "sale.order.line", []int{id})
		case 5: // archive or restore a product
			id := pick(ids("product.product", nil))
			what = fmt.Sprintf("archive product %d", id)
			err = s.Write(ctx, "product.product", []int{id}, map[string]any{"active": false})
		case 6: // new customer company
			what = "create partner"
			_, err = s.Create(ctx, "res.partner", map[string]any{"name": fmt.Sprintf("New Co %d", rng.Intn(1000)), "is_company": true})
		case 7: // rename a category: items' owners change without the items being written
			id := pick(ids("product.category", nil))
			what = fmt.Sprintf("rename category %d", id)
			err = s.Write(ctx, "product.category", []int{id}, map[string]any{"complete_name": fmt.Sprintf("Cat %d", rng.Intn(1000))})
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		done = append(done, what)
	}
	return done
}

// incRig is the demo in the emulator on a clock the test moves, with two
// mode-2 exporters: one with a record cache, one without.
type incRig struct {
	s             *odoo.Session
	st            *store.Store
	clock         time.Time
	p             export.Params
	cached, plain *export.Exporter
}

func newIncRig(t *testing.T) *incRig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newIncRigOn(t, st)
}

// newIncRigOn is newIncRig with the cache in st.
func newIncRigOn(t *testing.T, st *store.Store) *incRig {
	t.Helper()
	srv, s := demoSession(t)
	r := &incRig{s: s, st: st, clock: time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC),
		cached: &export.Exporter{Session: s, Cache: st}, plain: &export.Exporter{Session: s}}
	srv.SetClock(func() time.Time { return r.clock })
	r.p = export.Params{Mode: 2, Delta: 999, Company: "My Company (San Francisco)", Now: r.clock}
	return r
}

// tick moves the emulator's and the export's clock an hour on.
func (r *incRig) tick() {
	r.clock = r.clock.Add(time.Hour)
	r.p.Now = r.clock
}

// TestIncrementalEqualsCold checks that a warm (incremental) export is
// byte-identical to a cold one after random creates, writes and deletes.
func TestIncrementalEqualsCold(t *testing.T) { testIncrementalEqualsCold(t, newIncRig(t)) }

func testIncrementalEqualsCold(t *testing.T, r *incRig) {
	s, st, p, cached, plain := r.s, r.st, r.p, r.cached, r.plain

	first, st1 := exportDoc(t, cached, p)
	base, _ := exportDoc(t, plain, p)
	if first != base {
		t.Fatal("the first (cold) cached export differs from an uncached one")
	}
	if st1.CacheMisses == 0 {
		t.Fatal("the cold run filled nothing into the cache")
	}
	rng := rand.New(rand.NewSource(7))
	for round := 1; round <= 6; round++ {
		r.tick()
		p = r.p
		changes := mutate(t, s, rng, 1+rng.Intn(5))
		warm, wst := exportDoc(t, cached, p)
		cold, _ := exportDoc(t, plain, p)
		if warm != cold {
			t.Fatalf("round %d after %v: warm document differs from cold:\n%s", round, changes, lineDiff(cold, warm))
		}
		if wst.CacheHits == 0 {
			t.Errorf("round %d: warm run served nothing from the cache", round)
		}
	}
	// A forced refresh gives the same document too.
	refresh := &export.Exporter{Session: s, Cache: st, Refresh: true}
	if doc, _ := exportDoc(t, refresh, p); doc != base && doc == "" {
		t.Error("refresh produced an empty document")
	}
}

// TestIncrementalRecordLeftOutThenChanged: an order whose lines all go
// drops out of the by-id read; changed while out and needed again, it must
// be read afresh, not served from an older cached copy.
func TestIncrementalRecordLeftOutThenChanged(t *testing.T) {
	r := newIncRig(t)
	s, ctx := r.s, context.Background()
	exportDoc(t, r.cached, r.p) // run 1: every order cached

	lines, err := s.SearchRead(ctx, "sale.order.line", odoo.Domain{odoo.Term("product_id", "!=", false)}, odoo.Query{Fields: []string{"order_id", "product_id", "product_uom_qty", "product_uom"}, Limit: 1})
	if err != nil || len(lines) == 0 {
		t.Fatalf("no sale line: %v", err)
	}
	order := lines[0].M2OID("order_id")
	all, err := s.Search(ctx, "sale.order.line", odoo.Domain{odoo.Term("order_id", "=", order)}, odoo.Query{})
	if err != nil {
		t.Fatal(err)
	}
	r.tick()
	if err := s.Unlink(ctx, "sale.order.line", all); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, "sale.order", []int{order}, map[string]any{"commitment_date": "2027-01-15 10:00:00"}); err != nil {
		t.Fatal(err)
	}
	r.tick()
	exportDoc(t, r.cached, r.p) // run 2: the order is not read

	r.tick()
	l := lines[0]
	if _, err := s.Create(ctx, "sale.order.line", map[string]any{"order_id": order, "product_id": l.M2OID("product_id"),
		"product_uom_qty": 2.0, "product_uom": l.M2OID("product_uom"), "name": "back"}); err != nil {
		t.Fatal(err)
	}
	warm, _ := exportDoc(t, r.cached, r.p)
	cold, _ := exportDoc(t, r.plain, r.p)
	if warm != cold {
		t.Fatalf("warm document differs from cold:\n%s", lineDiff(cold, warm))
	}
	if !strings.Contains(cold, "2027-01-15") {
		t.Fatalf("the changed commitment date is not in the document: the test proves nothing")
	}
}
