package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// The record cache of incremental extraction: per cached query (database,
// company scope, model, domain, fields) the records last read, keyed by id,
// plus the write_date watermark of that read.
const bucketCache = "cache"

func init() {
	registerBuckets(bucketCache)
	registerNested(bucketCache)
}

// cacheB is the bucket of one cached query.
func cacheB(key string) bucket { return bucket{bucketCache, key} }

var keyCacheMeta = []byte("\x00meta")

// CacheMeta describes one cached query.
type CacheMeta struct {
	Database  string    `json:"database"`
	Model     string    `json:"model"`
	Watermark string    `json:"watermark"` // highest write_date of the cached records (UTC text)
	Updated   time.Time `json:"updated"`
	// ReadAt is the export clock when the cached read started: records
	// written well before it were read as they are (zero: unknown).
	ReadAt time.Time `json:"read_at,omitempty"`
	Count  int       `json:"count"`
	// Related counts the records of the models the query's relational
	// fields point to, to notice deletions there.
	Related map[string]int `json:"related,omitempty"`
	// RelatedMax is the highest id of each related model at that time.
	RelatedMax map[string]int `json:"related_max,omitempty"`
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

// CacheApply writes changed records, removes deleted ones and stores the
// new meta data. replace drops everything first (a cold run).
//
// On bbolt this is one transaction. etcd bounds its transactions, so there
// the records go in chunks and the meta data last, in an update that
// checks the meta data is still the one this apply started from: after a
// concurrent apply of the same query it drops the meta data instead (the
// next run is cold), so records and meta data never disagree. A record too
// large for one etcd value is not cached: it is read from Odoo each time.
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
	// putMeta stores the meta data with the number of records, which the
	// bucket holds beside the meta data itself.
	putMeta := func(tx txn, metaPresent bool) error {
		n, err := tx.count(b)
		if err != nil {
			return err
		}
		if metaPresent {
			n--
		}
		m := meta
		m.Count = n
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
			was, err := tx.get(b, keyCacheMeta)
			if err != nil {
				return err
			}
			return putMeta(tx, was != nil)
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
		return putMeta(tx, now != nil)
	})
	if err != nil {
		return fmt.Errorf("cache %s: %w", key, err)
	}
	return nil
}

// DropCache forgets cached records of one database (all when empty).
func (s *Store) DropCache(database string) error {
	root := top(bucketCache)
	var doomed []string
	err := s.kv.view(func(r reader) error {
		doomed = doomed[:0]
		return r.buckets(root, func(name []byte) error {
			var meta CacheMeta
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
