package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// goldenImport is a copy of the shared fixture odoo17-demo/golden_import: a
// plan the addon imported, its reply and what it changed in Odoo.
const goldenImport = "testdata/golden_import/"

type importRig struct {
	emu    *odooemu.Emulator
	emuURL string
	gw     *httptest.Server
	st     *store.Store
	plan   []byte
	log    *syncBuffer // the gateway's log
}

func startImportRig(t *testing.T) *importRig { return startImportRigWith(t, nil) }

// startImportRigWith lets setup adjust the emulator (e.g. turn on
// odooemu.MOWorkordersFromRouting) before it serves.
func startImportRigWith(t *testing.T, setup func(*odooemu.Emulator), config ...func(*gateway.Config)) *importRig {
	t.Helper()
	return newImportRig(t, setup, nil, config...)
}

// newImportRig also lets server adjust the gateway's HTTP server (its
// timeouts) before it starts.
func newImportRig(t *testing.T, setup func(*odooemu.Emulator), server func(*http.Server), config ...func(*gateway.Config)) *importRig {
	t.Helper()
	em := emulate(t, func(_ *odooemu.Dataset, e *odooemu.Emulator) {
		e.SetClock(func() time.Time { return fixedNow })
		if setup != nil {
			setup(e)
		}
	})
	e, srvE, tr, st := em.emu, em.srv, em.tr, tempStore(t)
	cfg := gateway.Config{Now: func() time.Time { return fixedNow }, MaxBodyBytes: 1 << 20}
	for _, c := range config {
		c(&cfg)
	}
	log := &syncBuffer{}
	gw := httptest.NewUnstartedServer(gateway.New(cfg, tr, st, slog.New(slog.NewTextHandler(log, nil))))
	if server != nil {
		server(gw.Config)
	}
	gw.Start()
	t.Cleanup(gw.Close)
	plan, err := os.ReadFile(filepath.Join(goldenImport, "plan.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return &importRig{emu: e, emuURL: srvE.URL, gw: gw, st: st, plan: plan, log: log}
}

// plannerBody builds a body the way the bulk export does (spec §4.1):
// CRLF lines, LF inside the XML and before the closing delimiter, an
// unquoted "=" boundary and the file part with disposition "file".
func plannerBody(boundary, mode string, file []byte) []byte {
	var b bytes.Buffer
	for _, f := range [][2]string{{"webtoken", "x"}, {"mode", mode}} {
		b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f[0] + "\"\r\n\r\n" + f[1] + "\r\n")
	}
	b.WriteString("--" + boundary + "\r\nContent-Disposition: file; name=\"frePPLe plan\"; filename=\"frepple_plan.xml\"\r\nContent-Type: application/xml\r\n\r\n")
	b.Write(file)
	b.WriteString("\n--" + boundary + "--\r\n")
	return b.Bytes()
}

func (r *importRig) post(t *testing.T, mode string, file []byte) (int, string) {
	t.Helper()
	return postPlan(t, r.gw.URL, mode, file)
}

// postPlan posts a plan to the gateway at base as the planner does.
func postPlan(t *testing.T, base, mode string, file []byte) (int, string) {
	t.Helper()
	status, body, err := tryPostPlan(base, mode, file)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// tryPostPlan is postPlan for goroutines other than the test's.
func tryPostPlan(base, mode string, file []byte) (int, string, error) {
	q := url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}}
	boundary := "===============2055820159000343593=="
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/frepple/xml?"+q.Encode(), bytes.NewReader(plannerBody(boundary, mode, file)))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.SetBasicAuth("admin", "admin")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func TestImportGoldenPlan(t *testing.T) {
	r := startImportRig(t)
	want, err := os.ReadFile(filepath.Join(goldenImport, "response.txt"))
	if err != nil {
		t.Fatal(err)
	}
	status, body := r.post(t, "1", r.plan)
	if status != 200 || body != string(want) {
		t.Fatalf("status %d body:\n%s\nwant:\n%s", status, body, want)
	}
	writes := len(r.emu.Journal())
	if writes == 0 {
		t.Fatal("nothing written to Odoo")
	}
	status, body2 := r.post(t, "1", r.plan)
	if status != 200 || !strings.HasPrefix(body2, body+"\n") || !strings.HasSuffix(body2, "already imported at 2026-11-24T00:44:33Z: nothing written") {
		t.Fatalf("repost: status %d body %q", status, body2)
	}
	if n := len(r.emu.Journal()); n != writes {
		t.Errorf("repost wrote %d more records", n-writes)
	}
}

func TestImportBadInput(t *testing.T) {
	good := `<operationplan reference="X" ordertype="PO" supplier="Wood Corner 9" start="2026-11-24 10:00:00" end="2026-11-28 10:00:00" quantity="4" location_id="1" item_id="1,5"/>`
	wrap := func(s string) []byte { return []byte("<plan><operationplans>" + s + "</operationplans></plan>") }
	cases := []struct {
		name, file, want string
	}{
		{"malformed", "<plan><operationplans><operationplan", "line"},
		{"doctype", `<!DOCTYPE plan [<!ENTITY x "y">]><plan/>`, "DOCTYPE"},
		{"unknown ordertype", strings.Replace(good, `"PO"`, `"ZZ"`, 1), "ordertype"},
		{"unknown product", strings.Replace(good, `"1,5"`, `"1,99999"`, 1), "unknown product"},
		{"unknown supplier", strings.Replace(good, "Corner 9", "Corner 99999", 1), "unknown supplier"},
		{"bad date", strings.Replace(good, "2026-11-24 10:00:00", "tomorrow", 1), "bad start"},
		{"bad quantity", strings.Replace(good, `"4"`, `"four"`, 1), "bad quantity"},
		{"bad item_id", strings.Replace(good, `"1,5"`, `"5"`, 1), "item_id"},
		{"unknown workcenter", `<operationplan reference="W" owner="WH/MO/00008" ordertype="WO" start="2026-11-25 07:00:00" end="2026-11-25 09:15:00" quantity="9" location_id="1" item_id="1,57"><resource id="9999"/></operationplan>`, "unknown workcenter"},
	}
	// One rig for all cases: a rejected file writes nothing, so each case
	// checks the journal did not grow.
	r := startImportRig(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := wrap(c.file)
			if strings.HasPrefix(c.file, "<plan") || strings.HasPrefix(c.file, "<!") {
				file = []byte(c.file)
			}
			status, body := r.post(t, "1", file)
			if status < 400 || status >= 500 || !strings.Contains(body, c.want) {
				t.Fatalf("status %d body %q, want 4xx containing %q", status, body, c.want)
			}
			if n := len(r.emu.Journal()); n != 0 {
				t.Errorf("%d writes for a rejected file", n)
			}
		})
	}
}

func TestImportOversized(t *testing.T) {
	r := startImportRig(t)
	status, _ := r.post(t, "1", bytes.Repeat([]byte(" "), 2<<20))
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", status)
	}
}

func TestImportResumeAfterFault(t *testing.T) {
	r := startImportRig(t)
	r.emu.InjectFault(&odooemu.Fault{Model: "mrp.production", Method: "create", Message: "psycopg2.OperationalError: server closed the connection"})
	status, page := r.post(t, "1", r.plan)
	if status != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", status)
	}
	// The page says what failed in Odoo (the exception class and the call).
	if want := "Odoo failed: psycopg2.OperationalError in execute_kw create mrp.production"; !strings.Contains(page, want) {
		t.Errorf("502 page lacks %q:\n%s", want, page)
	}
	before := len(r.emu.Journal())
	r.emu.ClearFaults()
	status, body := r.post(t, "1", r.plan)
	if status != 200 || !strings.Contains(body, "Processed 5 uploaded procurement orders") {
		t.Fatalf("retry: %d %q", status, body)
	}
	pos := 0
	for _, e := range r.emu.Journal() {
		if e.Model == "purchase.order" && e.Method == "create" {
			pos += max(1, len(e.IDs))
		}
	}
	if pos != 2 {
		t.Errorf("%d purchase orders created over both posts, want 2 (journal had %d entries before retry)", pos, before)
	}
}

// uiBody builds a body like the UI export's (spec §4.1): LF lines with
// a few CRLF, the fixed **MessageBoundary**.
func uiBody(fields [][2]string, file []byte) (string, []byte) {
	const boundary = "**MessageBoundary**"
	var b bytes.Buffer
	for _, f := range fields {
		b.WriteString("--" + boundary + "\nContent-Disposition: form-data; name=\"" + f[0] + "\"\r\n\n" + f[1] + "\r\n")
	}
	b.WriteString("--" + boundary + "\nContent-Disposition: file; name=\"frePPLe plan\"; filename=\"frepple_plan.xml\"\nContent-Type: application/xml\n\n")
	b.Write(file)
	b.WriteString("\n--" + boundary + "--\n")
	return "multipart/form-data; boundary=" + boundary, b.Bytes()
}

func (r *importRig) postUI(t *testing.T, fields [][2]string, file []byte) (int, string) {
	t.Helper()
	ct, body := uiBody(fields, file)
	q := url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, r.gw.URL+"/frepple/xml?"+q.Encode(), bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.SetBasicAuth("admin", "admin")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// createdLines returns the purchase.order.line create values journaled by the emulator.
func createdLines(e *odooemu.Emulator) []map[string]any {
	var out []map[string]any
	for _, j := range e.Journal() {
		if j.Model == "purchase.order.line" && j.Method == "create" {
			out = append(out, j.Values)
		}
	}
	return out
}

func TestImportModes(t *testing.T) {
	cases := []struct {
		name       string
		fields     [][2]string
		wantReply  string
		wantLines  int     // purchase lines created
		firstQty   float64 // quantity of the first line
		actualUser int     // responsible user expected on RFQs (mode 2)
	}{
		{"mode 1", [][2]string{{"mode", "1"}}, "Removed 0 old draft purchase orders\nRemoved 0 old draft manufacturing orders\nProcessed 5 uploaded procurement orders\nProcessed 2 uploaded manufacturing orders", 4, 4, 0},
		{"mode 2 merges per product and supplier", [][2]string{{"mode", "2"}, {"actual_user", "admin"}}, "Processed 5 uploaded procurement orders\nProcessed 2 uploaded manufacturing orders", 3, 14, 2},
		{"mode 3", [][2]string{{"mode", "3"}}, "Processed 5 uploaded procurement orders\nProcessed 2 uploaded manufacturing orders", 4, 4, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := startImportRig(t)
			status, body := r.postUI(t, c.fields, r.plan)
			if status != 200 || body != c.wantReply {
				t.Fatalf("status %d body %q, want %q", status, body, c.wantReply)
			}
			lines := createdLines(r.emu)
			if len(lines) != c.wantLines {
				t.Fatalf("%d lines created, want %d: %v", len(lines), c.wantLines, lines)
			}
			if q, _ := lines[0]["product_qty"].(float64); q != c.firstQty {
				t.Errorf("first line quantity %v, want %v", lines[0]["product_qty"], c.firstQty)
			}
			for _, j := range r.emu.Journal() {
				if j.Model == "purchase.order" && j.Method == "create" {
					uid, set := j.Values["user_id"]
					if set != (c.actualUser != 0) || (set && fmt.Sprint(uid) != fmt.Sprint(c.actualUser)) {
						t.Errorf("RFQ user_id %v, want %d", uid, c.actualUser)
					}
				}
			}
		})
	}
}

func TestImportTimezone(t *testing.T) {
	// The demo connector user is in Europe/Brussels (UTC+1 in November):
	// PO-PROP-1 starts 2026-11-24 10:00 local = 09:00 UTC.
	r := startImportRig(t)
	if status, body := r.post(t, "1", r.plan); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var got []string
	for _, j := range r.emu.Journal() {
		if j.Model == "purchase.order" && j.Method == "write" {
			if d, ok := j.Values["date_order"].(string); ok {
				got = append(got, d)
			}
		}
	}
	want := []string{"2026-11-24 09:00:00", "2026-11-26 07:00:00"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("RFQ dates %v, want %v", got, want)
	}
}

// A new mode-1 plan removes the draft RFQs and MOs the previous one
// created (spec §4.4), as in golden_import/second_post_response.txt;
// the identical plan posted again changes nothing instead.
func TestImportCleanupOfPreviousPlan(t *testing.T) {
	r := startImportRig(t)
	if status, body := r.post(t, "1", r.plan); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	want, err := os.ReadFile(filepath.Join(goldenImport, "second_post_response.txt"))
	if err != nil {
		t.Fatal(err)
	}
	next := append(append([]byte{}, r.plan...), '\n') // another plan: other bytes
	status, body := r.post(t, "1", next)
	if status != 200 || body != string(want) {
		t.Fatalf("status %d body %q, want %q", status, body, want)
	}
}

// gatewayWithOdooTimeout serves a second gateway on the rig's store whose
// Odoo calls give up after d.
func (r *importRig) gatewayWithOdooTimeout(t *testing.T, d time.Duration) *httptest.Server {
	t.Helper()
	tr, err := odoo.NewTransport(odoo.Options{URL: r.emuURL, Timeout: d})
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(gateway.New(gateway.Config{Now: func() time.Time { return fixedNow }, MaxBodyBytes: 1 << 20}, tr, r.st, slog.New(slog.NewTextHandler(r.log, nil))))
	t.Cleanup(gw.Close)
	return gw
}
