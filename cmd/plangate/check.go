package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

func init() {
	register(command{name: "check", summary: "check the configuration and the Odoo connection (version, databases, logins, addon fields); exit 1 on failure", run: runCheck})
}

// checkStepTimeout bounds each Odoo call of `plangate check`.
const checkStepTimeout = 30 * time.Second

// addonCompanyFields are the res.company fields of the frePPLe addon
// (and of the Odoo apps it builds on) that exports read when they exist.
var addonCompanyFields = []string{"manufacturing_warehouse", "calendar", "respect_reservations", "disclose_stack_trace",
	"webtoken_key", "security_lead", "po_lead", "manufacturing_lead"}

// checkReport collects the outcome of each check and prints it as it goes.
type checkReport struct {
	w                     io.Writer
	failed, warned, total int
}

func (r *checkReport) line(status, what, detail string, args ...any) {
	r.total++
	switch status {
	case "FAIL":
		r.failed++
	case "warn":
		r.warned++
	}
	fmt.Fprintf(r.w, "%-4s  %-12s %s\n", status, what, fmt.Sprintf(detail, args...))
}

func (r *checkReport) ok(what, detail string, args ...any)   { r.line("ok", what, detail, args...) }
func (r *checkReport) warn(what, detail string, args ...any) { r.line("warn", what, detail, args...) }
func (r *checkReport) fail(what, detail string, args ...any) { r.line("FAIL", what, detail, args...) }
func (r *checkReport) skip(what, detail string, args ...any) { r.line("skip", what, detail, args...) }

func checkOptions(c *Config) []option {
	return []option{
		{"user", "odoo.user", "Odoo login of plangate export (checked when a password is set)", &c.Odoo.User},
		{"password", "odoo.password", "its password (prefer the environment variable: flags show in the process list)", &c.Odoo.Password},
	}
}

func runCheck(ctx context.Context, env *cliEnv, args []string) error {
	cfg, fs, err := loadConfig(env, "check", args, commonOptions, odooOptions, serverOptions, checkOptions)
	if err != nil {
		if errors.Is(err, errHelp) || errors.Is(err, errUsage) {
			return helpOK(err)
		}
		// A configuration that does not load is the first thing to report.
		fmt.Fprintf(env.stdout, "%-4s  %-12s %v\n", "FAIL", "config", err)
		return fmt.Errorf("check failed: the configuration does not load")
	}
	if err := noArgs("check", fs); err != nil {
		return err
	}
	r := &checkReport{w: env.stdout}
	source := "no file: defaults, environment and flags"
	if p := fs.Lookup("config").Value.String(); p != "" {
		source = p
	}
	checkConfig(r, cfg, source, env.getenv)
	checkEtcd(ctx, r, cfg)
	checkOdoo(ctx, r, cfg)
	if r.failed > 0 {
		fmt.Fprintf(env.stdout, "%d of %d checks failed, %d warning%s\n", r.failed, r.total, r.warned, plural(r.warned, "", "s"))
		return fmt.Errorf("check failed: %d problem(s)", r.failed)
	}
	fmt.Fprintf(env.stdout, "all %d checks passed, %d warning%s\n", r.total, r.warned, plural(r.warned, "", "s"))
	return nil
}

// checkEtcd reaches an etcd store (read-only: nothing is stamped) and
// checks the prefix holds plangate's state or nothing.
func checkEtcd(ctx context.Context, r *checkReport, cfg *Config) {
	if !store.IsEtcd(cfg.Store) {
		return
	}
	st, err := openStore(ctx, cfg, true)
	switch {
	case err == nil:
		st.Close()
		r.ok("etcd", "%s answers and holds plangate's state", storeLocation(cfg))
	case errors.Is(err, store.ErrForeign):
		r.warn("etcd", "%s answers, but holds no plangate state yet: serve stamps an empty prefix and refuses one with other data", storeLocation(cfg))
	default:
		r.fail("etcd", "%s: %v", storeLocation(cfg), err)
	}
}

func storeLocation(cfg *Config) string {
	if cfg.Store == "etcd" {
		return cfg.Etcd.Location()
	}
	return cfg.Store
}

// checkConfig validates what loadConfig cannot: values that parse but make
// no sense together.
func checkConfig(r *checkReport, cfg *Config, source string, getenv func(string) string) {
	var problems, notes []string
	if _, err := parseNow(cfg.Now); err != nil {
		problems = append(problems, err.Error())
	}
	if f := strings.ToLower(cfg.Log.Format); f != "text" && f != "json" {
		problems = append(problems, fmt.Sprintf("log.format %q: want text or json", cfg.Log.Format))
	}
	if cfg.Log.Level != "" {
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
			problems = append(problems, fmt.Sprintf("log.level %q: want debug, info, warn or error", cfg.Log.Level))
		}
	}
	if p := cfg.Odoo.Protocol; p != "" && p != string(odoo.ProtocolXMLRPC) && p != string(odoo.ProtocolJSONRPC) {
		problems = append(problems, fmt.Sprintf("odoo.protocol %q: want xmlrpc or jsonrpc", p))
	}
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		problems = append(problems, fmt.Sprintf("listen %q: %v", cfg.Listen, err))
	}
	if (cfg.Odoo.ServiceLogin == "") != (cfg.Odoo.ServicePassword == "") {
		problems = append(problems, "odoo.service_login and odoo.service_password go together")
	}
	if cfg.Odoo.Timeout <= 0 {
		problems = append(problems, "odoo.timeout must be positive")
	}
	if cfg.Limits.MaxBody < 0 || cfg.Limits.MaxConcurrentExports < 0 {
		problems = append(problems, "limits must not be negative")
	}
	var bearer []string
	for name, cc := range cfg.Companies {
		if cc.WebtokenKey != "" {
			bearer = append(bearer, name)
		}
	}
	sort.Strings(bearer)
	if len(bearer) > 0 && cfg.Odoo.ServiceLogin == "" {
		problems = append(problems, fmt.Sprintf("companies %q have webtoken keys but no odoo.service_login is set: Bearer tokens would all fail", bearer))
	}
	if len(bearer) > 0 {
		notes = append(notes, fmt.Sprintf("Bearer tokens for %d compan%s", len(bearer), plural(len(bearer), "y", "ies")))
	}
	switch cfg.Store {
	case storeNone:
		notes = append(notes, "no state file (store: none): no plan journal, a reposted plan is written again; no shops")
	case "":
		if p, err := defaultStorePath(getenv); err != nil {
			problems = append(problems, fmt.Sprintf("store: no default state file (%v): set store, or store: none", err))
		} else {
			notes = append(notes, "state file "+p+" (the default)")
		}
	default:
		if !store.IsEtcd(cfg.Store) {
			notes = append(notes, "state file "+cfg.Store)
		}
	}
	if len(problems) > 0 {
		r.fail("config", "%s: %s", source, strings.Join(problems, "; "))
		return
	}
	detail := source
	if len(notes) > 0 {
		detail += " (" + strings.Join(notes, "; ") + ")"
	}
	r.ok("config", "%s", detail)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkOdoo talks to Odoo as the gateway would: version, database list,
// the configured logins, the addon's company fields, the configured companies.
func checkOdoo(ctx context.Context, r *checkReport, cfg *Config) {
	t, err := newTransport(cfg)
	if err != nil {
		r.fail("odoo", "%v", err)
		return
	}
	step := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, min(checkStepTimeout, cfg.Odoo.Timeout))
	}

	sctx, cancel := step()
	v, err := odoo.ServerVersion(sctx, t)
	cancel()
	if err != nil {
		r.fail("odoo", "%s (%s) does not answer common.version: %v", cfg.Odoo.URL, protocolName(cfg), err)
		r.skip("databases", "Odoo unreachable")
		return
	}
	if !strings.HasPrefix(v.ServerSerie, "17.") && !strings.HasPrefix(v.ServerVersion, "17.") {
		r.warn("odoo", "%s (%s): Odoo %s, plangate is made for Odoo 17", cfg.Odoo.URL, protocolName(cfg), v.ServerVersion)
	} else {
		r.ok("odoo", "%s (%s): Odoo %s, protocol %d", cfg.Odoo.URL, protocolName(cfg), v.ServerVersion, v.ProtocolVersion)
	}

	db := cfg.Odoo.Database
	sctx, cancel = step()
	dbs, err := odoo.ListDatabases(sctx, t)
	cancel()
	switch {
	case err != nil && db != "":
		r.warn("databases", "Odoo does not list its databases (%v); using the configured %q", firstLine(err), db)
	case err != nil:
		r.fail("databases", "Odoo does not list its databases (%v) and odoo.database is not set: requests without ?database= will fail", firstLine(err))
	case db != "" && !slices.Contains(dbs, db):
		r.fail("databases", "odoo.database %q is not among Odoo's databases %q", db, dbs)
		db = ""
	case db != "":
		r.ok("databases", "%q configured, %d listed", db, len(dbs))
	case len(dbs) == 1:
		db = dbs[0]
		r.ok("databases", "%q, the only one Odoo lists (used when a request names none)", db)
	default:
		r.warn("databases", "Odoo lists %d databases %q and odoo.database is not set: every request must name one", len(dbs), dbs)
	}
	if db == "" {
		r.skip("login", "no database to log in to")
		return
	}

	type account struct{ what, login, password string }
	var accounts []account
	if cfg.Odoo.ServiceLogin != "" {
		accounts = append(accounts, account{"service account", cfg.Odoo.ServiceLogin, cfg.Odoo.ServicePassword})
	}
	if cfg.Odoo.Password != "" {
		accounts = append(accounts, account{"export user", cfg.Odoo.User, cfg.Odoo.Password})
	}
	if len(accounts) == 0 {
		r.skip("login", "no odoo.service_login nor odoo.password configured: logins and company fields not checked")
		return
	}
	var sess *odoo.Session
	for _, a := range accounts {
		sctx, cancel = step()
		s, err := odoo.Login(sctx, t, db, a.login, a.password)
		cancel()
		switch {
		case odoo.IsKind(err, odoo.KindAuth):
			r.fail("login", "%s %q: Odoo refuses the login on %q", a.what, a.login, db)
		case err != nil:
			r.fail("login", "%s %q: %v", a.what, a.login, firstLine(err))
		default:
			r.ok("login", "%s %q is uid %d on %q", a.what, a.login, s.UID, db)
			if sess == nil {
				sess = s
			}
		}
	}
	if sess == nil {
		return
	}

	sctx, cancel = step()
	fields, err := sess.FieldsGet(sctx, "res.company")
	cancel()
	if err != nil {
		r.fail("res.company", "fields_get: %v", firstLine(err))
		return
	}
	var have, missing []string
	for _, f := range addonCompanyFields {
		if _, ok := fields[f]; ok {
			have = append(have, f)
		} else {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		r.warn("res.company", "fields present: %s; missing (their defaults apply): %s", strings.Join(have, ", "), strings.Join(missing, ", "))
	} else {
		r.ok("res.company", "all the addon's fields are present: %s", strings.Join(have, ", "))
	}

	names := make([]string, 0, len(cfg.Companies))
	for n := range cfg.Companies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sctx, cancel = step()
		ids, err := sess.Search(sctx, "res.company", odoo.Domain{odoo.Term("name", "=", n)}, odoo.Query{Limit: 1})
		cancel()
		switch {
		case err != nil:
			r.fail("company", "%q: %v", n, firstLine(err))
		case len(ids) == 0:
			r.fail("company", "%q is configured but Odoo has no such res.company", n)
		default:
			r.ok("company", "%q is res.company %d", n, ids[0])
		}
	}
}

func protocolName(cfg *Config) string {
	if cfg.Odoo.Protocol == "" {
		return string(odoo.ProtocolXMLRPC)
	}
	return cfg.Odoo.Protocol
}

// firstLine keeps an error to one line (Odoo faults carry tracebacks).
func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s
}
