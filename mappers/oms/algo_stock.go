package oms

import "errors"

func init() {
	Register("stock", "keep warehouses whose available stock (less a reserve) can ship at least one pending line of the product (in rules that split lines: any of it)", newStock)
}

type stockAlgo struct{ reserve float64 }

func newStock(p Params) (Algorithm, error) {
	reserve, err := p.Float("reserve", 0)
	if err != nil {
		return nil, err
	}
	if reserve < 0 {
		return nil, errors.New("parameter reserve: must not be negative")
	}
	return stockAlgo{reserve}, p.Done()
}

func (a stockAlgo) Apply(in *Input) Group {
	smallest := in.SmallestLine()
	out := make(Group, 0, len(in.Group))
	for _, c := range in.Group {
		c.Available -= a.reserve
		need, wanted := smallest[c.Product]
		if in.Partial {
			need = 0 // part of a line is worth shipping
		}
		if wanted && c.Available >= need-qtyEpsilon && c.Available > qtyEpsilon {
			out = append(out, c)
		}
	}
	if dropped := len(in.Group) - len(out); dropped > 0 {
		in.Logf("dropped %d of %d candidates without enough stock", dropped, len(in.Group))
	}
	return out
}
