package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/store"
)

// omsRig serves the demo dataset with its extensions (three warehouses of
// the San Francisco company with stock and coordinates) through a gateway
// that keeps runs in a store.
type omsRig struct {
	emu   *odooemu.Server
	gw    *httptest.Server
	srv   *gateway.Server
	st    *store.Store
	clock *fakeClock
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func startOMSRig(t *testing.T, cfg oms.Config) *omsRig {
	t.Helper()
	e := emulate(t, nil, datasets.DemoExtensions...)
	st := tempStore(t)
	engine, err := oms.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: fixedNow}
	srv := gateway.New(gateway.Config{Now: clock.now, OMS: engine}, e.tr, st, quiet)
	gw := httptest.NewServer(srv)
	t.Cleanup(func() { gw.Close(); srv.Close() })
	return &omsRig{emu: e.srv, gw: gw, srv: srv, st: st, clock: clock}
}

func (r *omsRig) get(t *testing.T, path string, auth func(*http.Request)) resp {
	t.Helper()
	return send(t, http.MethodGet, r.gw.URL+path, nil, auth)
}

func (r *omsRig) post(t *testing.T, path, body string, auth func(*http.Request)) resp {
	t.Helper()
	return send(t, http.MethodPost, r.gw.URL+path, strings.NewReader(body), func(req *http.Request) {
		req.Header.Set("Content-Type", "application/json")
		if auth != nil {
			auth(req)
		}
	})
}

// guideTicket has the shape of the Openbravo OMS guide's example, on the
// demo data: Deco Addict (Pleasant Hill) orders four products of which no
// warehouse holds all.
const guideTicket = `{"ticket": {
  "id": "XXXXXXX1",
  "organization": {"id": "1", "_identifier": "My Company (San Francisco)"},
  "businessPartner": {"id": "10", "_identifier": "Deco Addict"},
  "date": "2026-11-24T11:54:21.018Z",
  "lines": [
    {"id": "000000000000010", "product": {"id": "30", "_identifier": "Individual Workplace"}, "qty": 30, "price": 100, "uom": 1},
    {"id": "000000000000020", "product": {"id": "20", "_identifier": "Pedal Bin"}, "qty": 25, "price": 100, "uom": 1},
    {"id": "000000000000030", "product": {"id": "18", "_identifier": "Storage Box"}, "qty": 10, "price": 100, "uom": 1},
    {"id": "000000000000040", "product": {"id": "25", "_identifier": "Office Chair Black"}, "qty": 15, "price": 100, "uom": 1}
  ]}}`

type proposal110 struct {
	OMS struct {
		RunID   string `json:"obomsRunId"`
		Tickets []struct {
			ID           string
			Client       map[string]string
			Organization map[string]string
			Warehouse    map[string]string
			Lines        []struct {
				ID      string
				Product struct{ ID string }
				Qty     float64
				UOM     string
			}
		}
	}
}

// split renders a 1.1.0 answer as "WH:line,line WH:line".
func split(t *testing.T, body string) (string, proposal110) {
	t.Helper()
	var p proposal110
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	var parts []string
	for _, tk := range p.OMS.Tickets {
		var ls []string
		for _, l := range tk.Lines {
			ls = append(ls, fmt.Sprintf("%s=%g", strings.TrimLeft(l.ID, "0"), l.Qty))
		}
		parts = append(parts, tk.Warehouse["searchKey"]+":"+strings.Join(ls, ","))
	}
	return strings.Join(parts, " "), p
}

func TestOMSGuideTicketSplit(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	admin := basic("admin", "admin")
	for _, path := range []string{"/oms/orders-proposal", "/openbravo/ws/org.openbravo.oms.getOrdersProposal"} {
		t.Run(path, func(t *testing.T) {
			res := r.post(t, path, guideTicket, admin)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			// LAX ships three lines, OAK the chair; with at most two
			// warehouses chosen, the nearer OAK also takes the workplaces.
			got, p := split(t, res.body)
			if want := "OAK:10=30,40=15 LAX:20=25,30=10"; got != want {
				t.Errorf("proposal %s, want %s", got, want)
			}
			tk := p.OMS.Tickets[0]
			if tk.ID != "XXXXXXX1" || tk.Client["id"] != "odoo17_demo" && tk.Client["id"] == "" ||
				tk.Organization["id"] != "1" || tk.Organization["_identifier"] != "My Company (San Francisco)" ||
				tk.Warehouse["id"] != "3" || tk.Warehouse["_identifier"] != "Oakland" {
				t.Errorf("first proposal header %+v", tk)
			}
			if len(p.OMS.RunID) != 32 {
				t.Errorf("obomsRunId %q", p.OMS.RunID)
			}

			old := r.post(t, path+"?version=1.0.0", guideTicket, admin)
			var v100 struct {
				OMS map[string]json.RawMessage `json:"oms"`
			}
			if err := json.Unmarshal([]byte(old.body), &v100); err != nil || old.status != 200 {
				t.Fatalf("1.0.0: %d %s", old.status, old.body)
			}
			if _, has := v100.OMS["obomsRunId"]; has {
				t.Errorf("1.0.0 answer carries obomsRunId: %s", old.body)
			}
			if !strings.Contains(old.body, `"organization":"1","warehouse":"3","lines":[{"id":"000000000000010","product":{"id":"30"},"qty":30,"uom":"1"}`) {
				t.Errorf("1.0.0 answer %s", old.body)
			}
		})
	}
}

func TestOMSSingleWarehouseAndUnits(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	admin := basic("admin", "admin")
	tests := []struct {
		name, lines, want string
	}{
		// LAX holds both; one warehouse beats nearer splits.
		{"one warehouse has all", `{"id":"1","product":{"id":"30"},"qty":50,"uom":"1"},{"id":"2","product":{"id":"23"},"qty":20,"uom":"1"}`, "LAX:1=50,2=20"},
		// A dozen chairs are 12 units: only OAK has that many free.
		{"dozens converted to units", `{"id":"1","product":{"id":"25"},"qty":1,"uom":"2"}`, "OAK:1=12"},
		// Nearest warehouse holding it: WH (SF) for the customer in SF.
		{"nearest first", `{"id":"1","product":{"id":"30"},"qty":5,"uom":"1"}`, "WH:1=5"},
		{"more than all stock: empty proposal", `{"id":"1","product":{"id":"30"},"qty":100000,"uom":"1"}`, ""},
		{"product without stock: empty proposal", `{"id":"1","product":{"id":"5"},"qty":1,"uom":"1"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"ticket":{"id":"T","organization":{"id":"1"},"businessPartner":{"id":"39"},"lines":[` + tt.lines + `]}}`
			res := r.post(t, "/oms/orders-proposal", body, admin)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			if got, _ := split(t, res.body); got != tt.want {
				t.Errorf("proposal %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOMSBadInput(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	admin := basic("admin", "admin")
	ticket := func(lines string) string {
		return `{"ticket":{"id":"T","organization":{"id":"1"},"lines":[{"id":"ok","product":{"id":"30"},"qty":1,"uom":"1"},` + lines + `]}}`
	}
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"invalid JSON", `{"ticket":`, 400, "invalid JSON"},
		{"no ticket id", `{"ticket":{"lines":[{"product":{"id":"30"},"qty":1,"uom":"1"}]}}`, 400, "ticket.id: missing"},
		{"no product", ticket(`{"id":"L2","qty":1,"uom":"1"}`), 400, `ticket line 2 (id \"L2\"): product: missing (give its id or searchKey)`},
		{"unknown product searchKey", ticket(`{"id":"L2","product":{"searchKey":"NOPE-1"},"qty":1}`), 400, `ticket line 2 (id \"L2\"): product.searchKey: no product has the internal reference \"NOPE-1\"`},
		{"unknown unit searchKey", ticket(`{"id":"L2","product":{"searchKey":"FURN_0789"},"qty":1,"uom":{"searchKey":"crate"}}`), 400, `ticket line 2 (id \"L2\"): uom.searchKey: unknown unit \"crate\"`},
		{"unknown organization searchKey", `{"ticket":{"id":"T","organization":{"searchKey":"Nowhere Inc"},"lines":[{"product":{"id":"30"},"qty":1}]}}`, 400, `ticket.organization.searchKey: unknown organization \"Nowhere Inc\"`},
		{"unknown partner searchKey", `{"ticket":{"id":"T","organization":{"id":"1"},"businessPartner":{"searchKey":"NOBODY"},"lines":[{"product":{"id":"30"},"qty":1}]}}`, 400, `ticket.businessPartner.searchKey: no partner has the reference \"NOBODY\"`},
		{"no qty", ticket(`{"id":"L2","product":{"id":"30"},"uom":"1"}`), 400, `ticket line 2 (id \"L2\"): qty: missing`},
		{"zero qty", ticket(`{"id":"L2","product":{"id":"30"},"qty":0,"uom":"1"}`), 400, "qty: must be positive"},
		{"negative qty", ticket(`{"id":"L2","product":{"id":"30"},"qty":-1,"uom":"1"}`), 400, "qty: must be positive"},
		{"unknown product", ticket(`{"id":"L2","product":{"id":"999999"},"qty":1,"uom":"1"}`), 400, `ticket line 2 (id \"L2\"): product.id: unknown product 999999`},
		{"product not an id", ticket(`{"id":"L2","product":{"id":"DA7FC1BB"},"qty":1,"uom":"1"}`), 400, "is not an Odoo product id"},
		{"unknown unit", ticket(`{"id":"L2","product":{"id":"30"},"qty":1,"uom":"777"}`), 400, `ticket line 2 (id \"L2\"): uom: unknown unit 777`},
		{"unit of another category", ticket(`{"id":"L2","product":{"id":"30"},"qty":1,"uom":"12"}`), 400, "unit kg cannot be converted to the product's unit Units"},
		{"unknown organization", `{"ticket":{"id":"T","organization":{"id":"42"},"lines":[{"product":{"id":"30"},"qty":1,"uom":"1"}]}}`, 400, `unknown organization \"42\"`},
		{"no organization, several companies", `{"ticket":{"id":"T","lines":[{"product":{"id":"30"},"qty":1,"uom":"1"}]}}`, 400, "ticket.organization.id: missing"},
		{"unknown version", `{"version":"9.9","ticket":{"id":"T","organization":{"id":"1"},"lines":[{"product":{"id":"30"},"qty":1,"uom":"1"}]}}`, 400, "unsupported version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.post(t, "/oms/orders-proposal", tt.body, admin)
			if res.status != tt.status || !strings.Contains(res.body, tt.want) {
				t.Fatalf("got %d %s, want %d containing %s", res.status, res.body, tt.status, tt.want)
			}
			if !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
				t.Errorf("content type %q", res.header.Get("Content-Type"))
			}
		})
	}
	if res := r.post(t, "/oms/orders-proposal", guideTicket, nil); res.status != http.StatusUnauthorized {
		t.Errorf("no credentials: %d", res.status)
	}
	if res := r.post(t, "/oms/orders-proposal", guideTicket, basic("admin", "wrong")); res.status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", res.status)
	}
	// The caller's company parameter stands in for a missing organization.
	res := r.post(t, "/oms/orders-proposal?company="+strings.ReplaceAll("My Company (San Francisco)", " ", "%20"),
		`{"ticket":{"id":"T","lines":[{"product":{"id":"30"},"qty":1,"uom":"1"}]}}`, admin)
	if res.status != http.StatusOK {
		t.Errorf("company parameter: %d %s", res.status, res.body)
	}
}

func TestOMSRunIsKept(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	admin := basic("admin", "admin")
	res := r.post(t, "/oms/orders-proposal", guideTicket, admin)
	_, p := split(t, res.body)
	id := p.OMS.RunID

	// Served before and after the batch reaches the store.
	for _, when := range []string{"at once", "after flush"} {
		if when == "after flush" {
			time.Sleep(300 * time.Millisecond)
		}
		got := r.get(t, "/oms/runs/"+id, admin)
		if got.status != http.StatusOK {
			t.Fatalf("%s: %d %s", when, got.status, got.body)
		}
		var run oms.Run
		if err := json.Unmarshal([]byte(got.body), &run); err != nil {
			t.Fatal(err)
		}
		if run.ID != id || run.TicketID != "XXXXXXX1" || !run.Fulfilled || len(run.Rules) != 2 || len(run.Allocations) != 4 {
			t.Fatalf("%s: run %+v", when, run)
		}
		first := run.Rules[0]
		if first.Rule != "single warehouse" || first.Outcome != oms.OutcomeNothing || len(first.Input) == 0 || len(first.Criteria) != 3 {
			t.Errorf("%s: first rule %+v", when, first)
		}
		second := run.Rules[1]
		if second.Outcome != oms.OutcomeFulfilled || len(second.Criteria[1].Input) != len(second.Criteria[0].Output) || len(second.Criteria[1].Log) == 0 {
			t.Errorf("%s: second rule criteria %+v", when, second.Criteria)
		}
		if run.Customer == nil || run.Lines[0].Product.SearchKey != "FURN_0789" {
			t.Errorf("%s: customer %v, line %+v", when, run.Customer, run.Lines[0])
		}
	}
	if got := r.get(t, "/oms/runs/NOPE", admin); got.status != http.StatusNotFound {
		t.Errorf("unknown run: %d", got.status)
	}
	if got := r.get(t, "/oms/runs/"+id, nil); got.status != http.StatusUnauthorized {
		t.Errorf("run without credentials: %d", got.status)
	}
	// Closing the gateway saves what is queued: the run survives a restart.
	res = r.post(t, "/oms/orders-proposal", guideTicket, admin)
	_, p = split(t, res.body)
	r.gw.Close()
	r.srv.Close()
	if doc, found, err := r.st.OMSRunDoc(p.OMS.RunID); err != nil || !found || !bytes.Contains(doc, []byte(p.OMS.RunID)) {
		t.Fatalf("run %s not in the store after Close: %v %v", p.OMS.RunID, found, err)
	}
}

func TestOMSStockCache(t *testing.T) {
	r := startOMSRig(t, oms.Config{StockFreshness: time.Minute})
	admin := basic("admin", "admin")
	if res := r.post(t, "/oms/orders-proposal", guideTicket, admin); res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	// Any further stock read fails: a fresh cache must not need one.
	r.emu.InjectFault(&odooemu.Fault{Model: "stock.quant", Message: "psycopg2.OperationalError: server closed the connection"})
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := r.post(t, "/oms/orders-proposal", guideTicket, admin); res.status != 200 {
				errs <- fmt.Sprintf("%d %s", res.status, res.body)
				return
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("cached request failed: %s", e)
	}
	// ?refresh=1 reads the stock again at once: the fault shows.
	if res := r.post(t, "/oms/orders-proposal?refresh=1", guideTicket, admin); res.status != http.StatusBadGateway {
		t.Errorf("refresh with Odoo failing: %d %s", res.status, res.body)
	}
	// Once stale, stock is read again: the fault now shows as 502.
	r.clock.add(2 * time.Minute)
	res := r.post(t, "/oms/orders-proposal", guideTicket, admin)
	if res.status != http.StatusBadGateway || !strings.Contains(res.body, "stock.quant") {
		t.Errorf("stale cache with Odoo failing: %d %s", res.status, res.body)
	}
}

func TestOMSConfiguredRules(t *testing.T) {
	cfg := oms.Config{Organizations: map[string]oms.OrgConfig{
		"My Company (San Francisco)": {Rules: []oms.RuleConfig{{
			Name: "LA first, never Oakland",
			Criteria: []oms.CriterionConfig{
				{Algorithm: "exclude", Params: map[string]any{"warehouses": []any{"OAK"}}},
				{Algorithm: "stock"},
				{Algorithm: "preference", Params: map[string]any{"order": []any{"LAX", "WH"}}},
			},
		}}},
	}}
	r := startOMSRig(t, cfg)
	res := r.post(t, "/oms/orders-proposal",
		`{"ticket":{"id":"T","organization":{"id":"1"},"lines":[{"id":"1","product":{"id":"30"},"qty":5,"uom":"1"},{"id":"2","product":{"id":"25"},"qty":9,"uom":"1"}]}}`,
		basic("admin", "admin"))
	// Chair: LAX has 8, WH 7, OAK (excluded) 20: nothing ships line 2.
	if got, _ := split(t, res.body); res.status != 200 || got != "" {
		t.Errorf("got %d %q", res.status, got)
	}
	// With 7 chairs, LAX (preferred) ships both lines.
	res = r.post(t, "/oms/orders-proposal",
		`{"ticket":{"id":"T","organization":{"id":"1"},"lines":[{"id":"1","product":{"id":"30"},"qty":5,"uom":"1"},{"id":"2","product":{"id":"25"},"qty":7,"uom":"1"}]}}`,
		basic("admin", "admin"))
	if got, _ := split(t, res.body); got != "LAX:1=5,2=7" {
		t.Errorf("got %q", got)
	}
	// Chicago has no rules in this configuration (no "*" entry).
	res = r.post(t, "/oms/orders-proposal",
		`{"ticket":{"id":"T","organization":{"id":"2"},"lines":[{"id":"1","product":{"id":"17"},"qty":1,"uom":"1"}]}}`, basic("admin", "admin"))
	if res.status != 400 || !strings.Contains(res.body, "no sourcing rules configured for My Company (Chicago)") {
		t.Errorf("unconfigured organization: %d %s", res.status, res.body)
	}
}

// TestOMSOrganizationsKeepToTheirWarehouses: Chicago's tickets ship from
// Chicago's warehouse only, though San Francisco holds more of the product.
func TestOMSOrganizationsKeepToTheirWarehouses(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	for _, tc := range []struct {
		qty  string
		want string
	}{
		{"5", "CHIC1:1=5"}, // 200 on hand, 180 reserved
		{"50", ""},         // WH has 270 free, but belongs to San Francisco
	} {
		res := r.post(t, "/oms/orders-proposal", `{"ticket":{"id":"C","organization":{"id":"2"},"lines":[{"id":"1","product":{"id":"17"},"qty":`+tc.qty+`,"uom":"1"}]}}`, basic("admin", "admin"))
		if got, p := split(t, res.body); res.status != 200 || got != tc.want {
			t.Errorf("qty %s: %d %q, want %q", tc.qty, res.status, got, tc.want)
		} else if got != "" && p.OMS.Tickets[0].Organization["id"] != "2" {
			t.Errorf("organization %v", p.OMS.Tickets[0].Organization)
		}
	}
}

// TestOMSBodyLimit: a ticket over the configured body limit is refused
// with 413 before it is parsed.
func TestOMSBodyLimit(t *testing.T) {
	e := emulate(t, nil, datasets.DemoExtensions...)
	srv := gateway.New(gateway.Config{MaxBodyBytes: 256}, e.tr, nil, quiet)
	gw := httptest.NewServer(srv)
	t.Cleanup(func() { gw.Close(); srv.Close() })
	r := &omsRig{gw: gw, srv: srv}
	if len(guideTicket) <= 256 {
		t.Fatal("the guide ticket must exceed the limit")
	}
	res := r.post(t, "/oms/orders-proposal", guideTicket, basic("admin", "admin"))
	if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "body limit") {
		t.Errorf("got %d %s", res.status, res.body)
	}
	small := `{"ticket":{"id":"T","organization":{"id":"1"},"lines":[{"product":{"id":"30"},"qty":1,"uom":"1"}]}}`
	if res := r.post(t, "/oms/orders-proposal", small, basic("admin", "admin")); res.status != http.StatusOK {
		t.Errorf("small ticket: %d %s", res.status, res.body)
	}
}

// TestOMSMetrics: tickets are counted by result on /metrics.
func TestOMSMetrics(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	admin := basic("admin", "admin")
	r.post(t, "/oms/orders-proposal", guideTicket, admin)
	r.post(t, "/oms/orders-proposal", `{"ticket":{"id":"T","organization":{"id":"1"},"lines":[{"product":{"id":"30"},"qty":100000,"uom":"1"}]}}`, admin)
	r.post(t, "/oms/orders-proposal", `{"ticket":{"id":"T","organization":{"id":"1"},"lines":[{"product":{"id":"30"},"qty":0,"uom":"1"}]}}`, admin)
	m := r.get(t, "/metrics", nil)
	for _, want := range []string{
		`plangate_oms_tickets_total{result="sourced"} 1`,
		`plangate_oms_tickets_total{result="empty"} 1`,
		`plangate_oms_tickets_total{result="refused"} 1`,
		`plangate_oms_sourcing_seconds_count 2`,
		`plangate_oms_runs_queued`,
	} {
		if !strings.Contains(m.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestOMSRunAfterClose: a ticket answered after Close (a request that
// outlived the shutdown) still has its run saved.
func TestOMSRunAfterClose(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	r.srv.Close()
	res := r.post(t, "/oms/orders-proposal", guideTicket, basic("admin", "admin"))
	_, p := split(t, res.body)
	if _, found, err := r.st.OMSRunDoc(p.OMS.RunID); err != nil || !found {
		t.Fatalf("run %s not saved: %v %v", p.OMS.RunID, found, err)
	}
}

// TestOMSRunNotKeptAfterTheStoreCloses: a request that outlives the whole
// shutdown (gateway and state file closed) gets 503, not the id of a run
// that was never kept.
func TestOMSRunNotKeptAfterTheStoreCloses(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	r.srv.Close()
	r.st.Close()
	res := r.post(t, "/oms/orders-proposal", guideTicket, basic("admin", "admin"))
	if res.status != http.StatusServiceUnavailable || !strings.Contains(res.body, "could not be saved") || strings.Contains(res.body, "obomsRunId") {
		t.Fatalf("answer %d %s, want 503 without a run id", res.status, res.body)
	}
}
