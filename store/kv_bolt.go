package store

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// boltKV keeps the buckets in one bbolt file, laid out as before the
// layer existed: a bucket path is nested bbolt buckets.
type boltKV struct {
	db    *bolt.DB
	locks LocalLocker
	elect localElector
}

func (k *boltKV) view(fn func(reader) error) error {
	return k.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (k *boltKV) update(fn func(txn) error) error {
	return k.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (k *boltKV) limits() limits { return unlimited }

// ping: an open file always answers.
func (k *boltKV) ping(context.Context) error { return nil }

// locker: the file is locked to one process, so locks in memory serialise
// everything that shares it.
func (k *boltKV) locker() Locker { return &k.locks }

func (k *boltKV) elector() Elector { return &k.elect }

func (k *boltKV) close() error { return k.db.Close() }

// boltTx serves the layer from one bbolt transaction (a read-write one
// sees its own writes; the concern files do not rely on it).
type boltTx struct{ tx *bolt.Tx }

// bucket finds b, nil when it (or a parent) does not exist.
func (t boltTx) bucket(b bucket) *bolt.Bucket {
	bk := t.tx.Bucket([]byte(b[0]))
	for _, name := range b[1:] {
		if bk == nil {
			return nil
		}
		bk = bk.Bucket([]byte(name))
	}
	return bk
}

// create finds b, creating nested buckets on the way.
func (t boltTx) create(b bucket) (*bolt.Bucket, error) {
	bk := t.tx.Bucket([]byte(b[0]))
	if bk == nil {
		return nil, fmt.Errorf("bucket %s missing", b[0])
	}
	for _, name := range b[1:] {
		var err error
		if bk, err = bk.CreateBucketIfNotExists([]byte(name)); err != nil {
			return nil, fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return bk, nil
}

func (t boltTx) get(b bucket, key []byte) ([]byte, error) {
	bk := t.bucket(b)
	if bk == nil {
		return nil, nil
	}
	return bk.Get(key), nil
}

func (t boltTx) getMany(b bucket, keys [][]byte, fn func(int, []byte) error) error {
	bk := t.bucket(b)
	if bk == nil {
		return nil
	}
	for i, k := range keys {
		if v := bk.Get(k); v != nil {
			if err := fn(i, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t boltTx) scan(b bucket, s scanSpec, fn func(k, v []byte) error) error {
	bk := t.bucket(b)
	if bk == nil {
		return nil
	}
	c := bk.Cursor()
	lo, hi := s.bounds()
	var k, v []byte
	switch {
	case !s.reverse:
		k, v = c.Seek(lo)
	case hi == nil:
		k, v = c.Last()
	default:
		// The last key in range is just before the first key past it.
		if past, _ := c.Seek(hi); past == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	for ; k != nil && bytes.Compare(k, lo) >= 0 && (hi == nil || bytes.Compare(k, hi) < 0); k, v = step(c, s.reverse) {
		if nested(bk, k, v) {
			continue
		}
		if s.keysOnly {
			v = nil
		}
		if err := fn(k, v); err != nil {
			if err == errStop {
				return nil
			}
			return err
		}
	}
	return nil
}

func step(c *bolt.Cursor, reverse bool) ([]byte, []byte) {
	if reverse {
		return c.Prev()
	}
	return c.Next()
}

func (t boltTx) buckets(b bucket, fn func([]byte) error) error {
	bk := t.bucket(b)
	if bk == nil {
		return nil
	}
	return bk.ForEach(func(k, v []byte) error {
		if !nested(bk, k, v) {
			return nil
		}
		return fn(k)
	})
}

func (boltTx) cheapReverse() bool { return true }

func (t boltTx) count(b bucket, s scanSpec, atMost int) (int, error) {
	s.keysOnly = true
	n := 0
	err := t.scan(b, s, func(_, _ []byte) error {
		if n++; n == atMost {
			return errStop
		}
		return nil
	})
	return n, err
}

func (t boltTx) walk(fn func(bucket, []byte, []byte) error) error {
	var visit func(b bucket, bk *bolt.Bucket) error
	visit = func(b bucket, bk *bolt.Bucket) error {
		return bk.ForEach(func(k, v []byte) error {
			if nested(bk, k, v) {
				return visit(b.child(string(k)), bk.Bucket(k))
			}
			return fn(b, k, v)
		})
	}
	return t.tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
		if bytes.Equal(name, bucketMeta) {
			return nil
		}
		return visit(top(string(name)), bk)
	})
}

func (t boltTx) put(b bucket, key, value []byte) error {
	bk, err := t.create(b)
	if err != nil {
		return err
	}
	return bk.Put(key, value)
}

func (t boltTx) del(b bucket, key []byte) error {
	if bk := t.bucket(b); bk != nil {
		return bk.Delete(key)
	}
	return nil
}

func (t boltTx) delPrefix(b bucket, prefix []byte) error {
	bk := t.bucket(b)
	if bk == nil {
		return nil
	}
	c := bk.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
		if nested(bk, k, v) {
			return fmt.Errorf("delete %q: a nested bucket", k)
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

func (t boltTx) delBucket(b bucket) error {
	parent := t.bucket(b[:len(b)-1])
	if parent == nil || parent.Bucket([]byte(b[len(b)-1])) == nil {
		return nil
	}
	return parent.DeleteBucket([]byte(b[len(b)-1]))
}

// nested reports whether k, met with value v in bk, is a nested bucket
// (bbolt gives those a nil value; an empty value may look the same).
func nested(bk *bolt.Bucket, k, v []byte) bool { return v == nil && bk.Bucket(k) != nil }

// prefixEnd is the first key after every key with prefix p (nil: none).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
