package oms

import "fmt"

func init() {
	Register("max_splits", "limit the order to max+1 warehouses, chosen greedily by the lines each ships (in rules that split lines, then by the quantity each holds)", newMaxSplits)
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
// limit is reached. In a rule that splits lines, when no warehouse left
// ships a whole line, it goes on with the warehouse holding most of what
// the lines still need. Greedy set cover is not always minimal, but it is
// predictable and explainable in the log.
func (a maxSplits) Apply(in *Input) Group {
	m := newStockMatrix(in)
	covered := make([]bool, len(in.Lines))
	chosen := map[int]bool{}
	var picks, pickIdx []int
	var best, try []int
	for len(picks) < a.max+1 {
		bestW, bestI := -1, -1
		best = best[:0]
		for wi, w := range m.warehouses {
			if chosen[w] {
				continue
			}
			if try = m.shippable(wi, covered, try[:0]); len(try) > len(best) {
				bestW, bestI, best, try = w, wi, try, best
			}
		}
		if bestW < 0 {
			break
		}
		chosen[bestW] = true
		picks, pickIdx = append(picks, bestW), append(pickIdx, bestI)
		for _, i := range best {
			covered[i] = true
			m.qty[bestI][m.lineProd[i]] -= in.Lines[i].Qty
		}
	}
	need := make([]float64, len(in.Lines))
	for i, l := range in.Lines {
		if !covered[i] {
			need[i] = l.Qty
		}
	}
	if in.Partial {
		for _, wi := range pickIdx { // what the chosen hold beyond their whole lines comes first
			m.give(wi, need, true)
		}
		for len(picks) < a.max+1 {
			bestW, bestI, most := -1, -1, qtyEpsilon
			for wi, w := range m.warehouses {
				if !chosen[w] {
					if q := m.give(wi, need, false); q > most {
						bestW, bestI, most = w, wi, q
					}
				}
			}
			if bestW < 0 {
				break
			}
			chosen[bestW] = true
			picks = append(picks, bestW)
			m.give(bestI, need, true)
		}
	}
	open := 0
	for _, n := range need {
		if n > qtyEpsilon {
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
