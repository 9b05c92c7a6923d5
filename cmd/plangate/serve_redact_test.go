package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
)

// TestServeLogsNoOdooCredentials: credentials in odoo.url (a proxy's
// Basic login) are used, but the start-up line shows them as REDACTED.
func TestServeLogsNoOdooCredentials(t *testing.T) {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	srv := odooemu.Start(odooemu.New(ds))
	defer srv.Close()
	withCreds := strings.Replace(srv.URL, "http://", "http://proxyuser:Pr0xy-Secret-41@", 1)
	stderr := &lockedBuffer{}
	addr := make(chan string, 1)
	env := &cliEnv{getenv: func(k string) string {
		return map[string]string{"PLANGATE_ODOO_URL": withCreds}[k]
	}, stdout: &lockedBuffer{}, stderr: stderr, ready: func(a string) { addr <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--store", filepath.Join(t.TempDir(), "state.db")}, env)
	}()
	select {
	case <-addr:
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve stopped with %v", err)
	}
	logged := stderr.String()
	if !strings.Contains(logged, "gateway listening") || !strings.Contains(logged, "REDACTED@127.0.0.1") {
		t.Errorf("no start-up line with the redacted Odoo URL:\n%s", logged)
	}
	for _, s := range []string{"Pr0xy-Secret-41", "proxyuser"} {
		if strings.Contains(logged, s) {
			t.Errorf("the log holds %q:\n%s", s, logged)
		}
	}
}

func TestRedactedURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://odoo.example.com":            "https://odoo.example.com",
		"https://u:p@odoo.example.com:8069/x": "https://REDACTED@odoo.example.com:8069/x",
		"http://only-user@odoo.example.com":   "http://REDACTED@odoo.example.com",
		"http://u:p%40ss@10.0.0.5/?db=x":      "http://REDACTED@10.0.0.5/?db=x",
		"http://[::1]:namedport":              "(unparsable URL)",
	} {
		if got := redactedURL(in); got != want {
			t.Errorf("redactedURL(%q) = %q, want %q", in, got, want)
		}
	}
}
