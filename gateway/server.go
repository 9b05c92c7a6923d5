// Package gateway is plangate's HTTP face: the frePPLe endpoint
// /frepple/xml (GET exports, POST imports), the state, order-sourcing and
// shop endpoints, health and metrics. Handlers parse and authenticate
// requests, call the mappers and write responses; they hold no mapping logic.
package gateway

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/store"
)

// Config is what the gateway needs besides its collaborators.
type Config struct {
	// DefaultDatabase is used when a request names none. Empty: ask Odoo's
	// db.list and use the only database, as the addon does.
	DefaultDatabase string
	// Companies holds per-company settings that the addon keeps in Odoo
	// (webtoken key, disclose stack trace), keyed by company name. Values
	// read from Odoo win when the addon's fields exist there.
	Companies map[string]CompanyConfig
	// ServiceLogin and ServicePassword are the Odoo account that Bearer-token
	// requests run as (a JWT carries no Odoo password).
	ServiceLogin, ServicePassword string
	// MaxBodyBytes bounds POSTed plans and JSON bodies (0: 256 MiB).
	MaxBodyBytes int64
	// UploadTimeout bounds the time to receive a posted plan, in place of
	// the server's read timeout (0: one hour).
	UploadTimeout time.Duration
	// Locker serialises plan imports per database and company; nil means
	// the store's (etcd: shared by the replicas), or one process's
	// (store.LocalLocker) without a store.
	Locker store.Locker
	// MaxConcurrentExports bounds simultaneous GET exports (0: 4); more wait.
	MaxConcurrentExports int
	// Now fixes the clock for reproducible documents; nil means time.Now.
	Now func() time.Time
	// Modes says what each export mode writes; nil means the addon's.
	Modes export.Modes
	// Fixes switches on corrections of addon defects that change documents.
	Fixes export.Fixes
	// Extensions add what the addon does not map, to documents and plan
	// imports (export.ItemDistributions); nil: the addon's behaviour.
	Extensions export.Extensions
	// CacheMargin is subtracted from write_date watermarks of incremental
	// extraction, for clock skew between Odoo's workers (0: none).
	CacheMargin time.Duration
	// OMS is the validated order-sourcing configuration; nil means the
	// default rules (see oms.DefaultRules).
	OMS *oms.Engine
	// PageCompanies are company names the browser page at / suggests
	// besides those of Companies (the demo passes its dataset's).
	PageCompanies []string
	// AddonURL is the base URL of an Odoo with the frePPLe addon, whose
	// /frepple/xml the migration check (GET /frepple/diff) compares with
	// plangate's export; empty: no comparison.
	AddonURL string
	// AuthCacheTTL is how long a successful Basic login is reused before
	// Odoo is asked again (0: one minute; negative: ask every time).
	AuthCacheTTL time.Duration
	// ExportConcurrency is how many Odoo calls one export runs at once (0: 4).
	ExportConcurrency int
}

// CompanyConfig are settings of one company.
type CompanyConfig struct {
	WebtokenKey        string `yaml:"webtoken_key"`
	DiscloseStackTrace bool   `yaml:"disclose_stack_trace"`
	// Calendar, manufacturing warehouse and respect reservations, for an
	// Odoo without the addon's fields.
	export.CompanyDefaults `yaml:",inline"`
}

// Server is the gateway's http.Handler.
type Server struct {
	cfg       Config
	odoo      odoo.Transport
	store     *store.Store // nil: run without state (uncached)
	log       *slog.Logger
	router    *httprouter.Router
	exportSem chan struct{}
	flights   flights
	oms       *oms.Service
	omsRuns   *runKeeper
	logins    *loginCache
	throttle  *loginThrottle

	companySettings settingsCache
	metrics         *metrics     // Prometheus series of this server (GET /metrics)
	handler         http.Handler // the router inside the request-id, log and metrics middleware
}

// New builds a server. st may be nil (no state kept); log nil means slog.Default().
func New(cfg Config, t odoo.Transport, st *store.Store, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	// Lines logged with a request's context carry its id (see middleware.go).
	log = withRequestIDs(log)
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 256 << 20
	}
	if cfg.MaxConcurrentExports <= 0 {
		cfg.MaxConcurrentExports = 4
	}
	if cfg.UploadTimeout <= 0 {
		cfg.UploadTimeout = time.Hour
	}
	if cfg.Locker == nil && st != nil {
		cfg.Locker = st.Locker() // etcd: shared by the replicas
	}
	if cfg.Locker == nil {
		cfg.Locker = &store.LocalLocker{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OMS == nil {
		cfg.OMS, _ = oms.NewEngine(oms.Config{}) // the defaults always validate
	}
	m := newMetrics()
	// Every Odoo call the gateway makes goes through t: count them there.
	s := &Server{cfg: cfg, odoo: m.instrument(t), store: st, log: log, metrics: m,
		exportSem: make(chan struct{}, cfg.MaxConcurrentExports)}
	if cfg.AuthCacheTTL == 0 {
		cfg.AuthCacheTTL = time.Minute
	}
	s.logins = newLoginCache(cfg.AuthCacheTTL, cfg.Now)
	s.throttle = newLoginThrottle()
	s.oms = oms.NewService(cfg.OMS, cfg.Now)
	s.omsRuns = newRunKeeper(st, cfg.OMS.Config(), cfg.Now, log)
	m.watchQueue(s.omsRuns.queued)
	s.router = s.routes()
	s.handler = s.middleware(s.router)
	return s
}

// Close saves the order-sourcing runs still queued; call it after the
// HTTP server has shut down and before closing the store.
func (s *Server) Close() error {
	s.omsRuns.close()
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// MetricsRegistry is the server's own Prometheus registry (served at
// /metrics), for embedding programs that add their own collectors.
func (s *Server) MetricsRegistry() *prometheus.Registry { return s.metrics.reg }

// Odoo is the server's transport to Odoo, counted in its metrics
// (plangate_odoo_calls_total and kin): jobs running beside the server use
// it so that their calls show up with the gateway's own.
func (s *Server) Odoo() odoo.Transport { return s.odoo }

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }
