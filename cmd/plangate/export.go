package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

func init() {
	register(command{name: "export", summary: "write one frePPLe document to stdout or a file (for cron jobs and debugging)", run: runExport})
}

func runExport(ctx context.Context, env *cliEnv, args []string) error {
	cfg, fs, err := loadConfig(env, "export", args, commonOptions, odooOptions, exportOptions)
	if err != nil {
		return helpOK(err)
	}
	if err := noArgs("export", fs); err != nil {
		return err
	}
	log := newLogger(env, cfg)
	t, err := newTransport(cfg)
	if err != nil {
		return err
	}
	now, err := parseNow(cfg.Now)
	if err != nil {
		return err
	}
	sess, db, err := exportSession(ctx, t, cfg)
	if err != nil {
		return err
	}
	p := exportParams(cfg, now)
	var w io.Writer = env.stdout
	var tmp *os.File
	if cfg.Export.Output != "" && cfg.Export.Output != "-" {
		// Write beside the target and rename, so a failed export never
		// leaves a truncated file where a good one was.
		tmp, err = os.CreateTemp(filepath.Dir(cfg.Export.Output), ".plangate-export-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		w = tmp
	}
	x := newExporter(cfg, sess, log)
	var st *store.Store
	if cfg.Store != "" && cfg.Store != storeNone {
		st, err = openStore(ctx, cfg, false)
		if err != nil {
			log.Error("state store unusable; exporting without cache", "store", cfg.Store, "err", err)
		} else {
			defer st.Close()
			x.Cache, x.CacheMargin, x.Refresh = st, cfg.Export.CacheMargin, cfg.Export.Refresh
		}
	}
	start := time.Now()
	stats, err := x.Export(ctx, w, p)
	if st != nil {
		run := store.Run{ID: store.NewRunID(start), Database: db, Company: p.Company, Mode: p.Mode, Start: start.UTC(), End: time.Now().UTC(),
			Sections: stats.Sections, Bytes: stats.Bytes, Duration: stats.Duration, Calls: stats.Calls, CacheHits: stats.CacheHits,
			CacheMisses: stats.CacheMisses, Cached: stats.CacheHits > 0, Watermarks: stats.Watermarks,
			Params: map[string]string{"source": "cli", "login": cfg.Odoo.User, "refresh": fmt.Sprint(cfg.Export.Refresh)}}
		if err != nil {
			run.Error = err.Error()
		}
		if serr := st.SaveRun(run); serr != nil {
			log.Warn("could not record the extraction", "err", serr)
		}
	}
	if err != nil {
		if tmp != nil {
			tmp.Close()
		}
		return fmt.Errorf("export: %w", err)
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), cfg.Export.Output); err != nil {
			return err
		}
	}
	log.Info("export written", "bytes", stats.Bytes, "duration", stats.Duration)
	return nil
}

// exportSession logs in to the configured database (or the only one Odoo
// lists) and checks that the configured company exists.
func exportSession(ctx context.Context, t odoo.Transport, cfg *Config) (*odoo.Session, string, error) {
	db := cfg.Odoo.Database
	if db == "" {
		dbs, err := odoo.ListDatabases(ctx, t)
		if err != nil {
			return nil, "", fmt.Errorf("no --database given and Odoo does not list its databases: %w", err)
		}
		if len(dbs) != 1 {
			return nil, "", fmt.Errorf("no --database given and Odoo has %d databases %v", len(dbs), dbs)
		}
		db = dbs[0]
	}
	sess, err := odoo.Login(ctx, t, db, cfg.Odoo.User, cfg.Odoo.Password)
	if err != nil {
		return nil, "", fmt.Errorf("log in to %s as %s: %w", db, cfg.Odoo.User, err)
	}
	if cfg.Export.Company != "" {
		ids, err := sess.Search(ctx, "res.company", odoo.Domain{odoo.Term("name", "=", cfg.Export.Company)}, odoo.Query{Limit: 1})
		if err != nil {
			return nil, "", err
		}
		if len(ids) == 0 {
			return nil, "", fmt.Errorf("unknown company %q", cfg.Export.Company)
		}
	}
	return sess, db, nil
}

// newExporter is an exporter with the configured modes, fixes and company defaults.
func newExporter(cfg *Config, sess *odoo.Session, log *slog.Logger) *export.Exporter {
	return &export.Exporter{Session: sess, Logger: log, Modes: cfg.Export.Modes, Fixes: cfg.Export.Fixes, Extensions: cfg.Export.Extensions,
		MaxInFlight: cfg.Odoo.Concurrency, Defaults: cfg.Companies[cfg.Export.Company].CompanyDefaults}
}

// exportParams are the request parameters of a command-line export.
func exportParams(cfg *Config, now func() time.Time) export.Params {
	return export.Params{
		Mode: cfg.Export.Mode, Company: cfg.Export.Company, Timezone: cfg.Export.Timezone,
		Language: cfg.Export.Language, SingleCompany: cfg.Export.SingleCompany, Delta: cfg.Export.Delta,
		Apps: cfg.Export.Apps, Now: now().UTC(),
	}
}
