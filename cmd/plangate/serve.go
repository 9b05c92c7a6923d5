package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

func init() {
	register(command{name: "serve", summary: "run the gateway in front of an Odoo server", run: runServe})
}

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	cfg, _, err := loadConfig(env, "serve", args, commonOptions, odooOptions, serverOptions)
	if err != nil {
		return helpOK(err)
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

// gatewayServer builds the gateway from the configuration; the caller closes the store.
func gatewayServer(cfg *Config, log *slog.Logger) (*gateway.Server, *store.Store, error) {
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
		st, err = store.Open(cfg.Store, store.Options{})
		if err != nil {
			// A broken state file must not stop the gateway: serve uncached.
			log.Error("state file unusable; serving without state", "path", cfg.Store, "err", err)
			st = nil
		}
	}
	srv := gateway.New(gateway.Config{
		DefaultDatabase:      cfg.Odoo.Database,
		Companies:            cfg.Companies,
		ServiceLogin:         cfg.Odoo.ServiceLogin,
		ServicePassword:      cfg.Odoo.ServicePassword,
		MaxBodyBytes:         cfg.Limits.MaxBody,
		MaxConcurrentExports: cfg.Limits.MaxConcurrentExports,
		Now:                  now,
		Modes:                cfg.Export.Modes,
		Fixes:                cfg.Export.Fixes,
		CacheMargin:          cfg.Export.CacheMargin,
		OMS:                  cfg.omsEngine,
		AuthCacheTTL:         cfg.Odoo.LoginCache,
		ExportConcurrency:    cfg.Odoo.Concurrency,
	}, t, st, log)
	if st != nil {
		srv.SetShops(&shop.Service{Store: st, Log: log})
	}
	return srv, st, nil
}

// serveGateway listens and serves until ctx ends, then shuts down
// gracefully: running requests get the shutdown timeout to finish.
// announce, when set, is called with the base URL once listening.
func serveGateway(ctx context.Context, env *cliEnv, cfg *Config, log *slog.Logger, announce func(baseURL string)) error {
	srv, st, err := gatewayServer(cfg, log)
	if err != nil {
		return err
	}
	if st != nil {
		defer st.Close()
	}
	defer srv.Close() // before the store closes: saves queued sourcing runs
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
	log.Info("gateway listening", "url", base, "odoo", cfg.Odoo.URL)
	if announce != nil {
		announce(base)
	}
	if env.ready != nil {
		env.ready(ln.Addr().String())
	}
	return serveUntil(ctx, hs, ln, cfg.Limits.ShutdownTimeout, log)
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
