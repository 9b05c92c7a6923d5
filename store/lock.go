package store

import (
	"context"
	"fmt"
	"sync"
)

// Locker hands out exclusive locks by key. The gateway takes one per
// database and company around a plan import, so that plans for the same
// company are applied one after the other: a mode-1 plan's cleanup then
// sees the previous plan's proposals. LocalLocker serves one process;
// replicas sharing an Odoo need a shared implementation (etcd).
type Locker interface {
	// Lock waits until key is free or ctx ends. unlock releases the
	// lock; calling it more than once does nothing.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// LocalLocker is a Locker within one process. The zero value is ready.
type LocalLocker struct {
	mu    sync.Mutex
	locks map[string]*localLock
}

type localLock struct {
	held chan struct{} // holds a token while locked
	refs int           // holders and waiters; the entry goes at zero
}

// Lock implements Locker.
func (l *LocalLocker) Lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*localLock{}
	}
	e := l.locks[key]
	if e == nil {
		e = &localLock{held: make(chan struct{}, 1)}
		l.locks[key] = e
	}
	e.refs++
	l.mu.Unlock()
	select {
	case e.held <- struct{}{}:
	case <-ctx.Done():
		l.release(key, e)
		return nil, fmt.Errorf("wait for lock %q: %w", key, ctx.Err())
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-e.held
			l.release(key, e)
		})
	}, nil
}

func (l *LocalLocker) release(key string, e *localLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(l.locks, key)
	}
}
