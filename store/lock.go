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

// A Holder is a Locker whose locks can be lost before they are unlocked
// (etcd: the replica's lease expired or was revoked). Work under such a
// lock must stop when it is lost, or it would go on beside the replica
// that took the lock over.
type Holder interface {
	Locker
	// Hold is Lock that also returns lost: a context that ends when the
	// lock is lost (its cause says why) or released. ctx bounds only the
	// wait: lost does not end with it.
	Hold(ctx context.Context, key string) (lost context.Context, unlock func(), err error)
}

// neverLost is the lost context of locks that are only ever released.
var neverLost = context.Background()

// Hold takes key from l; lost ends when a Holder's lock is lost, and
// never for other Lockers (whose locks are only released).
func Hold(ctx context.Context, l Locker, key string) (lost context.Context, unlock func(), err error) {
	if h, ok := l.(Holder); ok {
		return h.Hold(ctx, key)
	}
	unlock, err = l.Lock(ctx, key)
	return neverLost, unlock, err
}

// Elector picks one leader per name among everything that shares the
// store, for periodic work that must run on one replica at a time.
type Elector interface {
	// Campaign blocks until the caller leads name (recording id as the
	// leader) or ctx ends. lead ends with ctx or when leadership is lost;
	// resign gives it up.
	Campaign(ctx context.Context, name, id string) (lead context.Context, resign func(), err error)
	// Leader is the id of name's leader, "" when nobody leads.
	Leader(ctx context.Context, name string) (string, error)
}

// Locker is the store's lock service: in memory for a bbolt file (one
// process holds it), etcd's locks on the replica's lease for etcd.
func (s *Store) Locker() Locker { return s.kv.locker() }

// Elector is the store's leader election. With bbolt the one process that
// holds the file always wins; callers in it take turns.
func (s *Store) Elector() Elector { return s.kv.elector() }

// localElector elects within one process: leadership is a local lock.
type localElector struct {
	locks LocalLocker
	mu    sync.Mutex
	owner map[string]string // name → id
}

func (e *localElector) Campaign(ctx context.Context, name, id string) (context.Context, func(), error) {
	unlock, err := e.locks.Lock(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("campaign %s: %w", name, err)
	}
	e.mu.Lock()
	if e.owner == nil {
		e.owner = map[string]string{}
	}
	e.owner[name] = id
	e.mu.Unlock()
	lead, cancel := context.WithCancel(ctx)
	var once sync.Once
	return lead, func() {
		once.Do(func() {
			cancel()
			e.mu.Lock()
			delete(e.owner, name)
			e.mu.Unlock()
			unlock()
		})
	}, nil
}

func (e *localElector) Leader(_ context.Context, name string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.owner[name], nil
}
