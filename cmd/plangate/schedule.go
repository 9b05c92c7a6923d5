package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/shop/schedule"
	"github.com/plangate/plangate/store"
)

// scheduleConfig completes the schedule block of the configuration: the
// database defaults to odoo.database and the password comes from
// PLANGATE_SCHEDULE_PASSWORD (already in c.Password) or password_file,
// never both. ok is false when no schedule is configured.
func scheduleConfig(cfg *Config) (c schedule.Config, ok bool, err error) {
	c = cfg.Schedule
	if c.IsZero() {
		return c, false, nil
	}
	if c.Database == "" {
		c.Database = cfg.Odoo.Database
	}
	if c.PasswordFile != "" {
		if c.Password != "" {
			return c, false, errors.New("config: schedule: give PLANGATE_SCHEDULE_PASSWORD or schedule.password_file, not both")
		}
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return c, false, fmt.Errorf("config: schedule.password_file: %w", err)
		}
		c.Password = strings.TrimRight(string(b), "\r\n")
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return c, false, fmt.Errorf("config: schedule: %w", err)
	}
	return c, true, nil
}

// startSchedule runs the configured shop jobs beside the gateway until
// ctx ends; wait blocks until they stopped (before the store closes).
func startSchedule(ctx context.Context, cfg *Config, srv *gateway.Server, st *store.Store, log *slog.Logger) (wait func(), err error) {
	c, ok, err := scheduleConfig(cfg)
	if err != nil || !ok {
		return func() {}, err
	}
	if st == nil {
		return nil, errors.New("config: schedule: the scheduled shop jobs need a state store (not --store none)")
	}
	s, err := schedule.New(schedule.Options{Config: c, Store: st, Odoo: srv.Odoo(), Log: log, Metrics: srv.MetricsRegistry()})
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Run(ctx); err != nil {
			log.Error("shop schedule stopped", "err", err)
		}
	}()
	return wg.Wait, nil
}
