package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// etcdKV keeps the buckets in etcd under one key prefix P:
//
//	P/d/<bucket>[/<nested>]/<key>   a value: 0x00 and the bytes, or 0x01 and a
//	                                 pointer to parts (values over the limit)
//	P/n/<bucket>/<nested>           a nested bucket exists (for listing)
//	P/b/<bucket>[/<nested>]/<hex key>/<generation>/<part>
//	                                 parts of a large value
//	P/l/..., P/e/...                 locks and elections (lock_etcd.go)
//
// Reads of one view or update are made at one revision, so they see one
// snapshot. An update's writes go in one etcd transaction that compares
// the revisions of what the update read, so a concurrent change makes the
// update run again instead of being overwritten.
type etcdKV struct {
	cli     *clientv3.Client
	prefix  string
	timeout time.Duration // of one request
	lim     limits
	locks   *etcdLocks
	desc    string
}

const (
	valInline = 0x00
	valParts  = 0x01
	// pageSize bounds the keys one range request returns.
	pageSize = 500
	// conflictRetries bounds how often an update is run again.
	conflictRetries = 25
)

// segment escapes a bucket name for a key path.
func segment(s string) string {
	if !strings.ContainsAny(s, "%/") {
		return s
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(s)
}

func unsegment(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	return strings.NewReplacer("%2F", "/", "%25", "%").Replace(s)
}

func (k *etcdKV) path(kind string, b bucket) string {
	var sb strings.Builder
	sb.WriteString(k.prefix)
	sb.WriteString("/" + kind)
	for _, s := range b {
		sb.WriteString("/")
		sb.WriteString(segment(s))
	}
	sb.WriteString("/")
	return sb.String()
}

func (k *etcdKV) dataKey(b bucket, key []byte) string { return k.path("d", b) + string(key) }

// blobKeys is where the parts of b/key's values live: one range per key.
func (k *etcdKV) blobKeys(b bucket, key []byte) string {
	return k.path("b", b) + hex.EncodeToString(key) + "/"
}

func (k *etcdKV) registryKey(b bucket) string {
	p := k.path("n", b)
	return p[:len(p)-1]
}

// rangeEnd is the end of the range of keys starting with p.
func rangeEnd(p string) string { return clientv3.GetPrefixRangeEnd(p) }

// wrap gives an etcd error its operation and, where etcd cannot be
// reached or did not answer in time, ErrUnavailable.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, rpctypes.ErrTimeout) || errors.Is(err, rpctypes.ErrNoLeader) {
		return fmt.Errorf("%s: %w: %v", op, ErrUnavailable, err)
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable, codes.DeadlineExceeded:
			return fmt.Errorf("%s: %w: %v", op, ErrUnavailable, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (k *etcdKV) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), k.timeout)
}

func (k *etcdKV) limits() limits { return k.lim }

func (k *etcdKV) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	// A linearizable read: answered only by a member with a quorum.
	_, err := k.cli.Get(ctx, k.dataKey(top(string(bucketMeta)), keyApp))
	return wrap("etcd "+k.desc, err)
}

func (k *etcdKV) locker() Locker   { return k.locks }
func (k *etcdKV) elector() Elector { return k.locks }

func (k *etcdKV) close() error {
	k.locks.close()
	return k.cli.Close()
}

func (k *etcdKV) view(fn func(reader) error) error {
	for attempt := 0; ; attempt++ {
		s := &etcdSnap{kv: k}
		err := fn(s)
		// A long view can outlive its revision when the cluster compacts.
		if errors.Is(err, rpctypes.ErrCompacted) && attempt < 3 {
			continue
		}
		return err
	}
}

func (k *etcdKV) update(fn func(txn) error) error {
	for attempt := 0; ; attempt++ {
		t := &etcdTxn{etcdSnap: etcdSnap{kv: k, track: true, reads: map[string]int64{}}, writes: map[string]*etcdWrite{}}
		err := fn(t)
		if errors.Is(err, rpctypes.ErrCompacted) && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		ok, err := t.commit()
		if err != nil || ok {
			return err
		}
		if attempt == conflictRetries {
			return fmt.Errorf("store: update of %s kept conflicting with other writers", k.desc)
		}
		// Back off a little, at random, so two replicas stop colliding.
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(2+attempt)*int64(time.Millisecond)))
		time.Sleep(time.Duration(n.Int64()))
	}
}

// etcdSnap reads at one revision (that of its first read). In an update
// it records what it read for the commit's comparisons.
type etcdSnap struct {
	kv     *etcdKV
	rev    int64
	track  bool
	reads  map[string]int64 // key → mod revision read (0: absent)
	ranges [][2]string      // ranges scanned: no key in them may change
}

func (s *etcdSnap) opts(more ...clientv3.OpOption) []clientv3.OpOption {
	if s.rev > 0 {
		more = append(more, clientv3.WithRev(s.rev))
	}
	return more
}

func (s *etcdSnap) saw(rev int64) {
	if s.rev == 0 {
		s.rev = rev
	}
}

func (s *etcdSnap) rangeGet(op, key string, more ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	ctx, cancel := s.kv.ctx()
	defer cancel()
	resp, err := s.kv.cli.Get(ctx, key, s.opts(more...)...)
	if err != nil {
		if errors.Is(err, rpctypes.ErrCompacted) {
			return nil, err
		}
		return nil, wrap(op, err)
	}
	s.saw(resp.Header.Revision)
	return resp, nil
}

func (s *etcdSnap) get(b bucket, key []byte) ([]byte, error) {
	k := s.kv.dataKey(b, key)
	resp, err := s.rangeGet("get "+k, k)
	if err != nil {
		return nil, err
	}
	if s.track {
		s.reads[k] = 0
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	if s.track {
		s.reads[k] = resp.Kvs[0].ModRevision
	}
	return s.value(b, key, resp.Kvs[0].Value)
}

func (s *etcdSnap) getMany(b bucket, keys [][]byte, fn func(int, []byte) error) error {
	if len(keys) == 0 {
		return nil
	}
	if !s.track && len(keys) >= 64 {
		if done, err := s.getDense(b, keys, fn); done || err != nil {
			return err
		}
	}
	// Batches of gets in read-only transactions, at the snapshot revision.
	per := max(1, s.kv.lim.ops)
	for from := 0; from < len(keys); from += per {
		to := min(from+per, len(keys))
		ops := make([]clientv3.Op, 0, to-from)
		for _, key := range keys[from:to] {
			ops = append(ops, clientv3.OpGet(s.kv.dataKey(b, key), s.opts()...))
		}
		ctx, cancel := s.kv.ctx()
		resp, err := s.kv.cli.Txn(ctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				return err
			}
			return wrap("get "+s.kv.path("d", b), err)
		}
		s.saw(resp.Header.Revision)
		for j, r := range resp.Responses {
			i := from + j
			rr := r.GetResponseRange()
			if s.track {
				s.reads[s.kv.dataKey(b, keys[i])] = 0
			}
			if rr == nil || len(rr.Kvs) == 0 {
				continue
			}
			if s.track {
				s.reads[s.kv.dataKey(b, keys[i])] = rr.Kvs[0].ModRevision
			}
			v, err := s.value(b, keys[i], rr.Kvs[0].Value)
			if err != nil {
				return err
			}
			if err := fn(i, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// getDense serves many keys from a scan of the range they span when that
// range holds few other keys (a cached query read whole): one request per
// page instead of one get per key. done is false when a scan would not pay.
func (s *etcdSnap) getDense(b bucket, keys [][]byte, fn func(int, []byte) error) (done bool, err error) {
	sorted := make([]int, len(keys))
	for i := range sorted {
		sorted[i] = i
	}
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(keys[sorted[i]], keys[sorted[j]]) < 0 })
	lo, hi := s.kv.dataKey(b, keys[sorted[0]]), s.kv.dataKey(b, keys[sorted[len(sorted)-1]])+"\x00"
	resp, err := s.rangeGet("count "+lo, lo, clientv3.WithRange(hi), clientv3.WithCountOnly())
	if err != nil {
		return false, err
	}
	if resp.Count > int64(2*len(keys)) {
		return false, nil
	}
	want := make(map[string][]int, len(keys))
	for i, key := range keys {
		want[string(key)] = append(want[string(key)], i)
	}
	vals := make([][]byte, len(keys))
	base := len(s.kv.path("d", b))
	err = s.scanRange(lo, hi, false, false, func(k string, raw []byte) error {
		is := want[k[base:]]
		if len(is) == 0 {
			return nil
		}
		v, err := s.value(b, []byte(k[base:]), raw)
		for _, i := range is {
			vals[i] = v
		}
		return err
	})
	if err != nil {
		return true, err
	}
	for i, v := range vals {
		if v == nil {
			continue
		}
		if err := fn(i, v); err != nil {
			return true, err
		}
	}
	return true, nil
}

// scanRange pages through [from, to) in key order (or reversed), calling
// fn with the full key and the stored value (see value).
func (s *etcdSnap) scanRange(from, to string, reverse, keysOnly bool, fn func(k string, raw []byte) error) error {
	lo, hi := from, to
	seenLo, seenHi := to, from // the part of the range actually read
	defer func() {
		if s.track && seenLo < seenHi {
			s.ranges = append(s.ranges, [2]string{seenLo, seenHi})
		}
	}()
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(hi), clientv3.WithLimit(pageSize)}
		if reverse {
			// etcd sorts a descending range in full before limiting: runs
			// of history are small enough for that.
			opts = append(opts, clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
		}
		if keysOnly {
			opts = append(opts, clientv3.WithKeysOnly())
		}
		resp, err := s.rangeGet("scan "+lo, lo, opts...)
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			seenLo, seenHi = from, to
			return nil
		}
		for _, kv := range resp.Kvs {
			k := string(kv.Key)
			if reverse {
				seenLo, seenHi = k, to
			} else {
				seenLo, seenHi = from, k+"\x00"
			}
			if err := fn(k, kv.Value); err != nil {
				return err
			}
		}
		if !resp.More {
			seenLo, seenHi = from, to
			return nil
		}
		last := string(resp.Kvs[len(resp.Kvs)-1].Key)
		if reverse {
			hi = last
		} else {
			lo = last + "\x00"
		}
	}
}

// keyRange is the etcd key range [from, to) of the keys of b that sp
// selects, and the path before each key.
func (s *etcdSnap) keyRange(b bucket, sp scanSpec) (base, from, to string) {
	base = s.kv.path("d", b)
	lo, hi := sp.bounds()
	from, to = base+string(lo), rangeEnd(base)
	if hi != nil {
		to = base + string(hi)
	}
	return base, from, to
}

func (s *etcdSnap) scan(b bucket, sp scanSpec, fn func(k, v []byte) error) error {
	base, from, to := s.keyRange(b, sp)
	err := s.scanRange(from, to, sp.reverse, sp.keysOnly, func(k string, raw []byte) error {
		key := []byte(k[len(base):])
		if sp.keysOnly {
			return fn(key, nil)
		}
		v, err := s.value(b, key, raw)
		if err != nil {
			return err
		}
		return fn(key, v)
	})
	if err == errStop {
		return nil
	}
	return err
}

func (s *etcdSnap) buckets(b bucket, fn func([]byte) error) error {
	base := s.kv.path("n", b)
	err := s.scanRange(base, rangeEnd(base), false, true, func(k string, _ []byte) error {
		return fn([]byte(unsegment(k[len(base):])))
	})
	if err == errStop {
		return nil
	}
	return err
}

func (*etcdSnap) cheapReverse() bool { return false }

func (s *etcdSnap) count(b bucket, sp scanSpec, _ int) (int, error) {
	_, from, to := s.keyRange(b, sp)
	resp, err := s.rangeGet("count "+from, from, clientv3.WithRange(to), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	if s.track {
		s.ranges = append(s.ranges, [2]string{from, to})
	}
	return int(resp.Count), nil
}

func (s *etcdSnap) walk(fn func(bucket, []byte, []byte) error) error {
	base := s.kv.prefix + "/d/"
	return s.scanRange(base, rangeEnd(base), false, false, func(k string, raw []byte) error {
		segs := strings.SplitN(k[len(base):], "/", 3)
		if len(segs) < 2 {
			return fmt.Errorf("etcd key %q: not a bucket entry", k)
		}
		b, key := top(unsegment(segs[0])), segs[1]
		if len(segs) == 3 {
			if nestedBuckets[b[0]] {
				b, key = b.child(unsegment(segs[1])), segs[2]
			} else {
				key = segs[1] + "/" + segs[2]
			}
		}
		if b[0] == string(bucketMeta) {
			return nil
		}
		v, err := s.value(b, []byte(key), raw)
		if err != nil {
			return err
		}
		return fn(b, []byte(key), v)
	})
}

// value decodes a stored value, reading the parts of a large one.
func (s *etcdSnap) value(b bucket, key, raw []byte) ([]byte, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("etcd value %s: empty", s.kv.dataKey(b, key))
	}
	switch raw[0] {
	case valInline:
		return raw[1:], nil
	case valParts:
		gen, n, err := decodePointer(raw[1:])
		if err != nil {
			return nil, fmt.Errorf("etcd value %s: %w", s.kv.dataKey(b, key), err)
		}
		base := s.kv.blobKeys(b, key) + gen + "/"
		var out []byte
		parts := 0
		ctx, cancel := s.kv.ctx()
		defer cancel()
		from := base
		for {
			resp, err := s.kv.cli.Get(ctx, from, s.opts(clientv3.WithRange(rangeEnd(base)), clientv3.WithLimit(4))...)
			if err != nil {
				return nil, wrap("read parts "+base, err)
			}
			for _, kv := range resp.Kvs {
				out = append(out, kv.Value...)
				parts++
			}
			if !resp.More || len(resp.Kvs) == 0 {
				break
			}
			from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		}
		if parts != n {
			return nil, fmt.Errorf("etcd value %s: %d of %d parts present", s.kv.dataKey(b, key), parts, n)
		}
		return out, nil
	}
	return nil, fmt.Errorf("etcd value %s: unknown encoding %#x", s.kv.dataKey(b, key), raw[0])
}

func encodePointer(gen string, parts int) []byte {
	p := append([]byte{valParts}, gen...)
	return binary.AppendUvarint(p, uint64(parts))
}

func decodePointer(p []byte) (gen string, parts int, err error) {
	const genLen = 32
	if len(p) < genLen+1 {
		return "", 0, errors.New("short part pointer")
	}
	n, k := binary.Uvarint(p[genLen:])
	if k <= 0 {
		return "", 0, errors.New("bad part pointer")
	}
	return string(p[:genLen]), int(n), nil
}

// newGeneration names one write of a large value; generations sort by time.
func newGeneration() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x%s", uint64(time.Now().UnixNano()), hex.EncodeToString(b[:]))
}

// etcdWrite is one pending write of an update.
type etcdWrite struct {
	b     bucket
	key   []byte
	value []byte // nil: delete
}

// etcdTxn buffers an update's writes for one etcd transaction.
type etcdTxn struct {
	etcdSnap
	writes   map[string]*etcdWrite // data key → last write
	order    []string              // data keys in first-write order
	prefixes [][2]string           // ranges deleted (data, then parts and registry)
	registry map[string]bool       // nested buckets written
	bytes    int
}

func (t *etcdTxn) covered(k string) bool {
	for _, r := range t.prefixes {
		if k >= r[0] && k < r[1] {
			return true
		}
	}
	return false
}

func (t *etcdTxn) put(b bucket, key, value []byte) error {
	k := t.kv.dataKey(b, key)
	if t.covered(k) {
		// etcd refuses a put inside a range deleted by the same transaction.
		return fmt.Errorf("store: put %s after deleting its range in one update", k)
	}
	if len(value) > t.kv.lim.value && !largeBuckets[b[0]] {
		return fmt.Errorf("store: value of %d bytes for %s exceeds etcd's %d", len(value), k, t.kv.lim.value)
	}
	if _, ok := t.writes[k]; !ok {
		t.order = append(t.order, k)
	}
	t.writes[k] = &etcdWrite{b: b, key: key, value: append([]byte{}, value...)}
	if len(b) > 1 {
		if t.registry == nil {
			t.registry = map[string]bool{}
		}
		t.registry[t.kv.registryKey(b)] = true
	}
	t.bytes += len(k) + min(len(value), t.kv.lim.value)
	return nil
}

func (t *etcdTxn) del(b bucket, key []byte) error {
	k := t.kv.dataKey(b, key)
	if t.covered(k) {
		return nil
	}
	if _, ok := t.writes[k]; !ok {
		t.order = append(t.order, k)
	}
	t.writes[k] = &etcdWrite{b: b, key: key}
	t.bytes += len(k)
	return nil
}

func (t *etcdTxn) delRange(from, to string) {
	t.prefixes = append(t.prefixes, [2]string{from, to})
	for k := range t.writes {
		if k >= from && k < to {
			delete(t.writes, k) // the range delete removes it anyway
		}
	}
	t.bytes += 2 * len(from)
}

func (t *etcdTxn) delPrefix(b bucket, prefix []byte) error {
	d := t.kv.path("d", b) + string(prefix)
	t.delRange(d, rangeEnd(d))
	p := t.kv.path("b", b) + hex.EncodeToString(prefix)
	t.delRange(p, rangeEnd(p))
	return nil
}

func (t *etcdTxn) delBucket(b bucket) error {
	for _, kind := range []string{"d", "b", "n"} {
		p := t.kv.path(kind, b)
		t.delRange(p, rangeEnd(p))
	}
	reg := t.kv.registryKey(b)
	t.delRange(reg, reg+"\x00")
	delete(t.registry, reg)
	return nil
}

// commit applies the writes if nothing read has changed; ok is false on a
// conflict (the caller runs the update again).
func (t *etcdTxn) commit() (ok bool, err error) {
	var cmps []clientv3.Cmp
	for k, rev := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", rev))
	}
	for _, r := range t.ranges {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r[0]).WithRange(r[1]), "<", t.rev+1))
	}
	var ops []clientv3.Op
	for _, r := range t.prefixes {
		ops = append(ops, clientv3.OpDelete(r[0], clientv3.WithRange(r[1])))
	}
	for reg := range t.registry {
		if !t.covered(reg) {
			ops = append(ops, clientv3.OpPut(reg, ""))
		}
	}
	var written []string // parts written for this attempt, removed if it fails
	defer func() {
		if !ok && len(written) > 0 {
			t.removeParts(written)
		}
	}()
	for _, k := range t.order {
		w, live := t.writes[k]
		if !live {
			continue
		}
		blobs := t.kv.blobKeys(w.b, w.key)
		switch {
		case w.value == nil:
			ops = append(ops, clientv3.OpDelete(k))
			if largeBuckets[w.b[0]] {
				ops = append(ops, clientv3.OpDelete(blobs, clientv3.WithRange(rangeEnd(blobs))))
			}
		case len(w.value) <= t.kv.lim.value:
			// (Parts of an earlier large value of the key stay until the
			// key is deleted or written large again: values of these
			// buckets grow rather than shrink, and a cleanup per put
			// would halve what one transaction carries.)
			ops = append(ops, clientv3.OpPut(k, string(append([]byte{valInline}, w.value...))))
		default:
			gen, n, err := t.writeParts(blobs, w.value)
			written = append(written, blobs+gen+"/")
			if err != nil {
				return false, err
			}
			// The parts must still be there: a concurrent writer of the
			// same key removes older generations when it commits.
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(blobs+gen+"/"+partName(0)), ">", 0))
			ops = append(ops, clientv3.OpPut(k, string(encodePointer(gen, n))),
				clientv3.OpDelete(blobs, clientv3.WithRange(blobs+gen+"/")))
		}
	}
	if len(ops) == 0 {
		return true, nil
	}
	if len(ops) > t.kv.lim.ops || len(cmps) > t.kv.lim.ops {
		return false, fmt.Errorf("store: one update of %d writes and %d checks exceeds etcd's %d operations per transaction", len(ops), len(cmps), t.kv.lim.ops)
	}
	ctx, cancel := t.kv.ctx()
	defer cancel()
	resp, err := t.kv.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, wrap("commit to etcd "+t.kv.desc, err)
	}
	return resp.Succeeded, nil
}

func partName(i int) string { return fmt.Sprintf("%06d", i) }

// writeParts stores a large value in parts of at most the value limit,
// one request each, under a new generation.
func (t *etcdTxn) writeParts(base string, v []byte) (gen string, n int, err error) {
	gen = newGeneration()
	size := max(1, t.kv.lim.value)
	for off := 0; off < len(v); off += size {
		part := v[off:min(off+size, len(v))]
		ctx, cancel := t.kv.ctx()
		_, err := t.kv.cli.Put(ctx, base+gen+"/"+partName(n), string(part))
		cancel()
		if err != nil {
			return gen, n, wrap("write part of "+base, err)
		}
		n++
	}
	return gen, n, nil
}

func (t *etcdTxn) removeParts(prefixes []string) {
	for _, p := range prefixes {
		ctx, cancel := t.kv.ctx()
		_, _ = t.kv.cli.Delete(ctx, p, clientv3.WithRange(rangeEnd(p)))
		cancel()
	}
}
