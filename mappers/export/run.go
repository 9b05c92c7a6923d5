package export

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// job is the state of one export. Sections fill the lookup tables that
// later sections join against (spec §3.2: objects are defined before they
// are referenced). The state is split by concern: init (flags, company,
// units), master (calendars … items), ops (operations, demands) and orders
// (purchase, manufacturing, order points, on-hand).
//
// Odoo's time is the bottleneck, so every section's reads start at once
// (bounded by the call gate) while the sections are written one after the
// other in the addon's order: a section's load only reads Odoo and hands
// back the function that joins and writes, which runs when the sections
// before it are written. A load that needs what an earlier section builds
// waits for it (await).
type job struct {
	ctx    context.Context
	x      *Exporter
	gate   *odoo.Limited // every Odoo call of the export passes here
	base   *odoo.Session // the caller's session through the gate, without the export context
	s      *odoo.Session // with the export context (allowed_company_ids)
	w      *xmlschema.Writer
	p      Params
	log    *slog.Logger
	now    time.Time
	tz     *time.Location
	counts map[string]int // records per section; written by the writer only

	mode      ModeConfig
	cacheable map[string]bool // sections read through the cache
	inc       *incremental    // nil: no cache

	probeMu sync.Mutex
	probed  map[string]*probe
	warnState

	// written has a channel per section of the mode, closed once the
	// section is written (its state is complete).
	written map[string]chan struct{}
	// bg tracks the goroutines of loads and streams: the export returns
	// only when they have.
	bg sync.WaitGroup

	init   initState   // init.go: flags, company settings, uoms
	master masterState // calendars … items
	ops    opsState    // operations, demands
	orders ordersState // purchase, manufacturing, orderpoints, on-hand
}

// run is a job as one section sees it: reads know which section they
// serve (the cache serves some sections only).
type run struct {
	*job
	section string
}

// probe is one fields_get, shared by every section that asks.
type probe struct {
	once   sync.Once
	fields map[string]odoo.Field
}

// defaultInFlight is how many Odoo calls an export runs at once.
const defaultInFlight = 4

func (x *Exporter) newRun(ctx context.Context, w io.Writer, p Params) *run {
	log := x.Logger
	if log == nil {
		log = slog.Default()
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	n := x.MaxInFlight
	if n <= 0 {
		n = defaultInFlight
	}
	gate := odoo.NewLimited(x.Session.T, n)
	base := *x.Session
	base.T = gate
	j := &job{ctx: ctx, x: x, gate: gate, base: &base, s: &base, w: xmlschema.NewWriter(w), p: p, log: log,
		now: now.UTC().Truncate(time.Second), counts: map[string]int{}, probed: map[string]*probe{}}
	j.warned = map[string]bool{}
	j.mode = x.Modes.For(p.Mode)
	j.cacheable = map[string]bool{}
	if x.Cache != nil {
		for _, s := range j.mode.Cacheable {
			j.cacheable[s] = true
		}
	}
	return &run{job: j, section: "init"}
}

// forSection is the run as the named section's reads see it.
func (r *run) forSection(name string) *run { return &run{job: r.job, section: name} }

// loaded is the outcome of one section's load.
type loaded struct {
	write func() error
	err   error
	done  chan struct{}
	took  time.Duration
}

// run writes the whole document: initialisation, the sections of the mode,
// the footer.
func (r *run) run() error {
	ctx, cancel := context.WithCancel(r.ctx)
	defer func() {
		cancel() // loads and streams blocked on Odoo or on await give up
		r.bg.Wait()
	}()
	r.ctx = ctx
	if err := r.initialise(); err != nil {
		return err
	}
	if r.p.Mode == 0 {
		r.writeConnectionTest()
		return r.w.Err()
	}
	if len(r.cacheable) > 0 {
		r.inc = &incremental{cache: r.x.Cache, sess: r.s, database: r.s.DB, margin: r.x.CacheMargin, refresh: r.x.Refresh,
			scope: scopeKey(r), readAt: r.now}
	}
	var active []section
	r.written = map[string]chan struct{}{}
	for _, sec := range sections {
		if has(r.mode.Sections, sec.name) {
			active = append(active, sec)
			r.written[sec.name] = make(chan struct{})
		}
	}
	// Loads start at once; the first failure ends the export without
	// waiting for the sections before it.
	failed := make(chan error, 1)
	results := make([]*loaded, len(active))
	for i, sec := range active {
		l := &loaded{done: make(chan struct{})}
		results[i] = l
		r.bg.Add(1)
		go func() {
			defer r.bg.Done()
			defer close(l.done)
			t0 := time.Now()
			l.write, l.err = sec.load(r.forSection(sec.name))
			l.took = time.Since(t0)
			if l.err != nil {
				select {
				case failed <- l.err:
				default:
				}
			}
		}()
	}
	for i, sec := range active {
		l := results[i]
		select {
		case <-l.done:
		case err := <-failed:
			return err
		case <-ctx.Done():
			return fmt.Errorf("export: %w", ctx.Err())
		}
		if l.err != nil {
			return l.err
		}
		t0 := time.Now()
		if err := l.write(); err != nil {
			return err
		}
		close(r.written[sec.name])
		// Progress of long exports: one line per section.
		n, took := r.counts[sec.name], time.Since(t0)
		r.log.Info("export section written", "section", sec.name, "records", n, "duration", took.Round(time.Millisecond),
			"read", l.took.Round(time.Millisecond), "records_per_s", int(float64(n)/max(took.Seconds(), 1e-6)))
		if err := r.w.Err(); err != nil {
			return err
		}
		if r.x.Flush != nil {
			if err := r.w.Flush(); err != nil {
				return err
			}
			r.x.Flush()
		}
	}
	r.w.S("</plan>\n")
	return r.w.Err()
}

// await blocks until the named section is written, so a load can use what
// it built; a section the mode does not write is never waited for.
func (r *run) await(name string) error {
	ch, ok := r.written[name]
	if !ok {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-r.ctx.Done():
		return fmt.Errorf("export %s: %w", r.section, r.ctx.Err())
	}
}

// parallel runs independent reads of one section at once (the gate bounds
// the calls) and returns the first error.
func parallel(fns ...func() error) error {
	var g errgroup.Group
	for _, fn := range fns {
		g.Go(fn)
	}
	return g.Wait()
}

// writeOnly is the load of a section that reads nothing itself.
func writeOnly(write func() error) (func() error, error) { return write, nil }

// scopeKey is what besides the query changes cached answers: the user, the
// company scope and the language.
func scopeKey(r *run) string {
	return fmtKey(r.s.UID, r.s.Context["allowed_company_ids"], r.s.Context["lang"], r.p.Language)
}
