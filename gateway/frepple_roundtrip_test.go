package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/fixtures/plangen"
	"github.com/plangate/plangate/mappers/odoo"
)

// exportDocument fetches the mode-1 document through the gateway, as
// frePPLe's "Load Odoo data" task does.
func (r *importRig) exportDocument(t *testing.T) []byte {
	t.Helper()
	q := url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}, "mode": {"1"}}
	res := send(t, http.MethodGet, r.gw.URL+"/frepple/xml?"+q.Encode(), nil, basic("admin", "admin"))
	if res.status != 200 {
		t.Fatalf("export: %d %s", res.status, res.body)
	}
	return []byte(res.body)
}

// odooSession logs into the emulator directly, to check what Odoo holds.
func (r *importRig) odooSession(t *testing.T) *odoo.Session {
	t.Helper()
	tr, err := odoo.NewTransport(odoo.Options{URL: r.emuURL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func searchRead(t *testing.T, s *odoo.Session, model string, d odoo.Domain, fields ...string) []odoo.Record {
	t.Helper()
	recs, err := s.SearchRead(context.Background(), model, d, odoo.Query{Fields: fields, Order: "id"})
	if err != nil {
		t.Fatalf("search_read %s: %v", model, err)
	}
	return recs
}

const utc = "2006-01-02 15:04:05"

func ids(recs []odoo.Record) []any {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r.ID()
	}
	return out
}

func keys(m map[int]odoo.Record) []any {
	out := make([]any, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	return out
}

// TestRoundTrip is issue #4's "done when": export the demo database
// through GET /frepple/xml, plan on that document (fixtures/plangen),
// post the plan back in mode 1 and find exactly the proposed RFQs, MOs
// with their work orders, transfers and work-order reschedules in Odoo;
// post it again and find nothing new.
func TestRoundTrip(t *testing.T) {
	r := startImportRigWith(t, odooemu.MOWorkordersFromRouting)
	s := r.odooSession(t)
	plan, toUTC := roundTripPlan(t, r, s)
	byType := map[string][]plangen.Proposal{}
	for _, p := range plan.Proposals {
		byType[p.Type] = append(byType[p.Type], p)
	}
	if len(byType["PO"]) < 4 || len(byType["MO"]) < 2 || len(byType["DO"]) < 2 || len(byType["WO"]) < 1 {
		t.Fatalf("generated plan too thin: %d PO, %d MO, %d DO, %d WO", len(byType["PO"]), len(byType["MO"]), len(byType["DO"]), len(byType["WO"]))
	}
	// Open work orders before the import, to see what the reschedule changed.
	woBefore := map[int]odoo.Record{}
	for _, w := range searchRead(t, s, "mrp.workorder", odoo.Domain{}, "state", "workcenter_id", "date_start", "date_finished") {
		woBefore[w.ID()] = w
	}
	before := len(r.emu.Journal())

	status, reply := r.post(t, "1", plan.XML)
	wantReply := fmt.Sprintf("Removed 0 old draft purchase orders\nRemoved 0 old draft manufacturing orders\nProcessed %d uploaded procurement orders\nProcessed %d uploaded manufacturing orders",
		len(byType["PO"]), len(byType["MO"]))
	if status != 200 || reply != wantReply {
		t.Fatalf("status %d reply %q, want %q", status, reply, wantReply)
	}

	// RFQs: one per supplier, holding exactly that supplier's proposals.
	suppliers := checkRFQs(t, s, byType["PO"], toUTC, false)

	// MOs with their work orders scheduled on the planned workcenters.
	mos := searchRead(t, s, "mrp.production", odoo.Domain{odoo.Term("origin", "=like", "frePPLe%")}, "product_id", "bom_id", "product_qty", "date_start", "date_finished", "state", "picking_type_id")
	if len(mos) != len(byType["MO"]) {
		t.Fatalf("%d MOs, want %d", len(mos), len(byType["MO"]))
	}
	woByMO := map[int][]odoo.Record{}
	for _, wo := range searchRead(t, s, "mrp.workorder", odoo.Domain{odoo.Term("production_id", "in", ids(mos))}, "production_id", "operation_id", "workcenter_id", "date_start", "date_finished") {
		woByMO[wo.M2OID("production_id")] = append(woByMO[wo.M2OID("production_id")], wo)
	}
	steps := 0
	for i, p := range byType["MO"] {
		mo := mos[i] // created in file order
		if mo.M2OID("product_id") != p.Item.Product || mo.M2OID("bom_id") != p.BOM || mo.Float("product_qty") != p.Quantity ||
			mo.String("date_start") != toUTC(p.Start) || mo.String("date_finished") != toUTC(p.End) || mo.String("state") != "draft" || mo.M2OID("picking_type_id") == 0 {
			t.Errorf("%s: MO %v, want product %d bom %d qty %v %s–%s draft", p.Reference, mo, p.Item.Product, p.BOM, p.Quantity, toUTC(p.Start), toUTC(p.End))
		}
		wos := woByMO[mo.ID()]
		if len(wos) != len(p.Workorders) {
			t.Errorf("%s: %d work orders, want %d", p.Reference, len(wos), len(p.Workorders))
		}
		for _, w := range p.Workorders {
			steps++
			found := false
			for _, wo := range wos {
				if wo.M2OID("operation_id") != w.Routing {
					continue
				}
				found = true
				if wo.M2OID("workcenter_id") != w.Workcenter || wo.String("date_start") != toUTC(w.Start) || wo.String("date_finished") != toUTC(w.End) {
					t.Errorf("%s %s: work order %v, want workcenter %d %s–%s", p.Reference, w.Operation, wo, w.Workcenter, toUTC(w.Start), toUTC(w.End))
				}
			}
			if !found {
				t.Errorf("%s: no work order for step %s", p.Reference, w.Operation)
			}
		}
	}

	// One transfer between the two warehouses, one move per product.
	whs := searchRead(t, s, "stock.warehouse", odoo.Domain{}, "code", "lot_stock_id")
	stock := map[string]int{}
	for _, w := range whs {
		stock[w.String("code")] = w.M2OID("lot_stock_id")
	}
	picks := searchRead(t, s, "stock.picking", odoo.Domain{odoo.Term("origin", "=like", "frePPLe%")}, "location_id", "location_dest_id", "scheduled_date", "state", "picking_type_id")
	if len(picks) != 1 {
		t.Fatalf("%d transfers, want 1", len(picks))
	}
	do := byType["DO"]
	pk := picks[0]
	if pk.M2OID("location_id") != stock[do[0].From.Name] || pk.M2OID("location_dest_id") != stock[do[0].To.Name] || pk.String("scheduled_date") != toUTC(do[0].Start) || pk.String("state") != "draft" {
		t.Errorf("transfer %v, want %s → %s at %s, draft", pk, do[0].From.Name, do[0].To.Name, toUTC(do[0].Start))
	}
	wantMove := map[int]float64{}
	for _, p := range do {
		wantMove[p.Item.Product] += p.Quantity
	}
	moves := searchRead(t, s, "stock.move", odoo.Domain{odoo.Term("picking_id", "=", pk.ID())}, "product_id", "product_uom_qty")
	gotMove := map[int]float64{}
	for _, m := range moves {
		gotMove[m.M2OID("product_id")] += m.Float("product_uom_qty")
	}
	if len(moves) != len(wantMove) || fmt.Sprint(gotMove) != fmt.Sprint(wantMove) {
		t.Errorf("moves %v (%d), want one per product %v", gotMove, len(moves), wantMove)
	}

	// Work orders of open MOs: rescheduled when still pending/waiting/ready.
	// The start is converted from the user's zone; the end is stored as
	// sent, like the addon does (golden_import).
	rescheduled := 0
	woAfter := map[int]odoo.Record{}
	for _, w := range searchRead(t, s, "mrp.workorder", odoo.Domain{odoo.Term("id", "in", keys(woBefore))}, "state", "workcenter_id", "date_start", "date_finished") {
		woAfter[w.ID()] = w
	}
	for _, p := range byType["WO"] {
		id, _ := strconv.Atoi(p.Operation[strings.LastIndex(p.Operation, " - ")+3:])
		old, got := woBefore[id], woAfter[id]
		if got == nil {
			t.Errorf("%s: work order %d not found", p.Reference, id)
			continue
		}
		switch old.String("state") {
		case "pending", "waiting", "ready":
			rescheduled++
			if got.String("date_start") != toUTC(p.Start) || got.String("date_finished") != p.End.Format(utc) {
				t.Errorf("%s: work order %d dates %s–%s, want %s–%s", p.Reference, id, got.String("date_start"), got.String("date_finished"), toUTC(p.Start), p.End.Format(utc))
			}
			if wc := got.M2OID("workcenter_id"); wc != old.M2OID("workcenter_id") && (len(p.Resources) == 0 || wc != p.Resources[0]) {
				t.Errorf("%s: workcenter %d, neither the old %d nor the planned %v", p.Reference, wc, old.M2OID("workcenter_id"), p.Resources)
			}
		default:
			if got.String("date_start") != old.String("date_start") {
				t.Errorf("%s: work order %d in state %s was rescheduled", p.Reference, id, old.String("state"))
			}
		}
	}
	if rescheduled == 0 {
		t.Error("no open work order was rescheduled")
	}

	// Nothing else was created: Odoo's work orders of the new MOs (by the
	// emulator's routing hook) and the proposals, no secondary workcenters.
	got := map[string]int{}
	for _, j := range r.emu.Journal()[before:] {
		if j.Method == "create" {
			got[j.Model]++
		}
	}
	want := map[string]int{"purchase.order": suppliers, "purchase.order.line": len(byType["PO"]), "mrp.production": len(byType["MO"]),
		"mrp.workorder": steps, "stock.picking": 1, "stock.move": len(wantMove)}
	t.Logf("created %v; %d open work orders rescheduled", got, rescheduled)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records created %v, want %v", got, want)
	}

	// The same plan again: nothing written, and the reply says so.
	writes := len(r.emu.Journal())
	status, again := r.post(t, "1", plan.XML)
	if status != 200 || !strings.HasPrefix(again, reply+"\n") || !strings.Contains(again, "already imported") || !strings.Contains(again, "nothing written") {
		t.Fatalf("repost: status %d reply %q", status, again)
	}
	if n := len(r.emu.Journal()); n != writes {
		t.Errorf("repost wrote %d records: %+v", n-writes, r.emu.Journal()[writes:])
	}
}

// checkRFQs checks the frePPLe RFQs in Odoo against the purchase
// proposals: one draft RFQ per supplier dated at the earliest of its
// proposals (UTC), and its lines: one per proposal, or with merge (mode
// 2) one per product with the quantities summed and the earliest date.
// It returns the number of suppliers.
func checkRFQs(t *testing.T, s *odoo.Session, pos []plangen.Proposal, toUTC func(time.Time) string, merge bool) int {
	t.Helper()
	type line struct {
		product int
		qty     float64
		date    string
	}
	wantLines := map[int][]line{}
	minStart, minEnd := map[int]string{}, map[int]string{}
	for _, p := range pos {
		k := p.Supplier.Partner
		l := line{p.Item.Product, p.Quantity, toUTC(p.End)}
		merged := false
		if merge {
			for i, w := range wantLines[k] {
				if w.product == l.product {
					wantLines[k][i].qty += l.qty
					wantLines[k][i].date = min(w.date, l.date)
					merged = true
				}
			}
		}
		if !merged {
			wantLines[k] = append(wantLines[k], l)
		}
		if st := toUTC(p.Start); minStart[k] == "" || st < minStart[k] {
			minStart[k] = st
		}
		if en := toUTC(p.End); minEnd[k] == "" || en < minEnd[k] {
			minEnd[k] = en
		}
	}
	rfqs := searchRead(t, s, "purchase.order", odoo.Domain{odoo.Term("origin", "=like", "frePPLe%")}, "partner_id", "state", "date_order", "date_planned", "picking_type_id", "company_id")
	if len(rfqs) != len(wantLines) {
		t.Fatalf("%d RFQs, want one for each of %d suppliers", len(rfqs), len(wantLines))
	}
	gotLines, poSupplier := map[int][]line{}, map[int]int{}
	for _, po := range rfqs {
		sup := po.M2OID("partner_id")
		if _, ok := wantLines[sup]; !ok {
			t.Errorf("RFQ %d for unexpected supplier %d", po.ID(), sup)
		}
		if _, dup := gotLines[sup]; dup {
			t.Errorf("two RFQs for supplier %d", sup)
		}
		if po.String("state") != "draft" || po.M2OID("company_id") != 1 || po.M2OID("picking_type_id") == 0 {
			t.Errorf("RFQ %d: state %q company %d picking type %d", po.ID(), po.String("state"), po.M2OID("company_id"), po.M2OID("picking_type_id"))
		}
		if po.String("date_order") != minStart[sup] || po.String("date_planned") != minEnd[sup] {
			t.Errorf("RFQ %d dates %s/%s, want %s/%s (earliest of its lines, UTC)", po.ID(), po.String("date_order"), po.String("date_planned"), minStart[sup], minEnd[sup])
		}
		poSupplier[po.ID()] = sup
	}
	for _, l := range searchRead(t, s, "purchase.order.line", odoo.Domain{odoo.Term("order_id", "in", ids(rfqs))}, "order_id", "product_id", "product_qty", "date_planned") {
		sup := poSupplier[l.M2OID("order_id")]
		gotLines[sup] = append(gotLines[sup], line{l.M2OID("product_id"), l.Float("product_qty"), l.String("date_planned")})
	}
	for sup, want := range wantLines {
		got := gotLines[sup]
		sort.Slice(got, func(i, j int) bool { return fmt.Sprint(got[i]) < fmt.Sprint(got[j]) })
		sort.Slice(want, func(i, j int) bool { return fmt.Sprint(want[i]) < fmt.Sprint(want[j]) })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("supplier %d lines %v, want %v", sup, got, want)
		}
	}
	return len(wantLines)
}

// roundTripPlan exports the demo database through the gateway and plans on it.
func roundTripPlan(t *testing.T, r *importRig, s *odoo.Session) (*plangen.Plan, func(time.Time) string) {
	t.Helper()
	doc, err := plangen.Read(strings.NewReader(string(r.exportDocument(t))))
	if err != nil {
		t.Fatal(err)
	}
	users := searchRead(t, s, "res.users", odoo.Domain{odoo.Term("id", "=", s.UID)}, "tz")
	tz, err := time.LoadLocation(users[0].String("tz"))
	if err != nil || users[0].String("tz") == "" {
		t.Fatalf("connector user tz %q: %v", users[0].String("tz"), err)
	}
	plan, err := plangen.Generate(doc, plangen.Options{Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}) // wall clock in tz
	if err != nil {
		t.Fatal(err)
	}
	return plan, func(wall time.Time) string {
		return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, tz).UTC().Format(utc)
	}
}

// In mode 2 (the planner UI's "export to Odoo", with actual_user) the
// proposals of one product for one supplier become one RFQ line; the
// RFQs are the actual user's. Reposting changes nothing.
func TestRoundTripMode2(t *testing.T) {
	r := startImportRigWith(t, odooemu.MOWorkordersFromRouting)
	s := r.odooSession(t)
	plan, toUTC := roundTripPlan(t, r, s)
	var pos []plangen.Proposal
	mos := 0
	for _, p := range plan.Proposals {
		switch p.Type {
		case "PO":
			pos = append(pos, p)
		case "MO":
			mos++
		}
	}
	fields := [][2]string{{"mode", "2"}, {"actual_user", "admin"}}
	status, reply := r.postUI(t, fields, plan.XML)
	want := fmt.Sprintf("Processed %d uploaded procurement orders\nProcessed %d uploaded manufacturing orders", len(pos), mos)
	if status != 200 || reply != want {
		t.Fatalf("status %d reply %q, want %q", status, reply, want)
	}
	checkRFQs(t, s, pos, toUTC, true)
	for _, po := range searchRead(t, s, "purchase.order", odoo.Domain{odoo.Term("origin", "=like", "frePPLe%")}, "user_id") {
		if po.M2OID("user_id") != s.UID {
			t.Errorf("RFQ %d responsible %d, want the actual user %d", po.ID(), po.M2OID("user_id"), s.UID)
		}
	}
	writes := len(r.emu.Journal())
	if status, again := r.postUI(t, fields, plan.XML); status != 200 || !strings.Contains(again, "nothing written") {
		t.Fatalf("repost: %d %q", status, again)
	}
	if n := len(r.emu.Journal()); n != writes {
		t.Errorf("repost wrote %d records", n-writes)
	}
}
