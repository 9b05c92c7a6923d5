package export

import (
	"fmt"
	"sort"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// indent is the addon's literal indentation inside order-point calendars.
const indent = "                    "

// writeOrderpoints writes safety-stock and reorder-quantity calendars
// (§3.4.17). Buffers are keyed by the warehouse display name and bucket
// starts stay in UTC, as in the addon (D21, D13).
func (r *run) loadOrderpoints() (func() error, error) {
	ops, err := r.read("stock.warehouse.orderpoint", nil, odoo.Query{Fields: []string{"warehouse_id", "product_id", "product_min_qty",
		"product_max_qty", "product_uom", "qty_multiple"}})
	if err != nil {
		return nil, err
	}
	return func() error { return r.writeOrderpoints(ops) }, nil
}

func (r *run) writeOrderpoints(ops []odoo.Record) error {
	if len(ops) == 0 {
		return nil
	}
	r.w.S("<!-- order points -->\n<calendars>\n")
	n := 0
	start := xmlschema.Datetime(r.now)
	cal := func(name string, value float64) {
		r.w.S("\n", indent, "<calendar name=", xmlschema.QuoteAttr(name), ` default="0"><buckets>`, "\n",
			indent, `<bucket start="`, start, `" end="2030-12-31T00:00:00" value="`, xmlschema.PyFloat(value),
			`" days="127" priority="998" starttime="PT0M" endtime="PT1440M"/>`, "\n",
			indent, "</buckets>\n", indent, "</calendar>\n\n", indent)
		n++
	}
	for _, op := range ops {
		it := r.master.items[op.M2OID("product_id")]
		if it == nil {
			continue
		}
		factor := r.convertQty(1, op.M2OID("product_uom"), it.TmplID)
		key := it.Name + " @ " + op.M2OName("warehouse_id")
		min, maxq := op.Float("product_min_qty"), op.Float("product_max_qty")
		if min != 0 {
			cal("SS for "+key, min*factor)
		}
		if maxq-min > 0 {
			cal("ROQ for "+key, (maxq-min)*factor)
		}
	}
	r.w.S("</calendars>\n")
	r.counts["orderpoints"] = n
	return nil
}

// quantKey groups quants per location and product (and lot).
type quantKey struct{ loc, product, lot int }

// quantSums are the summed quants (quantity, reserved) with their keys in
// the order quants came, and the locations or lots they refer to.
type quantSums struct {
	sums  map[quantKey][2]float64
	keys  []quantKey
	refs  []odoo.Record // stock.location (on-hand) or stock.lot (stock orders)
	byLot bool
}

// loadOnhand reads the positive quants and then their locations (or, with
// shelf life, their lots), from stock.quant reads instead of the addon's
// SQL (§3.4.18).
func (r *run) loadOnhand() (func() error, error) {
	q := quantSums{sums: map[quantKey][2]float64{}, byLot: r.init.hasExpiry}
	fields := []string{"product_id", "location_id", "quantity", "reserved_quantity"}
	if q.byLot {
		fields = append(fields, "lot_id")
	}
	var refIDs []int
	err := r.each("stock.quant", odoo.Domain{odoo.Term("quantity", ">", 0)}, odoo.Query{Fields: fields}, func(rec odoo.Record) error {
		k := quantKey{rec.M2OID("location_id"), rec.M2OID("product_id"), 0}
		if q.byLot {
			k.lot = rec.M2OID("lot_id")
		}
		s, seen := q.sums[k]
		if !seen {
			q.keys = append(q.keys, k)
		}
		s[0] += rec.Float("quantity")
		s[1] += rec.Float("reserved_quantity")
		q.sums[k] = s
		switch {
		case !q.byLot:
			refIDs = append(refIDs, k.loc)
		case k.lot != 0:
			refIDs = append(refIDs, k.lot)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if q.byLot {
		err = r.readIDsTo(&q.refs, "stock.lot", dedupe(refIDs), r.onlyExisting("stock.lot", "name", "expiration_date"))()
	} else {
		err = r.readIDsTo(&q.refs, "stock.location", dedupe(refIDs), r.onlyExisting("stock.location", "usage", "scrap_location", "return_location"))()
	}
	if err != nil {
		return nil, err
	}
	if q.byLot {
		return func() error { return r.writeStockOrders(q) }, nil
	}
	return func() error { return r.writeOnhand(q) }, nil
}

// writeOnhand writes the stock per item and warehouse (§3.4.18): positive
// quants at internal, non-scrap, non-return locations, grouped per product
// and location in (location, product) order as the SQL returned them.
func (r *run) writeOnhand(q quantSums) error {
	ok := map[int]bool{}
	for _, l := range q.refs {
		ok[l.ID()] = l.String("usage") == "internal" && !l.Bool("scrap_location") && !l.Bool("return_location")
	}
	sums := q.sums
	keys := make([]quantKey, 0, len(sums))
	for k := range sums {
		if ok[k.loc] {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].loc != keys[j].loc {
			return keys[i].loc < keys[j].loc
		}
		return keys[i].product < keys[j].product
	})
	type buf struct {
		item *item
		wh   string
		qty  float64
	}
	var order []string
	bufs := map[string]*buf{}
	for _, k := range keys {
		it := r.master.items[k.product]
		wh, mapped := r.master.locationWarehouse[k.loc]
		if it == nil || !mapped {
			continue
		}
		qty := sums[k][0]
		if r.init.company.RespectReservations {
			qty -= sums[k][1]
		}
		name := it.Name + " @ " + wh
		b, seen := bufs[name]
		if !seen {
			b = &buf{item: it, wh: wh}
			bufs[name] = b
			order = append(order, name)
		}
		b.qty += qty
	}
	r.w.S("<!-- inventory -->\n<buffers>\n")
	for _, name := range order {
		b := bufs[name]
		r.w.S("<buffer name=", xmlschema.QuoteAttr(name), ` onhand="`, xmlschema.Fixed6(b.qty), `"><item name=`,
			xmlschema.QuoteAttr(b.item.Name), "/><location name=", xmlschema.QuoteAttr(b.wh), "/></buffer>\n")
	}
	r.w.S("</buffers>\n")
	r.counts["onhand"] = len(order)
	return nil
}

// writeStockOrders writes on-hand as STCK operationplans per lot, with
// expiry dates, when shelf life is on (§3.4.18 with has_expiry).
func (r *run) writeStockOrders(q quantSums) error {
	sums, keys, lots := q.sums, q.keys, q.refs
	lotName := map[int]string{}
	lotExpiry := map[int]odoo.Record{}
	for _, l := range lots {
		lotName[l.ID()] = l.String("name")
		lotExpiry[l.ID()] = l
	}
	// The addon's SQL groups by product, location, lot name and expiry and
	// orders by location; PostgreSQL sorts the groups on location, product,
	// lot name and expiry (NULLs last), as the demo's recorded answer (R43)
	// shows, and the totals follow that order.
	lotKey := func(k quantKey) (name, expiry string, null bool) {
		if k.lot == 0 {
			return "", "", true
		}
		return lotName[k.lot], lotExpiry[k.lot].String("expiration_date"), false
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.loc != b.loc {
			return a.loc < b.loc
		}
		if a.product != b.product {
			return a.product < b.product
		}
		an, ae, anull := lotKey(a)
		bn, be, bnull := lotKey(b)
		if anull != bnull {
			return bnull
		}
		if an != bn {
			return an < bn
		}
		if (ae == "") != (be == "") {
			return be == ""
		}
		return ae < be
	})
	type stock struct {
		item   *item
		wh     string
		ref    string
		qty    float64
		expiry string
	}
	var order []string
	totals := map[string]*stock{}
	for _, k := range keys {
		it := r.master.items[k.product]
		wh, mapped := r.master.locationWarehouse[k.loc]
		if it == nil || !mapped {
			continue
		}
		ref := fmt.Sprintf("STCK %s @ %s", it.Name, wh)
		if k.lot != 0 {
			ref += " @ " + lotName[k.lot]
		}
		qty := sums[k][0]
		if r.init.company.RespectReservations {
			qty -= sums[k][1]
		}
		s, seen := totals[ref]
		if !seen {
			s = &stock{item: it, wh: wh, ref: ref}
			totals[ref] = s
			order = append(order, ref)
		}
		s.qty = max(0, s.qty+qty)
		if l, ok := lotExpiry[k.lot]; ok {
			if t, ok := l.Time("expiration_date"); ok {
				s.expiry = r.fmtTime(t)
			}
		}
	}
	r.w.S("<!-- inventory -->\n<operationplans>\n")
	for _, ref := range order {
		s := totals[ref]
		r.w.S(indent, `<operationplan ordertype="STCK" end="`, r.fmtTime(r.now), `" reference=`, xmlschema.QuoteAttr(ref))
		if s.expiry != "" {
			r.w.S(` expiry="`, s.expiry, `"`)
		}
		r.w.S(` quantity="`, xmlschema.PyFloat(s.qty), `"><item name=`, xmlschema.QuoteAttr(s.item.Name), "/><location name=",
			xmlschema.QuoteAttr(s.wh), "/></operationplan>\n")
	}
	r.w.S("</operationplans>\n")
	r.counts["onhand"] = len(order)
	return nil
}
