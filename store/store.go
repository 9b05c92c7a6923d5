// Package store keeps plangate's state in one bbolt file: extraction runs
// and the incremental-extraction cache, the journal of imported plans, shop
// configuration and stock-sync records, and order-sourcing runs. Each
// concern lives in its own file and its own top-level bucket.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version this build writes. Open migrates
// older files forward and refuses newer ones.
const SchemaVersion = 1

var (
	bucketMeta = []byte("meta")
	keySchema  = []byte("schema_version")
	keyApp     = []byte("application")
	appName    = []byte("plangate")
)

// ErrLocked is returned when another process holds the file.
var ErrLocked = errors.New("store: file is locked by another process")

// ErrForeign is returned for a file that is not a plangate store.
var ErrForeign = errors.New("store: not a plangate state file")

// Store is an open state file. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
}

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock (0: 2 s), so a second
	// process gets ErrLocked instead of hanging.
	Timeout time.Duration
	// ReadOnly opens without write access (e.g. for `plangate state`).
	ReadOnly bool
}

// migration upgrades a file from version From to From+1 inside one transaction.
type migration struct {
	From  int
	Apply func(tx *bolt.Tx) error
}

var (
	migrationsMu sync.Mutex
	migrations   []migration
	// buckets every feature registers; created on open.
	registeredBuckets [][]byte
)

// registerBuckets is called from each concern's init to have its buckets created.
func registerBuckets(names ...string) {
	migrationsMu.Lock()
	defer migrationsMu.Unlock()
	for _, n := range names {
		registeredBuckets = append(registeredBuckets, []byte(n))
	}
}

// Open opens (creating if needed) the state file at path.
func Open(path string, o Options) (*Store, error) {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: o.ReadOnly})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
		}
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrVersionMismatch) || errors.Is(err, berrors.ErrChecksum) {
			return nil, fmt.Errorf("open %s: %w (%v)", path, ErrForeign, err)
		}
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if o.ReadOnly {
		if err := s.checkVersion(); err != nil {
			db.Close()
			return nil, err
		}
		return s, nil
	}
	if err := s.prepare(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) checkVersion() error {
	return s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || string(m.Get(keyApp)) != string(appName) {
			return fmt.Errorf("%s: %w", s.path, ErrForeign)
		}
		v := int(binary.BigEndian.Uint64(pad8(m.Get(keySchema))))
		if v > SchemaVersion {
			return fmt.Errorf("%s: schema version %d is newer than this build's %d", s.path, v, SchemaVersion)
		}
		return nil
	})
}

// prepare stamps a new file, checks a known one and runs migrations.
func (s *Store) prepare() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil {
			// A file with other buckets but no meta is someone else's.
			foreign := false
			_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error { foreign = true; return nil })
			if foreign {
				return fmt.Errorf("%s: %w", s.path, ErrForeign)
			}
			var err error
			if m, err = tx.CreateBucket(bucketMeta); err != nil {
				return err
			}
			if err := m.Put(keyApp, appName); err != nil {
				return err
			}
			if err := m.Put(keySchema, u64(SchemaVersion)); err != nil {
				return err
			}
		} else if string(m.Get(keyApp)) != string(appName) {
			return fmt.Errorf("%s: %w", s.path, ErrForeign)
		}
		v := int(binary.BigEndian.Uint64(pad8(m.Get(keySchema))))
		if v > SchemaVersion {
			return fmt.Errorf("%s: schema version %d is newer than this build's %d", s.path, v, SchemaVersion)
		}
		migrationsMu.Lock()
		ms := append([]migration(nil), migrations...)
		bs := append([][]byte(nil), registeredBuckets...)
		migrationsMu.Unlock()
		sort.Slice(ms, func(i, j int) bool { return ms[i].From < ms[j].From })
		for _, mg := range ms {
			if mg.From == v && v < SchemaVersion {
				if err := mg.Apply(tx); err != nil {
					return fmt.Errorf("migrate schema %d→%d: %w", v, v+1, err)
				}
				v++
			}
		}
		if v != SchemaVersion {
			return fmt.Errorf("no migration from schema %d to %d", v, SchemaVersion)
		}
		if err := m.Put(keySchema, u64(v)); err != nil {
			return err
		}
		for _, b := range bs {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Path is the file's path.
func (s *Store) Path() string { return s.path }

// DB exposes the bbolt handle to the store's own files and tests.
func (s *Store) DB() *bolt.DB { return s.db }

// Compact rewrites the file into dst without free pages (bbolt never shrinks in place).
func (s *Store) Compact(dst string) error {
	out, err := bolt.Open(dst, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("compact: open %s: %w", dst, err)
	}
	defer out.Close()
	if err := bolt.Compact(out, s.db, 1<<20); err != nil {
		return fmt.Errorf("compact into %s: %w", dst, err)
	}
	return nil
}

// CompactFile compacts the store at path in place (via a temporary file);
// the store must not be open elsewhere.
func CompactFile(path string) (before, after int64, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	s, err := Open(path, Options{})
	if err != nil {
		return 0, 0, err
	}
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	if err := s.Compact(tmp); err != nil {
		s.Close()
		return 0, 0, err
	}
	s.Close()
	if err := os.Rename(tmp, path); err != nil {
		return 0, 0, fmt.Errorf("compact: replace %s: %w", path, err)
	}
	st2, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	return st.Size(), st2.Size(), nil
}

// putJSON and getJSON are the one encoding every concern uses for values.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, data)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// u64 encodes n big-endian so keys sort numerically.
func u64(n int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(n))
	return b
}

func pad8(b []byte) []byte {
	if len(b) >= 8 {
		return b[:8]
	}
	out := make([]byte, 8)
	copy(out[8-len(b):], b)
	return out
}
