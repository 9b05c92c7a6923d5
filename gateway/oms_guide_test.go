package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/oms"
)

// The Openbravo OMS developers guide's two example requests, in the JSON
// shape it shows, with its Openbravo ids mapped to records of the demo
// dataset: the first (version 1.0.0 of the request: everything by id,
// uom as a bare number), the second (version 1.1.0: by searchKey, uom
// left out) whose answer ships one line from two warehouses.

// guideRequest100 is the guide's first example: three lines of ten,
// organization and business partner by id. Beers are desks and chairs.
const guideRequest100 = `{
  "ticket": {
    "id": "XXXXXXX1",
    "organization": {"id": "1", "_identifier": "My Company (San Francisco)"},
    "businessPartner": {"id": "10", "_identifier": "Deco Addict"},
    "date": "2026-11-30T11:54:21.018Z",
    "lines": [
      {"id": "000000000000010", "product": {"id": "24", "_identifier": "Conference Chair (Aluminium)"}, "qty": 10, "price": 100, "uom": 1},
      {"id": "000000000000020", "product": {"id": "13", "_identifier": "Customizable Desk (Steel, Black)"}, "qty": 10, "price": 100, "uom": 1},
      {"id": "000000000000030", "product": {"id": "12", "_identifier": "Customizable Desk (Steel, White)"}, "qty": 10, "price": 100, "uom": 1}
    ]
  }
}`

// guideRequest110 is the guide's second example: references by searchKey
// (company name, partner ref, internal reference), no uom (the product's
// unit). No warehouse holds ten E-COM06; Oakland 6 and Los Angeles 4 do.
const guideRequest110 = `{
  "ticket": {
    "id": "XXXXXXX2",
    "organization": {"searchKey": "My Company (San Francisco)"},
    "businessPartner": {"searchKey": "DECO"},
    "date": "2026-11-30T12:10:00.000Z",
    "lines": [
      {"id": "000000000000010", "product": {"searchKey": "E-COM06"}, "qty": 10, "price": 100},
      {"id": "000000000000020", "product": {"searchKey": "FURN_0789"}, "qty": 5, "price": 100}
    ]
  }
}`

// guideRules: the whole order from one warehouse, else split by distance
// with partial allocation.
var guideRules = oms.Config{Organizations: map[string]oms.OrgConfig{
	"My Company (San Francisco)": {Rules: []oms.RuleConfig{
		{Name: "one warehouse", Criteria: []oms.CriterionConfig{
			{Algorithm: "stock"}, {Algorithm: "one_warehouse", Params: map[string]any{"strict": true}}, {Algorithm: "distance"}}},
		{Name: "split", Partial: true, Criteria: []oms.CriterionConfig{{Algorithm: "distance", Final: true}}},
	}},
}}

// startGuideRig is the OMS rig with E-COM06 (product 16) stocked 6 in
// Oakland and 4 in Los Angeles.
func startGuideRig(t *testing.T) *omsRig {
	t.Helper()
	e := emulate(t, func(ds *odooemu.Dataset, _ *odooemu.Emulator) {
		quants := ds.Model("stock.quant")
		for i, q := range []struct {
			loc  int
			name string
			qty  float64
		}{{202, "OAK/Stock", 6}, {204, "LAX/Stock", 4}} {
			quants.Records = append(quants.Records, odooemu.Record{"id": 9000 + i, "product_id": []any{16, "[E-COM06] Corner Desk Right Sit"},
				"location_id": []any{q.loc, q.name}, "quantity": q.qty, "reserved_quantity": 0.0, "company_id": []any{1, "My Company (San Francisco)"}})
		}
		odooemu.Reindex(quants)
	}, datasets.DemoExtensions...)
	engine, err := oms.NewEngine(guideRules)
	if err != nil {
		t.Fatal(err)
	}
	srv := gateway.New(gateway.Config{Now: fixedClock, OMS: engine}, e.tr, tempStore(t), quiet)
	gw := httptest.NewServer(srv)
	t.Cleanup(func() { gw.Close(); srv.Close() })
	return &omsRig{emu: e.srv, gw: gw, srv: srv}
}

func fixedClock() time.Time { return fixedNow }

func TestOMSGuideExamples(t *testing.T) {
	r := startGuideRig(t)
	admin := basic("admin", "admin")
	tests := []struct {
		name, body, version string
		want                string // "WH:line=qty,... WH:..."
		wantDate            string
	}{
		// Deco Addict's three lines: WH holds ten of each.
		{"first example (1.0.0 request)", guideRequest100, "1.0.0", "WH:10=10,20=10,30=10", "2026-11-30T11:54:21.018Z"},
		{"first example answered in 1.1.0", guideRequest100, "1.1.0", "WH:10=10,20=10,30=10", "2026-11-30T11:54:21.018Z"},
		// Line 10 ships 6 from Oakland (nearer Pleasant Hill) and 4 from
		// Los Angeles; line 20 whole from Oakland.
		{"second example (1.1.0 request by searchKey)", guideRequest110, "1.1.0", "OAK:10=6,20=5 LAX:10=4", "2026-11-30T12:10:00.000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.post(t, "/openbravo/ws/org.openbravo.oms.getOrdersProposal?version="+tt.version, tt.body, admin)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			got, runID := guideProposal(t, res.body, tt.version)
			if got != tt.want {
				t.Errorf("proposal %s, want %s", got, tt.want)
			}
			if tt.version == "1.0.0" {
				return
			}
			var run oms.Run
			kept := r.get(t, "/oms/runs/"+runID, admin)
			if err := json.Unmarshal([]byte(kept.body), &run); err != nil || kept.status != 200 {
				t.Fatalf("run %s: %d %s", runID, kept.status, kept.body)
			}
			if run.TicketDate != tt.wantDate {
				t.Errorf("run keeps ticket date %q, want %q", run.TicketDate, tt.wantDate)
			}
		})
	}
	// The 1.1.0 answer's lines name products as the guide shows them.
	res := r.post(t, "/oms/orders-proposal", guideRequest110, admin)
	if !strings.Contains(res.body, `"product":{"id":"16","searchKey":"E-COM06","_identifier":"[E-COM06] `) {
		t.Errorf("1.1.0 lines without the product's searchKey and _identifier: %s", res.body)
	}
}

// guideProposal renders an answer of either version as "WH:line=qty"
// groups (warehouse by code in 1.1.0, by id in 1.0.0) and returns the run id.
func guideProposal(t *testing.T, body, version string) (string, string) {
	t.Helper()
	if version != "1.0.0" {
		got, p := split(t, body)
		for _, tk := range p.OMS.Tickets {
			for _, l := range tk.Lines {
				if l.Product.ID == "" {
					t.Errorf("line %s without product id", l.ID)
				}
			}
		}
		return got, p.OMS.RunID
	}
	var p struct {
		OMS struct {
			RunID   *string `json:"obomsRunId"`
			Tickets []struct {
				Warehouse string
				Lines     []struct {
					ID  string
					Qty float64
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.OMS.RunID != nil {
		t.Fatalf("1.0.0 answer %s: %v", body, err)
	}
	codes := map[string]string{"1": "WH", "3": "OAK", "4": "LAX"}
	var parts []string
	for _, tk := range p.OMS.Tickets {
		var ls []string
		for _, l := range tk.Lines {
			ls = append(ls, strings.TrimLeft(l.ID, "0")+"="+strconvG(l.Qty))
		}
		parts = append(parts, codes[tk.Warehouse]+":"+strings.Join(ls, ","))
	}
	return strings.Join(parts, " "), ""
}

func strconvG(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
