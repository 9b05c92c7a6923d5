package odoo

import (
	"context"
	"sync/atomic"
)

// Limited is a Transport that lets at most a fixed number of calls run at
// once; further calls wait for a free slot (or their context). It counts
// the calls it carried. Odoo serves a handful of calls in parallel well,
// but every worker a client occupies is one fewer for Odoo's other users.
type Limited struct {
	t     Transport
	slots chan struct{}
	calls atomic.Int64
}

// NewLimited bounds t to n concurrent calls (n < 1: 1).
func NewLimited(t Transport, n int) *Limited {
	return &Limited{t: t, slots: make(chan struct{}, max(n, 1))}
}

// Calls is how many calls went through l, failed ones included.
func (l *Limited) Calls() int64 { return l.calls.Load() }

func (l *Limited) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		l.calls.Add(1)
		return nil
	case <-ctx.Done():
		return &Error{Op: "wait for a free Odoo call slot", Kind: KindCanceled, Err: ctx.Err()}
	}
}

func (l *Limited) release() { <-l.slots }

// Common implements Transport.
func (l *Limited) Common(ctx context.Context, method string, args ...any) (any, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	return l.t.Common(ctx, method, args...)
}

// Service implements Transport.
func (l *Limited) Service(ctx context.Context, service, method string, args ...any) (any, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	return l.t.Service(ctx, service, method, args...)
}

// Object implements Transport.
func (l *Limited) Object(ctx context.Context, db string, uid int, password, model, method string, args []any, kwargs map[string]any) (any, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	return l.t.Object(ctx, db, uid, password, model, method, args, kwargs)
}
