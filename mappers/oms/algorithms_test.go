package oms

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Three warehouses: SF and OAK close to each other, LAX far south.
func testWarehouses() map[int]*Warehouse {
	return map[int]*Warehouse{
		1: {ID: 1, Code: "SF", Name: "San Francisco", Company: 1, Location: &Point{37.7749, -122.4194}},
		2: {ID: 2, Code: "OAK", Name: "Oakland", Company: 1, Location: &Point{37.8044, -122.2712}},
		3: {ID: 3, Code: "LAX", Name: "Los Angeles", Company: 1, Location: &Point{34.0522, -118.2437}},
		4: {ID: 4, Code: "NOGEO", Name: "Nowhere", Company: 1},
	}
}

func cand(w, p int, avail, prio float64) Candidate {
	return Candidate{Warehouse: w, Product: p, Available: avail, Priority: prio}
}

// render shows a group as "W:P=avail@prio" after the engine's stable sort.
func render(in *Input, g Group) string {
	g = append(Group(nil), g...)
	g.sortStable()
	var parts []string
	for _, c := range g {
		parts = append(parts, fmt.Sprintf("%s:%d=%g@%g", in.WarehouseLabel(c.Warehouse), c.Product, c.Available, c.Priority))
	}
	return strings.Join(parts, " ")
}

func TestAlgorithms(t *testing.T) {
	pleasantHill := &Point{37.9480, -122.0608}
	lines := []PendingLine{{ID: "a", Product: 10, Qty: 5}, {ID: "b", Product: 20, Qty: 8}}
	base := Group{
		cand(1, 10, 6, 0), cand(1, 20, 3, 0),
		cand(2, 10, 4, 1), cand(2, 20, 20, 1),
		cand(3, 10, 50, 2), cand(3, 20, 9, 2),
	}
	tests := []struct {
		name     string
		alg      string
		params   map[string]any
		lines    []PendingLine
		group    Group
		customer *Point
		partial  bool // the rule splits lines
		want     string
		wantLog  string
	}{
		{name: "stock keeps what can ship a line", alg: "stock",
			want: "SF:10=6@0 OAK:20=20@1 LAX:10=50@2 LAX:20=9@2", wantLog: "dropped 2 of 6"},
		{name: "stock with reserve", alg: "stock", params: map[string]any{"reserve": 2},
			want: "OAK:20=18@1 LAX:10=48@2"},
		{name: "stock looks at the smallest line of a product", alg: "stock",
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 5}, {ID: "c", Product: 10, Qty: 1}},
			group: Group{cand(1, 10, 1, 0), cand(2, 10, 0.5, 1)}, want: "SF:10=1@0"},
		{name: "stock in a rule that splits lines keeps any stock", alg: "stock", partial: true,
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 40}, {ID: "b", Product: 20, Qty: 8}},
			group: append(slices.Clone(base), cand(4, 10, 0, 3)),
			want:  "SF:10=6@0 SF:20=3@0 OAK:10=4@1 OAK:20=20@1 LAX:10=50@2 LAX:20=9@2", wantLog: "dropped 1 of 7"},
		{name: "one_warehouse keeps the warehouses that ship everything", alg: "one_warehouse",
			want: "LAX:10=50@2 LAX:20=9@2", wantLog: "kept LAX"},
		{name: "one_warehouse ranks by lines shipped when none ships all", alg: "one_warehouse",
			lines: append(slices.Clone(lines), PendingLine{ID: "c", Product: 30, Qty: 1}),
			group: append(slices.Clone(base), cand(1, 30, 1, 0)),
			want:  "SF:10=6@-2 SF:20=3@-2 LAX:10=50@-2 LAX:20=9@-2 SF:30=1@-2 OAK:10=4@-1 OAK:20=20@-1"},
		{name: "one_warehouse strict gives nothing when none ships all", alg: "one_warehouse", params: map[string]any{"strict": true},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 40}, {ID: "b", Product: 20, Qty: 15}},
			want:  "", wantLog: "strict"},
		{name: "one_warehouse counts two lines of one product together", alg: "one_warehouse",
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 4}, {ID: "b", Product: 10, Qty: 4}},
			group: Group{cand(1, 10, 6, 0), cand(3, 10, 8, 2)}, want: "LAX:10=8@2"},
		{name: "preference orders by the list, others after", alg: "preference", params: map[string]any{"order": []any{"LAX", "OAK"}},
			want: "LAX:10=50@0 LAX:20=9@0 OAK:10=4@1 OAK:20=20@1 SF:10=6@2 SF:20=3@2"},
		{name: "preference drops others", alg: "preference", params: map[string]any{"order": []any{"OAK"}, "others": "drop"},
			want: "OAK:10=4@0 OAK:20=20@0"},
		{name: "distance ranks nearest first", alg: "distance", customer: pleasantHill,
			group: append(slices.Clone(base), cand(4, 10, 99, 3)),
			want:  "OAK:10=4@24.4 OAK:20=20@24.4 SF:10=6@36.9 SF:20=3@36.9 LAX:10=50@552.7 LAX:20=9@552.7 NOGEO:10=99@1e+09", wantLog: "OAK: 24.4 km"},
		{name: "distance max_km and missing=drop", alg: "distance", customer: pleasantHill,
			params: map[string]any{"max_km": 100, "missing": "drop"}, group: append(slices.Clone(base), cand(4, 10, 99, 3)),
			want: "OAK:10=4@24.4 OAK:20=20@24.4 SF:10=6@36.9 SF:20=3@36.9"},
		{name: "distance without customer coordinates changes nothing", alg: "distance",
			want: "SF:10=6@0 SF:20=3@0 OAK:10=4@1 OAK:20=20@1 LAX:10=50@2 LAX:20=9@2", wantLog: "no coordinates"},
		{name: "min_multiple twice the demand", alg: "min_multiple",
			want: "OAK:20=20@1 LAX:10=50@2"},
		{name: "min_multiple factor 1", alg: "min_multiple", params: map[string]any{"factor": 1},
			want: "SF:10=6@0 OAK:20=20@1 LAX:10=50@2 LAX:20=9@2"},
		{name: "exclude drops listed codes", alg: "exclude", params: map[string]any{"warehouses": []any{"SF", "LAX"}},
			want: "OAK:10=4@1 OAK:20=20@1"},
		{name: "max_splits 0 keeps the warehouse shipping most", alg: "max_splits", params: map[string]any{"max": 0},
			want: "LAX:10=50@0 LAX:20=9@0"},
		{name: "max_splits 1 covers with the two best", alg: "max_splits", params: map[string]any{"max": 1},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 5}, {ID: "b", Product: 20, Qty: 15}, {ID: "c", Product: 30, Qty: 1}},
			group: append(slices.Clone(base), cand(1, 30, 1, 0)),
			want:  "SF:10=6@0 SF:20=3@0 SF:30=1@0 OAK:10=4@1 OAK:20=20@1", wantLog: "chose SF, OAK (at most 2); 0 line(s)"},
		// Every warehouse ships one line: ties go to group order (SF, then OAK).
		{name: "max_splits 1 stops at two warehouses", alg: "max_splits", params: map[string]any{"max": 1},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 40}, {ID: "b", Product: 20, Qty: 15}, {ID: "c", Product: 30, Qty: 1}},
			group: append(slices.Clone(base), cand(1, 30, 1, 0)),
			want:  "SF:10=6@0 SF:20=3@0 SF:30=1@0 OAK:10=4@1 OAK:20=20@1", wantLog: "1 line(s) not covered"},
		// Nobody ships 60 of product 10: LAX holds most, then SF.
		{name: "max_splits in a rule that splits lines picks by quantity", alg: "max_splits", params: map[string]any{"max": 1}, partial: true,
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 60}},
			want:  "LAX:10=50@0 LAX:20=9@0 SF:10=6@1 SF:20=3@1", wantLog: "chose LAX, SF (at most 2); 1 line(s) not covered"},
		// OAK ships b whole; its 4 of product 10 count toward a before LAX's.
		{name: "max_splits: whole lines first, then quantity", alg: "max_splits", params: map[string]any{"max": 1}, partial: true,
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 54}, {ID: "b", Product: 20, Qty: 15}},
			want:  "OAK:10=4@0 OAK:20=20@0 LAX:10=50@1 LAX:20=9@1", wantLog: "chose OAK, LAX (at most 2); 0 line(s)"},
		{name: "max_splits without splitting lines ignores part stock", alg: "max_splits", params: map[string]any{"max": 1},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 60}},
			want:  "", wantLog: "chose none (at most 2); 1 line(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alg, err := newAlgorithm(tt.alg, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			in := &Input{Lines: tt.lines, Group: tt.group, Warehouses: testWarehouses(), Customer: tt.customer, Partial: tt.partial}
			if in.Lines == nil {
				in.Lines = lines
			}
			if in.Group == nil {
				in.Group = slices.Clone(base)
			}
			before := slices.Clone(in.Group)
			out := alg.Apply(in)
			for i := range out {
				out[i].Priority = float64(int(out[i].Priority*10+0.5*sign(out[i].Priority))) / 10
			}
			if got := render(in, out); got != tt.want {
				t.Errorf("output\n got %s\nwant %s", got, tt.want)
			}
			if !slices.Equal(before, in.Group) {
				t.Errorf("algorithm changed its input group")
			}
			if tt.wantLog != "" && !strings.Contains(strings.Join(in.log, "\n"), tt.wantLog) {
				t.Errorf("log %q lacks %q", in.log, tt.wantLog)
			}
		})
	}
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

func TestAlgorithmParams(t *testing.T) {
	tests := []struct {
		alg     string
		params  map[string]any
		wantErr string
	}{
		{"nope", nil, `unknown algorithm "nope"`},
		{"stock", map[string]any{"reserv": 1}, "unknown parameter(s) reserv"},
		{"stock", map[string]any{"reserve": -1}, "must not be negative"},
		{"stock", map[string]any{"reserve": "x"}, "want a number"},
		{"one_warehouse", map[string]any{"strict": "yes"}, "want true or false"},
		{"preference", nil, "list the warehouse codes"},
		{"preference", map[string]any{"order": []any{"A", "A"}}, "listed twice"},
		{"preference", map[string]any{"order": []any{"A"}, "others": "maybe"}, "want keep or drop"},
		{"preference", map[string]any{"order": "A"}, "want a list"},
		{"distance", map[string]any{"max_km": -5}, "must not be negative"},
		{"distance", map[string]any{"missing": "first"}, "want last or drop"},
		{"min_multiple", map[string]any{"factor": 0}, "must be positive"},
		{"exclude", nil, "list the codes"},
		{"exclude", map[string]any{"warehouses": []any{1}}, "want texts"},
		{"max_splits", map[string]any{"max": -1}, "must not be negative"},
		{"max_splits", map[string]any{"max": 1.5}, "whole number"},
		{"max_splits", map[string]any{"max": 3}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.alg+"/"+tt.wantErr, func(t *testing.T) {
			_, err := newAlgorithm(tt.alg, tt.params)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRegistryListsAllSeven(t *testing.T) {
	got := Algorithms()
	for _, n := range []string{"stock", "one_warehouse", "preference", "distance", "min_multiple", "exclude", "max_splits"} {
		if got[n] == "" {
			t.Errorf("algorithm %s not registered or undocumented", n)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	Register("stock", "again", newStock)
}
