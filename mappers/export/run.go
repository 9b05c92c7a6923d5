package export

import (
	"bytes"
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

	probes onceMap[map[string]odoo.Field] // fields_get per model, without a cache
	warnState

	// written has a channel per section of the mode, closed once the
	// section is written (its state is complete).
	written map[string]chan struct{}
	// bg tracks the goroutines of loads and streams: the export returns
	// only when they have.
	bg sync.WaitGroup
	// models are those each section's reads depend on (reuse.go).
	models sectionModels
	// out is under w: it copies a section being rendered for the cache.
	out *captureWriter

	init   initState   // init.go: flags, company settings, uoms
	master masterState // calendars … items
	ops    opsState    // operations, demands
	orders ordersState // purchase, manufacturing, orderpoints, on-hand
}

// run is a job as one section sees it: reads know which section they
// serve (the cache serves some sections only) and carry its priority.
type run struct {
	*job
	ctx     context.Context
	section string
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
	out := &captureWriter{w: w}
	j := &job{x: x, gate: gate, base: &base, s: &base, out: out, w: xmlschema.NewWriter(out), p: p, log: log,
		now: now.UTC().Truncate(time.Second), counts: map[string]int{}}
	j.warned = map[string]bool{}
	j.mode = x.Modes.For(p.Mode)
	j.cacheable = map[string]bool{}
	if x.Cache != nil {
		for _, s := range j.mode.Cacheable {
			j.cacheable[s] = true
		}
	}
	return &run{job: j, ctx: ctx, section: "init"}
}

// loadFirst lists the sections whose calls go first when calls queue for
// the gate: the longest chains of dependent reads and the largest reads
// (at the addon's grown database: sale lines then their orders, the MOs'
// six-step batch chain, products), so that they do not wait behind small
// reads and end last.
var loadFirst = []string{"demands", "manufacturingorders", "purchaseorders", "items", "operations", "onhand", "customers"}

// forSection is the run as the named section's reads see it.
func (r *run) forSection(name string) *run {
	prio := 0
	for i, s := range loadFirst {
		if s == name {
			prio = len(loadFirst) - i
		}
	}
	return &run{job: r.job, ctx: odoo.WithPriority(r.ctx, prio), section: name}
}

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
	if len(r.cacheable) > 0 && r.p.Mode != 0 {
		r.inc = newIncremental(r)
		unlock := lockScope(r.x.Cache, r.inc.scope)
		defer unlock()
		// The change checks need nothing the initialisation reads.
		if err := parallel(r.initialise, func() error { return r.inc.checkAll(ctx) }); err != nil {
			return err
		}
		r.inc.sess = r.s // the export's company scope, known now
	} else if err := r.initialise(); err != nil {
		return err
	}
	if r.p.Mode == 0 {
		r.writeConnectionTest()
		return r.w.Err()
	}
	var active []section
	r.written = map[string]chan struct{}{}
	for _, sec := range sections {
		if has(r.mode.Sections, sec.name) && r.x.Extensions.writes(sec.name) {
			active = append(active, sec)
			r.written[sec.name] = make(chan struct{})
		}
	}
	reused, kept, err := r.planReuse(active)
	if err != nil {
		return err
	}
	// Loads start at once; the first failure ends the export without
	// waiting for the sections before it.
	failed := make(chan error, 1)
	results := make([]*loaded, len(active))
	for i, sec := range active {
		l := &loaded{done: make(chan struct{})}
		results[i] = l
		if rs, ok := reused[sec.name]; ok {
			l.write = func() error {
				r.w.S(string(rs.data))
				r.counts[sec.name] = rs.records
				r.inc.reused.Add(1)
				r.inc.hits.Add(int64(rs.records)) // records served from the state file
				return nil
			}
			close(l.done)
			continue
		}
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
		_, isReused := reused[sec.name]
		if err := r.writeSection(sec.name, l.write, r.inc != nil && !isReused && !kept[sec.name] && r.reusable(sec.name)); err != nil {
			return err
		}
		close(r.written[sec.name])
		// Progress of long exports: one line per section.
		n, took := r.counts[sec.name], time.Since(t0)
		r.log.Info("export section written", "section", sec.name, "records", n, "duration", took.Round(time.Millisecond),
			"read", l.took.Round(time.Millisecond), "reused", isReused, "records_per_s", int(float64(n)/max(took.Seconds(), 1e-6)))
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
	if r.inc != nil {
		if err := r.inc.save(); err != nil {
			return err
		}
	}
	r.w.S("</plan>\n")
	return r.w.Err()
}

// writeSection runs a section's write; keep also stores what it wrote for
// reuse by later runs.
func (r *run) writeSection(name string, write func() error, keep bool) error {
	if !keep {
		return write()
	}
	if err := r.w.Flush(); err != nil {
		return err
	}
	var buf bytes.Buffer
	r.out.buf = &buf
	err := write()
	if ferr := r.w.Flush(); err == nil {
		err = ferr
	}
	r.out.buf = nil
	if err != nil {
		return err
	}
	return r.keepSection(name, buf.Bytes())
}

// scopeLocks serialise the cached runs of one scope: each takes the next
// run number and relies on the marks the previous one left.
var scopeLocks sync.Map

func lockScope(cache RecordCache, scope string) (unlock func()) {
	mu, _ := scopeLocks.LoadOrStore(fmt.Sprintf("%p %s", cache, scope), &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
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
