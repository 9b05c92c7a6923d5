// Package store keeps plangate's state: extraction runs and the
// incremental-extraction cache, the journal of imported plans, shop
// configuration and stock-sync records, and order-sourcing runs. Each
// concern lives in its own file and its own top-level bucket, written once
// against a small key-value layer (kv.go) with two backends: one bbolt
// file, the embedded default, or etcd, shared by several replicas.
package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version this build writes. Open migrates
// older state forward and refuses newer.
const SchemaVersion = 1

var (
	bucketMeta = []byte("meta")
	keySchema  = []byte("schema_version")
	keyApp     = []byte("application")
	appName    = []byte("plangate")
)

var metaBucket = top(string(bucketMeta))

// ErrLocked is returned when another process holds the file.
var ErrLocked = errors.New("store: file is locked by another process")

// ErrForeign is returned for a file (or etcd prefix) that is not a plangate store.
var ErrForeign = errors.New("store: not a plangate state file")

// ErrUnavailable marks errors of a store that cannot be reached (etcd
// down, partitioned or too slow): the request may succeed later.
var ErrUnavailable = errors.New("state store unavailable")

// Store is an open state store. It is safe for concurrent use.
type Store struct {
	kv   backend
	path string   // the file, or the etcd location (without credentials)
	db   *bolt.DB // the bbolt backend's file; nil on etcd
}

// Options tune Open and OpenLocation.
type Options struct {
	// Timeout bounds the wait for the file lock (0: 2 s), so a second
	// process gets ErrLocked instead of hanging.
	Timeout time.Duration
	// ReadOnly opens without write access (e.g. for `plangate state`).
	ReadOnly bool
	// Etcd completes an etcd:// location: credentials, TLS files, time
	// limits (see EtcdConfig). Endpoints and prefix in the URL win.
	Etcd EtcdConfig
}

// migration upgrades state from version From to From+1 inside one update.
type migration struct {
	From  int
	Apply func(tx txn) error
}

var (
	migrationsMu sync.Mutex
	migrations   []migration
	// buckets every feature registers; created on open.
	registeredBuckets [][]byte
	// nestedBuckets hold nested buckets only (one per cached query, per plan).
	nestedBuckets = map[string]bool{}
	// largeBuckets may hold values past etcd's request limit (run
	// documents, plan replies), which the etcd backend stores in parts.
	largeBuckets = map[string]bool{}
)

// registerBuckets is called from each concern's init to have its buckets created.
func registerBuckets(names ...string) {
	migrationsMu.Lock()
	defer migrationsMu.Unlock()
	for _, n := range names {
		registeredBuckets = append(registeredBuckets, []byte(n))
	}
}

// registerNested marks buckets whose entries are nested buckets.
func registerNested(names ...string) {
	migrationsMu.Lock()
	defer migrationsMu.Unlock()
	for _, n := range names {
		nestedBuckets[n] = true
	}
}

// registerLarge marks buckets whose values may be large.
func registerLarge(names ...string) {
	migrationsMu.Lock()
	defer migrationsMu.Unlock()
	for _, n := range names {
		largeBuckets[n] = true
	}
}

// IsEtcd reports whether loc names an etcd store (etcd://, etcds://, or
// "etcd" for the endpoints of the configuration) rather than a file.
func IsEtcd(loc string) bool {
	return loc == "etcd" || strings.HasPrefix(loc, "etcd://") || strings.HasPrefix(loc, "etcds://")
}

// OpenLocation opens the store at loc: an etcd location (see IsEtcd and
// ParseEtcdURL) or else the path of a bbolt file. ctx bounds connecting.
func OpenLocation(ctx context.Context, loc string, o Options) (*Store, error) {
	if !IsEtcd(loc) {
		return Open(loc, o)
	}
	cfg := o.Etcd
	if loc != "etcd" {
		u, err := ParseEtcdURL(loc)
		if err != nil {
			return nil, err
		}
		cfg = cfg.merge(u)
	}
	return OpenEtcd(ctx, cfg, o.ReadOnly)
}

// Open opens (creating if needed) the bbolt state file at path.
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
	s := &Store{kv: &boltKV{db: db}, path: path, db: db}
	if o.ReadOnly {
		if err := s.checkVersion(); err != nil {
			db.Close()
			return nil, err
		}
		return s, nil
	}
	// A file with buckets but no meta is someone else's; a new one gets
	// every registered bucket.
	err = db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			foreign := false
			_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error { foreign = true; return nil })
			if foreign {
				return fmt.Errorf("%s: %w", path, ErrForeign)
			}
		}
		migrationsMu.Lock()
		bs := append([][]byte{bucketMeta}, registeredBuckets...)
		migrationsMu.Unlock()
		for _, b := range bs {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err == nil {
		err = s.prepare()
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) checkVersion() error {
	return s.kv.view(func(r reader) error {
		app, err := r.get(metaBucket, keyApp)
		if err != nil {
			return err
		}
		if string(app) != string(appName) {
			return fmt.Errorf("%s: %w", s.path, ErrForeign)
		}
		v, err := r.get(metaBucket, keySchema)
		if err != nil {
			return err
		}
		if n := int(binary.BigEndian.Uint64(pad8(v))); n > SchemaVersion {
			return fmt.Errorf("%s: schema version %d is newer than this build's %d", s.path, n, SchemaVersion)
		}
		return nil
	})
}

// prepare stamps new state, checks known state and runs migrations.
func (s *Store) prepare() error {
	return s.kv.update(func(tx txn) error {
		app, err := tx.get(metaBucket, keyApp)
		if err != nil {
			return err
		}
		raw, err := tx.get(metaBucket, keySchema)
		if err != nil {
			return err
		}
		v := int(binary.BigEndian.Uint64(pad8(raw)))
		switch {
		case app == nil && raw == nil:
			if err := tx.put(metaBucket, keyApp, appName); err != nil {
				return err
			}
			v = SchemaVersion
		case string(app) != string(appName):
			return fmt.Errorf("%s: %w", s.path, ErrForeign)
		}
		if v > SchemaVersion {
			return fmt.Errorf("%s: schema version %d is newer than this build's %d", s.path, v, SchemaVersion)
		}
		migrationsMu.Lock()
		ms := append([]migration(nil), migrations...)
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
		if raw == nil || int(binary.BigEndian.Uint64(pad8(raw))) != v {
			return tx.put(metaBucket, keySchema, u64(v))
		}
		return nil
	})
}

// Close closes the file or the etcd connection (releasing its locks).
func (s *Store) Close() error { return s.kv.close() }

// Path is the file's path, or the etcd location.
func (s *Store) Path() string { return s.path }

// Backend is "bbolt" or "etcd".
func (s *Store) Backend() string {
	if s.db != nil {
		return "bbolt"
	}
	return "etcd"
}

// Ping checks that the store answers: always for a file; for etcd, a
// read that needs a quorum, within the request timeout.
func (s *Store) Ping(ctx context.Context) error { return s.kv.ping(ctx) }

// DB exposes the bbolt handle to the store's own files and tests (nil on etcd).
func (s *Store) DB() *bolt.DB { return s.db }

// Compact rewrites the file into dst without free pages (bbolt never
// shrinks in place). etcd compacts and defragments on its own terms.
func (s *Store) Compact(dst string) error {
	if s.db == nil {
		return fmt.Errorf("compact %s: etcd is compacted by the cluster (--auto-compaction-retention, etcdctl defrag)", s.path)
	}
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
func putJSON(tx txn, b bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return tx.put(b, key, data)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func getJSON(r reader, b bucket, key []byte, v any) (bool, error) {
	data, err := r.get(b, key)
	if err != nil || data == nil {
		return false, err
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
