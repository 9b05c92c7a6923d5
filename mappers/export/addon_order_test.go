package export_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/gen"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
)

// The tests in this file derive the order of the document's elements from
// the records themselves, the way the addon's loops visit them (spec
// §3.4.12–3.4.14 and the addon's export_items, export_boms and
// export_salesorders): each Odoo search in its model's order, relations to
// many in their comodel's order, Python dicts in insertion order. They
// share nothing with plangate's mapping code, so a mapping that regroups
// or re-sorts what the addon visits in Odoo's order fails them.

// orderDoc is what the order tests read from an exported document.
type orderDoc struct {
	Items []struct {
		Item []struct {
			Name        string `xml:"name,attr"`
			Subcategory string `xml:"subcategory,attr"`
			Suppliers   []struct {
				Start    string `xml:"effective_start,attr"`
				Supplier struct {
					Name string `xml:"name,attr"`
				} `xml:"supplier"`
			} `xml:"itemsuppliers>itemsupplier"`
		} `xml:"item"`
	} `xml:"items"`
	Operations []struct {
		Name        string `xml:"name,attr"`
		Category    string `xml:"category,attr"`
		Subcategory string `xml:"subcategory,attr"`
		Item        struct {
			Name string `xml:"name,attr"`
		} `xml:"item"`
	} `xml:"operations>operation"`
	Demands []struct {
		Name string `xml:"name,attr"`
	} `xml:"demands>demand"`
	Calendars []struct {
		Name string `xml:"name,attr"`
	} `xml:"calendars>calendar"`
	Buffers []struct {
		Name string `xml:"name,attr"`
	} `xml:"buffers>buffer"`
	Operationplans []struct {
		Ordertype string `xml:"ordertype,attr"`
		Reference string `xml:"reference,attr"`
	} `xml:"operationplans>operationplan"`
	Resources []struct {
		Name      string `xml:"name,attr"`
		Available struct {
			Name string `xml:"name,attr"`
		} `xml:"available"`
	} `xml:"resources>resource"`
}

// sessionOf serves ds with the emulator and logs in as admin.
func sessionOf(t testing.TB, ds *odooemu.Dataset) (*odooemu.Server, *odoo.Session) {
	t.Helper()
	srv := odooemu.Start(odooemu.New(ds))
	t.Cleanup(srv.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	return srv, s
}

// exportOf serves ds with the emulator and exports San Francisco in mode 1.
func exportOf(t *testing.T, ds *odooemu.Dataset, p export.Params) string {
	t.Helper()
	_, s := sessionOf(t, ds)
	if p.Mode == 0 {
		p.Mode = 1
	}
	if p.Company == "" {
		p.Company = "My Company (San Francisco)"
	}
	if p.Delta == 0 {
		p.Delta = 999
	}
	if p.Now.IsZero() {
		p.Now = time.Date(2026, 11, 24, 0, 44, 37, 0, time.UTC)
	}
	var buf bytes.Buffer
	x := &export.Exporter{Session: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := x.Export(context.Background(), &buf, p); err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.String()
}

func parseOrderDoc(t *testing.T, doc string) *orderDoc {
	t.Helper()
	var d orderDoc
	if err := xml.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("document: %v", err)
	}
	return &d
}

// itemProducts maps item names to product ids (item subcategory "uom,id").
func (d *orderDoc) itemProducts() map[string]int {
	out := map[string]int{}
	for _, items := range d.Items {
		for _, it := range items.Item {
			if _, id, ok := strings.Cut(it.Subcategory, ","); ok {
				n, _ := strconv.Atoi(id)
				out[it.Name] = n
			}
		}
	}
	return out
}

// raw reads a dataset the way the addon's loops see it.
type raw struct {
	ds        *odooemu.Dataset
	customers map[int]string // the addon's map_customers
}

func newRaw(t *testing.T, ds *odooemu.Dataset) *raw {
	r := &raw{ds: ds, customers: map[int]string{}}
	// Partners: companies are "<name> <id>", persons without company
	// "Individuals", contacts take their company's name (§3.4.6).
	partners := ds.Model("res.partner")
	for pass := 0; pass < 2; pass++ {
		for _, p := range partners.Records {
			if !truthy(p["active"]) {
				continue
			}
			parent := rid(p["parent_id"])
			switch {
			case pass == 0 && truthy(p["is_company"]):
				r.customers[rid(p["id"])] = fmt.Sprintf("%s %d", p["name"], rid(p["id"]))
			case pass == 0 && (parent == 0 || parent == rid(p["id"])):
				r.customers[rid(p["id"])] = "Individuals"
			case pass == 1 && !truthy(p["is_company"]) && parent != 0 && parent != rid(p["id"]):
				pp := partners.Get(parent)
				if pp == nil || !truthy(pp["active"]) {
					continue // not read by the addon's domain
				}
				if rid(pp["parent_id"]) != 0 {
					t.Fatalf("partner %d: grandchildren are not modelled here", rid(p["id"]))
				}
				if name, ok := r.customers[parent]; ok {
					r.customers[rid(p["id"])] = name
				}
			}
		}
	}
	return r
}

func (r *raw) get(model string, id int) odooemu.Record { return r.ds.Model(model).Get(id) }

// template returns an exported template (storable, active), or nil.
func (r *raw) template(id int) odooemu.Record {
	tp := r.get("product.template", id)
	if tp == nil || !truthy(tp["active"]) || tp["type"] == "service" || tp["type"] == "consu" {
		return nil
	}
	return tp
}

// exported tells whether a product is an item of the document.
func (r *raw) exported(product int) bool {
	p := r.get("product.product", product)
	return p != nil && truthy(p["active"]) && r.template(rid(p["product_tmpl_id"])) != nil
}

// supplierInfos are a template's supplier infos in the order of the
// addon's read: sequence, min_qty desc, price, id.
func (r *raw) supplierInfos(tmpl int) []odooemu.Record {
	var out []odooemu.Record
	for _, si := range r.ds.Model("product.supplierinfo").Records {
		if rid(si["product_tmpl_id"]) == tmpl {
			out = append(out, si)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if x, y := num(a["sequence"]), num(b["sequence"]); x != y {
			return x < y
		}
		if x, y := num(a["min_qty"]), num(b["min_qty"]); x != y {
			return x > y
		}
		if x, y := num(a["price"]), num(b["price"]); x != y {
			return x < y
		}
		return rid(a["id"]) < rid(b["id"])
	})
	return out
}

// expectedOperations lists (BOM, product, subcontractor) in the addon's
// loops: BOMs in mrp.bom's order (sequence with NULL last, then id), the
// template's variants in product_variant_ids order, then the
// subcontractors: the last subcontracting supplier info survives (D14),
// or with allSubcontractors every one in read order (the defect fixed).
func (r *raw) expectedOperations(allSubcontractors bool) []string {
	boms := append([]odooemu.Record(nil), r.ds.Model("mrp.bom").Records...)
	sort.SliceStable(boms, func(i, j int) bool {
		a, b := boms[i], boms[j]
		an, bn := a["sequence"] == false, b["sequence"] == false
		if an != bn {
			return bn
		}
		if x, y := num(a["sequence"]), num(b["sequence"]); x != y {
			return x < y
		}
		return rid(a["id"]) < rid(b["id"])
	})
	var out []string
	for _, b := range boms {
		if !truthy(b["active"]) {
			continue
		}
		tp := r.template(rid(b["product_tmpl_id"]))
		if tp == nil {
			continue
		}
		subs := []string{""}
		if b["type"] == "subcontract" {
			subs = nil
			if truthy(tp["purchase_ok"]) {
				for _, si := range r.supplierInfos(rid(tp["id"])) {
					if name, ok := r.customers[rid(si["partner_id"])]; ok && truthy(si["is_subcontractor"]) {
						subs = append(subs, name)
					}
				}
			}
			if len(subs) == 0 {
				continue
			}
			if !allSubcontractors {
				subs = subs[len(subs)-1:]
			}
		}
		for _, v := range rids(tp["product_variant_ids"]) {
			if only := rid(b["product_id"]); (only != 0 && only != v) || !r.exported(v) {
				continue
			}
			for _, s := range subs {
				out = append(out, fmt.Sprintf("bom %d product %d %s", rid(b["id"]), v, s))
			}
		}
	}
	return out
}

// expectedDemands lists demand names in the addon's loop: sales order
// lines in order_id (date_order desc, id desc), sequence, id order; one
// demand per open move of a confirmed line, in move_ids order.
func (r *raw) expectedDemands() []string {
	open := map[string]bool{"waiting": true, "partially_available": true, "assigned": true, "confirmed": true}
	var lines []odooemu.Record
	for _, l := range r.ds.Model("sale.order.line").Records {
		if rid(l["product_id"]) != 0 && r.get("sale.order", rid(l["order_id"])) != nil {
			lines = append(lines, l)
		}
	}
	order := func(l odooemu.Record) odooemu.Record { return r.get("sale.order", rid(l["order_id"])) }
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := order(lines[i]), order(lines[j])
		if x, y := fmt.Sprint(a["date_order"]), fmt.Sprint(b["date_order"]); x != y {
			return x > y
		}
		if x, y := rid(a["id"]), rid(b["id"]); x != y {
			return x > y
		}
		if x, y := num(lines[i]["sequence"]), num(lines[j]["sequence"]); x != y {
			return x < y
		}
		return rid(lines[i]["id"]) < rid(lines[j]["id"])
	})
	var out []string
	for _, l := range lines {
		so := order(l)
		_, customer := r.customers[rid(so["partner_id"])]
		wh := r.get("stock.warehouse", rid(so["warehouse_id"]))
		if !customer || wh == nil || !truthy(wh["active"]) || !r.exported(rid(l["product_id"])) {
			continue
		}
		name := fmt.Sprintf("%s %d", so["name"], rid(l["id"]))
		moves := rids(l["move_ids"])
		var live []int
		for _, m := range moves {
			if mv := r.get("stock.move", m); mv != nil && open[fmt.Sprint(mv["state"])] {
				live = append(live, m)
			}
		}
		switch {
		case so["state"] == "sale" && len(live) > 0:
			for _, m := range live {
				if len(moves) > 1 {
					out = append(out, fmt.Sprintf("%s %d", name, m))
				} else {
					out = append(out, name)
				}
			}
		case so["state"] == "draft", so["state"] == "sent", so["state"] == "sale", so["state"] == "done", so["state"] == "cancel":
			out = append(out, name)
		}
	}
	return out
}

// expectedSuppliers lists a template's item suppliers: supplier infos in
// read order, subcontractors and unmapped partners left out, one per
// supplier name and start date in first-seen order (§3.4.12.4).
func (r *raw) expectedSuppliers(tmpl odooemu.Record) []string {
	if !truthy(tmpl["purchase_ok"]) {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, si := range r.supplierInfos(rid(tmpl["id"])) {
		name, ok := r.customers[rid(si["partner_id"])]
		if !ok || truthy(si["is_subcontractor"]) {
			continue
		}
		key := name + " from " + fmt.Sprint(si["date_start"])
		if si["date_start"] == false {
			key = name + " from -"
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	return out
}

// orderDatasets are the demo and generated datasets the order tests run on.
func orderDatasets(t *testing.T) map[string]*odooemu.Dataset {
	t.Helper()
	demo, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*odooemu.Dataset{
		"demo":            demo,
		"demo+families30": gen.Families(demo, 30, 1),
	}
}

// TestDocumentInAddonOrder exports each dataset once per D14 setting and
// checks the operations, demands and item suppliers against the order the
// addon's loops give them.
func TestDocumentInAddonOrder(t *testing.T) {
	for name, ds := range orderDatasets(t) {
		for _, d14 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/d14=%v", name, d14), func(t *testing.T) {
				doc := parseOrderDoc(t, exportOf(t, ds, export.Params{Fixes: export.Fixes{D14: d14}}))
				r := newRaw(t, ds)
				t.Run("operations", func(t *testing.T) { checkOperations(t, r, doc, d14, name != "demo") })
				if !d14 { // D14 changes only the subcontracting operations
					t.Run("demands", func(t *testing.T) { checkDemands(t, r, doc) })
					t.Run("itemsuppliers", func(t *testing.T) { checkItemSuppliers(t, r, doc) })
				}
			})
		}
	}
}

// checkOperations: BOM operations (BOM, product, subcontractor) in the
// addon's loop order; generated datasets must hold enough subcontracting
// operations to test their position.
func checkOperations(t *testing.T, r *raw, doc *orderDoc, d14, generated bool) {
	products := doc.itemProducts()
	var got []string
	for _, op := range doc.Operations {
		bom := op.Name[strings.LastIndex(op.Name, " ")+1:]
		sub := ""
		if op.Category == "subcontractor" {
			sub = op.Subcategory
		}
		got = append(got, fmt.Sprintf("bom %s product %d %s", bom, products[op.Item.Name], sub))
	}
	want := r.expectedOperations(d14)
	if d := firstDifference(want, got); d != "" {
		t.Errorf("operations not in the addon's order: %s", d)
	}
	subcontracting := 0
	for _, w := range want {
		if !strings.HasSuffix(w, " ") {
			subcontracting++
		}
	}
	if generated && subcontracting < 5 {
		t.Errorf("only %d subcontracting operations: the dataset does not test their position", subcontracting)
	}
}

func checkDemands(t *testing.T, r *raw, doc *orderDoc) {
	var got []string
	for _, d := range doc.Demands {
		got = append(got, d.Name)
	}
	if d := firstDifference(r.expectedDemands(), got); d != "" {
		t.Errorf("demands not in the addon's order: %s", d)
	}
}

func checkItemSuppliers(t *testing.T, r *raw, doc *orderDoc) {
	checked := 0
	for _, items := range doc.Items {
		for _, it := range items.Item {
			_, id, ok := strings.Cut(it.Subcategory, ",")
			if !ok {
				continue
			}
			pid, _ := strconv.Atoi(id)
			p := r.get("product.product", pid)
			var got []string
			for _, s := range it.Suppliers {
				start := strings.TrimSuffix(s.Start, "T00:00:00")
				if start == "" {
					start = "-"
				}
				got = append(got, s.Supplier.Name+" from "+start)
			}
			want := r.expectedSuppliers(r.get("product.template", rid(p["product_tmpl_id"])))
			if d := firstDifference(want, got); d != "" {
				t.Errorf("item %s: suppliers %s", it.Name, d)
			}
			if len(want) > 1 {
				checked++
			}
		}
	}
	if checked == 0 {
		t.Error("no item has several suppliers")
	}
}

// TestResourceCalendarsInAddonOrder: workcenter resources with their own
// leaves get calendars "calendar for <resource>", which the addon creates
// while it walks each base calendar's resources, kept in a Python set.
// The demo's leaves on painting (resource 6) and polishing (7) made
// leaves, and polishing's workcenter read first (sequence 0): a set of
// ids below its table size iterates in ascending order (TestPySetOrder
// checks the general case), so painting's calendar still comes first.
func TestResourceCalendarsInAddonOrder(t *testing.T) {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{1, 2} {
		ds.Model("resource.calendar.leaves").Get(id)["time_type"] = "leave"
	}
	ds.Model("mrp.workcenter").Get(7)["sequence"] = int64(0)
	doc := parseOrderDoc(t, exportOf(t, ds, export.Params{}))
	var specific []string
	for _, c := range doc.Calendars {
		if strings.HasPrefix(c.Name, "calendar for ") {
			specific = append(specific, c.Name)
		}
	}
	want := []string{"calendar for painting workstation", "calendar for polishing workstation"}
	if d := firstDifference(want, specific); d != "" {
		t.Errorf("resource calendars: %s", d)
	}
	var order []string
	for _, r := range doc.Resources {
		order = append(order, r.Name)
		if strings.Contains(r.Name, "workstation") && r.Available.Name != "calendar for "+r.Name {
			t.Errorf("resource %s is available by %q", r.Name, r.Available.Name)
		}
	}
	if len(order) == 0 || order[0] != "polishing workstation" {
		t.Errorf("resources %v: want polishing workstation first (mrp.workcenter: sequence, id)", order)
	}
}

// recordedGroups turns the rows of one of the demo's recorded SQL answers
// (manifest raw_sql: product, location, ..., and the lot name in column
// lotCol when lotCol > 0) into the addon's keys "<item> @ <warehouse>[ @
// <lot>]", first seen first: the addon totals them in a dict.
func recordedGroups(t *testing.T, ds *odooemu.Dataset, doc *orderDoc, query, answer string, lotCol int) []string {
	t.Helper()
	names := map[int]string{}
	for name, id := range doc.itemProducts() {
		names[id] = name
	}
	r := newRaw(t, ds)
	rawSQL, _ := ds.Manifest["raw_sql"].(map[string]any)
	q, _ := rawSQL[query].(map[string]any)
	rows, _ := q[answer].([]any)
	var out []string
	seen := map[string]bool{}
	for _, row := range rows {
		cols := row.([]any)
		item, ok := names[rid(cols[0])]
		loc := r.get("stock.location", rid(cols[1]))
		if !ok || loc == nil || loc["usage"] != "internal" {
			continue
		}
		wh := r.get("stock.warehouse", rid(loc["warehouse_id"]))
		if wh == nil {
			continue
		}
		key := fmt.Sprintf("%s @ %s", item, wh["code"])
		if lotCol > 0 {
			if lot, _ := cols[lotCol].(string); lot != "" { // psql shows NULL as ""
				key += " @ " + lot
			}
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	if len(out) < 10 {
		t.Fatalf("the manifest's %s gives %d groups", query, len(out))
	}
	return out
}

// TestOnhandInAddonOrder: buffers follow the rows of the addon's on-hand
// SQL as the recorded database returned them (manifest R42).
func TestOnhandInAddonOrder(t *testing.T) {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	doc := parseOrderDoc(t, exportOf(t, ds, export.Params{}))
	var got []string
	for _, b := range doc.Buffers {
		got = append(got, b.Name)
	}
	if d := firstDifference(recordedGroups(t, ds, doc, "R42_onhand", "answer", 0), got); d != "" {
		t.Errorf("buffers not in the addon's order: %s", d)
	}
}

// TestStockOrdersInAddonOrder: with shelf life on, on-hand goes out as
// STCK operationplans from the addon's SQL over quants and lots, in the
// order PostgreSQL returned its groups (manifest R43, recorded without
// the expiry column the demo lacks), independently of the emulator.
func TestStockOrdersInAddonOrder(t *testing.T) {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	ds.Model("ir.module.module").Get(417)["state"] = "installed" // mrp_product_expiry
	ds.Model("product.template").Fields["expiration_time"] = odooemu.Field{"type": "float", "string": "Expiration Time", "store": true}
	ds.Model("stock.lot").Fields["expiration_date"] = odooemu.Field{"type": "datetime", "string": "Expiration Date", "store": true}
	doc := parseOrderDoc(t, exportOf(t, ds, export.Params{Apps: "freppledb.shelflife"}))
	var got []string
	for _, op := range doc.Operationplans {
		if op.Ordertype == "STCK" {
			got = append(got, strings.TrimPrefix(op.Reference, "STCK "))
		}
	}
	if d := firstDifference(recordedGroups(t, ds, doc, "R43_stock_orders", "answer_without_expiration_date", 4), got); d != "" {
		t.Errorf("STCK operationplans not in the addon's order: %s", d)
	}
}

// firstDifference describes where two lists first differ, or "".
func firstDifference(want, got []string) string {
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			lo := max(0, i-2)
			return fmt.Sprintf("at %d of %d (got %d): want %q, got %q; wanted from %d: %q", i, len(want), len(got), w, g, lo,
				want[lo:min(len(want), i+3)])
		}
	}
	return ""
}

func rid(v any) int     { return odoo.AsInt(v) }
func rids(v any) []int  { return odoo.AsIDs(v) }
func num(v any) float64 { return odoo.AsFloat(v) }
func truthy(v any) bool { return !odoo.IsEmpty(v) }
