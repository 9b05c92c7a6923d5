package oms

func init() {
	Register("one_warehouse", "ship the whole order from one warehouse when one can; otherwise prefer warehouses that ship more lines (fewest splits)", newOneWarehouse)
}

type oneWarehouse struct{ strict bool }

func newOneWarehouse(p Params) (Algorithm, error) {
	strict, err := p.Bool("strict", false)
	if err != nil {
		return nil, err
	}
	return oneWarehouse{strict}, p.Done()
}

func (a oneWarehouse) Apply(in *Input) Group {
	cov := in.Coverage()
	full := map[int]bool{}
	for w, n := range cov {
		if n == len(in.Lines) {
			full[w] = true
		}
	}
	if len(full) > 0 {
		out := in.Group.Filter(func(c Candidate) bool { return full[c.Warehouse] })
		in.Logf("%d warehouse(s) can ship every line; kept %s", len(full), labels(in, out.Warehouses()))
		return out
	}
	if a.strict {
		in.Logf("no warehouse can ship every line (strict): nothing kept")
		return Group{}
	}
	in.Logf("no warehouse can ship every line; warehouses ranked by lines they can ship")
	// More lines first: the negated count is the priority.
	return in.Group.Reprioritize(func(c Candidate) float64 { return -float64(cov[c.Warehouse]) })
}

func labels(in *Input, ws []int) string {
	s := ""
	for i, w := range ws {
		if i > 0 {
			s += ", "
		}
		s += in.WarehouseLabel(w)
	}
	if s == "" {
		return "none"
	}
	return s
}
