package gateway

import (
	"log/slog"
	"sync"
	"time"

	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/store"
)

// runKeeper keeps order-sourcing runs. Writing each run in its own bbolt
// transaction would cost a disk sync per ticket, so runs queue in memory
// and a background loop encodes and saves them in batches (encoding a
// large run costs more than sourcing it: it stays off the request path);
// until saved they are served from the queue. Without a store the newest
// runs stay in memory.
type runKeeper struct {
	st     *store.Store
	keep   int
	maxAge time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu      sync.Mutex
	pending map[string]*oms.Run // queued, or (no store) kept in memory
	queue   []*oms.Run
	order   []string // no store: ids oldest first, for the memory bound
	kick    chan struct{}
	room    *sync.Cond // signalled when a flush empties the queue
	stop    chan struct{}
	done    chan struct{}
	closed  bool
}

// memoryRuns bounds the runs kept without a store.
const memoryRuns = 1000

// flushEvery is the longest a run waits before it is saved.
const flushEvery = 100 * time.Millisecond

// maxQueuedRuns bounds the runs waiting for the store. Past it, requests
// wait for the writer (backpressure) rather than runs being dropped or
// memory growing without bound while the disk is slow or failing.
const maxQueuedRuns = 4096

func newRunKeeper(st *store.Store, cfg oms.Config, now func() time.Time, log *slog.Logger) *runKeeper {
	k := &runKeeper{st: st, keep: cfg.KeepRuns, maxAge: cfg.KeepFor, now: now, log: log,
		pending: map[string]*oms.Run{}, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	k.room = sync.NewCond(&k.mu)
	if st == nil {
		close(k.done)
		return k
	}
	go k.loop()
	return k
}

// add keeps a run; the caller must not change it afterwards.
func (k *runKeeper) add(r *oms.Run) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pending[r.ID] = r
	if k.st == nil {
		k.order = append(k.order, r.ID)
		if len(k.order) > memoryRuns {
			delete(k.pending, k.order[0])
			k.order = k.order[1:]
		}
		return
	}
	for len(k.queue) >= maxQueuedRuns && !k.closed {
		k.room.Wait()
	}
	k.queue = append(k.queue, r)
	if k.closed {
		// A request that outlived Close: save it now, no loop will.
		k.mu.Unlock()
		k.flush()
		k.mu.Lock()
		return
	}
	if len(k.queue) >= 512 {
		select {
		case k.kick <- struct{}{}:
		default:
		}
	}
}

// queued is how many runs wait for the store.
func (k *runKeeper) queued() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.queue)
}

// get returns a kept run; the caller must not change it.
func (k *runKeeper) get(id string) (*oms.Run, bool, error) {
	k.mu.Lock()
	r, ok := k.pending[id]
	k.mu.Unlock()
	if ok || k.st == nil {
		return r, ok, nil
	}
	doc, found, err := k.st.OMSRunDoc(id)
	if err != nil || !found {
		return nil, false, err
	}
	r, err = oms.DecodeRun(doc)
	return r, err == nil, err
}

func (k *runKeeper) loop() {
	defer close(k.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-k.kick:
		case <-k.stop:
			k.flush()
			return
		}
		k.flush()
	}
}

func (k *runKeeper) flush() {
	k.mu.Lock()
	batch := k.queue
	k.queue = nil
	k.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	docs := make([]store.OMSRun, 0, len(batch))
	for _, r := range batch {
		doc, err := oms.EncodeRun(r)
		if err != nil { // cannot happen for engine output; never block the queue on it
			k.log.Error("encoding an order-sourcing run failed", "run", r.ID, "err", err)
			continue
		}
		docs = append(docs, store.OMSRun{ID: r.ID, Start: r.Start, Doc: doc})
	}
	if err := k.st.SaveOMSRuns(docs, k.keep, k.maxAge, k.now()); err != nil {
		// Keep serving them from memory; the next flush tries again.
		k.log.Error("saving order-sourcing runs failed", "runs", len(batch), "err", err)
		k.mu.Lock()
		k.queue = append(batch, k.queue...)
		if over := len(k.queue) - maxQueuedRuns; over > 0 {
			// The store keeps failing: losing the oldest runs (loudly)
			// beats blocking every sourcing request forever.
			for _, r := range k.queue[:over] {
				delete(k.pending, r.ID)
			}
			k.queue = k.queue[over:]
			k.log.Error("order-sourcing runs dropped: the store keeps failing", "dropped", over)
			k.room.Broadcast()
		}
		k.mu.Unlock()
		return
	}
	k.mu.Lock()
	for _, r := range batch {
		delete(k.pending, r.ID)
	}
	k.room.Broadcast()
	k.mu.Unlock()
}

// close saves what is queued and stops the loop.
func (k *runKeeper) close() {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return
	}
	k.closed = true
	k.room.Broadcast()
	k.mu.Unlock()
	if k.st != nil {
		close(k.stop)
	}
	<-k.done
}
