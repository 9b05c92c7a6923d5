package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/mappers/shop/schedule"
	"github.com/plangate/plangate/store"
)

// Config is the whole configuration. The YAML file uses these keys; every
// scalar also has a flag and a PLANGATE_ environment variable (see options).
type Config struct {
	Listen string `yaml:"listen"` // serve/demo address
	Now    string `yaml:"now"`    // fixed clock YYYY-MM-DDTHH:MM:SS (UTC), for reproducible documents
	Store  string `yaml:"store"`  // bbolt state file or etcd://host:port,…/prefix ("etcd": the etcd block's endpoints); empty: the command's default (see storePath); "none": no state
	// Etcd completes an etcd store: endpoints (for store: etcd), prefix,
	// user, TLS files, time limits; the password is PLANGATE_ETCD_PASSWORD.
	Etcd store.EtcdConfig `yaml:"etcd"`
	Log  struct {
		Format string `yaml:"format"` // text or json
		Level  string `yaml:"level"`  // debug, info, warn, error
	} `yaml:"log"`
	Odoo struct {
		URL             string        `yaml:"url"`
		Protocol        string        `yaml:"protocol"` // xmlrpc or jsonrpc
		Insecure        bool          `yaml:"insecure"`
		Timeout         time.Duration `yaml:"timeout"`
		Database        string        `yaml:"database"`
		User            string        `yaml:"user"`
		Password        string        `yaml:"password"`
		ServiceLogin    string        `yaml:"service_login"`
		ServicePassword string        `yaml:"service_password"`
		// LoginCache is how long a successful login is reused (default 1m; 0 or negative: never).
		LoginCache time.Duration `yaml:"login_cache"`
		// Concurrency is how many Odoo calls one export runs at once (0: 4).
		Concurrency int `yaml:"concurrency"`
	} `yaml:"odoo"`
	// Schedule runs shop sync jobs on intervals in serve (see
	// scheduleConfig); the password is PLANGATE_SCHEDULE_PASSWORD or
	// schedule.password_file.
	Schedule schedule.Config `yaml:"schedule"`
	// Companies are per-company settings kept outside Odoo, keyed by name.
	Companies map[string]gateway.CompanyConfig `yaml:"companies"`
	Limits    struct {
		MaxBody              int64         `yaml:"max_body"`
		MaxConcurrentExports int           `yaml:"max_concurrent_exports"`
		ReadTimeout          time.Duration `yaml:"read_timeout"`
		UploadTimeout        time.Duration `yaml:"upload_timeout"`
		WriteTimeout         time.Duration `yaml:"write_timeout"`
		IdleTimeout          time.Duration `yaml:"idle_timeout"`
		ShutdownTimeout      time.Duration `yaml:"shutdown_timeout"`
	} `yaml:"limits"`
	// Export holds the request parameters of `plangate export`.
	Export struct {
		Company       string  `yaml:"company"`
		Mode          int     `yaml:"mode"`
		Timezone      string  `yaml:"timezone"`
		Language      string  `yaml:"language"`
		SingleCompany bool    `yaml:"singlecompany"`
		Delta         float64 `yaml:"delta"`
		Apps          string  `yaml:"apps"`
		Output        string  `yaml:"output"`
		Refresh       bool    `yaml:"refresh"`
		// Modes says what each mode extracts (default: the addon's).
		Modes export.Modes `yaml:"modes"`
		// Fixes switches on corrections of the addon's defects (all off: identical documents).
		Fixes export.Fixes `yaml:"fixes"`
		// Extensions add what the addon does not map (itemdistributions); none: the addon's document.
		Extensions export.Extensions `yaml:"extensions"`
		// CacheMargin is subtracted from write_date watermarks (clock skew).
		CacheMargin time.Duration `yaml:"cache_margin"`
	} `yaml:"export"`
	Emulator struct {
		Dataset string `yaml:"dataset"` // directory of a dataset; empty: the embedded demo
		Cost    string `yaml:"cost"`    // cost model (odooemu.ParseCost): off, odoo, call=18ms,field=20us,...
	} `yaml:"emulator"`
	// Diff holds the settings of plangate diff (diff.go).
	Diff diffConfig `yaml:"diff"`
	// OMS configures order sourcing (rules per organization, stock
	// freshness, run retention); empty: the default rules.
	OMS oms.Config `yaml:"oms"`
	// omsEngine is OMS validated at load.
	omsEngine *oms.Engine
	// pageCompanies are suggested by the browser page (the demo's companies).
	pageCompanies []string
}

func defaultConfig() Config {
	var c Config
	c.Listen = "127.0.0.1:8070"
	c.Log.Format = "text"
	c.Log.Level = "info"
	c.Odoo.URL = "http://localhost:8069"
	c.Odoo.Protocol = "xmlrpc"
	c.Odoo.Timeout = 10 * time.Minute
	c.Odoo.Concurrency = 4
	c.Odoo.User = "admin"
	c.Odoo.LoginCache = time.Minute
	c.Limits.MaxBody = 256 << 20
	c.Limits.MaxConcurrentExports = 4
	c.Limits.ReadTimeout = time.Minute
	c.Limits.UploadTimeout = time.Hour       // a plan of hundreds of MB over a slow link
	c.Limits.WriteTimeout = 30 * time.Minute // large exports stream for minutes (spec §2.6)
	c.Limits.IdleTimeout = 2 * time.Minute
	c.Limits.ShutdownTimeout = 30 * time.Second
	c.Export.Mode = 1
	c.Export.Delta = 999
	c.Export.CacheMargin = time.Minute
	c.Diff.Max = 50
	return c
}

// option is one setting reachable as a flag, an env variable and a YAML key.
type option struct {
	flag string
	key  string // YAML path, for help; "-": flag and env only
	help string
	ptr  any // *string, *int, *int64, *bool, *float64, *time.Duration
}

func (o option) env() string {
	return "PLANGATE_" + strings.ToUpper(strings.ReplaceAll(o.flag, "-", "_"))
}

// envOdooPassword also sets the Odoo password (and wins over PLANGATE_PASSWORD).
const envOdooPassword = "PLANGATE_ODOO_PASSWORD"

// usage is the flag's help with where else the setting can be given.
func (o option) usage() string {
	where := "env " + o.env()
	if o.key == "odoo.password" {
		where = "env " + envOdooPassword + " or " + o.env()
	}
	if o.key != "" && o.key != "-" {
		where += ", config key " + o.key
	}
	return o.help + "\n" + where
}

// Option groups; each command picks the ones it uses.
func commonOptions(c *Config) []option {
	return []option{
		{"log-format", "log.format", "log format: text or json", &c.Log.Format},
		{"log-level", "log.level", "log level: debug, info, warn or error", &c.Log.Level},
	}
}

func odooOptions(c *Config) []option {
	return []option{
		{"odoo-url", "odoo.url", "base URL of Odoo (http:// or https://)", &c.Odoo.URL},
		{"odoo-protocol", "odoo.protocol", "how to talk to Odoo: xmlrpc (compatible) or jsonrpc (faster for Odoo)", &c.Odoo.Protocol},
		{"odoo-insecure", "odoo.insecure", "skip TLS certificate checks (self-signed test servers only)", &c.Odoo.Insecure},
		{"odoo-timeout", "odoo.timeout", "time limit of one Odoo call", &c.Odoo.Timeout},
		{"database", "odoo.database", "Odoo database; empty: the only database Odoo lists", &c.Odoo.Database},
		{"odoo-concurrency", "odoo.concurrency", "Odoo calls one export runs at once (independent reads overlap)", &c.Odoo.Concurrency},
	}
}

func serverOptions(c *Config) []option {
	return []option{
		{"listen", "listen", "address to listen on (host:port; port 0 picks a free one)", &c.Listen},
		{"now", "now", "fix the clock (YYYY-MM-DDTHH:MM:SS, UTC) for reproducible documents", &c.Now},
		{"store", "store", storeHelp, &c.Store},
		{"service-login", "odoo.service_login", "Odoo login that Bearer-token requests run as", &c.Odoo.ServiceLogin},
		{"service-password", "odoo.service_password", "password of the service login", &c.Odoo.ServicePassword},
		{"login-cache", "odoo.login_cache", "reuse a successful Odoo login this long (0: never; Odoo still checks every call)", &c.Odoo.LoginCache},
		{"max-body", "limits.max_body", "largest accepted request body in bytes", &c.Limits.MaxBody},
		{"max-concurrent-exports", "limits.max_concurrent_exports", "exports served at once; more wait", &c.Limits.MaxConcurrentExports},
		{"read-timeout", "limits.read_timeout", "time limit to read a request", &c.Limits.ReadTimeout},
		{"upload-timeout", "limits.upload_timeout", "time limit to receive a posted plan (instead of read-timeout)", &c.Limits.UploadTimeout},
		{"write-timeout", "limits.write_timeout", "time limit to write a response (exports of large databases take minutes)", &c.Limits.WriteTimeout},
		{"idle-timeout", "limits.idle_timeout", "keep-alive idle time limit", &c.Limits.IdleTimeout},
		{"shutdown-timeout", "limits.shutdown_timeout", "on SIGTERM, how long running requests may finish", &c.Limits.ShutdownTimeout},
		addonOption(c), // the page's comparison with the addon (diff.go); empty: the Odoo at --odoo-url
	}
}

func exportOptions(c *Config) []option {
	return []option{
		{"company", "export.company", "company name (res.company name)", &c.Export.Company},
		{"mode", "export.mode", "0 connection test, 1 every plan run, 2 slow-changing data", &c.Export.Mode},
		{"timezone", "export.timezone", "IANA time zone of exported dates; empty: the user's", &c.Export.Timezone},
		{"language", "export.language", "language code, e.g. fr_FR", &c.Export.Language},
		{"singlecompany", "export.singlecompany", "read only the company's records", &c.Export.SingleCompany},
		{"delta", "export.delta", "only sales order lines written in the last N days (999: all)", &c.Export.Delta},
		{"apps", "export.apps", "planner apps, e.g. freppledb.shelflife", &c.Export.Apps},
		{"user", "odoo.user", "Odoo login", &c.Odoo.User},
		{"password", "odoo.password", "Odoo password (prefer the environment variable: flags show in the process list)", &c.Odoo.Password},
		{"o", "export.output", "write the document to this file instead of stdout", &c.Export.Output},
		{"store", "store", "state store (bbolt file or etcd://...): record the run and serve cacheable sections incrementally; empty or none: no state", &c.Store},
		{"refresh", "export.refresh", "ignore the cache: read everything from Odoo (a cold run) and refill it", &c.Export.Refresh},
		{"now", "now", "fix the clock (YYYY-MM-DDTHH:MM:SS, UTC) for reproducible documents", &c.Now},
	}
}

func datasetOptions(c *Config) []option {
	return []option{
		{"dataset", "emulator.dataset", "directory of an Odoo dataset (format of shared/fixtures/odoo17-demo); empty: the embedded demo", &c.Emulator.Dataset},
		{"cost", "emulator.cost", "make the emulator as slow as a real Odoo: off, odoo (18ms a call, 20us a record-field, XML-RPC x1.3, computed x2) or call=18ms,field=20us,xmlrpc=1.3,computed=2,workers=N", &c.Emulator.Cost},
	}
}

// loadConfig builds the configuration of one command: defaults, then the
// YAML file (--config or PLANGATE_CONFIG; unknown keys are errors), then
// environment variables, then flags. Flags may stand before, between or
// after the positional arguments, which fs.Args() returns. --help prints
// the command's usage to stdout and returns errHelp; a flag mistake is a
// *usageError.
func loadConfig(env *cliEnv, name string, args []string, groups ...func(*Config) []option) (*Config, *flag.FlagSet, error) {
	cfg := defaultConfig()
	path := env.getenv("PLANGATE_CONFIG")
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				path = args[i+1]
			}
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			path = a[strings.IndexByte(a, '=')+1:]
		}
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && err.Error() != "EOF" {
			return nil, nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	var opts []option
	for _, g := range groups {
		opts = append(opts, g(&cfg)...)
	}
	for _, o := range opts {
		if v := env.getenv(o.env()); v != "" {
			if err := setValue(o.ptr, v); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", o.env(), err)
			}
		}
	}
	// The secrets with their own conventional variables.
	if v := env.getenv(envOdooPassword); v != "" {
		cfg.Odoo.Password = v
	}
	if v := env.getenv("PLANGATE_ETCD_PASSWORD"); v != "" {
		cfg.Etcd.Password = v
	}
	if cfg.Schedule.Password != "" {
		return nil, nil, errors.New("config: schedule.password: the password is not read from the file; give PLANGATE_SCHEDULE_PASSWORD or schedule.password_file")
	}
	if v := env.getenv("PLANGATE_SCHEDULE_PASSWORD"); v != "" {
		cfg.Schedule.Password = v
	}
	fs := flag.NewFlagSet("plangate "+name, flag.ContinueOnError)
	// Mistakes and help are printed by run and printUsage, not by the flag package.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var configPath string
	fs.StringVar(&configPath, "config", path, "YAML configuration file (env PLANGATE_CONFIG)")
	for _, o := range opts {
		fs.Var(&optValue{o.ptr}, o.flag, o.usage())
	}
	if err := parseInterspersed(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(env.stdout, name, fs)
			return nil, nil, errHelp
		}
		return nil, nil, usageErrorf(name, fs, "%v", err)
	}
	if cfg.Export.Modes != nil {
		if err := cfg.Export.Modes.Validate(); err != nil {
			return nil, nil, fmt.Errorf("config: %w", err)
		}
	}
	if err := cfg.Export.Extensions.Validate(cfg.Export.Modes); err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	engine, err := oms.NewEngine(cfg.OMS)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	cfg.omsEngine = engine
	return &cfg, fs, nil
}

// parseInterspersed parses flags wherever they stand among positional
// arguments (`shop add NAME --platform x`; the flag package alone stops
// at NAME and would ignore the rest). "--" ends the flags. Afterwards
// fs.Args() holds the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parsing "--" alone sets no flag and leaves exactly the positional arguments.
	return fs.Parse(append([]string{"--"}, positional...))
}

// printUsage writes a command's usage: synopsis, summary and help text,
// then every flag with its placeholder, environment variable, config key
// and default.
func printUsage(w io.Writer, name string, fs *flag.FlagSet) {
	c := commands[name]
	synopsis := "plangate " + name
	if c.args != "" {
		synopsis += " " + c.args
	}
	fmt.Fprintf(w, "Usage: %s [flags]\n\n%s\n", synopsis, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.help, "\n"))
	}
	fmt.Fprintln(w, "\nFlags (--flag or -flag; --flag=value or --flag value):")
	fs.VisitAll(func(f *flag.Flag) {
		placeholder, help := flag.UnquoteUsage(f)
		if v, ok := f.Value.(*optValue); ok {
			placeholder = v.placeholder()
		}
		line := "  --" + f.Name
		if placeholder != "" {
			line += " " + placeholder
		}
		fmt.Fprintln(w, line)
		for _, l := range strings.Split(help, "\n") {
			fmt.Fprintf(w, "        %s\n", l)
		}
		if d := f.DefValue; d != "" && !isZeroDefault(f) {
			fmt.Fprintf(w, "        default: %s\n", d)
		}
	})
}

// isZeroDefault reports a default not worth printing (0, false, 0s).
func isZeroDefault(f *flag.Flag) bool {
	if _, ok := f.Value.(*optValue); !ok {
		return false
	}
	switch f.DefValue {
	case "0", "false", "0s":
		return true
	}
	return false
}

// errHelp ends a command after --help was printed.
var errHelp = fmt.Errorf("help shown")

// optValue adapts a typed pointer to flag.Value.
type optValue struct{ ptr any }

func (v *optValue) String() string {
	if v == nil || v.ptr == nil {
		return ""
	}
	switch p := v.ptr.(type) {
	case *string:
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *bool:
		return strconv.FormatBool(*p)
	case *float64:
		return strconv.FormatFloat(*p, 'g', -1, 64)
	case *time.Duration:
		return p.String()
	}
	return ""
}

func (v *optValue) Set(s string) error { return setValue(v.ptr, s) }

// placeholder names the kind of value the flag takes, for usage.
func (v *optValue) placeholder() string {
	switch v.ptr.(type) {
	case *string:
		return "string"
	case *int, *int64:
		return "int"
	case *float64:
		return "number"
	case *time.Duration:
		return "duration"
	}
	return "" // booleans take no value
}

// IsBoolFlag lets boolean flags be given without a value.
func (v *optValue) IsBoolFlag() bool { _, ok := v.ptr.(*bool); return ok }

func setValue(ptr any, s string) error {
	switch p := ptr.(type) {
	case *string:
		*p = s
	case *int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		*p = n
	case *int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		*p = b
	case *float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		*p = f
	case *time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 30s, 10m)", s)
		}
		*p = d
	default:
		return fmt.Errorf("unsupported setting type %T", ptr)
	}
	return nil
}

// parseNow reads the --now setting; empty means the real clock.
func parseNow(s string) (func() time.Time, error) {
	if s == "" {
		return time.Now, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("--now %q: want YYYY-MM-DDTHH:MM:SS (UTC)", s)
	}
	return func() time.Time { return t }, nil
}
