package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Holders of one key never overlap; other keys do not wait; a waiter
// gives up when its context ends; entries go when nobody holds or waits.
func TestLocalLocker(t *testing.T) {
	var l LocalLocker
	ctx := context.Background()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.Lock(ctx, "odoo17/SF")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			inside.Add(-1)
			unlock()
			unlock() // a second call does nothing
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders of one key at once, want 1", most.Load())
	}

	unlock, err := l.Lock(ctx, "odoo17/SF")
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.Lock(ctx, "odoo17/Chicago")
	if err != nil {
		t.Fatalf("another key waited: %v", err)
	}
	other()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(wctx, "odoo17/SF"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting on a held key: err %v, want the context's deadline", err)
	}
	unlock()
	l.mu.Lock()
	n := len(l.locks)
	l.mu.Unlock()
	if n != 0 {
		t.Errorf("%d lock entries left with nobody holding or waiting", n)
	}
}
