package oms

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
)

// Company is an Odoo res.company: an organization to the OMS caller.
type Company struct {
	ID   int
	Name string
}

// Warehouse is an Odoo stock.warehouse that can ship.
type Warehouse struct {
	ID       int
	Code     string
	Name     string
	Company  int
	Sequence int
	// Location is the warehouse address's coordinates; nil when unset.
	Location *Point
}

// Product is an Odoo product.product: code is its internal reference.
type Product struct {
	ID   int
	Code string
	Name string
	UOM  int
}

// UOM is an Odoo uom.uom; quantities convert within one category.
type UOM struct {
	ID       int
	Name     string
	Category int
	Factor   float64 // units per reference unit, as Odoo stores it
	Rounding float64
}

// Snapshot is the stock and master data of one Odoo scope, read at once
// and shared read-only by every request until it is refreshed.
type Snapshot struct {
	Taken      time.Time
	Companies  map[int]*Company
	Warehouses map[int]*Warehouse
	UOMs       map[int]*UOM
	// Products holds the products that have stock; others are read on demand.
	Products map[int]*Product
	// productKeys indexes Products by internal reference (several: shared).
	productKeys map[string][]int
	// order is warehouse ids by sequence then id: the initial priority.
	order []int
	// stock is, per product, what each warehouse holds in internal
	// locations less reservations (only positive amounts).
	stock map[int][]Candidate
}

// loadSnapshot reads what order sourcing needs, one search_read per model,
// and joins it in memory.
func loadSnapshot(ctx context.Context, sess *odoo.Session, now time.Time) (*Snapshot, error) {
	snap := &Snapshot{
		Taken:      now,
		Companies:  map[int]*Company{},
		Warehouses: map[int]*Warehouse{},
		UOMs:       map[int]*UOM{},
		Products:   map[int]*Product{},
		stock:      map[int][]Candidate{},
	}
	read := func(model string, domain odoo.Domain, fields []string, fn func(odoo.Record) error) error {
		if err := sess.SearchReadEach(ctx, model, domain, odoo.Query{Fields: fields}, fn); err != nil {
			return fmt.Errorf("oms: read %s: %w", model, err)
		}
		return nil
	}
	if err := read("res.company", nil, []string{"name"}, func(r odoo.Record) error {
		snap.Companies[r.ID()] = &Company{ID: r.ID(), Name: r.String("name")}
		return nil
	}); err != nil {
		return nil, err
	}
	partnerOf := map[int]int{}
	if err := read("stock.warehouse", nil, []string{"name", "code", "company_id", "partner_id", "sequence"}, func(r odoo.Record) error {
		w := &Warehouse{ID: r.ID(), Code: r.String("code"), Name: r.String("name"), Company: r.M2OID("company_id"), Sequence: r.Int("sequence")}
		snap.Warehouses[w.ID] = w
		snap.order = append(snap.order, w.ID)
		if p := r.M2OID("partner_id"); p != 0 {
			partnerOf[w.ID] = p
		}
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(snap.order, func(a, b int) int {
		wa, wb := snap.Warehouses[a], snap.Warehouses[b]
		if wa.Sequence != wb.Sequence {
			return wa.Sequence - wb.Sequence
		}
		return a - b
	})
	if len(partnerOf) > 0 {
		ids := make([]int, 0, len(partnerOf))
		for _, p := range partnerOf {
			ids = append(ids, p)
		}
		slices.Sort(ids)
		points, err := readPoints(ctx, sess, odoo.Term("id", "in", slices.Compact(ids)))
		if err != nil {
			return nil, err
		}
		for w, p := range partnerOf {
			snap.Warehouses[w].Location = points[p].point
		}
	}
	if err := read("uom.uom", odoo.Domain{"|", odoo.Term("active", "=", true), odoo.Term("active", "=", false)},
		[]string{"name", "category_id", "factor", "rounding"}, func(r odoo.Record) error {
			snap.UOMs[r.ID()] = &UOM{ID: r.ID(), Name: r.String("name"), Category: r.M2OID("category_id"), Factor: r.Float("factor"), Rounding: r.Float("rounding")}
			return nil
		}); err != nil {
		return nil, err
	}
	whOfLoc := map[int]int{}
	var locIDs []int
	if err := read("stock.location", odoo.Domain{odoo.Term("usage", "=", "internal"), odoo.Term("warehouse_id", "!=", false)},
		[]string{"warehouse_id"}, func(r odoo.Record) error {
			if w := r.M2OID("warehouse_id"); snap.Warehouses[w] != nil {
				whOfLoc[r.ID()] = w
				locIDs = append(locIDs, r.ID())
			}
			return nil
		}); err != nil {
		return nil, err
	}
	type key struct{ product, warehouse int }
	held := map[key]float64{}
	if len(locIDs) > 0 {
		if err := read("stock.quant", odoo.Domain{odoo.Term("location_id", "in", locIDs)},
			[]string{"product_id", "location_id", "quantity", "reserved_quantity"}, func(r odoo.Record) error {
				w, ok := whOfLoc[r.M2OID("location_id")]
				if !ok {
					return nil
				}
				held[key{r.M2OID("product_id"), w}] += r.Float("quantity") - r.Float("reserved_quantity")
				return nil
			}); err != nil {
			return nil, err
		}
	}
	rank := make(map[int]int, len(snap.order))
	for i, w := range snap.order {
		rank[w] = i
	}
	var productIDs []int
	for k, q := range held {
		if q <= qtyEpsilon {
			continue
		}
		if len(snap.stock[k.product]) == 0 {
			productIDs = append(productIDs, k.product)
		}
		snap.stock[k.product] = append(snap.stock[k.product], Candidate{Warehouse: k.warehouse, Product: k.product, Available: q, Priority: float64(rank[k.warehouse])})
	}
	for _, cs := range snap.stock {
		slices.SortFunc(cs, func(a, b Candidate) int { return rank[a.Warehouse] - rank[b.Warehouse] })
	}
	if len(productIDs) > 0 {
		slices.Sort(productIDs)
		ps, err := readProducts(ctx, sess, odoo.Term("id", "in", productIDs))
		if err != nil {
			return nil, err
		}
		snap.Products = ps
	}
	snap.indexProducts()
	return snap, nil
}

var productFields = []string{"default_code", "display_name", "uom_id"}

// indexProducts indexes the stocked products by internal reference.
func (s *Snapshot) indexProducts() {
	s.productKeys = make(map[string][]int, len(s.Products))
	for id, p := range s.Products {
		if p.Code != "" {
			s.productKeys[p.Code] = append(s.productKeys[p.Code], id)
		}
	}
	for _, ids := range s.productKeys {
		slices.Sort(ids)
	}
}

// readProducts reads the products a term selects (by id, by internal
// reference), archived ones included (a ticket may name one that still
// has stock). search_read, unlike read, leaves ids that do not exist out
// instead of failing.
func readProducts(ctx context.Context, sess *odoo.Session, term []any) (map[int]*Product, error) {
	recs, err := sess.SearchRead(ctx, "product.product", odoo.Domain{term},
		odoo.Query{Fields: productFields, Context: odoo.Context{"active_test": false}})
	if err != nil {
		return nil, fmt.Errorf("oms: read product.product: %w", err)
	}
	out := make(map[int]*Product, len(recs))
	for _, r := range recs {
		out[r.ID()] = &Product{ID: r.ID(), Code: r.String("default_code"), Name: r.String("display_name"), UOM: r.M2OID("uom_id")}
	}
	return out, nil
}

// readPoints reads the coordinates of the partners a term selects (by
// id, by ref); Odoo stores 0,0 for "not set".
func readPoints(ctx context.Context, sess *odoo.Session, term []any) (map[int]partnerHit, error) {
	recs, err := sess.SearchRead(ctx, "res.partner", odoo.Domain{term},
		odoo.Query{Fields: []string{"partner_latitude", "partner_longitude"}, Context: odoo.Context{"active_test": false}})
	if err != nil {
		return nil, fmt.Errorf("oms: read res.partner: %w", err)
	}
	out := make(map[int]partnerHit, len(recs))
	for _, r := range recs {
		lat, lon := r.Float("partner_latitude"), r.Float("partner_longitude")
		h := partnerHit{id: r.ID()}
		if lat != 0 || lon != 0 {
			h.point = &Point{Lat: lat, Lon: lon}
		}
		out[r.ID()] = h
	}
	return out, nil
}

// candidates is the initial group for a product: its stock in the given
// warehouses, in warehouse order.
func (s *Snapshot) candidates(product int, allowed func(*Warehouse) bool) Group {
	var g Group
	for _, c := range s.stock[product] {
		if allowed(s.Warehouses[c.Warehouse]) {
			g = append(g, c)
		}
	}
	return g
}
