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
	m := newStockMatrix(in)
	covered := make([]bool, len(in.Lines))
	chosen := map[int]bool{}
	var picks []int
	var best, try []int
	for len(picks) < a.max+1 {
		bestW := -1
		best = best[:0]
		for wi, w := range m.warehouses {
			if chosen[w] {
				continue
			}
			if try = m.shippable(wi, covered, try[:0]); len(try) > len(best) {
				bestW, best, try = w, try, best
			}
		}
		if bestW < 0 {
			break
		}
		chosen[bestW] = true
		picks = append(picks, bestW)
		for _, i := range best {
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
