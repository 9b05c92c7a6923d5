package gateway_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plangate/plangate/gateway"
)

// TestCrossSiteRequestsRefused: a page elsewhere cannot make a logged-in
// browser change anything: state-changing requests that a browser marks
// as cross-site (Sec-Fetch-Site, or an Origin other than the gateway's)
// are refused before authentication, and the JSON APIs take no body an
// HTML form can send. Non-browser clients (no such headers: curl, the
// planner) and the gateway's own pages pass.
func TestCrossSiteRequestsRefused(t *testing.T) {
	r := startShopRig(t, gateway.Config{DefaultDatabase: "odoo17"})
	if got := r.do(t, "POST", "/shops", demoShopJSON(r.fs.URL), "admin", ""); got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.body)
	}
	self := r.gw.URL // the Origin a page of the gateway sends
	for _, tc := range []struct {
		name, method, path, ctype, body string
		hdr                             map[string]string
		status                          int
	}{
		{"evil origin", "DELETE", "/shops/demo", "", "", map[string]string{"Origin": "https://evil.example"}, 403},
		{"null origin", "DELETE", "/shops/demo", "", "", map[string]string{"Origin": "null"}, 403},
		{"cross-site fetch", "PUT", "/shops/demo", "application/json", `{}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site fetch", "POST", "/shops/demo/sync-stock", "", "", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"cross-site wins over a matching origin", "DELETE", "/shops/demo", "", "", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": self}, 403},
		{"form post", "POST", "/shops", "application/x-www-form-urlencoded", "name=x", nil, 415},
		{"text/plain post", "POST", "/shops", "text/plain", `{"name":"x"}`, nil, 415},
		{"multipart post", "POST", "/shops", "multipart/form-data; boundary=b", "--b--", nil, 415},
		{"body without a type", "POST", "/shops", "", `{"name":"x"}`, nil, 415},
		// Passing: reach authentication, authorisation and the handler.
		{"curl, JSON", "POST", "/shops", "application/json", `{"name":"curl","platform":"taobao","app_key":"k"}`, nil, 201},
		{"curl, JSON with charset", "POST", "/shops", "application/json; charset=utf-8", `{"name":"curl2","platform":"taobao","app_key":"k"}`, nil, 201},
		{"curl, no body", "POST", "/shops/nope/sync-stock", "", "", nil, 404},
		{"own page, same-origin", "GET", "/shops/demo", "", "", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{"own origin", "POST", "/shops", "application/json", `{"name":"mine","platform":"taobao","app_key":"k"}`, map[string]string{"Origin": self}, 201},
		{"typed in the address bar", "POST", "/shops/nope/sync-stock", "", "", map[string]string{"Sec-Fetch-Site": "none"}, 404},
		{"reading is never refused", "GET", "/shops", "", "", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := r.emu.Calls()
			got := send(t, tc.method, r.gw.URL+tc.path, strings.NewReader(tc.body), func(req *http.Request) {
				if tc.ctype != "" {
					req.Header.Set("Content-Type", tc.ctype)
				}
				for k, v := range tc.hdr {
					req.Header.Set(k, v)
				}
				req.SetBasicAuth("admin", "admin")
			})
			if got.status != tc.status {
				t.Fatalf("%d %s, want %d", got.status, got.body, tc.status)
			}
			if tc.status == 403 || tc.status == 415 {
				if n := r.emu.Calls() - calls; n != 0 {
					t.Errorf("a refused request made %d Odoo calls", n)
				}
				if !strings.Contains(got.body, `"error"`) {
					t.Errorf("refusal %q is not the JSON error object", got.body)
				}
			}
			if _, err := r.st.Shop("demo"); err != nil {
				t.Fatalf("the shop is gone: %v", err)
			}
		})
	}
}

// TestCrossSitePlanPostRefused: the planner's multipart POST (no Origin)
// imports; the same post made by a browser from another site is refused
// with nothing written.
func TestCrossSitePlanPostRefused(t *testing.T) {
	r := startImportRig(t)
	q := url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}}
	boundary := "===============2055820159000343593=="
	post := func(hdr map[string]string) resp {
		return send(t, http.MethodPost, r.gw.URL+"/frepple/xml?"+q.Encode(), bytes.NewReader(plannerBody(boundary, "1", r.plan)), func(req *http.Request) {
			req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
			req.SetBasicAuth("admin", "admin")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
		})
	}
	for _, hdr := range []map[string]string{{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}} {
		if got := post(hdr); got.status != http.StatusForbidden || !strings.Contains(got.body, "cross-site request refused") {
			t.Errorf("%v: %d %q, want 403", hdr, got.status, got.body)
		}
	}
	if n := len(r.emu.Journal()); n != 0 {
		t.Fatalf("a refused cross-site post wrote %d times to Odoo", n)
	}
	if got := post(nil); got.status != http.StatusOK || !strings.Contains(got.body, "Processed 5 uploaded procurement orders") {
		t.Errorf("the planner's post: %d %q", got.status, got.body)
	}
}
