package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The record cache of incremental extraction: per cached query (database,
// company scope, model, domain, fields) the records last read, keyed by id,
// plus the write_date watermark of that read.
const bucketCache = "cache"

func init() { registerBuckets(bucketCache) }

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
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketCache)).Bucket([]byte(key))
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
		b := tx.Bucket([]byte(bucketCache)).Bucket([]byte(key))
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
		b := tx.Bucket([]byte(bucketCache)).Bucket([]byte(key))
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

// CacheApply writes changed records, removes deleted ones and stores the
// new meta data, in one transaction. replace drops everything first (a cold run).
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
		for id, rec := range upserts {
			data, err := EncodeRecord(rec)
			if err != nil {
				return fmt.Errorf("cache %s record %d: %w", key, id, err)
			}
			if err := b.Put(recordKey(id), data); err != nil {
				return err
			}
		}
		for _, id := range deletes {
			if err := b.Delete(recordKey(id)); err != nil {
				return err
			}
		}
		n := 0
		_ = b.ForEach(func(k, _ []byte) error {
			if len(k) == 8 {
				n++
			}
			return nil
		})
		meta.Count = n
		return putJSON(b, keyCacheMeta, meta)
	})
}

// DropCache forgets cached records of one database (all when empty).
func (s *Store) DropCache(database string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte(bucketCache))
		var doomed [][]byte
		err := root.ForEach(func(k, _ []byte) error {
			b := root.Bucket(k)
			if b == nil {
				return nil
			}
			var meta CacheMeta
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
