package docdiff

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Kind is what a difference is about.
type Kind string

// The kinds of difference.
const (
	KindMissing   Kind = "missing"   // an element of A that B lacks (with its subtree)
	KindExtra     Kind = "extra"     // an element of B that A lacks
	KindAttribute Kind = "attribute" // an attribute differs, or only one side has it
	KindText      Kind = "text"      // an element's text differs
	KindOrder     Kind = "order"     // matched children, or sections, in another order
)

// Difference is one difference between the documents.
type Difference struct {
	Section string `json:"section"`
	Kind    Kind   `json:"kind"`
	// Path locates it: in A, or in B for extra elements; .../@attr for an
	// attribute, .../text() for text, the parent for an order.
	Path string `json:"path"`
	// A and B are the two values (nil: absent on that side); the start
	// tag of a missing or extra element; for an order, the children of
	// each side in its order.
	A *string `json:"a"`
	B *string `json:"b"`
	// Elements counts the elements of a missing or extra subtree.
	Elements int    `json:"elements,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// SectionSummary sums up one section. Every element of either document
// is equal, changed (matched but its attributes or text differ), missing
// or extra; a matched element counts once.
type SectionSummary struct {
	Name        string `json:"name"`
	ElementsA   int    `json:"elements_a"`
	ElementsB   int    `json:"elements_b"`
	Equal       int    `json:"equal"`
	Changed     int    `json:"changed"`
	Missing     int    `json:"missing"`
	Extra       int    `json:"extra"`
	Reordered   int    `json:"reordered"` // parents whose children are in another order
	Differences int    `json:"differences"`
}

// Report is the outcome of a comparison.
type Report struct {
	// A and B name the documents, for the reader; Compare leaves them empty.
	A     string `json:"a,omitempty"`
	B     string `json:"b,omitempty"`
	Equal bool   `json:"equal"`
	// Elements is every element compared (equal + changed + missing +
	// extra); ShareEqual is EqualElements / Elements (1 for no elements).
	Elements      int     `json:"elements"`
	EqualElements int     `json:"equal_elements"`
	ShareEqual    float64 `json:"share_equal"`
	// ClockWindow is, when the clock was ignored, how many seconds apart
	// datetimes could be and count as equal.
	ClockWindow float64           `json:"clock_window_seconds,omitempty"`
	Sections    []*SectionSummary `json:"sections"`
	Differences []Difference      `json:"differences"`
}

func (r *Report) finish() {
	for _, s := range r.Sections {
		r.Elements += s.Equal + s.Changed + s.Missing + s.Extra
		r.EqualElements += s.Equal
	}
	r.ShareEqual = 1
	if r.Elements > 0 {
		r.ShareEqual = float64(r.EqualElements) / float64(r.Elements)
	}
	r.Equal = len(r.Differences) == 0
	if r.Differences == nil {
		r.Differences = []Difference{} // JSON: [] rather than null
	}
}

// WriteText writes the report for a reader: the differences of each
// section (at most max per section; 0: all), then a table of the
// sections and the share of elements equal.
func (r *Report) WriteText(w io.Writer, max int) error {
	bw := bufio.NewWriter(w)
	if r.A != "" || r.B != "" {
		fmt.Fprintf(bw, "A: %s\nB: %s\n", r.A, r.B)
	}
	if r.ClockWindow > 0 {
		fmt.Fprintf(bw, "clock ignored: <current>, and datetimes up to %ss apart\n", strconv.FormatFloat(r.ClockWindow, 'f', -1, 64))
	}
	for _, s := range r.Sections {
		if s.Differences == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n%s: %d difference%s\n", s.Name, s.Differences, plural(s.Differences))
		shown := 0
		for _, d := range r.Differences {
			if d.Section != s.Name || (max > 0 && shown == max) {
				continue
			}
			writeDifference(bw, d)
			shown++
		}
		if shown < s.Differences {
			fmt.Fprintf(bw, "  … and %d more in %s (all: --max 0, or --json)\n", s.Differences-shown, s.Name)
		}
	}
	fmt.Fprintf(bw, "\n%-22s %8s %8s %8s %8s %8s %8s %6s\n", "section", "A", "B", "equal", "changed", "missing", "extra", "order")
	var tot SectionSummary
	for _, s := range r.Sections {
		writeRow(bw, s)
		tot.ElementsA += s.ElementsA
		tot.ElementsB += s.ElementsB
		tot.Equal += s.Equal
		tot.Changed += s.Changed
		tot.Missing += s.Missing
		tot.Extra += s.Extra
		tot.Reordered += s.Reordered
	}
	tot.Name = "all"
	writeRow(bw, &tot)
	fmt.Fprintf(bw, "\n%d of %d elements equal (%s%%); ", r.EqualElements, r.Elements, strconv.FormatFloat(100*r.ShareEqual, 'f', 2, 64))
	if r.Equal {
		fmt.Fprintln(bw, "the documents are equal")
	} else {
		fmt.Fprintf(bw, "%d difference%s\n", len(r.Differences), plural(len(r.Differences)))
	}
	return bw.Flush()
}

func writeRow(w io.Writer, s *SectionSummary) {
	fmt.Fprintf(w, "%-22s %8d %8d %8d %8d %8d %8d %6d\n", s.Name, s.ElementsA, s.ElementsB, s.Equal, s.Changed, s.Missing, s.Extra, s.Reordered)
}

func writeDifference(w io.Writer, d Difference) {
	switch d.Kind {
	case KindMissing, KindExtra:
		side := "only in A"
		tag := d.A
		if d.Kind == KindExtra {
			side, tag = "only in B", d.B
		}
		more := ""
		if d.Elements > 1 {
			more = fmt.Sprintf(", %d elements", d.Elements)
		}
		fmt.Fprintf(w, "  %-8s %s: %s (%s%s)\n", d.Kind, d.Path, *tag, side, more)
	case KindOrder:
		fmt.Fprintf(w, "  %-8s %s: %s\n", d.Kind, d.Path, d.Detail)
	default:
		fmt.Fprintf(w, "  %-8s %s: %s | %s\n", "changed", d.Path, value(d.A), value(d.B))
	}
}

// value shows one side's value: quoted, or (absent).
func value(s *string) string {
	if s == nil {
		return "(absent)"
	}
	return strconv.Quote(*s)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
