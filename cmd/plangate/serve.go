package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

func init() {
	register(command{name: "serve", summary: "run the gateway in front of an Odoo server", run: runServe,
		help: "State (extraction history, the journal that makes plan imports exactly-once, shops, order-sourcing\n" +
			"runs) is kept in --store, by default $XDG_STATE_HOME/plangate/state.db or\n" +
			"~/.local/state/plangate/state.db; --store none keeps none. One gateway at a time may use a state file."})
}

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	cfg, fs, err := loadConfig(env, "serve", args, commonOptions, odooOptions, serverOptions)
	if err != nil {
		return helpOK(err)
	}
	if err := noArgs("serve", fs); err != nil {
		return err
	}
	if cfg.Store, err = storePath(env, cfg.Store); err != nil {
		return err
	}
	log := newLogger(env, cfg)
	return serveGateway(ctx, env, cfg, log, nil)
}

// helpOK turns the --help outcome into success.
func helpOK(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func newLogger(env *cliEnv, cfg *Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.Log.Format, "json") {
		return slog.New(slog.NewJSONHandler(env.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(env.stderr, opts))
}

func newTransport(cfg *Config) (odoo.Transport, error) {
	return odoo.NewTransport(odoo.Options{URL: cfg.Odoo.URL, Protocol: odoo.Protocol(cfg.Odoo.Protocol),
		Timeout: cfg.Odoo.Timeout, Insecure: cfg.Odoo.Insecure})
}

// gatewayServer builds the gateway from the configuration, with the state
// file cfg.Store ("": none); the caller closes the store.
func gatewayServer(ctx context.Context, cfg *Config, log *slog.Logger) (*gateway.Server, *store.Store, error) {
	t, err := newTransport(cfg)
	if err != nil {
		return nil, nil, err
	}
	now, err := parseNow(cfg.Now)
	if err != nil {
		return nil, nil, err
	}
	var st *store.Store
	if cfg.Store != "" {
		// Serving without the state store would silently give up the plan
		// journal (a repost would write again) and, for replicas, their
		// coordination: refuse to start instead.
		st, err = openStore(ctx, cfg, false)
		if errors.Is(err, store.ErrLocked) {
			return nil, nil, fmt.Errorf("state file %s is in use by another plangate (give another --store, or --store none): %w", cfg.Store, err)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("state file: %w (give another --store, or --store none to keep no state)", err)
		}
		log.Info("state store", "store", st.Path(), "backend", st.Backend())
	} else {
		log.Warn("no state file (--store none): no plan journal, a reposted plan is written to Odoo again; no shops")
	}
	srv := gateway.New(gateway.Config{
		DefaultDatabase:      cfg.Odoo.Database,
		Companies:            cfg.Companies,
		ServiceLogin:         cfg.Odoo.ServiceLogin,
		ServicePassword:      cfg.Odoo.ServicePassword,
		MaxBodyBytes:         cfg.Limits.MaxBody,
		UploadTimeout:        cfg.Limits.UploadTimeout,
		MaxConcurrentExports: cfg.Limits.MaxConcurrentExports,
		Now:                  now,
		Modes:                cfg.Export.Modes,
		Fixes:                cfg.Export.Fixes,
		Extensions:           cfg.Export.Extensions,
		CacheMargin:          cfg.Export.CacheMargin,
		OMS:                  cfg.omsEngine,
		AuthCacheTTL:         loginCacheTTL(cfg.Odoo.LoginCache),
		PageCompanies:        cfg.pageCompanies,
		AddonURL:             cmp.Or(cfg.Diff.Addon, cfg.Odoo.URL),
		ExportConcurrency:    cfg.Odoo.Concurrency,
	}, t, st, log)
	if st != nil {
		srv.SetShops(&shop.Service{Store: st, Log: log})
	}
	return srv, st, nil
}

// loginCacheTTL maps --login-cache onto the gateway's setting, whose zero
// means its default: here 0 means no reuse, as the help says.
func loginCacheTTL(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// serveGateway listens and serves until ctx ends, then shuts down
// gracefully: running requests get the shutdown timeout to finish.
// announce, when set, is called with the base URL once listening.
func serveGateway(ctx context.Context, env *cliEnv, cfg *Config, log *slog.Logger, announce func(baseURL string)) error {
	srv, st, err := gatewayServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	if st != nil {
		defer st.Close()
	}
	defer srv.Close() // before the store closes: saves queued sourcing runs
	schedCtx, stopSchedule := context.WithCancel(ctx)
	waitSchedule, err := startSchedule(schedCtx, cfg, srv, st, log)
	if err != nil {
		stopSchedule()
		return err
	}
	defer func() { stopSchedule(); waitSchedule() }() // jobs end before the store closes
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       cfg.Limits.ReadTimeout,
		WriteTimeout:      cfg.Limits.WriteTimeout,
		IdleTimeout:       cfg.Limits.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	base := "http://" + ln.Addr().String()
	log.Info("gateway listening", "url", base, "odoo", redactedURL(cfg.Odoo.URL))
	if announce != nil {
		announce(base)
	}
	if env.ready != nil {
		env.ready(ln.Addr().String())
	}
	return serveUntil(ctx, hs, ln, cfg.Limits.ShutdownTimeout, log)
}

// redactedURL is raw without the credentials it may carry
// (https://user:password@host/…), for logs.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	return u.String()
}

// serveUntil serves on ln until ctx ends, then shuts down gracefully:
// no new connections, running requests get the timeout to finish.
func serveUntil(ctx context.Context, hs *http.Server, ln net.Listener, timeout time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; letting running requests finish", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
