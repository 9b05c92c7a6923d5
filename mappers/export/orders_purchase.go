package export

import (
	"fmt"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// poLineDomain selects lines of confirmed, not fully received purchase
// orders (§3.4.15.1).
var poLineDomain = odoo.Domain{
	"|", odoo.Term("order_id.state", "not in", []any{"draft", "sent", "bid", "to approve", "confirmed", "cancel"}), odoo.Term("order_id.state", "=", false),
	"|", odoo.Term("order_id.receipt_status", "!=", "full"), odoo.Term("order_id.receipt_status", "=", false),
}

// poReads are the records behind the purchase order section.
type poReads struct {
	lines          []odoo.Record
	orders, moves  map[int]odoo.Record
	origProduction map[int]int // origin move → the subcontracting MO producing it
	batches        map[int]string
}

// loadPurchaseOrders reads open purchase order lines, then their orders
// and moves at once (§3.4.15). The addon's ORM traversals become bulk
// reads; make-to-order batches need the items, so they wait for them.
func (r *run) loadPurchaseOrders() (func() error, error) {
	in := poReads{orders: map[int]odoo.Record{}, moves: map[int]odoo.Record{}, origProduction: map[int]int{}}
	lines, err := r.read("purchase.order.line", poLineDomain, odoo.Query{Fields: []string{"move_ids", "product_id", "state", "order_id",
		"product_qty", "qty_received", "date_planned", "product_uom", "move_dest_ids"}})
	if err != nil {
		return nil, err
	}
	in.lines = lines
	var orderIDs, moveIDs []int
	seenOrder := map[int]bool{}
	for _, l := range lines {
		if id := l.M2OID("order_id"); !seenOrder[id] {
			seenOrder[id] = true
			orderIDs = append(orderIDs, id)
		}
		moveIDs = append(moveIDs, l.IDs("move_ids")...)
	}
	err = parallel(
		func() error {
			recs, err := r.readIDs("purchase.order", orderIDs, []string{"name", "date_order", "partner_id"})
			for _, po := range recs {
				in.orders[po.ID()] = po
			}
			return err
		},
		func() error { return r.readPOMoves(moveIDs, &in) },
	)
	if err != nil {
		return nil, err
	}
	if err := r.await("items"); err != nil {
		return nil, err
	}
	if in.batches, err = r.poBatches(lines, in.moves); err != nil {
		return nil, err
	}
	return func() error { return r.writePurchaseOrders(in) }, nil
}

// readPOMoves reads the lines' moves and, for subcontracting moves, the
// MOs of their origin moves.
func (r *run) readPOMoves(moveIDs []int, in *poReads) error {
	mfields := []string{"product_id", "purchase_line_id", "location_dest_id", "state", "picking_id", "date", "product_qty", "move_orig_ids", "move_dest_ids"}
	if r.init.hasSubcontracting && r.hasField("stock.move", "is_subcontract") {
		mfields = append(mfields, "is_subcontract")
	}
	moveRecs, err := r.readIDs("stock.move", moveIDs, mfields)
	if err != nil {
		return err
	}
	var origIDs []int
	for _, m := range moveRecs {
		in.moves[m.ID()] = m
		if m.Bool("is_subcontract") {
			origIDs = append(origIDs, m.IDs("move_orig_ids")...)
		}
	}
	if len(origIDs) == 0 {
		return nil
	}
	recs, err := r.readIDs("stock.move", origIDs, []string{"production_id"})
	for _, m := range recs {
		in.origProduction[m.ID()] = m.M2OID("production_id")
	}
	return err
}

// writePurchaseOrders exports open purchase order lines (§3.4.15).
func (r *run) writePurchaseOrders(in poReads) error {
	o := &r.orders
	o.subcontractRefs = map[int]string{}
	o.archivedSuppliers = map[int]string{}
	lines, orders, moves, origProduction, batches := in.lines, in.orders, in.moves, in.origProduction, in.batches
	r.w.S("<!-- open purchase orders -->\n<operationplans>\n")
	n := 0
	emit := func(ref, batch string, start, end time.Time, qty float64, it *item, loc, supplier string) {
		if start.After(end) {
			start = end
		}
		r.w.S("<operationplan reference=", xmlschema.QuoteAttr(ref))
		if batch != "" {
			r.w.S(" batch=", xmlschema.QuoteAttr(batch))
		}
		r.w.S(` ordertype="PO" start="`, r.fmtTime(start), `" end="`, r.fmtTime(end), `" quantity="`, xmlschema.Fixed6(qty),
			`" status="confirmed"><item name=`, xmlschema.QuoteAttr(it.Name), "/><location name=", xmlschema.QuoteAttr(loc),
			"/><supplier name=", xmlschema.QuoteAttr(supplier), "/></operationplan>\n")
		n++
	}
	for _, l := range lines {
		po, ok := orders[l.M2OID("order_id")]
		if !ok {
			continue
		}
		dateOrder, _ := po.Time("date_order")
		if len(l.IDs("move_ids")) > 0 {
			for _, mid := range l.IDs("move_ids") {
				m, ok := moves[mid]
				if !ok || m.M2OID("product_id") == 0 || m.M2OID("purchase_line_id") == 0 || m.M2OID("location_dest_id") == 0 {
					continue
				}
				switch m.String("state") {
				case "draft", "cancel", "done":
					continue
				}
				picking := m.M2OName("picking_id")
				if picking == "" {
					picking = "False"
				}
				ref := fmt.Sprintf("%s - %s - %d - %d", po.String("name"), picking, m.ID(), l.ID())
				if m.Bool("is_subcontract") {
					for _, orig := range m.IDs("move_orig_ids") {
						if mo := origProduction[orig]; mo != 0 {
							r.orders.subcontractRefs[mo] = ref
						}
					}
					continue
				}
				it := r.master.items[m.M2OID("product_id")]
				if it == nil {
					continue
				}
				loc, ok := r.master.locationWarehouse[m.M2OID("location_dest_id")]
				if !ok {
					continue
				}
				supplier, ok := r.poSupplier(po)
				if !ok {
					continue
				}
				end, _ := m.Time("date")
				if qty := m.Float("product_qty"); qty >= 0 {
					emit(ref, batches[l.ID()], dateOrder, end, qty, it, loc, supplier)
				}
			}
			continue
		}
		if l.M2OID("product_id") == 0 || l.String("state") == "cancel" {
			continue
		}
		it := r.master.items[l.M2OID("product_id")]
		if it == nil || l.Float("product_qty") <= l.Float("qty_received") {
			continue
		}
		supplier, ok := r.poSupplier(po)
		if !ok {
			continue
		}
		end, _ := l.Time("date_planned")
		qty := r.convertQty(l.Float("product_qty")-l.Float("qty_received"), l.M2OID("product_uom"), it.TmplID)
		if qty >= 0 {
			emit(fmt.Sprintf("%s - %d", po.String("name"), l.ID()), batches[l.ID()], dateOrder, end, qty, it, r.init.company.MfgLocation, supplier)
		}
	}
	r.w.S("</operationplans>\n")
	r.counts["purchaseorders"] = n
	return nil
}

// poSupplier names the supplier of a PO; a partner that is not mapped
// (archived) is read once and named "<name> (archived) <id>".
func (r *run) poSupplier(po odoo.Record) (string, bool) {
	pid := po.M2OID("partner_id")
	if s, ok := r.master.customers[pid]; ok {
		return s, true
	}
	if s, ok := r.orders.archivedSuppliers[pid]; ok {
		return s, s != ""
	}
	recs, err := r.read("res.partner", odoo.Domain{odoo.Term("id", "=", pid), "|", odoo.Term("active", "=", true), odoo.Term("active", "=", false)},
		odoo.Query{Fields: []string{"name", "active"}})
	name := ""
	if err == nil && len(recs) > 0 {
		if recs[0].Bool("active") {
			name = fmt.Sprintf("%s %d", recs[0].String("name"), pid)
		} else {
			name = fmt.Sprintf("%s (archived) %d", recs[0].String("name"), pid)
		}
	} else if err != nil {
		r.warnOnce("res.partner", pid, "could not read supplier", "err", err)
	}
	r.orders.archivedSuppliers[pid] = name
	return name, name != ""
}

// poBatches finds the make-to-order batch of lines of MTO products: the
// sale order reached through destination moves, else the first MO of the
// order's procurement groups (§3.4.15.2).
func (r *run) poBatches(lines []odoo.Record, moves map[int]odoo.Record) (map[int]string, error) {
	out := map[int]string{}
	dests := map[int][]int{} // line → destination moves
	var all []int
	for _, l := range lines {
		it := r.master.items[l.M2OID("product_id")]
		if it == nil || !r.master.templates[it.TmplID].MTO {
			continue
		}
		ds := append([]int(nil), l.IDs("move_dest_ids")...)
		for _, mid := range l.IDs("move_ids") {
			if m, ok := moves[mid]; ok {
				ds = append(ds, m.IDs("move_dest_ids")...)
			}
		}
		dests[l.ID()] = ds
		all = append(all, ds...)
	}
	if len(all) == 0 {
		return out, nil
	}
	destRecs, err := r.readIDs("stock.move", all, []string{"group_id"})
	if err != nil {
		return nil, err
	}
	groupOf := map[int]int{}
	var groups []int
	for _, m := range destRecs {
		if g := m.M2OID("group_id"); g != 0 {
			groupOf[m.ID()] = g
			groups = append(groups, g)
		}
	}
	groupRecs, err := r.readIDs("procurement.group", groups, []string{"sale_id", "mrp_production_ids"})
	if err != nil {
		return nil, err
	}
	sale := map[int]string{}
	mos := map[int][]int{}
	var moIDs []int
	for _, g := range groupRecs {
		sale[g.ID()] = g.M2OName("sale_id")
		mos[g.ID()] = g.IDs("mrp_production_ids")
		moIDs = append(moIDs, g.IDs("mrp_production_ids")...)
	}
	moName := map[int]string{}
	if len(moIDs) > 0 {
		recs, err := r.readIDs("mrp.production", moIDs, []string{"name"})
		if err != nil {
			return nil, err
		}
		for _, m := range recs {
			moName[m.ID()] = m.String("name")
		}
	}
	for line, ds := range dests {
		for _, d := range ds {
			if s := sale[groupOf[d]]; s != "" {
				out[line] = s
				break
			}
		}
		if out[line] != "" {
			continue
		}
		for _, d := range ds {
			if ids := mos[groupOf[d]]; len(ids) > 0 {
				out[line] = moName[ids[0]]
				break
			}
		}
	}
	return out, nil
}
