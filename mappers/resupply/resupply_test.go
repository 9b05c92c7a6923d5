package resupply_test

import (
	"fmt"
	"testing"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/resupply"
)

// Locations of the cases: two warehouses' stock, input and output, and
// two transit locations of no warehouse.
const (
	whStock, whOutput, sjStock, sjInput, laxStock = 8, 11, 302, 303, 204
	transit, transit2, customers, vendors         = 13, 6, 5, 4
)

var warehouseOf = map[int]int{whStock: 1, whOutput: 1, sjStock: 5, sjInput: 5, laxStock: 4}

func chainsOf(rules ...resupply.Rule) string {
	var s string
	for _, c := range resupply.Chains(rules, func(l int) int { return warehouseOf[l] }) {
		s += fmt.Sprintf("route %d: %d→%d via", c.Route, c.From, c.To)
		for _, r := range c.Rules {
			s += fmt.Sprintf(" %d", r.ID)
		}
		s += fmt.Sprintf(" (%dd); ", c.LeadDays())
	}
	return s
}

func TestChains(t *testing.T) {
	pull := func(id, route, src, dest, delay int) resupply.Rule {
		return resupply.Rule{ID: id, Route: route, Src: src, Dest: dest, Delay: delay, Sequence: 20}
	}
	for _, c := range []struct {
		name  string
		rules []resupply.Rule
		want  string
	}{
		{"Odoo's resupply route: stock → transit → stock", []resupply.Rule{pull(31, 15, whStock, transit, 1), pull(32, 15, transit, sjStock, 2)},
			"route 15: 1→5 via 31 32 (3d); "},
		{"rules listed receiving rule first", []resupply.Rule{pull(32, 15, transit, sjStock, 0), pull(31, 15, whStock, transit, 0)},
			"route 15: 1→5 via 31 32 (0d); "},
		{"two-step delivery: the supplier ships from its output", []resupply.Rule{pull(31, 15, whOutput, transit, 0), pull(32, 15, transit, sjStock, 0)},
			"route 15: 1→5 via 31 32 (0d); "},
		{"two-step reception: into the receiver's input", []resupply.Rule{pull(31, 15, whStock, transit, 0), pull(32, 15, transit, sjInput, 0)},
			"route 15: 1→5 via 31 32 (0d); "},
		{"a warehouse's own receipt and delivery move nothing between warehouses",
			[]resupply.Rule{pull(6, 2, vendors, whStock, 0), pull(2, 3, whStock, customers, 0), pull(7, 9, sjInput, sjStock, 0)}, ""},
		{"the global MTO rule into transit is no chain", []resupply.Rule{pull(33, 1, whStock, transit, 0)}, ""},
		{"the supplying rule is in another route: not followed", []resupply.Rule{pull(33, 1, whStock, transit, 0), pull(32, 15, transit, sjStock, 0)}, ""},
		{"three steps through two transit locations", []resupply.Rule{pull(41, 16, whStock, transit, 1), pull(42, 16, transit, transit2, 1), pull(43, 16, transit2, laxStock, 1)},
			"route 16: 1→4 via 41 42 43 (3d); "},
		{"a cycle between transit locations ends", []resupply.Rule{pull(51, 17, transit, transit2, 0), pull(52, 17, transit2, transit, 0), pull(53, 17, transit, sjStock, 0)}, ""},
		{"the lowest sequence supplies transit", []resupply.Rule{{ID: 61, Route: 18, Src: whStock, Dest: transit, Sequence: 5, Delay: 4},
			{ID: 60, Route: 18, Src: laxStock, Dest: transit, Sequence: 10}, pull(62, 18, transit, sjStock, 0)},
			"route 18: 1→5 via 61 62 (4d); "},
		{"one route resupplying two warehouses", []resupply.Rule{pull(71, 19, whStock, transit, 0), pull(72, 19, transit, sjStock, 0), pull(73, 19, transit, laxStock, 0)},
			"route 19: 1→5 via 71 72 (0d); route 19: 1→4 via 71 73 (0d); "},
		{"a direct rule between warehouses", []resupply.Rule{pull(81, 20, laxStock, whStock, 2)}, "route 20: 4→1 via 81 (2d); "},
		{"a rule without source", []resupply.Rule{pull(91, 21, 0, sjStock, 0)}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := chainsOf(c.rules...); got != c.want {
				t.Errorf("chains %q, want %q", got, c.want)
			}
		})
	}
}

func TestChoose(t *testing.T) {
	c := func(route, from, to int) resupply.Chain { return resupply.Chain{Route: route, From: from, To: to} }
	all := []resupply.Chain{c(15, 1, 5), c(16, 1, 5), c(17, 4, 5), c(18, 1, 4), c(19, 1, 5)}
	seq := map[int]int{15: 10, 16: 0, 17: 3, 19: 0} // 18 is archived
	every := func(resupply.Chain) int { return resupply.ProductRoute }
	for _, tc := range []struct {
		name string
		tier func(resupply.Chain) int
		want string
	}{
		{"every route applies: one chain per pair, lowest sequence then id", every, "[{16 1 5 []} {17 4 5 []}]"},
		{"the preferred route does not apply", func(c resupply.Chain) int {
			if c.Route == 16 {
				return resupply.NotApplicable
			}
			return resupply.ProductRoute
		}, "[{19 1 5 []} {17 4 5 []}]"},
		{"a product's route before the warehouse's, whatever the sequence", func(c resupply.Chain) int {
			if c.Route == 15 {
				return resupply.ProductRoute
			}
			return resupply.WarehouseRoute
		}, "[{15 1 5 []} {17 4 5 []}]"},
		{"only a later route applies", func(c resupply.Chain) int {
			if c.Route == 15 {
				return resupply.WarehouseRoute
			}
			return resupply.NotApplicable
		}, "[{15 1 5 []}]"},
		{"none", func(resupply.Chain) int { return resupply.NotApplicable }, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]resupply.Chain(nil), all...)
			if got := fmt.Sprint(resupply.Choose(in, seq, tc.tier)); got != tc.want {
				t.Errorf("Choose = %s, want %s", got, tc.want)
			}
			if fmt.Sprint(in) != fmt.Sprint(all) {
				t.Errorf("Choose changed its input: %v", in)
			}
		})
	}
}

func TestTier(t *testing.T) {
	a := resupply.Applicability{
		TemplateRoutes:   map[int][]int{1: {15}, 2: {8}},
		TemplateCategory: map[int]int{1: 3, 2: 4, 3: 7},
		CategoryRoutes:   map[int][]int{1: {16}, 4: {17}},
		CategoryParent:   map[int]int{4: 2, 2: 1, 7: 8, 8: 7}, // 7 and 8 loop
		WarehouseRoutes:  map[int][]int{5: {18, 15}},
	}
	for _, c := range []struct {
		route, template, warehouse int
		want                       int
	}{
		{15, 1, 1, resupply.ProductRoute},   // the product's own route
		{15, 1, 5, resupply.ProductRoute},   // on the product and the warehouse: the product's
		{15, 2, 1, resupply.NotApplicable},  // another product's
		{17, 2, 1, resupply.ProductRoute},   // its category's
		{16, 2, 1, resupply.ProductRoute},   // a grandparent category's
		{16, 1, 1, resupply.NotApplicable},  // category 3 has no parent
		{18, 1, 5, resupply.WarehouseRoute}, // the receiving warehouse's
		{18, 1, 1, resupply.NotApplicable},  // another warehouse's
		{16, 3, 1, resupply.NotApplicable},  // a category loop ends
	} {
		if got := a.Tier(c.route, c.template, c.warehouse); got != c.want {
			t.Errorf("Tier(route %d, template %d, warehouse %d) = %v, want %v", c.route, c.template, c.warehouse, got, c.want)
		}
	}
}

func TestRuleOf(t *testing.T) {
	r := resupply.RuleOf(odoo.Record{"id": int64(32), "route_id": []any{int64(15), "SJ: Supply Product from YourCompany"}, "sequence": int64(20),
		"action": "pull", "location_src_id": []any{int64(13), "Inter-warehouse transit"}, "location_dest_id": []any{int64(302), "SJ/Stock"},
		"picking_type_id": []any{int64(31), "San Jose: Receipts"}, "procure_method": "make_to_order", "delay": int64(2),
		"warehouse_id": []any{int64(5), "San Jose"}, "propagate_warehouse_id": []any{int64(1), "YourCompany"}})
	want := resupply.Rule{ID: 32, Route: 15, Sequence: 20, Src: 13, Dest: 302, PickingType: 31, ProcureMethod: "make_to_order", Delay: 2, Warehouse: 5, Propagate: 1}
	if r != want {
		t.Errorf("RuleOf = %+v, want %+v", r, want)
	}
	if r.MoveWarehouse() != 1 {
		t.Errorf("moves of the receiving rule carry warehouse %d, want the supplier 1", r.MoveWarehouse())
	}
	if r.Propagate = 0; r.MoveWarehouse() != 5 {
		t.Errorf("without propagation the moves carry warehouse %d, want 5", r.MoveWarehouse())
	}
}
