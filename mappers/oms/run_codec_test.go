package oms

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// codecRuns are runs of every shape a stored run must give back exactly.
func codecRuns(t testing.TB) map[string]*Run {
	s := warmService(t, benchSnapshot(6, 40, 3))
	sourced, err := s.Propose(t.Context(), Request{Scope: "bench", Database: "db", Ticket: benchTicket(12, 40, 4)})
	if err != nil {
		t.Fatal(err)
	}
	placed := len(sourced.Allocations)
	for _, r := range sourced.Rules {
		placed += len(r.Placed)
	}
	if placed == 0 {
		t.Fatal("the sourced run places nothing: allocations would go untested")
	}
	paris := time.FixedZone("", 3600)
	w := Ref{ID: 7, SearchKey: "OAK", Identifier: "Oakland"}
	p := Ref{ID: 30, SearchKey: "", Identifier: `Café "crème" & <co>`}
	u := Ref{ID: 1, SearchKey: "Units", Identifier: "Units"}
	a := Allocation{Line: "L1", Organization: Ref{ID: 1, SearchKey: "SF", Identifier: "SF"}, Warehouse: w, Product: p, Qty: 2.5, UOM: u, Rule: "split"}
	return map[string]*Run{
		"sourced by the engine": sourced,
		"empty":                 {},
		"unplaced, no customer, zones and fractions": {
			ID: "ABC", TicketID: "T-ü", TicketDate: "2026-11-24T11:54:21.018Z", Database: "db", Start: time.Date(2026, 11, 24, 11, 54, 21, 18000000, paris),
			StockTaken: time.Date(2026, 11, 24, 10, 0, 0, 999999999, time.UTC), Duration: 3 * time.Millisecond,
			Lines: []RunLine{{ID: "L1", Product: p, Qty: 0.1, UOM: u, ProductQty: 1e-7, ProductUOM: u}, {ID: "", Product: p, Qty: 3, UOM: u, ProductQty: 3, ProductUOM: u}},
			Rules: []RuleRun{
				{Rule: "split", Partial: true, Input: Group{cand(7, 30, 2.5, -1), cand(8, 30, 0, 552.7)}, Criteria: []CriterionRun{
					{Criterion: "stock", Output: Group{}, Log: []string{"none left"}, Duration: time.Microsecond},
					{Criterion: "distance", Final: true, Output: nil, Log: []string{}},
				}, Placed: []Allocation{a}, Unplaced: []string{"L2"}, Outcome: OutcomePartial, Log: []string{"criterion distance is final"}},
				{Rule: "all", Input: Group{}, Criteria: []CriterionRun{}, Placed: nil, Unplaced: []string{"L1", "L2"}, Outcome: OutcomeDiscarded},
			},
			Allocations: []Allocation{}, Log: []string{"no rule completed the order"},
		},
	}
}

func TestRunCodec(t *testing.T) {
	for name, run := range codecRuns(t) {
		t.Run(name, func(t *testing.T) {
			before, _ := json.Marshal(run)
			b := EncodeRun(run)
			if after, _ := json.Marshal(run); string(after) != string(before) {
				t.Fatal("EncodeRun changed the run it encoded")
			}
			back, err := DecodeRun(b)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(back); string(got) != string(before) {
				t.Errorf("round trip differs:\n got %s\nwant %s", got, before)
			}
			if len(b) > len(before)/4 && len(before) > 1000 {
				t.Errorf("stored form %d bytes, JSON %d: not a quarter of it", len(b), len(before))
			}
			for cut := range len(b) {
				if _, err := DecodeRun(b[:cut]); err == nil && cut > 0 {
					t.Fatalf("truncated run (%d of %d bytes) decoded", cut, len(b))
				}
			}
			if _, err := DecodeRun(append(b[:len(b):len(b)], 0)); err == nil {
				t.Error("a run with a byte too many decoded")
			}
		})
	}
}

// TestDecodeRunEarlierForms: runs stored by earlier versions (JSON, and
// JSON with binary groups) read as they were written.
func TestDecodeRunEarlierForms(t *testing.T) {
	want, err := os.ReadFile("testdata/run_mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := os.ReadFile("testdata/run_mixed.bin")
	if err != nil {
		t.Fatal(err)
	}
	// Binary, as written before runs kept the ticket's date (format 'B').
	binaryB, err := os.ReadFile("testdata/run_binary_b.bin")
	if err != nil {
		t.Fatal(err)
	}
	if binaryB[0] != runBinaryB {
		t.Fatalf("fixture starts with %q, not the earlier binary form", binaryB[0])
	}
	for name, doc := range map[string][]byte{"JSON": want, "JSON with binary groups": mixed, "binary without ticket date": binaryB} {
		r, err := DecodeRun(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, _ := json.Marshal(r); !bytes.Equal(got, want) {
			t.Errorf("%s: decoded as\n%s\nwant\n%s", name, got, want)
		}
	}
	if _, err := DecodeRun(mixed[:len(mixed)-3]); err == nil {
		t.Error("a truncated run of the earlier form decoded")
	}
	if _, err := DecodeRun(binaryB[:len(binaryB)-3]); err == nil {
		t.Error("a truncated run of the earlier binary form decoded")
	}
}

// FuzzDecodeRun: damaged stored runs are errors, never panics or huge
// allocations; what decodes encodes back to the same run.
func FuzzDecodeRun(f *testing.F) {
	for _, r := range codecRuns(f) {
		f.Add(EncodeRun(r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRun(b)
		if err != nil || b[0] != runBinary {
			return
		}
		r2, err := DecodeRun(EncodeRun(r))
		if err != nil {
			t.Fatalf("re-encoded run does not decode: %v", err)
		}
		j1, _ := json.Marshal(r)
		j2, _ := json.Marshal(r2)
		if !bytes.Equal(j1, j2) {
			t.Errorf("re-encoded run differs:\n%s\n%s", j1, j2)
		}
	})
}

// TestNewRunIDSortsByTime: ids look like Openbravo's (32 upper-case hex
// digits), differ, and sort in the order they were made across
// milliseconds, which keeps a store's inserts at the end of its index.
func TestNewRunIDSortsByTime(t *testing.T) {
	var ids []string
	seen := map[string]bool{}
	for i := range 40 {
		if i%10 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
		id := NewRunID()
		if len(id) != 32 || strings.Trim(id, "0123456789ABCDEF") != "" {
			t.Fatalf("id %q: want 32 upper-case hex digits", id)
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	for i := 10; i < len(ids); i += 10 {
		if ids[i-1] >= ids[i] {
			t.Errorf("id %s made after %s sorts before it", ids[i], ids[i-1])
		}
	}
}

// TestRunCodecWritesEachReferenceOnce: references that share an id (unit
// 1, company 1, warehouse 1) are each written in full once, however they
// alternate, and by number afterwards.
func TestRunCodecWritesEachReferenceOnce(t *testing.T) {
	org := Ref{ID: 1, SearchKey: "My Company (San Francisco)", Identifier: "My Company (San Francisco)"}
	wh := Ref{ID: 1, SearchKey: "WH", Identifier: "San Francisco"}
	unit := Ref{ID: 1, SearchKey: "Units", Identifier: "Units"}
	prod := Ref{ID: 1, SearchKey: "FURN_0001", Identifier: "[FURN_0001] Desk"}
	run := &Run{ID: "R", Organization: org}
	for i := range 200 {
		run.Allocations = append(run.Allocations, Allocation{Line: "L", Organization: org, Warehouse: wh, Product: prod, Qty: float64(i), UOM: unit, Rule: "r"})
	}
	b := EncodeRun(run)
	// Per allocation: line, four references, a quantity and the rule by
	// number: a dozen bytes at most.
	if limit := 200*12 + 200; len(b) > limit {
		t.Errorf("%d bytes for 200 allocations over four references sharing an id, want at most %d", len(b), limit)
	}
	back, err := DecodeRun(b)
	if err != nil {
		t.Fatal(err)
	}
	if a := back.Allocations[199]; a.Organization != org || a.Warehouse != wh || a.Product != prod || a.UOM != unit || a.Qty != 199 {
		t.Errorf("last allocation read back as %+v", a)
	}
}
