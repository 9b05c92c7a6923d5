package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/odoo"
)

// fixedNow is the moment of the golden sf_mode1 document.
var fixedNow = time.Date(2026, 11, 24, 0, 44, 33, 0, time.UTC)

type rig struct {
	emu     *odooemu.Server
	gw      *httptest.Server
	company string
}

// startRig serves the demo dataset through the gateway, over real HTTP.
func startRig(t *testing.T, cfg gateway.Config, extraDBs ...string) *rig {
	t.Helper()
	var sets []*odooemu.Dataset
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	sets = append(sets, ds)
	for _, name := range extraDBs {
		other, err := odooemu.Load(datasets.Demo(), ".")
		if err != nil {
			t.Fatal(err)
		}
		other.Database = name
		sets = append(sets, other)
	}
	emu := odooemu.Start(odooemu.New(sets...))
	t.Cleanup(emu.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: emu.URL})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	srv := gateway.New(cfg, tr, nil, quiet)
	gw := httptest.NewServer(srv)
	t.Cleanup(gw.Close)
	return &rig{emu: emu, gw: gw, company: "My Company (San Francisco)"}
}

func (r *rig) get(t *testing.T, path string, q url.Values, auth func(*http.Request)) resp {
	t.Helper()
	u := r.gw.URL + path
	if q != nil {
		u += "?" + q.Encode()
	}
	return send(t, http.MethodGet, u, nil, auth)
}

func basic(user, pw string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pw) }
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func TestExportAuthAndParameterFailures(t *testing.T) {
	key := "sf-webtoken-key"
	r := startRig(t, gateway.Config{
		Companies:    map[string]gateway.CompanyConfig{"My Company (San Francisco)": {WebtokenKey: key}},
		ServiceLogin: "admin", ServicePassword: "admin",
	})
	sf := url.Values{"database": {"odoo17"}, "company": {r.company}, "mode": {"0"}}
	good, _ := gateway.SignJWT(map[string]any{"exp": fixedNow.Add(time.Minute).Unix(), "user": "admin"}, []byte(key))
	expired, _ := gateway.SignJWT(map[string]any{"exp": fixedNow.Add(-time.Minute).Unix(), "user": "admin"}, []byte(key))
	forged, _ := gateway.SignJWT(map[string]any{"exp": fixedNow.Add(time.Minute).Unix(), "user": "admin"}, []byte("guess"))
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range sf {
			q[kk] = vv
		}
		q.Set(k, v)
		return q
	}
	const loginBody = "Login with Odoo user name and password"
	for _, tc := range []struct {
		name       string
		path       string
		q          url.Values
		auth       func(*http.Request)
		status     int
		body       string // exact body, or prefix when it ends with "…"
		wwwAuth    bool
		successXML bool
	}{
		{"ok", "/frepple/xml", sf, basic("admin", "admin"), 200, "", false, true},
		{"trailing slash", "/frepple/xml/", sf, basic("admin", "admin"), 200, "", false, true},
		{"no credentials", "/frepple/xml", sf, nil, 401, loginBody, true, false},
		{"wrong password", "/frepple/xml", sf, basic("admin", "wrong"), 401, loginBody, true, false},
		{"unknown user", "/frepple/xml", sf, basic("nobody", "x"), 401, loginBody, true, false},
		{"unknown scheme", "/frepple/xml", sf, func(r *http.Request) { r.Header.Set("Authorization", "Digest abc") }, 401, loginBody, true, false},
		{"malformed basic", "/frepple/xml", sf, func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }, 401, loginBody, true, false},
		{"unknown company", "/frepple/xml", with("company", "No Such Company"), basic("admin", "admin"), 401, "Invalid company name argument", false, false},
		{"unknown database", "/frepple/xml", with("database", "nodb"), basic("admin", "admin"), 400, `Unknown database "nodb"…`, false, false},
		{"mode not a number", "/frepple/xml", with("mode", "one"), basic("admin", "admin"), 400, "Invalid mode argument…", false, false},
		{"delta not a number", "/frepple/xml", with("delta", "week"), basic("admin", "admin"), 400, "Invalid delta argument…", false, false},
		{"bearer ok", "/frepple/xml", sf, bearer(good), 200, "", false, true},
		{"bearer expired", "/frepple/xml", sf, bearer(expired), 401, loginBody, true, false},
		{"bearer forged", "/frepple/xml", sf, bearer(forged), 401, loginBody, true, false},
		{"bearer without company", "/frepple/xml", url.Values{"database": {"odoo17"}, "mode": {"0"}}, bearer(good), 401, loginBody, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.get(t, tc.path, tc.q, tc.auth)
			if got.status != tc.status {
				t.Fatalf("status = %d, want %d (body %q)", got.status, tc.status, got.body)
			}
			if tc.body != "" {
				if p, ok := strings.CutSuffix(tc.body, "…"); ok {
					if !strings.HasPrefix(got.body, p) {
						t.Errorf("body = %q, want prefix %q", got.body, p)
					}
				} else if got.body != tc.body {
					t.Errorf("body = %q, want %q", got.body, tc.body)
				}
			}
			if has := got.header.Get("WWW-Authenticate") == `Basic realm="odoo"`; has != tc.wwwAuth {
				t.Errorf("WWW-Authenticate = %q, want present=%v", got.header.Get("WWW-Authenticate"), tc.wwwAuth)
			}
			if tc.successXML {
				for k, v := range map[string]string{
					"Content-Type":  "application/xml;charset=utf8",
					"Cache-Control": "no-cache, no-store, must-revalidate",
					"Pragma":        "no-cache",
					"Expires":       "0",
				} {
					if got.header.Get(k) != v {
						t.Errorf("%s = %q, want %q", k, got.header.Get(k), v)
					}
				}
			}
		})
	}
}

func TestMissingDatabase(t *testing.T) {
	q := url.Values{"company": {"My Company (San Francisco)"}, "mode": {"0"}}
	t.Run("several databases", func(t *testing.T) {
		r := startRig(t, gateway.Config{}, "odoo17_copy")
		got := r.get(t, "/frepple/xml", q, basic("admin", "admin"))
		if got.status != 401 || got.body != "Missing database name argument" || got.header.Get("WWW-Authenticate") != "" {
			t.Fatalf("got %d %q (WWW-Authenticate %q)", got.status, got.body, got.header.Get("WWW-Authenticate"))
		}
	})
	t.Run("the only database is used", func(t *testing.T) {
		r := startRig(t, gateway.Config{})
		if got := r.get(t, "/frepple/xml", q, basic("admin", "admin")); got.status != 200 {
			t.Fatalf("got %d %q", got.status, got.body)
		}
	})
	t.Run("database listing disabled", func(t *testing.T) {
		r := startRig(t, gateway.Config{})
		r.emu.ListDB = false
		if got := r.get(t, "/frepple/xml", q, basic("admin", "admin")); got.status != 401 || got.body != "Missing database name argument" {
			t.Fatalf("got %d %q", got.status, got.body)
		}
	})
	t.Run("configured default", func(t *testing.T) {
		r := startRig(t, gateway.Config{DefaultDatabase: "odoo17"}, "odoo17_copy")
		if got := r.get(t, "/frepple/xml", q, basic("admin", "admin")); got.status != 200 {
			t.Fatalf("got %d %q", got.status, got.body)
		}
	})
}

func TestOdooDownAnswers502(t *testing.T) {
	r := startRig(t, gateway.Config{})
	r.emu.InjectFault(&odooemu.Fault{Status: http.StatusServiceUnavailable})
	got := r.get(t, "/frepple/xml", url.Values{"database": {"odoo17"}, "company": {r.company}}, basic("admin", "admin"))
	if got.status != http.StatusBadGateway || !strings.Contains(got.body, "Error generating frePPLe XML data") {
		t.Fatalf("got %d %q", got.status, got.body)
	}
	if got.header.Get("WWW-Authenticate") != "" {
		t.Error("Odoo being down must not ask the user to log in again")
	}
}
