package oms

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseTicket: any body either parses into a ticket the engine can
// take (id, lines with a product id or searchKey, a positive finite
// quantity, unique line ids) or fails with an input error naming what is wrong; never a
// panic.
func FuzzParseTicket(f *testing.F) {
	for _, seed := range []string{
		guideTicket,
		`{"ticket":{"id":"T","lines":[{"product":{"id":"1"},"qty":1,"uom":"1"}]}}`,
		`{"ticket":{"id":7,"lines":[{"id":1,"product":{"id":2},"qty":"3.5","uom":{"id":1}}]},"version":"1.0.0"}`,
		`{"ticket":{"id":"T","lines":[{"product":{"id":"1"},"qty":-1,"uom":"1"}]}}`,
		`{"ticket":{"id":"T","lines":[{"product":{"id":"1"},"qty":1e999,"uom":"1"}]}}`,
		`{"ticket":{"id":"T","lines":[{"id":"a","product":{"id":"1"},"qty":1,"uom":"1"},{"id":"a","product":{"id":"1"},"qty":1,"uom":"1"}]}}`,
		`{"ticket":{"id":"T","lines":[{"id":"2","product":{"id":"1"},"qty":1,"uom":"1"},{"product":{"id":"1"},"qty":1,"uom":"1"}]}}`,
		`{"ticket":{"id":"T","lines":[{"product":{"searchKey":"FURN_0789"},"qty":1}]}}`,
		`{"ticket":null}`, `[]`, ``, `{"ticket":{"id":"T","lines":[null]}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		tk, err := ParseTicket(strings.NewReader(body))
		if err != nil {
			if !IsInputError(err) || err.Error() == "" {
				t.Fatalf("error %T %q is not an input error", err, err)
			}
			return
		}
		if tk.ID == "" || len(tk.Lines) == 0 || len(tk.Lines) > MaxLines {
			t.Fatalf("accepted ticket without id or lines: %+v", tk)
		}
		ids := map[string]bool{}
		for _, l := range tk.Lines {
			if l.Product == "" && l.ProductKey == "" || l.ID == "" || !(l.Qty > 0) || math.IsInf(l.Qty, 0) {
				t.Fatalf("accepted line %+v", l)
			}
			if ids[l.ID] {
				t.Fatalf("duplicate line id %q accepted", l.ID)
			}
			ids[l.ID] = true
		}
	})
}
