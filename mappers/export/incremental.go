package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// RecordCache keeps the records of cacheable reads, the change-check
// state and rendered sections between exports (*store.Store implements it).
type RecordCache interface {
	CacheMeta(key string) (store.CacheMeta, bool, error)
	CacheRecords(key string, ids []int, fn func(id int, rec map[string]any) error) error
	CacheIDs(key string) ([]int, error)
	CacheOrder(key string) ([]int, error)
	CacheApply(key string, meta store.CacheMeta, upserts map[int]map[string]any, deletes []int, replace bool) error
	CacheScope(key string) (store.CacheScope, bool, error)
	SaveCacheScope(key string, sc store.CacheScope) error
	CacheSection(key string) (store.CacheSection, []byte, bool, error)
	SaveCacheSection(key string, sec store.CacheSection, data []byte) error
}

// incremental serves reads from the cache plus what changed in Odoo since
// the last run of the same scope. Odoo charges every call ~18 ms before
// any record, so what changed is found with two cheap calls per model, all
// issued at once before the sections start (check): the ids written since
// the last check (write_date, less a margin for clock skew) and the number
// of records, archived included (with the highest id seen, it tells
// whether any was deleted). A cached read is then
//   - served as is when none of the models it depends on changed: the
//     queried model, the models its relational fields point to (their
//     display names and lists) and those its domain and order go through;
//   - brought up to date when some did: the records written, those
//     pointing to written records, new and vanished ones (a search of the
//     ordered ids and one read of what is stale);
//   - read cold when a model it depends on lost records, or changed in a
//     run this read did not see.
//
// Runs are numbered per scope (CacheScope.Gen); a cached read or section
// remembers the run that last brought it up to date, a model the last run
// that saw it change. The document equals a cold run's byte for byte.
type incremental struct {
	cache    RecordCache
	sess     *odoo.Session // the export session (company scope), for the reads
	check    *odoo.Session // the caller's session, archived included, for the change checks
	database string
	scope    string // key of the scope: user, companies, language, mode
	margin   time.Duration
	refresh  bool
	readAt   time.Time // the export clock at the start of this run

	gen  int64            // this run
	prev store.CacheScope // as the last run left it

	mu       sync.Mutex
	marks    map[string]store.ModelMark // after this run's checks
	changed  map[string]map[int]bool    // ids written since the last check, per model
	deleted  map[string]bool            // models that lost records (or whose count does not add up)
	firsts   onceMap[struct{}]          // models checked for the first time in this run
	fields   onceMap[fieldsAnswer]      // fields_get per model
	modsSame bool                       // installed modules unchanged: cached fields_get answers hold
	ready    chan struct{}              // closed when the checks are done

	// group says whether read_group answers as Odoo 17's does: 1 yes,
	// -1 no (checkAll finds out once per scope).
	group        int
	hits, misses atomic.Int64 // records served from the cache / read from Odoo
	reused       atomic.Int64 // sections served whole from the cache
}

// fieldsAnswer is one model's fields_get; asked says it came from Odoo in
// this run (not from the last run's answer).
type fieldsAnswer struct {
	fields map[string]odoo.Field // nil: no such model
	asked  bool
}

const writeDate = "write_date"

// cacheFormat changes whenever what is cached changes meaning, so that
// entries of an older build are never taken for current ones.
const cacheFormat = "v2"

// everything is the context of the change checks: archived records count.
var everything = odoo.Context{"active_test": false}

func newIncremental(r *run) *incremental {
	in := &incremental{cache: r.x.Cache, sess: r.s, check: r.base.WithContext(everything), database: r.s.DB,
		margin: r.x.CacheMargin, refresh: r.x.Refresh, readAt: r.now, ready: make(chan struct{}),
		marks: map[string]store.ModelMark{}, changed: map[string]map[int]bool{}, deleted: map[string]bool{},
	}
	// The scope is fixed before the initialisation: with singlecompany the
	// company's scope follows from the company named.
	in.scope = "scope:" + digest(cacheFormat, r.s.DB, r.s.UID, r.s.Context["allowed_company_ids"], r.s.Context["lang"], r.p.Language,
		r.p.Mode, r.p.SingleCompany, r.p.SingleCompany && r.p.Company != "", r.p.Company)
	return in
}

// digest names a cache entry by what makes it unique.
func digest(parts ...any) string {
	d, _ := json.Marshal(parts)
	sum := sha256.Sum256(d)
	return hex.EncodeToString(sum[:12])
}

// checkAll loads the scope, takes this run's number and checks every model
// the last run depended on, all at once. It runs beside the export's
// initialisation; the sections start when it is done.
func (in *incremental) checkAll(ctx context.Context) error {
	defer close(in.ready)
	prev, _, err := in.cache.CacheScope(in.scope)
	if err != nil {
		return fmt.Errorf("incremental: %w", err)
	}
	in.prev = prev
	in.gen = prev.Gen + 1
	if in.group = prev.ReadGroup; in.group == 0 {
		// Once per scope: does this Odoo answer the one-call check?
		in.group = 1
		if _, works, err := in.readGroup(ctx, "ir.module.module"); err != nil {
			return fmt.Errorf("incremental: check ir.module.module: %w", err)
		} else if !works {
			in.group = -1
		}
	}
	models := make([]string, 0, len(prev.Models))
	for m := range prev.Models {
		models = append(models, m)
	}
	sort.Strings(models)
	const modules = "ir.module.module"
	// Models this Odoo lacks are looked for again only when the installed
	// modules changed, which their check says.
	modsChecked := make(chan struct{})
	if _, ok := prev.Models[modules]; !ok {
		close(modsChecked)
	}
	fns := make([]func() error, len(models))
	for i, m := range models {
		last := prev.Models[m]
		fns[i] = func() error {
			switch {
			case m == modules:
				defer close(modsChecked)
			case last.Absent:
				select {
				case <-modsChecked:
				case <-ctx.Done():
					return ctx.Err()
				}
				if in.modulesSame() {
					in.mu.Lock()
					in.marks[m] = last
					in.mu.Unlock()
					return nil
				}
			}
			return in.checkModel(ctx, m, last)
		}
	}
	// What the initialisation reads counts for every section.
	var unseen []string
	for _, m := range initModels {
		if _, ok := prev.Models[m]; !ok {
			unseen = append(unseen, m)
		}
	}
	fns = append(fns, func() error { return in.know(ctx, unseen) })
	if err := parallel(fns...); err != nil {
		return err
	}
	in.modsSame = in.modulesSame()
	// Saved now: the marks hold whatever happens to this run, and the
	// next run must not take this one's number again.
	return in.save()
}

// modulesSame reports whether the check of the installed modules (done by
// now) found them unchanged since the last run.
func (in *incremental) modulesSame() bool {
	const modules = "ir.module.module"
	in.mu.Lock()
	defer in.mu.Unlock()
	_, known := in.prev.Models[modules]
	return known && !in.deleted[modules] && len(in.changed[modules]) == 0
}

// checkModel finds the ids of model written since the last check and
// whether records were deleted: the count, archived included, must equal
// the last one plus the records created since (ids above the highest one
// seen; ids only grow). One read_group gives the count and the latest
// write_date; only when that is recent are the written ids searched.
func (in *incremental) checkModel(ctx context.Context, model string, last store.ModelMark) error {
	since := in.since(last)
	var changed []odoo.Record
	searchChanged := func() (err error) {
		changed, err = in.check.SearchRead(ctx, model, odoo.Domain{odoo.Term(writeDate, ">=", since)}, odoo.Query{Fields: []string{writeDate}})
		return err
	}
	sum, grouped, err := in.summary(ctx, model)
	count := sum.count
	switch {
	case err != nil:
	case !grouped:
		err = parallel(searchChanged, func() (err error) {
			count, err = in.check.SearchCount(ctx, model, nil, odoo.Query{})
			return err
		})
	case sum.latest >= since:
		err = searchChanged()
	}
	absent := noSuchModel(err)
	if uncheckable(err) { // a model this Odoo lacks (or hides) has no records to change
		changed, count, err = nil, 0, nil
	}
	if err != nil {
		return fmt.Errorf("incremental: check %s: %w", model, err)
	}
	mark := store.ModelMark{Count: count, MaxID: last.MaxID, Watermark: last.Watermark, CheckedAt: in.readAt, Changed: last.Changed, Absent: absent}
	mark.MaxID = max(mark.MaxID, sum.maxID)
	ids := make(map[int]bool, len(changed))
	created := 0
	for _, rec := range changed {
		id := rec.ID()
		ids[id] = true
		if id > last.MaxID {
			created++
			mark.MaxID = max(mark.MaxID, id)
		}
		mark.Watermark = maxStr(mark.Watermark, rec.String(writeDate))
	}
	gone := last.Count+created != count
	if len(ids) > 0 || gone {
		mark.Changed = in.gen
	}
	in.mu.Lock()
	in.marks[model] = mark
	if len(ids) > 0 {
		in.changed[model] = ids
	}
	if gone {
		in.deleted[model] = true
	}
	in.mu.Unlock()
	return nil
}

// modelSummary is what one read_group tells about a model.
type modelSummary struct {
	count, maxID int
	latest       string // highest write_date ("" when none)
}

// summary asks Odoo, in one call, a model's record count (archived
// included), highest id and latest write_date. grouped is false when this
// Odoo does not answer read_group so (the checks then take two calls).
func (in *incremental) summary(ctx context.Context, model string) (modelSummary, bool, error) {
	if in.group < 0 {
		return modelSummary{}, false, nil
	}
	return in.readGroup(ctx, model)
}

// readGroup is one read_group of count, highest id and latest write_date;
// works is false when the answer is not Odoo 17's.
func (in *incremental) readGroup(ctx context.Context, model string) (modelSummary, bool, error) {
	v, err := in.check.Call(ctx, model, "read_group", []any{odoo.Domain{}, []any{"write_date:max", "id:max"}, []any{}}, map[string]any{"lazy": false})
	if err != nil {
		if uncheckable(err) || odoo.IsKind(err, odoo.KindTransient) || odoo.IsKind(err, odoo.KindCanceled) || odoo.IsKind(err, odoo.KindAuth) {
			return modelSummary{}, true, err
		}
		return modelSummary{}, false, nil
	}
	rows, _ := v.([]any)
	if len(rows) != 1 {
		return modelSummary{}, false, nil
	}
	g, _ := rows[0].(map[string]any)
	if _, ok := g["__count"]; !ok {
		return modelSummary{}, false, nil
	}
	rec := odoo.Record(g)
	return modelSummary{count: rec.Int("__count"), maxID: rec.Int("id"), latest: rec.String(writeDate)}, true, nil
}

// since is where changes are searched from: the last watermark less the
// margin, or, when later, the last check less the margin and a second
// (write_date has whole seconds). The second bound matters when many
// records share the watermark's second (imports, bulk writes): the
// watermark alone would find all of them on every run. Both assume the
// gateway's and Odoo's clocks differ by less than the margin.
func (in *incremental) since(last store.ModelMark) string {
	from := time.Unix(0, 0).UTC()
	if t, err := time.ParseInLocation(odoo.DatetimeLayout, last.Watermark, time.UTC); err == nil {
		from = t.Add(-in.margin)
	}
	if !last.CheckedAt.IsZero() {
		if t := last.CheckedAt.Add(-in.margin - time.Second); t.After(from) {
			from = t
		}
	}
	return odoo.FormatDatetime(from)
}

// know makes sure models are checked in this run: a model seen for the
// first time gets its baseline (count and highest id) and counts as
// changed, so nothing cached before relies on it.
func (in *incremental) know(ctx context.Context, models []string) error {
	var fns []func() error
	for _, m := range models {
		in.mu.Lock()
		_, known := in.marks[m]
		in.mu.Unlock()
		if known {
			continue
		}
		fns = append(fns, func() error {
			_, err := in.firsts.get(m, func() (struct{}, error) { return struct{}{}, in.firstCheck(ctx, m) })
			return err
		})
	}
	return parallel(fns...)
}

func (in *incremental) firstCheck(ctx context.Context, model string) error {
	sum, grouped, err := in.summary(ctx, model)
	count, top := sum.count, []int{sum.maxID}
	if err == nil && !grouped {
		err = parallel(
			func() (err error) {
				count, err = in.check.SearchCount(ctx, model, nil, odoo.Query{})
				return err
			},
			func() (err error) {
				top, err = in.check.Search(ctx, model, nil, odoo.Query{Order: "id desc", Limit: 1})
				return err
			},
		)
	}
	absent := noSuchModel(err)
	if uncheckable(err) {
		count, top, err = 0, nil, nil
	}
	if err != nil {
		return fmt.Errorf("incremental: check %s: %w", model, err)
	}
	mark := store.ModelMark{Count: count, CheckedAt: in.readAt, Changed: in.gen, Absent: absent}
	if len(top) > 0 {
		mark.MaxID = top[0]
	}
	in.mu.Lock()
	in.marks[model] = mark
	in.mu.Unlock()
	return nil
}

// save stores the scope: this run's number, the marks and, when this run
// asked Odoo for any, the fields_get answers.
func (in *incremental) save() error {
	in.mu.Lock()
	sc := store.CacheScope{Database: in.database, Gen: in.gen, ReadGroup: in.group, Models: make(map[string]store.ModelMark, len(in.marks))}
	for m, mark := range in.marks {
		sc.Models[m] = mark
	}
	in.mu.Unlock()
	asked := !in.modsSame && len(in.prev.Fields) > 0 // stale answers must go
	in.fields.each(func(_ string, a fieldsAnswer) { asked = asked || a.asked })
	if asked {
		sc.Fields = map[string]map[string]store.CachedField{}
		if in.modsSame {
			for m, f := range in.prev.Fields {
				sc.Fields[m] = f
			}
		}
		in.fields.each(func(m string, a fieldsAnswer) {
			var cf map[string]store.CachedField
			if a.fields != nil {
				cf = make(map[string]store.CachedField, len(a.fields))
				for name, f := range a.fields {
					cf[name] = store.CachedField{Type: f.Type, Relation: f.Relation, Computed: !f.Store, Related: f.Related}
				}
			}
			sc.Fields[m] = cf
		})
	}
	if err := in.cache.SaveCacheScope(in.scope, sc); err != nil {
		return fmt.Errorf("incremental: save scope: %w", err)
	}
	return nil
}

// fieldsOf is a model's fields_get: from the last run while the installed
// modules are the same, else asked once per run; nil for a model that
// does not exist. Before the checks are done the cached answer is not
// trusted.
func (in *incremental) fieldsOf(ctx context.Context, model string) (map[string]odoo.Field, error) {
	a, err := in.fields.get(model, func() (fieldsAnswer, error) {
		select {
		case <-in.ready:
			if cf, ok := in.prev.Fields[model]; ok && in.modsSame {
				var fields map[string]odoo.Field
				if cf != nil {
					fields = make(map[string]odoo.Field, len(cf))
					for name, f := range cf {
						fields[name] = odoo.Field{Type: f.Type, Relation: f.Relation, Store: !f.Computed, Related: f.Related}
					}
				}
				return fieldsAnswer{fields: fields}, nil
			}
		default:
		}
		f, err := in.sess.FieldsGet(ctx, model)
		switch {
		case noSuchModel(err):
			return fieldsAnswer{asked: true}, nil
		case err != nil:
			return fieldsAnswer{}, err
		}
		return fieldsAnswer{fields: f, asked: true}, nil
	})
	return a.fields, err
}

// noSuchModel reports whether fields_get failed because the model does not
// exist (Odoo answers a KeyError naming it).
func noSuchModel(err error) bool {
	var e *odoo.Error
	return odoo.IsKind(err, odoo.KindNotFound) || (errors.As(err, &e) && strings.Contains(e.Fault, "KeyError"))
}

// uncheckable reports whether a change check failed because the model
// does not exist or the export user may not read it (record rules, for a
// user without settings rights): such a model counts as unchanged.
func uncheckable(err error) bool { return noSuchModel(err) || odoo.IsKind(err, odoo.KindAccess) }

// query is one cacheable read and what its answer depends on.
type query struct {
	key    string
	model  string
	domain odoo.Domain
	q      odoo.Query            // as sent: the fields asked plus those computed ones follow
	rel    map[string]odoo.Field // relational fields read
	deps   []string              // every model the answer depends on
	paths  []string              // those that can change membership or order
	coldOn []string              // those whose change is followed only by reading it all again
}

// defaultOrderVia names, for models the export searches, the many2one
// fields their Odoo 17 _order sorts by directly or through related fields
// (the comodel's order decides): a change there can reorder the answer.
var defaultOrderVia = map[string][]string{
	"sale.order.line":            {"order_id"},
	"purchase.order.line":        {"order_id"},
	"stock.warehouse.orderpoint": {"location_id", "company_id"},
	"product.product":            {"product_tmpl_id"},
}

// computedVia names, for computed (not stored) fields the export reads,
// the relational fields of the same record their value follows in Odoo 17
// (none: only the record's own fields). A computed field not listed and
// not related makes a read uncacheable: its value may change while no
// record is written.
var computedVia = map[string][]string{
	"mrp.workorder.display_name":            {"production_id"},
	"mrp.workorder.is_user_working":         {"time_ids"},
	"mrp.routing.workcenter.time_cycle":     {"workorder_ids"}, // computed from done work orders
	"product.product.code":                  nil,
	"product.product.price_extra":           {"product_template_attribute_value_ids"},
	"product.supplierinfo.is_subcontractor": {"partner_id"},
	"product.template.standard_price":       nil, // company-dependent, written through the template
}

// plan works out a read's cache key and dependencies; ok is false when the
// read cannot be cached (no write_date, a domain on computed fields, …).
func (in *incremental) plan(ctx context.Context, kind, model string, domain odoo.Domain, q odoo.Query) (*query, bool, error) {
	fields, err := in.fieldsOf(ctx, model)
	if err != nil {
		return nil, false, fmt.Errorf("incremental %s: %w", model, err)
	}
	if _, ok := fields[writeDate]; !ok || q.Fields == nil || q.Limit > 0 || q.Offset > 0 {
		return nil, false, nil
	}
	qu := &query{model: model, domain: domain, q: q, rel: map[string]odoo.Field{}}
	deps := map[string]bool{model: true}
	paths, coldOn := map[string]bool{}, map[string]bool{}
	for _, m := range accessModels {
		deps[m], coldOn[m] = true, true
	}
	read := append([]string(nil), q.Fields...)
	follow := func(f string) bool {
		fd, ok := fields[f]
		if !ok || fd.Relation == "" {
			return false
		}
		if _, asked := qu.rel[f]; !asked && !has(read, f) {
			read = append(read, f) // read along, to know which records it points to
		}
		qu.rel[f] = fd
		deps[fd.Relation] = true
		return true
	}
	for _, f := range q.Fields {
		fd, ok := fields[f]
		if !ok {
			return nil, false, nil
		}
		switch fd.Type {
		case "many2one", "one2many", "many2many":
			follow(f)
		}
		if fd.Store || f == "id" {
			continue
		}
		via, known := computedVia[model+"."+f]
		if fd.Related != "" {
			// The first step is a field of this record; the models beyond
			// are followed by reading again when they change.
			hops := strings.Split(fd.Related, ".")
			via, known = hops[:1], true
			fs, err := in.fieldsOf(ctx, model)
			if err != nil {
				return nil, false, fmt.Errorf("incremental %s: %w", model, err)
			}
			if first, ok := fs[hops[0]]; ok && len(hops) > 1 {
				beyond, ok, err := in.relatedModels(ctx, first.Relation, hops[1:], 0)
				if err != nil || !ok {
					return nil, false, err
				}
				for _, m := range beyond {
					deps[m], coldOn[m] = true, true
				}
			}
		}
		if !known {
			return nil, false, nil
		}
		for _, v := range via {
			if !follow(v) {
				return nil, false, nil
			}
		}
	}
	qu.q.Fields = read
	// The domain's and the order's fields, followed through relations.
	var walks [][]string
	for _, e := range domain {
		if t, ok := e.([]any); ok && len(t) == 3 {
			if name, ok := t[0].(string); ok {
				walks = append(walks, strings.Split(name, "."))
			}
		}
	}
	order := q.Order
	if order == "" {
		order = strings.Join(defaultOrderVia[model], ",")
	}
	if kind == "read" {
		order = "" // records come in the order of the ids asked for
	}
	for _, part := range strings.Split(order, ",") {
		if fs := strings.Fields(part); len(fs) > 0 {
			walks = append(walks, []string{fs[0]})
		}
	}
	for _, path := range walks {
		cur := model
		for i, name := range path {
			fs, err := in.fieldsOf(ctx, cur)
			if err != nil {
				return nil, false, fmt.Errorf("incremental %s: %w", model, err)
			}
			fd, ok := fs[name]
			if !ok && name == "id" {
				break
			}
			if !ok || (fd.Relation == "" && i < len(path)-1) || (!fd.Store && name != "id") {
				return nil, false, nil // a path Odoo resolves in ways not followed here
			}
			if fd.Relation == "" {
				break
			}
			cur = fd.Relation
			deps[cur], paths[cur] = true, true
		}
	}
	qu.deps, qu.paths, qu.coldOn = sortedKeys(deps), sortedKeys(paths), sortedKeys(coldOn)
	qu.key = model + ":" + digest(cacheFormat, in.scope, kind, model, domain, read, q.Order, q.Context)
	return qu, true, nil
}

// relatedModels lists the models a related path goes through from model
// (fields related in turn included); ok is false when it ends on a
// computed field.
func (in *incremental) relatedModels(ctx context.Context, model string, path []string, depth int) ([]string, bool, error) {
	if model == "" || depth > 5 {
		return nil, false, nil
	}
	var out []string
	cur := model
	for i, h := range path {
		fs, err := in.fieldsOf(ctx, cur)
		if err != nil {
			return nil, false, err
		}
		fd, ok := fs[h]
		if !ok {
			return nil, false, nil
		}
		if !fd.Store && fd.Related != "" {
			more, ok, err := in.relatedModels(ctx, cur, strings.Split(fd.Related, "."), depth+1)
			if err != nil || !ok {
				return nil, ok, err
			}
			out = append(out, more...)
		} else if !fd.Store && fd.Type != "many2one" && i == len(path)-1 {
			return nil, false, nil
		}
		if fd.Relation == "" {
			break
		}
		cur = fd.Relation
		out = append(out, cur)
	}
	return out, true, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// state says what a cached entry (brought up to date in run gen, depending
// on deps) needs in this run.
type state int

const (
	stateFresh  state = iota // none of its models changed
	stateUpdate              // some changed: bring it up to date
	stateCold                // read it again
)

func (in *incremental) state(ok bool, gen int64, deps, coldOn []string) state {
	if !ok || in.refresh {
		return stateCold
	}
	st := stateFresh
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, m := range deps {
		// A model the last run did not check may have changed unseen.
		last, known := in.prev.Models[m]
		if !known || in.deleted[m] || last.Changed > gen {
			return stateCold
		}
		if len(in.changed[m]) > 0 {
			st = stateUpdate
		}
	}
	for _, m := range coldOn {
		if len(in.changed[m]) > 0 {
			return stateCold
		}
	}
	return st
}

// changedIDs are the ids of model written since the last check.
func (in *incremental) changedIDs(model string) map[int]bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.changed[model]
}

// each streams the records of a search_read in Odoo's order; note hears
// the models the answer depends on.
func (in *incremental) each(ctx context.Context, note func([]string), model string, domain odoo.Domain, q odoo.Query, fn func(odoo.Record) error) error {
	qu, ok, err := in.plan(ctx, "search", model, domain, q)
	if err != nil {
		return err
	}
	if !ok {
		note(nil)
		return in.sess.SearchReadEach(ctx, model, domain, q, fn)
	}
	note(qu.deps)
	if err := in.know(ctx, qu.deps); err != nil {
		return err
	}
	meta, cached, err := in.cache.CacheMeta(qu.key)
	if err != nil {
		return fmt.Errorf("incremental %s: %w", model, err)
	}
	switch in.state(cached, meta.Gen, meta.Deps, qu.coldOn) {
	case stateFresh:
		order, err := in.cache.CacheOrder(qu.key)
		if err != nil {
			return err
		}
		return in.emit(qu, order, nil, fn)
	case stateUpdate:
		return in.update(ctx, qu, meta, fn)
	}
	return in.cold(ctx, qu, fn)
}

// emit hands the records of ids to fn in that order: fresh ones as read,
// the others from the cache, runs of them in one transaction.
func (in *incremental) emit(qu *query, ids []int, fresh map[int]odoo.Record, fn func(odoo.Record) error) error {
	var run []int
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		err := in.cache.CacheRecords(qu.key, run, func(_ int, rec map[string]any) error {
			in.hits.Add(1)
			return fn(odoo.Record(rec))
		})
		run = run[:0]
		return err
	}
	for _, id := range ids {
		rec, ok := fresh[id]
		if !ok {
			run = append(run, id)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return flush()
}

// cold reads the query from Odoo, keeping its answer for the next run.
func (in *incremental) cold(ctx context.Context, qu *query, fn func(odoo.Record) error) error {
	batch := map[int]map[string]any{}
	var order []int
	first := true
	// Run 0 until the last batch: a read cut short is never served.
	meta := store.CacheMeta{Database: in.database, Model: qu.model, Deps: qu.deps}
	flush := func() error {
		meta.Updated = time.Now().UTC()
		err := in.cache.CacheApply(qu.key, meta, batch, nil, first)
		first = false
		batch = map[int]map[string]any{}
		return err
	}
	err := in.sess.SearchReadEach(ctx, qu.model, qu.domain, qu.q, func(rec odoo.Record) error {
		in.misses.Add(1)
		batch[rec.ID()] = rec
		order = append(order, rec.ID())
		if len(batch) >= 2000 {
			if err := flush(); err != nil {
				return err
			}
		}
		return fn(rec)
	})
	if err != nil {
		return err
	}
	meta.Gen, meta.Order = in.gen, order
	if order == nil {
		meta.Order = []int{}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("incremental %s: save cache: %w", qu.model, err)
	}
	return nil
}

// stale finds the cached records of ids that changed through others: they
// point to a record written since (its display name may differ), or
// their list of a written model may have gained or lost members. Lists
// only show old members; new ones are searched for, one call per list
// field whose model changed.
func (in *incremental) stale(ctx context.Context, qu *query, ids []int, within odoo.Domain) (map[int]bool, error) {
	out := map[int]bool{}
	type watch struct {
		field   string
		changed map[int]bool
		list    bool
	}
	var watches []watch
	for f, fd := range qu.rel {
		if ch := in.changedIDs(fd.Relation); len(ch) > 0 {
			watches = append(watches, watch{f, ch, fd.Type != "many2one"})
		}
	}
	if len(watches) == 0 {
		return out, nil
	}
	sort.Slice(watches, func(i, j int) bool { return watches[i].field < watches[j].field })
	err := in.cache.CacheRecords(qu.key, ids, func(id int, rec map[string]any) error {
		r := odoo.Record(rec)
		for _, w := range watches {
			if w.list {
				for _, x := range r.IDs(w.field) {
					if w.changed[x] {
						out[id] = true
					}
				}
			} else if w.changed[r.M2OID(w.field)] {
				out[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, w := range watches {
		if !w.list {
			continue
		}
		members := make([]any, 0, len(w.changed))
		for id := range w.changed {
			members = append(members, id)
		}
		sort.Slice(members, func(i, j int) bool { return members[i].(int) < members[j].(int) })
		d := and(within, odoo.Term(w.field, "in", members))
		hit, err := in.sess.Search(ctx, qu.model, d, odoo.Query{Context: qu.q.Context})
		if err != nil {
			return nil, fmt.Errorf("incremental %s: via %s: %w", qu.model, w.field, err)
		}
		for _, id := range hit {
			out[id] = true
		}
	}
	return out, nil
}

// update brings a cached search up to date and streams it: the ordered
// ids again when the queried model or a model of its domain or order
// changed, then one read of what is stale or new.
func (in *incremental) update(ctx context.Context, qu *query, meta store.CacheMeta, fn func(odoo.Record) error) error {
	cachedOrder, err := in.cache.CacheOrder(qu.key)
	if err != nil {
		return err
	}
	ids := cachedOrder
	reorder := len(in.changedIDs(qu.model)) > 0
	for _, m := range qu.paths {
		reorder = reorder || len(in.changedIDs(m)) > 0
	}
	if reorder {
		if ids, err = in.sess.Search(ctx, qu.model, qu.domain, odoo.Query{Order: qu.q.Order, Context: qu.q.Context}); err != nil {
			return fmt.Errorf("incremental %s: ids: %w", qu.model, err)
		}
	}
	inCache := make(map[int]bool, len(cachedOrder))
	for _, id := range cachedOrder {
		inCache[id] = true
	}
	stale, err := in.stale(ctx, qu, cachedOrder, qu.domain)
	if err != nil {
		return err
	}
	written := in.changedIDs(qu.model)
	var need []int
	inQuery := make(map[int]bool, len(ids))
	for _, id := range ids {
		inQuery[id] = true
		if !inCache[id] || stale[id] || written[id] {
			need = append(need, id)
		}
	}
	fresh, err := in.readFresh(ctx, qu, need)
	if err != nil {
		return err
	}
	if err := in.emit(qu, ids, fresh, fn); err != nil {
		return err
	}
	var deletes []int
	for _, id := range cachedOrder {
		if !inQuery[id] {
			deletes = append(deletes, id)
		}
	}
	upserts := make(map[int]map[string]any, len(fresh))
	for id, rec := range fresh {
		upserts[id] = rec
	}
	meta = store.CacheMeta{Database: in.database, Model: qu.model, Updated: time.Now().UTC(), Gen: in.gen, Deps: qu.deps, Order: ids}
	if meta.Order == nil {
		meta.Order = []int{}
	}
	if err := in.cache.CacheApply(qu.key, meta, upserts, deletes, false); err != nil {
		return fmt.Errorf("incremental %s: save cache: %w", qu.model, err)
	}
	return nil
}

// readFresh reads records by id (one call, paged).
func (in *incremental) readFresh(ctx context.Context, qu *query, ids []int) (map[int]odoo.Record, error) {
	out := make(map[int]odoo.Record, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	recs, err := in.sess.Read(ctx, qu.model, ids, qu.q)
	if err != nil {
		return nil, fmt.Errorf("incremental %s: read: %w", qu.model, err)
	}
	for _, rec := range recs {
		in.misses.Add(1)
		out[rec.ID()] = rec
	}
	return out, nil
}

// read serves a read by ids (records other sections point to, e.g. the
// orders of sale order lines) from the cache, reading what is new or
// stale; records come in the order of ids, as read gives them. The cache
// keeps exactly the records of this run's ids.
func (in *incremental) read(ctx context.Context, note func([]string), model string, ids []int, fields []string) ([]odoo.Record, error) {
	q := odoo.Query{Fields: fields}
	qu, ok, err := in.plan(ctx, "read", model, nil, q)
	if err != nil {
		return nil, err
	}
	if !ok {
		note(nil)
		return in.sess.Read(ctx, model, ids, q)
	}
	note(qu.deps)
	if err := in.know(ctx, qu.deps); err != nil {
		return nil, err
	}
	meta, cached, err := in.cache.CacheMeta(qu.key)
	if err != nil {
		return nil, fmt.Errorf("incremental %s: %w", model, err)
	}
	uniq := dedupeIDs(ids)
	st := in.state(cached, meta.Gen, meta.Deps, qu.coldOn)
	var cachedIDs []int
	if st != stateCold {
		if cachedIDs, err = in.cache.CacheIDs(qu.key); err != nil {
			return nil, err
		}
	}
	inCache := make(map[int]bool, len(cachedIDs))
	for _, id := range cachedIDs {
		inCache[id] = true
	}
	var stale map[int]bool
	if st == stateUpdate {
		if stale, err = in.stale(ctx, qu, cachedIDs, odoo.Domain{odoo.Term("id", "in", intsAny(uniq))}); err != nil {
			return nil, err
		}
	}
	written := in.changedIDs(model)
	var need []int
	wanted := make(map[int]bool, len(uniq))
	for _, id := range uniq {
		wanted[id] = true
		if st == stateCold || !inCache[id] || stale[id] || (st == stateUpdate && written[id]) {
			need = append(need, id)
		}
	}
	fresh, err := in.readFresh(ctx, qu, need)
	if err != nil {
		return nil, err
	}
	out := make([]odoo.Record, 0, len(uniq))
	var rest []int
	for _, id := range uniq {
		if _, ok := fresh[id]; !ok {
			rest = append(rest, id)
		}
	}
	cachedRecs := make(map[int]odoo.Record, len(rest))
	if err := in.cache.CacheRecords(qu.key, rest, func(id int, rec map[string]any) error {
		in.hits.Add(1)
		cachedRecs[id] = odoo.Record(rec)
		return nil
	}); err != nil {
		return nil, err
	}
	for _, id := range uniq {
		if rec, ok := fresh[id]; ok {
			out = append(out, rec)
		} else if rec, ok := cachedRecs[id]; ok {
			out = append(out, rec)
		}
	}
	var drop []int
	for _, id := range cachedIDs {
		if !wanted[id] {
			drop = append(drop, id)
		}
	}
	if st == stateFresh && len(fresh) == 0 && len(drop) == 0 {
		return out, nil // nothing to remember: the entry stays as it was
	}
	upserts := make(map[int]map[string]any, len(fresh))
	for id, rec := range fresh {
		upserts[id] = rec
	}
	// Every record kept was checked in this run: the entry is up to date as of it.
	meta = store.CacheMeta{Database: in.database, Model: model, Updated: time.Now().UTC(), Gen: in.gen, Deps: qu.deps}
	if err := in.cache.CacheApply(qu.key, meta, upserts, drop, st == stateCold); err != nil {
		return nil, fmt.Errorf("incremental %s: save cache: %w", model, err)
	}
	return out, nil
}

func intsAny(ids []int) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func dedupeIDs(ids []int) []int {
	seen := make(map[int]bool, len(ids))
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func maxStr(a, b string) string {
	if b > a {
		return b
	}
	return a
}

// and narrows a domain by one more term.
func and(domain odoo.Domain, term []any) odoo.Domain {
	if len(domain) == 0 {
		return odoo.Domain{term}
	}
	d := odoo.Domain{"&", term}
	return append(d, prefixAnd(domain)...)
}

// prefixAnd returns the domain as one prefix-notation expression, making
// its implicit ANDs explicit so it can be nested under another operator.
func prefixAnd(domain odoo.Domain) odoo.Domain {
	n := countExprs(domain)
	out := make(odoo.Domain, 0, len(domain)+n)
	for i := 1; i < n; i++ {
		out = append(out, "&")
	}
	return append(out, domain...)
}

// countExprs counts the top-level expressions of a prefix domain.
func countExprs(domain odoo.Domain) int {
	need, count := 0, 0
	for _, e := range domain {
		if need == 0 {
			count++
			need = 1
		}
		switch e {
		case "&", "|":
			need++ // consumes two operands: net one more pending
		case "!":
			// consumes one operand: pending count unchanged
		default:
			need--
		}
	}
	return count
}

// watermarks are the highest write_dates the checks saw, per model.
func (in *incremental) watermarks() map[string]string {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]string, len(in.marks))
	for m, mark := range in.marks {
		if mark.Watermark != "" {
			out[m] = mark.Watermark
		}
	}
	return out
}
