package store

import (
	"context"
	"sync"
)

// Locker serialises work on a key across everything that shares the
// store: the goroutines of one process on a bbolt file, every replica on
// etcd.
type Locker interface {
	// Lock blocks until key is held or ctx ends. The work done under the
	// lock must use held: it ends when the lock is lost (etcd: the
	// replica's lease expired or was revoked), so a replica cut off stops
	// instead of writing beside the one that took over. unlock releases
	// the lock and ends held.
	Lock(ctx context.Context, key string) (held context.Context, unlock func(), err error)
}

// Elector picks one leader per name among everything that shares the
// store, for periodic work that must run on one replica at a time.
type Elector interface {
	// Campaign blocks until the caller leads name (recording id as the
	// leader) or ctx ends. lead ends when leadership is lost; resign
	// gives it up.
	Campaign(ctx context.Context, name, id string) (lead context.Context, resign func(), err error)
	// Leader is the id of name's leader, "" when nobody leads.
	Leader(ctx context.Context, name string) (string, error)
}

// Locker is the store's lock service (see Locker).
func (s *Store) Locker() Locker { return s.kv.locker() }

// Elector is the store's leader election (see Elector). With bbolt the one
// process that holds the file always wins; callers in it take turns.
func (s *Store) Elector() Elector { return s.kv.elector() }

// NewLocalLocker returns a Locker that serialises the goroutines of this
// process only (for work done without a store).
func NewLocalLocker() Locker { return newMemLocker() }

// memLocker holds locks in memory: enough where one process owns the state.
type memLocker struct {
	mu    sync.Mutex
	held  map[string]*memLock
	owner map[string]string // name → id, for Elector
}

type memLock struct {
	c    chan struct{} // one token: taken while held
	refs int
}

func newMemLocker() *memLocker {
	return &memLocker{held: map[string]*memLock{}, owner: map[string]string{}}
}

func (m *memLocker) Lock(ctx context.Context, key string) (context.Context, func(), error) {
	m.mu.Lock()
	l := m.held[key]
	if l == nil {
		l = &memLock{c: make(chan struct{}, 1)}
		m.held[key] = l
	}
	l.refs++
	m.mu.Unlock()
	release := func() {
		m.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(m.held, key)
		}
		m.mu.Unlock()
	}
	select {
	case l.c <- struct{}{}:
	case <-ctx.Done():
		release()
		return nil, nil, ctx.Err()
	}
	held, cancel := context.WithCancel(ctx)
	var once sync.Once
	return held, func() {
		once.Do(func() {
			cancel()
			<-l.c
			release()
		})
	}, nil
}

func (m *memLocker) Campaign(ctx context.Context, name, id string) (context.Context, func(), error) {
	lead, unlock, err := m.Lock(ctx, "\x00election/"+name)
	if err != nil {
		return nil, nil, err
	}
	m.mu.Lock()
	m.owner[name] = id
	m.mu.Unlock()
	return lead, func() {
		m.mu.Lock()
		if m.owner[name] == id {
			delete(m.owner, name)
		}
		m.mu.Unlock()
		unlock()
	}, nil
}

func (m *memLocker) Leader(_ context.Context, name string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owner[name], nil
}
