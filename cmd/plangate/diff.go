package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/xmlschema/docdiff"
)

func init() {
	register(command{name: "diff", summary: "compare two frePPLe documents (files or URLs), or plangate's export with the addon's (--addon); exit 1 when they differ", run: runDiff})
}

// diffConfig holds the settings of `plangate diff` (config key diff).
type diffConfig struct {
	JSON        bool          `yaml:"json"`
	IgnoreOrder bool          `yaml:"ignore_order"`
	IgnoreClock bool          `yaml:"ignore_clock"`
	ClockWindow time.Duration `yaml:"clock_window"`
	Sections    string        `yaml:"sections"`
	Max         int           `yaml:"max"`
	// Addon is the base URL of an Odoo with the frePPLe addon: diff
	// --addon compares with its /frepple/xml, and serve's page does too
	// (empty there: the gateway's own Odoo).
	Addon string `yaml:"addon"`
}

// exitStatus ends the process with this status and nothing more printed:
// the command has said what there was to say.
type exitStatus int

func (e exitStatus) Error() string { return "exit status " + strconv.Itoa(int(e)) }

func diffOptions(c *Config) []option {
	return []option{
		{"json", "diff.json", "write the report as JSON (for tools) instead of text", &c.Diff.JSON},
		{"ignore-order", "diff.ignore_order", "do not report children or sections written in another order", &c.Diff.IgnoreOrder},
		{"ignore-clock", "diff.ignore_clock", "ignore <current> and datetimes within --clock-window of each other (default with --addon)", &c.Diff.IgnoreClock},
		{"clock-window", "diff.clock_window", "with --ignore-clock: how far apart datetimes may be (0: the distance between the documents' <current> plus 2s)", &c.Diff.ClockWindow},
		{"sections", "diff.sections", "compare only these sections, comma-separated (header, users, calendars, locations, …, onhand)", &c.Diff.Sections},
		{"max", "diff.max", "text report: at most this many differences per section (0: all; --json has all)", &c.Diff.Max},
		addonOption(c),
	}
}

// addonOption is shared with serve, whose page runs the same comparison.
func addonOption(c *Config) option {
	return option{"addon", "diff.addon", "base URL of an Odoo with the frePPLe addon, to compare plangate's export with the addon's /frepple/xml", &c.Diff.Addon}
}

// diffExportOptions are the request parameters and login of --addon.
func diffExportOptions(c *Config) []option {
	var out []option
	for _, o := range exportOptions(c) {
		switch o.flag {
		case "company", "mode", "timezone", "language", "singlecompany", "delta", "apps", "user", "password", "now":
			out = append(out, o)
		}
	}
	return out
}

func runDiff(ctx context.Context, env *cliEnv, args []string) error {
	cfg, fs, err := loadConfig(env, "diff", args, commonOptions, odooOptions, diffExportOptions, diffOptions)
	if err != nil {
		return helpOK(err)
	}
	inputs, err := positional(fs)
	if err != nil {
		return err
	}
	set := setFlags(fs, env)
	opts := docdiff.Options{IgnoreOrder: cfg.Diff.IgnoreOrder, IgnoreClock: cfg.Diff.IgnoreClock, ClockWindow: cfg.Diff.ClockWindow}
	for _, s := range strings.Split(cfg.Diff.Sections, ",") {
		if s = strings.TrimSpace(s); s != "" {
			opts.Sections = append(opts.Sections, s)
		}
	}
	var r *docdiff.Report
	switch {
	case len(inputs) == 2:
		r, err = diffInputs(ctx, cfg, inputs[0], inputs[1], opts)
	case len(inputs) == 0 && cfg.Diff.Addon != "":
		if !set["ignore-clock"] {
			opts.IgnoreClock = true // two exports are never made at the same second
		}
		if !set["odoo-url"] {
			cfg.Odoo.URL = cfg.Diff.Addon // the addon's Odoo is the one plangate reads
		}
		r, err = diffAddon(ctx, env, cfg, opts)
	default:
		fmt.Fprintln(env.stderr, "Usage: plangate diff [flags] A.xml B.xml (files or URLs), or plangate diff --addon URL [flags]")
		return errUsage
	}
	if err != nil {
		fmt.Fprintln(env.stderr, "plangate diff:", err)
		return exitStatus(2)
	}
	if cfg.Diff.JSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(env.stdout, cfg.Diff.Max)
	}
	if err != nil {
		fmt.Fprintln(env.stderr, "plangate diff: write the report:", err)
		return exitStatus(2)
	}
	if !r.Equal {
		return exitStatus(1)
	}
	return nil
}

// positional collects the arguments that are not flags, so flags may
// also follow the documents (plangate diff a.xml b.xml --json).
func positional(fs *flag.FlagSet) ([]string, error) {
	var out []string
	for rest := fs.Args(); len(rest) > 0; rest = fs.Args() {
		out = append(out, rest[0])
		if err := fs.Parse(rest[1:]); err != nil {
			return nil, errUsage
		}
	}
	return out, nil
}

// setFlags tells which settings were given as a flag or in the environment.
func setFlags(fs *flag.FlagSet, env *cliEnv) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if env.getenv(option{flag: f.Name}.env()) != "" {
			set[f.Name] = true
		}
	})
	return set
}

// diffInputs compares two documents, each a file, "-" for standard
// input, or an http(s) URL.
func diffInputs(ctx context.Context, cfg *Config, a, b string, opts docdiff.Options) (*docdiff.Report, error) {
	if a == "-" && b == "-" {
		return nil, errors.New("only one document can come from standard input")
	}
	var docs [2]*docdiff.Document
	var labels [2]string
	for i, src := range []string{a, b} {
		d, label, err := readInput(ctx, cfg, src)
		if err != nil {
			return nil, err
		}
		docs[i], labels[i] = d, label
	}
	r, err := docdiff.Compare(docs[0], docs[1], opts)
	if err != nil {
		return nil, err
	}
	r.A, r.B = labels[0], labels[1]
	return r, nil
}

// readInput reads one document. A URL logs in with its own user:password
// if it has one, else with --user and --password when a password is set.
func readInput(ctx context.Context, cfg *Config, src string) (*docdiff.Document, string, error) {
	var body io.ReadCloser
	label := src
	switch {
	case src == "-":
		body, label = io.NopCloser(os.Stdin), "standard input"
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		u, err := url.Parse(src)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", src, err)
		}
		login, password := "", ""
		if u.User != nil {
			login = u.User.Username()
			password, _ = u.User.Password()
			u.User = nil
		} else if cfg.Odoo.Password != "" {
			login, password = cfg.Odoo.User, cfg.Odoo.Password
		}
		label = u.String()
		body, err = export.GetDocument(ctx, &http.Client{Timeout: cfg.Odoo.Timeout}, label, login, password)
		if err != nil {
			return nil, "", err
		}
	default:
		f, err := os.Open(src)
		if err != nil {
			return nil, "", err
		}
		body = f
	}
	defer body.Close()
	d, err := docdiff.Read(body)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", label, err)
	}
	return d, label, nil
}

// diffAddon is the migration check: the addon's document from the Odoo
// at --addon against plangate's export from the same Odoo, with the same
// database, company, mode and language, both made at the same time.
func diffAddon(ctx context.Context, env *cliEnv, cfg *Config, opts docdiff.Options) (*docdiff.Report, error) {
	log := newLogger(env, cfg)
	t, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	now, err := parseNow(cfg.Now)
	if err != nil {
		return nil, err
	}
	sess, db, err := exportSession(ctx, t, cfg)
	if err != nil {
		return nil, err
	}
	p := exportParams(cfg, now)
	x := newExporter(cfg, sess, log)
	addon := &export.Addon{URL: cfg.Diff.Addon, Login: cfg.Odoo.User, Password: cfg.Odoo.Password,
		Client: &http.Client{Timeout: cfg.Odoo.Timeout}}
	r, err := export.CompareWithAddon(ctx, addon, db, p, func(ctx context.Context, w io.Writer) error {
		_, err := x.Export(ctx, w, p)
		return err
	}, opts)
	if err != nil {
		return nil, err
	}
	r.A, _ = addon.RequestURL(db, p)
	r.A = "the addon: " + r.A
	r.B = "plangate's export from " + cfg.Odoo.URL
	return r, nil
}
