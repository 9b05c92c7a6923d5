package gateway

import (
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/store"
)

// runKeeper keeps order-sourcing runs. Writing each run in its own bbolt
// transaction would cost a disk sync per ticket, so runs queue in memory
// and a background loop saves them in batches; until saved they are
// served from the queue. Without a store the newest runs stay in memory.
type runKeeper struct {
	st     *store.Store
	keep   int
	maxAge time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu      sync.Mutex
	pending map[string]store.OMSRun // queued, or (no store) kept in memory
	queue   []store.OMSRun
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
		pending: map[string]store.OMSRun{}, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	k.room = sync.NewCond(&k.mu)
	if st == nil {
		close(k.done)
		return k
	}
	go k.loop()
	return k
}

func (k *runKeeper) add(run *oms.Run) {
	doc, err := json.Marshal(run)
	if err != nil {
		k.log.Error("encoding an order-sourcing run failed", "run", run.ID, "err", err)
		return
	}
	r := store.OMSRun{ID: run.ID, Start: run.Start, Doc: doc}
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
	if len(k.queue) >= 512 {
		select {
		case k.kick <- struct{}{}:
		default:
		}
	}
}

func (k *runKeeper) get(id string) ([]byte, bool, error) {
	k.mu.Lock()
	r, ok := k.pending[id]
	k.mu.Unlock()
	if ok {
		return r.Doc, true, nil
	}
	if k.st == nil {
		return nil, false, nil
	}
	return k.st.OMSRunDoc(id)
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
	if err := k.st.SaveOMSRuns(batch, k.keep, k.maxAge, k.now()); err != nil {
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
