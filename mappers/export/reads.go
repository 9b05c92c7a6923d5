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
		err = r.inc.each(r.ctx, model, domain, q, fn)
	} else {
		r.calls.Add(1)
		err = r.s.SearchReadEach(r.ctx, model, domain, q, fn)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", model, err)
	}
	return nil
}

// readIDs reads records by id in bulk (never one call per record).
func (r *run) readIDs(model string, ids []int, fields []string) ([]odoo.Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var recs []odoo.Record
	var err error
	if r.inc != nil && r.cacheable[r.section] {
		recs, err = r.inc.read(r.ctx, model, ids, fields)
	} else {
		r.calls.Add(1)
		recs, err = r.s.Read(r.ctx, model, ids, odoo.Query{Fields: fields})
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", model, err)
	}
	return recs, nil
}

// fieldsOf probes a model's fields once per export; a model that does not
// exist has no fields (the addon's optional models, e.g. mrp.skill).
func (r *run) fieldsOf(model string) map[string]odoo.Field {
	r.probeMu.Lock()
	defer r.probeMu.Unlock()
	if f, ok := r.probed[model]; ok {
		return f
	}
	r.calls.Add(1)
	f, err := r.s.FieldsGet(r.ctx, model)
	if err != nil {
		r.log.Debug("model not available", "model", model, "err", err)
		f = nil
	}
	r.probed[model] = f
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

func fmtKey(parts ...any) string { return fmt.Sprint(parts...) }
