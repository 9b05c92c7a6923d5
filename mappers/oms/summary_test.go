package oms

import (
	"testing"
	"time"
)

func TestSummaryRoundTrip(t *testing.T) {
	paris := time.FixedZone("", 3600)
	r := &Run{ID: "0190ABCDEF", TicketID: "T-ü", TicketDate: "2026-11-24T11:54:21.018Z", Database: "odoo17",
		Organization: Ref{ID: 2, SearchKey: "My Company (Chicago)", Identifier: "My Company (Chicago)"},
		Start:        time.Date(2026, 11, 24, 11, 54, 21, 18000000, paris), Duration: 1234567, Fulfilled: true,
		Lines: make([]RunLine, 3), Allocations: make([]Allocation, 4)}
	want := r.Summary()
	b := EncodeSummary(want)
	got, err := DecodeSummary(b)
	if err != nil || got != want {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range [][]byte{nil, []byte("{}"), b[:len(b)-1], append(append([]byte(nil), b...), 0)} {
		if _, err := DecodeSummary(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestRunFilterMatch(t *testing.T) {
	s := RunSummary{Database: "odoo17", TicketID: "T1", Organization: Ref{ID: 2, SearchKey: "CHIC", Identifier: "My Company (Chicago)"}, Fulfilled: true}
	yes, no := true, false
	tests := []struct {
		name string
		f    RunFilter
		want bool
	}{
		{"database only", RunFilter{Database: "odoo17"}, true},
		{"another database", RunFilter{Database: "other"}, false},
		{"ticket", RunFilter{Database: "odoo17", Ticket: "T1"}, true},
		{"ticket is exact", RunFilter{Database: "odoo17", Ticket: "t1"}, false},
		{"organization id", RunFilter{Database: "odoo17", Organization: "2"}, true},
		{"other organization id", RunFilter{Database: "odoo17", Organization: "1"}, false},
		{"organization search key", RunFilter{Database: "odoo17", Organization: "chic"}, true},
		{"organization name", RunFilter{Database: "odoo17", Organization: "My Company (Chicago)"}, true},
		{"fulfilled", RunFilter{Database: "odoo17", Fulfilled: &yes}, true},
		{"not fulfilled", RunFilter{Database: "odoo17", Fulfilled: &no}, false},
	}
	for _, tt := range tests {
		if got := tt.f.Match(s); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
