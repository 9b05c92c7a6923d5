package gateway_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
)

// TestResupplyRoundTrip is issue 20's round trip in the demo: the demo
// dataset (San Jose resupplied from WH) behind a gateway with the
// itemdistributions extension; the exported document has the item
// distributions, the planner (fixtures/plangen) proposes distribution
// orders along them, and posting the plan leaves in Odoo, per route and
// pair of warehouses, WH's delivery to transit and San Jose's receipt
// from it in one procurement group, with one chained move per product
// in each; posting it again writes nothing.
func TestResupplyRoundTrip(t *testing.T) {
	r := startImportRigWith(t, func(e *odooemu.Emulator) {
		for _, ext := range datasets.DemoExtensions {
			if err := odooemu.ApplyExtension(e.Dataset("odoo17"), datasets.Demo(), ext); err != nil {
				t.Fatal(err)
			}
		}
	}, func(c *gateway.Config) { c.Extensions = export.Extensions{export.ItemDistributions} })
	s := r.odooSession(t)
	doc := string(r.exportDocument(t))
	for _, want := range []string{
		`<itemdistribution leadtime="P2D" priority="1"><item name="FURN_7777"/><origin name="WH"/><destination name="SJ"/></itemdistribution>`,
		`<itemdistribution leadtime="P2D" priority="1"><item name="FURN_8888"/><origin name="WH"/><destination name="SJ"/></itemdistribution>`,
	} {
		if !strings.Contains(doc, want) {
			t.Fatalf("the document lacks %s", want)
		}
	}
	plan, toUTC := roundTripPlan(t, r, s)
	wantQty := map[int]float64{}
	var first string
	for _, p := range plan.Proposals {
		if p.Type != "DO" {
			continue
		}
		if p.From.Name != "WH" || p.To.Name != "SJ" {
			t.Fatalf("%s goes %s → %s, not along the distributions", p.Reference, p.From.Name, p.To.Name)
		}
		if first == "" {
			first = toUTC(p.Start)
		}
		wantQty[p.Item.Product] += p.Quantity
	}
	if len(wantQty) != 2 {
		t.Fatalf("distribution orders of %d products, want 2: %v", len(wantQty), wantQty)
	}
	before := len(r.emu.Journal())
	if status, reply := r.post(t, "1", plan.XML); status != 200 || !strings.Contains(reply, "uploaded manufacturing orders") {
		t.Fatalf("post: %d %q", status, reply)
	}

	picks := searchRead(t, s, "stock.picking", odoo.Domain{odoo.Term("origin", "=like", "frePPLe%")}, "name", "picking_type_id", "location_id", "location_dest_id", "group_id", "scheduled_date", "state")
	if len(picks) != 2 {
		t.Fatalf("%d pickings, want WH's delivery and San Jose's receipt: %v", len(picks), picks)
	}
	out, in := picks[0], picks[1]
	group := out.M2OID("group_id")
	for _, c := range []struct {
		p                odoo.Record
		typ, src, dest   int
		nameStart        string
		scheduledAtStart bool
	}{{out, 2, 8, 13, "WH/OUT/", true}, {in, 21, 13, 302, "SJ/IN/", false}} {
		if c.p.M2OID("picking_type_id") != c.typ || c.p.M2OID("location_id") != c.src || c.p.M2OID("location_dest_id") != c.dest ||
			!strings.HasPrefix(c.p.String("name"), c.nameStart) || c.p.String("state") != "draft" || group == 0 || c.p.M2OID("group_id") != group {
			t.Errorf("picking %v, want type %d %d → %d named %s…, draft, in group %d", c.p, c.typ, c.src, c.dest, c.nameStart, group)
		}
		if c.scheduledAtStart && c.p.String("scheduled_date") != first {
			t.Errorf("delivery scheduled %s, want the first DO's start %s", c.p.String("scheduled_date"), first)
		}
	}
	if out.M2OName("group_id") != out.String("name") {
		t.Errorf("group %q, want it named after the delivery %q", out.M2OName("group_id"), out.String("name"))
	}
	moves := searchRead(t, s, "stock.move", odoo.Domain{odoo.Term("group_id", "=", group)}, "picking_id", "product_id", "product_uom_qty", "move_orig_ids", "move_dest_ids", "rule_id")
	got := map[string]float64{}
	dest := map[int][]int{}
	for _, m := range moves {
		got[fmt.Sprintf("%d/%d", m.M2OID("picking_id"), m.M2OID("product_id"))] += m.Float("product_uom_qty")
		dest[m.ID()] = m.IDs("move_dest_ids")
	}
	want := map[string]float64{}
	for prod, q := range wantQty {
		want[fmt.Sprintf("%d/%d", out.ID(), prod)] = q
		want[fmt.Sprintf("%d/%d", in.ID(), prod)] = q
	}
	if len(moves) != 4 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("moves (picking/product: quantity) %v, want %v", got, want)
	}
	for _, m := range moves {
		if m.M2OID("picking_id") != out.ID() {
			continue
		}
		if len(dest[m.ID()]) != 1 {
			t.Errorf("delivery move %d chained to %v, want its receipt move", m.ID(), dest[m.ID()])
			continue
		}
		for _, rm := range moves {
			if rm.ID() == dest[m.ID()][0] && (rm.M2OID("picking_id") != in.ID() || rm.M2OID("product_id") != m.M2OID("product_id") || fmt.Sprint(rm.IDs("move_orig_ids")) != fmt.Sprint([]int{m.ID()})) {
				t.Errorf("delivery move %d chained to %v", m.ID(), rm)
			}
		}
	}
	created := map[string]int{}
	for _, j := range r.emu.Journal()[before:] {
		if j.Method == "create" && (strings.HasPrefix(j.Model, "stock.") || j.Model == "procurement.group") {
			created[j.Model]++
		}
	}
	if fmt.Sprint(created) != "map[procurement.group:1 stock.move:4 stock.picking:2]" {
		t.Errorf("created %v: want no transfer besides the two pickings", created)
	}

	writes := len(r.emu.Journal())
	if status, again := r.post(t, "1", plan.XML); status != 200 || !strings.Contains(again, "nothing written") {
		t.Fatalf("repost: %d %q", status, again)
	}
	if n := len(r.emu.Journal()); n != writes {
		t.Errorf("repost wrote %d records", n-writes)
	}
}
