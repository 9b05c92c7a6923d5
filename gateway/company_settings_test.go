package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/export"
)

// TestCompanySettingsFromOdoo: where Odoo has the addon's webtoken_key and
// disclose_stack_trace fields, their values win over the configuration
// file; where a company has no key in Odoo, the file's key is used.
func TestCompanySettingsFromOdoo(t *testing.T) {
	e := emulate(t, func(ds *odooemu.Dataset, _ *odooemu.Emulator) {
		companies := ds.Model("res.company")
		companies.Fields["webtoken_key"] = odooemu.Field{"type": "char", "string": "Webtoken key"}
		companies.Get(1)["webtoken_key"] = "odoo-key"
		companies.Get(1)["disclose_stack_trace"] = true
		companies.Get(2)["webtoken_key"] = false
	})
	const sf, chi = "My Company (San Francisco)", "My Company (Chicago)"
	srv := gateway.New(gateway.Config{
		Now:          func() time.Time { return fixedNow },
		ServiceLogin: "admin", ServicePassword: "admin",
		Companies: map[string]gateway.CompanyConfig{
			sf:  {WebtokenKey: "file-key"},
			chi: {WebtokenKey: "chicago-file-key"},
		},
	}, e.tr, nil, quiet)
	gw := httptest.NewServer(srv)
	t.Cleanup(gw.Close)
	r := &rig{emu: e.srv, gw: gw}
	token := func(key string) func(*http.Request) {
		tok, err := gateway.SignJWT(map[string]any{"exp": fixedNow.Add(time.Hour).Unix()}, []byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return bearer(tok)
	}
	tests := []struct {
		name, company, key string
		want               int
	}{
		{"key from Odoo", sf, "odoo-key", 200},
		{"file key loses to Odoo's", sf, "file-key", 401},
		{"no key in Odoo: the file's", chi, "chicago-file-key", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.get(t, "/frepple/xml", url.Values{"database": {"odoo17"}, "company": {tt.company}, "mode": {"0"}}, token(tt.key))
			if got.status != tt.want {
				t.Errorf("status %d, want %d: %s", got.status, tt.want, got.body)
			}
		})
	}
	// disclose_stack_trace is on in Odoo for San Francisco: the error page
	// names the failure; Chicago's (off) does not.
	e.srv.InjectFault(&odooemu.Fault{Model: "res.users", Method: "read", Message: "psycopg2.OperationalError: detail-7f3a"})
	for company, wantDetail := range map[string]bool{sf: true, chi: false} {
		got := r.get(t, "/frepple/xml", url.Values{"database": {"odoo17"}, "company": {company}}, basic("admin", "admin"))
		if got.status < 500 {
			t.Fatalf("%s: status %d", company, got.status)
		}
		if has := strings.Contains(got.body, "detail-7f3a"); has != wantDetail {
			t.Errorf("%s: detail shown %v, want %v:\n%s", company, has, wantDetail, got.body)
		}
	}
}

// TestCompanyDefaultsWithoutTheAddon: an Odoo without the addon's company
// fields takes calendar and manufacturing warehouse from the configuration.
func TestCompanyDefaultsWithoutTheAddon(t *testing.T) {
	const sf = "My Company (San Francisco)"
	for _, tc := range []struct {
		name     string
		defaults gateway.CompanyConfig
		want     string
	}{
		{"no defaults", gateway.CompanyConfig{}, `<location name="WH" description="YourCompany" subcategory="1"></location>`},
		{"calendar from the file", gateway.CompanyConfig{CompanyDefaults: export.CompanyDefaults{Calendar: "Standard 35 hours/week"}},
			`<location name="WH" description="YourCompany" subcategory="1"><available name="Standard 35 hours/week 2"/></location>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := emulate(t, func(ds *odooemu.Dataset, _ *odooemu.Emulator) {
				companies := ds.Model("res.company")
				for _, f := range []string{"calendar", "manufacturing_warehouse", "respect_reservations"} {
					delete(companies.Fields, f)
					for _, rec := range companies.Records {
						delete(rec, f)
					}
				}
			})
			srv := gateway.New(gateway.Config{Now: func() time.Time { return fixedNow },
				Companies: map[string]gateway.CompanyConfig{sf: tc.defaults}}, e.tr, nil, quiet)
			gw := httptest.NewServer(srv)
			t.Cleanup(gw.Close)
			got := (&rig{gw: gw}).get(t, "/frepple/xml", url.Values{"database": {"odoo17"}, "company": {sf}, "mode": {"1"}}, basic("admin", "admin"))
			if got.status != 200 {
				t.Fatalf("status %d: %s", got.status, got.body)
			}
			if !strings.Contains(got.body, tc.want) {
				i := strings.Index(got.body, `<location name="WH"`)
				t.Errorf("document lacks %s; has %.200s", tc.want, got.body[max(i, 0):])
			}
		})
	}
}
