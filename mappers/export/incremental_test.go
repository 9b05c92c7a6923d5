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

	"github.com/plangate/plangate/fixtures/odooemu"
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
		t.Fatalf("export (cache %v): %v", x.Cache != nil, err)
	}
	return buf.String(), st
}

// mutation is one kind of change a user makes in Odoo between exports.
type mutation struct {
	name string
	do   func(t *testing.T, m *mutator) error
}

// mutator makes random creates, writes and deletes in Odoo over XML-RPC.
type mutator struct {
	s   *odoo.Session
	rng *rand.Rand
}

func (m *mutator) ids(t *testing.T, model string, domain odoo.Domain) []int {
	t.Helper()
	got, err := m.s.Search(context.Background(), model, domain, odoo.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (m *mutator) pick(t *testing.T, model string, domain odoo.Domain) int {
	t.Helper()
	l := m.ids(t, model, domain)
	if len(l) == 0 {
		t.Fatalf("no %s matches %v", model, domain)
	}
	return l[m.rng.Intn(len(l))]
}

func (m *mutator) write(model string, id int, vals map[string]any) error {
	return m.s.Write(context.Background(), model, []int{id}, vals)
}

// mutations cover what a document depends on: records written, created,
// deleted and archived, records whose display name or list changes
// without their being written, and the models of each section.
var mutations = []mutation{
	{"rename a company partner", func(t *testing.T, m *mutator) error {
		return m.write("res.partner", m.pick(t, "res.partner", odoo.Domain{odoo.Term("is_company", "=", true)}),
			map[string]any{"name": fmt.Sprintf("Partner & <%d> \"ü\"", m.rng.Intn(1000))})
	}},
	{"reprice a template", func(t *testing.T, m *mutator) error {
		return m.write("product.template", m.pick(t, "product.template", odoo.Domain{odoo.Term("type", "=", "product")}),
			map[string]any{"list_price": float64(m.rng.Intn(500)) + 0.5})
	}},
	{"requantify a sale line", func(t *testing.T, m *mutator) error {
		return m.write("sale.order.line", m.pick(t, "sale.order.line", nil), map[string]any{"product_uom_qty": float64(1 + m.rng.Intn(20))})
	}},
	{"add a sale line", func(t *testing.T, m *mutator) error {
		_, err := m.s.Create(context.Background(), "sale.order.line", map[string]any{"order_id": m.pick(t, "sale.order", nil),
			"product_id":      m.pick(t, "product.product", odoo.Domain{odoo.Term("product_tmpl_id.type", "=", "product")}),
			"product_uom_qty": 3.0, "product_uom": 1, "name": "added"})
		return err
	}},
	{"delete a sale line", func(t *testing.T, m *mutator) error {
		return m.s.Unlink(context.Background(), "sale.order.line", []int{m.pick(t, "sale.order.line", nil)})
	}},
	{"archive a product", func(t *testing.T, m *mutator) error {
		return m.write("product.product", m.pick(t, "product.product", nil), map[string]any{"active": false})
	}},
	{"create a customer", func(t *testing.T, m *mutator) error {
		_, err := m.s.Create(context.Background(), "res.partner", map[string]any{"name": fmt.Sprintf("New Co %d", m.rng.Intn(1000)), "is_company": true})
		return err
	}},
	{"rename a category", func(t *testing.T, m *mutator) error { // items' owners change without the items being written
		return m.write("product.category", m.pick(t, "product.category", nil), map[string]any{"complete_name": fmt.Sprintf("Cat %d", m.rng.Intn(1000))})
	}},
	{"add a stock move to a sale line", func(t *testing.T, m *mutator) error { // the line's move_ids grows, the line is not written
		ctx := context.Background()
		lines, err := m.s.SearchRead(ctx, "sale.order.line", odoo.Domain{odoo.Term("state", "=", "sale"), odoo.Term("move_ids", "!=", false)},
			odoo.Query{Fields: []string{"product_id", "move_ids"}})
		if err != nil || len(lines) == 0 {
			return fmt.Errorf("no confirmed line with moves: %v", err)
		}
		l := lines[m.rng.Intn(len(lines))]
		moves, err := m.s.Read(ctx, "stock.move", l.IDs("move_ids")[:1], odoo.Query{Fields: []string{"name", "date", "company_id", "product_uom",
			"location_id", "location_dest_id", "procure_method"}})
		if err != nil || len(moves) == 0 {
			return fmt.Errorf("read move: %v", err)
		}
		mv := moves[0]
		_, err = m.s.Create(ctx, "stock.move", map[string]any{"name": mv.String("name"), "date": "2026-12-20 08:00:00",
			"company_id": mv.M2OID("company_id"), "product_id": l.M2OID("product_id"), "product_uom_qty": 2.0, "product_uom": mv.M2OID("product_uom"),
			"location_id": mv.M2OID("location_id"), "location_dest_id": mv.M2OID("location_dest_id"), "procure_method": mv.String("procure_method"),
			"sale_line_id": l.ID(), "state": "confirmed"})
		return err
	}},
	{"delete an open stock move", func(t *testing.T, m *mutator) error {
		return m.s.Unlink(context.Background(), "stock.move", []int{m.pick(t, "stock.move", odoo.Domain{odoo.Term("state", "in", []any{"confirmed", "assigned"})})})
	}},
	{"archive a parent company", func(t *testing.T, m *mutator) error { // its contacts leave the customers (domain parent_id.active)
		parents := m.ids(t, "res.partner", odoo.Domain{odoo.Term("child_ids", "!=", false), odoo.Term("is_company", "=", true)})
		if len(parents) == 0 {
			return nil
		}
		return m.write("res.partner", parents[m.rng.Intn(len(parents))], map[string]any{"active": false})
	}},
	{"rename a location", func(t *testing.T, m *mutator) error { // order points sort by location
		return m.write("stock.location", m.pick(t, "stock.location", odoo.Domain{odoo.Term("usage", "=", "internal")}),
			map[string]any{"complete_name": fmt.Sprintf("ZZ/%d", m.rng.Intn(1000)), "name": "moved"})
	}},
	{"requantify an MO", func(t *testing.T, m *mutator) error {
		return m.write("mrp.production", m.pick(t, "mrp.production", odoo.Domain{odoo.Term("state", "in", []any{"confirmed", "progress", "to_close"})}),
			map[string]any{"product_qty": float64(1 + m.rng.Intn(9))})
	}},
	{"requantify a purchase line", func(t *testing.T, m *mutator) error {
		return m.write("purchase.order.line", m.pick(t, "purchase.order.line", odoo.Domain{odoo.Term("order_id.state", "=", "purchase")}),
			map[string]any{"product_qty": float64(5 + m.rng.Intn(50))})
	}},
	{"change stock on hand", func(t *testing.T, m *mutator) error {
		return m.write("stock.quant", m.pick(t, "stock.quant", odoo.Domain{odoo.Term("quantity", ">", 0)}), map[string]any{"quantity": float64(1 + m.rng.Intn(99))})
	}},
	{"change an order point", func(t *testing.T, m *mutator) error {
		return m.write("stock.warehouse.orderpoint", m.pick(t, "stock.warehouse.orderpoint", nil), map[string]any{"product_min_qty": float64(m.rng.Intn(30))})
	}},
	{"requantify a BOM line", func(t *testing.T, m *mutator) error {
		return m.write("mrp.bom.line", m.pick(t, "mrp.bom.line", nil), map[string]any{"product_qty": float64(1 + m.rng.Intn(6))})
	}},
	{"rename a workcenter", func(t *testing.T, m *mutator) error {
		return m.write("mrp.workcenter", m.pick(t, "mrp.workcenter", nil), map[string]any{"name": fmt.Sprintf("WC %d", m.rng.Intn(1000))})
	}},
	{"rename a receipt", func(t *testing.T, m *mutator) error { // purchase references show the picking's name
		return m.write("stock.picking", m.pick(t, "stock.picking", odoo.Domain{odoo.Term("move_ids.purchase_line_id", "!=", false)}),
			map[string]any{"name": fmt.Sprintf("WH/IN/9%04d", m.rng.Intn(1000))})
	}},
	{"redate a sale order", func(t *testing.T, m *mutator) error { // lines sort by their order, the order's by date
		return m.write("sale.order", m.pick(t, "sale.order", nil), map[string]any{"date_order": fmt.Sprintf("2026-%02d-%02d 10:00:00", 1+m.rng.Intn(12), 1+m.rng.Intn(28))})
	}},
	{"cancel a purchase order", func(t *testing.T, m *mutator) error { // its lines leave the domain (order_id.state) unwritten
		return m.write("purchase.order", m.pick(t, "purchase.order", odoo.Domain{odoo.Term("state", "=", "purchase")}), map[string]any{"state": "cancel"})
	}},
	{"rename a warehouse", func(t *testing.T, m *mutator) error { // order points are named after the warehouse's display name
		return m.write("stock.warehouse", m.pick(t, "stock.warehouse", nil), map[string]any{"name": fmt.Sprintf("Depot %d", m.rng.Intn(1000))})
	}},
	{"rename a unit", func(t *testing.T, m *mutator) error { // items show their template's unit by name, unwritten
		return m.write("uom.uom", 1, map[string]any{"name": fmt.Sprintf("Unit %d", m.rng.Intn(1000))})
	}},
	{"rename an MO", func(t *testing.T, m *mutator) error { // its work orders' display names follow, unwritten
		return m.write("mrp.production", m.pick(t, "mrp.production", odoo.Domain{odoo.Term("workorder_ids", "!=", false), odoo.Term("state", "in", []any{"confirmed", "progress", "to_close"})}),
			map[string]any{"name": fmt.Sprintf("WH/MO/9%04d", m.rng.Intn(1000))})
	}},
	{"rename a planner", func(t *testing.T, m *mutator) error { // a user's name is its partner's
		ctx := context.Background()
		groups, err := m.s.SearchRead(ctx, "res.groups", odoo.Domain{odoo.Term("name", "=", "frePPLe user")}, odoo.Query{Fields: []string{"users"}})
		if err != nil || len(groups) == 0 || len(groups[0].IDs("users")) == 0 {
			return fmt.Errorf("no frePPLe user: %v", err)
		}
		users, err := m.s.Read(ctx, "res.users", groups[0].IDs("users")[:1], odoo.Query{Fields: []string{"partner_id"}})
		if err != nil || len(users) == 0 {
			return fmt.Errorf("read user: %v", err)
		}
		return m.write("res.partner", users[0].M2OID("partner_id"), map[string]any{"name": fmt.Sprintf("Planner %d", m.rng.Intn(1000))})
	}},
	{"change a template's unit", func(t *testing.T, m *mutator) error { // order points convert with their product's unit, unwritten
		ctx := context.Background()
		ops, err := m.s.SearchRead(ctx, "stock.warehouse.orderpoint", nil, odoo.Query{Fields: []string{"product_id"}})
		if err != nil || len(ops) == 0 {
			return fmt.Errorf("no order point: %v", err)
		}
		prods, err := m.s.Read(ctx, "product.product", []int{ops[m.rng.Intn(len(ops))].M2OID("product_id")}, odoo.Query{Fields: []string{"product_tmpl_id"}})
		if err != nil || len(prods) == 0 {
			return fmt.Errorf("read product: %v", err)
		}
		tmpl, err := m.s.Read(ctx, "product.template", []int{prods[0].M2OID("product_tmpl_id")}, odoo.Query{Fields: []string{"uom_id"}})
		if err != nil || len(tmpl) == 0 {
			return fmt.Errorf("read template: %v", err)
		}
		unit := 2 // units ↔ dozens
		if tmpl[0].M2OID("uom_id") == 2 {
			unit = 1
		}
		return m.write("product.template", tmpl[0].ID(), map[string]any{"uom_id": unit, "uom_po_id": unit})
	}},
	{"move an order point", func(t *testing.T, m *mutator) error {
		return m.write("stock.warehouse.orderpoint", m.pick(t, "stock.warehouse.orderpoint", odoo.Domain{odoo.Term("warehouse_id", "=", 1)}),
			map[string]any{"location_id": []int{8, 17, 18}[m.rng.Intn(3)]})
	}},
	{"resort a location with order points", func(t *testing.T, m *mutator) error { // order points sort by location, unwritten
		prefix := []string{"AA", "ZZ"}[m.rng.Intn(2)]
		return m.write("stock.location", []int{8, 17, 18}[m.rng.Intn(3)], map[string]any{"complete_name": fmt.Sprintf("%s%d/Stock", prefix, m.rng.Intn(100))})
	}},
}

// incRig is the demo in the emulator (with live display names) on a clock
// the test moves, with two exporters of the same modes: one with a record
// cache, one without.
type incRig struct {
	s             *odoo.Session
	st            *store.Store
	clock         time.Time
	p             export.Params
	cached, plain *export.Exporter
}

func newIncRig(t *testing.T, mode int, modes export.Modes) *incRig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newIncRigOn(t, st, mode, modes)
}

// newIncRigOn is newIncRig with the cache in st.
func newIncRigOn(t *testing.T, st *store.Store, mode int, modes export.Modes) *incRig {
	t.Helper()
	srv, s := demoSession(t)
	srv.SetLiveNames(true)
	srv.SetCost(testCost(t))
	r := &incRig{s: s, st: st, clock: time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC),
		cached: &export.Exporter{Session: s, Cache: st, Modes: modes, Logger: quietLog}, plain: &export.Exporter{Session: s, Modes: modes, Logger: quietLog}}
	srv.SetClock(func() time.Time { return r.clock })
	r.p = export.Params{Mode: mode, Delta: 999, Company: "My Company (San Francisco)", Now: r.clock}
	return r
}

// tick moves the emulator's and the export's clock an hour on.
func (r *incRig) tick() {
	r.clock = r.clock.Add(time.Hour)
	r.p.Now = r.clock
}

// TestIncrementalEqualsCold checks that a warm (incremental) export is
// byte-identical to a cold one after random creates, writes and deletes,
// in mode 2 as configured by default and in mode 1 with every section
// cacheable; a run after no change makes about two calls per model and,
// in mode 1, serves sections whole.
func TestIncrementalEqualsCold(t *testing.T) { testIncrementalEqualsCold(t, newIncRig) }

// testIncrementalEqualsCold is TestIncrementalEqualsCold on the rigs
// newRig makes (the cache in a file, or in etcd).
func testIncrementalEqualsCold(t *testing.T, newRig func(t *testing.T, mode int, modes export.Modes) *incRig) {
	for _, tc := range []struct {
		name  string
		mode  int
		modes export.Modes
	}{
		{"mode2", 2, nil},
		{"mode1", 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.mode, tc.modes)
			first, st1 := exportDoc(t, r.cached, r.p)
			base, _ := exportDoc(t, r.plain, r.p)
			if first != base {
				t.Fatalf("the first (cold) cached export differs from an uncached one:\n%s", lineDiff(base, first))
			}
			if st1.CacheMisses == 0 {
				t.Fatal("the cold run filled nothing into the cache")
			}
			m := &mutator{s: r.s, rng: rand.New(rand.NewSource(7))}
			// compare runs the cached and the plain exporter; quiet says
			// nothing changed since the last cached run.
			compare := func(round int, changes []string, quiet bool) {
				t.Helper()
				r.tick() // the changes are older than this run by more than a second
				warm, wst := exportDoc(t, r.cached, r.p)
				cold, cst := exportDoc(t, r.plain, r.p)
				if warm != cold {
					t.Fatalf("round %d after %v: warm document differs from cold:\n%s", round, changes, lineDiff(cold, warm))
				}
				if wst.CacheHits == 0 && wst.SectionsReused == 0 {
					t.Errorf("round %d: warm run served nothing from the cache", round)
				}
				if !quiet {
					return
				}
				if wst.CacheMisses != 0 {
					t.Errorf("round %d: nothing changed, yet %d records were read", round, wst.CacheMisses)
				}
				// One check per model, the initialisation's reads (~8), nothing else.
				if limit := wst.ModelsChecked + 10; wst.Calls > limit {
					t.Errorf("round %d: nothing changed, yet %d calls for %d models (cold: %d)", round, wst.Calls, wst.ModelsChecked, cst.Calls)
				}
				if tc.mode == 1 && wst.SectionsReused < 5 {
					t.Errorf("round %d: nothing changed, yet only %d sections served whole", round, wst.SectionsReused)
				}
			}
			for round := 1; round <= len(mutations)+8; round++ {
				var kinds []mutation
				if round <= len(mutations) {
					kinds = append(kinds, mutations[round-1]) // every kind once, alone or with others
				}
				for _, k := range m.rng.Perm(len(mutations))[:m.rng.Intn(3)] {
					kinds = append(kinds, mutations[k])
				}
				if len(kinds) == 0 {
					kinds = append(kinds, mutations[m.rng.Intn(len(mutations))])
				}
				var changes []string
				for _, mu := range kinds {
					if err := mu.do(t, m); err != nil {
						t.Fatalf("round %d: %s: %v", round, mu.name, err)
					}
					changes = append(changes, mu.name)
				}
				compare(round, changes, false)
				if round%4 == 0 {
					compare(round, nil, true)
				}
			}
			// A forced refresh gives the same document too.
			r.tick()
			refresh := &export.Exporter{Session: r.s, Cache: r.st, Modes: tc.modes, Refresh: true, Logger: quietLog}
			doc, _ := exportDoc(t, refresh, r.p)
			if cold, _ := exportDoc(t, r.plain, r.p); doc != cold {
				t.Errorf("refresh differs from cold:\n%s", lineDiff(cold, doc))
			}
		})
	}
}

// TestIncrementalRecordLeftOutThenChanged: an order whose lines all go
// drops out of the by-id read; changed while out and needed again, it must
// be read afresh, not served from an older cached copy.
func TestIncrementalRecordLeftOutThenChanged(t *testing.T) {
	r := newIncRig(t, 2, nil)
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

// TestIncrementalWithoutReadGroup: an Odoo whose read_group fails still
// gets correct warm runs, with two calls per model instead of one.
func TestIncrementalWithoutReadGroup(t *testing.T) {
	srv, s := demoSession(t)
	srv.SetLiveNames(true)
	srv.InjectFault(&odooemu.Fault{Method: "read_group", Message: "AttributeError: 'read_group' is not supported here"})
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { return clock })
	cached, plain := &export.Exporter{Session: s, Cache: st, Logger: quietLog}, &export.Exporter{Session: s, Logger: quietLog}
	p := export.Params{Mode: 1, Delta: 999, Company: "My Company (San Francisco)", Now: clock}
	exportDoc(t, cached, p)
	m := &mutator{s: s, rng: rand.New(rand.NewSource(3))}
	for round, mu := range []mutation{mutations[2], mutations[4], mutations[8], mutations[0]} {
		if err := mu.do(t, m); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Hour)
		p.Now = clock
		warm, _ := exportDoc(t, cached, p)
		if cold, _ := exportDoc(t, plain, p); warm != cold {
			t.Fatalf("round %d after %s: warm differs from cold:\n%s", round, mu.name, lineDiff(cold, warm))
		}
	}
	clock = clock.Add(time.Hour)
	p.Now = clock
	_, wst := exportDoc(t, cached, p)
	if wst.CacheMisses != 0 || wst.Calls > 2*wst.ModelsChecked+10 || wst.Calls <= wst.ModelsChecked+10 {
		t.Errorf("nothing changed: %d records read, %d calls for %d models (want two per model)", wst.CacheMisses, wst.Calls, wst.ModelsChecked)
	}
}
