package planimport

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
)

// purchaseUpdates writes approved/confirmed purchase lines in place (spec §4.6.1).
func (r *run) purchaseUpdates(ctx context.Context) error {
	for _, rec := range r.recs {
		if rec.Type != "PO" || (rec.Status != "approved" && rec.Status != "confirmed") {
			continue
		}
		r.procurement++
		key := "poupd:" + strconv.Itoa(rec.Index)
		if _, ok := r.done(key); ok {
			continue
		}
		line, _ := lastInt(rec.Attr("id"), " - ")
		vals := map[string]any{
			"product_id": rec.Product, "product_qty": rec.Qty, "product_uom": rec.UoM,
			"date_planned": rec.End.Format(odooTime), "name": rec.Attr("item"),
		}
		if err := r.s.Write(ctx, "purchase.order.line", []int{line}, vals); err != nil {
			if odoo.KindOf(err) == odoo.KindTransient || odoo.KindOf(err) == odoo.KindCanceled {
				return fmt.Errorf("update purchase.order.line %d: %w", line, err)
			}
			// A per-record failure goes into the reply, as in the addon.
			r.messages = append(r.messages, fmt.Sprintf("%s: %v", rec.Name(), err))
			continue
		}
		if err := r.mark([]string{key}, [][]int{{line}}); err != nil {
			return err
		}
	}
	return nil
}

// rfq is the RFQ of one supplier.
type rfq struct {
	supplier    int
	first       *record
	minStart    time.Time
	minEnd      time.Time
	id          int
	requisition int // blanket order to reference, 0 for none
	lines       []*poLine
	linesByKey  map[int]*poLine // product → line (mode 2 merging)
}

// poLine is one RFQ line: one proposal, or in mode 2 every proposal of
// the same product for the same supplier.
type poLine struct {
	recs    []*record
	product int
	uom     int // the frePPLe UoM (item_id)
	date    time.Time
}

// groupPurchases groups proposals (status missing or proposed) into one
// RFQ per supplier, in order of first appearance, with header dates the
// earliest of its proposals. In mode 2 the proposals of one product
// become one line dated at the earliest end (spec §4.3, §4.6.2); lines
// always go to their own supplier's RFQ (D25 fixed).
func groupPurchases(recs []*record, mode int) []*rfq {
	var order []*rfq
	bySupplier := map[int]*rfq{}
	for _, rec := range recs {
		if rec.Type != "PO" || (rec.Status != "" && rec.Status != "proposed") {
			continue
		}
		q := bySupplier[rec.Supplier]
		if q == nil {
			q = &rfq{supplier: rec.Supplier, first: rec, minStart: rec.Start, minEnd: rec.End, linesByKey: map[int]*poLine{}}
			bySupplier[rec.Supplier] = q
			order = append(order, q)
		}
		if rec.Start.Before(q.minStart) {
			q.minStart = rec.Start
		}
		if rec.End.Before(q.minEnd) {
			q.minEnd = rec.End
		}
		if l := q.linesByKey[rec.Product]; l != nil && mode == 2 {
			l.recs = append(l.recs, rec)
			if rec.End.Before(l.date) {
				l.date = rec.End
			}
			continue
		}
		l := &poLine{recs: []*record{rec}, product: rec.Product, uom: rec.UoM, date: rec.End}
		q.linesByKey[rec.Product] = l
		q.lines = append(q.lines, l)
	}
	return order
}

// quantity is the line's unit and quantity as the addon leaves them:
// Odoo's _prepare_purchase_order_line puts the first proposal in the
// product's purchase UoM; each merged proposal (mode 2) is then added in
// the frePPLe UoM unconverted (D27). With fixD27 the merged total is
// converted once instead.
func (l *poLine) quantity(u *uoms, fixD27 bool) (int, float64) {
	if fixD27 {
		total := 0.0
		for _, r := range l.recs {
			total += r.Qty
		}
		return u.toPurchase(total, l.uom, l.product)
	}
	uom, q := u.toPurchase(l.recs[0].Qty, l.uom, l.product)
	for _, r := range l.recs[1:] {
		q += r.Qty
	}
	return uom, q
}

// purchaseCreates turns proposals into RFQs (spec §4.6.2).
func (r *run) purchaseCreates(ctx context.Context) error {
	order := groupPurchases(r.recs, r.o.Mode)
	for _, q := range order {
		for _, l := range q.lines {
			r.procurement += len(l.recs)
		}
	}
	if len(order) == 0 {
		return nil
	}
	units, err := r.purchaseUoMs(ctx, order)
	if err != nil {
		return err
	}
	if err := r.blanketOrders(ctx, order); err != nil {
		return err
	}
	// Headers.
	terms, err := r.paymentTerms(ctx, order)
	if err != nil {
		return err
	}
	var keys []string
	var vals []map[string]any
	var pending []*rfq
	for _, q := range order {
		key := "po:" + strconv.Itoa(q.supplier)
		if ids, ok := r.done(key); ok {
			q.id = ids[0]
			continue
		}
		pt, err := r.pickingType(ctx, q.first.Warehouse)
		if err != nil {
			return err
		}
		v := map[string]any{"partner_id": q.supplier, "origin": q.first.Origin, "date_order": q.minStart.Format(odooTime)}
		if r.o.CompanyID != 0 {
			v["company_id"] = r.o.CompanyID
		}
		if pt != 0 {
			v["picking_type_id"] = pt
		}
		if t := terms[q.supplier]; t != 0 {
			v["payment_term_id"] = t
		}
		if r.actualUser != 0 {
			v["user_id"] = r.actualUser
		}
		if q.requisition != 0 {
			// The addon writes it once the first line is made; the
			// resulting RFQ is the same.
			v["requisition_id"] = q.requisition
		}
		keys, vals, pending = append(keys, key), append(vals, v), append(pending, q)
	}
	ids, err := r.createAll(ctx, createSpec{model: "purchase.order", marked: true}, keys, vals)
	if err != nil {
		return err
	}
	for i, q := range pending {
		q.id = ids[i]
	}
	// Lines.
	// Lines in file order, as the addon creates them.
	var lines []*poLine
	lineRFQ := map[*poLine]*rfq{}
	for _, q := range order {
		for _, l := range q.lines {
			lines = append(lines, l)
			lineRFQ[l] = q
		}
	}
	sort.Slice(lines, func(a, b int) bool { return lines[a].recs[0].Index < lines[b].recs[0].Index })
	keys, vals = nil, nil
	for _, l := range lines {
		key := "pol:" + strconv.Itoa(l.recs[0].Index)
		if _, ok := r.done(key); ok {
			continue
		}
		uom, qty := l.quantity(units, r.o.FixD27)
		keys = append(keys, key)
		vals = append(vals, map[string]any{
			"order_id": lineRFQ[l].id, "product_id": l.product, "product_qty": qty,
			"product_uom": uom, "date_planned": l.date.Format(odooTime),
		})
	}
	if _, err := r.createAll(ctx, createSpec{model: "purchase.order.line", parent: "order_id"}, keys, vals); err != nil {
		return err
	}
	// Header dates after the lines, as the addon does (lines recompute them).
	for _, q := range order {
		key := "podates:" + strconv.Itoa(q.supplier)
		if _, ok := r.done(key); ok {
			continue
		}
		if err := r.s.Write(ctx, "purchase.order", []int{q.id}, map[string]any{
			"date_planned": q.minEnd.Format(odooTime), "date_order": q.minStart.Format(odooTime),
		}); err != nil {
			return fmt.Errorf("date purchase.order %d: %w", q.id, err)
		}
		if err := r.mark([]string{key}, [][]int{{q.id}}); err != nil {
			return err
		}
	}
	return nil
}

// paymentTerms reads the suppliers' payment terms in one call.
func (r *run) paymentTerms(ctx context.Context, order []*rfq) (map[int]int, error) {
	ids := make([]int, len(order))
	for i, q := range order {
		ids[i] = q.supplier
	}
	recs, err := r.s.Read(ctx, "res.partner", ids, odoo.Query{Fields: []string{"property_supplier_payment_term_id"}})
	if err != nil {
		return nil, fmt.Errorf("read supplier payment terms: %w", err)
	}
	out := map[int]int{}
	for _, p := range recs {
		out[p.ID()] = p.M2OID("property_supplier_payment_term_id")
	}
	return out, nil
}

// pickingType finds the receipt type of a warehouse, else one without warehouse.
func (r *run) pickingType(ctx context.Context, wh int) (int, error) {
	for _, d := range []odoo.Domain{
		{odoo.Term("code", "=", "incoming"), odoo.Term("warehouse_id", "=", wh)},
		{odoo.Term("code", "=", "incoming"), odoo.Term("warehouse_id", "=", false)},
	} {
		ids, err := r.s.Search(ctx, "stock.picking.type", d, odoo.Query{Limit: 1})
		if err != nil {
			return 0, fmt.Errorf("find receipt type of warehouse %d: %w", wh, err)
		}
		if len(ids) > 0 {
			return ids[0], nil
		}
	}
	return 0, nil
}
