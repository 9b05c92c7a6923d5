// Package schedule runs the shop sync on intervals: order import, stock
// push and the missing-order check of the configured shops, on the one
// replica that leads the store's election, with every run in the log and
// in Prometheus metrics.
package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

// Options build a Scheduler.
type Options struct {
	Config Config // checked by New (after WithDefaults)
	Store  *store.Store
	Odoo   odoo.Transport
	// Service is the shop service the jobs copy (platform factory, stale
	// reservations…); its Store and Odoo are replaced. Nil: a plain one.
	Service *shop.Service
	Log     *slog.Logger
	// ID is this replica's name in the election (default host-pid-random).
	ID string
	// Metrics receives the scheduler's series (nil: none registered).
	Metrics prometheus.Registerer
	// Now is the clock of the windows (nil: time.Now).
	Now func() time.Time
	// Ticker makes the ticks of a job after its first run (nil: a
	// time.Ticker of its interval); tests drive their own.
	Ticker func(job Job, every time.Duration) (ticks <-chan time.Time, stop func())
	// OnRun, when set, is told of every run of a job for a shop.
	OnRun func(Report)
	// Retry is the wait after a failed campaign (0: 1s).
	Retry time.Duration
}

// Report is one run of a job for one shop.
type Report struct {
	Job      Job
	Shop     string // "" when the run failed before it reached the shops
	Replica  string
	Start    time.Time
	Duration time.Duration
	From, To time.Time // the window (orders, missing_orders)
	Err      error     // the failure; with Canceled, the stop that ended the run
	Canceled bool      // stopped (shutdown, leadership lost): neither done nor failed
	Orders   *shop.OrderResult
	Stock    *shop.StockResult
	Checked  int      // missing_orders: trades in the window
	Missing  []string // missing_orders: of those, not in Odoo
}

// failedTrades is how many of the missing trades an import neither
// imported nor found imported: they failed.
func (r Report) failedTrades() int {
	if r.Orders == nil {
		return 0
	}
	return max(0, len(r.Orders.Missing)-r.Orders.Imported-r.Orders.Skipped)
}

// Scheduler runs the configured jobs while it leads.
type Scheduler struct {
	cfg     Config
	st      *store.Store
	odoo    odoo.Transport
	svc     shop.Service
	log     *slog.Logger
	id      string
	m       *metrics
	now     func() time.Time
	ticker  func(Job, time.Duration) (<-chan time.Time, func())
	onRun   func(Report)
	retry   time.Duration
	running map[Job]*sync.Mutex

	warnMu sync.Mutex
	warned map[string]bool // shops without a database, warned of once
}

// New checks the configuration and builds a scheduler.
func New(o Options) (*Scheduler, error) {
	cfg := o.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Store == nil || o.Odoo == nil {
		return nil, errors.New("schedule: needs a state store and an Odoo transport")
	}
	m, err := newMetrics(o.Metrics)
	if err != nil {
		return nil, fmt.Errorf("schedule: metrics: %w", err)
	}
	s := &Scheduler{cfg: cfg, st: o.Store, odoo: o.Odoo, log: o.Log, id: o.ID, m: m, now: o.Now, ticker: o.Ticker,
		onRun: o.OnRun, retry: o.Retry, running: map[Job]*sync.Mutex{}, warned: map[string]bool{}}
	if o.Service != nil {
		s.svc = *o.Service
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "schedule")
	s.svc.Log = s.log
	if s.id == "" {
		s.id = defaultID()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ticker == nil {
		s.ticker = func(_ Job, d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	if s.retry <= 0 {
		s.retry = time.Second
	}
	for _, j := range Jobs {
		s.running[j] = &sync.Mutex{}
	}
	return s, nil
}

func defaultID() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// ID is this replica's name in the election.
func (s *Scheduler) ID() string { return s.id }

// Election is the name the scheduler campaigns for: one leader per database.
func (s *Scheduler) Election() string { return "shop-schedule/" + s.cfg.Database }

// Run campaigns for the schedule and, while leading, runs the jobs:
// each at once, then at every tick of its interval. When leadership is
// lost the running calls are canceled and it campaigns again. It
// returns when ctx ends, after every job has stopped and it resigned.
func (s *Scheduler) Run(ctx context.Context) error {
	el := s.st.Elector()
	s.log.Info("shop schedule campaigning", "replica", s.id, "election", s.Election(), "config", s.cfg)
	for {
		lead, resign, err := el.Campaign(ctx, s.Election(), s.id)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("shop schedule: campaign failed, trying again", "replica", s.id, "retry", s.retry, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(s.retry):
			}
			continue
		}
		s.m.leader.Set(1)
		s.log.Info("shop schedule: leading; jobs start", "replica", s.id)
		s.lead(lead)
		resign()
		s.m.leader.Set(0)
		if ctx.Err() != nil {
			s.log.Info("shop schedule stopped", "replica", s.id)
			return nil
		}
		s.log.Warn("shop schedule: leadership lost; jobs stopped, campaigning again", "replica", s.id, "cause", context.Cause(lead))
	}
}

// lead runs every scheduled job until ctx ends, and waits for them.
func (s *Scheduler) lead(ctx context.Context) {
	var wg sync.WaitGroup
	for _, job := range Jobs {
		every := s.cfg.Every(job)
		if every <= 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ticks, stop := s.ticker(job, every)
			defer stop()
			for {
				s.RunJob(ctx, job)
				// A tick missed while the run lasted is dropped (time.Ticker
				// keeps one): a run is never started twice at once.
				select {
				case <-ctx.Done():
					return
				case <-ticks:
				}
			}
		}()
	}
	wg.Wait()
}

// RunJob runs job once for every scheduled shop, one shop after the
// other, and returns the reports. Runs of one job never overlap: a second
// call waits for the first.
func (s *Scheduler) RunJob(ctx context.Context, job Job) []Report {
	mu := s.running[job]
	if mu == nil {
		return []Report{s.report(Report{Job: job, Start: s.now(), Err: fmt.Errorf("schedule: unknown job %q", job)})}
	}
	mu.Lock()
	defer mu.Unlock()
	start := s.now()
	shops, err := s.shops()
	if err != nil {
		return []Report{s.report(Report{Job: job, Start: start, Err: err})}
	}
	if len(shops) == 0 {
		s.log.Debug("scheduled run: no shops", "job", job, "database", s.cfg.Database)
		return nil
	}
	sess, err := odoo.Login(ctx, s.odoo, s.cfg.Database, s.cfg.Login, s.cfg.Password)
	if err != nil {
		err = fmt.Errorf("log in to Odoo database %s as %s: %w", s.cfg.Database, s.cfg.Login, err)
		var out []Report
		for _, name := range shops {
			out = append(out, s.report(Report{Job: job, Shop: name, Start: start, Err: err, Canceled: ctx.Err() != nil}))
		}
		return out
	}
	svc := s.svc
	svc.Store, svc.Odoo = s.st, sess
	var out []Report
	for _, name := range shops {
		if ctx.Err() != nil {
			break // stopped: the remaining shops wait for the next leader's run
		}
		out = append(out, s.report(s.runShop(ctx, &svc, job, name)))
	}
	return out
}

// shops are the names of the shops to run: the configured ones, or every
// shop of the database.
func (s *Scheduler) shops() ([]string, error) {
	if len(s.cfg.Shops) > 0 {
		return s.cfg.Shops, nil
	}
	all, err := s.st.Shops()
	if err != nil {
		return nil, fmt.Errorf("list shops: %w", err)
	}
	var names []string
	for _, sh := range all {
		switch sh.Database {
		case s.cfg.Database:
			names = append(names, sh.Name)
		case "":
			s.warnMu.Lock()
			if !s.warned[sh.Name] {
				s.warned[sh.Name] = true
				s.log.Warn("shop without a database is not scheduled (a request to the shop API from its database adopts it)", "shop", sh.Name)
			}
			s.warnMu.Unlock()
		}
	}
	return names, nil
}

// runShop runs job for one shop.
func (s *Scheduler) runShop(ctx context.Context, svc *shop.Service, job Job, name string) Report {
	r := Report{Job: job, Shop: name, Start: s.now()}
	sh, err := s.st.Shop(name)
	if err == nil && sh.Database != s.cfg.Database {
		err = fmt.Errorf("shop %q belongs to database %q, not the schedule's %q", name, sh.Database, s.cfg.Database)
	}
	if err != nil {
		r.Err = err
		return r
	}
	// Whole seconds: the platforms list trades by the second.
	now := r.Start.Truncate(time.Second)
	s.log.Debug("scheduled run started", "job", job, "shop", name)
	switch job {
	case Orders:
		r.From, r.To = now.Add(-s.cfg.Orders.Lookback), now
		m, found, err := s.st.ScheduleMark(name, string(Orders))
		if err != nil {
			r.Err = err
			return r
		}
		if found {
			r.From = m.End.Add(-s.cfg.Orders.Overlap)
		}
		if !r.From.Before(r.To) {
			return r // the mark is ahead of this clock: nothing new to import
		}
		res, err := svc.ImportOrders(ctx, name, s.cfg.Orders.Status, r.From, r.To)
		r.Orders, r.Err = &res, err
		if n := r.failedTrades(); err == nil && n > 0 {
			// The window stays where it was, so the next run tries them again.
			r.Err = fmt.Errorf("%d of %d trades missing from Odoo not imported; the window is imported again next run", n, len(res.Missing))
		}
	case Stock:
		res, err := svc.SyncStock(ctx, name)
		r.Stock, r.Err = &res, err
		if err == nil && res.Failed > 0 {
			r.Err = fmt.Errorf("%d of %d stock pushes refused (retried next run): %s", res.Failed, res.Records, res.Errors[0])
		}
	case MissingOrders:
		r.From, r.To = now.Add(-s.cfg.MissingOrders.Lookback), now.Add(-s.cfg.MissingOrders.Delay)
		all, missing, err := svc.MissingOrders(ctx, name, s.cfg.MissingOrders.Status, r.From, r.To)
		r.Checked, r.Missing, r.Err = len(all), missing, err
	}
	if r.Err == nil {
		end := now
		if job == Orders {
			end = r.To
		}
		if _, err := s.st.AdvanceScheduleMark(store.ScheduleMark{Shop: name, Job: string(job), End: end, Updated: s.now()}); err != nil {
			r.Err = err
		}
	}
	return r
}

// report completes r, logs and counts it and passes it on.
func (s *Scheduler) report(r Report) Report {
	r.Replica = s.id
	r.Duration = s.now().Sub(r.Start)
	if r.Err != nil && !r.Canceled && (errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded)) {
		r.Canceled = true
	}
	attrs := []any{"job", r.Job, "shop", r.Shop, "replica", r.Replica, "duration", r.Duration.Round(time.Millisecond)}
	if !r.From.IsZero() {
		attrs = append(attrs, "from", r.From, "to", r.To)
	}
	switch {
	case r.Orders != nil:
		attrs = append(attrs, "window", r.Orders.Window, "missing", len(r.Orders.Missing), "imported", r.Orders.Imported,
			"confirmed", r.Orders.Confirmed, "review", r.Orders.Review, "skipped", r.Orders.Skipped, "failed", r.failedTrades())
	case r.Stock != nil:
		attrs = append(attrs, "records", r.Stock.Records, "pushed", r.Stock.Pushed, "unchanged", r.Stock.Unchanged, "failed", r.Stock.Failed)
	case r.Job == MissingOrders && r.Err == nil:
		attrs = append(attrs, "checked", r.Checked, "missing", len(r.Missing))
	}
	switch {
	case r.Canceled:
		s.log.Info("scheduled run canceled", append(attrs, "cause", r.Err)...)
	case r.Err != nil:
		s.log.Error("scheduled run failed; retried at the next tick", append(attrs, "err", r.Err)...)
	case r.Job == MissingOrders && len(r.Missing) > 0:
		s.log.Warn("orders on the platform missing from Odoo", append(attrs, "trades", r.Missing[:min(len(r.Missing), 20)])...)
	default:
		s.log.Info("scheduled run done", attrs...)
	}
	s.m.observe(r)
	if s.onRun != nil {
		s.onRun(r)
	}
	return r
}
