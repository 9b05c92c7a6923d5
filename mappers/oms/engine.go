package oms

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// source runs an organization's rules over the pending lines: the heart of
// the engine. It fills run.Rules, run.Allocations and run.Fulfilled.
func (or *orgRules) source(run *Run, sn *Snapshot, lines []PendingLine, refs lineRefs, allowed func(*Warehouse) bool, customer *Point) {
	// left is the stock not yet given to a kept allocation of this run.
	base := make(map[int]Group, len(lines))
	n := 0
	for _, l := range lines {
		if _, done := base[l.Product]; !done {
			g := sn.candidates(l.Product, allowed)
			base[l.Product] = g
			n += len(g)
		}
	}
	left := make(map[uint64]float64, n)
	for _, g := range base {
		for _, c := range g {
			left[key(c.Warehouse, c.Product)] = c.Available
		}
	}
	pending := lines
	var kept []int // the rules whose allocations stand, by index in run.Rules
	for _, r := range or.rules {
		rr := RuleRun{Rule: r.name, Partial: r.partial}
		// The rule's input: pending products' stock still left, in warehouse order.
		seen := make(map[int]bool, len(pending))
		size := 0
		for _, l := range pending {
			if !seen[l.Product] {
				seen[l.Product] = true
				size += len(base[l.Product])
			}
		}
		clear(seen)
		rr.Input = make(Group, 0, size)
		for _, l := range pending {
			if seen[l.Product] {
				continue
			}
			seen[l.Product] = true
			for _, c := range base[l.Product] {
				if q := left[key(c.Warehouse, c.Product)]; q > qtyEpsilon {
					c.Available = q
					rr.Input = append(rr.Input, c)
				}
			}
		}
		g := rr.Input
		for _, c := range r.criteria {
			in := &Input{Lines: pending, Group: g, Warehouses: sn.Warehouses, Customer: customer, Partial: r.partial}
			t0 := time.Now()
			out := c.alg.Apply(in)
			if len(out) > 0 && len(g) > 0 && &out[0] == &g[0] {
				out = slices.Clone(out) // passed through: sorting must not touch the kept input
			}
			out.sortStable()
			rr.Criteria = append(rr.Criteria, CriterionRun{Criterion: c.name, Final: c.final, Output: out, Log: in.log, Duration: time.Since(t0)})
			g = out
			if c.final {
				rr.Log = append(rr.Log, "criterion "+c.name+" is final: remaining criteria skipped")
				break
			}
		}
		// Allocation: each line, whole, to the first candidate of its
		// product with the quantity still left in this rule; a rule that
		// allows partial allocation splits a line that no candidate holds
		// whole over the candidates in group order, and keeps what part
		// of it can be placed. Candidates per product in group order: the
		// first of each product, and for each candidate the next of its
		// product (-1: none).
		first := make(map[int]int, len(seen))
		next := make([]int, len(g))
		for i := len(g) - 1; i >= 0; i-- {
			next[i] = -1
			if j, ok := first[g[i].Product]; ok {
				next[i] = j
			}
			first[g[i].Product] = i
		}
		ruleLeft := make(map[uint64]float64, len(pending))
		stockLeft := func(c Candidate) float64 {
			k := key(c.Warehouse, c.Product)
			q, seen := ruleLeft[k]
			if !seen {
				q = math.Min(c.Available, left[k])
			}
			return q
		}
		type hit struct {
			line, warehouse int
			qty             float64
		}
		hits := make([]hit, 0, len(pending))
		var rest []PendingLine
		for li, l := range pending {
			ok := false
			for i, has := first[l.Product]; has && i >= 0; i = next[i] {
				c := g[i]
				q := stockLeft(c)
				if q >= l.Qty-qtyEpsilon {
					ruleLeft[key(c.Warehouse, c.Product)] = q - l.Qty
					hits = append(hits, hit{li, c.Warehouse, l.Qty})
					ok = true
					break
				}
				ruleLeft[key(c.Warehouse, c.Product)] = q
			}
			placed := 0.0
			if !ok && r.partial {
				from := len(hits)
				for i, has := first[l.Product]; has && i >= 0 && placed < l.Qty-qtyEpsilon; i = next[i] {
					c := g[i]
					q := stockLeft(c)
					if q <= qtyEpsilon {
						continue
					}
					take := math.Min(q, l.Qty-placed)
					ruleLeft[key(c.Warehouse, c.Product)] = q - take
					hits = append(hits, hit{li, c.Warehouse, take})
					placed += take
				}
				if parts := hits[from:]; len(parts) > 0 {
					ws := make([]string, len(parts))
					for j, h := range parts {
						ws[j] = fmt.Sprintf("%s %s", sn.warehouseCode(h.warehouse), strconv.FormatFloat(h.qty, 'f', -1, 64))
					}
					rr.Log = append(rr.Log, fmt.Sprintf("line %s split: %s of %s", l.ID, strings.Join(ws, " + "), strconv.FormatFloat(l.Qty, 'f', -1, 64)))
				}
				ok = placed >= l.Qty-qtyEpsilon
			}
			if !ok {
				if rest == nil {
					rest = make([]PendingLine, 0, len(pending)-li)
					rr.Unplaced = make([]string, 0, len(pending)-li)
				}
				l.Qty -= placed // the part a split could not place
				rest = append(rest, l)
				rr.Unplaced = append(rr.Unplaced, l.ID)
			}
		}
		switch {
		case len(rest) == 0:
			rr.Outcome = OutcomeFulfilled
		case len(hits) == 0:
			rr.Outcome = OutcomeNothing
		case r.partial:
			rr.Outcome = OutcomePartial
		default:
			rr.Outcome = OutcomeDiscarded // what it placed is not kept, nor recorded
		}
		if rr.Outcome == OutcomeFulfilled || rr.Outcome == OutcomePartial {
			if len(hits) > 0 { // none placed: recorded as null, as ever
				rr.Placed = make([]Allocation, len(hits))
			}
			for i, h := range hits {
				l := pending[h.line]
				rr.Placed[i] = refs.allocation(l, h.qty, sn, h.warehouse, r.name)
				left[key(h.warehouse, l.Product)] -= h.qty
			}
			kept = append(kept, len(run.Rules))
			pending = rest
		}
		run.Rules = append(run.Rules, rr)
		if len(pending) == 0 {
			break
		}
	}
	run.Fulfilled = len(pending) == 0
	if run.Fulfilled {
		n := 0
		for _, i := range kept {
			n += len(run.Rules[i].Placed)
		}
		if n > 0 {
			run.Allocations = make([]Allocation, 0, n)
		}
		for _, i := range kept {
			run.Allocations = append(run.Allocations, run.Rules[i].Placed...)
		}
		return
	}
	run.Allocations = []Allocation{}
	ids := make([]string, len(pending))
	for i, l := range pending {
		ids[i] = l.ID
	}
	run.Log = append(run.Log, fmt.Sprintf("no rule completed the order (not placed: %s): empty proposal", strings.Join(ids, ", ")))
}

// key packs a warehouse and product id into one map key (Odoo ids are
// positive int32 values).
func key(warehouse, product int) uint64 { return uint64(warehouse)<<32 | uint64(uint32(product)) }

// lineRefs labels what allocations name.
type lineRefs struct {
	products  map[int]*Product
	uoms      map[int]*UOM
	companies map[int]*Company
}

func (lr lineRefs) allocation(l PendingLine, qty float64, sn *Snapshot, warehouse int, ruleName string) Allocation {
	w := sn.Warehouses[warehouse]
	p := lr.products[l.Product]
	a := Allocation{
		Line:      l.ID,
		Warehouse: Ref{ID: w.ID, SearchKey: w.Code, Identifier: w.Name},
		Product:   Ref{ID: p.ID, SearchKey: p.Code, Identifier: p.Name},
		Qty:       qty,
		Rule:      ruleName,
	}
	if c := lr.companies[w.Company]; c != nil {
		a.Organization = Ref{ID: c.ID, SearchKey: c.Name, Identifier: c.Name}
	}
	if u := lr.uoms[p.UOM]; u != nil {
		a.UOM = Ref{ID: u.ID, SearchKey: u.Name, Identifier: u.Name}
	}
	return a
}

// warehouseCode names a warehouse for log lines.
func (s *Snapshot) warehouseCode(id int) string {
	if w := s.Warehouses[id]; w != nil {
		return w.Code
	}
	return "warehouse " + strconv.Itoa(id)
}
