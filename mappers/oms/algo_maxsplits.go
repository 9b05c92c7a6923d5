package oms

import "fmt"

func init() {
	Register("max_splits", "limit the order to max+1 warehouses, chosen greedily by the lines each ships", newMaxSplits)
}

type maxSplits struct{ max int }

func newMaxSplits(p Params) (Algorithm, error) {
	m, err := p.Int("max", 1)
	if err != nil {
		return nil, err
	}
	if m < 0 {
		return nil, fmt.Errorf("parameter max: must not be negative, got %d", m)
	}
	return maxSplits{m}, p.Done()
}

// Apply picks warehouses one at a time: the one shipping most of the lines
// not yet covered (ties: group order), until every line is covered or the
// limit is reached. Greedy set cover is not always minimal, but it is
// predictable and explainable in the log.
func (a maxSplits) Apply(in *Input) Group {
	order := in.Group.Warehouses()
	stock := make(map[[2]int]float64, len(in.Group))
	for _, c := range in.Group {
		stock[[2]int{c.Warehouse, c.Product}] += c.Available
	}
	covered := make([]bool, len(in.Lines))
	chosen := map[int]bool{}
	var picks []int
	for len(picks) < a.max+1 {
		best, bestLines := 0, []int(nil)
		for _, w := range order {
			if chosen[w] {
				continue
			}
			if l := shippable(w, stock, in.Lines, covered); len(l) > len(bestLines) {
				best, bestLines = w, l
			}
		}
		if len(bestLines) == 0 {
			break
		}
		chosen[best] = true
		picks = append(picks, best)
		for _, i := range bestLines {
			covered[i] = true
		}
	}
	open := 0
	for _, c := range covered {
		if !c {
			open++
		}
	}
	in.Logf("chose %s (at most %d); %d line(s) not covered", labels(in, picks), a.max+1, open)
	rank := map[int]float64{}
	for i, w := range picks {
		rank[w] = float64(i)
	}
	return in.Group.Filter(func(c Candidate) bool { return chosen[c.Warehouse] }).
		Reprioritize(func(c Candidate) float64 { return rank[c.Warehouse] })
}

// shippable lists the lines not yet covered that warehouse w could ship
// whole, taking lines of one product in order while its stock lasts.
func shippable(w int, stock map[[2]int]float64, lines []PendingLine, covered []bool) []int {
	var out []int
	left := map[int]float64{}
	for i, l := range lines {
		if covered[i] {
			continue
		}
		q, ok := left[l.Product]
		if !ok {
			q = stock[[2]int{w, l.Product}]
		}
		if q >= l.Qty-qtyEpsilon {
			q -= l.Qty
			out = append(out, i)
		}
		left[l.Product] = q
	}
	return out
}
