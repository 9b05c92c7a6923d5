package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
)

// TestDemoDatasetExtensionExports checks that the cases the demo adds to
// the dump (skills, an archived unit in use, names with XML specials and
// non-ASCII letters) reach the document, escaped and schema-valid.
func TestDemoDatasetExtensionExports(t *testing.T) {
	ds, err := loadDataset(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := odooemu.Start(odooemu.New(ds))
	defer srv.Close()
	tr, _ := odoo.NewTransport(odoo.Options{URL: srv.URL})
	s, err := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	x := &export.Exporter{Session: s}
	if _, err := x.Export(context.Background(), &buf, export.Params{Mode: 1, Delta: 999, Company: "My Company (San Francisco)",
		Now: time.Date(2026, 11, 24, 0, 44, 33, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	for _, want := range []string{
		`<skill name="Welding &amp; &lt;Painting&gt;"/>`,
		`<skill name='Montage "Spécial"'>`,
		`<resourceskill priority="1"><resource name="Assembly Line 1"/>`,
		`<item name="CAFE-12" description='Café crème "Zürich" &amp; &lt;Co&gt;' uom="Crate (12)"`,
		`<customer name="Brasserie &quot;L'Étoile&quot; &amp; &lt;Fils&gt; 43"/>`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %s", want)
		}
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (libxml2-utils)")
	}
	f := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(f, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(xmllint, "--noout", "--schema", "../../mappers/export/testdata/frepple.xsd", f).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" || strings.Contains(line, "validates") || strings.Contains(line, "fails to validate") ||
			strings.Contains(line, "attribute 'type' is not allowed") {
			continue
		}
		t.Errorf("schema: %s", line)
	}
}

// lockedBuffer is an output the demo writes from its own goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoServesTheSourcingExample runs `plangate demo` and sends the
// order-sourcing example it prints: the order splits between Oakland and
// Los Angeles. Cancelling the context stops the demo cleanly.
func TestDemoServesTheSourcingExample(t *testing.T) {
	out := &lockedBuffer{}
	addr := make(chan string, 1)
	env := &cliEnv{getenv: func(string) string { return "" }, stdout: out, stderr: &lockedBuffer{}, ready: func(a string) { addr <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--log-level", "error"}, env) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("demo ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not start")
	}
	if !strings.Contains(out.String(), demoTicket) {
		t.Errorf("the demo does not print its sourcing example:\n%s", out)
	}
	if !strings.Contains(out.String(), "-H 'Content-Type: application/json'") {
		t.Errorf("the printed example lacks the JSON content type the endpoint requires:\n%s", out)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/oms/orders-proposal", strings.NewReader(demoTicket))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", "admin")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"searchKey":"OAK"`) || !strings.Contains(string(body), `"searchKey":"LAX"`) {
		t.Errorf("sourcing example: %d %s", res.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("demo stopped with %v", err)
	}
}
