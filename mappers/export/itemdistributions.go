package export

import (
	"slices"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/resupply"
	"github.com/plangate/plangate/xmlschema"
)

// loadItemDistributions reads, with the itemdistributions extension, what
// the section's <itemdistribution> elements need: one for every item and pair of warehouses that one of
// Odoo's routes moves the item between (the addon writes none): the
// route's chain of pull rules (package resupply) from one warehouse's
// location to another's, through transit. The route must apply to the
// product: set on it, on its category or a parent category, or on the
// receiving warehouse. Per item and pair the route Odoo prefers is used
// (on the product or its categories before the warehouse's, then lowest
// sequence, then id): the lead time is the sum of its rules'
// delays in days, the priority its sequence + 1, since frePPLe does not
// use a distribution of priority 0 and Odoo's resupply routes have
// sequence 0.
func (r *run) loadItemDistributions() (func() error, error) {
	none := func() error { return nil }
	if !r.hasModel("stock.rule") {
		r.warnOnce("stock.rule", 0, "stock.rule not readable: no item distributions")
		return none, nil
	}
	var recs, cats []odoo.Record
	err := parallel(
		r.readTo(&recs, "stock.rule", resupply.RuleDomain(), odoo.Query{Fields: r.onlyExisting("stock.rule", resupply.RuleFields...)}),
		r.readTo(&cats, "product.category", nil, odoo.Query{Fields: []string{"parent_id"}}),
	)
	if err != nil {
		return nil, err
	}
	// The warehouses of the rules' locations are the locations section's.
	if err := r.await("locations"); err != nil {
		return nil, err
	}
	m := &r.master
	codeWarehouse := make(map[string]int, len(m.warehouses))
	for id, w := range m.warehouses {
		codeWarehouse[w.Code] = id
	}
	rules := make([]resupply.Rule, len(recs))
	for i, rec := range recs {
		rules[i] = resupply.RuleOf(rec)
	}
	chains := resupply.Chains(rules, func(loc int) int {
		if code, ok := m.locationWarehouse[loc]; ok {
			return codeWarehouse[code]
		}
		return 0
	})
	if len(chains) == 0 {
		return none, nil
	}
	// The routes' links give every product, category and warehouse they
	// apply to in one read (the other side of route_ids).
	routes, err := r.read("stock.route", odoo.Domain{odoo.Term("id", "in", anyInts(resupply.Routes(chains)))},
		odoo.Query{Fields: []string{"sequence", "product_ids", "categ_ids", "warehouse_ids"}})
	if err != nil {
		return nil, err
	}
	if len(routes) == 0 {
		return none, nil // archived
	}
	return func() error { return r.writeItemDistributions(chains, routes, cats) }, nil
}

// writeItemDistributions writes the distributions of chains for the
// items written before (their templates and categories).
func (r *run) writeItemDistributions(chains []resupply.Chain, routes, cats []odoo.Record) error {
	m := &r.master
	a := resupply.Applicability{TemplateRoutes: map[int][]int{}, TemplateCategory: map[int]int{}, CategoryRoutes: map[int][]int{},
		CategoryParent: map[int]int{}, WarehouseRoutes: map[int][]int{}}
	sequence := make(map[int]int, len(routes))
	for _, rt := range routes {
		sequence[rt.ID()] = rt.Int("sequence")
		for field, into := range map[string]map[int][]int{"product_ids": a.TemplateRoutes, "categ_ids": a.CategoryRoutes, "warehouse_ids": a.WarehouseRoutes} {
			for _, id := range rt.IDs(field) {
				into[id] = append(into[id], rt.ID())
			}
		}
	}
	for _, c := range cats {
		a.CategoryParent[c.ID()] = c.M2OID("parent_id")
	}
	for id, tp := range m.templates {
		a.TemplateCategory[id] = tp.Category
	}

	products := make([]int, 0, len(m.items))
	for id := range m.items {
		products = append(products, id)
	}
	slices.Sort(products)
	n := 0
	for _, id := range products {
		it := m.items[id]
		for _, c := range resupply.Choose(chains, sequence, func(c resupply.Chain) int { return a.Tier(c.Route, it.TmplID, c.To) }) {
			from, okFrom := m.warehouses[c.From]
			to, okTo := m.warehouses[c.To]
			if !okFrom || !okTo {
				continue
			}
			if n == 0 {
				r.w.S("<!-- item distributions -->\n<itemdistributions>\n")
			}
			r.w.S(`<itemdistribution leadtime="`, xmlschema.Days(float64(c.LeadDays())), `" priority="`, xmlschema.PyInt(max(1, sequence[c.Route]+1)), `">`,
				"<item name=", xmlschema.QuoteAttr(it.Name), "/><origin name=", xmlschema.QuoteAttr(from.Code),
				"/><destination name=", xmlschema.QuoteAttr(to.Code), "/></itemdistribution>\n")
			n++
		}
	}
	if n > 0 {
		r.w.S("</itemdistributions>\n")
	}
	r.counts["itemdistributions"] = n
	return nil
}

func anyInts(ids []int) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
