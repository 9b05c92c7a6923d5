package export_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/fakeaddon"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/xmlschema/docdiff"
)

// TestGoldensEqualByDiff compares every golden document the addon made
// with the emulator's export for the same request: docdiff finds them
// equal, clock values aside, and its sections are plangate's.
func TestGoldensEqualByDiff(t *testing.T) {
	_, s := demoSession(t)
	for _, c := range loadGoldens(t) {
		t.Run(c.Name, func(t *testing.T) {
			want, err := os.Open(filepath.Join("testdata/golden", c.File))
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			addon, err := docdiff.Read(want)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			x := &export.Exporter{Session: s}
			if _, err := x.Export(context.Background(), &buf, paramsFor(t, c)); err != nil {
				t.Fatalf("export: %v", err)
			}
			mine, err := docdiff.Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			r, err := docdiff.Compare(addon, mine, docdiff.Options{IgnoreClock: true})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Equal {
				var out strings.Builder
				_ = r.WriteText(&out, 10)
				t.Errorf("the export differs from the addon's:\n%s", out.String())
			}
		})
	}
}

// TestSectionNamesAgree: the section names docdiff gives the addon's
// comments are the exporter's.
func TestSectionNamesAgree(t *testing.T) {
	if got, want := docdiff.SectionNames(), export.SectionNames(); !slices.Equal(got, want) {
		t.Errorf("docdiff sections %v, exporter sections %v", got, want)
	}
}

// TestCompareWithAddon runs the migration check against a stand-in addon
// serving the golden sf_mode1 document, with plangate exporting from the
// emulator: equal; then with the addon's document changed, answering
// errors, or too large.
func TestCompareWithAddon(t *testing.T) {
	_, s := demoSession(t)
	var golden goldenCase
	for _, c := range loadGoldens(t) {
		if c.Name == "sf_mode1" {
			golden = c
		}
	}
	doc, err := os.ReadFile(filepath.Join("testdata/golden", golden.File))
	if err != nil {
		t.Fatal(err)
	}
	p := paramsFor(t, golden)
	exportFn := func(ctx context.Context, w io.Writer) error {
		x := &export.Exporter{Session: s}
		_, err := x.Export(ctx, w, p)
		return err
	}
	for _, tc := range []struct {
		name     string
		doc      string
		status   int
		login    string
		maxBytes int64
		export   func(context.Context, io.Writer) error
		wantErr  string
		wantDiff []string // paths
	}{
		{name: "equal", doc: string(doc)},
		{name: "a quantity differs", doc: strings.Replace(string(doc), `onhand="45.000000"`, `onhand="44.000000"`, 1),
			wantDiff: []string{`buffers/buffer[item/@name="FURN_0096"][location/@name="WH"]/@onhand`}},
		{name: "addon not installed", status: http.StatusNotFound, wantErr: "404 Not Found: is the frePPLe addon installed in that Odoo?"},
		{name: "wrong login", login: "nobody", doc: string(doc), wantErr: `401 Unauthorized: the addon refused the login "nobody"`},
		{name: "addon fails", status: http.StatusInternalServerError, wantErr: "500 Internal Server Error"},
		{name: "not a document", doc: "<html><body>Odoo login</body></html>", wantErr: "the addon's document: read document: root element is <html>"},
		{name: "too large", doc: string(doc), maxBytes: 1000, wantErr: "the addon's document is larger than 1000 bytes"},
		{name: "export fails", doc: string(doc), export: func(ctx context.Context, w io.Writer) error {
			_, _ = io.WriteString(w, "<plan>")
			return io.ErrUnexpectedEOF
		}, wantErr: "plangate's export: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &fakeaddon.Addon{Login: "admin", Password: "admin", Document: tc.doc, Status: tc.status}
			srv := httptest.NewServer(a)
			defer srv.Close()
			login := "admin"
			if tc.login != "" {
				login = tc.login
			}
			addon := &export.Addon{URL: srv.URL, Login: login, Password: "admin", MaxBytes: tc.maxBytes}
			fn := exportFn
			if tc.export != nil {
				fn = tc.export
			}
			r, err := export.CompareWithAddon(context.Background(), addon, "odoo17", p, fn, docdiff.Options{IgnoreClock: true})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				// The addon's failures are told from plangate's own.
				var ae *export.AddonError
				if errors.As(err, &ae) != (tc.export == nil) {
					t.Errorf("err %v: AddonError %v, want %v", err, errors.As(err, &ae), tc.export == nil)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q, want := a.Queries(), "company=My+Company+%28San+Francisco%29&database=odoo17&mode=1"; len(q) != 1 || q[0] != want {
				t.Errorf("the addon was asked %q, want %q", q, want)
			}
			var paths []string
			for _, d := range r.Differences {
				paths = append(paths, d.Path)
			}
			if !slices.Equal(paths, tc.wantDiff) {
				t.Errorf("differences %q, want %q", paths, tc.wantDiff)
			}
		})
	}
}

// TestAddonRequestURL: the addon gets the planner's parameters, and a
// URL that is not http(s) is refused before anything is sent.
func TestAddonRequestURL(t *testing.T) {
	a := &export.Addon{URL: "https://odoo.example.com/"}
	got, err := a.RequestURL("prod", export.Params{Mode: 2, Company: "A & B", Language: "fr_FR", Timezone: "Europe/Brussels",
		SingleCompany: true, Delta: 7, Apps: "freppledb.shelflife"})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://odoo.example.com/frepple/xml?apps=freppledb.shelflife&company=A+%26+B&database=prod&delta=7&language=fr_FR&mode=2&singlecompany=true&timezone=Europe%2FBrussels"
	if got != want {
		t.Errorf("RequestURL = %s\nwant %s", got, want)
	}
	for _, bad := range []string{"odoo.example.com", "ftp://odoo", "http://", "://x"} {
		if _, err := (&export.Addon{URL: bad}).RequestURL("db", export.Params{}); err == nil {
			t.Errorf("addon URL %q accepted", bad)
		}
	}
}
