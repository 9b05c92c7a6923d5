package docdiff

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/plangate/plangate/xmlschema"
)

// Options tune a comparison. The zero value compares everything.
type Options struct {
	// IgnoreOrder skips the check that children come in the same order.
	IgnoreOrder bool
	// IgnoreClock skips the values a document takes from the moment it
	// was made: the header's <current>, and datetimes of A and B that lie
	// within ClockWindow of each other.
	IgnoreClock bool
	// ClockWindow is how far apart two datetimes may be and still count
	// as equal under IgnoreClock. 0: the distance between the documents'
	// <current> values plus DefaultClockSlack.
	ClockWindow time.Duration
	// Sections limits the comparison to these sections (SectionNames, or
	// the names the documents use); empty: all.
	Sections []string
}

// DefaultClockSlack is added to the distance between the documents'
// <current> values: the addon reads the clock again for work orders, a
// second or so after <current> (fixtures README, "Values that depend on
// the moment of the request").
const DefaultClockSlack = 2 * time.Second

// Compare compares document b against document a. The only error is an
// unknown section name in opts.Sections.
func Compare(a, b *Document, opts Options) (*Report, error) {
	c := &comparer{opts: opts, r: &Report{}, sums: map[string]*SectionSummary{}}
	if opts.IgnoreClock {
		c.window = clockWindow(a, b, opts.ClockWindow)
		c.r.ClockWindow = c.window.Seconds()
	}
	if len(opts.Sections) > 0 {
		known := map[string]bool{}
		for _, n := range SectionNames() {
			known[n] = true
		}
		for _, d := range []*Document{a, b} {
			for _, s := range d.sections {
				known[s.name] = true
			}
		}
		c.only = map[string]bool{}
		for _, n := range opts.Sections {
			if !known[n] {
				return nil, fmt.Errorf("unknown section %q (sections: %s)", n, strings.Join(SectionNames(), ", "))
			}
			c.only[n] = true
		}
	}
	c.compare(a, b)
	c.r.finish()
	return c.r, nil
}

// clockWindow is the ClockWindow in force for a and b.
func clockWindow(a, b *Document, given time.Duration) time.Duration {
	if given > 0 {
		return given
	}
	ta, okA := parseClock(a.current)
	tb, okB := parseClock(b.current)
	if !okA || !okB {
		return DefaultClockSlack
	}
	d := tb.Sub(ta)
	if d < 0 {
		d = -d
	}
	return d + DefaultClockSlack
}

type comparer struct {
	opts   Options
	window time.Duration
	only   map[string]bool // nil: every section
	r      *Report
	sums   map[string]*SectionSummary
	sec    *SectionSummary // section being compared
}

func (c *comparer) wanted(name string) bool { return c.only == nil || c.only[name] }

// summary returns the summary of a section, added to the report in the
// order sections are first met.
func (c *comparer) summary(name string) *SectionSummary {
	s := c.sums[name]
	if s == nil {
		s = &SectionSummary{Name: name}
		c.sums[name] = s
		c.r.Sections = append(c.r.Sections, s)
	}
	return s
}

func (c *comparer) compare(a, b *Document) {
	if c.wanted("header") {
		// The root itself belongs to the header: its attributes (source,
		// namespaces) and, in a mode-0 document, its text.
		c.sec = c.summary("header")
		c.sec.ElementsA++
		c.sec.ElementsB++
		c.own(&path{seg: "plan"}, a.root, b.root)
	}
	secB := map[string]*section{}
	for _, s := range b.sections {
		secB[s.name] = s
	}
	var common []string
	for _, sa := range a.sections {
		if !c.wanted(sa.name) {
			continue
		}
		c.sec = c.summary(sa.name)
		sb := secB[sa.name]
		if sb == nil {
			c.children(nil, "plan", sa.nodes, nil)
			continue
		}
		common = append(common, sa.name)
		c.children(nil, "plan", sa.nodes, sb.nodes)
	}
	var commonB []string
	for _, sb := range b.sections {
		if !c.wanted(sb.name) {
			continue
		}
		if slices.Contains(common, sb.name) {
			commonB = append(commonB, sb.name)
			continue
		}
		c.sec = c.summary(sb.name)
		c.children(nil, "plan", nil, sb.nodes)
	}
	if !c.opts.IgnoreOrder && !slices.Equal(common, commonB) {
		// The planner needs objects defined before they are referenced
		// (spec §3.2): sections in another order can change the model.
		c.sec = c.summary("header")
		c.add(Difference{Kind: KindOrder, Path: "plan", A: ptr(strings.Join(common, ", ")), B: ptr(strings.Join(commonB, ", ")),
			Detail: "sections in another order"})
		c.sec.Reordered++
	}
}

// pair compares two matched elements and their subtrees.
func (c *comparer) pair(at *path, a, b *etree.Element) {
	c.sec.ElementsA++
	c.sec.ElementsB++
	c.own(at, a, b)
	c.children(at, a.FullTag(), a.ChildElements(), b.ChildElements())
}

// own compares the attributes and the text of two matched elements.
func (c *comparer) own(at *path, a, b *etree.Element) {
	n := len(c.r.Differences)
	for _, aa := range a.Attr {
		key := aa.FullKey()
		bv := b.SelectAttr(key)
		switch {
		case bv == nil:
			c.add(Difference{Kind: KindAttribute, Path: at.String() + "/@" + key, A: ptr(aa.Value)})
		case !c.sameValue(aa.Value, bv.Value):
			c.add(Difference{Kind: KindAttribute, Path: at.String() + "/@" + key, A: ptr(aa.Value), B: ptr(bv.Value)})
		}
	}
	for _, bt := range b.Attr {
		if a.SelectAttr(bt.FullKey()) == nil {
			c.add(Difference{Kind: KindAttribute, Path: at.String() + "/@" + bt.FullKey(), B: ptr(bt.Value)})
		}
	}
	clock := c.opts.IgnoreClock && at.up == nil && at.seg == "current"
	if ta, tb := text(a), text(b); ta != tb && !clock && !c.sameValue(ta, tb) {
		c.add(Difference{Kind: KindText, Path: at.String() + "/text()", A: ptr(ta), B: ptr(tb)})
	}
	if len(c.r.Differences) == n {
		c.sec.Equal++
	} else {
		c.sec.Changed++
	}
}

// sameValue compares two values, datetimes within the clock window alike
// when the clock is ignored.
func (c *comparer) sameValue(a, b string) bool {
	if a == b {
		return true
	}
	if !c.opts.IgnoreClock {
		return false
	}
	ta, okA := parseClock(a)
	tb, okB := parseClock(b)
	if !okA || !okB {
		return false
	}
	d := ta.Sub(tb)
	return d <= c.window && -d <= c.window
}

// children matches the child elements of two matched parents by identity
// and compares each pair; as or bs is nil for a parent only one side has.
func (c *comparer) children(at *path, parent string, as, bs []*etree.Element) {
	ka, kb := keyChildren(parent, as), keyChildren(parent, bs)
	inB := make(map[string]int, len(kb))
	for j, k := range kb {
		inB[k.key] = j
	}
	matched := make([]int, len(ka)) // index in kb, -1: missing
	usedB := make([]bool, len(kb))
	var pairs []int // indexes in ka of matched children, in A's order
	for i, k := range ka {
		j, ok := inB[k.key]
		if !ok {
			matched[i] = -1
			continue
		}
		matched[i] = j
		usedB[j] = true
		pairs = append(pairs, i)
	}
	if !c.opts.IgnoreOrder && len(pairs) > 1 {
		c.order(at, ka, kb, pairs, matched)
	}
	for i, k := range ka {
		p := path{up: at, seg: k.seg}
		if matched[i] < 0 {
			n := count(k.el)
			c.sec.ElementsA += n
			c.sec.Missing += n
			c.add(Difference{Kind: KindMissing, Path: p.String(), A: ptr(startTag(k.el)), Elements: n})
			continue
		}
		c.pair(&p, k.el, kb[matched[i]].el)
	}
	for j, k := range kb {
		if usedB[j] {
			continue
		}
		n := count(k.el)
		c.sec.ElementsB += n
		c.sec.Extra += n
		c.add(Difference{Kind: KindExtra, Path: (&path{up: at, seg: k.seg}).String(), B: ptr(startTag(k.el)), Elements: n})
	}
}

// order reports matched children that B has in another order than A: the
// fewest children that moved (those off a longest run in the same order).
func (c *comparer) order(at *path, ka, kb []child, pairs, matched []int) {
	seq := make([]int, len(pairs)) // B positions in A's order
	for n, i := range pairs {
		seq[n] = matched[i]
	}
	keep := longestIncreasing(seq)
	if len(keep) == len(seq) {
		return
	}
	stay := make([]bool, len(seq))
	for _, n := range keep {
		stay[n] = true
	}
	posB := make(map[int]int, len(seq)) // B index → position among matched children of B
	sortedB := slices.Clone(seq)
	sort.Ints(sortedB)
	for p, j := range sortedB {
		posB[j] = p + 1
	}
	var moved []string
	for n, i := range pairs {
		if !stay[n] {
			moved = append(moved, fmt.Sprintf("%s (%s in A, %s in B)", ka[i].seg, ordinal(n+1), ordinal(posB[seq[n]])))
		}
	}
	orderA := make([]string, len(pairs))
	for n, i := range pairs {
		orderA[n] = ka[i].seg
	}
	orderB := make([]string, len(sortedB))
	for p, j := range sortedB {
		orderB[p] = kb[j].seg
	}
	detail := fmt.Sprintf("%d of %d children in another order: %s", len(moved), len(seq), strings.Join(moved[:min(len(moved), 5)], ", "))
	if len(moved) > 5 {
		detail += fmt.Sprintf(", and %d more", len(moved)-5)
	}
	where := at.String()
	if where == "" {
		where = "plan"
	}
	c.add(Difference{Kind: KindOrder, Path: where, A: ptr(strings.Join(firstOf(orderA, 20), ", ")),
		B: ptr(strings.Join(firstOf(orderB, 20), ", ")), Detail: detail})
	c.sec.Reordered++
}

func (c *comparer) add(d Difference) {
	d.Section = c.sec.Name
	c.sec.Differences++
	c.r.Differences = append(c.r.Differences, d)
}

// longestIncreasing returns the indexes of a longest strictly increasing
// subsequence of seq (patience sorting, O(n log n)).
func longestIncreasing(seq []int) []int {
	tails := []int{} // tails[k]: index in seq of the smallest tail of a run of length k+1
	prev := make([]int, len(seq))
	for i, v := range seq {
		k := sort.Search(len(tails), func(k int) bool { return seq[tails[k]] >= v })
		if k > 0 {
			prev[i] = tails[k-1]
		} else {
			prev[i] = -1
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	out := make([]int, len(tails))
	for k, i := len(tails)-1, tails[len(tails)-1]; k >= 0; k, i = k-1, prev[i] {
		out[k] = i
	}
	return out
}

// path is where an element is, built only when a difference needs it:
// segments from the root's child down, each linked to its parent.
type path struct {
	up  *path
	seg string
}

// String renders the path; the root's own path is "plan", below it paths
// start at the root's child (items/item[@name="x"]).
func (p *path) String() string {
	if p == nil {
		return ""
	}
	if p.up == nil {
		return p.seg
	}
	return p.up.String() + "/" + p.seg
}

// text is an element's own character data, trimmed: the layout whitespace
// between child elements is not content.
func text(e *etree.Element) string {
	var b strings.Builder
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// count is the number of elements in e's subtree, e included.
func count(e *etree.Element) int {
	n := 1
	for _, ch := range e.Child {
		if ce, ok := ch.(*etree.Element); ok {
			n += count(ce)
		}
	}
	return n
}

// startTag shows an element as its start tag, shortened, for the report.
func startTag(e *etree.Element) string {
	var b strings.Builder
	b.WriteString("<" + e.FullTag())
	for _, a := range e.Attr {
		if b.Len() > 200 {
			b.WriteString(" …")
			break
		}
		b.WriteString(" " + a.FullKey() + "=" + xmlschema.QuoteAttr(a.Value))
	}
	b.WriteString(">")
	return b.String()
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

func firstOf(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

func ptr(s string) *string { return &s }
