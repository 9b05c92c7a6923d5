package oms

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// MarshalJSON writes a group compactly, one [warehouse, product, available,
// priority] row per candidate: runs keep many groups, and objects with
// field names would triple what every ticket costs the store.
func (g Group) MarshalJSON() ([]byte, error) {
	if g == nil {
		return []byte("[]"), nil
	}
	b := make([]byte, 0, 2+len(g)*24)
	b = append(b, '[')
	for i, c := range g {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(c.Warehouse), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(c.Product), 10)
		b = append(b, ',')
		b = appendNumber(b, c.Available)
		b = append(b, ',')
		b = appendNumber(b, c.Priority)
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

func appendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...) // JSON has no infinities; never produced by the engine
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// UnmarshalJSON reads the rows MarshalJSON writes.
func (g *Group) UnmarshalJSON(data []byte) error {
	var rows [][4]float64
	if err := json.Unmarshal(data, &rows); err != nil {
		return fmt.Errorf("group: want [warehouse, product, available, priority] rows: %w", err)
	}
	out := make(Group, len(rows))
	for i, r := range rows {
		out[i] = Candidate{Warehouse: int(r[0]), Product: int(r[1]), Available: r[2], Priority: r[3]}
	}
	*g = out
	return nil
}
