package xmlschema

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"testing"
)

// planCounts is what an independent pass over a plan document finds: the
// operationplans inside an <operationplans>/<demands> container (nested ones
// belong to their outer record), the <workorder operation=…> and the
// <resource> elements inside those records.
type planCounts struct {
	records, workorders, resources int
	attrs                          [][]PlanAttr // consumed, unprefixed attributes of each record, in document order
}

// countPlan walks doc with a plain strict decoder; ok is false when the
// decoder rejects the document or it holds a directive.
func countPlan(doc []byte) (c planCounts, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	d.CharsetReader = CharsetReader // declared encodings are part of the format
	var stack []string
	inRecord := 0 // depth of the open operationplan record, 0 = none
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return c, len(stack) == 0
		}
		if err != nil {
			return c, false
		}
		switch t := tok.(type) {
		case xml.Directive:
			return c, false
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			switch {
			case inRecord == 0 && t.Name.Local == "operationplan":
				inContainer := false
				for _, s := range stack[:len(stack)-1] {
					if s == "operationplans" || s == "demands" {
						inContainer = true
					}
				}
				if !inContainer {
					return c, false // the reader refuses these
				}
				c.records++
				inRecord = len(stack)
				var as []PlanAttr
				for _, a := range t.Attr {
					if _, ok := consumed[a.Name.Local]; ok && a.Name.Space == "" {
						as = append(as, PlanAttr{a.Name.Local, a.Value})
					}
				}
				c.attrs = append(c.attrs, as)
			case inRecord != 0 && t.Name.Local == "workorder":
				for _, a := range t.Attr {
					if a.Name.Local == "operation" {
						c.workorders++
						break
					}
				}
			case inRecord != 0 && t.Name.Local == "resource":
				c.resources++
			}
		case xml.EndElement:
			if len(stack) == inRecord {
				inRecord = 0
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// FuzzPlanReader feeds arbitrary bytes to the streaming plan reader. It must
// not panic or loop, every error must say something (and a syntax error
// name a line), and a document it reads to the end must hold exactly the
// records, workorders and resources an independent decoder pass counts,
// each record with the consumed attributes that pass reads, in order.
func FuzzPlanReader(f *testing.F) {
	f.Add([]byte(`<plan><operationplans><operationplan reference="A" ordertype="PO"/></operationplans></plan>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		pr := NewPlanReader(bytes.NewReader(doc))
		var got planCounts
		lastLine := 0
		var err error
		// Each record consumes at least one start tag, so a reader that
		// does not finish within len(doc)+1 calls is looping.
		for calls := 0; ; calls++ {
			if calls > len(doc)+1 {
				t.Fatalf("Next called %d times on %d bytes without io.EOF or an error", calls, len(doc))
			}
			var rec *PlanRecord
			rec, err = pr.Next()
			if err != nil {
				if rec != nil {
					t.Fatalf("Next returned a record and the error %v", err)
				}
				break
			}
			if rec == nil {
				t.Fatalf("Next returned record %+v and no error", rec)
			}
			if rec.Line < 1 || rec.Line < lastLine {
				t.Fatalf("record line %d after line %d", rec.Line, lastLine)
			}
			lastLine = rec.Line
			got.records++
			got.attrs = append(got.attrs, rec.Attrs)
			got.workorders += len(rec.Workorders)
			got.resources += len(rec.Resources)
			for _, wo := range rec.Workorders {
				got.resources += len(wo.Resources)
			}
		}
		if err != io.EOF {
			if err.Error() == "" {
				t.Fatalf("error %#v has no message", err)
			}
			var se *PlanSyntaxError
			if errors.As(err, &se) && (se.Msg == "" || se.Line < 1) {
				t.Fatalf("syntax error %#v without message or line", se)
			}
			return
		}
		want, ok := countPlan(doc)
		if !ok {
			t.Fatalf("reader accepted a document a strict decoder rejects")
		}
		if got.records != want.records || got.workorders != want.workorders || got.resources != want.resources {
			t.Fatalf("reader found %+v, an independent pass %+v", got, want)
		}
		for i := range want.attrs {
			if len(got.attrs[i]) != len(want.attrs[i]) || (len(want.attrs[i]) > 0 && !reflect.DeepEqual(got.attrs[i], want.attrs[i])) {
				t.Fatalf("record %d attributes %q, the decoder read %q", i, got.attrs[i], want.attrs[i])
			}
		}
	})
}
