package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/oms"
)

// Config is the whole configuration. The YAML file uses these keys; every
// scalar also has a flag and a PLANGATE_ environment variable (see options).
type Config struct {
	Listen string `yaml:"listen"` // serve/demo address
	Now    string `yaml:"now"`    // fixed clock YYYY-MM-DDTHH:MM:SS (UTC), for reproducible documents
	Store  string `yaml:"store"`  // bbolt state file; empty: no state kept
	Log    struct {
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
		// LoginCache is how long a successful login is reused (0: 1m; negative: never).
		LoginCache time.Duration `yaml:"login_cache"`
		// Concurrency is how many Odoo calls one export runs at once (0: 4).
		Concurrency int `yaml:"concurrency"`
	} `yaml:"odoo"`
	// Companies are per-company settings kept outside Odoo, keyed by name.
	Companies map[string]gateway.CompanyConfig `yaml:"companies"`
	Limits    struct {
		MaxBody              int64         `yaml:"max_body"`
		MaxConcurrentExports int           `yaml:"max_concurrent_exports"`
		ReadTimeout          time.Duration `yaml:"read_timeout"`
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
		// CacheMargin is subtracted from write_date watermarks (clock skew).
		CacheMargin time.Duration `yaml:"cache_margin"`
	} `yaml:"export"`
	Emulator struct {
		Dataset string `yaml:"dataset"` // directory of a dataset; empty: the embedded demo
		Cost    string `yaml:"cost"`    // cost model (odooemu.ParseCost): off, odoo, call=18ms,field=20us,...
	} `yaml:"emulator"`
	// OMS configures order sourcing (rules per organization, stock
	// freshness, run retention); empty: the default rules.
	OMS oms.Config `yaml:"oms"`
	// omsEngine is OMS validated at load.
	omsEngine *oms.Engine
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
	c.Limits.MaxBody = 256 << 20
	c.Limits.MaxConcurrentExports = 4
	c.Limits.ReadTimeout = time.Minute
	c.Limits.WriteTimeout = 30 * time.Minute // large exports stream for minutes (spec §2.6)
	c.Limits.IdleTimeout = 2 * time.Minute
	c.Limits.ShutdownTimeout = 30 * time.Second
	c.Export.Mode = 1
	c.Export.Delta = 999
	c.Export.CacheMargin = time.Minute
	return c
}

// option is one setting reachable as a flag, an env variable and a YAML key.
type option struct {
	flag string
	key  string // YAML path, for help
	help string
	ptr  any // *string, *int, *int64, *bool, *float64, *time.Duration
}

func (o option) env() string {
	return "PLANGATE_" + strings.ToUpper(strings.ReplaceAll(o.flag, "-", "_"))
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
		{"store", "store", "bbolt state file (extraction state, plan journal, shops, OMS runs); empty: keep no state", &c.Store},
		{"service-login", "odoo.service_login", "Odoo login that Bearer-token requests run as", &c.Odoo.ServiceLogin},
		{"service-password", "odoo.service_password", "password of the service login", &c.Odoo.ServicePassword},
		{"login-cache", "odoo.login_cache", "reuse a successful Odoo login this long (0: 1m; negative: never)", &c.Odoo.LoginCache},
		{"max-body", "limits.max_body", "largest accepted request body in bytes", &c.Limits.MaxBody},
		{"max-concurrent-exports", "limits.max_concurrent_exports", "exports served at once; more wait", &c.Limits.MaxConcurrentExports},
		{"read-timeout", "limits.read_timeout", "time limit to read a request", &c.Limits.ReadTimeout},
		{"write-timeout", "limits.write_timeout", "time limit to write a response (exports of large databases take minutes)", &c.Limits.WriteTimeout},
		{"idle-timeout", "limits.idle_timeout", "keep-alive idle time limit", &c.Limits.IdleTimeout},
		{"shutdown-timeout", "limits.shutdown_timeout", "on SIGTERM, how long running requests may finish", &c.Limits.ShutdownTimeout},
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
		{"password", "odoo.password", "Odoo password (prefer PLANGATE_ODOO_PASSWORD)", &c.Odoo.Password},
		{"o", "export.output", "write the document to this file instead of stdout", &c.Export.Output},
		{"store", "store", "bbolt state file: record the run and serve cacheable sections incrementally", &c.Store},
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
// environment variables, then flags.
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
	// The one secret with its own conventional variable.
	if v := env.getenv("PLANGATE_ODOO_PASSWORD"); v != "" {
		cfg.Odoo.Password = v
	}
	fs := flag.NewFlagSet("plangate "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var configPath string
	fs.StringVar(&configPath, "config", path, "YAML configuration file (env PLANGATE_CONFIG)")
	for _, o := range opts {
		fs.Var(&optValue{o.ptr}, o.flag, fmt.Sprintf("%s (env %s, config key %s)", o.help, o.env(), o.key))
	}
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: plangate %s [flags]\n\n%s\n\nFlags:\n", name, commands[name].summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, nil, errHelp
		}
		return nil, nil, errUsage
	}
	if cfg.Export.Modes != nil {
		if err := cfg.Export.Modes.Validate(); err != nil {
			return nil, nil, fmt.Errorf("config: %w", err)
		}
	}
	engine, err := oms.NewEngine(cfg.OMS)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	cfg.omsEngine = engine
	return &cfg, fs, nil
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
