package gateway_test

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
)

// scrape reads /metrics into series → value ("name{labels}" as exposed).
func scrape(t *testing.T, r *observedRig) map[string]float64 {
	t.Helper()
	got := r.do(t, "GET", "/metrics", nil)
	if got.status != 200 || !strings.HasPrefix(got.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %q", got.status, got.header.Get("Content-Type"))
	}
	out := map[string]float64{}
	for _, l := range strings.Split(got.body, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			t.Fatalf("bad metrics line %q", l)
		}
		out[l[:i]] = v
	}
	return out
}

// sum adds the series of one metric whose labels contain every want.
func sum(m map[string]float64, name string, want ...string) float64 {
	var s float64
	for k, v := range m {
		if !strings.HasPrefix(k, name+"{") && k != name {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(k, w)
		}
		if ok {
			s += v
		}
	}
	return s
}

// TestMetricsMoveWithExportsImportsAndOdooCalls exports (cold and warm,
// so the cache is used), imports a plan and breaks one Odoo call, then
// checks the counters of each.
func TestMetricsMoveWithExportsImportsAndOdooCalls(t *testing.T) {
	ir := startImportRig(t)
	r := &observedRig{gw: ir.gw}
	before := scrape(t, r)
	if sum(before, "plangate_exports_total") != 0 || sum(before, "go_goroutines") == 0 {
		t.Fatalf("a fresh server: exports %v, go_goroutines %v", sum(before, "plangate_exports_total"), sum(before, "go_goroutines"))
	}
	q := func(mode string) string {
		return "/frepple/xml?" + url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}, "mode": {mode}}.Encode()
	}
	auth := map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="} // admin:admin
	for _, mode := range []string{"1", "2", "2"} {
		if got := r.do(t, "GET", q(mode), auth); got.status != 200 {
			t.Fatalf("export mode %s: %d %.200s", mode, got.status, got.body)
		}
	}
	if status, body := ir.post(t, "1", ir.plan); status != 200 {
		t.Fatalf("import: %d %.200s", status, body)
	}
	ir.emu.InjectFault(&odooemu.Fault{Model: "uom.uom", Message: "psycopg2.OperationalError: server closed the connection", Times: 1})
	if got := r.do(t, "GET", q("1"), auth); got.status != 502 { // the exporter's unit read fails
		t.Fatalf("export with a broken Odoo call: %d, want 502", got.status)
	}

	m := scrape(t, r)
	for _, c := range []struct {
		what    string
		got     float64
		atLeast float64
	}{
		{"mode-1 exports ok", sum(m, "plangate_exports_total", `mode="1"`, `result="ok"`), 1},
		{"mode-2 exports ok", sum(m, "plangate_exports_total", `mode="2"`, `result="ok"`), 2},
		{"item records exported", sum(m, "plangate_export_records_total", `section="items"`), 1},
		{"demand records exported", sum(m, "plangate_export_records_total", `section="demands"`), 1},
		{"bytes exported", sum(m, "plangate_export_bytes_total"), 10000},
		{"cache misses (cold mode 2)", sum(m, "plangate_cache_misses_total"), 1},
		{"cache hits (warm mode 2)", sum(m, "plangate_cache_hits_total"), 1},
		{"plan records imported", sum(m, "plangate_import_records_total"), 1},
		// Logins are cached (AuthCacheTTL): one authenticate serves all requests.
		{"authenticate calls", sum(m, "plangate_odoo_calls_total", `service="common"`, `method="authenticate"`), 1},
		{"product reads", sum(m, "plangate_odoo_calls_total", `service="object"`, `model="product.product"`), 1},
		{"uom.uom errors", sum(m, "plangate_odoo_call_errors_total", `model="uom.uom"`, `kind="transient"`), 1},
		{"Odoo call durations", sum(m, "plangate_odoo_call_duration_seconds_count", `service="object"`), 10},
		{"export requests answered 200", sum(m, "plangate_http_requests_total", `route="/frepple/xml"`, `method="GET"`, `status="200"`), 3},
		{"import requests answered 200", sum(m, "plangate_http_requests_total", `route="/frepple/xml"`, `method="POST"`, `status="200"`), 1},
		{"failed export answered 5xx", sum(m, "plangate_http_requests_total", `route="/frepple/xml"`, `status="50`), 1},
		{"request durations", sum(m, "plangate_http_request_duration_seconds_count", `route="/frepple/xml"`), 5},
		{"metrics scrape counted", sum(m, "plangate_http_requests_total", `route="/metrics"`), 1},
	} {
		if c.got < c.atLeast {
			t.Errorf("%s: %v, want at least %v", c.what, c.got, c.atLeast)
		}
	}
	if e := sum(m, "plangate_exports_total", `result="error"`); e != 1 {
		t.Errorf("failed exports: %v, want 1", e)
	}
	if t.Failed() {
		for k, v := range m {
			if strings.HasPrefix(k, "plangate_") && !strings.Contains(k, "_bucket") {
				t.Logf("%s %v", k, v)
			}
		}
	}
}

// TestMetricsRegistriesArePerServer: two servers in one process count apart.
func TestMetricsRegistriesArePerServer(t *testing.T) {
	var rigs [2]*observedRig
	for i := range rigs {
		gw := httptest.NewServer(gateway.New(gateway.Config{}, nil, nil, quiet))
		t.Cleanup(gw.Close)
		rigs[i] = &observedRig{gw: gw}
	}
	for i := 0; i < 3; i++ {
		rigs[0].do(t, "GET", "/healthz", nil)
	}
	if got := sum(scrape(t, rigs[0]), "plangate_http_requests_total", `route="/healthz"`); got != 3 {
		t.Errorf("server a counted %v healthz requests, want 3", got)
	}
	if got := sum(scrape(t, rigs[1]), "plangate_http_requests_total", `route="/healthz"`); got != 0 {
		t.Errorf("server b counted %v healthz requests, want 0", got)
	}
}
