package xmlschema

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
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
// a plan of 100k records is never held as one tree. The document must be
// one complete <plan> element; DOCTYPE declarations and entity references
// other than the five XML ones are rejected, and PlanLimits bound depth
// and the size of every tag and text.
type PlanReader struct {
	dec       *xml.Decoder
	lim       PlanLimits
	container int // depth inside <operationplans>/<demands>; 0 = outside
	depth     int
	root      rootState
	content   bool // anything but blanks seen (an XML declaration counts)
	utf16     bool // the input had a UTF-16 byte order mark and is decoded
	elements  int  // operationplans, workorders and resources returned
}

// rootState says where the reader is relative to the <plan> element.
type rootState uint8

const (
	beforeRoot rootState = iota
	inRoot
	afterRoot
)

// NewPlanReader returns a reader over r with DefaultPlanLimits.
func NewPlanReader(r io.Reader) *PlanReader { return NewPlanReaderLimits(r, PlanLimits{}) }

// NewPlanReaderLimits returns a reader over r with the given limits.
func NewPlanReaderLimits(r io.Reader, lim PlanLimits) *PlanReader {
	p := &PlanReader{lim: lim.withDefaults()}
	br := bufio.NewReader(r)
	// encoding/xml reads bytes; a UTF-16 document (lxml reads those) is
	// recognised by its byte order mark and decoded to UTF-8 first.
	if bom, _ := br.Peek(2); len(bom) == 2 && (bom[0] == 0xFE && bom[1] == 0xFF || bom[0] == 0xFF && bom[1] == 0xFE) {
		p.utf16 = true
		r = transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	} else {
		r = br
	}
	d := xml.NewDecoder(newBoundedInput(r, p.lim.MaxToken))
	d.Strict = true
	d.Entity = nil // only &lt; &gt; &amp; &apos; &quot; and character references
	d.CharsetReader = p.charsetReader
	p.dec = d
	return p
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

// utf16Error is a document declared UTF-16 whose bytes are not: its
// declaration was readable as ASCII.
type utf16Error string

func (e utf16Error) Error() string {
	return fmt.Sprintf("the document declares encoding %q but is not UTF-16 (it has no byte order mark)", string(e))
}

// charsetReader is CharsetReader knowing whether the input was UTF-16:
// then it is decoded already, otherwise a UTF-16 label is a lie.
func (p *PlanReader) charsetReader(label string, input io.Reader) (io.Reader, error) {
	if enc, err := htmlindex.Get(label); err == nil && isUTF16(enc) {
		if p.utf16 {
			return input, nil
		}
		return nil, utf16Error(label)
	}
	return CharsetReader(label, input)
}

func isUTF16(enc encoding.Encoding) bool {
	name, _ := htmlindex.Name(enc)
	return name == "utf-16le" || name == "utf-16be"
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
			return nil, p.end()
		}
		if err != nil {
			return nil, p.syntax(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, p.directive(t)
		case xml.CharData:
			if err := p.text(t); err != nil {
				return nil, err
			}
		case xml.ProcInst, xml.Comment:
			p.content = true
		case xml.StartElement:
			if err := p.open(t); err != nil {
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
			p.close()
		}
	}
}

// end is the outcome of the end of the input: io.EOF after a complete
// <plan>, else what is missing.
func (p *PlanReader) end() error {
	switch {
	case p.root == afterRoot:
		return io.EOF
	case p.root == inRoot:
		return &PlanSyntaxError{Line: p.line(), Msg: "the document ends before </plan>"}
	case !p.content:
		return &PlanSyntaxError{Line: p.line(), Msg: "empty plan file: no <plan> element"}
	}
	return &PlanSyntaxError{Line: p.line(), Msg: "the document has no <plan> element"}
}

// open checks a start tag: the root must be <plan>, nothing may follow
// it, and depth and attributes stay within the limits.
func (p *PlanReader) open(t xml.StartElement) error {
	p.content = true
	if p.depth == 0 {
		switch {
		case p.root == afterRoot:
			return &PlanSyntaxError{Line: p.line(), Msg: fmt.Sprintf("element <%s> after </plan>", t.Name.Local)}
		case t.Name.Local != "plan":
			return &PlanSyntaxError{Line: p.line(), Msg: fmt.Sprintf("the root element <%s> is not <plan>", t.Name.Local)}
		}
		p.root = inRoot
	}
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return &PlanSyntaxError{Line: p.line(), Msg: fmt.Sprintf("elements nested more than %d deep", p.lim.MaxDepth)}
	}
	if len(t.Attr) > p.lim.MaxAttrs {
		return &PlanSyntaxError{Line: p.line(), Msg: fmt.Sprintf("<%s> has more than %d attributes", t.Name.Local, p.lim.MaxAttrs)}
	}
	return p.uniqueAttrs(t)
}

// close follows an end tag.
func (p *PlanReader) close() {
	p.depth--
	if p.depth == 0 {
		p.root = afterRoot
	}
}

// text refuses characters outside the root element (an error page, a
// log line); blanks and a byte order mark are allowed there.
func (p *PlanReader) text(t xml.CharData) error {
	if p.root == inRoot {
		return nil
	}
	s := strings.TrimSpace(strings.TrimPrefix(string(t), "\ufeff"))
	if s == "" {
		return nil
	}
	p.content = true
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return &PlanSyntaxError{Line: p.line(), Msg: fmt.Sprintf("text outside the <plan> element: %q", s)}
}

// directive refuses <!DOCTYPE …> and every other declaration.
func (p *PlanReader) directive(t xml.Directive) error {
	d := strings.TrimSpace(string(t))
	if u := strings.ToUpper(d); strings.HasPrefix(u, "DOCTYPE") || strings.HasPrefix(u, "ENTITY") {
		return &PlanSyntaxError{Line: p.line(), Msg: "DOCTYPE and entity declarations are not accepted"}
	}
	if len(d) > 40 {
		d = d[:40] + "…"
	}
	return &PlanSyntaxError{Line: p.line(), Msg: "unexpected directive <!" + d + ">"}
}

func (p *PlanReader) syntax(err error) error {
	var pe *PlanSyntaxError
	if errors.As(err, &pe) {
		return pe // a limit of boundedInput
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if se.Msg == "unexpected EOF" && p.root == inRoot {
			return &PlanSyntaxError{Line: se.Line, Msg: "the document ends before </plan>"}
		}
		return &PlanSyntaxError{Line: se.Line, Msg: se.Msg}
	}
	var ee encodingError
	if errors.As(err, &ee) {
		return &PlanSyntaxError{Line: p.line(), Msg: ee.Error()}
	}
	var ue utf16Error
	if errors.As(err, &ue) {
		return &PlanSyntaxError{Line: p.line(), Msg: ue.Error()}
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

// kept counts an element the caller will hold in memory.
func (p *PlanReader) kept() error {
	p.elements++
	if p.elements > p.lim.MaxElements {
		return &PlanSyntaxError{Line: p.line(), Msg: fmt.Sprintf("more than %d operationplan, workorder and resource elements", p.lim.MaxElements)}
	}
	return nil
}

// record reads the rest of an <operationplan> element.
func (p *PlanReader) record(start xml.StartElement) (*PlanRecord, error) {
	if err := p.kept(); err != nil {
		return nil, err
	}
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
			return nil, p.directive(t)
		case xml.StartElement:
			if err := p.open(t); err != nil {
				return nil, err
			}
			var a map[string]string
			switch t.Name.Local {
			case "workorder", "resource":
				if err := p.kept(); err != nil {
					return nil, err
				}
				a = attrs(t)
			}
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
			p.close()
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
