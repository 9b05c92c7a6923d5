package oms

import (
	"errors"
	"fmt"
)

func init() {
	Register("preference", "rank warehouses in a configured order of warehouse codes; others after them, or dropped", newPreference)
}

type preference struct {
	rank       map[string]int
	dropOthers bool
}

func newPreference(p Params) (Algorithm, error) {
	order, err := p.Strings("order")
	if err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, errors.New("parameter order: list the warehouse codes, most preferred first")
	}
	others, err := p.String("others", "keep")
	if err != nil {
		return nil, err
	}
	if others != "keep" && others != "drop" {
		return nil, fmt.Errorf("parameter others: want keep or drop, got %q", others)
	}
	a := preference{rank: make(map[string]int, len(order)), dropOthers: others == "drop"}
	for i, code := range order {
		if _, dup := a.rank[code]; dup {
			return nil, fmt.Errorf("parameter order: %s listed twice", code)
		}
		a.rank[code] = i
	}
	return a, p.Done()
}

func (a preference) code(in *Input, w int) string {
	if wh := in.Warehouses[w]; wh != nil {
		return wh.Code
	}
	return ""
}

func (a preference) Apply(in *Input) Group {
	g := in.Group
	if a.dropOthers {
		g = g.Filter(func(c Candidate) bool { _, ok := a.rank[a.code(in, c.Warehouse)]; return ok })
	}
	out := g.Reprioritize(func(c Candidate) float64 {
		if r, ok := a.rank[a.code(in, c.Warehouse)]; ok {
			return float64(r)
		}
		return float64(len(a.rank))
	})
	in.Logf("ranked by preference: %s", labels(in, out.sortedWarehouses()))
	return out
}

// sortedWarehouses lists warehouses in the order the group will have once sorted.
func (g Group) sortedWarehouses() []int {
	s := append(Group(nil), g...)
	s.sortStable()
	return s.Warehouses()
}
