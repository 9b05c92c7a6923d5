package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/oms"
)

// TestOMSErrorsAreJSON: every refusal and failure of the order-sourcing
// endpoints is the JSON error object, from the login prompt to Odoo being
// down: an OMS client never has to parse an HTML page.
func TestOMSErrorsAreJSON(t *testing.T) {
	r := startOMSRig(t, oms.Config{})
	// A second gateway in front of two databases: no database named is a 401.
	multi := startRig(t, gateway.Config{}, "odoo17_copy")
	small := `{"ticket":{"id":"T","organization":{"id":"1"},"lines":[{"product":{"id":"30"},"qty":1,"uom":"1"}]}}`
	json := func(req *http.Request) { req.Header.Set("Content-Type", "application/json") }
	with := func(fs ...func(*http.Request)) func(*http.Request) {
		return func(req *http.Request) {
			for _, f := range fs {
				f(req)
			}
		}
	}
	for _, tc := range []struct {
		name, base, path, body string
		prepare                func(*http.Request)
		before                 func()
		status                 int
		want                   string
	}{
		{"no credentials", r.gw.URL, "/oms/orders-proposal", small, json, nil, 401, "Login with Odoo user name and password"},
		{"wrong password", r.gw.URL, "/oms/orders-proposal", small, with(json, basic("admin", "nope")), nil, 401, "Login with Odoo"},
		{"unknown company", r.gw.URL, "/oms/orders-proposal?company=Nope", small, with(json, basic("admin", "admin")), nil, 401, "Invalid company name argument"},
		{"no database, several", multi.gw.URL, "/oms/orders-proposal", small, with(json, basic("admin", "admin")), nil, 401, "Missing database name argument"},
		{"not JSON", r.gw.URL, "/oms/orders-proposal", small, with(basic("admin", "admin"), func(req *http.Request) {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}), nil, 415, "must be JSON"},
		{"cross-site", r.gw.URL, "/oms/orders-proposal", small, with(json, basic("admin", "admin"), func(req *http.Request) {
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}), nil, 403, "cross-site request refused"},
		{"Odoo down", r.gw.URL, "/oms/orders-proposal", small, with(json, basic("admin", "admin")), func() {
			r.emu.InjectFault(&odooemu.Fault{Status: http.StatusServiceUnavailable})
		}, 502, "Odoo is unreachable or failed: Odoo answered HTTP 503"},
		{"unknown run", r.gw.URL, "/oms/runs/" + strings.Repeat("R", 300), "", basic("admin", "admin"), r.emu.ClearFaults, 404, "no order-sourcing run"},
		{"run, Odoo down", r.gw.URL, "/oms/runs/X", "", basic("admin", "admin"), func() {
			r.emu.InjectFault(&odooemu.Fault{Status: http.StatusServiceUnavailable})
		}, 502, "Odoo is unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			method := http.MethodPost
			if tc.body == "" {
				method = http.MethodGet
			}
			got := send(t, method, tc.base+tc.path, strings.NewReader(tc.body), tc.prepare)
			var e struct {
				Error struct {
					Status  int
					Message string
				}
			}
			if err := jsonUnmarshal(got.body, &e); err != nil || !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
				t.Fatalf("%d %q (%s): not the JSON error object: %v", got.status, got.body, got.header.Get("Content-Type"), err)
			}
			if got.status != tc.status || e.Error.Status != tc.status || !strings.Contains(e.Error.Message, tc.want) {
				t.Errorf("%d %s, want %d with %q", got.status, got.body, tc.status, tc.want)
			}
			if len(got.body) > 500 {
				t.Errorf("a %d-byte error echoes the request", len(got.body))
			}
			if tc.status == 401 && strings.Contains(tc.want, "Login") && got.header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate on the login refusal")
			}
		})
	}
	r.emu.ClearFaults()
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestOMSClientAbortIs499: a caller that gives up while Odoo is slow is
// logged as a client abort (499, info), never as an error.
func TestOMSClientAbortIs499(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	r.emu.InjectFault(&odooemu.Fault{Model: "stock.quant", Delay: 700 * time.Millisecond})
	client := &http.Client{Timeout: 200 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, r.gw.URL+"/oms/orders-proposal", strings.NewReader(guideTicket))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", "admin")
	if res, err := client.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the request was answered (%d) before the client gave up", res.StatusCode)
	}
	waitForLog(t, r, `"status":499`)
	assertClientAbortLogged(t, r.logLines(t), "/oms/orders-proposal")
}

// waitForLog waits until the captured log contains s (the server finishes
// after the client has left).
func waitForLog(t *testing.T, r *observedRig, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the log:\n%s", s, r.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertClientAbortLogged checks that path's access line says 499 and
// client_abort, and that nothing was logged above warn for it.
func assertClientAbortLogged(t *testing.T, lines []map[string]any, path string) {
	t.Helper()
	found := false
	for _, l := range lines {
		if l["level"] == "ERROR" {
			t.Errorf("an error was logged for a client abort: %v", l)
		}
		if l["msg"] == "request" && l["path"] == path {
			found = true
			if l["status"] != float64(499) || l["client_abort"] != true || l["level"] != "INFO" {
				t.Errorf("access line %v: want status 499, client_abort, level INFO", l)
			}
		}
	}
	if !found {
		t.Errorf("no access line for %s", path)
	}
}
