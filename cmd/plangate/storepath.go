package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// storeNone is the --store value that keeps no state file: no extraction
// history, no shops and, above all, no plan journal, so a reposted plan is
// written to Odoo again.
const storeNone = "none"

// defaultStorePath is where `plangate serve` (and `plangate shop`) keep
// their state without --store: $XDG_STATE_HOME/plangate/state.db, else
// ~/.local/state/plangate/state.db; on macOS and Windows under the user's
// configuration directory. The state outlives restarts, as the plan
// journal must for a repost to write nothing.
func defaultStorePath(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "plangate", "state.db"), nil
	}
	switch runtime.GOOS {
	case "darwin", "ios", "windows", "plan9":
		d, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(d, "plangate", "state.db"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("neither $XDG_STATE_HOME nor $HOME is set")
	}
	return filepath.Join(home, ".local", "state", "plangate", "state.db"), nil
}

// storePath resolves --store for a command that keeps state by default:
// empty means the default path (its directory is created), "none" means no
// state file (returned as "").
func storePath(env *cliEnv, store string) (string, error) {
	switch store {
	case storeNone:
		return "", nil
	case "":
		p, err := defaultStorePath(env.getenv)
		if err != nil {
			return "", fmt.Errorf("no --store given and no default state file: %w (give --store FILE, or --store none to keep no state)", err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return "", fmt.Errorf("default state file %s: %w (give --store FILE, or --store none to keep no state)", p, err)
		}
		return p, nil
	}
	return store, nil
}

// storeHelp describes --store for the commands that keep state by default.
const storeHelp = "state store (extraction state, plan journal, shops, OMS runs): a bbolt file, or etcd://host:2379,.../prefix shared by replicas\n" +
	"empty: $XDG_STATE_HOME/plangate/state.db or ~/.local/state/plangate/state.db (demo: a temporary file)\n" +
	"none: keep no state (a reposted plan is then written again)"
