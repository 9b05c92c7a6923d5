package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/odoo"
)

// TestEmulatorCostFlag: `plangate emulator --cost` makes every call take
// its charge; a malformed model is refused before anything listens.
func TestEmulatorCostFlag(t *testing.T) {
	for _, tc := range []struct {
		cost     string
		min, max time.Duration // of one common.version call
		wantErr  string
	}{
		{cost: "off", max: 180 * time.Millisecond},
		{cost: "call=200ms", min: 200 * time.Millisecond},
		{cost: "call=fast", wantErr: "--cost"},
	} {
		t.Run(tc.cost, func(t *testing.T) {
			addr := make(chan string, 1)
			env := &cliEnv{getenv: func(string) string { return "" }, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, ready: func(a string) { addr <- a }}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"emulator", "--listen", "127.0.0.1:0", "--log-level", "error", "--cost", tc.cost}, env)
			}()
			var base string
			select {
			case a := <-addr:
				base = "http://" + a
			case err := <-done:
				if tc.wantErr == "" || err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("emulator ended with %v, want an error naming %q", err, tc.wantErr)
				}
				return
			case <-time.After(30 * time.Second):
				t.Fatal("emulator did not start")
			}
			if tc.wantErr != "" {
				t.Fatalf("emulator started with --cost %s", tc.cost)
			}
			tr, err := odoo.NewTransport(odoo.Options{URL: base, Protocol: odoo.ProtocolJSONRPC})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := odoo.ServerVersion(ctx, tr); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if took < tc.min || (tc.max > 0 && took > tc.max) {
				t.Errorf("common.version took %v, want between %v and %v", took, tc.min, tc.max)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("emulator stopped with %v", err)
			}
		})
	}
}

// TestExportConcurrencyFlag: --odoo-concurrency bounds the Odoo calls of
// `plangate export`; the document is the same at every bound.
func TestExportConcurrencyFlag(t *testing.T) {
	ds, err := loadDataset(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	emu := odooemu.New(ds)
	emu.SetCost(odooemu.CostModel{PerCall: 15 * time.Millisecond}) // calls overlap when they may
	srv := odooemu.Start(emu)
	defer srv.Close()
	var first []byte
	for _, n := range []int{1, 3} {
		file := filepath.Join(t.TempDir(), "doc.xml")
		env, _, stderr := testEnv(map[string]string{"PLANGATE_ODOO_PASSWORD": "admin", "PLANGATE_ODOO_URL": srv.URL})
		emu.ResetUsage()
		err := run(context.Background(), []string{"export", "--company", "My Company (San Francisco)", "--now", "2026-11-24T00:44:33",
			"--log-level", "error", "--odoo-concurrency", fmt.Sprint(n), "-o", file}, env)
		if err != nil {
			t.Fatalf("export: %v\n%s", err, stderr)
		}
		// Login and the company check run before the export, one at a time.
		if peak := emu.Usage().Peak; peak > n || (n > 1 && peak < 2) {
			t.Errorf("--odoo-concurrency %d: %d calls at once", n, peak)
		}
		doc, _ := os.ReadFile(file)
		if first == nil {
			first = doc
		} else if !bytes.Equal(doc, first) {
			t.Errorf("--odoo-concurrency %d wrote another document", n)
		}
	}
}
