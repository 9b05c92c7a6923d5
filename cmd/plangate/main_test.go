package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
)

func testEnv(vars map[string]string) (*cliEnv, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cliEnv{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &errb}, &out, &errb
}

// TestExportCommandWritesTheGoldenDocument runs `plangate export` against
// the emulator and compares the file with the addon's document.
func TestExportCommandWritesTheGoldenDocument(t *testing.T) {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	srv := odooemu.Start(odooemu.New(ds))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "doc.xml")
	env, _, stderr := testEnv(map[string]string{"PLANGATE_ODOO_PASSWORD": "admin", "PLANGATE_ODOO_URL": srv.URL})
	err = run(context.Background(), []string{"export", "--company", "My Company (San Francisco)", "--mode", "1",
		"--now", "2026-11-24T00:44:33", "--log-level", "error", "-o", file}, env)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	got, _ := os.ReadFile(file)
	want, err := os.ReadFile("../../mappers/export/testdata/golden/sf_mode1.xml")
	if err != nil {
		t.Fatal(err)
	}
	// Only the work-order starts (max(planned, now), read again by the addon a
	// second later) may differ: compare with them masked.
	mask := func(b []byte) string {
		return strings.ReplaceAll(string(b), `start="2026-11-24T01:44:33"`, "START")
	}
	if mask(got) != mask(want) {
		t.Errorf("plangate export wrote %d bytes that differ from the addon's %d-byte document", len(got), len(want))
	}
}

func TestExportCommandFailsCleanly(t *testing.T) {
	env, _, _ := testEnv(map[string]string{"PLANGATE_ODOO_URL": "http://127.0.0.1:1", "PLANGATE_ODOO_PASSWORD": "x"})
	file := filepath.Join(t.TempDir(), "doc.xml")
	err := run(context.Background(), []string{"export", "--database", "odoo17", "--log-level", "error", "-o", file}, env)
	if err == nil || !strings.Contains(err.Error(), "log in") {
		t.Fatalf("err = %v, want a login failure", err)
	}
	if _, serr := os.Stat(file); !errors.Is(serr, os.ErrNotExist) {
		t.Error("a failed export left an output file behind")
	}
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr error
		out     string
	}{
		{[]string{"version"}, nil, "plangate "},
		{[]string{"help"}, nil, "Commands:"},
		{[]string{"nosuch"}, errUsage, ""},
		{nil, errUsage, "Usage: plangate"},
		{[]string{"export", "--mode", "two"}, errUsage, ""},
	} {
		env, out, _ := testEnv(nil)
		err := run(context.Background(), tc.args, env)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%v: err = %v, want %v", tc.args, err, tc.wantErr)
		}
		if !strings.Contains(out.String(), tc.out) {
			t.Errorf("%v: output %q lacks %q", tc.args, out.String(), tc.out)
		}
	}
}

func TestBadConfigFileIsRejected(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("odoo:\n  url: http://x\n  nosuchkey: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, _, _ := testEnv(nil)
	if err := run(context.Background(), []string{"export", "--config", cfg}, env); err == nil || !strings.Contains(err.Error(), "nosuchkey") {
		t.Fatalf("err = %v, want the unknown key named", err)
	}
}

func TestOMSConfigIsValidatedAtStart(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown algorithm", "oms:\n  organizations:\n    \"*\":\n      rules:\n        - name: r\n          criteria:\n            - algorithm: nearest\n",
			`rule "r", criterion 1: unknown algorithm "nearest"`},
		{"bad parameter", "oms:\n  organizations:\n    West:\n      rules:\n        - criteria:\n            - algorithm: max_splits\n              params: {max: -2}\n",
			`oms.organizations["West"]: rule "rule 1", criterion 1: algorithm max_splits: parameter max: must not be negative`},
		{"misspelt key", "oms:\n  stock_fresh: 10s\n", "stock_fresh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(cfg, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			env, _, _ := testEnv(nil)
			err := run(context.Background(), []string{"serve", "--config", cfg}, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
