package planimport

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/resupply"
)

// With Options.ResupplyPickings a distribution order between two
// warehouses that one of Odoo's routes links becomes what Odoo creates
// when it procures along that route: one picking per rule of the route's
// chain (the supplying warehouse's delivery to transit, the receiving
// warehouse's receipt from it), each of the rule's operation type and
// locations, in one procurement group, with one move per product and
// picking; each move is the rule's (rule_id, procure_method, warehouse),
// and consecutive moves are chained (move_dest_ids / move_orig_ids) as
// Odoo chains a move to the one it was procured for. The route is the
// one the export wrote the item distribution from: among those that
// apply to the product (on it or its category before those on the
// receiving warehouse), the lowest sequence.
//
// DOs of one route and pair of warehouses share their pickings, as the
// addon's DOs of one pair share a transfer; quantities of a product add
// up, the earliest date wins. The group is named after the first picking
// (the delivery), as Odoo names groups after their source document.
// Dates: the first picking at the DO's start (now without one), each
// later one at its end less the delays of the rules from that one on, as
// Odoo schedules a move its rule's delay before the date it is needed,
// and never before the start. Everything is journaled like the addon's
// records, so a repost or a resume creates nothing twice.

// shipment is the DOs of one route between two warehouses.
type shipment struct {
	key    string
	chain  resupply.Chain
	origin string
	moves  []*routedMove // one per product, in the order of the DOs
	byProd map[int]*routedMove
	// per rule of the chain: the picking, its name, its date
	pickings []int
	names    []string
	group    int
}

// routedMove is one product of a shipment: a move per rule of the chain.
type routedMove struct {
	first        *record
	n            int // the DO's position among the plan's DOs, for the move name
	product, uom int
	qty          float64
	dates        []time.Time // per rule
	ids          []int       // per rule, once created
}

// resupplyPickings writes the DOs whose warehouses a route links and
// returns which it wrote; the others are left to the addon's transfers.
func (r *run) resupplyPickings(ctx context.Context, dos []*record) (map[*record]bool, error) {
	ships, routed, err := r.planShipments(ctx, dos)
	if err != nil || len(ships) == 0 {
		return nil, err
	}
	if err := r.createPickings(ctx, ships); err != nil {
		return nil, err
	}
	if err := r.createGroups(ctx, ships); err != nil {
		return nil, err
	}
	if err := r.createRoutedMoves(ctx, ships); err != nil {
		return nil, err
	}
	return routed, nil
}

// planShipments reads the warehouses, the pull rules with their
// locations, the routes and what they apply to, and groups the DOs that
// have a route into shipments.
func (r *run) planShipments(ctx context.Context, dos []*record) ([]*shipment, map[*record]bool, error) {
	whs, err := r.s.SearchRead(ctx, "stock.warehouse", odoo.Domain{}, odoo.Query{Fields: []string{"code"}})
	if err != nil {
		return nil, nil, fmt.Errorf("read warehouses: %w", err)
	}
	byCode := map[string]int{}
	for _, w := range whs {
		if _, ok := byCode[w.String("code")]; !ok { // the first, as the addon's search limit 1
			byCode[w.String("code")] = w.ID()
		}
	}
	recs, err := r.s.SearchRead(ctx, "stock.rule", resupply.RuleDomain(), odoo.Query{Fields: resupply.RuleFields})
	if err != nil {
		return nil, nil, fmt.Errorf("read stock rules: %w", err)
	}
	rules := make([]resupply.Rule, len(recs))
	locSet := map[int]bool{}
	for i, rec := range recs {
		rules[i] = resupply.RuleOf(rec)
		locSet[rules[i].Src], locSet[rules[i].Dest] = true, true
	}
	delete(locSet, 0)
	locWarehouse := map[int]int{}
	if len(locSet) > 0 {
		locs, err := r.s.Read(ctx, "stock.location", intKeys(locSet), odoo.Query{Fields: []string{"usage", "warehouse_id"}})
		if err != nil {
			return nil, nil, fmt.Errorf("read locations of the stock rules: %w", err)
		}
		for _, l := range locs {
			if l.String("usage") == "internal" {
				locWarehouse[l.ID()] = l.M2OID("warehouse_id")
			}
		}
	}
	pairs := map[[2]int]bool{}
	for _, rec := range dos {
		pairs[[2]int{byCode[rec.Attr("origin")], byCode[rec.Attr("destination")]}] = true
	}
	var chains []resupply.Chain
	for _, c := range resupply.Chains(rules, func(l int) int { return locWarehouse[l] }) {
		if pairs[[2]int{c.From, c.To}] {
			chains = append(chains, c)
		}
	}
	if len(chains) == 0 {
		return nil, nil, nil
	}
	a, sequence, err := r.applicability(ctx, chains, dos)
	if err != nil {
		return nil, nil, err
	}
	var ships []*shipment
	byKey := map[string]*shipment{}
	routed := map[*record]bool{}
	for n, rec := range dos {
		from, to := byCode[rec.Attr("origin")], byCode[rec.Attr("destination")]
		tmpl := a.productTemplate[rec.Product]
		choice := resupply.Choose(chains, sequence, func(c resupply.Chain) int {
			if c.From != from || c.To != to {
				return resupply.NotApplicable
			}
			return a.Tier(c.Route, tmpl, to)
		})
		if len(choice) == 0 {
			continue
		}
		chain := choice[0]
		routed[rec] = true
		key := fmt.Sprintf("%d:%d>%d", chain.Route, from, to)
		sh := byKey[key]
		if sh == nil {
			sh = &shipment{key: key, chain: chain, origin: rec.Origin, byProd: map[int]*routedMove{}}
			byKey[key] = sh
			ships = append(ships, sh)
		}
		dates := stepDates(r.doStart(rec), rec.End, rec.HasEnd, chain.Rules)
		if m := sh.byProd[rec.Product]; m != nil {
			m.qty += rec.Qty
			for k, d := range dates {
				if d.Before(m.dates[k]) {
					m.dates[k] = d
				}
			}
			continue
		}
		m := &routedMove{first: rec, n: n + 1, product: rec.Product, uom: rec.UoM, qty: rec.Qty, dates: dates}
		sh.byProd[rec.Product] = m
		sh.moves = append(sh.moves, m)
	}
	return ships, routed, nil
}

// routeFacts is what decides which route applies to a DO's product.
type routeFacts struct {
	resupply.Applicability
	productTemplate map[int]int
}

// applicability reads the routes of the chains (sequence, and what they
// are set on), the category tree and the DOs' products.
func (r *run) applicability(ctx context.Context, chains []resupply.Chain, dos []*record) (routeFacts, map[int]int, error) {
	a := routeFacts{Applicability: resupply.Applicability{TemplateRoutes: map[int][]int{}, TemplateCategory: map[int]int{}, CategoryRoutes: map[int][]int{},
		CategoryParent: map[int]int{}, WarehouseRoutes: map[int][]int{}}, productTemplate: map[int]int{}}
	routeIDs := resupply.Routes(chains)
	ids := make([]any, len(routeIDs))
	for i, id := range routeIDs {
		ids[i] = id
	}
	routes, err := r.s.SearchRead(ctx, "stock.route", odoo.Domain{odoo.Term("id", "in", ids)},
		odoo.Query{Fields: []string{"sequence", "product_ids", "categ_ids", "warehouse_ids"}})
	if err != nil {
		return a, nil, fmt.Errorf("read resupply routes: %w", err)
	}
	sequence := map[int]int{}
	for _, rt := range routes {
		sequence[rt.ID()] = rt.Int("sequence")
		for field, into := range map[string]map[int][]int{"product_ids": a.TemplateRoutes, "categ_ids": a.CategoryRoutes, "warehouse_ids": a.WarehouseRoutes} {
			for _, id := range rt.IDs(field) {
				into[id] = append(into[id], rt.ID())
			}
		}
	}
	cats, err := r.s.SearchRead(ctx, "product.category", odoo.Domain{}, odoo.Query{Fields: []string{"parent_id"}})
	if err != nil {
		return a, nil, fmt.Errorf("read product categories: %w", err)
	}
	for _, c := range cats {
		a.CategoryParent[c.ID()] = c.M2OID("parent_id")
	}
	prodSet := map[int]bool{}
	for _, rec := range dos {
		prodSet[rec.Product] = true
	}
	prods, err := r.s.Read(ctx, "product.product", intKeys(prodSet), odoo.Query{Fields: []string{"product_tmpl_id", "categ_id"}})
	if err != nil {
		return a, nil, fmt.Errorf("read products of distribution orders: %w", err)
	}
	for _, p := range prods {
		t := p.M2OID("product_tmpl_id")
		a.productTemplate[p.ID()] = t
		a.TemplateCategory[t] = p.M2OID("categ_id")
	}
	return a, sequence, nil
}

// stepDates schedules the moves of a chain (see the comment at the top).
func stepDates(start, end time.Time, hasEnd bool, rules []resupply.Rule) []time.Time {
	out := make([]time.Time, len(rules))
	out[0] = start
	for k := 1; k < len(rules); k++ {
		if !hasEnd {
			out[k] = out[k-1].AddDate(0, 0, rules[k-1].Delay)
			continue
		}
		d := end
		for _, ru := range rules[k:] {
			d = d.AddDate(0, 0, -ru.Delay)
		}
		out[k] = d
		if d.Before(start) {
			out[k] = start
		}
	}
	return out
}

// doStart is the date of a DO's first picking: its start, or now.
func (r *run) doStart(rec *record) time.Time {
	if rec.HasStart {
		return rec.Start
	}
	return r.im.now()
}

// createPickings creates a shipment's pickings, one per rule, and reads
// their names.
func (r *run) createPickings(ctx context.Context, ships []*shipment) error {
	var keys []string
	var vals []map[string]any
	type slot struct {
		sh *shipment
		k  int
	}
	var pending []slot
	for _, sh := range ships {
		sh.pickings = make([]int, len(sh.chain.Rules))
		sh.names = make([]string, len(sh.chain.Rules))
		for k, ru := range sh.chain.Rules {
			key := "dopicking:" + sh.key + ":" + strconv.Itoa(k)
			if ids, ok := r.done(key); ok {
				sh.pickings[k] = ids[0]
				continue
			}
			date := sh.moves[0].dates[k]
			for _, m := range sh.moves[1:] {
				if m.dates[k].Before(date) {
					date = m.dates[k]
				}
			}
			keys = append(keys, key)
			pending = append(pending, slot{sh, k})
			vals = append(vals, map[string]any{"picking_type_id": ru.PickingType, "location_id": ru.Src, "location_dest_id": ru.Dest,
				"scheduled_date": date.Format(odooTime), "move_type": "direct", "origin": sh.origin})
		}
	}
	ids, err := r.createAll(ctx, createSpec{model: "stock.picking", marked: true}, keys, vals)
	if err != nil {
		return err
	}
	for i, s := range pending {
		s.sh.pickings[s.k] = ids[i]
	}
	var all []int
	for _, sh := range ships {
		all = append(all, sh.pickings...)
	}
	names, err := r.pickingNames(ctx, all)
	if err != nil {
		return err
	}
	for _, sh := range ships {
		for k, id := range sh.pickings {
			sh.names[k] = names[id]
		}
	}
	return nil
}

// createGroups gives each shipment its procurement group, named after its
// first picking. A group has no origin to carry the run's marker
// (resume.go), so on a resume a group not journaled is first looked for
// by that name: the earlier attempt may have created it and lost the
// reply.
func (r *run) createGroups(ctx context.Context, ships []*shipment) error {
	var pending []*shipment
	var names []any
	for _, sh := range ships {
		if ids, ok := r.done("dogroup:" + sh.key); ok {
			sh.group = ids[0]
			continue
		}
		pending = append(pending, sh)
		names = append(names, sh.names[0])
	}
	if len(pending) == 0 {
		return nil
	}
	if !r.resume {
		return r.newGroups(ctx, pending)
	}
	found, err := r.s.SearchRead(ctx, "procurement.group", odoo.Domain{odoo.Term("name", "in", names)}, odoo.Query{Fields: []string{"name"}, Order: "id"})
	if err != nil {
		return fmt.Errorf("find procurement groups: %w", err)
	}
	byName := map[string]int{}
	for _, g := range found {
		if _, ok := byName[g.String("name")]; !ok {
			byName[g.String("name")] = g.ID()
		}
	}
	var foundKeys []string
	var create []*shipment
	var foundIDs [][]int
	for _, sh := range pending {
		if id, ok := byName[sh.names[0]]; ok {
			sh.group = id
			foundKeys, foundIDs = append(foundKeys, "dogroup:"+sh.key), append(foundIDs, []int{id})
			continue
		}
		create = append(create, sh)
	}
	if len(foundKeys) > 0 {
		r.im.logger().Warn("resumed plan: procurement groups of an earlier attempt found in Odoo", "groups", len(foundKeys))
		if err := r.mark(foundKeys, foundIDs); err != nil {
			return err
		}
	}
	return r.newGroups(ctx, create)
}

// newGroups creates the groups of shipments, journaled.
func (r *run) newGroups(ctx context.Context, ships []*shipment) error {
	keys := make([]string, len(ships))
	vals := make([]map[string]any, len(ships))
	for i, sh := range ships {
		keys[i] = "dogroup:" + sh.key
		vals[i] = map[string]any{"name": sh.names[0], "move_type": "direct"}
	}
	ids, err := r.createAll(ctx, createSpec{model: "procurement.group"}, keys, vals)
	if err != nil {
		return err
	}
	for i, sh := range ships {
		sh.group = ids[i]
	}
	return nil
}

// createRoutedMoves creates the moves rule by rule from the last (the
// receipt) back to the first, so that each move is created chained to
// the move it supplies, as Odoo creates them.
func (r *run) createRoutedMoves(ctx context.Context, ships []*shipment) error {
	steps := 0
	for _, sh := range ships {
		steps = max(steps, len(sh.chain.Rules))
		for _, m := range sh.moves {
			m.ids = make([]int, len(sh.chain.Rules))
		}
	}
	for back := 1; back <= steps; back++ {
		var keys []string
		var vals []map[string]any
		var pending []*routedMove
		var at []int
		for _, sh := range ships {
			k := len(sh.chain.Rules) - back
			if k < 0 {
				continue
			}
			ru := sh.chain.Rules[k]
			for _, m := range sh.moves {
				key := "domove:" + strconv.Itoa(k) + ":" + strconv.Itoa(m.first.Index)
				if ids, ok := r.done(key); ok {
					m.ids[k] = ids[0]
					continue
				}
				v := map[string]any{"name": fmt.Sprintf("%s %d", sh.names[k], m.n), "date": m.dates[k].Format(odooTime),
					"product_id": m.product, "product_uom_qty": m.qty, "product_uom": m.uom,
					"location_id": ru.Src, "location_dest_id": ru.Dest, "picking_id": sh.pickings[k], "picking_type_id": ru.PickingType,
					"group_id": sh.group, "rule_id": ru.ID, "procure_method": moveProcureMethod(ru), "warehouse_id": ru.MoveWarehouse(),
					"origin": "frePPLe"}
				if k+1 < len(sh.chain.Rules) {
					v["move_dest_ids"] = []any{[]any{4, m.ids[k+1]}}
				}
				keys, vals = append(keys, key), append(vals, v)
				pending, at = append(pending, m), append(at, k)
			}
		}
		ids, err := r.createAll(ctx, createSpec{model: "stock.move", parent: "picking_id"}, keys, vals)
		if err != nil {
			return err
		}
		for i, m := range pending {
			m.ids[at[i]] = ids[i]
		}
	}
	return nil
}

// moveProcureMethod is how Odoo's move of a rule is supplied: a move has
// no "take from stock, else order": Odoo decides when it creates the move
// (here: from stock, as frePPLe planned the stock).
func moveProcureMethod(ru resupply.Rule) string {
	if ru.ProcureMethod == "make_to_order" {
		return "make_to_order"
	}
	return "make_to_stock"
}

// intKeys lists a set's ids in order.
func intKeys(set map[int]bool) []int {
	return slices.Sorted(maps.Keys(set))
}
