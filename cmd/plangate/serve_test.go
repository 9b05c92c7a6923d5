package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
)

// TestServeIsExactlyOnceByDefault runs `plangate serve` with no --store,
// as a newcomer would, and posts the golden plan twice, then once more
// after a restart: only the first post writes to Odoo, because serve keeps
// its plan journal in the default state file. With --store none it keeps
// none, and a repost writes again: what the default protects against.
func TestServeIsExactlyOnceByDefault(t *testing.T) {
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	emu := odooemu.New(ds)
	esrv := odooemu.Start(emu)
	defer esrv.Close()
	stateHome := t.TempDir()
	vars := map[string]string{"XDG_STATE_HOME": stateHome}
	plan := "../../gateway/testdata/golden_import/plan.xml"
	post := func(base string) string {
		t.Helper()
		status, body := curl(t, "curl -u admin:admin -F mode=1 -F 'frePPLe plan=@"+plan+"' '"+base+
			"/frepple/xml/?database=odoo17&company=My%20Company%20(San%20Francisco)'")
		if status != 200 {
			t.Fatalf("post: %d %s", status, body)
		}
		return body
	}
	serve := func(extra ...string) *started {
		return startCommand(t, append([]string{"serve", "--listen", "127.0.0.1:0", "--odoo-url", esrv.URL, "--log-level", "error"}, extra...), vars)
	}

	s := serve()
	first := post(s.base)
	written := len(emu.Journal())
	if written == 0 || !strings.Contains(first, "Processed 5 uploaded procurement orders") {
		t.Fatalf("the first post wrote %d records: %s", written, first)
	}
	if again := post(s.base); !strings.Contains(again, "already imported") || len(emu.Journal()) != written {
		t.Errorf("repost: %d writes, want none: %s", len(emu.Journal())-written, again)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(stateHome, "plangate", "state.db")); err != nil {
		t.Errorf("no state file at the default path: %v", err)
	}

	s = serve() // the journal outlives a restart
	if again := post(s.base); !strings.Contains(again, "already imported") || len(emu.Journal()) != written {
		t.Errorf("repost after a restart: %d writes, want none: %s", len(emu.Journal())-written, again)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	s = serve("--store", "none")
	post(s.base)
	if len(emu.Journal()) == written {
		t.Error("with --store none a repost wrote nothing: is a journal kept after all?")
	}
}

// TestServeRefusesAnUnusableStateFile: a state file held by another
// gateway, or a default path that cannot be made, stops serve at start
// with a message saying what to do, instead of serving without a journal.
func TestServeRefusesAnUnusableStateFile(t *testing.T) {
	stateHome := t.TempDir()
	vars := map[string]string{"XDG_STATE_HOME": stateHome}
	held := startCommand(t, []string{"serve", "--listen", "127.0.0.1:0", "--odoo-url", "http://127.0.0.1:1", "--log-level", "error"}, vars)
	defer held.stop()
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"held by another gateway", vars, "is in use by another plangate"},
		{"default directory cannot be made", map[string]string{"XDG_STATE_HOME": blocked}, "give --store FILE, or --store none"},
		{"no home", map[string]string{}, "neither $XDG_STATE_HOME nor $HOME is set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.vars["XDG_STATE_HOME"] == "" && runtime.GOOS != "linux" {
				t.Skip("without $HOME, macOS and Windows still have a configuration directory")
			}
			env, out, errb := testEnv(tc.vars)
			// Should serve start after all, it stops here rather than hang the test.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--odoo-url", "http://127.0.0.1:1", "--log-level", "error"}, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q\n%s%s", err, tc.want, out, errb)
			}
		})
	}
}

// TestLoginCacheSetting: --login-cache 0 means no reuse, as its help says
// (the gateway's own zero would mean one minute).
func TestLoginCacheSetting(t *testing.T) {
	for _, tc := range []struct{ flag, want time.Duration }{
		{0, -1}, {-time.Second, -1}, {time.Minute, time.Minute}, {90 * time.Second, 90 * time.Second},
	} {
		if got := loginCacheTTL(tc.flag); got != tc.want {
			t.Errorf("loginCacheTTL(%v) = %v, want %v", tc.flag, got, tc.want)
		}
	}
	if d := defaultConfig().Odoo.LoginCache; d != time.Minute {
		t.Errorf("default login cache %v, want 1m as the help says", d)
	}
}
