package oms

import (
	"encoding/json"
	"strings"
	"testing"
)

// guideTicket has the shape of the Openbravo OMS developer guide's example.
const guideTicket = `{
  "ticket": {
    "id": "XXXXXXX1",
    "organization": {"id": "1", "_identifier": "My Company (San Francisco)"},
    "businessPartner": {"id": "10", "_identifier": "Deco Addict"},
    "date": "2026-11-30T11:54:21.018Z",
    "lines": [
      {"id": "000000000000010", "product": {"id": "30", "_identifier": "Individual Workplace"}, "qty": 30, "price": 100, "uom": 1},
      {"id": "000000000000020", "product": {"id": 20}, "qty": "25", "uom": {"id": "1"}}
    ]
  }
}`

func TestParseTicket(t *testing.T) {
	tk, err := ParseTicket(strings.NewReader(guideTicket))
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != "XXXXXXX1" || tk.Organization != "1" || tk.BusinessPartner != "10" || len(tk.Lines) != 2 {
		t.Fatalf("ticket %+v", tk)
	}
	want := []Line{{ID: "000000000000010", Product: "30", Qty: 30, UOM: "1"}, {ID: "000000000000020", Product: "20", Qty: 25, UOM: "1"}}
	for i, l := range tk.Lines {
		if l != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, l, want[i])
		}
	}
}

// TestParseTicketSearchKeys: version 1.1.0 references by searchKey, and
// a line without a unit (the product's own then).
func TestParseTicketSearchKeys(t *testing.T) {
	tk, err := ParseTicket(strings.NewReader(`{"ticket":{"id":"T","organization":{"searchKey":"West"},"businessPartner":{"searchKey":"DECO"},
		"lines":[{"id":"1","product":{"searchKey":"FURN_0789","_identifier":"Individual Workplace"},"qty":6},
		         {"id":"2","product":{"id":"20","searchKey":"E-COM10"},"qty":1,"uom":{"searchKey":"Units"}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if tk.Organization != "" || tk.OrganizationKey != "West" || tk.BusinessPartnerKey != "DECO" {
		t.Errorf("ticket %+v", tk)
	}
	want := []Line{{ID: "1", ProductKey: "FURN_0789", Qty: 6}, {ID: "2", Product: "20", ProductKey: "E-COM10", Qty: 1, UOMKey: "Units"}}
	for i, l := range tk.Lines {
		if l != want[i] {
			t.Errorf("line %d: %+v, want %+v", i+1, l, want[i])
		}
	}
}

func TestParseTicketErrors(t *testing.T) {
	line := func(l string) string {
		return `{"ticket":{"id":"T","lines":[{"id":"L1","product":{"id":"1"},"qty":1,"uom":"1"},` + l + `]}}`
	}
	tests := []struct {
		name, body, want string
	}{
		{"empty body", ``, "ticket: invalid JSON: empty body"},
		{"not JSON", `{"ticket":`, "ticket: invalid JSON"},
		{"trailing data", `{"ticket":{"id":"T","lines":[{"product":{"id":"1"},"qty":1,"uom":1}]}} {}`, "data after the request object"},
		{"no ticket", `{}`, "ticket: ticket: missing"},
		{"no id", `{"ticket":{"lines":[]}}`, "ticket: ticket.id: missing"},
		{"no lines", `{"ticket":{"id":"T","lines":[]}}`, "ticket: ticket.lines: no lines"},
		{"lines not a list", `{"ticket":{"id":"T","lines":{}}}`, "ticket.lines: want a list of lines"},
		{"missing product", line(`{"id":"L2","qty":1,"uom":"1"}`), `ticket line 2 (id "L2"): product: missing (give its id or searchKey)`},
		{"product without id or searchKey", line(`{"id":"L2","product":{"_identifier":"Chair"},"qty":1}`), `ticket line 2 (id "L2"): product: missing`},
		{"searchKey too long", line(`{"id":"L2","product":{"searchKey":"` + strings.Repeat("k", 129) + `"},"qty":1}`), `ticket line 2 (id "L2"): product.searchKey: 129 bytes`},
		{"missing qty", line(`{"id":"L2","product":{"id":"1"},"uom":"1"}`), `ticket line 2 (id "L2"): qty: missing`},
		{"zero qty", line(`{"id":"L2","product":{"id":"1"},"qty":0,"uom":"1"}`), `ticket line 2 (id "L2"): qty: must be positive, got 0`},
		{"negative qty", line(`{"id":"L2","product":{"id":"1"},"qty":-3,"uom":"1"}`), "must be positive, got -3"},
		{"qty text", line(`{"id":"L2","product":{"id":"1"},"qty":"lots","uom":"1"}`), "qty: lots is not a number"},
		{"qty object", line(`{"id":"L2","product":{"id":"1"},"qty":{},"uom":"1"}`), "qty: {} is not a number"},
		{"product id bool", line(`{"id":"L2","product":{"id":true},"qty":1,"uom":"1"}`), "ticket line 2: invalid line"},
		{"duplicate line id", line(`{"id":"L1","product":{"id":"1"},"qty":1,"uom":"1"}`), "same id as line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTicket(strings.NewReader(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if !IsInputError(err) {
				t.Errorf("%T is not an input error", err)
			}
		})
	}
}

func TestResponseVersions(t *testing.T) {
	run := &Run{ID: "RUN1", TicketID: "T1", Database: "db", Fulfilled: true, Allocations: []Allocation{
		{Line: "1", Organization: Ref{1, "West", "West"}, Warehouse: Ref{3, "LAX", "Los Angeles"}, Product: Ref{10, "P10", "Product 10"}, Qty: 2, UOM: Ref{1, "Units", "Units"}},
		{Line: "2", Organization: Ref{1, "West", "West"}, Warehouse: Ref{2, "OAK", "Oakland"}, Product: Ref{20, "P20", "Product 20"}, Qty: 1, UOM: Ref{1, "Units", "Units"}},
		{Line: "3", Organization: Ref{1, "West", "West"}, Warehouse: Ref{3, "LAX", "Los Angeles"}, Product: Ref{30, "P30", "Product 30"}, Qty: 5, UOM: Ref{1, "Units", "Units"}},
	}}
	tests := []struct{ version, want string }{
		{Version100, `{"oms":{"tickets":[` +
			`{"id":"T1","client":"db","organization":"1","warehouse":"3","lines":[{"id":"1","product":{"id":"10"},"qty":2,"uom":"1"},{"id":"3","product":{"id":"30"},"qty":5,"uom":"1"}]},` +
			`{"id":"T1","client":"db","organization":"1","warehouse":"2","lines":[{"id":"2","product":{"id":"20"},"qty":1,"uom":"1"}]}]}}`},
		{Version110, `{"oms":{"obomsRunId":"RUN1","tickets":[` +
			`{"id":"T1","client":{"id":"db","searchKey":"db","_identifier":"db"},"organization":{"id":"1","searchKey":"West","_identifier":"West"},"warehouse":{"id":"3","searchKey":"LAX","_identifier":"Los Angeles"},"lines":[{"id":"1","product":{"id":"10","searchKey":"P10","_identifier":"Product 10"},"qty":2,"uom":"1"},{"id":"3","product":{"id":"30","searchKey":"P30","_identifier":"Product 30"},"qty":5,"uom":"1"}]},` +
			`{"id":"T1","client":{"id":"db","searchKey":"db","_identifier":"db"},"organization":{"id":"1","searchKey":"West","_identifier":"West"},"warehouse":{"id":"2","searchKey":"OAK","_identifier":"Oakland"},"lines":[{"id":"2","product":{"id":"20","searchKey":"P20","_identifier":"Product 20"},"qty":1,"uom":"1"}]}]}}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(NewResponse(run, tt.version))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.version, b, tt.want)
		}
	}
	// A line split over two warehouses is in both proposals; two parts in
	// one warehouse (two rules) are one line.
	west, lax, oak := Ref{1, "West", "West"}, Ref{3, "LAX", "Los Angeles"}, Ref{2, "OAK", "Oakland"}
	p10, units := Ref{10, "P10", "Product 10"}, Ref{1, "Units", "Units"}
	split := &Run{ID: "R2", TicketID: "T", Database: "db", Allocations: []Allocation{
		{Line: "1", Organization: west, Warehouse: lax, Product: p10, Qty: 6, UOM: units},
		{Line: "1", Organization: west, Warehouse: oak, Product: p10, Qty: 3, UOM: units},
		{Line: "1", Organization: west, Warehouse: oak, Product: p10, Qty: 1, UOM: units},
	}}
	b, _ := json.Marshal(NewResponse(split, Version100))
	if want := `{"oms":{"tickets":[{"id":"T","client":"db","organization":"1","warehouse":"3","lines":[{"id":"1","product":{"id":"10"},"qty":6,"uom":"1"}]},` +
		`{"id":"T","client":"db","organization":"1","warehouse":"2","lines":[{"id":"1","product":{"id":"10"},"qty":4,"uom":"1"}]}]}}`; string(b) != want {
		t.Errorf("split line:\n got %s\nwant %s", b, want)
	}
	empty, _ := json.Marshal(NewResponse(&Run{ID: "R"}, Version110))
	if string(empty) != `{"oms":{"obomsRunId":"R","tickets":[]}}` {
		t.Errorf("empty proposal %s", empty)
	}
	for _, v := range []string{"", "1.0.0", "1.1.0"} {
		if _, err := CheckVersion(v); err != nil {
			t.Errorf("version %q refused: %v", v, err)
		}
	}
	if _, err := CheckVersion("2.0"); err == nil || !IsInputError(err) {
		t.Errorf("version 2.0 accepted: %v", err)
	}
}

// TestParseTicketBounds: tickets are kept with their runs, so identifiers
// and line counts are bounded; the refusal names the field and quotes only
// the start of the value, never the megabytes sent.
func TestParseTicketBounds(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	lineOK := `{"id":"L1","product":{"id":"1"},"qty":1,"uom":"1"}`
	many := strings.TrimSuffix(strings.Repeat(lineOK[:len(lineOK)-1]+`,"id":null},`, MaxLines+1), ",")
	tests := []struct {
		name, body, want string
	}{
		{"ticket id", `{"ticket":{"id":"` + long + `","lines":[` + lineOK + `]}}`, "ticket: ticket.id: 1048576 bytes (xxxxxxxxxxxxxxxxxxxx...), at most 128 allowed"},
		{"organization", `{"ticket":{"id":"T","organization":{"id":"` + long + `"},"lines":[` + lineOK + `]}}`, "ticket.organization.id: 1048576 bytes"},
		{"partner", `{"ticket":{"id":"T","businessPartner":"` + long + `","lines":[` + lineOK + `]}}`, "ticket.businessPartner.id: 1048576 bytes"},
		{"date", `{"ticket":{"id":"T","date":"` + long + `","lines":[` + lineOK + `]}}`, "ticket.date: 1048576 bytes"},
		{"version", `{"version":"` + long + `","ticket":{"id":"T","lines":[` + lineOK + `]}}`, "version: 1048576 bytes"},
		{"line id", `{"ticket":{"id":"T","lines":[{"id":"` + long + `","product":{"id":"1"},"qty":1,"uom":"1"}]}}`, "ticket line 1: id: 1048576 bytes"},
		{"product id", `{"ticket":{"id":"T","lines":[{"id":"L1","product":{"id":"` + long + `"},"qty":1,"uom":"1"}]}}`, `ticket line 1 (id "L1"): product.id: 1048576 bytes`},
		{"uom", `{"ticket":{"id":"T","lines":[{"id":"L1","product":{"id":"1"},"qty":1,"uom":"` + long + `"}]}}`, `ticket line 1 (id "L1"): uom: 1048576 bytes`},
		{"qty", `{"ticket":{"id":"T","lines":[{"id":"L1","product":{"id":"1"},"qty":"` + long + `","uom":"1"}]}}`, `qty: xxxxxxxxxxxxxxxxxxxx... is not a number`},
		{"too many lines", `{"ticket":{"id":"T","lines":[` + many + `]}}`, "ticket.lines: 1001 lines, at most 1000 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTicket(strings.NewReader(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", clipped(err), tt.want)
			}
			if n := len(err.Error()); n > 200 {
				t.Errorf("the error echoes %d bytes", n)
			}
		})
	}
	// At the bounds exactly, a ticket is taken.
	at := `{"ticket":{"id":"` + strings.Repeat("t", MaxIDLen) + `","lines":[{"id":"` + strings.Repeat("l", MaxIDLen) + `","product":{"id":"1"},"qty":1,"uom":"1"}]}}`
	if _, err := ParseTicket(strings.NewReader(at)); err != nil {
		t.Errorf("identifiers of %d bytes: %v", MaxIDLen, err)
	}
}

func clipped(err error) string {
	if err == nil {
		return "<nil>"
	}
	if s := err.Error(); len(s) > 300 {
		return s[:300] + "…"
	}
	return err.Error()
}
