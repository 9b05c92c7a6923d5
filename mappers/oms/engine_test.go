package oms

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// testSnapshot: company 1 owns SF, OAK, LAX; company 2 owns CHI.
func testSnapshot() *Snapshot {
	sn := &Snapshot{
		Taken:      time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC),
		Companies:  map[int]*Company{1: {1, "West"}, 2: {2, "East"}},
		Warehouses: testWarehouses(),
		UOMs: map[int]*UOM{
			1: {ID: 1, Name: "Units", Category: 1, Factor: 1, Rounding: 0.01},
			2: {ID: 2, Name: "Dozens", Category: 1, Factor: 1.0 / 12, Rounding: 0.01},
			3: {ID: 3, Name: "kg", Category: 2, Factor: 1, Rounding: 0.001},
		},
		Products: map[int]*Product{},
		stock:    map[int][]Candidate{},
	}
	delete(sn.Warehouses, 4)
	sn.Warehouses[5] = &Warehouse{ID: 5, Code: "CHI", Name: "Chicago", Company: 2, Location: &Point{41.8781, -87.6298}}
	sn.order = []int{1, 2, 3, 5}
	for _, p := range []int{10, 20, 30} {
		sn.Products[p] = &Product{ID: p, Code: fmt.Sprintf("P%d", p), Name: fmt.Sprintf("Product %d", p), UOM: 1}
	}
	put := func(w, p int, q float64) {
		rank := map[int]float64{1: 0, 2: 1, 3: 2, 5: 3}
		sn.stock[p] = append(sn.stock[p], Candidate{Warehouse: w, Product: p, Available: q, Priority: rank[w]})
	}
	put(1, 10, 6)
	put(2, 10, 4)
	put(3, 10, 50)
	put(5, 10, 1000)
	put(1, 20, 3)
	put(2, 20, 20)
	put(3, 20, 9)
	put(2, 30, 2)
	return sn
}

func mustEngine(t *testing.T, oc OrgConfig) *orgRules {
	t.Helper()
	e, err := NewEngine(Config{Organizations: map[string]OrgConfig{"*": oc}})
	if err != nil {
		t.Fatal(err)
	}
	return e.def
}

func crit(alg string, params map[string]any) CriterionConfig {
	return CriterionConfig{Algorithm: alg, Params: params}
}

// placedQty renders allocations as "line>WH=qty".
func placedQty(as []Allocation) string {
	var s []string
	for _, a := range as {
		s = append(s, fmt.Sprintf("%s>%s=%g", a.Line, a.Warehouse.SearchKey, a.Qty))
	}
	return strings.Join(s, " ")
}

// placed renders allocations as "line>WH".
func placed(as []Allocation) string {
	var s []string
	for _, a := range as {
		s = append(s, a.Line+">"+a.Warehouse.SearchKey)
	}
	return strings.Join(s, " ")
}

func TestEngineRules(t *testing.T) {
	oneWH := RuleConfig{Name: "one", Criteria: []CriterionConfig{crit("stock", nil), crit("one_warehouse", map[string]any{"strict": true})}}
	nearest := func(partial bool) RuleConfig {
		return RuleConfig{Name: "nearest", Partial: partial, Criteria: []CriterionConfig{crit("stock", nil), crit("distance", nil)}}
	}
	pleasantHill := &Point{37.9480, -122.0608}
	tests := []struct {
		name         string
		org          OrgConfig
		lines        []PendingLine
		want         string
		wantOutcomes string
		fulfilled    bool
	}{
		{name: "first rule ships all from one warehouse",
			org:   OrgConfig{Rules: []RuleConfig{oneWH, nearest(true)}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 5}, {ID: "b", Product: 20, Qty: 8}},
			want:  "a>LAX b>LAX", wantOutcomes: "fulfilled", fulfilled: true},
		{name: "second rule splits by distance",
			org:   OrgConfig{Rules: []RuleConfig{oneWH, nearest(false)}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 5}, {ID: "b", Product: 20, Qty: 15}},
			want:  "a>SF b>OAK", wantOutcomes: "nothing placed,fulfilled", fulfilled: true},
		{name: "partial allocation kept, the rest by the next rule, stock not given twice",
			org: OrgConfig{Rules: []RuleConfig{
				{Name: "oak only", Partial: true, Criteria: []CriterionConfig{crit("stock", nil), crit("preference", map[string]any{"order": []any{"OAK"}, "others": "drop"})}},
				nearest(false)}},
			// OAK holds 4 of product 10: line a takes them, line c must go elsewhere.
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 4}, {ID: "b", Product: 20, Qty: 15}, {ID: "c", Product: 10, Qty: 4}},
			want:  "a>OAK b>OAK c>SF", wantOutcomes: "partial kept,fulfilled", fulfilled: true},
		{name: "incomplete rule without partial is discarded",
			org: OrgConfig{Rules: []RuleConfig{
				{Name: "oak only", Criteria: []CriterionConfig{crit("stock", nil), crit("preference", map[string]any{"order": []any{"OAK"}, "others": "drop"})}},
				nearest(false)}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 4}, {ID: "b", Product: 20, Qty: 15}, {ID: "c", Product: 10, Qty: 4}},
			want:  "a>OAK b>OAK c>SF", wantOutcomes: "discarded,fulfilled", fulfilled: true},
		{name: "no rule completes: empty proposal even with partial",
			org:   OrgConfig{Rules: []RuleConfig{nearest(true)}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 5}, {ID: "b", Product: 20, Qty: 500}},
			want:  "", wantOutcomes: "partial kept", fulfilled: false},
		{name: "other companies' warehouses only with all_companies",
			org:   OrgConfig{AllCompanies: true, Rules: []RuleConfig{{Name: "big", Criteria: []CriterionConfig{crit("min_multiple", map[string]any{"factor": 10})}}}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 60}},
			want:  "a>CHI", wantOutcomes: "fulfilled", fulfilled: true},
		{name: "own company only by default",
			org:   OrgConfig{Rules: []RuleConfig{{Name: "big", Criteria: []CriterionConfig{crit("min_multiple", map[string]any{"factor": 10})}}}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 60}},
			want:  "", wantOutcomes: "nothing placed", fulfilled: false},
		{name: "final criterion last",
			org: OrgConfig{Rules: []RuleConfig{{Name: "final", Criteria: []CriterionConfig{
				crit("exclude", map[string]any{"warehouses": []any{"SF"}}),
				{Algorithm: "preference", Params: map[string]any{"order": []any{"LAX"}}, Final: true}}}}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 1}},
			want:  "a>LAX", wantOutcomes: "fulfilled", fulfilled: true},
		// The guide's example: no warehouse holds 10 of product 10 but SF
		// (6) and OAK (4) together do.
		{name: "partial rule splits a line over warehouses",
			org:   OrgConfig{Rules: []RuleConfig{{Name: "split", Partial: true, Criteria: []CriterionConfig{crit("preference", map[string]any{"order": []any{"SF", "OAK"}, "others": "drop"})}}}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 10}, {ID: "b", Product: 20, Qty: 3}},
			want:  "a>SF=6 a>OAK=4 b>SF=3", wantOutcomes: "fulfilled", fulfilled: true},
		{name: "without partial a line is never split",
			org:   OrgConfig{Rules: []RuleConfig{{Name: "whole", Criteria: []CriterionConfig{crit("preference", map[string]any{"order": []any{"SF", "OAK"}, "others": "drop"})}}}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 10}},
			want:  "", wantOutcomes: "nothing placed", fulfilled: false},
		{name: "what a split cannot place goes to the next rule",
			org: OrgConfig{Rules: []RuleConfig{
				{Name: "near", Partial: true, Criteria: []CriterionConfig{crit("preference", map[string]any{"order": []any{"SF", "OAK"}, "others": "drop"})}},
				nearest(false)}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 15}},
			want:  "a>SF=6 a>OAK=4 a>LAX=5", wantOutcomes: "partial kept,fulfilled", fulfilled: true},
		// No warehouse holds 60 of product 10; SF 6, OAK 4 and LAX 50 do.
		{name: "default rules split a line no warehouse holds",
			org:   DefaultRules(),
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 60}},
			want:  "a>OAK=4 a>SF=6 a>LAX=50", wantOutcomes: "nothing placed,fulfilled", fulfilled: true},
		// LAX and SF suffice: the nearer OAK is left out (fewest splits).
		{name: "default rules split over as few warehouses as they can",
			org:   DefaultRules(),
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 56}},
			want:  "a>SF=6 a>LAX=50", wantOutcomes: "nothing placed,fulfilled", fulfilled: true},
		{name: "default rules: whole lines first, then the split",
			org:   DefaultRules(),
			lines: []PendingLine{{ID: "a", Product: 20, Qty: 20}, {ID: "b", Product: 30, Qty: 2}, {ID: "c", Product: 10, Qty: 58}},
			want:  "a>OAK=20 b>OAK=2 c>OAK=4 c>SF=6 c>LAX=48", wantOutcomes: "nothing placed,fulfilled", fulfilled: true},
		{name: "two lines of one product share a warehouse's stock",
			org:   OrgConfig{Rules: []RuleConfig{{Name: "pref", Criteria: []CriterionConfig{crit("preference", map[string]any{"order": []any{"SF", "OAK", "LAX"}})}}}},
			lines: []PendingLine{{ID: "a", Product: 10, Qty: 4}, {ID: "b", Product: 10, Qty: 4}},
			want:  "a>SF b>OAK", wantOutcomes: "fulfilled", fulfilled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			or := mustEngine(t, tt.org)
			sn := testSnapshot()
			run := &Run{}
			refs := lineRefs{products: sn.Products, uoms: sn.UOMs, companies: sn.Companies}
			allowed := func(w *Warehouse) bool { return or.allCompanies || w.Company == 1 }
			or.source(run, sn, tt.lines, refs, allowed, pleasantHill)
			got := placed(run.Allocations)
			if strings.Contains(tt.want, "=") {
				got = placedQty(run.Allocations)
			}
			if got != tt.want {
				t.Errorf("allocations %q, want %q", got, tt.want)
			}
			var outcomes []string
			for _, r := range run.Rules {
				outcomes = append(outcomes, r.Outcome)
			}
			if got := strings.Join(outcomes, ","); got != tt.wantOutcomes {
				t.Errorf("outcomes %q, want %q", got, tt.wantOutcomes)
			}
			if run.Fulfilled != tt.fulfilled {
				t.Errorf("fulfilled %v, want %v", run.Fulfilled, tt.fulfilled)
			}
			// The snapshot is shared by all requests: a run must not touch it.
			if fresh := testSnapshot(); fmt.Sprint(fresh.stock) != fmt.Sprint(sn.stock) {
				t.Errorf("run changed the shared snapshot")
			}
		})
	}
}

func TestEngineRunRecordsGroups(t *testing.T) {
	or := mustEngine(t, OrgConfig{Rules: []RuleConfig{{Name: "r", Criteria: []CriterionConfig{
		crit("stock", nil), crit("exclude", map[string]any{"warehouses": []any{"SF"}})}}}})
	sn := testSnapshot()
	run := &Run{}
	or.source(run, sn, []PendingLine{{ID: "a", Product: 10, Qty: 5}}, lineRefs{products: sn.Products, uoms: sn.UOMs, companies: sn.Companies},
		func(w *Warehouse) bool { return w.Company == 1 }, nil)
	run.Expand()
	rr := run.Rules[0]
	if len(rr.Input) != 3 || len(rr.Criteria) != 2 {
		t.Fatalf("rule input %v, criteria %d", rr.Input, len(rr.Criteria))
	}
	if got := len(rr.Criteria[0].Output); got != 2 { // OAK holds 4 < 5
		t.Errorf("stock output %d candidates, want 2", got)
	}
	if got := rr.Criteria[1].Input; len(got) != 2 {
		t.Errorf("exclude input %v, want the stock output", got)
	}
	if got := placed(run.Allocations); got != "a>LAX" {
		t.Errorf("allocations %q", got)
	}
	if rr.Criteria[0].Log == nil || rr.Criteria[1].Log == nil {
		t.Errorf("criteria logs missing: %+v", rr.Criteria)
	}
}

func TestConvertLine(t *testing.T) {
	sn := testSnapshot()
	tests := []struct {
		name    string
		line    Line
		want    float64
		wantErr string
	}{
		{"same unit", Line{ID: "1", Product: "10", Qty: 3, UOM: "1"}, 3, ""},
		{"dozens to units", Line{ID: "1", Product: "10", Qty: 2, UOM: "2"}, 24, ""},
		{"rounded up to the unit's rounding", Line{ID: "1", Product: "10", Qty: 0.0001, UOM: "2"}, 0.01, ""},
		{"other category", Line{ID: "x", Product: "10", Qty: 1, UOM: "3"}, 0, `ticket line 4 (id "x"): uom: unit kg cannot be converted to the product's unit Units`},
		{"unknown unit", Line{ID: "x", Product: "10", Qty: 1, UOM: "99"}, 0, "unknown unit 99"},
		{"not an id", Line{ID: "x", Product: "10", Qty: 1, UOM: "box"}, 0, `"box" is not an Odoo unit id`},
		{"no unit: the product's", Line{ID: "1", Product: "10", Qty: 3}, 3, ""},
		{"unit by searchKey, any case", Line{ID: "1", Product: "10", Qty: 2, UOMKey: "dozens"}, 24, ""},
		{"unit id wins over searchKey", Line{ID: "1", Product: "10", Qty: 2, UOM: "1", UOMKey: "Dozens"}, 2, ""},
		{"unknown unit searchKey", Line{ID: "x", Product: "10", Qty: 1, UOMKey: "crate"}, 0, `ticket line 4 (id "x"): uom.searchKey: unknown unit "crate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, _, err := convertLine(4, tt.line, sn.Products[10], sn.UOMs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !IsInputError(err) {
					t.Fatalf("error %v, want input error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := pl.Qty - tt.want; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("qty %v, want %v", pl.Qty, tt.want)
			}
		})
	}
}

func TestNewEngineValidates(t *testing.T) {
	_, err := NewEngine(Config{Organizations: map[string]OrgConfig{
		"West": {Rules: []RuleConfig{{Name: "r1", Criteria: []CriterionConfig{{Algorithm: "stok"}}}}},
		"East": {},
		"North": {Rules: []RuleConfig{{Name: "r2", Criteria: []CriterionConfig{
			{Algorithm: "stock"}, {Algorithm: "max_splits", Final: true}, {Algorithm: "distance"}, {Algorithm: "exclude"}}}}},
	}})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{`oms.organizations["West"]: rule "r1", criterion 1: unknown algorithm "stok"`, `oms.organizations["East"]: no rules`,
		`oms.organizations["North"]: rule "r2", criterion 3 (distance): comes after criterion 2 (max_splits), which is final`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if e.def == nil || len(e.def.rules) != 2 || e.Config().StockFreshness != 30*time.Second {
		t.Errorf("defaults not applied: %+v", e.Config())
	}
}

func TestGroupJSONRoundTrip(t *testing.T) {
	g := Group{cand(1, 10, 6.5, 0), cand(3, 20, 1e-7, 552.7), cand(2, 30, 12, -2)}
	b, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := `[[1,10,6.5,0],[3,20,1e-07,552.7],[2,30,12,-2]]`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back Group
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back) != fmt.Sprint(g) {
		t.Errorf("round trip %v, want %v", back, g)
	}
	if err := back.UnmarshalJSON([]byte(`[{"warehouse":1}]`)); err == nil {
		t.Error("objects accepted as rows")
	}
}

// TestEngineKeepsInputsWhenAlgorithmsPassThrough: a criterion that returns
// its input (distance without customer coordinates) leaves the recorded
// rule input as it was.
func TestEngineKeepsInputsWhenAlgorithmsPassThrough(t *testing.T) {
	or := mustEngine(t, OrgConfig{Rules: []RuleConfig{{Name: "r", Criteria: []CriterionConfig{crit("distance", nil)}}}})
	sn := testSnapshot()
	run := &Run{}
	lines := []PendingLine{{ID: "a", Product: 20, Qty: 1}, {ID: "b", Product: 10, Qty: 1}}
	or.source(run, sn, lines, lineRefs{products: sn.Products, uoms: sn.UOMs, companies: sn.Companies}, func(w *Warehouse) bool { return w.Company == 1 }, nil)
	in := run.Rules[0].Input
	// Product 20's candidates first (line order), then product 10's.
	if len(in) != 6 || in[0].Product != 20 || in[1].Product != 20 || in[2].Product != 20 || in[3].Product != 10 {
		t.Errorf("rule input reordered: %v", in)
	}
	if out := run.Rules[0].Criteria[0].Output; out[0].Priority > out[len(out)-1].Priority {
		t.Errorf("criterion output not sorted: %v", out)
	}
}
