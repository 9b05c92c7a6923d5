package planimport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
	"github.com/plangate/plangate/xmlschema"
)

func parse(t *testing.T, ops ...string) []*xmlschema.PlanRecord {
	t.Helper()
	raw, err := Parse(strings.NewReader("<plan><operationplans>\n" + strings.Join(ops, "\n") + "\n</operationplans></plan>"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func po(ref, supplier, item, qty, start, end string) string {
	return fmt.Sprintf(`<operationplan reference=%q ordertype="PO" supplier=%q start=%q end=%q quantity=%q location_id="1" item_id="1,%s"/>`, ref, supplier, start, end, qty, item)
}

func TestCheckRecordsDates(t *testing.T) {
	brussels, _ := time.LoadLocation("Europe/Brussels")
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	cases := []struct {
		name       string
		loc        *time.Location
		op         string
		start, end string // UTC, "" when absent
		wo         string // first <workorder> start, UTC
	}{
		{"PO, winter time", brussels, po("P", "Wood Corner 9", "5", "1", "2026-11-24 10:00:00", "2026-11-28 10:00:00"), "2026-11-24 09:00:00", "2026-11-28 09:00:00", ""},
		{"PO, summer time", brussels, po("P", "Wood Corner 9", "5", "1", "2026-07-01 10:00:00", "2026-07-02 10:00:00"), "2026-07-01 08:00:00", "2026-07-02 08:00:00", ""},
		{"PO across the spring change", brussels, po("P", "Wood Corner 9", "5", "1", "2026-03-29 01:30:00", "2026-03-29 03:30:00"), "2026-03-29 00:30:00", "2026-03-29 01:30:00", ""},
		{"PO, UTC user", time.UTC, po("P", "Wood Corner 9", "5", "1", "2026-11-24 10:00:00", "2026-11-28 10:00:00"), "2026-11-24 10:00:00", "2026-11-28 10:00:00", ""},
		{"MO converted too (D26 fixed)", shanghai,
			`<operationplan reference="M" ordertype="MO" operation="X 2" start="2026-11-26 08:00:00" end="2026-11-26 12:00:00" quantity="2" location_id="1" item_id="1,37"><workorder operation="X 2 - Assembly - 2" start="2026-11-26 09:00:00" end="2026-11-26 11:00:00"><resource id="1"/></workorder></operationplan>`,
			"2026-11-26 00:00:00", "2026-11-26 04:00:00", "2026-11-26 01:00:00"},
		{"WO: start converted, end as sent (golden_import)", brussels,
			`<operationplan reference="WH/MO/00008 - varnishing chair" owner="WH/MO/00008" ordertype="WO" start="2026-11-25 07:00:00" end="2026-11-25 09:15:00" quantity="9" location_id="1" item_id="1,57"><resource id="6"/></operationplan>`,
			"2026-11-25 06:00:00", "2026-11-25 09:15:00", ""},
		{"DO without dates", brussels, `<operationplan reference="D" ordertype="DO" origin="WH" destination="CHIC1" quantity="2" item_id="1,5"/>`, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, _, err := checkRecords(parse(t, c.op), c.loc)
			if err != nil {
				t.Fatal(err)
			}
			r := recs[0]
			show := func(ok bool, v time.Time) string {
				if !ok {
					return ""
				}
				return v.Format(odooTime)
			}
			if got := show(r.HasStart, r.Start); got != c.start {
				t.Errorf("start %q, want %q", got, c.start)
			}
			if got := show(r.HasEnd, r.End); got != c.end {
				t.Errorf("end %q, want %q", got, c.end)
			}
			if c.wo != "" {
				if got := show(r.Workorder[0].HasS, r.Workorder[0].Start); got != c.wo {
					t.Errorf("work order start %q, want %q", got, c.wo)
				}
			}
		})
	}
}

func TestCheckRecordsErrors(t *testing.T) {
	ok := po("PO-OK", "Wood Corner 9", "5", "4", "2026-11-24 10:00:00", "2026-11-28 10:00:00")
	cases := []struct {
		name, op          string
		element, ref, msg string
		line              int
	}{
		{"ordertype", strings.Replace(ok, `"PO"`, `"XX"`, 1), "operationplan", "PO-OK", `unknown ordertype "XX"`, 3},
		{"item_id without comma", strings.Replace(ok, `"1,5"`, `"5"`, 1), "operationplan", "PO-OK", "item_id", 3},
		{"item_id not numbers", strings.Replace(ok, `"1,5"`, `"a,b"`, 1), "operationplan", "PO-OK", "item_id", 3},
		{"quantity", strings.Replace(ok, `"4"`, `"4,5"`, 1), "operationplan", "PO-OK", "bad quantity", 3},
		{"negative quantity", strings.Replace(ok, `"4"`, `"-4"`, 1), "operationplan", "PO-OK", "bad quantity", 3},
		{"fractional seconds", strings.Replace(ok, "10:00:00\" end", "10:00:00.5\" end", 1), "operationplan", "PO-OK", "bad start date", 3},
		{"ISO T date", strings.Replace(ok, "2026-11-28 10:00:00", "2026-11-28T10:00:00", 1), "operationplan", "PO-OK", "bad end date", 3},
		{"Individuals", strings.Replace(ok, "Wood Corner 9", "Individuals", 1), "operationplan", "PO-OK", "supplier", 3},
		{"PO update id", `<operationplan reference="P00015 - x" id="P00015 - x" ordertype="PO" status="confirmed" quantity="1" item_id="1,58" end="2026-11-27 16:00:00"/>`, "operationplan", "P00015 - x", "purchase order line id", 3},
		{"status", strings.Replace(ok, `ordertype="PO"`, `ordertype="PO" status="closed"`, 1), "operationplan", "PO-OK", "unknown status", 3},
		{"MO without BOM id", `<operationplan reference="MO-1" ordertype="MO" operation="FURN" quantity="1" item_id="1,37"/>`, "operationplan", "MO-1", "bill of materials", 3},
		{"workorder id", "<operationplan reference=\"MO-1\" ordertype=\"MO\" operation=\"F 2\" quantity=\"1\" item_id=\"1,37\">\n<workorder operation=\"F 2 - Assembly\"/></operationplan>", "workorder", "F 2 - Assembly", "does not end with an id", 4},
		{"resource id", "<operationplan reference=\"MO-1\" ordertype=\"MO\" operation=\"F 2\" quantity=\"1\" item_id=\"1,37\">\n<workorder operation=\"F 2 - A - 2\">\n<resource name=\"saw\" id=\"saw\"/></workorder></operationplan>", "resource", "saw", "bad workcenter id", 5},
		{"WO without end", `<operationplan reference="W" owner="M" ordertype="WO" start="2026-11-25 07:00:00" quantity="9" item_id="1,57"/>`, "operationplan", "W", "without start or end", 3},
		{"DO without destination", `<operationplan reference="D" ordertype="DO" origin="WH" quantity="2" item_id="1,5"/>`, "operationplan", "D", "origin or destination", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A good record first: the error names the bad one.
			_, _, err := checkRecords(parse(t, ok, c.op), time.UTC)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v, want a *ValidationError", err)
			}
			if ve.Element != c.element || ve.Name != c.ref || ve.Line != c.line || !strings.Contains(ve.Msg, c.msg) {
				t.Errorf("got %s %q line %d %q, want %s %q line %d containing %q", ve.Element, ve.Name, ve.Line, ve.Msg, c.element, c.ref, c.line, c.msg)
			}
			if !strings.Contains(ve.Error(), c.ref) {
				t.Errorf("message %q does not name %q", ve.Error(), c.ref)
			}
		})
	}
}

func TestGroupPurchases(t *testing.T) {
	// The golden plan's proposals: Wood Corner, Wood Corner, Deco Addict,
	// Wood Corner again (the interleaving behind D25), plus a confirmed line.
	ops := []string{
		po("PO-PROP-1", "Wood Corner 9", "5", "4", "2026-11-24 10:00:00", "2026-11-28 10:00:00"),
		po("PO-PROP-2", "Wood Corner 9", "5", "10", "2026-11-25 08:00:00", "2026-11-29 08:00:00"),
		po("PO-PROP-3", "Deco Addict 10", "6", "7", "2026-11-26 08:00:00", "2026-11-30 08:00:00"),
		po("PO-PROP-4", "Wood Corner 9", "6", "3", "2026-11-27 08:00:00", "2026-11-23 08:00:00"),
		`<operationplan ordertype="PO" reference="P - 26" id="P - 26" supplier="Deco Addict 10" start="2026-11-24 08:00:00" end="2026-11-27 16:00:00" quantity="20" item_id="1,58" status="confirmed"/>`,
	}
	recs, _, err := checkRecords(parse(t, ops...), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	describe := func(order []*rfq) string {
		var b strings.Builder
		for _, q := range order {
			fmt.Fprintf(&b, "[%d %s %s:", q.supplier, q.minStart.Format("02 15h"), q.minEnd.Format("02 15h"))
			for _, l := range q.lines {
				var refs []string
				for _, r := range l.recs {
					refs = append(refs, r.Name())
				}
				fmt.Fprintf(&b, " %d=%s@%s", l.product, strings.Join(refs, "+"), l.date.Format("02"))
			}
			b.WriteString("]")
		}
		return b.String()
	}
	cases := []struct {
		mode int
		want string
	}{
		{1, "[9 24 10h 23 08h: 5=PO-PROP-1@28 5=PO-PROP-2@29 6=PO-PROP-4@23][10 26 08h 30 08h: 6=PO-PROP-3@30]"},
		{2, "[9 24 10h 23 08h: 5=PO-PROP-1+PO-PROP-2@28 6=PO-PROP-4@23][10 26 08h 30 08h: 6=PO-PROP-3@30]"},
		{3, "[9 24 10h 23 08h: 5=PO-PROP-1@28 5=PO-PROP-2@29 6=PO-PROP-4@23][10 26 08h 30 08h: 6=PO-PROP-3@30]"},
	}
	for _, c := range cases {
		if got := describe(groupPurchases(recs, c.mode)); got != c.want {
			t.Errorf("mode %d:\n got %s\nwant %s", c.mode, got, c.want)
		}
	}
}

func TestLineQuantity(t *testing.T) {
	u := &uoms{
		purchase: map[int]int{5: 2, 6: 1, 7: 12, 8: 0},
		units: map[int]unit{
			1:  {factor: 1, rounding: 0.01, category: 1},                   // Units
			2:  {factor: 0.08333333333333333, rounding: 0.01, category: 1}, // Dozens
			12: {factor: 1, rounding: 0.01, category: 2},                   // kg
		},
	}
	rec := func(q float64) *record { return &record{Qty: q} }
	cases := []struct {
		name     string
		product  int
		qtys     []float64
		fix      bool
		wantUoM  int
		wantQty  float64
		describe string
	}{
		{"purchase UoM = frePPLe UoM", 6, []float64{4}, false, 1, 4, ""},
		{"converted to dozens", 5, []float64{4}, false, 2, 0.33, ""},
		{"half-up rounding", 5, []float64{3}, false, 2, 0.25, ""},
		{"merged, D27 reproduced", 5, []float64{4, 10}, false, 2, 10.33, "0.33 dozen + 10 (units, unconverted)"},
		{"merged, D27 fixed", 5, []float64{4, 10}, true, 2, 1.17, "14 units = 1.17 dozen"},
		{"merged, same unit: fix changes nothing", 6, []float64{4, 10}, false, 1, 14, ""},
		{"other category: left in the frePPLe unit", 7, []float64{4}, false, 1, 4, ""},
		{"no purchase unit", 8, []float64{4, 1}, true, 1, 5, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &poLine{product: c.product, uom: 1}
			for _, q := range c.qtys {
				l.recs = append(l.recs, rec(q))
			}
			uom, q := l.quantity(u, c.fix)
			if uom != c.wantUoM || q != c.wantQty {
				t.Errorf("got %v in uom %d, want %v in uom %d %s", q, uom, c.wantQty, c.wantUoM, c.describe)
			}
		})
	}
}

func TestRoundHalfUp(t *testing.T) {
	for _, c := range []struct{ v, rounding, want float64 }{
		{0.333333, 0.01, 0.33}, {0.125, 0.01, 0.13}, {2.675, 0.01, 2.68}, {-2.675, 0.01, -2.68},
		{1.0000000001, 0.01, 1}, {7.5, 1, 8}, {0.0049, 0.01, 0}, {12.5, 0.5, 12.5}, {3, 0, 3},
	} {
		if got := roundHalfUp(c.v, c.rounding); got != c.want {
			t.Errorf("roundHalfUp(%v, %v) = %v, want %v", c.v, c.rounding, got, c.want)
		}
	}
}

func TestPickRequisitions(t *testing.T) {
	mk := func() []*rfq {
		return []*rfq{
			{supplier: 9, lines: []*poLine{{product: 5}, {product: 6}}},
			{supplier: 10, lines: []*poLine{{product: 6}}},
			{supplier: 11, lines: []*poLine{{product: 5}}},
		}
	}
	lines := []reqLine{
		{id: 4, product: 6, vendor: 9, requisition: 106},
		{id: 1, product: 5, vendor: 9, requisition: 101},
		{id: 2, product: 6, vendor: 10, requisition: 102},
		{id: 3, product: 6, vendor: 10, requisition: 103},
		{id: 5, product: 5, vendor: 10, requisition: 104}, // vendor 10 has no RFQ line for 5
	}
	cases := []struct {
		mode int
		want string
	}{
		// Mode 1: the preloaded map keeps the last line per (product, vendor);
		// the first matching RFQ line sets the RFQ's blanket order.
		{1, "9:101 10:103 11:0"},
		// Modes 2/3: each RFQ line takes the first line by id; the last RFQ line wins.
		{2, "9:106 10:102 11:0"},
		{3, "9:106 10:102 11:0"},
	}
	for _, c := range cases {
		order := mk()
		pickRequisitions(order, append([]reqLine(nil), lines...), c.mode)
		var got []string
		for _, q := range order {
			got = append(got, fmt.Sprintf("%d:%d", q.supplier, q.requisition))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("mode %d: %s, want %s", c.mode, strings.Join(got, " "), c.want)
		}
	}
}

// --- through the Odoo emulator ---

var now = time.Date(2026, 11, 24, 0, 44, 33, 0, time.UTC)

// emuSession serves the demo dataset, changed by setup, and logs in.
func emuSession(t *testing.T, setup func(*odooemu.Dataset)) (*odooemu.Emulator, *odoo.Session) {
	t.Helper()
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(ds)
	}
	e := odooemu.New(ds)
	e.SetClock(func() time.Time { return now })
	srv := odooemu.Start(e)
	t.Cleanup(srv.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	return e, s
}

// importPlan runs Parse, Validate and Apply as the gateway does.
func importPlan(t *testing.T, s *odoo.Session, o Options, ops ...string) string {
	t.Helper()
	ctx := context.Background()
	im := &Importer{S: s, Now: func() time.Time { return now }}
	loc := im.Location(ctx)
	recs, err := im.Validate(ctx, parse(t, ops...), loc, o)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := im.Apply(ctx, recs, &store.Plan{}, o)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

// created returns the values of the creates of model journaled after
// the first from entries.
func created(e *odooemu.Emulator, model string, from int) []map[string]any {
	var out []map[string]any
	for _, j := range e.Journal()[from:] {
		if j.Model == model && j.Method == "create" {
			out = append(out, j.Values)
		}
	}
	return out
}

var goldenPOs = []string{
	po("PO-PROP-1", "Wood Corner 9", "5", "4", "2026-11-24 10:00:00", "2026-11-28 10:00:00"),
	po("PO-PROP-2", "Wood Corner 9", "5", "10", "2026-11-25 08:00:00", "2026-11-29 08:00:00"),
	po("PO-PROP-3", "Deco Addict 10", "6", "7", "2026-11-26 08:00:00", "2026-11-30 08:00:00"),
	po("PO-PROP-4", "Wood Corner 9", "6", "3", "2026-11-27 08:00:00", "2026-12-02 08:00:00"),
}

// D27: product 5 is bought by the dozen. Mode 2 merges PO-PROP-1 (4
// units) and PO-PROP-2 (10 units) into one line: the addon makes it
// 0.33 dozen + 10 = 10.33; with the fix it is 14 units = 1.17 dozen.
// Mode 1 does not merge, so the option changes nothing there.
func TestImportD27(t *testing.T) {
	dozens := func(ds *odooemu.Dataset) { ds.Model("product.product").Get(5)["uom_po_id"] = []any{int64(2), "Dozens"} }
	cases := []struct {
		name string
		o    Options
		want string // product 5 lines: qty@uom
	}{
		{"mode 2, addon behaviour", Options{Mode: 2, CompanyID: 1}, "10.33@2"},
		{"mode 2, FixD27", Options{Mode: 2, CompanyID: 1, FixD27: true}, "1.17@2"},
		{"mode 1", Options{Mode: 1, CompanyID: 1}, "0.33@2 0.83@2"},
		{"mode 1, FixD27", Options{Mode: 1, CompanyID: 1, FixD27: true}, "0.33@2 0.83@2"},
	}
	// One emulator for all cases: each import's creates are read from the
	// journal entries it added.
	e, s := emuSession(t, dozens)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from := len(e.Journal())
			if c.o.Mode == 2 {
				c.o.ActualUser = "admin"
			}
			importPlan(t, s, c.o, goldenPOs...)
			var got []string
			for _, v := range created(e, "purchase.order.line", from) {
				if fmt.Sprint(v["product_id"]) == "5" {
					got = append(got, fmt.Sprintf("%v@%v", v["product_qty"], v["product_uom"]))
				}
				if fmt.Sprint(v["product_id"]) == "6" && fmt.Sprint(v["product_uom"]) != "1" {
					t.Errorf("product 6 (bought in units) line in uom %v", v["product_uom"])
				}
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("product 5 lines %v, want %s", got, c.want)
			}
		})
	}
}

// blanketModule adds what Odoo 17's purchase_requisition module brings
// (models and purchase.order.requisition_id) with blanket orders for
// Wood Corner (9) and Deco Addict (10), some of which do not apply.
func blanketModule(ds *odooemu.Dataset) {
	f := func(typ, rel string) odooemu.Field {
		if rel == "" {
			return odooemu.Field{"type": typ, "string": typ}
		}
		return odooemu.Field{"type": typ, "relation": rel, "string": rel}
	}
	m2o := func(id int, name string) any { return []any{int64(id), name} }
	add := func(name string, fields map[string]odooemu.Field, recs []odooemu.Record) {
		fields["id"] = f("integer", "")
		m := &odooemu.Model{Name: name, Fields: map[string]odooemu.Field{}, Records: recs}
		for k, v := range fields {
			m.Fields[k] = v
		}
		odooemu.Reindex(m)
		ds.Models[name] = m
	}
	add("purchase.requisition.type", map[string]odooemu.Field{"name": f("char", "")}, []odooemu.Record{
		{"id": int64(1), "name": "Blanket Order"}, {"id": int64(2), "name": "Call for Tenders"}})
	req := func(id, vendor, typ int, state string, end any) odooemu.Record {
		return odooemu.Record{"id": int64(id), "name": fmt.Sprintf("BO%05d", id), "vendor_id": m2o(vendor, "v"), "type_id": m2o(typ, "t"), "state": state, "date_end": end}
	}
	add("purchase.requisition", map[string]odooemu.Field{"name": f("char", ""), "vendor_id": f("many2one", "res.partner"),
		"type_id": f("many2one", "purchase.requisition.type"), "state": f("selection", ""), "date_end": f("datetime", "")}, []odooemu.Record{
		req(1, 9, 1, "ongoing", false),                  // applies: Wood Corner, product 5
		req(2, 10, 1, "ongoing", "2026-01-01 00:00:00"), // expired
		req(3, 10, 2, "ongoing", false),                 // a call for tenders
		req(4, 10, 1, "draft", false),                   // not confirmed
		req(5, 10, 1, "ongoing", "2027-01-01 00:00:00"), // applies: Deco Addict, product 6
		req(6, 9, 1, "ongoing", "2026-11-24 00:44:33"),  // applies (ends now): Wood Corner, product 6
		req(7, 12, 1, "ongoing", false),                 // another vendor
	})
	line := func(id, product, requisition int) odooemu.Record {
		return odooemu.Record{"id": int64(id), "product_id": m2o(product, "p"), "requisition_id": m2o(requisition, "r"), "product_qty": 100.0}
	}
	add("purchase.requisition.line", map[string]odooemu.Field{"product_id": f("many2one", "product.product"),
		"requisition_id": f("many2one", "purchase.requisition"), "product_qty": f("float", "")}, []odooemu.Record{
		line(1, 5, 1), line(2, 6, 2), line(3, 6, 3), line(4, 6, 4), line(5, 6, 5), line(6, 6, 6), line(7, 5, 7), line(8, 6, 7)})
	ds.Model("purchase.order").Fields["requisition_id"] = f("many2one", "purchase.requisition")
}

func TestImportBlanketOrders(t *testing.T) {
	cases := []struct {
		name   string
		module bool
		mode   int
		want   map[string]string // supplier → requisition_id on its RFQ ("" none)
	}{
		{"module not installed", false, 1, map[string]string{"9": "", "10": ""}},
		// Mode 1: the RFQ's first line with a blanket order (product 5 → BO 1).
		{"mode 1", true, 1, map[string]string{"9": "1", "10": "5"}},
		// Modes 2/3: every line looks its own up; Wood Corner's last line
		// (PO-PROP-4, product 6) finds BO 6 and wins.
		{"mode 3", true, 3, map[string]string{"9": "6", "10": "5"}},
		{"mode 2", true, 2, map[string]string{"9": "6", "10": "5"}},
	}
	without, sWithout := emuSession(t, nil)
	with, sWith := emuSession(t, blanketModule)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, s := without, sWithout
			if c.module {
				e, s = with, sWith
			}
			from := len(e.Journal())
			o := Options{Mode: c.mode, CompanyID: 1}
			if c.mode == 2 {
				o.ActualUser = "admin"
			}
			reply := importPlan(t, s, o, goldenPOs...)
			if !strings.Contains(reply, "Processed 4 uploaded procurement orders") {
				t.Errorf("reply %q", reply)
			}
			got := map[string]string{}
			for _, v := range created(e, "purchase.order", from) {
				req := ""
				if x, ok := v["requisition_id"]; ok {
					req = fmt.Sprint(x)
				}
				got[fmt.Sprint(v["partner_id"])] = req
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("RFQ blanket orders %v, want %v", got, c.want)
			}
		})
	}
}

// A connector user who may not read purchase.order's fields gets RFQs
// without blanket orders; a transient fault on the probe stops the
// import (to be retried) before any RFQ is created.
func TestImportBlanketProbeFaults(t *testing.T) {
	e, s := emuSession(t, blanketModule)
	e.InjectFault(&odooemu.Fault{Model: "purchase.order", Method: "fields_get", Times: 1, Message: "odoo.exceptions.AccessError: You are not allowed to access 'Purchase Order' (purchase.order) records."})
	importPlan(t, s, Options{Mode: 3, CompanyID: 1}, goldenPOs...)
	for _, v := range created(e, "purchase.order", 0) {
		if _, ok := v["requisition_id"]; ok {
			t.Errorf("blanket order set although the probe failed: %v", v)
		}
	}
	from := len(e.Journal())
	e.InjectFault(&odooemu.Fault{Model: "purchase.order", Method: "fields_get", Times: 1, Message: "psycopg2.OperationalError: server closed the connection unexpectedly"})
	ctx := context.Background()
	im := &Importer{S: s, Now: func() time.Time { return now }}
	o := Options{Mode: 3, CompanyID: 1}
	recs, err := im.Validate(ctx, parse(t, goldenPOs...), time.UTC, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Apply(ctx, recs, &store.Plan{}, o); err == nil || !strings.Contains(err.Error(), "probe") {
		t.Fatalf("Apply error %v, want the probe's transient fault", err)
	}
	if n := len(created(e, "purchase.order", from)); n != 0 {
		t.Errorf("%d RFQs created before the failed probe", n)
	}
}
