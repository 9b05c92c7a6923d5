package oms

import "fmt"

func init() {
	Register("min_multiple", "keep warehouses holding at least factor × the pending quantity of the product", newMinMultiple)
}

type minMultiple struct{ factor float64 }

func newMinMultiple(p Params) (Algorithm, error) {
	f, err := p.Float("factor", 2)
	if err != nil {
		return nil, err
	}
	if f <= 0 {
		return nil, fmt.Errorf("parameter factor: must be positive, got %v", f)
	}
	return minMultiple{f}, p.Done()
}

func (a minMultiple) Apply(in *Input) Group {
	demand := in.Demand()
	out := in.Group.Filter(func(c Candidate) bool { return c.Available >= a.factor*demand[c.Product]-qtyEpsilon })
	if n := len(in.Group) - len(out); n > 0 {
		in.Logf("dropped %d candidates holding less than %g× the demand", n, a.factor)
	}
	return out
}
