package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// contract checks exchanges with a running gateway against the OpenAPI
// document that same gateway serves.
type contract struct {
	router routers.Router
	base   string
}

func loadContract(t *testing.T, r *omsRig) *contract {
	t.Helper()
	res := r.get(t, "/oms/openapi.json", nil)
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /oms/openapi.json without login: %d %s", res.status, res.header.Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(res.body))
	if err != nil {
		t.Fatalf("load served document: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("served document is not valid OpenAPI: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{router: router, base: r.gw.URL}
}

var strictOptions = &openapi3filter.Options{
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	IncludeResponseStatus: true, // an undocumented status is a failure
	MultiError:            true,
}

// prepared sets what every request of these tests carries: the JSON
// content type when there is a body, and the credentials.
func prepared(body string, auth func(*http.Request)) func(*http.Request) {
	return func(req *http.Request) {
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth != nil {
			auth(req)
		}
	}
}

// request is the document's view of a request: its route and the request
// to check against it.
func (c *contract) request(t *testing.T, method, path, body string, auth func(*http.Request)) *openapi3filter.RequestValidationInput {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	prepared(body, auth)(req)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: not in the document: %v", method, path, err)
	}
	return &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: strictOptions}
}

// exchange sends one request and checks it and its answer against the
// document: reqErr says whether the request conforms, ansErr whether the
// answer does (checked either way: a refused request's answer is part of
// the contract too).
func (c *contract) exchange(t *testing.T, method, path, body string, auth func(*http.Request)) (res resp, reqErr, ansErr error) {
	t.Helper()
	in := c.request(t, method, path, body, auth)
	reqErr = openapi3filter.ValidateRequest(context.Background(), in)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	res = send(t, method, c.base+path, rd, prepared(body, auth))
	return res, reqErr, c.checkAnswer(in, res)
}

func (c *contract) checkAnswer(in *openapi3filter.RequestValidationInput, r resp) error {
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(strings.NewReader(r.body)),
		Options:                strictOptions,
	})
}

// TestOMSOpenAPI: every kind of answer the OMS endpoints give, success and
// refusal, matches the served document, which admits no extra fields.
func TestOMSOpenAPI(t *testing.T) {
	r := startGuideRig(t)
	c := loadContract(t, r)
	admin := basic("admin", "admin")
	const proposal = "/openbravo/ws/org.openbravo.oms.getOrdersProposal"

	// Runs to look up and list: one of each request version.
	var runIDs []string
	for _, body := range []string{guideRequest110, guideRequest100} {
		res, reqErr, ansErr := c.exchange(t, http.MethodPost, "/oms/orders-proposal", body, admin)
		if reqErr != nil || ansErr != nil || res.status != http.StatusOK {
			t.Fatalf("proposal: %d %v %v %s", res.status, reqErr, ansErr, res.body)
		}
		var p struct {
			OMS struct {
				RunID string `json:"obomsRunId"`
			} `json:"oms"`
		}
		if err := json.Unmarshal([]byte(res.body), &p); err != nil || p.OMS.RunID == "" {
			t.Fatalf("no run id in %s", res.body)
		}
		runIDs = append(runIDs, p.OMS.RunID)
	}

	tests := []struct {
		name, method, path, body string
		auth                     func(*http.Request)
		status                   int
		outside                  bool // the request itself breaks the document
	}{
		{"guide example 1 answered in 1.0.0", http.MethodPost, proposal + "?version=1.0.0", guideRequest100, admin, 200, false},
		{"guide example 1 answered in 1.1.0", http.MethodPost, proposal + "?version=1.1.0", guideRequest100, admin, 200, false},
		{"guide example 2 (split line)", http.MethodPost, proposal, guideRequest110, admin, 200, false},
		{"ticket of an unknown product", http.MethodPost, "/oms/orders-proposal",
			`{"ticket":{"id":"X","organization":{"id":"1"},"lines":[{"id":"1","product":{"searchKey":"NO-SUCH"},"qty":1}]}}`, admin, 400, false},
		{"malformed JSON", http.MethodPost, "/oms/orders-proposal", `{"ticket":`, admin, 400, true},
		{"ticket without lines", http.MethodPost, "/oms/orders-proposal", `{"ticket":{"id":"X","organization":{"id":"1"}}}`, admin, 400, true},
		{"no credentials", http.MethodPost, "/oms/orders-proposal", guideRequest110, nil, 401, false},
		{"wrong password", http.MethodGet, "/oms/runs", "", basic("admin", "nope"), 401, false},
		{"kept run (1.1.0 request)", http.MethodGet, "/oms/runs/" + runIDs[0], "", admin, 200, false},
		{"kept run (1.0.0 request)", http.MethodGet, "/oms/runs/" + runIDs[1], "", admin, 200, false},
		{"unknown run", http.MethodGet, "/oms/runs/no-such-run", "", admin, 404, false},
		{"run listing", http.MethodGet, "/oms/runs", "", admin, 200, false},
		{"run listing, filtered, one per page", http.MethodGet, "/oms/runs?limit=1&fulfilled=true&organization=My+Company+(San+Francisco)&from=2026-01-01", "", admin, 200, false},
		{"run listing with a forged cursor", http.MethodGet, "/oms/runs?cursor=AAAA", "", admin, 400, false},
		{"run listing with a bad date", http.MethodGet, "/oms/runs?from=yesterday", "", admin, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, reqErr, ansErr := c.exchange(t, tt.method, tt.path, tt.body, tt.auth)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if (reqErr != nil) != tt.outside {
				t.Errorf("request outside the document: %v, want %v (%v)", reqErr != nil, tt.outside, reqErr)
			}
			if ansErr != nil {
				t.Errorf("answer does not match the document: %v\n%s", ansErr, res.body)
			}
		})
	}

	// The listing pages on: the second page, by the first one's cursor, too.
	res, _, ansErr := c.exchange(t, http.MethodGet, "/oms/runs?limit=1", "", admin)
	var page struct{ Next string }
	if ansErr != nil || json.Unmarshal([]byte(res.body), &page) != nil || page.Next == "" {
		t.Fatalf("first page: %v %s", ansErr, res.body)
	}
	if res, _, ansErr := c.exchange(t, http.MethodGet, "/oms/runs?limit=1&cursor="+page.Next, "", admin); ansErr != nil || res.status != 200 {
		t.Errorf("second page: %d %v %s", res.status, ansErr, res.body)
	}
}

// TestOMSOpenAPIRejectsDrift: the checks above would catch an answer that
// grew a field, changed a type or lost a required field.
func TestOMSOpenAPIRejectsDrift(t *testing.T) {
	r := startGuideRig(t)
	c := loadContract(t, r)
	admin := basic("admin", "admin")
	res, _, ansErr := c.exchange(t, http.MethodPost, "/oms/orders-proposal", guideRequest110, admin)
	if ansErr != nil {
		t.Fatalf("real answer: %v", ansErr)
	}
	firstLine := func(a map[string]any) map[string]any {
		tk := a["oms"].(map[string]any)["tickets"].([]any)[0].(map[string]any)
		return tk["lines"].([]any)[0].(map[string]any)
	}
	tests := []struct {
		name   string
		change func(a map[string]any)
	}{
		{"extra field on a line", func(a map[string]any) { firstLine(a)["warehouseHint"] = "OAK" }},
		{"quantity as text", func(a map[string]any) { firstLine(a)["qty"] = "6" }},
		{"run id missing", func(a map[string]any) { delete(a["oms"].(map[string]any), "obomsRunId") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a map[string]any
			if err := json.Unmarshal([]byte(res.body), &a); err != nil {
				t.Fatal(err)
			}
			tt.change(a)
			b, _ := json.Marshal(a)
			in := c.request(t, http.MethodPost, "/oms/orders-proposal", guideRequest110, admin)
			if err := c.checkAnswer(in, resp{200, res.header, string(b)}); err == nil {
				t.Errorf("changed answer passes the document: %s", b)
			}
		})
	}
}
