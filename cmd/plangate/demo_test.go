package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
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

// started is a server command (serve, demo) running in the test.
type started struct {
	base string        // http://host:port of the gateway
	out  *lockedBuffer // what it printed
	stop func() error  // cancels it and waits for it to end
}

// startCommand runs a server command until the test stops it, and waits
// until it listens.
func startCommand(t *testing.T, args []string, vars map[string]string) *started {
	t.Helper()
	out := &lockedBuffer{}
	addr := make(chan string, 1)
	env := &cliEnv{getenv: func(k string) string { return vars[k] }, stdout: out, stderr: &lockedBuffer{}, ready: func(a string) { addr <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, env) }()
	s := &started{out: out}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	select {
	case a := <-addr:
		s.base = "http://" + a
	case err := <-done:
		done <- err // for stop, which the cleanup calls
		t.Fatalf("%v ended: %v\n%s%s", args, err, out, env.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("%v did not start", args)
	}
	return s
}

// curl runs one curl command line as printed for a user: single-quoted
// words, -u, -H, -d, -F (with @file), -X and the URL; a # starts a comment.
func curl(t *testing.T, line string) (int, string) {
	t.Helper()
	words := shellWords(t, line)
	if len(words) == 0 || words[0] != "curl" {
		t.Fatalf("not a curl command: %s", line)
	}
	method, target, body := "", "", io.Reader(nil)
	hdr := http.Header{}
	var user, pass string
	var form *multipart.Writer
	var formBuf bytes.Buffer
	for i := 1; i < len(words); i++ {
		w := words[i]
		arg := func() string {
			i++
			if i >= len(words) {
				t.Fatalf("%s lacks its argument: %s", w, line)
			}
			return words[i]
		}
		switch w {
		case "-u":
			user, pass, _ = strings.Cut(arg(), ":")
		case "-H":
			k, v, _ := strings.Cut(arg(), ":")
			hdr.Set(k, strings.TrimSpace(v))
		case "-X":
			method = arg()
		case "-d":
			body = strings.NewReader(arg())
			if hdr.Get("Content-Type") == "" {
				hdr.Set("Content-Type", "application/x-www-form-urlencoded") // as curl does
			}
		case "-F":
			if form == nil {
				form = multipart.NewWriter(&formBuf)
			}
			k, v, _ := strings.Cut(arg(), "=")
			if file, ok := strings.CutPrefix(v, "@"); ok {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				fw, _ := form.CreateFormFile(k, filepath.Base(file))
				fw.Write(data)
			} else {
				form.WriteField(k, v)
			}
		default:
			if strings.HasPrefix(w, "-") {
				t.Fatalf("curl option %s is not understood by this test: %s", w, line)
			}
			target = w
		}
	}
	if form != nil {
		form.Close()
		body = &formBuf
		hdr.Set("Content-Type", form.FormDataContentType())
	}
	if method == "" {
		method = http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	req.Header = hdr
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// shellWords splits a command line as sh does for the subset printed:
// blanks separate words, single quotes keep everything, a backslash at the
// end of a line continues it, # after a blank starts a comment.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	line = strings.ReplaceAll(line, "\\\n", " ")
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted:
			if c == '\'' {
				quoted = false
			} else {
				cur.WriteByte(c)
			}
		case c == '\'':
			quoted, inWord = true, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			i = len(line)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote: %s", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// printedCurls are the curl lines a command printed, in order.
func printedCurls(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "curl ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestDemoWorksAsPrinted starts `plangate demo` as a newcomer would and
// runs every command it prints, in order: exports, the extraction history,
// a plan import, order sourcing, a shop sync; then those that write once
// more: the repost of the plan and the repeated shop sync write nothing. The demo writes nothing into
// the current directory, says what it does while it starts, suggests its
// companies on the page, and removes its temporary state file when it stops.
func TestDemoWorksAsPrinted(t *testing.T) {
	before, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	d := startCommand(t, []string{"demo", "--listen", "127.0.0.1:0", "--log-level", "error"}, nil)
	out := d.out.String()
	loading, running := strings.Index(out, "loading the demo dataset"), strings.Index(out, "plangate demo is running")
	if loading < 0 || running < loading {
		t.Errorf("the demo does not say what it does before it runs:\n%s", out)
	}
	m := regexp.MustCompile(`State file: +(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo names no state file:\n%s", out)
	}
	stateFile := m[1]
	if _, err := os.Stat(stateFile); err != nil {
		t.Errorf("state file: %v", err)
	}
	emuURL := regexp.MustCompile(`Odoo emulator: +(\S+)`).FindStringSubmatch(out)[1]
	tr, _ := odoo.NewTransport(odoo.Options{URL: emuURL})
	sess, err := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	count := func(model string) int {
		n, err := sess.SearchCount(context.Background(), model, odoo.Domain{}, odoo.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	lines := printedCurls(out)
	if len(lines) < 10 {
		t.Fatalf("the demo prints %d curl commands, want exports, state, plan, sourcing and shop sync:\n%s", len(lines), out)
	}
	for round := 1; round <= 2; round++ {
		for _, line := range lines {
			if round == 2 && !strings.Contains(line, "frePPLe plan=@") && !strings.Contains(line, "/shops") {
				continue // the second round repeats what writes
			}
			pos, sos := count("purchase.order"), count("sale.order")
			status, body := curl(t, line)
			short := line
			if len(short) > 110 {
				short = short[:110] + "…"
			}
			ok := status == 200
			switch {
			case strings.Contains(line, "/frepple/xml?"):
				ok = ok && strings.HasSuffix(strings.TrimSpace(body), "</plan>")
			case strings.Contains(line, "/frepple/state"):
				ok = ok && strings.Contains(body, `"My Company (Chicago)"`) && strings.Contains(body, `"My Company (San Francisco)"`)
			case strings.Contains(line, "frePPLe plan=@"):
				ok = ok && strings.Contains(body, "Processed")
				if round == 2 && (!strings.Contains(body, "already imported") || count("purchase.order") != pos) {
					t.Errorf("round 2, %s: the repost wrote again (%d → %d purchase orders): %s", short, pos, count("purchase.order"), body)
				}
			case strings.Contains(line, "/oms/orders-proposal"):
				ok = ok && strings.Contains(body, `"searchKey":"OAK"`) && strings.Contains(body, `"searchKey":"LAX"`)
			case strings.HasSuffix(line, "/shops"):
				ok = status == map[int]int{1: 201, 2: 409}[round] // the second time it exists
			case strings.Contains(line, "/import-orders"):
				if round == 2 && count("sale.order") != sos {
					t.Errorf("round 2, %s: orders imported again: %s", short, body)
				}
			case strings.Contains(line, "/import-products"):
				ok = ok && (round == 1 || strings.Contains(body, `"created": 0`))
			}
			if !ok {
				t.Errorf("round %d, %s: %d %.400s", round, short, status, body)
			}
		}
	}

	// The page suggests the demo's companies.
	status, page := curl(t, "curl "+d.base+"/")
	for _, c := range []string{"My Company (San Francisco)", "My Company (Chicago)"} {
		if status != 200 || !strings.Contains(page, `<option value="`+c+`">`) {
			t.Errorf("the page does not suggest %q", c)
		}
	}

	if err := d.stop(); err != nil {
		t.Errorf("demo stopped with %v", err)
	}
	if _, err := os.Stat(stateFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary state file outlives the demo: %v", err)
	}
	after, _ := os.ReadDir(".")
	if len(after) != len(before) {
		t.Errorf("the demo wrote into the current directory: %d entries before, %d after", len(before), len(after))
	}
}

// TestReadmeSourcingExampleIsTheDemos sends the README's order-sourcing
// request to the demo: the ticket is the one the demo prints and the
// answer the README shows is the demo's (but for the run id, new each run).
func TestReadmeSourcingExampleIsTheDemos(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "### Order sourcing (OMS)")
	if i < 0 {
		t.Fatal("README has no order-sourcing section")
	}
	request := fenced(t, text[i:], "sh")
	answer := fenced(t, text[i:], "json")
	words := shellWords(t, request)
	var ticket string
	for j, w := range words {
		if w == "-d" && j+1 < len(words) {
			ticket = words[j+1]
		}
	}
	var got, want any
	if err := json.Unmarshal([]byte(ticket), &got); err != nil {
		t.Fatalf("README ticket: %v", err)
	}
	_ = json.Unmarshal([]byte(demoTicket), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("README ticket %s differs from the demo's %s", ticket, demoTicket)
	}

	d := startCommand(t, []string{"demo", "--listen", "127.0.0.1:0", "--log-level", "error", "--store", "none"}, nil)
	status, body := curl(t, strings.ReplaceAll(request, "http://127.0.0.1:8070", d.base))
	if status != 200 {
		t.Fatalf("README request: %d %s", status, body)
	}
	var gotAnswer, wantAnswer map[string]any
	if err := json.Unmarshal([]byte(body), &gotAnswer); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(answer), &wantAnswer); err != nil {
		t.Fatalf("README answer is not JSON: %v", err)
	}
	for _, a := range []map[string]any{gotAnswer, wantAnswer} {
		if oms, ok := a["oms"].(map[string]any); ok {
			if _, ok := oms["obomsRunId"].(string); !ok {
				t.Errorf("no obomsRunId in %v", a)
			}
			delete(oms, "obomsRunId")
		}
	}
	if !reflect.DeepEqual(gotAnswer, wantAnswer) {
		t.Errorf("the demo answers\n%s\nthe README shows\n%s", body, answer)
	}
}

// fenced returns the first ```lang block of text.
func fenced(t *testing.T, text, lang string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "```"+lang+"\n")
	if !ok {
		t.Fatalf("no %s block", lang)
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("unterminated %s block", lang)
	}
	return block
}
