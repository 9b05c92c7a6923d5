package store

import (
	"fmt"
)

// Copy copies all the state of src into dst (bbolt to etcd, or back);
// dst must hold none yet. Each key is copied as it is, so dst reads the
// same runs, cache, journal, shops and sourcing runs. It returns how many
// keys were copied and how many cached records were left out because they
// exceed what dst can keep in one value (they are read from Odoo again).
func Copy(dst, src *Store) (copied, skipped int, err error) {
	if err := dst.kv.view(func(r reader) error {
		return r.walk(func(b bucket, k, _ []byte) error {
			return fmt.Errorf("%s already holds state (%s %q)", dst.path, b[0], k)
		})
	}); err != nil {
		return 0, 0, fmt.Errorf("copy: %w", err)
	}
	type entry struct {
		b    bucket
		k, v []byte
	}
	lim := dst.kv.limits()
	var batch []entry
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := dst.kv.update(func(tx txn) error {
			for _, e := range batch {
				if err := tx.put(e.b, e.k, e.v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("copy into %s: %w", dst.path, err)
		}
		copied += len(batch)
		batch, size = batch[:0], 0
		return nil
	}
	// A large value costs its put and the cleanup of older parts; a nested
	// bucket's entry may register the bucket too.
	const opsEach = 3
	err = src.kv.view(func(r reader) error {
		return r.walk(func(b bucket, k, v []byte) error {
			if len(v) > lim.value && !largeBuckets[b[0]] {
				if b[0] == bucketCache {
					skipped++
					return nil
				}
				return fmt.Errorf("%s %q: a value of %d bytes, more than %s takes", b[0], k, len(v), dst.path)
			}
			sz := len(k) + min(len(v), lim.value) + 32
			full := (len(batch)+1)*opsEach > lim.ops || size+sz > lim.bytes || len(batch) == 10000 // bbolt: bounded memory
			if len(batch) > 0 && full {
				if err := flush(); err != nil {
					return err
				}
			}
			batch = append(batch, entry{append(bucket(nil), b...), append([]byte(nil), k...), append([]byte{}, v...)})
			size += sz
			return nil
		})
	})
	if err != nil {
		return copied, skipped, fmt.Errorf("copy from %s: %w", src.path, err)
	}
	if err := flush(); err != nil {
		return copied, skipped, err
	}
	return copied, skipped, nil
}
