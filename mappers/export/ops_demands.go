package export

import (
	"fmt"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// openMoveStates are the states of read S3.
var openMoveStates = []any{"waiting", "partially_available", "assigned", "confirmed"}

// saleOrder is one sale.order of read S2.
type saleOrder struct {
	Name          string
	State         string
	Partner       int
	Commitment    time.Time
	DateOrder     time.Time
	PickingPolicy string
	Warehouse     int
}

// saleLine is the part of a sale.order.line of read S1 the demands use:
// kept instead of the record, as thousands wait for their turn.
type saleLine struct {
	ID, Order, Product, UOM int
	Qty                     float64
	Moves                   []int
}

// loadDemands reads the sales order lines and the open stock moves at
// once, then the lines' orders (§3.4.14).
func (r *run) loadDemands() (func() error, error) {
	domain := odoo.Domain{odoo.Term("product_id", "!=", false)}
	if r.p.Delta < 999 {
		since := r.now.Add(-time.Duration(r.p.Delta * float64(24*time.Hour)))
		domain = append(domain, odoo.Term("write_date", ">=", odoo.FormatDatetime(since)))
	}
	if f := r.mode.Filters["demands"]; f != "" {
		extra, err := ParseDomain(f)
		if err != nil {
			return nil, err
		}
		domain = append(domain, extra...)
	}
	var lines []saleLine
	var orders map[int]*saleOrder
	err := parallel(
		func() error {
			orderIDs := []int{}
			seen := map[int]bool{}
			err := r.each("sale.order.line", domain, odoo.Query{Fields: []string{"qty_delivered", "state", "product_id", "product_uom_qty",
				"product_uom", "order_id", "move_ids"}}, func(l odoo.Record) error {
				sl := saleLine{ID: l.ID(), Order: l.M2OID("order_id"), Product: l.M2OID("product_id"), UOM: l.M2OID("product_uom"),
					Qty: l.Float("product_uom_qty"), Moves: l.IDs("move_ids")}
				lines = append(lines, sl)
				if id := sl.Order; id != 0 && !seen[id] {
					seen[id] = true
					orderIDs = append(orderIDs, id)
				}
				return nil
			})
			if err != nil {
				return err
			}
			recs, err := r.readIDs("sale.order", orderIDs, []string{"name", "state", "partner_id", "commitment_date", "date_order", "picking_policy", "warehouse_id"})
			orders = make(map[int]*saleOrder, len(recs))
			for _, o := range recs {
				so := &saleOrder{Name: o.String("name"), State: o.String("state"), Partner: o.M2OID("partner_id"),
					PickingPolicy: o.String("picking_policy"), Warehouse: o.M2OID("warehouse_id")}
				so.Commitment, _ = o.Time("commitment_date")
				so.DateOrder, _ = o.Time("date_order")
				orders[o.ID()] = so
			}
			return err
		},
		r.readOpenMoves,
	)
	if err != nil {
		return nil, err
	}
	return func() error { return r.writeDemands(lines, orders) }, nil
}

// writeDemands maps sales order lines to demands (§3.4.14).
func (r *run) writeDemands(lines []saleLine, orders map[int]*saleOrder) error {

	r.w.S("<!-- sales order lines -->\n<demands>\n")
	n := 0
	for _, l := range lines {
		so := orders[l.Order]
		if so == nil {
			continue
		}
		it := r.master.items[l.Product]
		customer, okc := r.master.customers[so.Partner]
		wh, okw := r.master.warehouses[so.Warehouse]
		if it == nil || !okc || !okw {
			continue
		}
		name := fmt.Sprintf("%s %d", so.Name, l.ID)
		due := so.DateOrder
		if !so.Commitment.IsZero() {
			due = so.Commitment
		}
		var open []*openMove
		for _, mid := range l.Moves {
			if m, ok := r.ops.openMoves[mid]; ok {
				open = append(open, m)
			}
		}
		state := so.State
		if state == "sale" && len(open) == 0 {
			state = "done"
		}
		ordered := r.convertQty(l.Qty, l.UOM, it.TmplID)
		emit := func(name string, qty float64, due time.Time, status string) {
			minship := 0.0
			policy := "independent"
			if so.PickingPolicy == "one" {
				policy = "alltogether"
				if qty > 0 {
					minship = qty
				}
			}
			r.w.S("<demand name=", xmlschema.QuoteAttr(name), " batch=", xmlschema.QuoteAttr(so.Name),
				` quantity="`, xmlschema.PyFloat(qty), `" due="`, r.fmtTime(due), `" priority="1" minshipment="`, xmlschema.PyFloat(minship),
				`" status="`, status, `"><item name=`, xmlschema.QuoteAttr(it.Name), "/><customer name=", xmlschema.QuoteAttr(customer),
				"/><location name=", xmlschema.QuoteAttr(wh.Code), "/><owner name=", xmlschema.QuoteAttr(so.Name),
				` policy="`, policy, `" xsi:type="demand_group"/></demand>`, "\n")
			n++
		}
		switch state {
		case "draft", "sent":
			emit(name, ordered, due, "quote")
		case "sale":
			for _, m := range open {
				mname := name
				if len(l.Moves) > 1 {
					mname = fmt.Sprintf("%s %d", name, m.ID)
				}
				q := r.convertQty(m.ProductUOMQty, m.ProductUOM, it.TmplID)
				reserved := 0.0
				if r.init.company.RespectReservations {
					reserved = r.reserved(m, 0)
				}
				mdue := so.DateOrder
				if t, ok := odoo.AsTime(m.Date); ok {
					mdue = t
				}
				if q-reserved > 0 {
					emit(mname, q-reserved, mdue, "open")
				} else {
					emit(mname, q, mdue, "closed")
				}
			}
		case "done":
			emit(name, ordered, due, "closed")
		case "cancel":
			emit(name, ordered, due, "canceled")
		default:
			r.warnOnce("sale.order.line", l.ID, "Unknown sales order state", "state", state)
		}
	}
	r.w.S("</demands>\n")
	r.counts["demands"] = n
	return nil
}

// readOpenMoves reads every open stock move (S3), for the demands and
// their reservations.
func (r *run) readOpenMoves() error {
	recs, err := r.read("stock.move", odoo.Domain{odoo.Term("state", "in", openMoveStates)},
		odoo.Query{Fields: []string{"id", "move_orig_ids", "product_id", "date", "quantity", "procure_method", "product_uom_qty", "product_uom", "state"}})
	if err != nil {
		return err
	}
	r.ops.openMoves = make(map[int]*openMove, len(recs))
	for _, m := range recs {
		r.ops.openMoves[m.ID()] = &openMove{ID: m.ID(), Orig: m.IDs("move_orig_ids"), Product: m.M2OID("product_id"), Date: m.String("date"),
			Quantity: m.Float("quantity"), ProcureMethod: m.String("procure_method"), ProductUOMQty: m.Float("product_uom_qty"),
			ProductUOM: m.M2OID("product_uom"), State: m.String("state")}
	}
	return nil
}

// reserved is a move's reserved quantity (§3.4.14.2): its own quantity
// when procured other than from stock, plus that of its origin moves.
// depth bounds chains (the addon only guards against self-loops).
func (r *run) reserved(m *openMove, depth int) float64 {
	if depth > 50 {
		return 0
	}
	total := 0.0
	if m.ProcureMethod != "make_to_stock" {
		total += m.Quantity
	}
	for _, o := range m.Orig {
		if o == m.ID {
			continue
		}
		if om, ok := r.ops.openMoves[o]; ok {
			total += r.reserved(om, depth+1)
		}
	}
	return total
}
