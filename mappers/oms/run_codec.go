package oms

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// runMagic starts a stored run; JSON would start with '{'.
const runMagic = 'R'

// EncodeRun writes a run for storage: its JSON without the groups, then
// every group (each rule's input, each criterion's output) as binary rows.
// Groups are most of a run (a 50-line ticket over 20 warehouses has
// thousands of candidates) and encoding them as JSON cost more than
// sourcing the ticket.
func EncodeRun(r *Run) ([]byte, error) {
	bare := *r
	bare.Rules = make([]RuleRun, len(r.Rules))
	var groups []Group
	for i, rr := range r.Rules {
		groups = append(groups, rr.Input)
		rr.Input = nil
		rr.Criteria = append([]CriterionRun(nil), rr.Criteria...)
		for j := range rr.Criteria {
			groups = append(groups, rr.Criteria[j].Output)
			rr.Criteria[j].Input, rr.Criteria[j].Output = nil, nil
		}
		bare.Rules[i] = rr
	}
	doc, err := json.Marshal(&bare)
	if err != nil {
		return nil, fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(doc)+len(groups)*2+n*8)
	b = append(b, runMagic)
	b = binary.AppendUvarint(b, uint64(len(doc)))
	b = append(b, doc...)
	for _, g := range groups {
		b = binary.AppendUvarint(b, uint64(len(g)))
		for _, c := range g {
			b = binary.AppendVarint(b, int64(c.Warehouse))
			b = binary.AppendVarint(b, int64(c.Product))
			b = appendQty(b, c.Available)
			b = appendQty(b, c.Priority)
		}
	}
	return b, nil
}

var errBadRun = errors.New("stored run: truncated or damaged")

// DecodeRun reads what EncodeRun wrote (or a run stored as plain JSON).
func DecodeRun(b []byte) (*Run, error) {
	var r Run
	if len(b) == 0 || b[0] != runMagic {
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("stored run: %w", err)
		}
		return &r, nil
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, errBadRun
	}
	if err := json.Unmarshal(b[k:k+int(n)], &r); err != nil {
		return nil, fmt.Errorf("stored run: %w", err)
	}
	b = b[k+int(n):]
	group := func() (Group, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return nil, errBadRun
		}
		b = b[k:]
		g := make(Group, n)
		for i := range g {
			w, k1 := binary.Varint(b)
			if k1 <= 0 {
				return nil, errBadRun
			}
			p, k2 := binary.Varint(b[k1:])
			if k2 <= 0 {
				return nil, errBadRun
			}
			b = b[k1+k2:]
			var ok bool
			g[i] = Candidate{Warehouse: int(w), Product: int(p)}
			if g[i].Available, b, ok = readQty(b); !ok {
				return nil, errBadRun
			}
			if g[i].Priority, b, ok = readQty(b); !ok {
				return nil, errBadRun
			}
		}
		return g, nil
	}
	for i := range r.Rules {
		var err error
		if r.Rules[i].Input, err = group(); err != nil {
			return nil, err
		}
		for j := range r.Rules[i].Criteria {
			if r.Rules[i].Criteria[j].Output, err = group(); err != nil {
				return nil, err
			}
		}
	}
	if len(b) != 0 {
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
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 && !(f == 0 && math.Signbit(f)) {
		return binary.AppendVarint(append(b, qtyWhole), int64(f))
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
