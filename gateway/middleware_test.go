package gateway_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// observedRig is a gateway in front of the emulator whose log is captured.
type observedRig struct {
	emu *odooemu.Server
	ds  *odooemu.Dataset
	gw  *httptest.Server
	log *syncBuffer
}

// startObserved serves the demo dataset through the gateway and captures
// its log (JSON, every level). adminPassword, when set, replaces admin's.
func startObserved(t *testing.T, cfg gateway.Config, adminPassword string) *observedRig {
	t.Helper()
	e := emulate(t, func(ds *odooemu.Dataset, _ *odooemu.Emulator) {
		if adminPassword != "" {
			ds.Passwords["admin"] = adminPassword
		}
	})
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	buf := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw := httptest.NewServer(gateway.New(cfg, e.tr, nil, log))
	t.Cleanup(gw.Close)
	return &observedRig{emu: e.srv, ds: e.ds, gw: gw, log: buf}
}

// do sends one request; header values are set as given.
func (r *observedRig) do(t *testing.T, method, path string, hdr map[string]string) resp {
	t.Helper()
	return send(t, method, r.gw.URL+path, nil, func(req *http.Request) {
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
	})
}

// logLines decodes the captured JSON log.
func (r *observedRig) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.log.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

func TestRequestIDs(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	hexID := regexp.MustCompile(`^[0-9a-f]{24}$`)

	got := r.do(t, "GET", "/healthz", nil)
	generated := got.header.Get("X-Request-Id")
	if got.status != 200 || !hexID.MatchString(generated) {
		t.Fatalf("no header: status %d, X-Request-Id %q, want 24 hex digits", got.status, generated)
	}
	if again := r.do(t, "GET", "/healthz", nil).header.Get("X-Request-Id"); again == generated {
		t.Errorf("two requests got the same id %q", again)
	}
	for _, tc := range []struct{ in, want string }{
		{"abc-123_DEF.4:5", "abc-123_DEF.4:5"},
		{"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
		{"has space", ""},
		{`quote"d`, ""},
		{"a=b;c", ""},
		{strings.Repeat("x", 129), ""},
	} {
		got := r.do(t, "GET", "/healthz", map[string]string{"X-Request-Id": tc.in}).header.Get("X-Request-Id")
		if tc.want != "" && got != tc.want {
			t.Errorf("incoming %q: echoed %q, want it kept", tc.in, got)
		}
		if tc.want == "" && !hexID.MatchString(got) {
			t.Errorf("incoming %q: got %q, want a fresh id", tc.in, got)
		}
	}

	// The access log line carries the id, method, path, status, bytes and duration.
	got = r.do(t, "GET", "/frepple/xml?mode=0", map[string]string{"X-Request-Id": "trace-me-42"})
	var line map[string]any
	for _, l := range r.logLines(t) {
		if l["msg"] == "request" && l["request_id"] == "trace-me-42" {
			line = l
		}
	}
	if line == nil {
		t.Fatalf("no access log line with request_id trace-me-42 in\n%s", r.log)
	}
	for k, want := range map[string]any{"method": "GET", "path": "/frepple/xml", "status": float64(got.status), "bytes": float64(len(got.body)), "query": "mode=0"} {
		if line[k] != want {
			t.Errorf("access log %s = %v, want %v", k, line[k], want)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Error("access log line without duration")
	}
}

// TestLogHoldsNoSecrets sends Basic credentials, a Bearer token and
// secret-looking query parameters, good and bad, and looks for any trace
// of them in everything the gateway logged.
func TestLogHoldsNoSecrets(t *testing.T) {
	const (
		password  = "Pw-7c1f-NeverLogged"
		wrongPass = "Wrong-93ab-NeverLogged"
		key       = "webtoken-key-5d2e"
		company   = "My Company (San Francisco)"
		queryTok  = "QueryToken-e41b"
	)
	r := startObserved(t, gateway.Config{
		Companies:    map[string]gateway.CompanyConfig{company: {WebtokenKey: key}},
		ServiceLogin: "admin", ServicePassword: password,
	}, password)
	tok, err := gateway.SignJWT(map[string]any{"exp": fixedNow.Add(time.Minute).Unix(), "user": "admin"}, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := gateway.SignJWT(map[string]any{"exp": fixedNow.Add(time.Minute).Unix(), "user": "admin"}, []byte("not-the-key"))
	basicHdr := func(pw string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+pw))
	}
	q := "?" + url.Values{"database": {"odoo17"}, "company": {company}, "mode": {"0"},
		"access_token": {queryTok}, "password": {queryTok}}.Encode()
	for _, tc := range []struct {
		auth   string
		status int
	}{
		{basicHdr(password), 200},
		{basicHdr(wrongPass), 401},
		{"Bearer " + tok, 200},
		{"Bearer " + forged, 401},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+wrongPass)) + "!", 401}, // malformed
	} {
		got := r.do(t, "GET", "/frepple/xml"+q, map[string]string{"Authorization": tc.auth})
		if got.status != tc.status {
			t.Errorf("%.12s…: status %d, want %d (%s)", tc.auth, got.status, tc.status, got.body)
		}
	}
	logged := r.log.String()
	if !strings.Contains(logged, `"msg":"request"`) || !strings.Contains(logged, "Failed login attempt") {
		t.Fatalf("expected access and login-failure lines, got\n%s", logged)
	}
	secrets := []string{password, wrongPass, key, queryTok, tok, forged,
		base64.StdEncoding.EncodeToString([]byte("admin:" + password)),
		base64.StdEncoding.EncodeToString([]byte("admin:" + wrongPass)),
		strings.Split(tok, ".")[2], strings.Split(forged, ".")[2], // signatures
		"Authorization", "Basic YWRt", "Bearer ey"}
	for _, s := range secrets {
		if strings.Contains(logged, s) {
			t.Errorf("the log holds the secret %q", s)
		}
	}
	if !strings.Contains(logged, "REDACTED") {
		t.Error("secret-looking query parameters were not redacted")
	}
}

func TestRoutesAreLabelledByPattern(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	r.do(t, "GET", "/shops/some-shop", nil)
	r.do(t, "GET", "/shops/shops/stock-syncs", nil) // a value equal to a static segment
	r.do(t, "GET", "/no/such/path/12345", nil)
	r.do(t, "GET", "/oms/runs/974CE42DB1899F0B335CCD9E56292F7D", nil)
	m := r.do(t, "GET", "/metrics", nil).body
	for _, want := range []string{
		`plangate_http_requests_total{method="GET",route="/shops/:name",status="404"} 1`,
		`plangate_http_requests_total{method="GET",route="/shops/:name/stock-syncs",status="404"} 1`,
		`plangate_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`route="/oms/runs/:id"`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, "some-shop") || strings.Contains(m, "12345") || strings.Contains(m, "974CE42D") {
		t.Error("request paths leaked into metric labels")
	}
}

// TestHandlerLogLinesCarryTheRequestID: lines a handler logs (here the
// failed login) carry the id the access line has.
func TestHandlerLogLinesCarryTheRequestID(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	got := r.do(t, "GET", "/frepple/xml?database=odoo17", map[string]string{
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:nope")),
		"X-Request-Id":  "req-4711",
	})
	if got.status != http.StatusUnauthorized {
		t.Fatalf("status %d", got.status)
	}
	found := false
	for _, l := range r.logLines(t) {
		if l["msg"] == "Failed login attempt" {
			found = true
			if l["request_id"] != "req-4711" {
				t.Errorf("login failure line without the request id: %v", l)
			}
		}
	}
	if !found {
		t.Fatal("no login failure line logged")
	}
}

// TestExportLogsProgress: a long export says in the log how far it got,
// section by section, with records and records/s, under its request id.
func TestExportLogsProgress(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	got := r.do(t, "GET", "/frepple/xml?"+url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}, "mode": {"1"}}.Encode(),
		map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:admin")), "X-Request-Id": "req-progress"})
	if got.status != http.StatusOK {
		t.Fatalf("status %d", got.status)
	}
	sections := map[string]float64{}
	for _, l := range r.logLines(t) {
		if l["msg"] == "export section written" {
			if l["request_id"] != "req-progress" {
				t.Errorf("progress line without the request id: %v", l)
			}
			if _, ok := l["records_per_s"]; !ok {
				t.Errorf("progress line without a rate: %v", l)
			}
			sections[l["section"].(string)] = l["records"].(float64)
		}
	}
	if sections["items"] == 0 || sections["demands"] == 0 || len(sections) < 10 {
		t.Errorf("progress per section: %v", sections)
	}
}
