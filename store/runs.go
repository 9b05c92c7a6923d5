package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"time"
)

// Buckets of the extraction history.
const (
	bucketRuns     = "runs"      // run id → Run (ids sort by start time)
	bucketRunsLast = "runs_last" // database\x00company\x00mode → run id
)

var (
	runsB     = top(bucketRuns)
	runsLastB = top(bucketRunsLast)
)

func init() { registerBuckets(bucketRuns, bucketRunsLast) }

// Run is one extraction (a GET /frepple/xml or `plangate export`).
type Run struct {
	ID       string            `json:"id"`
	Database string            `json:"database"`
	Company  string            `json:"company"`
	Mode     int               `json:"mode"`
	Params   map[string]string `json:"params,omitempty"`
	Start    time.Time         `json:"start"`
	End      time.Time         `json:"end"`
	// Sections counts the records written per section.
	Sections map[string]int `json:"sections,omitempty"`
	Bytes    int64          `json:"bytes"`
	Duration time.Duration  `json:"duration_ns"`
	Error    string         `json:"error,omitempty"`
	// Watermarks is the highest write_date seen per model read (UTC text).
	Watermarks map[string]string `json:"watermarks,omitempty"`
	// Calls is how many Odoo RPC calls the run made.
	Calls int `json:"calls"`
	// Cached is true when cacheable sections were served incrementally.
	Cached bool `json:"cached"`
	// CacheHits and CacheMisses count records taken from / read into the cache.
	CacheHits   int `json:"cache_hits"`
	CacheMisses int `json:"cache_misses"`
}

// NewRunID makes a run id that sorts by time and is unique across processes.
func NewRunID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405.000000") + "-" + hex.EncodeToString(b[:])
}

func lastKey(database, company string, mode int) []byte {
	return []byte(fmt.Sprintf("%s\x00%s\x00%d", database, company, mode))
}

// SaveRun records a run and makes it the last one of its database/company/mode.
func (s *Store) SaveRun(r Run) error {
	if r.ID == "" {
		return fmt.Errorf("save run: empty id")
	}
	return s.kv.update(func(tx txn) error {
		if err := putJSON(tx, runsB, []byte(r.ID), r); err != nil {
			return fmt.Errorf("save run %s: %w", r.ID, err)
		}
		return tx.put(runsLastB, lastKey(r.Database, r.Company, r.Mode), []byte(r.ID))
	})
}

// RunFilter selects runs; empty fields match all.
type RunFilter struct {
	Database string
	Company  string
	Mode     *int
	Limit    int // 0: 100
}

func (f RunFilter) match(r *Run) bool {
	return (f.Database == "" || f.Database == r.Database) &&
		(f.Company == "" || f.Company == r.Company) &&
		(f.Mode == nil || *f.Mode == r.Mode)
}

// Runs lists runs newest first.
func (s *Store) Runs(f RunFilter) ([]Run, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []Run
	err := s.kv.view(func(rd reader) error {
		out = out[:0]
		return rd.scan(runsB, scanSpec{reverse: true}, func(k, v []byte) error {
			var r Run
			if err := jsonUnmarshal(v, &r); err != nil {
				return fmt.Errorf("run %s: %w", k, err)
			}
			if f.match(&r) {
				out = append(out, r)
			}
			if len(out) >= limit {
				return errStop
			}
			return nil
		})
	})
	return out, err
}

// Run returns one run by id.
func (s *Store) Run(id string) (Run, bool, error) {
	var r Run
	var found bool
	err := s.kv.view(func(rd reader) error {
		var err error
		found, err = getJSON(rd, runsB, []byte(id), &r)
		return err
	})
	return r, found, err
}

// LastRuns returns the last run of every database/company/mode.
func (s *Store) LastRuns() ([]Run, error) {
	var out []Run
	err := s.kv.view(func(rd reader) error {
		out = out[:0]
		var ids [][]byte
		if err := rd.scan(runsLastB, scanSpec{}, func(_, id []byte) error {
			ids = append(ids, append([]byte(nil), id...))
			return nil
		}); err != nil {
			return err
		}
		// A pruned run leaves no last entry worth showing.
		return rd.getMany(runsB, ids, func(_ int, v []byte) error {
			var r Run
			if err := jsonUnmarshal(v, &r); err != nil {
				return fmt.Errorf("decode run: %w", err)
			}
			out = append(out, r)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Database != b.Database {
			return a.Database < b.Database
		}
		if a.Company != b.Company {
			return a.Company < b.Company
		}
		return a.Mode < b.Mode
	})
	return out, err
}

// PruneRuns keeps the newest keep runs and drops runs older than maxAge
// (0: no age limit), but never the last run of a database/company/mode.
// It returns how many runs were removed.
func (s *Store) PruneRuns(keep int, maxAge time.Duration, now time.Time) (int, error) {
	protected := map[string]bool{}
	var doomed [][]byte
	err := s.kv.view(func(rd reader) error {
		if err := rd.scan(runsLastB, scanSpec{}, func(_, id []byte) error {
			protected[string(id)] = true
			return nil
		}); err != nil {
			return err
		}
		n := 0
		cutoff := now.Add(-maxAge).UTC().Format("20060102T150405.000000")
		return rd.scan(runsB, scanSpec{reverse: true, keysOnly: true}, func(k, _ []byte) error {
			n++
			old := maxAge > 0 && bytes.Compare(k[:min(len(k), len(cutoff))], []byte(cutoff)) < 0
			if (n > keep || old) && !protected[string(k)] {
				doomed = append(doomed, append([]byte(nil), k...))
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	// Removing a run that is no longer the last of its key is safe in any
	// order, so the deletions go in as many updates as the backend needs.
	removed, err := s.deleteKeys(runsB, doomed)
	if err != nil {
		return removed, fmt.Errorf("prune runs: %w", err)
	}
	return removed, nil
}

// deleteKeys removes keys of b in updates that fit the backend.
func (s *Store) deleteKeys(b bucket, keys [][]byte) (int, error) {
	done := 0
	for _, c := range s.kv.limits().chunks(len(keys), 1, 0, func(i int) int { return len(keys[i]) + 16 }) {
		err := s.kv.update(func(tx txn) error {
			for _, k := range keys[c[0]:c[1]] {
				if err := tx.del(b, k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done = c[1]
	}
	return done, nil
}

// DropRuns forgets the history of one database (all when empty), so the
// next extraction is cold.
func (s *Store) DropRuns(database string) error {
	if database == "" {
		return s.kv.update(func(tx txn) error {
			if err := tx.delPrefix(runsB, nil); err != nil {
				return err
			}
			return tx.delPrefix(runsLastB, nil)
		})
	}
	var doomed [][]byte
	err := s.kv.view(func(rd reader) error {
		doomed = doomed[:0]
		return rd.scan(runsB, scanSpec{}, func(k, v []byte) error {
			var r Run
			if jsonUnmarshal(v, &r) == nil && r.Database == database {
				doomed = append(doomed, append([]byte(nil), k...))
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("drop runs of %s: %w", database, err)
	}
	if err := s.kv.update(func(tx txn) error { return tx.delPrefix(runsLastB, []byte(database+"\x00")) }); err != nil {
		return fmt.Errorf("drop runs of %s: %w", database, err)
	}
	if _, err := s.deleteKeys(runsB, doomed); err != nil {
		return fmt.Errorf("drop runs of %s: %w", database, err)
	}
	return nil
}
