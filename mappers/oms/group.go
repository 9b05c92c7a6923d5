package oms

import (
	"fmt"
	"slices"
)

// Candidate is stock one warehouse could ship of one product.
type Candidate struct {
	Warehouse int     `json:"warehouse"`
	Product   int     `json:"product"`
	Available float64 `json:"available"` // in the product's unit
	Priority  float64 `json:"priority"`  // lower ships first
}

// Group is the candidates a criterion reads or writes, in priority order.
type Group []Candidate

// Filter returns the candidates keep accepts, in order.
func (g Group) Filter(keep func(Candidate) bool) Group {
	out := make(Group, 0, len(g))
	for _, c := range g {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// Reprioritize returns a copy with each priority set by prio.
func (g Group) Reprioritize(prio func(Candidate) float64) Group {
	out := slices.Clone(g)
	for i := range out {
		out[i].Priority = prio(out[i])
	}
	return out
}

// Warehouses lists the group's warehouses by their best candidate's place.
func (g Group) Warehouses() []int {
	seen := make(map[int]bool)
	var out []int
	for _, c := range g {
		if !seen[c.Warehouse] {
			seen[c.Warehouse] = true
			out = append(out, c.Warehouse)
		}
	}
	return out
}

// sortStable orders by priority; equal priorities keep their order, so the
// order left by earlier criteria breaks ties. (Sorting positions with an
// index tie-break is stable and much faster than an in-place stable sort.)
func (g Group) sortStable() {
	if slices.IsSortedFunc(g, func(a, b Candidate) int { return cmpFloat(a.Priority, b.Priority) }) {
		return
	}
	idx := make([]int, len(g))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmpFloat(g[a].Priority, g[b].Priority); c != 0 {
			return c
		}
		return a - b
	})
	sorted := make(Group, len(g))
	for i, j := range idx {
		sorted[i] = g[j]
	}
	copy(g, sorted)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// PendingLine is a ticket line still to place, in the product's unit.
type PendingLine struct {
	ID      string  `json:"id"`
	Product int     `json:"product"`
	Qty     float64 `json:"qty"`
}

// Point is a place on Earth in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Input is what an algorithm reads: the lines still to place, the group
// left by the previous criterion and facts about warehouses and customer.
type Input struct {
	Lines      []PendingLine
	Group      Group
	Warehouses map[int]*Warehouse
	// Customer is where the order goes; nil when unknown.
	Customer *Point
	// Partial: the rule splits lines no warehouse holds whole, so a
	// warehouse holding part of a line can help.
	Partial bool
	log     []string
}

// Logf adds a line to the criterion's log, kept with the run.
func (in *Input) Logf(format string, args ...any) {
	in.log = append(in.log, fmt.Sprintf(format, args...))
}

// WarehouseLabel names a warehouse for log lines.
func (in *Input) WarehouseLabel(id int) string {
	if w := in.Warehouses[id]; w != nil {
		return w.Code
	}
	return fmt.Sprintf("warehouse %d", id)
}

// Demand is the pending quantity per product.
func (in *Input) Demand() map[int]float64 {
	d := make(map[int]float64, len(in.Lines))
	for _, l := range in.Lines {
		d[l.Product] += l.Qty
	}
	return d
}

// SmallestLine is the smallest pending line quantity per product: stock
// below it cannot ship any line of the product.
func (in *Input) SmallestLine() map[int]float64 {
	d := make(map[int]float64, len(in.Lines))
	for _, l := range in.Lines {
		if q, ok := d[l.Product]; !ok || l.Qty < q {
			d[l.Product] = l.Qty
		}
	}
	return d
}

// Coverage counts, per warehouse of the group, the pending lines it could
// ship whole from its own candidates (lines of one product taken in order
// while its stock lasts).
func (in *Input) Coverage() map[int]int {
	m := newStockMatrix(in)
	cov := make(map[int]int, len(m.warehouses))
	covered := make([]bool, len(in.Lines))
	for wi, w := range m.warehouses {
		cov[w] = len(m.shippable(wi, covered, nil))
	}
	return cov
}

// stockMatrix is the group's stock as warehouse × product arrays, for the
// algorithms that try lines against every warehouse (hot: keep it flat).
type stockMatrix struct {
	in         *Input
	warehouses []int       // dense index → warehouse id, in group order
	lineProd   []int       // per pending line: dense product index
	qty        [][]float64 // [warehouse][product] available
	left       []float64   // scratch, one per product
}

func newStockMatrix(in *Input) *stockMatrix {
	m := &stockMatrix{in: in, lineProd: make([]int, len(in.Lines))}
	prod := make(map[int]int, len(in.Lines))
	for i, l := range in.Lines {
		pi, ok := prod[l.Product]
		if !ok {
			pi = len(prod)
			prod[l.Product] = pi
		}
		m.lineProd[i] = pi
	}
	wh := map[int]int{}
	for _, c := range in.Group {
		wi, ok := wh[c.Warehouse]
		if !ok {
			wi = len(m.warehouses)
			wh[c.Warehouse] = wi
			m.warehouses = append(m.warehouses, c.Warehouse)
			m.qty = append(m.qty, make([]float64, len(prod)))
		}
		if pi, wanted := prod[c.Product]; wanted {
			m.qty[wi][pi] += c.Available
		}
	}
	m.left = make([]float64, len(prod))
	return m
}

// shippable appends to out the lines not yet covered that warehouse wi
// could ship whole, taking lines of one product in order while its stock
// lasts.
func (m *stockMatrix) shippable(wi int, covered []bool, out []int) []int {
	copy(m.left, m.qty[wi])
	for i, l := range m.in.Lines {
		if covered[i] {
			continue
		}
		pi := m.lineProd[i]
		if m.left[pi] >= l.Qty-qtyEpsilon {
			m.left[pi] -= l.Qty
			out = append(out, i)
		}
	}
	return out
}

// give is how much of the lines' remaining need warehouse wi holds,
// lines taken in order; with take, that stock and need are used up.
func (m *stockMatrix) give(wi int, need []float64, take bool) float64 {
	stock := m.qty[wi]
	if !take {
		copy(m.left, stock)
		stock = m.left
	}
	total := 0.0
	for i, n := range need {
		pi := m.lineProd[i]
		if n <= qtyEpsilon || stock[pi] <= qtyEpsilon {
			continue
		}
		q := min(n, stock[pi])
		stock[pi] -= q
		total += q
		if take {
			need[i] -= q
		}
	}
	return total
}

// qtyEpsilon absorbs float noise of unit conversions when comparing stock.
const qtyEpsilon = 1e-9
