package odoo

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
)

// Limited is a Transport that lets at most a fixed number of calls run at
// once; further calls wait for a free slot (or their context), the one of
// highest priority first (WithPriority), then in arrival order. It counts
// the calls it carried. Odoo serves a handful of calls in parallel well,
// but every worker a client occupies is one fewer for Odoo's other users.
type Limited struct {
	t     Transport
	calls atomic.Int64

	mu      sync.Mutex
	free    int
	waiting waitQueue
	seq     int
}

// NewLimited bounds t to n concurrent calls (n < 1: 1).
func NewLimited(t Transport, n int) *Limited {
	return &Limited{t: t, free: max(n, 1)}
}

type priorityKey struct{}

// WithPriority marks the calls made with ctx: a Limited transport serves
// waiting calls of higher priority first (default 0). A client with
// chains of dependent reads starts the longest chains first this way.
func WithPriority(ctx context.Context, p int) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

func priorityOf(ctx context.Context) int {
	p, _ := ctx.Value(priorityKey{}).(int)
	return p
}

// Calls is how many calls went through l, failed ones included.
func (l *Limited) Calls() int64 { return l.calls.Load() }

// waiter is a call waiting for a slot.
type waiter struct {
	prio, seq int
	granted   bool
	ready     chan struct{}
	index     int
}

func (l *Limited) acquire(ctx context.Context) error {
	l.mu.Lock()
	if l.free > 0 && len(l.waiting) == 0 {
		l.free--
		l.mu.Unlock()
		l.calls.Add(1)
		return nil
	}
	l.seq++
	w := &waiter{prio: priorityOf(ctx), seq: l.seq, ready: make(chan struct{})}
	heap.Push(&l.waiting, w)
	l.mu.Unlock()
	select {
	case <-w.ready:
		l.calls.Add(1)
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		granted := w.granted
		if !granted {
			heap.Remove(&l.waiting, w.index)
		}
		l.mu.Unlock()
		if granted { // the slot came as the context ended: pass it on
			l.release()
		}
		return &Error{Op: "wait for a free Odoo call slot", Kind: KindCanceled, Err: ctx.Err()}
	}
}

func (l *Limited) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.waiting) == 0 {
		l.free++
		return
	}
	w := heap.Pop(&l.waiting).(*waiter)
	w.granted = true
	close(w.ready)
}

// waitQueue orders waiters by priority, then arrival (container/heap).
type waitQueue []*waiter

func (q waitQueue) Len() int { return len(q) }
func (q waitQueue) Less(i, j int) bool {
	if q[i].prio != q[j].prio {
		return q[i].prio > q[j].prio
	}
	return q[i].seq < q[j].seq
}
func (q waitQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *waitQueue) Push(x any) {
	w := x.(*waiter)
	w.index = len(*q)
	*q = append(*q, w)
}
func (q *waitQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	*q = old[:len(old)-1]
	return w
}

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
