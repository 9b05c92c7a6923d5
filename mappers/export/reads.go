package export

import (
	"fmt"
	"sync"

	"github.com/plangate/plangate/mappers/odoo"
)

// read runs one search_read with the export session and wraps errors with
// the model, so a failure says which read failed.
func (r *run) read(model string, domain odoo.Domain, q odoo.Query) ([]odoo.Record, error) {
	var out []odoo.Record
	err := r.each(model, domain, q, func(rec odoo.Record) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// each streams the records of one search_read. Reads of cacheable
// sections go through the incremental cache when the exporter has one.
func (r *run) each(model string, domain odoo.Domain, q odoo.Query, fn func(odoo.Record) error) error {
	var err error
	if r.inc != nil && r.cacheable[r.section] {
		err = r.inc.each(r.ctx, r.noteModels, model, domain, q, fn)
	} else {
		err = r.s.SearchReadEach(r.ctx, model, domain, q, fn)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", model, err)
	}
	return nil
}

// stream starts a read now and hands its records to the section's write
// in Odoo's order: pages arrive while earlier sections are written, and no
// more than about a page waits in memory.
func (r *run) stream(model string, domain odoo.Domain, q odoo.Query) *recordStream {
	st := &recordStream{recs: make(chan odoo.Record, odoo.DefaultPageSize), done: make(chan struct{})}
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		defer close(st.done)
		defer close(st.recs)
		st.err = r.each(model, domain, q, func(rec odoo.Record) error {
			select {
			case st.recs <- rec:
				return nil
			case <-r.ctx.Done():
				return r.ctx.Err()
			}
		})
	}()
	return st
}

// recordStream is a read in progress (see stream).
type recordStream struct {
	recs chan odoo.Record
	done chan struct{}
	err  error
}

// each hands every record to fn, then reports the read's error. When fn
// fails, the reader stops with the export (its context ends).
func (st *recordStream) each(fn func(odoo.Record) error) error {
	for rec := range st.recs {
		if err := fn(rec); err != nil {
			return err
		}
	}
	<-st.done
	return st.err
}

// readTo is a read that keeps its records in dst, for parallel.
func (r *run) readTo(dst *[]odoo.Record, model string, domain odoo.Domain, q odoo.Query) func() error {
	return func() (err error) {
		*dst, err = r.read(model, domain, q)
		return err
	}
}

// readIDsTo is a read by ids that keeps its records in dst, for parallel.
func (r *run) readIDsTo(dst *[]odoo.Record, model string, ids []int, fields []string) func() error {
	return func() (err error) {
		*dst, err = r.readIDs(model, ids, fields)
		return err
	}
}

// readIDs reads records by id in bulk (never one call per record).
func (r *run) readIDs(model string, ids []int, fields []string) ([]odoo.Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var recs []odoo.Record
	var err error
	if r.inc != nil && r.cacheable[r.section] {
		recs, err = r.inc.read(r.ctx, r.noteModels, model, ids, fields)
	} else {
		recs, err = r.s.Read(r.ctx, model, ids, odoo.Query{Fields: fields})
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", model, err)
	}
	return recs, nil
}

// noteModels records models the current section's content depends on.
func (r *run) noteModels(models []string) { r.models.note(r.section, models) }

// fieldsOf probes a model's fields once per export, however many sections
// ask at once (with a cache, once while the installed modules stay the
// same); a model that does not exist has no fields (the addon's optional
// models, e.g. mrp.skill).
func (r *run) fieldsOf(model string) map[string]odoo.Field {
	if r.inc != nil {
		f, err := r.inc.fieldsOf(r.ctx, model)
		if err != nil {
			r.log.Debug("model not available", "model", model, "err", err)
		}
		return f
	}
	f, _ := r.probes.get(model, func() (map[string]odoo.Field, error) {
		f, err := r.s.FieldsGet(r.ctx, model)
		if err != nil {
			r.log.Debug("model not available", "model", model, "err", err)
			f = nil
		}
		return f, nil
	})
	return f
}

// hasModel reports whether Odoo has the model.
func (r *run) hasModel(model string) bool { return r.fieldsOf(model) != nil }

// hasField reports whether the model has the field.
func (r *run) hasField(model, field string) bool {
	_, ok := r.fieldsOf(model)[field]
	return ok
}

// onlyExisting keeps the fields the model has.
func (r *run) onlyExisting(model string, fields ...string) []string {
	fs := r.fieldsOf(model)
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		if _, ok := fs[f]; ok {
			out = append(out, f)
		}
	}
	return out
}

// warnOnce logs a skipped or defaulted record once per export.
func (r *run) warnOnce(model string, id int, msg string, args ...any) {
	key := fmt.Sprintf("%s/%d/%s", model, id, msg)
	r.warnMu.Lock()
	seen := r.warned[key]
	r.warned[key] = true
	r.warnMu.Unlock()
	if !seen {
		r.log.Warn(msg, append([]any{"model", model, "id", id}, args...)...)
	}
}

type warnState struct {
	warnMu sync.Mutex
	warned map[string]bool
}
