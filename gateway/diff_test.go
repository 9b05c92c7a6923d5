package gateway_test

import (
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/fakeaddon"
	"github.com/plangate/plangate/gateway"
)

// diffRig is the gateway in front of the emulator, with a stand-in addon
// that serves the document the real addon made from the same data.
type diffRig struct {
	*observedRig
	addon    *fakeaddon.Addon
	addonURL string
	golden   string
}

func startDiffRig(t *testing.T) *diffRig {
	t.Helper()
	golden, err := os.ReadFile("../mappers/export/testdata/golden/sf_mode1.xml")
	if err != nil {
		t.Fatal(err)
	}
	addon := &fakeaddon.Addon{Login: "admin", Password: "admin", Document: string(golden)}
	asrv := httptest.NewServer(addon)
	t.Cleanup(asrv.Close)
	r := startObserved(t, gateway.Config{DefaultDatabase: "odoo17", AddonURL: asrv.URL,
		Companies: map[string]gateway.CompanyConfig{"My Company (San Francisco)": {}}}, "")
	return &diffRig{observedRig: r, addon: addon, addonURL: asrv.URL, golden: string(golden)}
}

var adminLogin = map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="} // admin:admin

// TestDiffEndpoint runs GET /frepple/diff: the page (or JSON) of the
// comparison, and the errors a user can meet, each with its status.
func TestDiffEndpoint(t *testing.T) {
	r := startDiffRig(t)
	const sf = "/frepple/diff?database=odoo17&company=My+Company+%28San+Francisco%29&mode=1"
	changed := strings.Replace(r.golden, `<demand name="S00001 2" batch="S00001" quantity="5.0"`, `<demand name="S00001 2" batch="S00001" quantity="6.0"`, 1)
	for _, tc := range []struct {
		name     string
		path     string
		login    map[string]string
		doc      string // the addon's document; "" the golden
		answer   int    // the addon's status
		status   int
		has      []string
		contType string
	}{
		{name: "no login", path: sf, status: 401, has: []string{"Login with Odoo user name and password"}},
		{name: "equal", path: sf, login: adminLogin, status: 200, contType: "text/html; charset=utf-8",
			has: []string{`<p class="verdict equal" id="verdict">Equal: 1491 of 1491 elements (100.00%).`, "Clock values ignored",
				`<td>demands</td><td class="n">741</td>`, `href="../#diff"`}},
		{name: "a quantity differs", path: sf, login: adminLogin, doc: changed, status: 200,
			has: []string{`Different: 1 difference; 1490 of 1491 elements equal (99.93%).`, `<a href="#s-demands">demands</a>`,
				`<code>demands/demand[@name=&#34;S00001 2&#34;]/@quantity</code></td><td><code>6.0</code></td><td><code>5.0</code>`}},
		{name: "JSON", path: sf + "&format=json", login: adminLogin, doc: changed, status: 200, contType: "application/json",
			has: []string{`"equal":false`, `"path":"demands/demand[@name=\"S00001 2\"]/@quantity","a":"6.0","b":"5.0"`}},
		{name: "clock compared, same clock", path: sf + "&clock=compare", login: adminLogin, status: 200, has: []string{"Equal: 1491", "Clock values compared."}},
		{name: "sections", path: sf + "&sections=header,+demands", login: adminLogin, doc: changed, status: 200,
			has: []string{"Different: 1 difference; 743 of 744 elements equal"}},
		{name: "unknown section", path: sf + "&sections=itemz", login: adminLogin, status: 400, has: []string{`unknown section "itemz"`}},
		{name: "no addon there", path: sf, login: adminLogin, answer: 404, status: 502, has: []string{"is the frePPLe addon installed in that Odoo?"}},
		{name: "addon not a document", path: sf, login: adminLogin, doc: "<html>login</html>", status: 502, has: []string{"root element is &lt;html&gt;"}},
		{name: "wrong password", path: sf, login: map[string]string{"Authorization": "Basic YWRtaW46eA=="}, status: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			if doc == "" {
				doc = r.golden
			}
			r.addon.Set(doc, tc.answer)
			got := r.do(t, "GET", tc.path, tc.login)
			if got.status != tc.status {
				t.Fatalf("status %d, want %d: %.600s", got.status, tc.status, got.body)
			}
			for _, want := range tc.has {
				if !strings.Contains(got.body, want) {
					t.Errorf("answer lacks %s:\n%.3000s", want, got.body)
				}
			}
			if host := strings.TrimPrefix(r.addonURL, "http://"); strings.Contains(got.body, host) {
				t.Errorf("answer shows where the addon runs (%s):\n%.3000s", host, got.body)
			}
			if tc.contType != "" && got.header.Get("Content-Type") != tc.contType {
				t.Errorf("Content-Type %q, want %q", got.header.Get("Content-Type"), tc.contType)
			}
			if tc.contType == "text/html; charset=utf-8" && !strings.Contains(got.header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("CSP %q", got.header.Get("Content-Security-Policy"))
			}
		})
	}
	// The addon was asked with the caller's login and the request's parameters.
	q := r.addon.Queries()
	if want := "company=My+Company+%28San+Francisco%29&database=odoo17&mode=1"; len(q) == 0 || q[0] != want {
		t.Errorf("the addon was asked %q, want %q", q, want)
	}
	if !strings.Contains(r.log.String(), `"msg":"addon comparison"`) {
		t.Error("no log line for the comparison")
	}
}

// TestDiffFormOnThePage reads the page's comparison form like a browser
// and submits it: the result page says the documents are equal.
func TestDiffFormOnThePage(t *testing.T) {
	r := startDiffRig(t)
	page := r.do(t, "GET", "/", nil)
	els := parseHTML(t, page.body)
	action, method, q := formQuery(t, els, "diff-form", map[string]string{"company": "My Company (San Francisco)"})
	base, _ := url.Parse(r.gw.URL + "/")
	target, err := base.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	if target.Path != "/frepple/diff" || method != "get" {
		t.Fatalf("form submits %s %s, want get /frepple/diff", method, target.Path)
	}
	want := url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}, "mode": {"1"}, "language": {""},
		"sections": {""}, "order": {"compare"}, "clock": {"ignore"}}
	if q.Encode() != want.Encode() {
		t.Fatalf("form submits %s, want %s", q.Encode(), want.Encode())
	}
	got := r.do(t, "GET", target.Path+"?"+q.Encode(), adminLogin)
	if got.status != 200 || !strings.Contains(got.body, "Equal: 1491 of 1491 elements (100.00%)") {
		t.Fatalf("submitting the form: %d %.1000s", got.status, got.body)
	}
}

// TestDiffWithoutAddon: a gateway without an addon URL says so, on the
// page and at the endpoint.
func TestDiffWithoutAddon(t *testing.T) {
	r := startObserved(t, gateway.Config{DefaultDatabase: "odoo17"}, "")
	if page := r.do(t, "GET", "/", nil); !strings.Contains(page.body, "No addon to compare with") || strings.Contains(page.body, `id="diff-form"`) {
		t.Errorf("page without an addon URL:\n%.2000s", page.body)
	}
	got := r.do(t, "GET", "/frepple/diff?mode=1", adminLogin)
	if got.status != 404 || !strings.Contains(got.body, "--addon URL") {
		t.Errorf("GET /frepple/diff without an addon: %d %s", got.status, got.body)
	}
}

// TestDiffPageInHeadlessChromium opens a comparison in a real browser
// (login in the URL, as a user who typed it at the prompt would have it):
// the DOM it builds has the verdict and the differences.
func TestDiffPageInHeadlessChromium(t *testing.T) {
	bin := chromiumPath()
	if bin == "" {
		t.Skip("chromium not found (Debian package chromium; .ci/run installs it, or set PLANGATE_CHROMIUM): browser test skipped")
	}
	r := startDiffRig(t)
	r.addon.Set(strings.Replace(r.golden, `onhand="45.000000"`, `onhand="44.000000"`, 1), 0)
	u := strings.Replace(r.gw.URL, "http://", "http://admin:admin@", 1) + "/frepple/diff?database=odoo17&company=My+Company+%28San+Francisco%29&mode=1"
	dom := string(runChromium(t, bin, u, "--dump-dom"))
	for _, want := range []string{`id="verdict">Different: 1 difference; 1490 of 1491 elements equal (99.93%).`,
		`<a href="#s-onhand">onhand</a>`, `buffers/buffer[item/@name="FURN_0096"][location/@name="WH"]/@onhand`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM Chromium built lacks %s", want)
		}
	}
	if t.Failed() {
		t.Fatalf("DOM:\n%s", tail(dom, 3000))
	}
	// The page's look (stylesheet, colours) is checked on / by TestPageInHeadlessChromium; this page uses the same header.
}
