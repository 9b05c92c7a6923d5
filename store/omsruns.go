package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// Buckets of order-sourcing runs.
const (
	bucketOMSRuns     = "oms_runs"      // run id → run document (JSON)
	bucketOMSRunsTime = "oms_runs_time" // start (8 bytes, ns) + run id → summary: retention and listing order
	bucketOMSRunsMeta = "oms_runs_meta" // "count" → number of runs
)

var keyOMSCount = []byte("count")

var (
	omsRunsB     = top(bucketOMSRuns)
	omsRunsTimeB = top(bucketOMSRunsTime)
	omsRunsMetaB = top(bucketOMSRunsMeta)
)

func init() {
	registerBuckets(bucketOMSRuns, bucketOMSRunsTime, bucketOMSRunsMeta)
	registerLarge(bucketOMSRuns) // the run of a large ticket, with its log
}

// OMSRun is one stored order-sourcing run: Doc is its document and
// Summary what a listing shows of it, both kept as given (the oms package
// owns their shapes).
type OMSRun struct {
	ID      string
	Start   time.Time
	Doc     []byte
	Summary []byte
}

// OMSRunPosition is where a run stands in the listing order (start, then
// id); listings resume from one.
func OMSRunPosition(start time.Time, id string) []byte { return omsTimeKey(start, id) }

func omsTimeKey(start time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(start.UnixNano()))
	return append(k, id...)
}

// positionTime is the start a time-index key (at least 8 bytes) begins with.
func positionTime(k []byte) time.Time { return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))) }

// SaveOMSRuns stores runs in one transaction (callers batch them: a
// transaction costs a disk sync), then applies retention: at most keep
// runs (0: no limit), none started before now-maxAge (0: no age limit).
// On etcd, whose transactions are bounded, a large batch goes in several,
// each keeping the count exact.
func (s *Store) SaveOMSRuns(runs []OMSRun, keep int, maxAge time.Duration, now time.Time) error {
	if len(runs) == 0 {
		return nil
	}
	for _, r := range runs {
		if r.ID == "" {
			return fmt.Errorf("save oms run: empty id")
		}
	}
	cutoff := int64(-1 << 63)
	if maxAge > 0 {
		cutoff = now.Add(-maxAge).UnixNano()
	}
	// save stores runs and returns the count after them.
	save := func(tx txn, runs []OMSRun) (int, error) {
		count, err := omsCount(tx)
		if err != nil {
			return 0, err
		}
		ids := make([][]byte, len(runs))
		for i, r := range runs {
			ids[i] = []byte(r.ID)
		}
		known := map[string]bool{}
		if err := tx.getMany(omsRunsB, ids, func(i int, _ []byte) error { known[runs[i].ID] = true; return nil }); err != nil {
			return 0, err
		}
		for _, r := range runs {
			if !known[r.ID] {
				known[r.ID] = true
				count++
			}
			if err := tx.put(omsRunsB, []byte(r.ID), r.Doc); err != nil {
				return 0, fmt.Errorf("save oms run %s: %w", r.ID, err)
			}
			if err := tx.put(omsRunsTimeB, omsTimeKey(r.Start, r.ID), r.Summary); err != nil {
				return 0, fmt.Errorf("save oms run %s: %w", r.ID, err)
			}
		}
		return count, nil
	}
	// retain removes up to most of the oldest runs that are past the
	// limits and returns the count left and whether more may be due.
	retain := func(tx txn, count, most int) (int, bool, error) {
		var doomed [][]byte
		err := tx.scan(omsRunsTimeB, scanSpec{keysOnly: true}, func(k, _ []byte) error {
			old := int64(binary.BigEndian.Uint64(k[:8])) < cutoff
			if len(doomed) == most || !old && (keep <= 0 || count-len(doomed) <= keep) {
				return errStop
			}
			doomed = append(doomed, append([]byte(nil), k...))
			return nil
		})
		if err != nil {
			return 0, false, err
		}
		for _, k := range doomed {
			if err := tx.del(omsRunsB, k[8:]); err != nil {
				return 0, false, err
			}
			if err := tx.del(omsRunsTimeB, k); err != nil {
				return 0, false, err
			}
		}
		count -= len(doomed)
		return count, len(doomed) == most, tx.put(omsRunsMetaB, keyOMSCount, u64(count))
	}
	lim := s.kv.limits()
	if lim == unlimited {
		// bbolt: one transaction, which sees its own writes.
		return s.kv.update(func(tx txn) error {
			count, err := save(tx, runs)
			if err != nil {
				return err
			}
			_, _, err = retain(tx, count, -1)
			return err
		})
	}
	// A run costs a check and two writes (document, time entry), large
	// documents their parts' cleanup too; the count one read and one write.
	for _, c := range lim.chunks(len(runs), 4, 2, func(i int) int { return len(runs[i].Doc) + len(runs[i].Summary) + 2*len(runs[i].ID) + 32 }) {
		err := s.kv.update(func(tx txn) error {
			count, err := save(tx, runs[c[0]:c[1]])
			if err != nil {
				return err
			}
			return tx.put(omsRunsMetaB, keyOMSCount, u64(count))
		})
		if err != nil {
			return err
		}
	}
	for more := true; more; {
		err := s.kv.update(func(tx txn) error {
			count, err := omsCount(tx)
			if err != nil {
				return err
			}
			_, more, err = retain(tx, count, (lim.ops-4)/3)
			return err
		})
		if err != nil {
			return fmt.Errorf("oms run retention: %w", err)
		}
	}
	return nil
}

func omsCount(r reader) (int, error) {
	v, err := r.get(omsRunsMetaB, keyOMSCount)
	return int(binary.BigEndian.Uint64(pad8(v))), err
}

// OMSRunDoc returns a stored run's document.
func (s *Store) OMSRunDoc(id string) ([]byte, bool, error) {
	var doc []byte
	err := s.kv.view(func(r reader) error {
		v, err := r.get(omsRunsB, []byte(id))
		if v != nil {
			doc = append([]byte(nil), v...)
		}
		return err
	})
	return doc, doc != nil, err
}

// OMSRunCount is how many runs are stored.
func (s *Store) OMSRunCount() (int, error) {
	var n int
	err := s.kv.view(func(r reader) error {
		var err error
		n, err = omsCount(r)
		return err
	})
	return n, err
}

// OMSRunScan says which stored runs ScanOMSRuns visits, newest first.
type OMSRunScan struct {
	// Before resumes a listing: only runs before this position (from
	// OMSRunPosition or an entry's Position; nil: from the newest).
	Before []byte
	// Since and Until bound the runs' start, [Since, Until); zero: open.
	Since, Until time.Time
	// Budget bounds the entries examined, so that a filter matching
	// nothing costs one bounded request, not a scan of the history
	// (0: no bound).
	Budget int
}

// OMSRunEntry is a stored run as a listing sees it: its summary, or for a
// run stored without one (by earlier versions), its document.
type OMSRunEntry struct {
	Position []byte
	ID       string
	Start    time.Time
	Summary  []byte
	Doc      []byte
}

// ScanOMSRuns calls fn for the stored runs q selects, newest first, until
// fn returns false or the budget is spent. It returns the position to
// resume from, nil when every run q selects was visited. fn's slices are
// valid during the call only.
func (s *Store) ScanOMSRuns(q OMSRunScan, fn func(OMSRunEntry) (bool, error)) ([]byte, error) {
	var spec scanSpec
	if !q.Since.IsZero() {
		spec.from = omsTimeKey(q.Since, "")
	}
	if !q.Until.IsZero() {
		spec.to = omsTimeKey(q.Until, "")
	}
	if q.Before != nil && (spec.to == nil || bytes.Compare(q.Before, spec.to) < 0) {
		spec.to = q.Before
	}
	var resume []byte
	err := s.kv.view(func(r reader) error {
		seen := 0
		return scanNewestFirst(r, omsRunsTimeB, spec.from, spec.to, func(k, v []byte) error {
			if len(k) < 8 {
				return fmt.Errorf("oms run index: key %q is not a position", k)
			}
			if q.Budget > 0 && seen == q.Budget {
				resume = append([]byte(nil), k...)
				// The next scan starts below k, which was not examined.
				resume = append(resume, 0)
				return errStop
			}
			seen++
			e := OMSRunEntry{Position: k, ID: string(k[8:]), Start: positionTime(k).UTC(), Summary: v}
			if len(v) == 0 {
				e.Summary = nil
				doc, err := r.get(omsRunsB, k[8:])
				if err != nil {
					return fmt.Errorf("oms run %s: %w", e.ID, err)
				}
				if doc == nil { // an index entry without its run: nothing to list
					return nil
				}
				e.Doc = doc
			}
			more, err := fn(e)
			if err != nil {
				return err
			}
			if !more {
				resume = append([]byte(nil), k...)
				return errStop
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list oms runs: %w", err)
	}
	return resume, nil
}

// scanNewestFirst visits the keys of b in [lo, hi) (nil: open), which
// begin with a big-endian UnixNano time, last first, one window of time
// at a time. etcd sorts a descending range in full before it applies the
// limit, so a reverse range over a long history would read all of it for
// each page of 500; a window, sized by counting its keys in the index
// (no values read) to hold about one page, reads only itself. A bbolt
// cursor just walks back.
func scanNewestFirst(r reader, b bucket, lo, hi []byte, fn func(k, v []byte) error) error {
	if r.cheapReverse() {
		return r.scan(b, scanSpec{from: lo, to: hi, reverse: true}, fn)
	}
	var oldest []byte
	err := r.scan(b, scanSpec{from: lo, to: hi, keysOnly: true}, func(k, _ []byte) error {
		oldest = append([]byte(nil), k...)
		return errStop
	})
	if err != nil || oldest == nil {
		return err
	}
	if len(oldest) < 8 {
		return fmt.Errorf("oms run index: key %q is not a position", oldest)
	}
	oldestT := positionTime(oldest)
	t := time.Now() // the first window is open above: runs ahead of this clock are in it
	if len(hi) >= 8 {
		t = positionTime(hi)
	}
	stopped := false
	visit := func(k, v []byte) error {
		err := fn(k, v)
		if err == errStop {
			stopped = true
		}
		return err
	}
	window, whi := 10*time.Second, hi
	for {
		// The window [t-window, whi): grown while it holds less than a
		// quarter page, then halved while it holds more than two pages.
		var from time.Time
		var wlo []byte
		last := false
		size := func() (int, error) {
			from = t.Add(-window)
			last = !from.After(oldestT)
			wlo = omsTimeKey(from, "")
			if last {
				wlo = lo
			}
			return r.count(b, scanSpec{from: wlo, to: whi}, 2*pageSize+1)
		}
		n, err := size()
		for err == nil && n < pageSize/4 && !last && window < 1<<60 {
			window *= 4
			n, err = size()
		}
		for err == nil && n > 2*pageSize && window > time.Millisecond {
			window /= 2
			n, err = size()
		}
		if err != nil {
			return err
		}
		if n > 0 {
			if err := r.scan(b, scanSpec{from: wlo, to: whi, reverse: true}, visit); err != nil || stopped {
				return err
			}
		}
		if last {
			return nil
		}
		whi, t = wlo, from
	}
}
