package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// TestExportParameterValues: every parameter value the gateway cannot
// mean is a 400 naming the parameter and what it accepts, before any
// Odoo call; accepted values reach the extraction as parsed (the run
// record shows them). The addon instead serves mode 9 as mode 2, ignores
// an unknown time zone and takes any singlecompany but "true" as false.
func TestExportParameterValues(t *testing.T) {
	e := emulate(t, nil)
	st := tempStore(t)
	modes := export.DefaultModes()
	modes[5] = export.ModeConfig{Sections: []string{"header", "users"}}
	gw := httptest.NewServer(gateway.New(gateway.Config{Now: func() time.Time { return fixedNow }, Modes: modes}, e.tr, st, quiet))
	t.Cleanup(gw.Close)
	const sf = "My Company (San Francisco)"
	const modeWant = `: want 0 (connection test), 1 (every plan run), 2 (slow-changing data) or a configured mode: 5`
	for _, tc := range []struct {
		name   string
		param  string
		value  string
		status int
		body   string            // prefix of the 400 answer
		run    map[string]string // for 200: parameters the run record must carry
		mode   int
	}{
		{"mode 9", "mode", "9", 400, `Invalid mode argument "9"` + modeWant, nil, 0},
		{"mode -1", "mode", "-1", 400, `Invalid mode argument "-1"` + modeWant, nil, 0},
		{"mode not a number", "mode", "two", 400, `Invalid mode argument "two"` + modeWant, nil, 0},
		{"mode 2", "mode", "2", 200, "", nil, 2},
		{"configured mode 5", "mode", "5", 200, "", nil, 5},
		{"unknown time zone", "timezone", "Mars/Olympus_Mons", 400, `Invalid timezone argument "Mars/Olympus_Mons": want an IANA time zone`, nil, 0},
		{"the host's zone", "timezone", "Local", 400, `Invalid timezone argument "Local"`, nil, 0},
		{"time zone", "timezone", "Asia/Shanghai", 200, "", map[string]string{"timezone": "Asia/Shanghai"}, 0},
		{"singlecompany yes", "singlecompany", "yes", 400, `Invalid singlecompany argument "yes": want true or false (or 1 or 0)`, nil, 0},
		{"singlecompany 2", "singlecompany", "2", 400, `Invalid singlecompany argument "2"`, nil, 0},
		{"singlecompany TRUE", "singlecompany", "TRUE", 200, "", map[string]string{"singlecompany": "true"}, 0},
		{"singlecompany 1", "singlecompany", "1", 200, "", map[string]string{"singlecompany": "true"}, 0},
		{"singlecompany False (the planner's Python bool)", "singlecompany", "False", 200, "", map[string]string{"singlecompany": "false"}, 0},
		{"singlecompany 0", "singlecompany", "0", 200, "", map[string]string{"singlecompany": "false"}, 0},
		{"delta NaN", "delta", "NaN", 400, `Invalid delta argument "NaN": want a number of days`, nil, 0},
		{"delta infinite", "delta", "-Inf", 400, `Invalid delta argument "-Inf"`, nil, 0},
		{"delta 7", "delta", "7", 200, "", map[string]string{"delta": "7"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"database": {"odoo17"}, "company": {sf}, "mode": {"0"}}
			q.Set(tc.param, tc.value)
			before, err := st.Runs(store.RunFilter{})
			if err != nil {
				t.Fatal(err)
			}
			calls := e.emu.Calls()
			got := send(t, http.MethodGet, gw.URL+"/frepple/xml?"+q.Encode(), nil, basic("admin", "admin"))
			if got.status != tc.status {
				t.Fatalf("status = %d, want %d (body %.300q)", got.status, tc.status, got.body)
			}
			after, err := st.Runs(store.RunFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.status != 200 {
				if !strings.HasPrefix(got.body, tc.body) {
					t.Errorf("body = %q, want prefix %q", got.body, tc.body)
				}
				if len(after) != len(before) {
					t.Error("a refused request still ran an extraction")
				}
				if n := e.emu.Calls() - calls; n != 0 {
					t.Errorf("a refused request made %d Odoo calls, want none", n)
				}
				return
			}
			if len(after) != len(before)+1 {
				t.Fatalf("%d runs recorded, want 1", len(after)-len(before))
			}
			run := after[0] // newest first
			if run.Mode != tc.mode {
				t.Errorf("run mode = %d, want %d", run.Mode, tc.mode)
			}
			for k, v := range tc.run {
				if run.Params[k] != v {
					t.Errorf("run parameter %s = %q, want %q", k, run.Params[k], v)
				}
			}
		})
	}
}

// TestUnknownDatabaseIsNamed: a database Odoo does not have is a 400
// naming it, over both protocols and both ways of logging in, not a
// login prompt no password can satisfy. A wrong password on a database
// that exists still prompts.
func TestUnknownDatabaseIsNamed(t *testing.T) {
	e := emulate(t, nil)
	const key = "sf-key"
	token, err := gateway.SignJWT(map[string]any{"exp": fixedNow.Add(time.Hour).Unix(), "user": "admin"}, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range []odoo.Protocol{odoo.ProtocolXMLRPC, odoo.ProtocolJSONRPC} {
		tr, err := odoo.NewTransport(odoo.Options{URL: e.srv.URL, Protocol: proto})
		if err != nil {
			t.Fatal(err)
		}
		gw := httptest.NewServer(gateway.New(gateway.Config{Now: func() time.Time { return fixedNow },
			ServiceLogin: "admin", ServicePassword: "admin",
			Companies: map[string]gateway.CompanyConfig{"My Company (San Francisco)": {WebtokenKey: key}}}, tr, nil, quiet))
		t.Cleanup(gw.Close)
		for _, tc := range []struct {
			name, db string
			auth     func(*http.Request)
			status   int
			body     string
			prompt   bool
		}{
			{"basic", "nodb", basic("admin", "admin"), 400, `Unknown database "nodb": Odoo has no database of that name`, false},
			{"bearer", "nodb", bearer(token), 400, `Unknown database "nodb": Odoo has no database of that name`, false},
			{"wrong password, known database", "odoo17", basic("admin", "nope"), 401, "Login with Odoo user name and password", true},
		} {
			t.Run(string(proto)+"/"+tc.name, func(t *testing.T) {
				q := url.Values{"database": {tc.db}, "company": {"My Company (San Francisco)"}, "mode": {"0"}}
				got := send(t, http.MethodGet, gw.URL+"/frepple/xml?"+q.Encode(), nil, tc.auth)
				if got.status != tc.status || got.body != tc.body {
					t.Fatalf("got %d %q, want %d %q", got.status, got.body, tc.status, tc.body)
				}
				if prompt := got.header.Get("WWW-Authenticate") != ""; prompt != tc.prompt {
					t.Errorf("login prompt = %v, want %v", prompt, tc.prompt)
				}
			})
		}
	}
}
