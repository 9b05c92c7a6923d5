package oms

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Stored forms of a run, told apart by their first byte ('{' is JSON).
const (
	// runMixed: the run's JSON without its groups, then the groups as
	// binary rows. Written by earlier versions; still read.
	runMixed = 'R'
	// runBinaryB: every field binary; each string and reference is
	// written in full once, and by number where it comes again. Written
	// by earlier versions; still read.
	runBinaryB = 'B'
	// runBinary: runBinaryB with the ticket's date after the database.
	runBinary = 'C'
)

// EncodeRun writes a run for storage, compactly: a 50-line ticket names
// each product, unit and warehouse several times over, and its groups
// hold thousands of candidates; written once each and in binary, a run
// takes a tenth of its JSON and encodes without reflection. Criterion
// inputs are not kept (they repeat the previous output: Expand restores
// them).
func EncodeRun(r *Run) []byte {
	size := 1024 + len(r.Lines)*48 + len(r.Allocations)*8 // a guess, to grow the buffer once at most
	for _, rr := range r.Rules {
		size += len(rr.Input)*8 + len(rr.Placed)*8
		for _, c := range rr.Criteria {
			size += len(c.Output) * 8
		}
	}
	w := runWriter{b: make([]byte, 0, size), strs: make(map[string]int, 2*len(r.Lines)+32),
		refs: make(map[int]int, len(r.Lines)+8), refList: make([]Ref, 0, len(r.Lines)+8), sameID: make([]int, 0, len(r.Lines)+8)}
	w.b = append(w.b, runBinary)
	w.str(r.ID)
	w.str(r.TicketID)
	w.str(r.Database)
	w.str(r.TicketDate)
	w.ref(r.Organization)
	if r.Customer == nil {
		w.b = append(w.b, 0)
	} else {
		w.b = append(w.b, 1)
		w.float(r.Customer.Lat)
		w.float(r.Customer.Lon)
	}
	w.time(r.Start)
	w.varint(int64(r.Duration))
	w.time(r.StockTaken)
	w.count(r.Lines == nil, len(r.Lines))
	for _, l := range r.Lines {
		w.str(l.ID)
		w.ref(l.Product)
		w.qty(l.Qty)
		w.ref(l.UOM)
		w.qty(l.ProductQty)
		w.ref(l.ProductUOM)
	}
	w.count(r.Rules == nil, len(r.Rules))
	for _, rr := range r.Rules {
		w.str(rr.Rule)
		w.bool(rr.Partial)
		w.group(rr.Input)
		w.count(rr.Criteria == nil, len(rr.Criteria))
		for _, c := range rr.Criteria {
			w.str(c.Criterion)
			w.bool(c.Final)
			w.group(c.Output)
			w.strings(c.Log)
			w.varint(int64(c.Duration))
		}
		w.allocations(rr.Placed)
		w.strings(rr.Unplaced)
		w.str(rr.Outcome)
		w.strings(rr.Log)
	}
	w.bool(r.Fulfilled)
	w.allocations(r.Allocations)
	w.strings(r.Log)
	return w.b
}

// runWriter appends a run's fields; strs and refs number what it wrote.
type runWriter struct {
	b    []byte
	strs map[string]int
	// refs maps an id to the number of the last reference written with
	// it; ids of different models meet (unit 1, company 1), so sameID
	// chains each reference to the previous one with its id (-1: none).
	refs    map[int]int
	refList []Ref
	sameID  []int
}

func (w *runWriter) uvarint(n uint64) { w.b = binary.AppendUvarint(w.b, n) }
func (w *runWriter) varint(n int64)   { w.b = binary.AppendVarint(w.b, n) }
func (w *runWriter) float(f float64)  { w.b = binary.BigEndian.AppendUint64(w.b, math.Float64bits(f)) }
func (w *runWriter) qty(f float64)    { w.b = appendQty(w.b, f) }

func (w *runWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// count writes a slice's length, keeping nil apart from empty: JSON
// answers show one as null and the other as [].
func (w *runWriter) count(isNil bool, n int) {
	if isNil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(n) + 1)
}

// str writes 0 and the string the first time, its number+1 afterwards.
func (w *runWriter) str(s string) {
	if i, ok := w.strs[s]; ok {
		w.uvarint(uint64(i) + 1)
		return
	}
	w.strs[s] = len(w.strs)
	w.b = append(w.b, 0)
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// ref writes a reference in full the first time, by number afterwards.
func (w *runWriter) ref(r Ref) {
	last, seen := w.refs[r.ID]
	if seen {
		for i := last; i >= 0; i = w.sameID[i] {
			if w.refList[i] == r {
				w.uvarint(uint64(i) + 1)
				return
			}
		}
	} else {
		last = -1
	}
	w.refs[r.ID] = len(w.refList)
	w.refList = append(w.refList, r)
	w.sameID = append(w.sameID, last)
	w.b = append(w.b, 0)
	w.varint(int64(r.ID))
	w.str(r.SearchKey)
	w.str(r.Identifier)
}

// time keeps the instant and the zone offset, which the JSON shows.
func (w *runWriter) time(t time.Time) {
	_, off := t.Zone()
	w.varint(t.Unix())
	w.uvarint(uint64(t.Nanosecond()))
	w.varint(int64(off))
}

func (w *runWriter) strings(ss []string) {
	w.count(ss == nil, len(ss))
	for _, s := range ss {
		w.str(s)
	}
}

func (w *runWriter) group(g Group) {
	w.count(g == nil, len(g))
	b := slices.Grow(w.b, len(g)*8) // groups are most of a run: keep the loop tight
	for _, c := range g {
		b = binary.AppendVarint(b, int64(c.Warehouse))
		b = binary.AppendVarint(b, int64(c.Product))
		b = appendQty(b, c.Available)
		b = appendQty(b, c.Priority)
	}
	w.b = b
}

func (w *runWriter) allocations(as []Allocation) {
	w.count(as == nil, len(as))
	for _, a := range as {
		w.str(a.Line)
		w.ref(a.Organization)
		w.ref(a.Warehouse)
		w.ref(a.Product)
		w.qty(a.Qty)
		w.ref(a.UOM)
		w.str(a.Rule)
	}
}

var errBadRun = errors.New("stored run: truncated or damaged")

// DecodeRun reads what EncodeRun writes, and the forms earlier versions
// stored (plain JSON; JSON with binary groups; binary without the ticket
// date).
func DecodeRun(b []byte) (*Run, error) {
	if len(b) > 0 {
		switch b[0] {
		case runBinary, runBinaryB:
			return decodeBinaryRun(b[1:], b[0] == runBinary)
		case runMixed:
			return decodeMixedRun(b[1:])
		}
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("stored run: %w", err)
	}
	return &r, nil
}

func decodeBinaryRun(b []byte, withDate bool) (*Run, error) {
	rd := runReader{b: b}
	r := &Run{ID: rd.str(), TicketID: rd.str(), Database: rd.str()}
	if withDate {
		r.TicketDate = rd.str()
	}
	r.Organization = rd.ref()
	if rd.byte() == 1 {
		r.Customer = &Point{Lat: rd.float(), Lon: rd.float()}
	}
	r.Start = rd.time()
	r.Duration = time.Duration(rd.varint())
	r.StockTaken = rd.time()
	if n, ok := rd.count(); ok {
		r.Lines = make([]RunLine, n)
		for i := range r.Lines {
			r.Lines[i] = RunLine{ID: rd.str(), Product: rd.ref(), Qty: rd.qty(), UOM: rd.ref(), ProductQty: rd.qty(), ProductUOM: rd.ref()}
		}
	}
	if n, ok := rd.count(); ok {
		r.Rules = make([]RuleRun, n)
		for i := range r.Rules {
			rr := &r.Rules[i]
			rr.Rule, rr.Partial, rr.Input = rd.str(), rd.bool(), rd.group()
			if n, ok := rd.count(); ok {
				rr.Criteria = make([]CriterionRun, n)
				for j := range rr.Criteria {
					rr.Criteria[j] = CriterionRun{Criterion: rd.str(), Final: rd.bool(), Output: rd.group(), Log: rd.strings(), Duration: time.Duration(rd.varint())}
				}
			}
			rr.Placed, rr.Unplaced, rr.Outcome, rr.Log = rd.allocations(), rd.strings(), rd.str(), rd.strings()
		}
	}
	r.Fulfilled = rd.bool()
	r.Allocations = rd.allocations()
	r.Log = rd.strings()
	if rd.err != nil || len(rd.b) != 0 {
		return nil, errBadRun
	}
	return r, nil
}

// runReader reads what runWriter wrote. The first problem sticks: later
// reads return zero values, and the caller checks err once at the end.
type runReader struct {
	b    []byte
	strs []string
	refs []Ref
	err  error
}

func (rd *runReader) fail() { rd.err, rd.b = errBadRun, nil }

func (rd *runReader) uvarint() uint64 {
	n, k := binary.Uvarint(rd.b)
	if k <= 0 {
		rd.fail()
		return 0
	}
	rd.b = rd.b[k:]
	return n
}

func (rd *runReader) varint() int64 {
	n, k := binary.Varint(rd.b)
	if k <= 0 {
		rd.fail()
		return 0
	}
	rd.b = rd.b[k:]
	return n
}

func (rd *runReader) byte() byte {
	if len(rd.b) == 0 {
		rd.fail()
		return 0
	}
	c := rd.b[0]
	rd.b = rd.b[1:]
	return c
}

func (rd *runReader) bool() bool {
	switch rd.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	rd.fail()
	return false
}

func (rd *runReader) float() float64 {
	if len(rd.b) < 8 {
		rd.fail()
		return 0
	}
	f := math.Float64frombits(binary.BigEndian.Uint64(rd.b))
	rd.b = rd.b[8:]
	return f
}

func (rd *runReader) qty() float64 {
	f, rest, ok := readQty(rd.b)
	if !ok {
		rd.fail()
		return 0
	}
	rd.b = rest
	return f
}

// count reads a slice length; ok is false for nil. Every element takes at
// least a byte, so a length beyond what is left is damage (and never
// allocates).
func (rd *runReader) count() (int, bool) {
	n := rd.uvarint()
	if n == 0 {
		return 0, false
	}
	if n-1 > uint64(len(rd.b)) {
		rd.fail()
		return 0, false
	}
	return int(n - 1), true
}

func (rd *runReader) str() string {
	i := rd.uvarint()
	if i > 0 {
		if i > uint64(len(rd.strs)) {
			rd.fail()
			return ""
		}
		return rd.strs[i-1]
	}
	n := rd.uvarint()
	if n > uint64(len(rd.b)) {
		rd.fail()
		return ""
	}
	s := string(rd.b[:n])
	rd.b = rd.b[n:]
	if rd.err == nil {
		rd.strs = append(rd.strs, s)
	}
	return s
}

func (rd *runReader) ref() Ref {
	i := rd.uvarint()
	if i > 0 {
		if i > uint64(len(rd.refs)) {
			rd.fail()
			return Ref{}
		}
		return rd.refs[i-1]
	}
	r := Ref{ID: int(rd.varint()), SearchKey: rd.str(), Identifier: rd.str()}
	if rd.err == nil {
		rd.refs = append(rd.refs, r)
	}
	return r
}

func (rd *runReader) time() time.Time {
	sec, nsec, off := rd.varint(), rd.uvarint(), rd.varint()
	if nsec >= 1e9 || off < -24*3600 || off > 24*3600 {
		rd.fail()
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if off == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(off)))
}

func (rd *runReader) strings() []string {
	n, ok := rd.count()
	if !ok {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = rd.str()
	}
	return out
}

func (rd *runReader) group() Group {
	n, ok := rd.count()
	if !ok {
		return nil
	}
	return rd.rows(n)
}

// rows reads n candidates; n is at most the bytes left.
func (rd *runReader) rows(n int) Group {
	g := make(Group, n)
	for i := range g {
		g[i] = Candidate{Warehouse: int(rd.varint()), Product: int(rd.varint()), Available: rd.qty(), Priority: rd.qty()}
	}
	return g
}

func (rd *runReader) allocations() []Allocation {
	n, ok := rd.count()
	if !ok {
		return nil
	}
	as := make([]Allocation, n)
	for i := range as {
		as[i] = Allocation{Line: rd.str(), Organization: rd.ref(), Warehouse: rd.ref(), Product: rd.ref(), Qty: rd.qty(), UOM: rd.ref(), Rule: rd.str()}
	}
	return as
}

// decodeMixedRun reads the form earlier versions wrote: the run's JSON
// without groups, then each rule's input and each criterion's output as
// rows.
func decodeMixedRun(b []byte) (*Run, error) {
	var r Run
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, errBadRun
	}
	if err := json.Unmarshal(b[k:k+int(n)], &r); err != nil {
		return nil, fmt.Errorf("stored run: %w", err)
	}
	rd := runReader{b: b[k+int(n):]}
	group := func() Group { // a length, then rows
		n := rd.uvarint()
		if n > uint64(len(rd.b)) {
			rd.fail()
			return nil
		}
		return rd.rows(int(n))
	}
	for i := range r.Rules {
		r.Rules[i].Input = group()
		for j := range r.Rules[i].Criteria {
			r.Rules[i].Criteria[j].Output = group()
		}
	}
	if rd.err != nil || len(rd.b) != 0 {
		return nil, errBadRun
	}
	return &r, nil
}

// Quantities and priorities are mostly whole numbers: those take a tag and
// a varint, others a tag and 8 bytes.
const (
	qtyWhole = 0
	qtyFloat = 1
)

func appendQty(b []byte, f float64) []byte {
	if n := int64(f); float64(n) == f && n > -1<<53 && n < 1<<53 && (n != 0 || !math.Signbit(f)) {
		return binary.AppendVarint(append(b, qtyWhole), n)
	}
	return binary.BigEndian.AppendUint64(append(b, qtyFloat), math.Float64bits(f))
}

func readQty(b []byte) (float64, []byte, bool) {
	if len(b) == 0 {
		return 0, nil, false
	}
	switch b[0] {
	case qtyWhole:
		n, k := binary.Varint(b[1:])
		if k <= 0 {
			return 0, nil, false
		}
		return float64(n), b[1+k:], true
	case qtyFloat:
		if len(b) < 9 {
			return 0, nil, false
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b[1:])), b[9:], true
	}
	return 0, nil, false
}
