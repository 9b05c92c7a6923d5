package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plangate/plangate/mappers/export"
)

// export.extensions is read from the config file and checked at start:
// unknown extensions, and an extension's section listed in a mode while
// the extension is off, are errors naming them.
func TestExtensionsConfig(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"on", "export:\n  extensions: [itemdistributions]\n", ""},
		{"on, listed in a mode", "export:\n  extensions: [itemdistributions]\n  modes:\n    1: {sections: [header, locations, items, itemdistributions]}\n", ""},
		{"unknown", "export:\n  extensions: [forecast]\n", `unknown extension "forecast"`},
		{"listed while off", "export:\n  modes:\n    1: {sections: [header, locations, items, itemdistributions]}\n",
			"mode 1: section itemdistributions needs export.extensions: [itemdistributions]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			env, _, _ := testEnv(nil)
			cfg, _, err := loadConfig(env, "serve", []string{"--config", path}, commonOptions, serverOptions)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.Export.Extensions.Has(export.ItemDistributions) {
				t.Errorf("extensions %v", cfg.Export.Extensions)
			}
		})
	}
}
