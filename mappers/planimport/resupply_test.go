package planimport

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

func do(ref, origin, dest, item, qty, start, end string) string {
	return fmt.Sprintf(`<operationplan status="proposed" reference=%q ordertype="DO" origin=%q destination=%q start=%q end=%q quantity=%q item_id="1,%s"/>`,
		ref, origin, dest, start, end, qty, item)
}

// withResupply adds resupply.json: San Jose (SJ, warehouse 5) resupplied
// from WH through route 15 (rules 28 WH/Stock → transit, 27 the MTO one,
// 29 transit → SJ/Stock; a day each), set on products 5 and 6.
func withResupply(t *testing.T) func(*odooemu.Dataset) {
	return func(ds *odooemu.Dataset) {
		if err := odooemu.ApplyExtension(ds, datasets.Demo(), "resupply.json"); err != nil {
			t.Fatal(err)
		}
	}
}

// The user is in Europe/Brussels (UTC+1 in November).
var resupplyPlan = []string{
	do("DO-1", "WH", "SJ", "5", "2", "2026-11-30 09:00:00", "2026-12-02 09:00:00"),
	do("DO-2", "WH", "SJ", "6", "3", "2026-11-30 10:00:00", "2026-12-02 10:00:00"),
	do("DO-3", "WH", "SJ", "5", "4", "2026-11-29 09:00:00", "2026-12-01 09:00:00"),
	do("DO-4", "WH", "CHIC1", "5", "1", "2026-11-30 09:00:00", "2026-12-02 09:00:00"), // no route: the addon's transfer
	do("DO-5", "WH", "SJ", "8", "1", "2026-11-30 09:00:00", "2026-12-02 09:00:00"),    // the route is not set on product 8
}

// describePickings lists the pickings and moves created since journal
// entry from: pickings by id with type, locations, date and group; each
// move with its product, quantity, date, rule, method, warehouse, group
// and chained moves.
func describePickings(t *testing.T, e *odooemu.Emulator, s *odoo.Session, from int) string {
	t.Helper()
	var ids []any
	for _, j := range e.Journal()[from:] {
		if j.Model == "stock.picking" && j.Method == "create" {
			ids = append(ids, j.IDs[0])
		}
	}
	ctx := context.Background()
	picks, err := s.SearchRead(ctx, "stock.picking", odoo.Domain{odoo.Term("id", "in", ids)}, odoo.Query{Fields: []string{"name", "picking_type_id",
		"location_id", "location_dest_id", "scheduled_date", "group_id", "origin", "state", "move_type"}, Order: "id"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range picks {
		fmt.Fprintf(&b, "%s type %d %d→%d at %s group %q origin %s %s %s\n", p.String("name"), p.M2OID("picking_type_id"), p.M2OID("location_id"),
			p.M2OID("location_dest_id"), p.String("scheduled_date"), p.M2OName("group_id"), p.String("origin"), p.String("state"), p.String("move_type"))
		moves, err := s.SearchRead(ctx, "stock.move", odoo.Domain{odoo.Term("picking_id", "=", p.ID())}, odoo.Query{Fields: []string{"name", "product_id",
			"product_uom_qty", "date", "rule_id", "procure_method", "warehouse_id", "group_id", "move_orig_ids", "move_dest_ids", "location_id", "location_dest_id", "picking_type_id"}, Order: "id"})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range moves {
			chained := func(f string) string {
				var names []string
				for _, id := range m.IDs(f) {
					recs, _ := s.Read(ctx, "stock.move", []int{id}, odoo.Query{Fields: []string{"picking_id", "product_id"}})
					names = append(names, fmt.Sprintf("%s/%d", recs[0].M2OName("picking_id"), recs[0].M2OID("product_id")))
				}
				return strings.Join(names, ",")
			}
			fmt.Fprintf(&b, "  %q product %d qty %v %d→%d type %d at %s rule %d %s wh %d group %q orig [%s] dest [%s]\n", m.String("name"), m.M2OID("product_id"),
				m.Float("product_uom_qty"), m.M2OID("location_id"), m.M2OID("location_dest_id"), m.M2OID("picking_type_id"), m.String("date"), m.M2OID("rule_id"),
				m.String("procure_method"), m.M2OID("warehouse_id"), m.M2OName("group_id"), chained("move_orig_ids"), chained("move_dest_ids"))
		}
	}
	return b.String()
}

// Item 2 of issue 20: with the extension, DOs between warehouses a route
// links become the route's two pickings in one procurement group, with
// chained moves; DOs without a route stay the addon's transfers; without
// the extension all are transfers. Posting the plan again writes nothing.
func TestImportResupplyPickings(t *testing.T) {
	routed := `WH/OUT/00012 type 2 8→13 at 2026-11-29 08:00:00 group "WH/OUT/00012" origin frePPLe draft direct
  "WH/OUT/00012 1" product 5 qty 6 8→13 type 2 at 2026-11-29 08:00:00 rule 28 make_to_stock wh 1 group "WH/OUT/00012" orig [] dest [SJ/IN/00001/5]
  "WH/OUT/00012 2" product 6 qty 3 8→13 type 2 at 2026-11-30 09:00:00 rule 28 make_to_stock wh 1 group "WH/OUT/00012" orig [] dest [SJ/IN/00001/6]
SJ/IN/00001 type 21 13→302 at 2026-11-30 08:00:00 group "WH/OUT/00012" origin frePPLe draft direct
  "SJ/IN/00001 1" product 5 qty 6 13→302 type 21 at 2026-11-30 08:00:00 rule 29 make_to_order wh 1 group "WH/OUT/00012" orig [WH/OUT/00012/5] dest []
  "SJ/IN/00001 2" product 6 qty 3 13→302 type 21 at 2026-12-01 09:00:00 rule 29 make_to_order wh 1 group "WH/OUT/00012" orig [WH/OUT/00012/6] dest []
`
	transfers := func(first int, withSJ bool) string {
		out := fmt.Sprintf(`WH/INT/%05d type 5 8→28 at 2026-11-30 08:00:00 group "" origin frePPLe draft direct
  "WH/INT/%05[1]d 4" product 5 qty 1 8→28 type 0 at 2026-11-30 08:00:00 rule 0  wh 0 group "" orig [] dest []
`, first)
		if withSJ {
			out += fmt.Sprintf(`WH/INT/%05d type 5 8→302 at 2026-11-30 08:00:00 group "" origin frePPLe draft direct
  "WH/INT/%05[1]d 5" product 8 qty 1 8→302 type 0 at 2026-11-30 08:00:00 rule 0  wh 0 group "" orig [] dest []
`, first+1)
		}
		return out
	}
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"with the extension", Options{Mode: 1, ResupplyPickings: true}, routed + transfers(1, true)},
		{"without: the addon's transfers", Options{Mode: 1}, `WH/INT/00001 type 5 8→302 at 2026-11-30 08:00:00 group "" origin frePPLe draft direct
  "WH/INT/00001 1" product 5 qty 6 8→302 type 0 at 2026-11-29 08:00:00 rule 0  wh 0 group "" orig [] dest []
  "WH/INT/00001 2" product 6 qty 3 8→302 type 0 at 2026-11-30 09:00:00 rule 0  wh 0 group "" orig [] dest []
  "WH/INT/00001 5" product 8 qty 1 8→302 type 0 at 2026-11-30 08:00:00 rule 0  wh 0 group "" orig [] dest []
` + transfers(2, false)},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, s := emuSession(t, withResupply(t))
			ctx := context.Background()
			im := &Importer{S: s, Now: func() time.Time { return now }}
			recs, err := im.Validate(ctx, parse(t, resupplyPlan...), im.Location(ctx), c.o)
			if err != nil {
				t.Fatal(err)
			}
			before := len(e.Journal())
			j := &store.Plan{}
			reply, err := im.Apply(ctx, recs, j, c.o)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(reply, "Processed 0 uploaded procurement orders\nProcessed 0 uploaded manufacturing orders") {
				t.Errorf("reply %q counts distribution orders", reply)
			}
			if got := describePickings(t, e, s, before); got != c.want {
				t.Errorf("pickings:\n%s\nwant\n%s", got, c.want)
			}
			groups := len(created(e, "procurement.group", before))
			if want := map[bool]int{true: 1, false: 0}[c.o.ResupplyPickings]; groups != want {
				t.Errorf("%d procurement groups created, want %d", groups, want)
			}
			again := len(e.Journal())
			if _, err := im.Apply(ctx, recs, j, c.o); err != nil {
				t.Fatal(err)
			}
			if n := len(e.Journal()) - again; n != 0 {
				t.Errorf("the journaled plan applied again wrote %d records: %+v", n, e.Journal()[again:])
			}
		})
	}
}

// A resume creates nothing twice, whichever create of the DOs' records
// failed: Odoo refusing the moves, or committing the pickings, the group
// or the moves while the reply is lost (then the resume finds them: the
// pickings by their run marker, the moves under their pickings, the group
// by its name).
func TestImportResupplyResumes(t *testing.T) {
	lost := func(model string) *odooemu.Fault {
		return &odooemu.Fault{Model: model, Method: "create", Times: 1, Commit: true, Message: "psycopg2.OperationalError: server closed the connection"}
	}
	for _, c := range []struct {
		name  string
		fault *odooemu.Fault
	}{
		{"moves refused", &odooemu.Fault{Model: "stock.move", Method: "create", Times: 1, Message: "psycopg2.OperationalError: server closed the connection"}},
		{"the pickings' reply lost", lost("stock.picking")},
		{"the group's reply lost", lost("procurement.group")},
		{"the receipt moves' reply lost", lost("stock.move")},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, s := emuSession(t, withResupply(t))
			ctx := context.Background()
			o := Options{Mode: 1, ResupplyPickings: true}
			im := &Importer{S: s, Now: func() time.Time { return now }}
			recs, err := im.Validate(ctx, parse(t, resupplyPlan[:3]...), im.Location(ctx), o)
			if err != nil {
				t.Fatal(err)
			}
			before := len(e.Journal())
			e.InjectFault(c.fault)
			j := &store.Plan{Attempts: 1} // the gateway counts attempts before each
			if _, err := im.Apply(ctx, recs, j, o); err == nil {
				t.Fatal("the failing attempt succeeded")
			}
			j.Attempts++
			if _, err := im.Apply(ctx, recs, j, o); err != nil {
				t.Fatalf("resume: %v", err)
			}
			count := map[string]int{}
			for _, x := range e.Journal()[before:] {
				if x.Method == "create" {
					count[x.Model]++
				}
			}
			if want := "map[procurement.group:1 stock.move:4 stock.picking:2]"; fmt.Sprint(count) != want {
				t.Errorf("created %v, want %s", count, want)
			}
			groups, err := s.SearchRead(ctx, "procurement.group", odoo.Domain{odoo.Term("name", "=", "WH/OUT/00012")}, odoo.Query{Fields: []string{"stock_move_ids"}})
			if err != nil || len(groups) != 1 || len(groups[0].IDs("stock_move_ids")) != 4 {
				t.Errorf("groups named after the delivery: %v (%v), want one holding the 4 moves", groups, err)
			}
			picks, err := s.SearchRead(ctx, "stock.picking", odoo.Domain{odoo.Term("origin", "=", "frePPLe")}, odoo.Query{Fields: []string{"move_ids"}})
			if err != nil || len(picks) != 2 || len(picks[0].IDs("move_ids")) != 2 || len(picks[1].IDs("move_ids")) != 2 {
				t.Errorf("pickings with their origin restored: %v (%v), want 2 with 2 moves each", picks, err)
			}
		})
	}
}

// Of two routes from WH to San Jose that apply to a product, the one of
// the lower sequence carries its DOs: an express route (sequence -1, no
// delays) set on product 5 only.
func TestImportResupplyPrefersTheLowerSequence(t *testing.T) {
	e, s := emuSession(t, withResupply(t))
	ctx := context.Background()
	express, err := s.Create(ctx, "stock.route", map[string]any{"name": "Express", "sequence": -1, "product_ids": []any{[]any{4, 5}}, "company_id": 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []map[string]any{
		{"name": "WH: Stock → transit (express)", "location_src_id": 8, "location_dest_id": 13, "picking_type_id": 2, "procure_method": "make_to_stock", "warehouse_id": 1},
		{"name": "SJ: transit → Stock (express)", "location_src_id": 13, "location_dest_id": 302, "picking_type_id": 21, "procure_method": "make_to_order", "warehouse_id": 5},
	} {
		r["route_id"], r["action"], r["auto"] = express, "pull", "manual"
		if _, err := s.Create(ctx, "stock.rule", r); err != nil {
			t.Fatal(err)
		}
	}
	before := len(e.Journal())
	importPlan(t, s, Options{Mode: 1, ResupplyPickings: true}, resupplyPlan[:2]...)
	got := describePickings(t, e, s, before)
	for _, want := range []string{
		`"WH/OUT/00012 1" product 5 qty 2 8→13 type 2 at 2026-11-30 08:00:00 rule 30 make_to_stock wh 1 group "WH/OUT/00012"`,
		`"SJ/IN/00001 1" product 5 qty 2 13→302 type 21 at 2026-12-02 08:00:00 rule 31 make_to_order wh 5 group "WH/OUT/00012"`,
		`"WH/OUT/00013 2" product 6 qty 3 8→13 type 2 at 2026-11-30 09:00:00 rule 28`,
		`"SJ/IN/00002 2" product 6 qty 3 13→302 type 21 at 2026-12-01 09:00:00 rule 29`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("pickings lack %s:\n%s", want, got)
		}
	}
}
