package gateway_test

import (
	"encoding/xml"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/plangate/plangate/gateway"
)

// htmlElem is one start tag of a page.
type htmlElem struct {
	name  string
	attrs map[string]string
	text  string // character data up to the next tag, for <option>
}

// parseHTML lists a page's start tags with the HTML-tolerant mode of
// encoding/xml (void elements, bare attributes, HTML entities).
func parseHTML(t *testing.T, page string) []htmlElem {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var out []htmlElem
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("page does not parse: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			el := htmlElem{name: strings.ToLower(e.Name.Local), attrs: map[string]string{}}
			for _, a := range e.Attr {
				el.attrs[strings.ToLower(a.Name.Local)] = a.Value
			}
			out = append(out, el)
		case xml.CharData:
			if len(out) > 0 {
				out[len(out)-1].text += string(e)
			}
		}
	}
}

// formQuery builds what a browser submits from the form with the given
// id, with values typed into some fields: inputs send their value,
// selects their selected option.
func formQuery(t *testing.T, els []htmlElem, id string, typed map[string]string) (action, method string, q url.Values) {
	t.Helper()
	q = url.Values{}
	in := false
	var sel string
	var first map[string]string // first option of the current select
	for _, e := range els {
		switch e.name {
		case "form":
			in = e.attrs["id"] == id
			if in {
				action, method = e.attrs["action"], strings.ToLower(e.attrs["method"])
			}
		case "input":
			if in && e.attrs["name"] != "" {
				v := e.attrs["value"]
				if tv, ok := typed[e.attrs["name"]]; ok {
					v = tv
				}
				q.Set(e.attrs["name"], v)
			}
		case "select":
			if in {
				sel, first = e.attrs["name"], nil
			}
		case "option":
			if in && sel != "" {
				if first == nil {
					first = e.attrs
					q.Set(sel, e.attrs["value"])
				}
				if _, ok := e.attrs["selected"]; ok {
					q.Set(sel, e.attrs["value"])
				}
			}
		case "button", "datalist":
			sel = ""
		}
	}
	if action == "" {
		t.Fatalf("no form with id %q", id)
	}
	for k, v := range typed {
		if _, ok := q[k]; !ok {
			t.Fatalf("the form has no field %q", k)
		}
		if q.Get(k) != v && k != "mode" {
			t.Fatalf("field %q = %q", k, q.Get(k))
		}
	}
	return action, method, q
}

// TestPageFormOpensTheExport reads the page like a browser: the form
// must GET /frepple/xml with database, company, mode, timezone and
// language; submitting it (with a login) yields the frePPLe document.
func TestPageFormOpensTheExport(t *testing.T) {
	// Suggested: the configured companies and PageCompanies (the demo's), each once.
	r := startObserved(t, gateway.Config{DefaultDatabase: "odoo17",
		Companies:     map[string]gateway.CompanyConfig{"My Company (Chicago)": {}},
		PageCompanies: []string{"My Company (San Francisco)", "My Company (Chicago)"}}, "")
	page := r.do(t, "GET", "/", nil)
	if page.status != 200 || page.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %q", page.status, page.header.Get("Content-Type"))
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	els := parseHTML(t, page.body)
	action, method, q := formQuery(t, els, "export-form", map[string]string{
		"company": "My Company (San Francisco)", "timezone": "Europe/Brussels", "language": "fr_FR"})
	base, _ := url.Parse(r.gw.URL + "/")
	target, err := base.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	if target.Path != "/frepple/xml" || method != "get" {
		t.Fatalf("form submits %s %s, want get /frepple/xml", method, target.Path)
	}
	want := url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}, "mode": {"1"},
		"timezone": {"Europe/Brussels"}, "language": {"fr_FR"}}
	if q.Encode() != want.Encode() {
		t.Fatalf("form submits %s, want %s", q.Encode(), want.Encode())
	}
	// The suggested companies come from the configuration, sorted, without repeats.
	var companies []string
	for _, e := range els {
		if e.name == "option" && strings.HasPrefix(e.attrs["value"], "My Company") {
			companies = append(companies, e.attrs["value"])
		}
	}
	if strings.Join(companies, "|") != "My Company (Chicago)|My Company (San Francisco)" {
		t.Errorf("company suggestions %q", companies)
	}
	// Submitting the form: first the login prompt, then the document.
	got := r.do(t, "GET", target.Path+"?"+q.Encode(), nil)
	if got.status != 401 || got.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("form target without login: %d, want 401 with a login prompt", got.status)
	}
	got = r.do(t, "GET", target.Path+"?"+q.Encode(), map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="})
	if got.status != 200 || !strings.Contains(got.body, "<plan") || !strings.Contains(got.body, "</plan>") {
		t.Fatalf("form target with login: %d %.200s", got.status, got.body)
	}
}

// TestPageLinksLeadSomewhere follows every link of the page: each path
// must be served (a login prompt counts), none may 404.
func TestPageLinksLeadSomewhere(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	els := parseHTML(t, r.do(t, "GET", "/", nil).body)
	base, _ := url.Parse(r.gw.URL + "/")
	seen := map[string]bool{}
	for _, e := range els {
		href, ok := e.attrs["href"]
		if e.name != "a" || !ok {
			continue
		}
		if strings.HasPrefix(href, "#") {
			found := false
			for _, x := range els {
				found = found || x.attrs["id"] == href[1:]
			}
			if !found {
				t.Errorf("link %q: no element with that id", href)
			}
			seen[href] = true
			continue
		}
		u, err := base.Parse(href)
		if err != nil || u.Host != base.Host {
			t.Errorf("link %q leaves the gateway (the page must not need the network)", href)
			continue
		}
		seen[u.Path] = true
		if got := r.do(t, "GET", u.Path, nil); got.status == 404 || got.status >= 500 {
			t.Errorf("link %q answers %d", href, got.status)
		}
	}
	for _, want := range []string{"/frepple/xml", "/frepple/state", "#oms", "/healthz", "/readyz", "/metrics"} {
		if !seen[want] {
			t.Errorf("the page does not link to %s", want)
		}
	}
	for _, e := range els {
		for _, a := range []string{"src", "href"} {
			if v := e.attrs[a]; strings.Contains(v, "://") {
				t.Errorf("<%s %s=%q>: external asset", e.name, a, v)
			}
		}
	}
}
