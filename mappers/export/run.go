package export

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// run is the state of one export. Sections fill the lookup tables that
// later sections join against (spec §3.2: objects are defined before they
// are referenced). The state is split by owner: master (calendars through
// items), ops (BOMs and sales orders), orders (PO/MO/orderpoints/on-hand).
type run struct {
	ctx    context.Context
	x      *Exporter
	s      *odoo.Session // with the export context (lang, allowed_company_ids)
	w      *xmlschema.Writer
	p      Params
	log    *slog.Logger
	now    time.Time
	tz     *time.Location
	counts map[string]int

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
	return &run{ctx: ctx, x: x, s: x.Session, w: xmlschema.NewWriter(w), p: p, log: log,
		now: now.UTC().Truncate(time.Second), counts: map[string]int{}}, nil
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
	for _, sec := range sections {
		if sec.mode1 && r.p.Mode != 1 {
			continue
		}
		if err := sec.write(r); err != nil {
			return err
		}
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
