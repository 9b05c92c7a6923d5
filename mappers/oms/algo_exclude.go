package oms

import "errors"

func init() {
	Register("exclude", "drop the listed warehouses (by code)", newExclude)
}

type exclude struct{ codes map[string]bool }

func newExclude(p Params) (Algorithm, error) {
	codes, err := p.Strings("warehouses")
	if err != nil {
		return nil, err
	}
	if len(codes) == 0 {
		return nil, errors.New("parameter warehouses: list the codes to exclude")
	}
	a := exclude{codes: map[string]bool{}}
	for _, c := range codes {
		a.codes[c] = true
	}
	return a, p.Done()
}

func (a exclude) Apply(in *Input) Group {
	out := in.Group.Filter(func(c Candidate) bool {
		wh := in.Warehouses[c.Warehouse]
		return wh == nil || !a.codes[wh.Code]
	})
	if n := len(in.Group) - len(out); n > 0 {
		in.Logf("dropped %d candidates of excluded warehouses", n)
	}
	return out
}
