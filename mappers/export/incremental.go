package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// RecordCache keeps the records of cacheable reads between exports
// (*store.Store implements it).
type RecordCache interface {
	CacheMeta(key string) (store.CacheMeta, bool, error)
	CacheRecords(key string, ids []int, fn func(id int, rec map[string]any) error) error
	CacheIDs(key string) ([]int, error)
	CacheApply(key string, meta store.CacheMeta, upserts map[int]map[string]any, deletes []int, replace bool) error
}

// incremental serves a read from the cache plus what changed in Odoo since
// the last run: the full id list of the query (to keep Odoo's order and
// notice deletions), the records written since the watermark minus a
// margin, records whose many2one/x2many targets changed (their display
// names or lists may differ without their own write_date moving), and a
// cold read whenever a related model lost records (deletions leave no
// write_date to find). The records come out exactly as a cold read gives them.
type incremental struct {
	cache    RecordCache
	sess     *odoo.Session
	database string
	scope    string // what else changes the answer: company scope, language
	margin   time.Duration
	refresh  bool
	readAt   time.Time // the export clock at the start of this run

	mu     sync.Mutex
	fields map[string]map[string]odoo.Field // fields_get per model, once per run
	rel    map[string]relState              // related-model state, once per run
	// relChanged memoizes changedRelated per model and since: queries
	// cached by the same earlier run share their since.
	relChanged map[string][]int
	stats      incrementalStats
	hits       atomic.Int64 // records served from the cache
	misses     atomic.Int64 // records read from Odoo
}

type incrementalStats struct {
	Calls      int
	Watermarks map[string]string
}

const writeDate = "write_date"

// cacheKey names one query: the same domain, fields and order on the same
// database and scope is the same cached result.
func (in *incremental) cacheKey(model string, domain odoo.Domain, q odoo.Query) string {
	d, _ := json.Marshal([]any{in.database, in.scope, model, domain, q.Fields, q.Order})
	sum := sha256.Sum256(d)
	return model + ":" + hex.EncodeToString(sum[:12])
}

func (in *incremental) fieldsOf(ctx context.Context, model string) (map[string]odoo.Field, error) {
	in.mu.Lock()
	f, ok := in.fields[model]
	in.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := in.sess.FieldsGet(ctx, model)
	if err != nil {
		return nil, err
	}
	in.mu.Lock()
	if in.fields == nil {
		in.fields = map[string]map[string]odoo.Field{}
	}
	in.fields[model] = f
	in.mu.Unlock()
	in.countCall()
	return f, nil
}

// each streams the records of the query in Odoo's order.
func (in *incremental) each(ctx context.Context, model string, domain odoo.Domain, q odoo.Query, fn func(odoo.Record) error) error {
	fields, err := in.fieldsOf(ctx, model)
	if err != nil {
		return fmt.Errorf("incremental %s: %w", model, err)
	}
	if _, ok := fields[writeDate]; !ok || q.Fields == nil || q.Limit > 0 || q.Offset > 0 {
		return in.sess.SearchReadEach(ctx, model, domain, q, fn) // not cacheable
	}
	key := in.cacheKey(model, domain, q)
	meta, ok, err := in.cache.CacheMeta(key)
	if err != nil {
		return fmt.Errorf("incremental %s: %w", model, err)
	}
	related, rel, err := in.relatedState(ctx, model, q.Fields, fields)
	if err != nil {
		return err
	}
	if ok && !in.refresh {
		if ok, err = in.relatedIntact(ctx, model, meta, rel); err != nil {
			return err
		}
	}
	meta = relMeta(meta, rel)
	if !ok || in.refresh {
		return in.cold(ctx, key, model, domain, q, meta, fn)
	}
	return in.warm(ctx, key, meta, model, domain, q, related, fn)
}

type relState struct{ count, max int }

// relatedIntact reports whether no record of a related model was deleted
// since the cached read. Ids only grow: if the related model still has as
// many records up to the old highest id, none of them was deleted.
func (in *incremental) relatedIntact(ctx context.Context, model string, meta store.CacheMeta, rel map[string]relState) (bool, error) {
	for name, now := range rel {
		oldCount, seen := meta.Related[name]
		oldMax := meta.RelatedMax[name]
		if !seen {
			return false, nil
		}
		kept := now.count
		if now.max != oldMax {
			n, err := in.sess.SearchCount(ctx, name, odoo.Domain{odoo.Term("id", "<=", oldMax)}, odoo.Query{Context: odoo.Context{"active_test": false}})
			in.countCall()
			if err != nil {
				return false, fmt.Errorf("incremental %s: count %s: %w", model, name, err)
			}
			kept = n
		}
		if kept != oldCount {
			return false, nil // a related record was deleted: its referrers may have changed
		}
	}
	return true, nil
}

func relMeta(meta store.CacheMeta, rel map[string]relState) store.CacheMeta {
	meta.Related, meta.RelatedMax = map[string]int{}, map[string]int{}
	for name, st := range rel {
		meta.Related[name], meta.RelatedMax[name] = st.count, st.max
	}
	return meta
}

// changedRelated lists, per related model, the ids written since since.
func (in *incremental) changedRelated(ctx context.Context, model string, related map[string][]string, since string) (map[string][]int, error) {
	out := map[string][]int{}
	for rel := range related {
		memo := rel + "\x00" + since
		in.mu.Lock()
		ids, known := in.relChanged[memo]
		in.mu.Unlock()
		if !known {
			var err error
			ids, err = in.sess.Search(ctx, rel, odoo.Domain{odoo.Term(writeDate, ">=", since)}, odoo.Query{Context: odoo.Context{"active_test": false}})
			in.countCall()
			if err != nil {
				return nil, fmt.Errorf("incremental %s: changed %s: %w", model, rel, err)
			}
			in.mu.Lock()
			if in.relChanged == nil {
				in.relChanged = map[string][]int{}
			}
			in.relChanged[memo] = ids
			in.mu.Unlock()
		}
		if len(ids) > 0 {
			out[rel] = ids
		}
	}
	return out, nil
}

// read serves a read by ids (records other sections point to, e.g. the
// orders of sale order lines) from the cache: one search_read of the ids'
// write_date, one search per related model with changes, and one read of
// what is new or changed. Records come in the order of ids, as read gives.
func (in *incremental) read(ctx context.Context, model string, ids []int, fields []string) ([]odoo.Record, error) {
	fds, err := in.fieldsOf(ctx, model)
	if err != nil {
		return nil, fmt.Errorf("incremental %s: %w", model, err)
	}
	q := odoo.Query{Fields: fields}
	plain := func() ([]odoo.Record, error) {
		in.countCall()
		return in.sess.Read(ctx, model, ids, q)
	}
	if _, ok := fds[writeDate]; !ok || fields == nil {
		return plain()
	}
	key := in.cacheKey(model, odoo.Domain{"read by id"}, q)
	meta, ok, err := in.cache.CacheMeta(key)
	if err != nil {
		return nil, fmt.Errorf("incremental %s: %w", model, err)
	}
	related, rel, err := in.relatedState(ctx, model, fields, fds)
	if err != nil {
		return nil, err
	}
	// The model itself counts as related: a deleted record of it must not
	// be served from the cache (ids come from referrers read this run, so
	// this only guards against referrers that were not rewritten).
	self, err := in.modelState(ctx, model, model)
	if err != nil {
		return nil, err
	}
	rel[model] = self
	if ok && !in.refresh {
		if ok, err = in.relatedIntact(ctx, model, meta, rel); err != nil {
			return nil, err
		}
	}
	uniq := dedupeIDs(ids)
	have := map[int]odoo.Record{}
	need := uniq
	if ok && !in.refresh {
		since := in.since(meta)
		// Changed records of the whole model, intersected here: cheaper
		// for Odoo than sending the id list.
		written, err := in.sess.Search(ctx, model, odoo.Domain{odoo.Term(writeDate, ">=", since)}, odoo.Query{Context: odoo.Context{"active_test": false}})
		in.countCall()
		if err != nil {
			return nil, fmt.Errorf("incremental %s: changed: %w", model, err)
		}
		stale := make(map[int]bool, len(written))
		for _, id := range written {
			stale[id] = true
		}
		if err := in.cache.CacheRecords(key, uniq, func(id int, rec map[string]any) error {
			if !stale[id] {
				have[id] = odoo.Record(rec)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		changed, err := in.changedRelated(ctx, model, related, since)
		if err != nil {
			return nil, err
		}
		for relModel, relIDs := range changed {
			for _, f := range related[relModel] {
				hit, err := in.sess.Search(ctx, model, odoo.Domain{odoo.Term(f, "in", relIDs)}, odoo.Query{Context: odoo.Context{"active_test": false}})
				in.countCall()
				if err != nil {
					return nil, fmt.Errorf("incremental %s: via %s: %w", model, f, err)
				}
				for _, id := range hit {
					stale[id] = true
				}
			}
		}
		need = need[:0:0]
		for _, id := range uniq {
			if _, cached := have[id]; !cached || stale[id] {
				delete(have, id)
				need = append(need, id)
			}
		}
	}
	upserts := map[int]map[string]any{}
	watermark := meta.Watermark
	if len(need) > 0 {
		in.countCall()
		recs, err := in.sess.Read(ctx, model, need, withWriteDate(q))
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			have[r.ID()] = r
			upserts[r.ID()] = r
			watermark = maxStr(watermark, r.String(writeDate))
		}
	}
	in.hits.Add(int64(len(uniq) - len(need)))
	in.misses.Add(int64(len(need)))
	// The cache keeps exactly the records checked in this run: ReadAt then
	// holds for all of them (a record left out and changed meanwhile must
	// not survive under the newer ReadAt).
	cachedIDs, err := in.cache.CacheIDs(key)
	if err != nil {
		return nil, err
	}
	wanted := make(map[int]bool, len(uniq))
	for _, id := range uniq {
		wanted[id] = true
	}
	var drop []int
	for _, id := range cachedIDs {
		if !wanted[id] {
			drop = append(drop, id)
		}
	}
	newMeta := relMeta(store.CacheMeta{Database: in.database, Model: model, Watermark: watermark, Updated: time.Now().UTC(), ReadAt: in.readAt}, rel)
	if err := in.cache.CacheApply(key, newMeta, upserts, drop, false); err != nil {
		return nil, fmt.Errorf("incremental %s: save cache: %w", model, err)
	}
	in.noteWatermark(model, watermark)
	out := make([]odoo.Record, 0, len(uniq))
	for _, id := range uniq {
		if r, found := have[id]; found {
			out = append(out, stripWriteDate(r, fields))
		}
	}
	return out, nil
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

// relatedState lists the models the query's relational fields point to
// (relation → fields) with their record count and highest id, archived
// included; each model is counted once per run.
func (in *incremental) relatedState(ctx context.Context, model string, want []string, fields map[string]odoo.Field) (map[string][]string, map[string]relState, error) {
	related := map[string][]string{}
	for _, f := range want {
		fd, ok := fields[f]
		if !ok || fd.Relation == "" {
			continue
		}
		switch fd.Type {
		case "many2one", "one2many", "many2many":
			related[fd.Relation] = append(related[fd.Relation], f)
		}
	}
	out := map[string]relState{}
	for name := range related {
		st, err := in.modelState(ctx, model, name)
		if err != nil {
			return nil, nil, err
		}
		out[name] = st
	}
	return related, out, nil
}

// modelState is a model's record count and highest id, archived included,
// read once per run.
func (in *incremental) modelState(ctx context.Context, model, name string) (relState, error) {
	in.mu.Lock()
	st, ok := in.rel[name]
	in.mu.Unlock()
	if ok {
		return st, nil
	}
	all := odoo.Query{Context: odoo.Context{"active_test": false}}
	n, err := in.sess.SearchCount(ctx, name, nil, all)
	in.countCall()
	if err != nil {
		return st, fmt.Errorf("incremental %s: count %s: %w", model, name, err)
	}
	top, err := in.sess.Search(ctx, name, nil, odoo.Query{Order: "id desc", Limit: 1, Context: all.Context})
	in.countCall()
	if err != nil {
		return st, fmt.Errorf("incremental %s: last id of %s: %w", model, name, err)
	}
	st = relState{count: n}
	if len(top) > 0 {
		st.max = top[0]
	}
	in.mu.Lock()
	if in.rel == nil {
		in.rel = map[string]relState{}
	}
	in.rel[name] = st
	in.mu.Unlock()
	return st, nil
}

func (in *incremental) countCall() {
	in.mu.Lock()
	in.stats.Calls++
	in.mu.Unlock()
}

// since is where changes are searched from: the old watermark less the
// margin, or, when later, the start of the previous read less the margin
// and a second (write_date has whole seconds). The second bound matters
// when many records share the watermark's second (imports, bulk writes):
// the watermark alone would re-read all of them on every run. Both bounds
// assume the gateway's and Odoo's clocks differ by less than the margin.
func (in *incremental) since(meta store.CacheMeta) string {
	from := time.Unix(0, 0).UTC()
	if t, err := time.ParseInLocation(odoo.DatetimeLayout, meta.Watermark, time.UTC); err == nil {
		from = t.Add(-in.margin)
	}
	if !meta.ReadAt.IsZero() {
		if t := meta.ReadAt.Add(-in.margin - time.Second); t.After(from) {
			from = t
		}
	}
	return odoo.FormatDatetime(from)
}

func withWriteDate(q odoo.Query) odoo.Query {
	for _, f := range q.Fields {
		if f == writeDate {
			return q
		}
	}
	q.Fields = append(append([]string(nil), q.Fields...), writeDate)
	return q
}

// stripWriteDate hands the caller the fields it asked for, as a cold read would.
func stripWriteDate(rec odoo.Record, asked []string) odoo.Record {
	for _, f := range asked {
		if f == writeDate {
			return rec
		}
	}
	out := make(odoo.Record, len(rec))
	for k, v := range rec {
		if k != writeDate {
			out[k] = v
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

func (in *incremental) cold(ctx context.Context, key, model string, domain odoo.Domain, q odoo.Query, base store.CacheMeta, fn func(odoo.Record) error) error {
	rq := withWriteDate(q)
	batch := map[int]map[string]any{}
	watermark := ""
	first := true
	flush := func() error {
		meta := store.CacheMeta{Database: in.database, Model: model, Watermark: watermark, Updated: time.Now().UTC(),
			ReadAt: in.readAt, Related: base.Related, RelatedMax: base.RelatedMax}
		err := in.cache.CacheApply(key, meta, batch, nil, first)
		first = false
		batch = map[int]map[string]any{}
		return err
	}
	err := in.sess.SearchReadEach(ctx, model, domain, rq, func(rec odoo.Record) error {
		in.misses.Add(1)
		watermark = maxStr(watermark, rec.String(writeDate))
		batch[rec.ID()] = rec
		if len(batch) >= 2000 {
			if err := flush(); err != nil {
				return err
			}
		}
		return fn(stripWriteDate(rec, q.Fields))
	})
	in.countCall()
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return fmt.Errorf("incremental %s: save cache: %w", model, err)
	}
	in.noteWatermark(model, watermark)
	return nil
}

func (in *incremental) warm(ctx context.Context, key string, meta store.CacheMeta, model string, domain odoo.Domain, q odoo.Query,
	related map[string][]string, fn func(odoo.Record) error) error {
	rq := withWriteDate(q)
	since := in.since(meta)
	ids, err := in.sess.Search(ctx, model, domain, odoo.Query{Order: q.Order, Context: q.Context})
	in.countCall()
	if err != nil {
		return fmt.Errorf("incremental %s: ids: %w", model, err)
	}
	changed := map[int]odoo.Record{}
	collect := func(d odoo.Domain) error {
		in.countCall()
		return in.sess.SearchReadEach(ctx, model, d, rq, func(rec odoo.Record) error {
			changed[rec.ID()] = rec
			return nil
		})
	}
	// and narrows the caller's domain by one more term.
	and := func(term []any) odoo.Domain {
		if len(domain) == 0 {
			return odoo.Domain{term}
		}
		d := odoo.Domain{"&", term}
		return append(d, prefixAnd(domain)...)
	}
	if err := collect(and(odoo.Term(writeDate, ">=", since))); err != nil {
		return fmt.Errorf("incremental %s: changed: %w", model, err)
	}
	changedRel, err := in.changedRelated(ctx, model, related, since)
	if err != nil {
		return err
	}
	rels := make([]string, 0, len(changedRel))
	for rel := range changedRel {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		for _, f := range related[rel] {
			if err := collect(and(odoo.Term(f, "in", changedRel[rel]))); err != nil {
				return fmt.Errorf("incremental %s: via %s: %w", model, f, err)
			}
		}
	}
	cachedIDs, err := in.cache.CacheIDs(key)
	if err != nil {
		return err
	}
	cached := make(map[int]bool, len(cachedIDs))
	for _, id := range cachedIDs {
		cached[id] = true
	}
	var missing []int
	inQuery := make(map[int]bool, len(ids))
	for _, id := range ids {
		inQuery[id] = true
		if _, ok := changed[id]; !ok && !cached[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		recs, err := in.sess.Read(ctx, model, missing, rq)
		in.countCall()
		if err != nil {
			return fmt.Errorf("incremental %s: read new: %w", model, err)
		}
		for _, rec := range recs {
			changed[rec.ID()] = rec
		}
	}
	var deletes []int
	for _, id := range cachedIDs {
		if !inQuery[id] {
			deletes = append(deletes, id)
		}
	}
	// Emit in Odoo's order: runs of unchanged ids come from the cache in one transaction.
	watermark := meta.Watermark
	var run []int
	emitRun := func() error {
		if len(run) == 0 {
			return nil
		}
		err := in.cache.CacheRecords(key, run, func(id int, rec map[string]any) error {
			in.hits.Add(1)
			return fn(stripWriteDate(odoo.Record(rec), q.Fields))
		})
		run = run[:0]
		return err
	}
	upserts := make(map[int]map[string]any, len(changed))
	for _, id := range ids {
		rec, ok := changed[id]
		if !ok {
			run = append(run, id)
			continue
		}
		if err := emitRun(); err != nil {
			return err
		}
		in.misses.Add(1)
		watermark = maxStr(watermark, rec.String(writeDate))
		upserts[id] = rec
		if err := fn(stripWriteDate(rec, q.Fields)); err != nil {
			return err
		}
	}
	if err := emitRun(); err != nil {
		return err
	}
	newMeta := store.CacheMeta{Database: in.database, Model: model, Watermark: watermark, Updated: time.Now().UTC(),
		ReadAt: in.readAt, Related: meta.Related, RelatedMax: meta.RelatedMax}
	if err := in.cache.CacheApply(key, newMeta, upserts, deletes, false); err != nil {
		return fmt.Errorf("incremental %s: save cache: %w", model, err)
	}
	in.noteWatermark(model, watermark)
	return nil
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

func (in *incremental) noteWatermark(model, wm string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stats.Watermarks == nil {
		in.stats.Watermarks = map[string]string{}
	}
	in.stats.Watermarks[model] = maxStr(in.stats.Watermarks[model], wm)
}
