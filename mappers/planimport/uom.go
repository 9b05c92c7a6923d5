package planimport

import (
	"context"
	"fmt"
	"math"

	"github.com/plangate/plangate/mappers/odoo"
)

// unit is what a quantity conversion needs of a uom.uom.
type unit struct {
	factor   float64
	rounding float64
	category int
}

// uoms converts proposal quantities into the products' purchase units.
type uoms struct {
	purchase map[int]int // product → uom_po_id
	units    map[int]unit
}

// toPurchase converts q from unit from into the product's purchase unit
// the way Odoo's uom.uom._compute_quantity does (divide by the factor of
// from, multiply by the factor of the purchase unit, round half-up to its
// rounding). When the purchase unit is unknown or of another category the
// quantity stays in from.
func (u *uoms) toPurchase(q float64, from, product int) (int, float64) {
	if u == nil {
		return from, q
	}
	to := u.purchase[product]
	if to == 0 || to == from {
		return from, q
	}
	f, okF := u.units[from]
	t, okT := u.units[to]
	if !okF || !okT || f.category != t.category || f.factor == 0 {
		return from, q
	}
	return to, roundHalfUp(q/f.factor*t.factor, t.rounding)
}

// roundHalfUp is Odoo's float_round(…, rounding_method='HALF-UP'): the
// value in units of rounding, nudged by one ulp of its magnitude, rounded
// away from zero at .5.
func roundHalfUp(v, rounding float64) float64 {
	if rounding <= 0 || v == 0 {
		return v
	}
	n := v / rounding
	eps := math.Pow(2, math.Log2(math.Abs(n))-52)
	n = math.Round(n + math.Copysign(eps, n))
	// Back to a decimal value without binary noise (0.33 not 0.33000000000000002).
	digits := int(math.Max(0, math.Ceil(-math.Log10(rounding))))
	p := math.Pow(10, float64(digits))
	return math.Round(n*rounding*p) / p
}

// purchaseUoMs reads the purchase units of the proposed products and the
// units involved (two calls).
func (r *run) purchaseUoMs(ctx context.Context, order []*rfq) (*uoms, error) {
	u := &uoms{purchase: map[int]int{}, units: map[int]unit{}}
	seen := map[int]bool{}
	var prods []int
	need := map[int]bool{}
	for _, q := range order {
		for _, l := range q.lines {
			need[l.uom] = true
			if !seen[l.product] {
				seen[l.product] = true
				prods = append(prods, l.product)
			}
		}
	}
	recs, err := r.s.Read(ctx, "product.product", prods, odoo.Query{Fields: []string{"uom_po_id"}, Context: odoo.Context{"active_test": false}})
	if err != nil {
		return nil, fmt.Errorf("read purchase units: %w", err)
	}
	for _, p := range recs {
		if id := p.M2OID("uom_po_id"); id != 0 {
			u.purchase[p.ID()] = id
			need[id] = true
		}
	}
	ids := make([]int, 0, len(need))
	for id := range need {
		if id != 0 {
			ids = append(ids, id)
		}
	}
	units, err := r.s.Read(ctx, "uom.uom", ids, odoo.Query{Fields: []string{"factor", "rounding", "category_id"}, Context: odoo.Context{"active_test": false}})
	if err != nil {
		return nil, fmt.Errorf("read units of measure: %w", err)
	}
	for _, x := range units {
		u.units[x.ID()] = unit{factor: x.Float("factor"), rounding: x.Float("rounding"), category: x.M2OID("category_id")}
	}
	return u, nil
}
