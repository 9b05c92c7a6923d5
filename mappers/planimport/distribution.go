package planimport

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
)

type transfer struct {
	key        string
	originWH   string
	destWH     string
	src, dst   int
	pickType   int
	date       time.Time
	origin     string
	id         int
	moves      []*move
	moveByProd map[int]*move
}

type move struct {
	first   *record
	n       int
	product int
	uom     int
	qty     float64
	date    time.Time
}

// distribution turns DOs into draft internal transfers: one picking per
// (origin, destination) pair, one move per product (spec §4.6.3). DOs
// are not counted in the reply.
func (r *run) distribution(ctx context.Context) error {
	var dos []*record
	for _, rec := range r.recs {
		if rec.Type == "DO" {
			dos = append(dos, rec)
		}
	}
	if len(dos) == 0 {
		return nil
	}
	var routed map[*record]bool // DOs written along a route (resupply.go)
	if r.o.ResupplyPickings {
		var err error
		if routed, err = r.resupplyPickings(ctx, dos); err != nil || len(routed) == len(dos) {
			return err
		}
	}
	stockLoc, err := r.stockLocations(ctx)
	if err != nil {
		return err
	}
	whByCode := map[string]int{}
	warehouse := func(code string) (int, error) {
		if id, ok := whByCode[code]; ok {
			return id, nil
		}
		ids, err := r.s.Search(ctx, "stock.warehouse", odoo.Domain{odoo.Term("code", "=", code)}, odoo.Query{Limit: 1})
		if err != nil {
			return 0, fmt.Errorf("find warehouse %s: %w", code, err)
		}
		id := 0
		if len(ids) > 0 {
			id = ids[0]
		}
		whByCode[code] = id
		return id, nil
	}
	var order []*transfer
	byPair := map[string]*transfer{}
	for n, rec := range dos {
		if routed[rec] {
			continue
		}
		o, d := rec.Attr("origin"), rec.Attr("destination")
		ow, err := warehouse(o)
		if err != nil {
			return err
		}
		dw, err := warehouse(d)
		if err != nil {
			return err
		}
		if ow == 0 || dw == 0 {
			r.messages = append(r.messages, fmt.Sprintf("Can't find warehouse %s or %s", o, d))
			continue
		}
		src, dst := stockLoc[ow], stockLoc[dw]
		if src == 0 || dst == 0 {
			r.im.logger().Warn("distribution order skipped: no stock location", "record", rec.Name())
			continue
		}
		date := r.im.now()
		if rec.HasStart {
			date = rec.Start
		}
		key := strconv.Itoa(src) + ">" + strconv.Itoa(dst)
		t := byPair[key]
		if t == nil {
			// D29 fixed: by code, not by the English name "Internal Transfers".
			pts, err := r.s.Search(ctx, "stock.picking.type", odoo.Domain{odoo.Term("code", "=", "internal"), odoo.Term("default_location_src_id", "=", src)}, odoo.Query{Limit: 1})
			if err != nil {
				return fmt.Errorf("find internal transfer type: %w", err)
			}
			if len(pts) == 0 {
				r.im.logger().Warn("distribution order skipped: no internal transfer type", "record", rec.Name())
				continue
			}
			t = &transfer{key: key, originWH: o, destWH: d, src: src, dst: dst, pickType: pts[0], date: date, origin: rec.Origin, moveByProd: map[int]*move{}}
			byPair[key] = t
			order = append(order, t)
		}
		if m := t.moveByProd[rec.Product]; m != nil {
			m.qty += rec.Qty
			if date.Before(m.date) {
				m.date = date
			}
			continue
		}
		m := &move{first: rec, n: n + 1, product: rec.Product, uom: rec.UoM, qty: rec.Qty, date: date}
		t.moveByProd[rec.Product] = m
		t.moves = append(t.moves, m)
	}
	var keys []string
	var vals []map[string]any
	var pending []*transfer
	for _, t := range order {
		k := "picking:" + t.key
		if ids, ok := r.done(k); ok {
			t.id = ids[0]
			continue
		}
		keys = append(keys, k)
		pending = append(pending, t)
		vals = append(vals, map[string]any{
			"picking_type_id": t.pickType, "scheduled_date": t.date.Format(odooTime),
			"location_id": t.src, "location_dest_id": t.dst, "move_type": "direct", "origin": t.origin,
		})
	}
	ids, err := r.createAll(ctx, createSpec{model: "stock.picking", marked: true}, keys, vals)
	if err != nil {
		return err
	}
	for i, t := range pending {
		t.id = ids[i]
	}
	pids := make([]int, len(order))
	for i, t := range order {
		pids[i] = t.id
	}
	names, err := r.pickingNames(ctx, pids)
	if err != nil {
		return err
	}
	keys, vals = nil, nil
	for _, t := range order {
		for _, m := range t.moves {
			k := "move:" + strconv.Itoa(m.first.Index)
			if _, ok := r.done(k); ok {
				continue
			}
			keys = append(keys, k)
			vals = append(vals, map[string]any{
				"date": m.date.Format(odooTime), "product_id": m.product, "product_uom_qty": m.qty,
				"product_uom": m.uom, "location_id": t.src, "location_dest_id": t.dst, "picking_id": t.id,
				"origin": "frePPLe", "name": fmt.Sprintf("%s %d", names[t.id], m.n),
			})
		}
	}
	_, err = r.createAll(ctx, createSpec{model: "stock.move", parent: "picking_id"}, keys, vals)
	return err
}

// pickingNames reads the names Odoo gave new pickings (its sequence).
func (r *run) pickingNames(ctx context.Context, ids []int) (map[int]string, error) {
	names := map[int]string{}
	if len(ids) == 0 {
		return names, nil
	}
	recs, err := r.s.Read(ctx, "stock.picking", ids, odoo.Query{Fields: []string{"name"}})
	if err != nil {
		return nil, fmt.Errorf("read picking names: %w", err)
	}
	for _, p := range recs {
		names[p.ID()] = p.String("name")
	}
	return names, nil
}

// stockLocations maps warehouse id → its stock location (lot_stock_id;
// D29 fixed: the addon matches location names like 'Stock').
func (r *run) stockLocations(ctx context.Context) (map[int]int, error) {
	recs, err := r.s.SearchRead(ctx, "stock.warehouse", odoo.Domain{}, odoo.Query{Fields: []string{"lot_stock_id"}})
	if err != nil {
		return nil, fmt.Errorf("read warehouse stock locations: %w", err)
	}
	out := map[int]int{}
	for _, w := range recs {
		out[w.ID()] = w.M2OID("lot_stock_id")
	}
	return out, nil
}
