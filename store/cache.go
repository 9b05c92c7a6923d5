package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// The cache of incremental extraction, one nested bucket per entry:
//   - a cached query (database, scope, model, domain, fields, order): the
//     records last read keyed by id, the ids in Odoo's order and CacheMeta;
//   - a scope (CacheScope): per model what the last change check saw;
//   - a rendered section (CacheSection): its bytes.
//
// Every entry's meta names its database, so DropCache finds them all.
const bucketCache = "cache"

func init() {
	registerBuckets(bucketCache)
	registerNested(bucketCache)
}

// cacheB is the bucket of one cache entry.
func cacheB(key string) bucket { return bucket{bucketCache, key} }

var (
	keyCacheMeta  = []byte("\x00meta")
	keyCacheOrder = []byte("\x00order")
	keyCacheData  = []byte("\x00data")
)

// CacheMeta describes one cached query.
type CacheMeta struct {
	Database  string    `json:"database"`
	Model     string    `json:"model"`
	Watermark string    `json:"watermark"` // highest write_date of the cached records (UTC text)
	Updated   time.Time `json:"updated"`
	Count     int       `json:"count"`
	// Gen is the export run (CacheScope.Gen) that last brought the records
	// up to date.
	Gen int64 `json:"gen,omitempty"`
	// Deps are the models whose changes can change the answer: the
	// queried one, those its relational fields point to, those its domain
	// and order go through.
	Deps []string `json:"deps,omitempty"`
	// Order, when not nil, replaces the ids of the query in Odoo's order
	// (CacheApply); it is kept beside the meta, not in it.
	Order []int `json:"-"`
}

// CacheScope is the change-check state of one export scope (database,
// user, companies, language, mode): per model what the last check saw.
type CacheScope struct {
	Database string `json:"database"`
	// Gen counts the export runs of the scope; each takes the next.
	Gen int64 `json:"gen"`
	// ReadGroup says whether Odoo answers the one-call check (read_group):
	// 1 yes, -1 no, 0 not known yet.
	ReadGroup int                  `json:"read_group,omitempty"`
	Models    map[string]ModelMark `json:"models"`
	// Fields holds fields_get per model (a nil map: the model does not
	// exist), valid while the installed modules are unchanged; stored
	// apart from the rest.
	Fields map[string]map[string]CachedField `json:"-"`
}

// ModelMark is what a change check of one model saw.
type ModelMark struct {
	Count     int       `json:"count"`     // records, archived included
	MaxID     int       `json:"max_id"`    // highest id seen
	Watermark string    `json:"watermark"` // highest write_date seen (UTC text)
	CheckedAt time.Time `json:"checked_at"`
	// Changed is the run that last saw a record of the model written,
	// created or deleted.
	Changed int64 `json:"changed"`
	// Absent: the model does not exist (looked for again when the
	// installed modules change).
	Absent bool `json:"absent,omitempty"`
}

// CachedField is the part of a fields_get answer exports use.
type CachedField struct {
	Type     string `json:"type"`
	Relation string `json:"relation,omitempty"`
	Computed bool   `json:"computed,omitempty"` // not stored
	Related  string `json:"related,omitempty"`
}

// CacheSection describes a rendered section kept for reuse.
type CacheSection struct {
	Database string `json:"database"`
	// Gen is the run that rendered it; Models are those its content
	// depends on, directly or through earlier sections.
	Gen     int64    `json:"gen"`
	Models  []string `json:"models"`
	Records int      `json:"records"`
}

func recordKey(id int) []byte { return u64(id) }

// CacheMeta returns the meta data of a cached query; ok is false when nothing is cached.
func (s *Store) CacheMeta(key string) (meta CacheMeta, ok bool, err error) {
	err = s.kv.view(func(r reader) error {
		ok, err = getJSON(r, cacheB(key), keyCacheMeta, &meta)
		return err
	})
	return meta, ok, err
}

// CacheRecords calls fn for each of ids that is cached, in the order given,
// from one snapshot; missing ids are skipped. The record is decoded with
// the types Odoo sent (ints stay ints, floats floats).
func (s *Store) CacheRecords(key string, ids []int, fn func(id int, rec map[string]any) error) error {
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = recordKey(id)
	}
	return s.kv.view(func(r reader) error {
		return r.getMany(cacheB(key), keys, func(i int, v []byte) error {
			rec, err := DecodeRecord(v)
			if err != nil {
				return fmt.Errorf("cache %s record %d: %w", key, ids[i], err)
			}
			return fn(ids[i], rec)
		})
	})
}

// CacheIDs lists the cached ids of a query in id order.
func (s *Store) CacheIDs(key string) ([]int, error) {
	var ids []int
	err := s.kv.view(func(r reader) error {
		ids = ids[:0]
		return r.scan(cacheB(key), scanSpec{keysOnly: true}, func(k, _ []byte) error {
			if len(k) == 8 {
				ids = append(ids, int(beU64(k)))
			}
			return nil
		})
	})
	return ids, err
}

// CacheOrder returns the ids of a cached query in Odoo's order (nil when
// none was stored).
func (s *Store) CacheOrder(key string) ([]int, error) {
	var ids []int
	err := s.kv.view(func(r reader) error {
		ids = ids[:0]
		data, err := r.get(cacheB(key), keyCacheOrder)
		if err != nil {
			return err
		}
		for len(data) > 0 {
			id, n := binary.Uvarint(data)
			if n <= 0 {
				return fmt.Errorf("cache %s: order: %w", key, errShortRecord)
			}
			ids = append(ids, int(id))
			data = data[n:]
		}
		return nil
	})
	if len(ids) == 0 {
		ids = nil
	}
	return ids, err
}

// specialKeys is how many of the bucket's non-record keys are present.
func specialKeys(r reader, b bucket) (int, error) {
	n := 0
	for _, k := range [][]byte{keyCacheMeta, keyCacheOrder, keyCacheData} {
		v, err := r.get(b, k)
		if err != nil {
			return 0, err
		}
		if v != nil {
			n++
		}
	}
	return n, nil
}

// CacheApply writes changed records, removes deleted ones and stores the
// new meta data (and meta.Order, when set). replace drops everything
// first (a cold run).
//
// On bbolt this is one transaction. etcd bounds its transactions, so there
// the records go in chunks and the meta data last, in an update that
// checks the meta data is still the one this apply started from: after a
// concurrent apply of the same query it drops the meta data instead (the
// next run is cold), so records and meta data never disagree. A record,
// or an order, too large for one etcd value is not cached: the record is
// read from Odoo each time, the query's order asked again.
func (s *Store) CacheApply(key string, meta CacheMeta, upserts map[int]map[string]any, deletes []int, replace bool) error {
	b := cacheB(key)
	lim := s.kv.limits()
	type write struct {
		key  []byte
		data []byte // nil: delete
	}
	writes := make([]write, 0, len(upserts)+len(deletes))
	for id, rec := range upserts {
		data, err := EncodeRecord(rec)
		if err != nil {
			return fmt.Errorf("cache %s record %d: %w", key, id, err)
		}
		if len(data) > lim.value {
			data = nil // drop the old copy
		}
		writes = append(writes, write{recordKey(id), data})
	}
	for _, id := range deletes {
		writes = append(writes, write{key: recordKey(id)})
	}
	var order []byte
	if meta.Order != nil {
		order = make([]byte, 0, 3*len(meta.Order))
		for _, id := range meta.Order {
			order = binary.AppendUvarint(order, uint64(id))
		}
	}
	apply := func(tx txn, ws []write) error {
		for _, w := range ws {
			var err error
			if w.data == nil {
				err = tx.del(b, w.key)
			} else {
				err = tx.put(b, w.key, w.data)
			}
			if err != nil {
				return fmt.Errorf("cache %s: %w", key, err)
			}
		}
		return nil
	}
	// finish stores the order and the meta data with the number of
	// records, which the bucket holds beside its other keys (those present
	// are counted from what the update reads).
	finish := func(tx txn) error {
		n, err := tx.count(b, scanSpec{}, 0)
		if err != nil {
			return err
		}
		special, err := specialKeys(tx, b)
		if err != nil {
			return err
		}
		switch {
		case meta.Order == nil:
		case len(order) > lim.value:
			// A stale order would be worse than none.
			if err := tx.del(b, keyCacheOrder); err != nil {
				return err
			}
		default:
			if err := tx.put(b, keyCacheOrder, order); err != nil {
				return err
			}
		}
		m := meta
		m.Count = n - special
		return putJSON(tx, b, keyCacheMeta, &m)
	}
	if lim == unlimited {
		// bbolt: one transaction, which sees its own writes.
		return s.kv.update(func(tx txn) error {
			if replace {
				if err := tx.delBucket(b); err != nil {
					return err
				}
			}
			if err := apply(tx, writes); err != nil {
				return err
			}
			return finish(tx)
		})
	}
	var was []byte
	err := s.kv.update(func(tx txn) error {
		if replace {
			was = nil
			return tx.delBucket(b)
		}
		var err error
		was, err = tx.get(b, keyCacheMeta)
		return err
	})
	if err != nil {
		return fmt.Errorf("cache %s: %w", key, err)
	}
	// The nested bucket's registration rides along with each chunk. The
	// chunks touch different keys, so several go at once: etcd syncs the
	// transactions that arrive together to disk once.
	chunks := lim.chunks(len(writes), 1, 1, func(i int) int { return len(writes[i].data) + 24 })
	if err := inParallel(len(chunks), parallelUpdates, func(i int) error {
		c := chunks[i]
		return s.kv.update(func(tx txn) error { return apply(tx, writes[c[0]:c[1]]) })
	}); err != nil {
		return err
	}
	err = s.kv.update(func(tx txn) error {
		now, err := tx.get(b, keyCacheMeta)
		if err != nil {
			return err
		}
		if !bytes.Equal(now, was) {
			return tx.del(b, keyCacheMeta)
		}
		return finish(tx)
	})
	if err != nil {
		return fmt.Errorf("cache %s: %w", key, err)
	}
	return nil
}

// CacheScope returns a scope's change-check state.
func (s *Store) CacheScope(key string) (sc CacheScope, ok bool, err error) {
	err = s.kv.view(func(r reader) error {
		sc = CacheScope{}
		if ok, err = getJSON(r, cacheB(key), keyCacheMeta, &sc); err != nil || !ok {
			return err
		}
		_, err = getJSON(r, cacheB(key), keyCacheData, &sc.Fields)
		return err
	})
	return sc, ok, err
}

// SaveCacheScope stores a scope's change-check state; sc.Fields nil keeps
// the fields stored before (they change far less often than the marks).
// Fields too large for one value of the backend are dropped: the next run
// asks Odoo for them again.
func (s *Store) SaveCacheScope(key string, sc CacheScope) error {
	var fields []byte
	if sc.Fields != nil {
		var err error
		if fields, err = json.Marshal(sc.Fields); err != nil {
			return fmt.Errorf("cache %s: encode fields: %w", key, err)
		}
	}
	sc.Fields = nil
	return s.kv.update(func(tx txn) error {
		b := cacheB(key)
		switch {
		case fields == nil:
		case len(fields) > s.kv.limits().value:
			if err := tx.del(b, keyCacheData); err != nil {
				return err
			}
		default:
			if err := tx.put(b, keyCacheData, fields); err != nil {
				return err
			}
		}
		return putJSON(tx, b, keyCacheMeta, &sc)
	})
}

// CacheSection returns a rendered section and its description.
func (s *Store) CacheSection(key string) (sec CacheSection, data []byte, ok bool, err error) {
	err = s.kv.view(func(r reader) error {
		sec, data = CacheSection{}, nil
		if ok, err = getJSON(r, cacheB(key), keyCacheMeta, &sec); err != nil || !ok {
			return err
		}
		v, err := r.get(cacheB(key), keyCacheData)
		if v == nil {
			ok = false // described but not kept (too large): render it
		}
		data = bytes.Clone(v)
		return err
	})
	return sec, data, ok, err
}

// SaveCacheSection stores a rendered section. A section too large for one
// value of the backend (etcd's limit) is not kept: it is rendered again.
func (s *Store) SaveCacheSection(key string, sec CacheSection, data []byte) error {
	return s.kv.update(func(tx txn) error {
		b := cacheB(key)
		if len(data) > s.kv.limits().value {
			return tx.delBucket(b)
		}
		if err := tx.put(b, keyCacheData, data); err != nil {
			return err
		}
		return putJSON(tx, b, keyCacheMeta, &sec)
	})
}

// DropCache forgets every cache entry of one database (all when empty).
func (s *Store) DropCache(database string) error {
	root := top(bucketCache)
	var doomed []string
	err := s.kv.view(func(r reader) error {
		doomed = doomed[:0]
		return r.buckets(root, func(name []byte) error {
			var meta struct {
				Database string `json:"database"`
			}
			if database == "" {
				doomed = append(doomed, string(name))
			} else if ok, _ := getJSON(r, cacheB(string(name)), keyCacheMeta, &meta); ok && meta.Database == database {
				doomed = append(doomed, string(name))
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("drop cache: %w", err)
	}
	// A bucket is a few operations on any backend: several per update.
	for _, c := range s.kv.limits().chunks(len(doomed), 4, 0, nil) {
		err := s.kv.update(func(tx txn) error {
			for _, k := range doomed[c[0]:c[1]] {
				if err := tx.delBucket(cacheB(k)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("drop cache: %w", err)
		}
	}
	return nil
}

func beU64(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

// DecodeRecord reads what EncodeRecord wrote, or the JSON form records
// were cached in before (read back with the same types).
func DecodeRecord(data []byte) (map[string]any, error) {
	if len(data) > 0 && data[0] == recordMagic {
		return decodeBinaryRecord(data[1:])
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return fixNumbers(m).(map[string]any), nil
}

func fixNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i, e := range x {
			x[i] = fixNumbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = fixNumbers(e)
		}
	}
	return v
}
