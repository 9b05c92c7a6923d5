package store

import (
	"bytes"
	"context"
	"errors"
	"math"
	"sync"
)

// The concern files (runs, cache, journal, shops, OMS runs) are written
// once against this small key-value layer; bbolt (kv_bolt.go) and etcd
// (kv_etcd.go) implement it. A bucket is a path: a top-level bucket, then
// nested bucket names (cache/<query>, plan_steps/<plan>), as bbolt nests
// them.

// bucket names a bucket by its path from the top.
type bucket []string

func top(name string) bucket { return bucket{name} }

// child is the nested bucket name inside b.
func (b bucket) child(name string) bucket {
	return append(append(bucket(nil), b...), name)
}

// scanSpec says which keys of a bucket a scan visits.
type scanSpec struct {
	prefix   []byte // only keys with this prefix
	from     []byte // only keys at or after this one (nil: no bound)
	to       []byte // only keys before this one (nil: no bound)
	reverse  bool   // last key first
	keysOnly bool   // fn gets nil values
}

// bounds are the keys a scan visits, [lo, hi); hi nil is unbounded.
func (s scanSpec) bounds() (lo, hi []byte) {
	lo, hi = s.prefix, prefixEnd(s.prefix)
	if len(s.prefix) == 0 {
		hi = nil
	}
	if bytes.Compare(s.from, lo) > 0 {
		lo = s.from
	}
	if s.to != nil && (hi == nil || bytes.Compare(s.to, hi) < 0) {
		hi = s.to
	}
	return lo, hi
}

// errStop ends a scan early without an error.
var errStop = errors.New("store: stop scan")

// reader reads one consistent snapshot.
type reader interface {
	// get returns the value of key in b, nil when absent.
	get(b bucket, key []byte) ([]byte, error)
	// getMany calls fn with the index and value of each of keys present in
	// b, in the order given.
	getMany(b bucket, keys [][]byte, fn func(i int, v []byte) error) error
	// scan calls fn for the keys of b in key order (nested buckets are not
	// visited); fn returning errStop ends the scan.
	scan(b bucket, s scanSpec, fn func(k, v []byte) error) error
	// buckets calls fn with the name of each bucket nested in b.
	buckets(b bucket, fn func(name []byte) error) error
	// count is how many keys of b s selects (nested buckets not counted),
	// without reading values (on etcd, from the index alone); with atMost
	// > 0 it may stop counting there and answer atMost.
	count(b bucket, s scanSpec, atMost int) (int, error)
	// cheapReverse says a reverse scan costs what it visits (a bbolt
	// cursor), not the whole range (etcd sorts it in full).
	cheapReverse() bool
	// walk calls fn for every key of every bucket but meta (store copy).
	walk(fn func(b bucket, k, v []byte) error) error
}

// txn is one atomic update: the reads it made still hold when its writes
// apply. Reads see the state before the update, not its own writes.
type txn interface {
	reader
	put(b bucket, key, value []byte) error
	del(b bucket, key []byte) error
	// delPrefix removes the keys of b that start with prefix.
	delPrefix(b bucket, prefix []byte) error
	// delBucket removes the nested bucket b with everything in it.
	delBucket(b bucket) error
}

// limits bound what one update may carry; the concern files split
// larger work into several updates. bbolt has none that matter.
type limits struct {
	ops   int // reads checked plus writes, per update
	bytes int // keys and values written, per update
	value int // largest value; larger ones fail (or, in buckets registered as large, are split)
}

// putOps is what writing a value of n bytes costs: a large one is
// written in parts, and its commit also removes older parts.
func (l limits) putOps(n int) int {
	if n > l.value {
		return 2
	}
	return 1
}

var unlimited = limits{ops: math.MaxInt, bytes: math.MaxInt, value: math.MaxInt}

// backend is a place the store keeps its buckets.
type backend interface {
	// view runs fn on a consistent snapshot.
	view(fn func(reader) error) error
	// update runs fn and applies its writes atomically if what it read has
	// not changed meanwhile; otherwise fn runs again on a fresh snapshot,
	// so fn must not have effects outside the transaction.
	update(fn func(txn) error) error
	limits() limits
	// ping checks that the backend answers (and, for etcd, has a quorum).
	ping(ctx context.Context) error
	// locker serialises work across everything that shares the backend.
	locker() Locker
	// elector picks one leader per name among them.
	elector() Elector
	close() error
}

// chunks splits n items into consecutive runs [from, to) that each fit
// one update of l: every item costs opsEach operations and size(i) bytes,
// and every update carries fixedOps more operations (e.g. a header).
func (l limits) chunks(n, opsEach, fixedOps int, size func(i int) int) [][2]int {
	var out [][2]int
	from, ops, bytes := 0, fixedOps, 0
	for i := 0; i < n; i++ {
		sz := 0
		if size != nil && l.bytes != math.MaxInt {
			sz = size(i)
		}
		if i > from && (ops+opsEach > l.ops || bytes+sz > l.bytes) {
			out = append(out, [2]int{from, i})
			from, ops, bytes = i, fixedOps, 0
		}
		ops += opsEach
		bytes += sz
	}
	if from < n {
		out = append(out, [2]int{from, n})
	}
	return out
}

// parallelUpdates bounds the updates of one bulk write that run at once.
const parallelUpdates = 4

// inParallel runs fn(0..n-1) on at most width goroutines and returns the
// first error; after one, no further call starts.
func inParallel(n, width int, fn func(i int) error) error {
	if n <= 1 || width <= 1 {
		for i := 0; i < n; i++ {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next int
		err  error
	)
	for w := 0; w < min(width, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if err != nil || next == n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if e := fn(i); e != nil {
					mu.Lock()
					if err == nil {
						err = e
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return err
}
