package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/store"
)

// runKeeper keeps order-sourcing runs. Writing each run in its own
// transaction would cost a disk sync per ticket, so a request encodes its
// run (a few kB, on its own goroutine) and queues it, and a background
// loop saves what queued in one transaction per window (group commit);
// until saved, runs are served from the queue. Without a store the newest
// runs stay in memory.
type runKeeper struct {
	st     *store.Store
	keep   int
	maxAge time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu      sync.Mutex
	pending map[string]keptRun // runs queued, or (no store) kept in memory
	queue   []store.OMSRun
	order   []string      // no store: ids oldest first, for the memory bound
	kick    chan struct{} // a run queued in an empty queue
	full    chan struct{} // flushAt runs queued
	room    *sync.Cond    // signalled when a flush empties the queue
	stop    chan struct{}
	done    chan struct{}
	closed  bool
}

// keptRun is a run not (yet) in the store.
type keptRun struct {
	run store.OMSRun
	sum oms.RunSummary
}

// memoryRuns bounds the runs kept without a store.
const memoryRuns = 1000

// flushEvery is the batch window: the longest a run waits for its
// transaction to start, hence what a crash can lose (the README says
// so). Short windows also spread the store's work evenly between
// requests instead of in bursts.
const flushEvery = 25 * time.Millisecond

// retryEvery spaces the attempts while the store fails.
const retryEvery = time.Second

// flushAt starts a transaction before the window ends when this many runs
// are queued.
const flushAt = 512

// maxQueuedRuns bounds the runs waiting for the store. Past it, requests
// wait for the writer (backpressure) rather than runs being dropped or
// memory growing without bound while the disk is slow or failing.
const maxQueuedRuns = 4096

// errRunNotKept is a run that could not be saved after the keeper closed.
var errRunNotKept = errors.New("the gateway is shutting down: the run could not be saved")

func newRunKeeper(st *store.Store, cfg oms.Config, now func() time.Time, log *slog.Logger) *runKeeper {
	k := &runKeeper{st: st, keep: cfg.KeepRuns, maxAge: cfg.KeepFor, now: now, log: log,
		pending: map[string]keptRun{}, kick: make(chan struct{}, 1), full: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	k.room = sync.NewCond(&k.mu)
	if st == nil {
		close(k.done)
		return k
	}
	go k.loop()
	return k
}

// add keeps a run; the caller may drop it afterwards. An error means the
// run is not kept (after close, the store refused it): do not answer with
// its id.
func (k *runKeeper) add(r *oms.Run) error {
	sum := r.Summary()
	o := store.OMSRun{ID: r.ID, Start: r.Start, Doc: oms.EncodeRun(r), Summary: oms.EncodeSummary(sum)}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pending[r.ID] = keptRun{run: o, sum: sum}
	if k.st == nil {
		k.order = append(k.order, r.ID)
		if len(k.order) > memoryRuns {
			delete(k.pending, k.order[0])
			k.order = k.order[1:]
		}
		return nil
	}
	for len(k.queue) >= maxQueuedRuns && !k.closed {
		k.room.Wait()
	}
	if k.closed {
		// A request that outlived close: save it now, no loop will.
		k.mu.Unlock()
		err := k.st.SaveOMSRuns([]store.OMSRun{o}, k.keep, k.maxAge, k.now())
		k.mu.Lock()
		delete(k.pending, r.ID)
		if err != nil {
			k.log.Error("saving an order-sourcing run after shutdown failed", "run", r.ID, "err", err)
			return fmt.Errorf("%w: %v", errRunNotKept, err)
		}
		return nil
	}
	k.queue = append(k.queue, o)
	switch len(k.queue) {
	case 1:
		signal(k.kick)
	case flushAt:
		signal(k.full)
	}
	return nil
}

// signal wakes the loop if it waits on c.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// queued is how many runs wait for the store.
func (k *runKeeper) queued() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.queue)
}

// get returns a kept run.
func (k *runKeeper) get(id string) (*oms.Run, bool, error) {
	k.mu.Lock()
	kept, ok := k.pending[id]
	k.mu.Unlock()
	doc := kept.run.Doc
	if !ok && k.st != nil {
		var err error
		if doc, ok, err = k.st.OMSRunDoc(id); err != nil {
			return nil, false, err
		}
	}
	if !ok {
		return nil, false, nil
	}
	r, err := oms.DecodeRun(doc)
	return r, err == nil, err
}

// loop saves runs one window at a time: the first run queued opens a
// window, and when it ends (or flushAt runs wait) one transaction saves
// all that queued meanwhile. Idle, it sleeps; after a failed save it
// tries again a second later.
func (k *runKeeper) loop() {
	defer close(k.done)
	wait := flushEvery
	for {
		if k.queued() == 0 {
			select {
			case <-k.kick:
			case <-k.stop:
				k.flush()
				return
			}
		}
		window := time.NewTimer(wait)
		select {
		case <-window.C:
		case <-k.full:
			window.Stop()
		case <-k.stop:
			window.Stop()
			k.flush()
			return
		}
		wait = flushEvery
		if !k.flush() {
			wait = retryEvery
		}
	}
}

// flush saves the queue in one transaction. On failure (false) the runs
// stay queued, and served, for the next flush.
func (k *runKeeper) flush() bool {
	k.mu.Lock()
	batch := k.queue
	k.queue = nil
	k.mu.Unlock()
	if len(batch) == 0 {
		return true
	}
	if err := k.st.SaveOMSRuns(batch, k.keep, k.maxAge, k.now()); err != nil {
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
		return false
	}
	k.mu.Lock()
	for _, r := range batch {
		delete(k.pending, r.ID)
	}
	k.room.Broadcast()
	k.mu.Unlock()
	return true
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
