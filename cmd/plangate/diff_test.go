package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/fakeaddon"
	"github.com/plangate/plangate/fixtures/odooemu"
)

const goldenDir = "../../mappers/export/testdata/golden"

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// status is the exit status run's error stands for (main's mapping).
func status(err error) int {
	var st exitStatus
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &st):
		return int(st)
	}
	return 1
}

// TestDiffCommand runs plangate diff on files and URLs: exit 0 for equal
// documents, 1 for different ones (with the differences named), 2 for
// errors (with the reason on stderr).
func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	sf := filepath.Join(goldenDir, "sf_mode1.xml")
	again := filepath.Join(goldenDir, "sf_mode1_again.xml")
	changed := filepath.Join(dir, "changed.xml")
	if err := os.WriteFile(changed, []byte(strings.Replace(golden(t, "sf_mode1.xml"), `onhand="45.000000"`, `onhand="46.000000"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.xml")
	if err := os.WriteFile(broken, []byte(golden(t, "sf_mode1.xml")[:5000]), 0o600); err != nil {
		t.Fatal(err)
	}
	served := &fakeaddon.Addon{Login: "admin", Password: "secret", Document: golden(t, "sf_mode1.xml")}
	srv := httptest.NewServer(served)
	defer srv.Close()
	withLogin := strings.Replace(srv.URL, "http://", "http://admin:secret@", 1) + "/frepple/xml?database=odoo17&mode=1"

	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		status     int
		out, error string
	}{
		{name: "same file", args: []string{sf, sf}, out: "1491 of 1491 elements equal (100.00%); the documents are equal"},
		{name: "clock values differ", args: []string{sf, again}, status: 1, out: "13 differences"},
		{name: "at most 2 per section", args: []string{"--max", "2", sf, again}, status: 1, out: "  … and 8 more in orderpoints (all: --max 0, or --json)"},
		{name: "clock ignored", args: []string{"--ignore-clock", sf, again}, out: "clock ignored: <current>, and datetimes up to 63s apart"},
		{name: "flags after the documents", args: []string{sf, again, "--ignore-clock"}, out: "the documents are equal"},
		{name: "one value", args: []string{sf, changed}, status: 1,
			out: `  changed  buffers/buffer[item/@name="FURN_0096"][location/@name="WH"]/@onhand: "45.000000" | "46.000000"`},
		{name: "sections", args: []string{"--sections", "header, onhand", sf, changed}, status: 1, out: "\nonhand "},
		{name: "URL with its login", args: []string{withLogin, sf}, out: "the documents are equal"},
		{name: "URL with --password", args: []string{"--user", "admin", srv.URL + "/frepple/xml", sf}, env: map[string]string{"PLANGATE_ODOO_PASSWORD": "secret"},
			out: "A: " + srv.URL + "/frepple/xml\n"},
		{name: "URL without login", args: []string{srv.URL + "/frepple/xml", sf}, status: 2, error: "401 Unauthorized (Login with Odoo user name and password)"},
		{name: "missing file", args: []string{sf, filepath.Join(dir, "none.xml")}, status: 2, error: "none.xml: no such file"},
		{name: "document cut short", args: []string{sf, broken}, status: 2, error: "broken.xml: read document:"},
		{name: "unknown section", args: []string{"--sections", "itemz", sf, sf}, status: 2, error: `unknown section "itemz"`},
		{name: "one document", args: []string{sf}, status: 2, error: "Usage: plangate diff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, out, stderr := testEnv(tc.env)
			err := run(context.Background(), append([]string{"diff"}, tc.args...), env)
			if got := status(err); got != tc.status {
				t.Fatalf("exit status %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", got, err, tc.status, out, stderr)
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout lacks %q:\n%s", tc.out, out)
			}
			if !strings.Contains(stderr.String(), tc.error) {
				t.Errorf("stderr lacks %q:\n%s", tc.error, stderr)
			}
			if strings.Contains(out.String()+stderr.String(), "secret") {
				t.Errorf("the password is printed:\n%s%s", out, stderr)
			}
		})
	}
}

func TestDiffCommandJSON(t *testing.T) {
	env, out, _ := testEnv(nil)
	err := run(context.Background(), []string{"diff", "--json", filepath.Join(goldenDir, "sf_mode1.xml"), filepath.Join(goldenDir, "sf_mode1_singlecompany.xml")}, env)
	if status(err) != 1 {
		t.Fatalf("exit status %d, want 1", status(err))
	}
	var r struct {
		Equal       bool
		Elements    int
		Differences []struct{ Section, Kind, Path string }
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r.Equal || r.Elements != 1491 || len(r.Differences) == 0 {
		t.Fatalf("report %+v", r)
	}
	if d := r.Differences[1]; d.Section != "locations" || d.Kind != "missing" || d.Path != `locations/location[@name="CHIC1"]` {
		t.Errorf("second difference %+v: want the Chicago location missing", d)
	}
}

// TestDiffAddon is the migration check end to end: a stand-in addon
// serving the golden document the real addon made from the demo data,
// plangate exporting from the emulator of the same data.
func TestDiffAddon(t *testing.T) {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	emu := odooemu.Start(odooemu.New(ds))
	defer emu.Close()
	addon := &fakeaddon.Addon{Login: "admin", Password: "admin", Document: golden(t, "sf_mode1.xml")}
	srv := httptest.NewServer(addon)
	defer srv.Close()
	args := []string{"diff", "--addon", srv.URL, "--odoo-url", emu.URL, "--company", "My Company (San Francisco)",
		"--now", "2026-11-24T00:44:33", "--log-level", "error"}
	env := map[string]string{"PLANGATE_ODOO_PASSWORD": "admin"}

	for _, tc := range []struct {
		name       string
		doc        string
		answer     int // the addon's HTTP status; 0: 200
		extra      []string
		exit       int
		out, error string
	}{
		{name: "equal", doc: golden(t, "sf_mode1.xml"), out: "the documents are equal"},
		{name: "a demand differs", doc: strings.Replace(golden(t, "sf_mode1.xml"), `<demand name="S00001 1" batch="S00001" quantity="`, `<demand name="S00001 1" batch="S00001" quantity="1`, 1),
			exit: 1, out: `changed  demands/demand[@name="S00001 1"]/@quantity`},
		{name: "exported 17 s later: the clock is ignored", doc: golden(t, "sf_mode1.xml"), extra: []string{"--now", "2026-11-24T00:44:50"},
			out: "clock ignored: <current>, and datetimes up to 19s apart"},
		{name: "exported 17 s later, clock compared", doc: golden(t, "sf_mode1.xml"), extra: []string{"--now", "2026-11-24T00:44:50", "--ignore-clock=false"},
			exit: 1, out: "13 differences"},
		{name: "no addon there", answer: 404, exit: 2, error: "is the frePPLe addon installed in that Odoo?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addon.Set(tc.doc, tc.answer)
			e, out, stderr := testEnv(env)
			err := run(context.Background(), append(append([]string{}, args...), tc.extra...), e)
			if got := status(err); got != tc.exit {
				t.Fatalf("exit status %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", got, err, tc.exit, out, stderr)
			}
			if !strings.Contains(out.String(), tc.out) || !strings.Contains(stderr.String(), tc.error) {
				t.Errorf("stdout:\n%s\nstderr:\n%s\nwant %q and %q", out, stderr, tc.out, tc.error)
			}
		})
	}
	q := addon.Queries()
	if want := "company=My+Company+%28San+Francisco%29&database=odoo17&mode=1"; len(q) == 0 || q[0] != want {
		t.Errorf("the addon was asked %q, want %q", q, want)
	}
}
