package planimport

import (
	"context"
	"fmt"
	"sort"

	"github.com/plangate/plangate/mappers/odoo"
)

// reqLine is a purchase.requisition.line of an applicable blanket order.
type reqLine struct {
	id, product, vendor, requisition int
}

// blanketOrders finds, for each RFQ, the blanket order it references
// (spec §4.4 step 3, §4.6.2; 17.0 only). The purchase_requisition module
// is optional: without a requisition_id field on purchase.order nothing
// is looked up. Applicable blanket orders are ongoing, of the type named
// "Blanket Order" and not past their end date, as in the addon; the name
// is compared in en_US so translated type names still match (the addon
// compares in the user's language). One search for all proposals replaces
// the addon's preload (mode 1) and per-line searches (modes 2/3) with the
// same result; pickRequisitions keeps each mode's choice.
func (r *run) blanketOrders(ctx context.Context, order []*rfq) error {
	fields, err := r.s.FieldsGet(ctx, "purchase.order")
	if err != nil {
		if k := odoo.KindOf(err); k == odoo.KindTransient || k == odoo.KindCanceled {
			return fmt.Errorf("probe purchase.order fields: %w", err)
		}
		r.im.logger().Warn("blanket orders not looked up: purchase.order fields unreadable", "err", err)
		return nil
	}
	if f, ok := fields["requisition_id"]; !ok || f.Relation != "purchase.requisition" {
		return nil // purchase_requisition not installed
	}
	var prods, sups []any
	seenP, seenS := map[int]bool{}, map[int]bool{}
	for _, q := range order {
		if !seenS[q.supplier] {
			seenS[q.supplier] = true
			sups = append(sups, q.supplier)
		}
		for _, l := range q.lines {
			if !seenP[l.product] {
				seenP[l.product] = true
				prods = append(prods, l.product)
			}
		}
	}
	now := r.im.now().Format(odooTime)
	d := odoo.Domain{"|", odoo.Term("requisition_id.date_end", "=", false), odoo.Term("requisition_id.date_end", ">=", now),
		odoo.Term("requisition_id.type_id.name", "=", "Blanket Order"), odoo.Term("requisition_id.state", "=", "ongoing"),
		odoo.Term("product_id", "in", prods), odoo.Term("requisition_id.vendor_id", "in", sups)}
	recs, err := r.s.SearchRead(ctx, "purchase.requisition.line", d, odoo.Query{Fields: []string{"product_id", "requisition_id"}, Order: "id", Context: odoo.Context{"lang": "en_US"}})
	if err != nil {
		if k := odoo.KindOf(err); k == odoo.KindTransient || k == odoo.KindCanceled {
			return fmt.Errorf("find blanket orders: %w", err)
		}
		r.im.logger().Warn("blanket orders not looked up", "err", err)
		return nil
	}
	if len(recs) == 0 {
		return nil
	}
	reqIDs := map[int]bool{}
	var ids []int
	for _, l := range recs {
		if id := l.M2OID("requisition_id"); !reqIDs[id] {
			reqIDs[id] = true
			ids = append(ids, id)
		}
	}
	reqs, err := r.s.Read(ctx, "purchase.requisition", ids, odoo.Query{Fields: []string{"vendor_id"}})
	if err != nil {
		return fmt.Errorf("read blanket orders: %w", err)
	}
	vendor := map[int]int{}
	for _, q := range reqs {
		vendor[q.ID()] = q.M2OID("vendor_id")
	}
	lines := make([]reqLine, 0, len(recs))
	for _, l := range recs {
		req := l.M2OID("requisition_id")
		lines = append(lines, reqLine{id: l.ID(), product: l.M2OID("product_id"), vendor: vendor[req], requisition: req})
	}
	pickRequisitions(order, lines, r.o.Mode)
	return nil
}

// pickRequisitions sets each RFQ's blanket order as the addon chooses
// it. Mode 1 preloads a (product, vendor) → requisition map from the
// lines in id order (a later line overwrites an earlier one) and sets it
// on an RFQ that has none yet; modes 2/3 take the first line by id for
// each RFQ line and set it every time (the last RFQ line wins). The
// addon may set it on another supplier's RFQ (D25); here it is always
// the RFQ of the line's own supplier.
func pickRequisitions(order []*rfq, lines []reqLine, mode int) {
	sort.Slice(lines, func(i, j int) bool { return lines[i].id < lines[j].id })
	type pair struct{ product, vendor int }
	pick := map[pair]int{}
	for _, l := range lines {
		k := pair{l.product, l.vendor}
		if _, ok := pick[k]; ok && mode != 1 {
			continue // limit 1: the first line
		}
		pick[k] = l.requisition
	}
	for _, q := range order {
		for _, l := range q.lines {
			req, ok := pick[pair{l.product, q.supplier}]
			if !ok || (mode == 1 && q.requisition != 0) {
				continue
			}
			q.requisition = req
		}
	}
}
