package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// etcdLocks holds this replica's locks and leaderships in one etcd
// session: a lease kept alive while the process runs. A replica that dies
// stops renewing it, and etcd frees its locks once the lease expires.
type etcdLocks struct {
	kv  *etcdKV
	ttl time.Duration

	mu   sync.Mutex
	sess *concurrency.Session
	done bool
}

func newEtcdLocks(kv *etcdKV, ttl time.Duration) *etcdLocks {
	return &etcdLocks{kv: kv, ttl: ttl}
}

// session returns the live session, starting a new one after the last
// expired (its locks are gone with it).
func (l *etcdLocks) session(ctx context.Context) (*concurrency.Session, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil, errors.New("store: closed")
	}
	if l.sess != nil {
		select {
		case <-l.sess.Done():
			l.sess = nil
		default:
			return l.sess, nil
		}
	}
	// The lease is granted here, under the caller's deadline; the
	// session then keeps it alive in the background.
	gctx, cancel := context.WithTimeout(ctx, l.kv.timeout)
	defer cancel()
	lease, err := l.kv.cli.Grant(gctx, int64(max(1, l.ttl/time.Second)))
	if err != nil {
		return nil, wrap("grant etcd lease", err)
	}
	s, err := concurrency.NewSession(l.kv.cli, concurrency.WithLease(lease.ID), concurrency.WithContext(context.Background()))
	if err != nil {
		return nil, wrap("start etcd session", err)
	}
	l.sess = s
	return s, nil
}

func (l *etcdLocks) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = true
	if l.sess != nil {
		// Revoking the lease frees every lock and leadership at once (an
		// unreachable etcd frees them when the lease expires).
		l.sess.Orphan()
		ctx, cancel := context.WithTimeout(context.Background(), l.kv.timeout)
		defer cancel()
		_, _ = l.kv.cli.Revoke(ctx, l.sess.Lease())
		l.sess = nil
	}
}

// leaseBound derives the context of work under a lock or leadership: it ends
// with ctx, when the session's lease is lost, or on release.
func leaseBound(ctx context.Context, s *concurrency.Session) (context.Context, context.CancelFunc) {
	h, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-s.Done():
			cancel(fmt.Errorf("%w: lost the etcd lease holding the lock", ErrUnavailable))
		case <-h.Done():
		}
	}()
	return h, func() { cancel(context.Canceled) }
}

// Lock implements Locker.
func (l *etcdLocks) Lock(ctx context.Context, key string) (func(), error) {
	_, unlock, err := l.Hold(ctx, key)
	return unlock, err
}

// Hold implements Holder: the lock is etcd's mutex on this replica's lease.
func (l *etcdLocks) Hold(ctx context.Context, key string) (context.Context, func(), error) {
	s, err := l.session(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", key, err)
	}
	m := concurrency.NewMutex(s, l.kv.prefix+"/l/"+segment(key))
	if err := m.Lock(ctx); err != nil {
		return nil, nil, acquireError(ctx, "lock "+key, err)
	}
	// lost outlives the wait's ctx: work under the lock may go on after
	// the caller that waited has gone.
	lost, release := l.held(context.Background(), s, m.Unlock)
	return lost, release, nil
}

// held is the work context of a lock or leadership of session s, and
// the function that gives it up (else the lease frees it with time).
func (l *etcdLocks) held(ctx context.Context, s *concurrency.Session, giveUp func(context.Context) error) (context.Context, func()) {
	h, stop := leaseBound(ctx, s)
	var once sync.Once
	return h, func() {
		once.Do(func() {
			stop()
			gctx, cancel := context.WithTimeout(context.Background(), l.kv.timeout)
			defer cancel()
			_ = giveUp(gctx)
		})
	}
}

// acquireError is the error of a lock or campaign that failed: the
// caller's when it gave up, else etcd's.
func acquireError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	return wrap(what, err)
}

func (l *etcdLocks) election(ctx context.Context, name string) (*concurrency.Election, *concurrency.Session, error) {
	s, err := l.session(ctx)
	if err != nil {
		return nil, nil, err
	}
	return concurrency.NewElection(s, l.kv.prefix+"/e/"+segment(name)), s, nil
}

func (l *etcdLocks) Campaign(ctx context.Context, name, id string) (context.Context, func(), error) {
	e, s, err := l.election(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("campaign %s: %w", name, err)
	}
	if err := e.Campaign(ctx, id); err != nil {
		return nil, nil, acquireError(ctx, "campaign "+name, err)
	}
	h, resign := l.held(ctx, s, e.Resign)
	return h, resign, nil
}

func (l *etcdLocks) Leader(ctx context.Context, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, l.kv.timeout)
	defer cancel()
	// The leader is the oldest candidate key under the election prefix;
	// reading it needs no session of ours.
	pfx := l.kv.prefix + "/e/" + segment(name) + "/"
	resp, err := l.kv.cli.Get(ctx, pfx, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil {
		return "", wrap("leader of "+name, err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}
