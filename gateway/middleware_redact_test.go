package gateway_test

import (
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/odoo"
)

// TestQueryRedaction: the values of query parameters whose names look
// like secrets never reach the access log; other values do.
func TestQueryRedaction(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	for _, tc := range []struct {
		param  string
		secret bool
	}{
		{"password", true}, {"passwd", true}, {"pwd", true}, {"pw", true}, {"db_pw", true},
		{"cred", true}, {"credentials", true}, {"jwt", true}, {"id_jwt", true},
		{"access_token", true}, {"api_key", true}, {"secret", true}, {"auth", true}, {"session_id", true}, {"sign", true},
		{"company", false}, {"mode", false}, {"database", false},
	} {
		value := "V-" + strings.ReplaceAll(tc.param, "_", "") + "-4f1e"
		r.do(t, "GET", "/healthz?"+url.Values{tc.param: {value}}.Encode(), nil)
		if logged := strings.Contains(r.log.String(), value); logged == tc.secret {
			t.Errorf("%s=%s: logged %v, want %v", tc.param, value, logged, !tc.secret)
		}
	}
}

// TestFailedLoginLogsATagNotTheLogin: what was typed as the login (often a
// password typed in the wrong field) is logged as a tag: the same for the
// same text, different for another, never the text itself.
func TestFailedLoginLogsATagNotTheLogin(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	typed := []string{"Hunter2-typed-as-login", "Hunter2-typed-as-login", "someone-else"}
	for _, login := range typed {
		got := r.do(t, "GET", "/frepple/xml?database=odoo17&mode=0", map[string]string{
			"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":x"))})
		if got.status != 401 {
			t.Fatalf("%s: %d", login, got.status)
		}
	}
	var tags []string
	for _, l := range r.logLines(t) {
		if l["msg"] == "Failed login attempt" {
			tag, _ := l["login_tag"].(string)
			tags = append(tags, tag)
		}
	}
	if len(tags) != 3 || tags[0] == "" || tags[0] != tags[1] || tags[0] == tags[2] {
		t.Errorf("login tags %q: want three, the first two equal", tags)
	}
	for _, s := range []string{"Hunter2", "someone-else", "Hunter"} {
		if strings.Contains(r.log.String(), s) {
			t.Errorf("the log holds the typed login %q", s)
		}
	}
}

// TestOdooAddressNotShown: with Odoo unreachable, /readyz, the 502 page
// and the order-sourcing error say why, never the internal address.
func TestOdooAddressNotShown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	tr, err := odoo.NewTransport(odoo.Options{URL: "http://odoo-user:odoo-pass@" + addr})
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(gateway.New(gateway.Config{DefaultDatabase: "odoo17"}, tr, nil, quiet))
	t.Cleanup(gw.Close)
	_, port, _ := net.SplitHostPort(addr)
	for _, tc := range []struct {
		method, path, ctype string
		status              int
		want                string
	}{
		{"GET", "/readyz", "", 503, "not ready: Odoo does not answer: connection refused"},
		{"GET", "/frepple/xml?mode=1", "", 502, "Odoo is unreachable or failed: connection refused"},
		{"POST", "/oms/orders-proposal", "application/json", 502, `"message":"request failed: Odoo is unreachable or failed: connection refused`},
	} {
		got := send(t, tc.method, gw.URL+tc.path, strings.NewReader(`{}`), func(req *http.Request) {
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			req.SetBasicAuth("admin", "admin")
		})
		if got.status != tc.status || !strings.Contains(got.body, tc.want) {
			t.Errorf("%s %s: %d %q, want %d containing %q", tc.method, tc.path, got.status, got.body, tc.status, tc.want)
		}
		for _, leak := range []string{port, "127.0.0.1", "odoo-user", "odoo-pass", "xmlrpc", "dial"} {
			if strings.Contains(got.body, leak) {
				t.Errorf("%s %s: the answer shows %q: %s", tc.method, tc.path, leak, got.body)
			}
		}
	}
}
