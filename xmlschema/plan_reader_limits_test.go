package xmlschema

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// readAll runs a reader to its end and returns the records and the error.
func readAll(pr *PlanReader) (int, error) {
	n := 0
	for {
		_, err := pr.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func TestPlanReaderLimits(t *testing.T) {
	lim := PlanLimits{MaxDepth: 8, MaxToken: 100, MaxAttrs: 4, MaxElements: 5}
	wrap := func(s string) string { return "<plan><operationplans>" + s + "</operationplans></plan>" }
	long := strings.Repeat("x", 200)
	cases := []struct {
		name, doc string
		want      string // "" when the document is within the limits
	}{
		{"within every limit", wrap(`<operationplan reference="a" quantity="1"><workorder operation="w - 1"><resource id="1"/></workorder></operationplan>`), ""},
		{"nested just deep enough", "<plan><a><b><c><d><e><f><g></g></f></e></d></c></b></a></plan>", ""},
		{"nested too deep", "<plan><a><b><c><d><e><f><g><h/></g></f></e></d></c></b></a></plan>", "nested more than 8 deep"},
		{"long attribute", wrap(`<operationplan reference="` + long + `"/>`), "element tag longer than 100 bytes"},
		{"'>' in a long attribute", wrap(`<operationplan reference="` + strings.Repeat(">", 200) + `"/>`), "element tag longer than 100 bytes"},
		{"long element name", wrap("<" + long + "/>"), "element tag longer than 100 bytes"},
		{"long text", wrap(long), "text longer than 100 bytes"},
		{"long text of '>'", wrap(strings.Repeat(">", 200)), "text longer than 100 bytes"},
		{"long comment", wrap("<!--" + long + "-->"), "comment longer than 100 bytes"},
		{"long comment with markup inside", wrap("<!--" + strings.Repeat("<a>", 70) + "-->"), "comment longer than 100 bytes"},
		{"long CDATA", wrap("<![CDATA[" + strings.Repeat("<>", 70) + "]]>"), "CDATA section longer than 100 bytes"},
		{"long processing instruction", wrap("<?pi " + strings.Repeat("?>", 0) + long + "?>"), "processing instruction longer than 100 bytes"},
		{"long DOCTYPE", "<!DOCTYPE plan [" + strings.Repeat(`<!ENTITY a "b">`, 10) + "]><plan/>", "declaration longer than 100 bytes"},
		{"short text runs are fine", wrap(strings.Repeat("<a/>"+strings.Repeat(" ", 90), 10)), ""},
		{"too many attributes", wrap(`<operationplan a="1" b="2" c="3" d="4" e="5"/>`), "more than 4 attributes"},
		{"too many records", wrap(strings.Repeat(`<operationplan/>`, 6)), "more than 5 operationplan, workorder and resource elements"},
		{"too many resources in one record", wrap(`<operationplan>` + strings.Repeat(`<resource id="1"/>`, 5) + `</operationplan>`), "more than 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAll(NewPlanReaderLimits(strings.NewReader(c.doc), lim))
			if c.want == "" {
				if err != nil {
					t.Fatalf("error %v for a document within the limits", err)
				}
				return
			}
			var se *PlanSyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, c.want) || se.Line < 1 {
				t.Fatalf("error %v, want a syntax error with a line and %q", err, c.want)
			}
		})
	}
}

// endless yields head, then repeats unit without end, counting bytes read.
type endless struct {
	head, unit []byte
	n          int64
}

func (e *endless) Read(p []byte) (int, error) {
	k := 0
	for k < len(p) {
		if len(e.head) > 0 {
			c := copy(p[k:], e.head)
			e.head = e.head[c:]
			k += c
			continue
		}
		c := copy(p[k:], e.unit[int(e.n)%len(e.unit):])
		k += c
		e.n += int64(c)
	}
	return k, nil
}

// An endless document of each kind is refused with the default limits
// after reading little more than the limit, so memory cannot grow with
// the body (issue #12 item 2: a 42 MB body of nested elements made the
// gateway grow to about 1 GB).
func TestPlanReaderRefusesEndlessInput(t *testing.T) {
	for _, c := range []struct {
		name       string
		head, unit string
		want       string
	}{
		{"nesting", "<plan>", "<a>", "nested more than 32 deep"},
		{"attribute", `<plan><operationplans><operationplan reference="`, "x", "element tag longer than"},
		{"text", "<plan>", "x", "text longer than"},
		{"comment", "<plan><!--", "<a>", "comment longer than"},
		{"records", "<plan><operationplans>", "<operationplan/>", "more than 200000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := &endless{head: []byte(c.head), unit: []byte(c.unit)}
			_, err := readAll(NewPlanReader(in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if limit := int64(8 << 20); in.n > limit {
				t.Errorf("read %d bytes before refusing, want at most %d", in.n, limit)
			}
		})
	}
}

// The scanner's view of where units end agrees with encoding/xml's on
// the constructs whose terminators look like other markup.
func TestBoundedInputTerminators(t *testing.T) {
	doc := `<?xml version="1.0"?><!-- a - b > c --><plan q='>"' r=">'"><operationplans><![CDATA[ ]> ]x]> ]]]><?pi ? > ?></operationplans></plan>`
	if _, err := readAll(NewPlanReaderLimits(strings.NewReader(doc), PlanLimits{MaxToken: 30})); err != nil {
		t.Fatalf("a unit's end was missed: %v", err)
	}
	b := newBoundedInput(bytes.NewReader([]byte(doc)), 1<<20)
	if _, err := io.Copy(io.Discard, b); err != nil {
		t.Fatal(err)
	}
	if b.state != inText || b.quote != 0 {
		t.Errorf("after the document the scanner is in state %d (quote %q), want text", b.state, b.quote)
	}
}
