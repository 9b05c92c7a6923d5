package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// quiet is the gateway log of tests that do not read it.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// emulated is the demo dataset served by the Odoo emulator over real HTTP.
type emulated struct {
	ds  *odooemu.Dataset
	emu *odooemu.Emulator
	srv *odooemu.Server
	tr  odoo.Transport
}

// emulate serves the demo dataset; prepare, when given, changes the
// dataset or the emulator before it serves. extensions names demo
// extension files to apply (datasets.DemoExtensions for all).
func emulate(t testing.TB, prepare func(*odooemu.Dataset, *odooemu.Emulator), extensions ...string) *emulated {
	t.Helper()
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, ext := range extensions {
		if err := odooemu.ApplyExtension(ds, datasets.Demo(), ext); err != nil {
			t.Fatal(err)
		}
	}
	e := odooemu.New(ds)
	if prepare != nil {
		prepare(ds, e)
	}
	srv := odooemu.Start(e)
	t.Cleanup(srv.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &emulated{ds: ds, emu: e, srv: srv, tr: tr}
}

// tempStore opens a state file that goes away with the test.
func tempStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

type resp struct {
	status int
	header http.Header
	body   string
}

// send makes one request and reads the whole answer.
func send(t *testing.T, method, url string, body io.Reader, prepare func(*http.Request)) resp {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}
