package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The cache of incremental extraction, one sub-bucket per entry:
//   - a cached query (database, scope, model, domain, fields, order): the
//     records last read keyed by id, the ids in Odoo's order and CacheMeta;
//   - a scope (CacheScope): per model what the last change check saw;
//   - a rendered section (CacheSection): its bytes.
//
// Every entry's meta names its database, so DropCache finds them all.
const bucketCache = "cache"

func init() { registerBuckets(bucketCache) }

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

func cacheBucket(tx *bolt.Tx, key string) *bolt.Bucket {
	return tx.Bucket([]byte(bucketCache)).Bucket([]byte(key))
}

// CacheMeta returns the meta data of a cached query; ok is false when nothing is cached.
func (s *Store) CacheMeta(key string) (meta CacheMeta, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := cacheBucket(tx, key)
		if b == nil {
			return nil
		}
		ok, err = getJSON(b, keyCacheMeta, &meta)
		return err
	})
	return meta, ok, err
}

// CacheRecords calls fn for each of ids that is cached, in the order given,
// inside one read transaction; missing ids are skipped. The record is
// decoded with the types Odoo sent (ints stay ints, floats floats).
func (s *Store) CacheRecords(key string, ids []int, fn func(id int, rec map[string]any) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := cacheBucket(tx, key)
		if b == nil {
			return nil
		}
		for _, id := range ids {
			v := b.Get(recordKey(id))
			if v == nil {
				continue
			}
			rec, err := DecodeRecord(v)
			if err != nil {
				return fmt.Errorf("cache %s record %d: %w", key, id, err)
			}
			if err := fn(id, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// CacheIDs lists the cached ids of a query in id order.
func (s *Store) CacheIDs(key string) ([]int, error) {
	var ids []int
	err := s.db.View(func(tx *bolt.Tx) error {
		b := cacheBucket(tx, key)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
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
	err := s.db.View(func(tx *bolt.Tx) error {
		b := cacheBucket(tx, key)
		if b == nil {
			return nil
		}
		data := b.Get(keyCacheOrder)
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
	return ids, err
}

// CacheApply writes changed records, removes deleted ones and stores the
// new meta data (and meta.Order, when set), in one transaction. replace
// drops everything first (a cold run).
func (s *Store) CacheApply(key string, meta CacheMeta, upserts map[int]map[string]any, deletes []int, replace bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte(bucketCache))
		if replace && root.Bucket([]byte(key)) != nil {
			if err := root.DeleteBucket([]byte(key)); err != nil {
				return err
			}
		}
		b, err := root.CreateBucketIfNotExists([]byte(key))
		if err != nil {
			return fmt.Errorf("cache %s: %w", key, err)
		}
		var old CacheMeta
		if _, err := getJSON(b, keyCacheMeta, &old); err != nil {
			return err
		}
		n := old.Count
		for id, rec := range upserts {
			data, err := EncodeRecord(rec)
			if err != nil {
				return fmt.Errorf("cache %s record %d: %w", key, id, err)
			}
			if b.Get(recordKey(id)) == nil {
				n++
			}
			if err := b.Put(recordKey(id), data); err != nil {
				return err
			}
		}
		for _, id := range deletes {
			if b.Get(recordKey(id)) != nil {
				n--
			}
			if err := b.Delete(recordKey(id)); err != nil {
				return err
			}
		}
		if meta.Order != nil {
			buf := make([]byte, 0, 3*len(meta.Order))
			for _, id := range meta.Order {
				buf = binary.AppendUvarint(buf, uint64(id))
			}
			if err := b.Put(keyCacheOrder, buf); err != nil {
				return err
			}
		}
		meta.Count = n
		return putJSON(b, keyCacheMeta, meta)
	})
}

// CacheScope returns a scope's change-check state.
func (s *Store) CacheScope(key string) (sc CacheScope, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := cacheBucket(tx, key)
		if b == nil {
			return nil
		}
		if ok, err = getJSON(b, keyCacheMeta, &sc); err != nil || !ok {
			return err
		}
		_, err = getJSON(b, keyCacheData, &sc.Fields)
		return err
	})
	return sc, ok, err
}

// SaveCacheScope stores a scope's change-check state; sc.Fields nil keeps
// the fields stored before (they change far less often than the marks).
func (s *Store) SaveCacheScope(key string, sc CacheScope) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket([]byte(bucketCache)).CreateBucketIfNotExists([]byte(key))
		if err != nil {
			return fmt.Errorf("cache %s: %w", key, err)
		}
		if sc.Fields != nil {
			if err := putJSON(b, keyCacheData, sc.Fields); err != nil {
				return err
			}
		}
		sc.Fields = nil
		return putJSON(b, keyCacheMeta, sc)
	})
}

// CacheSection returns a rendered section and its description.
func (s *Store) CacheSection(key string) (sec CacheSection, data []byte, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := cacheBucket(tx, key)
		if b == nil {
			return nil
		}
		if ok, err = getJSON(b, keyCacheMeta, &sec); err != nil || !ok {
			return err
		}
		data = bytes.Clone(b.Get(keyCacheData))
		return nil
	})
	return sec, data, ok, err
}

// SaveCacheSection stores a rendered section.
func (s *Store) SaveCacheSection(key string, sec CacheSection, data []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket([]byte(bucketCache)).CreateBucketIfNotExists([]byte(key))
		if err != nil {
			return fmt.Errorf("cache %s: %w", key, err)
		}
		if err := b.Put(keyCacheData, data); err != nil {
			return err
		}
		return putJSON(b, keyCacheMeta, sec)
	})
}

// DropCache forgets every cache entry of one database (all when empty).
func (s *Store) DropCache(database string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte(bucketCache))
		var doomed [][]byte
		err := root.ForEach(func(k, _ []byte) error {
			b := root.Bucket(k)
			if b == nil {
				return nil
			}
			var meta struct {
				Database string `json:"database"`
			}
			if database == "" {
				doomed = append(doomed, append([]byte(nil), k...))
			} else if ok, _ := getJSON(b, keyCacheMeta, &meta); ok && meta.Database == database {
				doomed = append(doomed, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := root.DeleteBucket(k); err != nil {
				return err
			}
		}
		return nil
	})
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
