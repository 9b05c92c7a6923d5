package xmlschema

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"
)

// PlanRecord is one <operationplan> of a posted plan, with the nested
// <workorder> and <resource> elements the importer consumes (spec §4.5).
type PlanRecord struct {
	Line int // line of the start tag, for error messages
	// Attrs are the attributes the importer consumes (spec §6.3), as
	// sent, in document order; the others (criticality, batch, …) are
	// dropped so that a plan of 100k records stays small in memory.
	Attrs      []PlanAttr
	Workorders []PlanWorkorder // <workorder operation=…> children
	Resources  []PlanResource  // <resource> elements directly under the operationplan (WO records)
}

// PlanAttr is one attribute of an operationplan.
type PlanAttr struct {
	Name, Value string
}

// consumed are the operationplan attributes read by the import (spec
// §6.3), interned: records share these strings.
var consumed = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"ordertype", "item_id", "location_id", "quantity", "start", "end", "status", "reference", "id",
		"supplier", "item", "origin", "destination", "operation", "owner", "remark"} {
		m[n] = n
	}
	return m
}()

// PlanWorkorder is a <workorder> child of a manufacturing operationplan.
type PlanWorkorder struct {
	Line      int
	Operation string
	Start     string
	End       string
	Resources []PlanResource
}

// PlanResource is a <resource> element: id, name and optional quantity.
type PlanResource struct {
	Line     int
	ID       string
	Name     string
	Quantity string
}

// Attr returns the attribute value, "" when absent.
func (r *PlanRecord) Attr(name string) string {
	for _, a := range r.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// Name identifies the record in messages: reference, then id.
func (r *PlanRecord) Name() string {
	if v := r.Attr("reference"); v != "" {
		return v
	}
	return r.Attr("id")
}

// recordAttrs keeps the consumed attributes of an operationplan, their
// values packed into one string (one allocation per record).
func recordAttrs(se xml.StartElement) []PlanAttr {
	n, size := 0, 0
	for _, a := range se.Attr {
		if _, ok := consumed[a.Name.Local]; ok && a.Name.Space == "" {
			n++
			size += len(a.Value)
		}
	}
	out := make([]PlanAttr, 0, n)
	var b strings.Builder
	b.Grow(size)
	for _, a := range se.Attr {
		if _, ok := consumed[a.Name.Local]; ok && a.Name.Space == "" {
			b.WriteString(a.Value)
		}
	}
	all, off := b.String(), 0
	for _, a := range se.Attr {
		if name, ok := consumed[a.Name.Local]; ok && a.Name.Space == "" {
			out = append(out, PlanAttr{Name: name, Value: all[off : off+len(a.Value)]})
			off += len(a.Value)
		}
	}
	return out
}

// PlanSyntaxError is a malformed or forbidden construct in a plan file.
type PlanSyntaxError struct {
	Line int
	Msg  string
}

func (e *PlanSyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// PlanReader streams the operationplans of a plan file one at a time, so
// a plan of 100k records is never held as one tree. DOCTYPE declarations
// and entity references other than the five XML ones are rejected.
type PlanReader struct {
	dec       *xml.Decoder
	container int // depth inside <operationplans>/<demands>; 0 = outside
	depth     int
}

// NewPlanReader returns a reader over r.
func NewPlanReader(r io.Reader) *PlanReader {
	d := xml.NewDecoder(r)
	d.Strict = true
	d.Entity = nil // only &lt; &gt; &amp; &apos; &quot; and character references
	d.CharsetReader = CharsetReader
	return &PlanReader{dec: d}
}

// encodingError is a declared encoding this reader does not know: the
// sender's mistake, answered like a syntax error.
type encodingError string

func (e encodingError) Error() string { return fmt.Sprintf("unsupported XML encoding %q", string(e)) }

// CharsetReader decodes documents declared in another encoding than UTF-8
// (encoding="ISO-8859-1", "windows-1252", ...), as the addon's lxml parser
// does; names are those of the WHATWG encoding standard. It fits
// encoding/xml's Decoder.CharsetReader.
func CharsetReader(label string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, encodingError(label)
	}
	return transform.NewReader(input, enc.NewDecoder()), nil
}

func (p *PlanReader) line() int {
	l, _ := p.dec.InputPos()
	return l
}

func attrs(se xml.StartElement) map[string]string {
	m := make(map[string]string, len(se.Attr))
	for _, a := range se.Attr {
		m[a.Name.Local] = a.Value
	}
	return m
}

// Next returns the next operationplan, or io.EOF after the document.
func (p *PlanReader) Next() (*PlanRecord, error) {
	for {
		tok, err := p.dec.Token()
		if err == io.EOF {
			if p.depth != 0 {
				return nil, &PlanSyntaxError{Line: p.line(), Msg: "unexpected end of document"}
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, p.syntax(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			d := strings.TrimSpace(string(t))
			if strings.HasPrefix(strings.ToUpper(d), "DOCTYPE") || strings.HasPrefix(strings.ToUpper(d), "ENTITY") {
				return nil, &PlanSyntaxError{Line: p.line(), Msg: "DOCTYPE and entity declarations are not accepted"}
			}
			return nil, &PlanSyntaxError{Line: p.line(), Msg: "unexpected directive <!" + d + ">"}
		case xml.StartElement:
			p.depth++
			if err := p.uniqueAttrs(t); err != nil {
				return nil, err
			}
			switch t.Name.Local {
			case "operationplans", "demands":
				if p.container == 0 {
					p.container = p.depth
				}
			case "operationplan":
				if p.container == 0 {
					return nil, &PlanSyntaxError{Line: p.line(), Msg: "operationplan outside <operationplans>"}
				}
				return p.record(t)
			}
		case xml.EndElement:
			if p.depth == p.container {
				p.container = 0
			}
			p.depth--
		}
	}
}

func (p *PlanReader) syntax(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &PlanSyntaxError{Line: se.Line, Msg: se.Msg}
	}
	var ee encodingError
	if errors.As(err, &ee) {
		return &PlanSyntaxError{Line: p.line(), Msg: ee.Error()}
	}
	return fmt.Errorf("read plan: %w", err)
}

// uniqueAttrs rejects an element that repeats an attribute, a
// well-formedness error encoding/xml lets through (the addon's parser,
// expat, refuses the document).
func (p *PlanReader) uniqueAttrs(se xml.StartElement) error {
	for i := 1; i < len(se.Attr); i++ {
		for j := 0; j < i; j++ {
			if se.Attr[i].Name == se.Attr[j].Name {
				return &PlanSyntaxError{Line: p.line(), Msg: fmt.Sprintf("attribute %s repeated in <%s>", se.Attr[i].Name.Local, se.Name.Local)}
			}
		}
	}
	return nil
}

// record reads the rest of an <operationplan> element.
func (p *PlanReader) record(start xml.StartElement) (*PlanRecord, error) {
	rec := &PlanRecord{Line: p.line(), Attrs: recordAttrs(start)}
	base := p.depth
	var wo *PlanWorkorder
	for {
		tok, err := p.dec.Token()
		if err != nil {
			if err == io.EOF {
				return nil, &PlanSyntaxError{Line: p.line(), Msg: "unexpected end of document inside operationplan " + rec.Name()}
			}
			return nil, p.syntax(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, &PlanSyntaxError{Line: p.line(), Msg: "DOCTYPE and entity declarations are not accepted"}
		case xml.StartElement:
			p.depth++
			if err := p.uniqueAttrs(t); err != nil {
				return nil, err
			}
			a := attrs(t)
			switch t.Name.Local {
			case "workorder":
				if op, ok := a["operation"]; ok {
					rec.Workorders = append(rec.Workorders, PlanWorkorder{Line: p.line(), Operation: op, Start: a["start"], End: a["end"]})
					wo = &rec.Workorders[len(rec.Workorders)-1]
				}
			case "resource":
				r := PlanResource{Line: p.line(), ID: a["id"], Name: a["name"], Quantity: a["quantity"]}
				if wo != nil && p.depth > base+1 {
					wo.Resources = append(wo.Resources, r)
				} else {
					rec.Resources = append(rec.Resources, r)
				}
			}
		case xml.EndElement:
			p.depth--
			if t.Name.Local == "workorder" {
				wo = nil
			}
			if p.depth < base {
				return rec, nil
			}
		}
	}
}

// HasDoctype reports whether the head of a document declares a DOCTYPE,
// for callers that want to refuse early.
func HasDoctype(head []byte) bool { return bytes.Contains(head, []byte("<!DOCTYPE")) }
