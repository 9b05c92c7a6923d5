package export

import (
	"fmt"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// moStates are the manufacturing orders the addon exports (§3.4.16.2).
var moStates = []any{"progress", "confirmed", "to_close"}

// moData are the bulk reads behind the manufacturing-order section.
type moData struct {
	workorders map[int]odoo.Record
	rawMoves   map[int]odoo.Record
	timeLogs   map[int]odoo.Record
	steps      map[int]odoo.Record // mrp.routing.workcenter by id
	secondary  map[int]odoo.Record // mrp.secondary.workcenter by id
	woSecond   map[int]odoo.Record // mrp.workorder.secondary.workcenter by id
	batches    map[int]string      // MO id → batch
}

// writeManufacturingOrders exports open MOs with their work orders
// (§3.4.16). GET never writes to Odoo: subcontracting MOs take their PO
// reference in the document only (D5 fixed). The addon's reservation
// pre-read only ever decrements a dictionary it never reads, so it is
// skipped (and D2/D8 cannot happen).
func (r *run) loadManufacturingOrders() (func() error, error) {
	mos, err := r.read("mrp.production", odoo.Domain{odoo.Term("state", "in", moStates)}, odoo.Query{Fields: []string{"name",
		"location_dest_id", "picking_type_id", "product_id", "date_start", "qty_producing", "product_qty", "product_uom_id",
		"procurement_group_id", "workorder_ids", "move_raw_ids"}})
	if err != nil {
		return nil, err
	}
	d, err := r.readMOData(mos)
	if err != nil {
		return nil, err
	}
	return func() error { return r.writeManufacturingOrders(mos, d) }, nil
}

func (r *run) writeManufacturingOrders(mos []odoo.Record, d *moData) error {
	r.w.S("<!-- manufacturing orders in progress -->\n<operationplans>\n")
	n := 0
	for _, mo := range mos {
		if r.writeMO(mo, d) {
			n++
		}
	}
	r.w.S("</operationplans>\n")
	r.counts["manufacturingorders"] = n
	return nil
}

// readMOData reads what the MOs point to, independent reads at once: work
// orders, raw moves and the batch chain, then the work orders' time logs,
// routing steps (and their secondary workcenters) and secondary workcenters.
func (r *run) readMOData(mos []odoo.Record) (*moData, error) {
	d := &moData{workorders: map[int]odoo.Record{}, rawMoves: map[int]odoo.Record{}, timeLogs: map[int]odoo.Record{},
		steps: map[int]odoo.Record{}, secondary: map[int]odoo.Record{}, woSecond: map[int]odoo.Record{}}
	var woIDs, rawIDs []int
	for _, mo := range mos {
		if r.init.manageWorkOrders {
			woIDs = append(woIDs, mo.IDs("workorder_ids")...)
		}
		rawIDs = append(rawIDs, mo.IDs("move_raw_ids")...)
	}
	index := func(dst map[int]odoo.Record, recs []odoo.Record) {
		for _, rec := range recs {
			dst[rec.ID()] = rec
		}
	}
	// readInto reads by id into dst.
	readInto := func(dst map[int]odoo.Record, model string, ids []int, fields []string) error {
		recs, err := r.readIDs(model, ids, fields)
		index(dst, recs)
		return err
	}
	err := parallel(
		func() error {
			wofields := r.onlyExisting("mrp.workorder", "display_name", "duration_expected", "duration_unit", "is_user_working", "time_ids",
				"operation_id", "workcenter_id", "secondary_workcenters", "state", "date_finished", "date_start")
			if err := readInto(d.workorders, "mrp.workorder", woIDs, wofields); err != nil {
				return err
			}
			var logIDs, stepIDs, woSecIDs []int
			for _, wo := range d.workorders {
				if wo.Bool("is_user_working") {
					logIDs = append(logIDs, wo.IDs("time_ids")...)
				}
				if s := wo.M2OID("operation_id"); s != 0 {
					stepIDs = append(stepIDs, s)
				}
				woSecIDs = append(woSecIDs, wo.IDs("secondary_workcenters")...)
			}
			return parallel(
				func() error {
					return readInto(d.timeLogs, "mrp.workcenter.productivity", logIDs, []string{"date_start", "date_end"})
				},
				func() error {
					err := readInto(d.steps, "mrp.routing.workcenter", dedupe(stepIDs), r.onlyExisting("mrp.routing.workcenter", "workcenter_id", "secondary_workcenter", "time_cycle"))
					if err != nil {
						return err
					}
					var secIDs []int
					for _, st := range d.steps {
						secIDs = append(secIDs, st.IDs("secondary_workcenter")...)
					}
					if len(secIDs) == 0 {
						return nil
					}
					return readInto(d.secondary, "mrp.secondary.workcenter", dedupe(secIDs), r.onlyExisting("mrp.secondary.workcenter", "workcenter_id", "duration", "search_mode", "skill"))
				},
				func() error {
					if len(woSecIDs) == 0 {
						return nil
					}
					return readInto(d.woSecond, "mrp.workorder.secondary.workcenter", dedupe(woSecIDs), []string{"workcenter_id"})
				},
			)
		},
		func() error {
			return readInto(d.rawMoves, "stock.move", rawIDs, []string{"product_id", "product_qty", "quantity", "product_uom", "workorder_id", "operation_id"})
		},
		func() (err error) {
			d.batches, err = r.moBatches(mos)
			return err
		},
	)
	return d, err
}

func dedupe(ids []int) []int {
	seen := make(map[int]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// moBatches finds each MO's batch (§3.4.16.2 step 5): the first sale order
// reached through its procurement group's MOs' destination moves, else
// the first parent MO (_get_sources), else its own name.
func (r *run) moBatches(mos []odoo.Record) (map[int]string, error) {
	out := map[int]string{}
	var groups []int
	for _, mo := range mos {
		if g := mo.M2OID("procurement_group_id"); g != 0 {
			groups = append(groups, g)
		}
	}
	groupRecs, err := r.readIDs("procurement.group", dedupe(groups), []string{"mrp_production_ids", "stock_move_ids"})
	if err != nil {
		return nil, err
	}
	gmos := map[int][]int{}
	gmoves := map[int][]int{}
	var groupMOs, groupMoves []int
	for _, g := range groupRecs {
		gmos[g.ID()] = g.IDs("mrp_production_ids")
		gmoves[g.ID()] = g.IDs("stock_move_ids")
		groupMOs = append(groupMOs, g.IDs("mrp_production_ids")...)
		groupMoves = append(groupMoves, g.IDs("stock_move_ids")...)
	}
	var moRecs, moveRecs []odoo.Record
	if err := parallel(
		r.readIDsTo(&moRecs, "mrp.production", dedupe(groupMOs), []string{"move_dest_ids"}),
		r.readIDsTo(&moveRecs, "stock.move", dedupe(groupMoves), []string{"move_dest_ids"}),
	); err != nil {
		return nil, err
	}
	moDest := map[int][]int{}
	var dests []int
	for _, m := range moRecs {
		moDest[m.ID()] = m.IDs("move_dest_ids")
		dests = append(dests, m.IDs("move_dest_ids")...)
	}
	moveDest := map[int][]int{}
	for _, m := range moveRecs {
		moveDest[m.ID()] = m.IDs("move_dest_ids")
		dests = append(dests, m.IDs("move_dest_ids")...)
	}
	destGroup := map[int]int{}
	var destGroups []int
	if recs, err := r.readIDs("stock.move", dedupe(dests), []string{"group_id"}); err != nil {
		return nil, err
	} else {
		for _, m := range recs {
			if g := m.M2OID("group_id"); g != 0 {
				destGroup[m.ID()] = g
				destGroups = append(destGroups, g)
			}
		}
	}
	gsale := map[int]string{}
	gdestMOs := map[int][]int{}
	var parentMOs []int
	if recs, err := r.readIDs("procurement.group", dedupe(destGroups), []string{"sale_id", "mrp_production_ids"}); err != nil {
		return nil, err
	} else {
		for _, g := range recs {
			gsale[g.ID()] = g.M2OName("sale_id")
			gdestMOs[g.ID()] = g.IDs("mrp_production_ids")
			parentMOs = append(parentMOs, g.IDs("mrp_production_ids")...)
		}
	}
	moName := map[int]string{}
	if recs, err := r.readIDs("mrp.production", dedupe(parentMOs), []string{"name"}); err != nil {
		return nil, err
	} else {
		for _, m := range recs {
			moName[m.ID()] = m.String("name")
		}
	}
	for _, mo := range mos {
		g := mo.M2OID("procurement_group_id")
		var ds []int
		for _, m := range gmos[g] {
			ds = append(ds, moDest[m]...)
		}
		batch := ""
		for _, dm := range ds {
			if s := gsale[destGroup[dm]]; s != "" {
				batch = s
				break
			}
		}
		if batch == "" {
			for _, m := range gmoves[g] {
				ds = append(ds, moveDest[m]...)
			}
			for _, dm := range ds {
				for _, parent := range gdestMOs[destGroup[dm]] {
					if parent != mo.ID() && batch == "" {
						batch = moName[parent]
					}
				}
			}
		}
		if batch != "" {
			out[mo.ID()] = batch
		}
	}
	return out, nil
}

// writeMO writes one MO, its operation and its work orders; false when skipped.
func (r *run) writeMO(mo odoo.Record, d *moData) bool {
	name := mo.String("name")
	loc, ok := r.master.locationWarehouse[mo.M2OID("location_dest_id")]
	if !ok && mo.M2OID("picking_type_id") != 0 {
		loc = r.master.pickingTypes[mo.M2OID("picking_type_id")].Warehouse
		if ref, ok := r.orders.subcontractRefs[mo.ID()]; ok {
			name = ref // in the document only: a GET never renames the MO in Odoo
		}
	}
	it := r.master.items[mo.M2OID("product_id")]
	if it == nil || loc == "" {
		return false
	}
	start, ok := mo.Time("date_start")
	if !ok {
		r.warnOnce("mrp.production", mo.ID(), "manufacturing order without start date; skipped")
		return false
	}
	qty := mo.Float("qty_producing")
	if qty == 0 {
		qty = mo.Float("product_qty")
	}
	qty = r.convertQty(qty, mo.M2OID("product_uom_id"), it.TmplID)
	if qty == 0 {
		return false
	}
	batch := d.batches[mo.ID()]
	if batch == "" {
		batch = name
	}
	r.w.S(`<operationplan type="MO" reference=`, xmlschema.QuoteAttr(name), " batch=", xmlschema.QuoteAttr(batch),
		` start="`, r.fmtTime(start), `" quantity="`, xmlschema.PyFloat(qty), `" status="approved">`, "\n")
	var wos []odoo.Record
	for _, id := range mo.IDs("workorder_ids") {
		if wo, ok := d.workorders[id]; ok {
			wos = append(wos, wo)
		}
	}
	// consumed is −f ÷ MO quantity of a raw move (§3.4.16.3; D6 reproduced:
	// product_qty, already in the product unit, is converted from the move unit).
	consumed := func(m odoo.Record, ci *item) float64 {
		f := m.Float("product_qty")
		if r.init.company.RespectReservations {
			f -= m.Float("quantity")
		}
		f = r.convertQty(max(0, f), m.M2OID("product_uom"), ci.TmplID)
		return -f / qty
	}
	if len(wos) == 0 {
		r.w.S("<operation name=", xmlschema.QuoteAttr(name), ` xsi:type="operation_fixed_time" priority="0"><location name=`,
			xmlschema.QuoteAttr(loc), "/><item name=", xmlschema.QuoteAttr(it.Name), "/><flows>")
		var order []string
		sums := map[string]float64{}
		for _, id := range mo.IDs("move_raw_ids") {
			m, ok := d.rawMoves[id]
			if !ok {
				continue
			}
			ci := r.master.items[m.M2OID("product_id")]
			if ci == nil {
				continue
			}
			c := consumed(m, ci)
			if c == 0 {
				continue // fully reserved: nothing left to consume (golden sf_mode1)
			}
			if _, seen := sums[ci.Name]; !seen {
				order = append(order, ci.Name)
			}
			sums[ci.Name] += c
		}
		for _, n := range order {
			r.w.S(`<flow xsi:type="flow_start" quantity="`, xmlschema.PyFloat(sums[n]), `"><item name=`, xmlschema.QuoteAttr(n), "/></flow>\n")
		}
		r.w.S(`<flow xsi:type="flow_end" quantity="1"><item name=`, xmlschema.QuoteAttr(it.Name), "/></flow>\n",
			"</flows></operation></operationplan>")
		return true
	}

	r.w.S("<operation name=", xmlschema.QuoteAttr(name), ` xsi:type="operation_routing" priority="0"><item name=`,
		xmlschema.QuoteAttr(it.Name), "/><location name=", xmlschema.QuoteAttr(loc), "/><suboperations>")
	subName := func(wo odoo.Record) string {
		return truncRunes(wo.String("display_name"), 300) + fmt.Sprintf(" - %d", wo.ID())
	}
	for i, wo := range wos {
		remaining := wo.Float("duration_expected") - wo.Float("duration_unit") // D7 reproduced
		if wo.Bool("is_user_working") {
			for _, lid := range wo.IDs("time_ids") {
				lg, ok := d.timeLogs[lid]
				if !ok {
					continue
				}
				if st, ok := lg.Time("date_start"); ok && lg.IsFalse("date_end") {
					remaining -= r.now.Sub(st).Minutes()
				}
			}
		}
		remaining = max(remaining, 1)
		r.w.S("<suboperation><operation name=", xmlschema.QuoteAttr(subName(wo)), ` priority="`, xmlschema.PyInt((i+1)*10),
			`" type="operation_fixed_time" duration="`, xmlschema.TimedeltaMinutes(remaining), `"><location name=`, xmlschema.QuoteAttr(loc), "/><flows>")
		for _, id := range mo.IDs("move_raw_ids") {
			m, ok := d.rawMoves[id]
			if !ok {
				continue
			}
			ci := r.master.items[m.M2OID("product_id")]
			if ci == nil {
				continue
			}
			own := m.M2OID("workorder_id") != 0 && m.M2OID("operation_id") != 0
			if (own && m.M2OID("workorder_id") != wo.ID()) || (!own && i != 0) {
				continue
			}
			c := consumed(m, ci)
			if c == 0 {
				continue // fully reserved: nothing left to consume (golden sf_mode1)
			}
			r.w.S(`<flow quantity="`, xmlschema.PyFloat(c), `"><item name=`, xmlschema.QuoteAttr(ci.Name), "/></flow>\n")
		}
		r.w.S("</flows>")
		wc := wo.M2OID("workcenter_id")
		step, hasStep := d.steps[wo.M2OID("operation_id")]
		opWC := 0
		if hasStep {
			opWC = step.M2OID("workcenter_id")
		}
		if res, ok := r.master.resources[opWC]; hasStep && wc != 0 && ok && r.master.resourceOwner[wc] == opWC {
			r.w.S("<loads><load><resource name=", xmlschema.QuoteAttr(res), "/></load></loads>")
		} else if res, ok := r.master.resources[wc]; ok {
			r.w.S("<loads><load><resource name=", xmlschema.QuoteAttr(res), "/></load></loads>")
		}
		if hasStep {
			r.w.S(r.moSecondaryLoads(wo, step, d))
		}
		r.w.S("</operation></suboperation>")
	}
	r.w.S("</suboperations></operation></operationplan>")

	for i := len(wos) - 1; i >= 0; i-- {
		wo := wos[i]
		r.w.S(`<operationplan type="MO" reference=`, xmlschema.QuoteAttr(wo.String("display_name")))
		if end, ok := wo.Time("date_finished"); ok {
			r.w.S(` end="`, r.fmtTime(end), `"`)
		} else {
			st := r.now
			if !wo.Bool("is_user_working") {
				ws, ok := wo.Time("date_start")
				if !ok {
					ws = start
				}
				if ws.After(st) {
					st = ws
				}
			}
			r.w.S(` start="`, r.fmtTime(st), `"`)
		}
		r.w.S(` quantity="`, xmlschema.PyFloat(qty), `" status="`, woStatus(wo.String("state")), `"><operation name=`,
			xmlschema.QuoteAttr(subName(wo)), "/><owner reference=", xmlschema.QuoteAttr(name), "/>")
		wc := wo.M2OID("workcenter_id")
		if res, ok := r.master.resources[wc]; ok && wo.M2OID("operation_id") != 0 {
			r.w.S("<loadplans><loadplan><resource name=", xmlschema.QuoteAttr(res), "/></loadplan></loadplans>")
		}
		if secs := wo.IDs("secondary_workcenters"); len(secs) > 0 {
			r.w.S("<loadplans>")
			for _, sid := range secs {
				sw, ok := d.woSecond[sid]
				if !ok {
					continue
				}
				if res, ok := r.master.resources[sw.M2OID("workcenter_id")]; ok && sw.M2OID("workcenter_id") != wc {
					r.w.S("<loadplan><resource name=", xmlschema.QuoteAttr(res), "/></loadplan>")
				}
			}
			r.w.S("</loadplans>")
		}
		r.w.S("</operationplan>\n")
	}
	return true
}

// moSecondaryLoads writes the secondary workcenter loads of a work order
// inside their own <loads> element: the addon writes them outside any
// <loads> (D4) and crashes on a misspelt attribute (D3); both are fixed.
func (r *run) moSecondaryLoads(wo, step odoo.Record, d *moData) string {
	var out string
	primary := wo.M2OID("workcenter_id")
	for _, sid := range wo.IDs("secondary_workcenters") {
		sw, ok := d.woSecond[sid]
		if !ok {
			continue
		}
		swc := sw.M2OID("workcenter_id")
		if _, ok := r.master.resources[swc]; !ok || swc == primary {
			continue
		}
		for _, rid := range step.IDs("secondary_workcenter") {
			rs, ok := d.secondary[rid]
			if !ok || rs.M2OID("workcenter_id") != r.master.resourceOwner[swc] {
				continue
			}
			res, ok := r.master.resources[rs.M2OID("workcenter_id")]
			if !ok {
				continue
			}
			q := 1.0
			if dur, tc := rs.Float("duration"), step.Float("time_cycle"); dur != 0 && tc != 0 {
				q = dur / tc
			}
			mode := rs.String("search_mode")
			if mode == "" {
				mode = "PRIORITY"
			}
			out += `<load quantity="` + xmlschema.Fixed6(q) + `" search=` + xmlschema.QuoteAttr(mode) + "><resource name=" + xmlschema.QuoteAttr(res) + "/>"
			if sk := rs.M2OName("skill"); sk != "" {
				out += "<skill name=" + xmlschema.QuoteAttr(sk) + "/>"
			}
			out += "</load>"
			break // the first routing line of the pool only, as the addon
		}
	}
	if out == "" {
		return ""
	}
	return "<loads>" + out + "</loads>"
}

func woStatus(state string) string {
	switch state {
	case "progress":
		return "confirmed"
	case "done", "to_close", "cancel":
		return "completed"
	}
	return "approved"
}

var _ = time.Now
