package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of order-sourcing runs.
const (
	bucketOMSRuns     = "oms_runs"      // run id → run document (JSON)
	bucketOMSRunsTime = "oms_runs_time" // start (8 bytes, ns) + run id → empty: retention order
	bucketOMSRunsMeta = "oms_runs_meta" // "count" → number of runs
)

var keyOMSCount = []byte("count")

func init() { registerBuckets(bucketOMSRuns, bucketOMSRunsTime, bucketOMSRunsMeta) }

// OMSRun is one stored order-sourcing run; Doc is its JSON document, which
// the store keeps as given (the oms package owns its shape).
type OMSRun struct {
	ID    string
	Start time.Time
	Doc   []byte
}

func omsTimeKey(start time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(start.UnixNano()))
	return append(k, id...)
}

// SaveOMSRuns stores runs in one transaction (callers batch them: a
// transaction costs a disk sync), then applies retention: at most keep
// runs (0: no limit), none started before now-maxAge (0: no age limit).
func (s *Store) SaveOMSRuns(runs []OMSRun, keep int, maxAge time.Duration, now time.Time) error {
	if len(runs) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		docs, times, meta := tx.Bucket([]byte(bucketOMSRuns)), tx.Bucket([]byte(bucketOMSRunsTime)), tx.Bucket([]byte(bucketOMSRunsMeta))
		count := int(binary.BigEndian.Uint64(pad8(meta.Get(keyOMSCount))))
		for _, r := range runs {
			if r.ID == "" {
				return fmt.Errorf("save oms run: empty id")
			}
			if docs.Get([]byte(r.ID)) == nil {
				count++
			}
			if err := docs.Put([]byte(r.ID), r.Doc); err != nil {
				return fmt.Errorf("save oms run %s: %w", r.ID, err)
			}
			if err := times.Put(omsTimeKey(r.Start, r.ID), nil); err != nil {
				return fmt.Errorf("save oms run %s: %w", r.ID, err)
			}
		}
		cutoff := int64(-1 << 63)
		if maxAge > 0 {
			cutoff = now.Add(-maxAge).UnixNano()
		}
		c := times.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.First() {
			old := int64(binary.BigEndian.Uint64(k[:8])) < cutoff
			if !old && (keep <= 0 || count <= keep) {
				break
			}
			if err := docs.Delete(k[8:]); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			count--
		}
		return meta.Put(keyOMSCount, u64(count))
	})
}

// OMSRunDoc returns a stored run's document.
func (s *Store) OMSRunDoc(id string) ([]byte, bool, error) {
	var doc []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte(bucketOMSRuns)).Get([]byte(id)); v != nil {
			doc = append([]byte(nil), v...)
		}
		return nil
	})
	return doc, doc != nil, err
}

// OMSRunCount is how many runs are stored.
func (s *Store) OMSRunCount() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = int(binary.BigEndian.Uint64(pad8(tx.Bucket([]byte(bucketOMSRunsMeta)).Get(keyOMSCount))))
		return nil
	})
	return n, err
}
