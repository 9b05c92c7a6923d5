// Package resupply finds the ways Odoo's routes move products from one
// warehouse to another. Odoo 17 models a warehouse "resupplied from"
// another (stock.warehouse resupply_wh_ids) as a route with two pull
// rules: one from the supplying warehouse's stock (or output) location to
// a transit location, with the supplier's delivery type, and one from
// transit to the receiving warehouse's stock (or input) location, with
// the receiver's receipt type; each rule has a delay in days. A chain is
// such a sequence of a route's pull rules, from a location of one
// warehouse to a location of another.
//
// The export writes chains as frePPLe item distributions; the plan import
// turns a distribution order along a chain into the pickings Odoo itself
// would create for it. The package reads nothing: callers read the rules
// (RuleFields, RuleDomain) and say which warehouse a location belongs to.
package resupply

import (
	"cmp"
	"slices"

	"github.com/plangate/plangate/mappers/odoo"
)

// RuleFields are the stock.rule fields a Rule is made of.
var RuleFields = []string{"route_id", "sequence", "action", "location_src_id", "location_dest_id", "picking_type_id",
	"procure_method", "delay", "warehouse_id", "propagate_warehouse_id"}

// RuleDomain selects the rules that move goods when a location needs them
// (pull rules); push, buy and manufacture rules move nothing between
// warehouses.
func RuleDomain() odoo.Domain {
	return odoo.Domain{odoo.Term("action", "in", []any{"pull", "pull_push"})}
}

// Rule is one stock.rule.
type Rule struct {
	ID, Route, Sequence int
	Src, Dest           int // stock.location ids
	PickingType         int
	ProcureMethod       string // make_to_stock, make_to_order, mts_else_mto
	Delay               int    // days
	// Warehouse is the rule's warehouse; Propagate, when set, is the
	// warehouse the rule's moves carry instead (the receiving rule of a
	// resupply route names the supplying warehouse).
	Warehouse, Propagate int
}

// RuleOf reads a stock.rule record.
func RuleOf(rec odoo.Record) Rule {
	return Rule{ID: rec.ID(), Route: rec.M2OID("route_id"), Sequence: rec.Int("sequence"),
		Src: rec.M2OID("location_src_id"), Dest: rec.M2OID("location_dest_id"), PickingType: rec.M2OID("picking_type_id"),
		ProcureMethod: rec.String("procure_method"), Delay: rec.Int("delay"),
		Warehouse: rec.M2OID("warehouse_id"), Propagate: rec.M2OID("propagate_warehouse_id")}
}

// MoveWarehouse is the warehouse the moves of the rule belong to, as Odoo
// sets stock.move warehouse_id from a rule.
func (r Rule) MoveWarehouse() int {
	if r.Propagate != 0 {
		return r.Propagate
	}
	return r.Warehouse
}

// Chain is a route's way from a supplying warehouse to a receiving one.
type Chain struct {
	Route    int
	From, To int    // stock.warehouse ids
	Rules    []Rule // in the order the goods move: the supplier's rule first
}

// LeadDays is the time the chain takes: the sum of its rules' delays.
func (c Chain) LeadDays() int {
	n := 0
	for _, r := range c.Rules {
		n += r.Delay
	}
	return n
}

// Chains returns every chain between two different warehouses that the
// rules form, ordered by route and receiving rule. warehouseOf gives the
// warehouse of an internal location (0 for locations of no warehouse,
// such as transit).
//
// A chain ends with a rule whose destination belongs to a warehouse; its
// source is supplied by the route's rule that delivers there (the lowest
// sequence first, as Odoo picks rules), and so on back until a source
// belongs to a warehouse: the supplier. Rules of other routes are not
// followed, so a warehouse's own delivery steps before the route (pick,
// pack) are not part of the chain.
func Chains(rules []Rule, warehouseOf func(location int) int) []Chain {
	sorted := slices.Clone(rules)
	slices.SortFunc(sorted, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Sequence, b.Sequence), cmp.Compare(a.ID, b.ID))
	})
	// into[route][location] is the first rule of the route delivering there.
	into := map[[2]int]Rule{}
	for _, r := range sorted {
		k := [2]int{r.Route, r.Dest}
		if _, ok := into[k]; !ok {
			into[k] = r
		}
	}
	var out []Chain
	for _, last := range sorted {
		to := warehouseOf(last.Dest)
		if to == 0 || last.Route == 0 {
			continue
		}
		steps := []Rule{last}
		seen := map[int]bool{last.ID: true}
		from, cur := 0, last
		for {
			if w := warehouseOf(cur.Src); w != 0 {
				from = w
				break
			}
			prev, ok := into[[2]int{cur.Route, cur.Src}]
			if !ok || seen[prev.ID] || cur.Src == 0 {
				break // the route does not bring goods to this source
			}
			seen[prev.ID] = true
			steps = append(steps, prev)
			cur = prev
		}
		if from == 0 || from == to {
			continue
		}
		slices.Reverse(steps)
		out = append(out, Chain{Route: last.Route, From: from, To: to, Rules: steps})
	}
	return out
}

// Choose keeps, for each pair of warehouses, the chain of the preferred
// route among those that apply, and returns them most preferred first.
// tier says how a chain's route applies (Applicability.Tier; negative:
// not at all). Odoo looks for a rule in the product's routes before the
// warehouse's, and among routes of one tier prefers the lowest sequence
// (then the lowest id); sequence holds the routes that may be used
// (active ones): chains of other routes are dropped.
func Choose(chains []Chain, sequence map[int]int, tier func(Chain) int) []Chain {
	type ranked struct {
		Chain
		tier int
	}
	var ok []ranked
	for _, c := range chains {
		if _, active := sequence[c.Route]; active {
			if t := tier(c); t >= 0 {
				ok = append(ok, ranked{c, t})
			}
		}
	}
	slices.SortStableFunc(ok, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.tier, b.tier), cmp.Compare(sequence[a.Route], sequence[b.Route]), cmp.Compare(a.Route, b.Route))
	})
	seen := map[[2]int]bool{}
	var out []Chain
	for _, c := range ok {
		k := [2]int{c.From, c.To}
		if !seen[k] {
			seen[k] = true
			out = append(out, c.Chain)
		}
	}
	return out
}

// Applicability says which routes Odoo considers for a product needed in
// a warehouse: the routes of the product (its template), of its category
// and every parent category, and of the warehouse. The "selectable" flags
// of a route only limit where the user may pick it; Odoo's rule search
// does not look at them.
type Applicability struct {
	TemplateRoutes   map[int][]int // product.template id → route_ids
	TemplateCategory map[int]int   // product.template id → categ_id
	CategoryRoutes   map[int][]int // product.category id → route_ids
	CategoryParent   map[int]int   // product.category id → parent_id
	WarehouseRoutes  map[int][]int // stock.warehouse id → route_ids
}

// Tiers of Applicability.Tier, in Odoo's order of search.
const (
	ProductRoute   = 0  // on the product, its category or a parent category
	WarehouseRoute = 1  // only on the warehouse that needs the product
	NotApplicable  = -1 // neither
)

// Tier says how route applies to the template when warehouse needs it.
func (a Applicability) Tier(route, template, warehouse int) int {
	if slices.Contains(a.TemplateRoutes[template], route) {
		return ProductRoute
	}
	seen := map[int]bool{}
	for c := a.TemplateCategory[template]; c != 0 && !seen[c]; c = a.CategoryParent[c] {
		seen[c] = true
		if slices.Contains(a.CategoryRoutes[c], route) {
			return ProductRoute
		}
	}
	if slices.Contains(a.WarehouseRoutes[warehouse], route) {
		return WarehouseRoute
	}
	return NotApplicable
}

// Routes lists the routes of the chains, each once, in order.
func Routes(chains []Chain) []int {
	var out []int
	for _, c := range chains {
		if !slices.Contains(out, c.Route) {
			out = append(out, c.Route)
		}
	}
	return out
}
