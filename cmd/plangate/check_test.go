package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
)

// startCheckEmulator serves the demo dataset (plus extra databases).
func startCheckEmulator(t *testing.T, extraDBs ...string) *odooemu.Server {
	t.Helper()
	var sets []*odooemu.Dataset
	for _, name := range append([]string{""}, extraDBs...) {
		ds, err := odooemu.Load(datasets.Demo(), ".")
		if err != nil {
			t.Fatal(err)
		}
		if name != "" {
			ds.Database = name
		}
		sets = append(sets, ds)
	}
	srv := odooemu.Start(odooemu.New(sets...))
	t.Cleanup(srv.Close)
	return srv
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plangate.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkLines maps each check name to its status words, in order.
func checkLines(out string) map[string][]string {
	m := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && (f[0] == "ok" || f[0] == "warn" || f[0] == "FAIL" || f[0] == "skip") {
			m[f[1]] = append(m[f[1]], f[0])
		}
	}
	return m
}

func TestCheckPassesAgainstTheEmulator(t *testing.T) {
	emu := startCheckEmulator(t)
	cfgFile := writeConfig(t, `
odoo:
  url: `+emu.URL+`
  database: odoo17
  service_login: admin
companies:
  "My Company (San Francisco)":
    webtoken_key: k1
  "My Company (Chicago)":
    disclose_stack_trace: true
`)
	stateHome := t.TempDir()
	env, out, stderr := testEnv(map[string]string{"PLANGATE_SERVICE_PASSWORD": "admin", "PLANGATE_ODOO_PASSWORD": "admin", "XDG_STATE_HOME": stateHome})
	if err := run(context.Background(), []string{"check", "--config", cfgFile}, env); err != nil {
		t.Fatalf("check: %v\n%s%s", err, out, stderr)
	}
	got := out.String()
	t.Logf("\n%s", got)
	lines := checkLines(got)
	for what, want := range map[string]string{
		"config": "ok", "odoo": "ok", "databases": "ok", "login": "ok ok", "company": "ok ok",
	} {
		if s := strings.Join(lines[what], " "); s != want {
			t.Errorf("%s: %q, want %q", what, s, want)
		}
	}
	for _, want := range []string{cfgFile, "state file " + filepath.Join(stateHome, "plangate", "state.db") + " (the default)", "Odoo 17.0", `"odoo17" configured`, `service account "admin" is uid 2`, `export user "admin"`,
		"manufacturing_warehouse", `"My Company (Chicago)" is res.company`, "checks passed"} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if len(lines["res.company"]) != 1 || lines["res.company"][0] == "FAIL" {
		t.Errorf("res.company: %q", lines["res.company"])
	}
	if strings.Contains(got, "admin\n") || strings.Contains(got, "k1") {
		t.Error("the report shows a secret")
	}
}

func TestCheckFindsProblems(t *testing.T) {
	emu := startCheckEmulator(t, "odoo17_copy")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name   string
		yaml   string
		vars   map[string]string
		fail   string // check that must FAIL
		detail string
	}{
		{"Odoo down", "odoo: {url: " + closed + "}\n", nil, "odoo", "refused"},
		{"wrong service password", "odoo: {url: " + emu.URL + ", database: odoo17, service_login: admin, service_password: nope}\n", nil, "login", "refuses the login"},
		{"wrong export password", "odoo: {url: " + emu.URL + ", database: odoo17}\n", map[string]string{"PLANGATE_ODOO_PASSWORD": "nope"}, "login", "refuses the login"},
		{"unknown database", "odoo: {url: " + emu.URL + ", database: nodb, service_login: admin, service_password: admin}\n", nil, "databases", `"nodb" is not among`},
		{"unknown company", "odoo: {url: " + emu.URL + ", database: odoo17, service_login: admin, service_password: admin}\ncompanies: {\"No Such Co\": {disclose_stack_trace: true}}\n", nil, "company", "no such res.company"},
		{"webtoken without service account", "odoo: {url: " + emu.URL + ", database: odoo17}\ncompanies: {\"My Company (Chicago)\": {webtoken_key: k}}\n", nil, "config", "no odoo.service_login"},
		{"bad protocol and clock", "now: yesterday\nodoo: {url: " + emu.URL + ", protocol: soap, database: odoo17}\n", nil, "config", `odoo.protocol "soap"`},
		{"bad URL", "odoo: {url: ftp://odoo.example.com}\n", nil, "odoo", "must start with http"},
		{"unknown key", "odoo: {url: " + emu.URL + ", passwd: x}\n", nil, "config", "passwd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, out, stderr := testEnv(tc.vars)
			err := run(context.Background(), []string{"check", "--config", writeConfig(t, tc.yaml)}, env)
			if err == nil || errors.Is(err, errUsage) {
				t.Fatalf("check: err = %v, want a failure\n%s%s", err, out, stderr)
			}
			lines := checkLines(out.String())
			if !strings.Contains(strings.Join(lines[tc.fail], " "), "FAIL") {
				t.Errorf("%s is not marked FAIL:\n%s", tc.fail, out)
			}
			if !strings.Contains(out.String(), tc.detail) {
				t.Errorf("report lacks %q:\n%s", tc.detail, out)
			}
		})
	}
}

func TestCheckWarnsWithoutFailing(t *testing.T) {
	emu := startCheckEmulator(t, "odoo17_copy")
	// Two databases and none configured; no credentials: warnings and skips only.
	env, out, _ := testEnv(map[string]string{"PLANGATE_ODOO_URL": emu.URL, "XDG_STATE_HOME": t.TempDir()})
	if err := run(context.Background(), []string{"check"}, env); err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	lines := checkLines(out.String())
	if s := strings.Join(lines["databases"], " "); s != "warn" {
		t.Errorf("databases: %q, want warn\n%s", s, out)
	}
	if s := strings.Join(lines["login"], " "); s != "skip" {
		t.Errorf("login: %q, want skip\n%s", s, out)
	}
	if !strings.Contains(out.String(), "no file: defaults, environment and flags") {
		t.Errorf("the report does not say where the configuration came from:\n%s", out)
	}
}
