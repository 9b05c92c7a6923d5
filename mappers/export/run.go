package export

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// run is the state of one export. Sections fill the lookup tables that
// later sections join against (spec §3.2: objects are defined before they
// are referenced). The state is split by concern: init (flags, company,
// units), master (calendars … items), ops (operations, demands) and orders
// (purchase, manufacturing, order points, on-hand).
type run struct {
	ctx    context.Context
	x      *Exporter
	base   *odoo.Session // the caller's session, without the export context
	s      *odoo.Session // with the export context (allowed_company_ids)
	w      *xmlschema.Writer
	p      Params
	log    *slog.Logger
	now    time.Time
	tz     *time.Location
	counts map[string]int

	mode      ModeConfig
	section   string          // the section being written
	cacheable map[string]bool // sections read through the cache
	inc       *incremental    // nil: no cache
	calls     atomic.Int64    // Odoo calls made outside the cache

	probeMu sync.Mutex
	probed  map[string]map[string]odoo.Field
	warnState

	init   initState   // init.go: flags, company settings, uoms
	master masterState // calendars … items
	ops    opsState    // operations, demands
	orders ordersState // purchase, manufacturing, orderpoints, on-hand
}

func (x *Exporter) newRun(ctx context.Context, w io.Writer, p Params) (*run, error) {
	log := x.Logger
	if log == nil {
		log = slog.Default()
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	r := &run{ctx: ctx, x: x, base: x.Session, s: x.Session, w: xmlschema.NewWriter(w), p: p, log: log,
		now: now.UTC().Truncate(time.Second), counts: map[string]int{}, probed: map[string]map[string]odoo.Field{}}
	r.warned = map[string]bool{}
	r.mode = x.Modes.For(p.Mode)
	r.cacheable = map[string]bool{}
	if x.Cache != nil {
		for _, s := range r.mode.Cacheable {
			r.cacheable[s] = true
		}
	}
	return r, nil
}

// run writes the whole document: initialisation, the sections of the mode,
// the footer.
func (r *run) run() error {
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
	for _, sec := range sections {
		if !has(r.mode.Sections, sec.name) || !r.x.Extensions.writes(sec.name) {
			continue
		}
		r.section = sec.name
		t0 := time.Now()
		if err := sec.write(r); err != nil {
			return err
		}
		// Progress of long exports: one line per section.
		n, took := r.counts[sec.name], time.Since(t0)
		r.log.Info("export section written", "section", sec.name, "records", n, "duration", took.Round(time.Millisecond),
			"records_per_s", int(float64(n)/max(took.Seconds(), 1e-6)))
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

// scopeKey is what besides the query changes cached answers: the user, the
// company scope and the language.
func scopeKey(r *run) string {
	return fmtKey(r.s.UID, r.s.Context["allowed_company_ids"], r.s.Context["lang"], r.p.Language)
}
