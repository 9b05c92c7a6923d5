package gateway

import (
	"context"
	"io"
	"os"
	"sync"
)

// flights lets concurrent identical exports share one extraction: the
// first request runs it into a private temporary file (never a shared
// directory: addon defect D31), and every request for the same key
// streams that file as it grows. Odoo is read once.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one running extraction and its readers.
type flight struct {
	mu      sync.Mutex
	cond    *sync.Cond
	file    *os.File
	size    int64
	done    bool
	err     error
	readers int
	cancel  context.CancelFunc
}

// join returns the flight for key, starting run in the background when
// none is under way. run writes the document to w. The caller must call
// leave when it stops reading.
func (fs *flights) join(ctx context.Context, key string, run func(ctx context.Context, w io.Writer) error) (*flight, bool, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m == nil {
		fs.m = map[string]*flight{}
	}
	if f, ok := fs.m[key]; ok {
		f.mu.Lock()
		alive := f.readers > 0 // a flight whose readers all left is being stopped
		if alive {
			f.readers++
		}
		f.mu.Unlock()
		if alive {
			return f, false, nil
		}
	}
	file, err := os.CreateTemp("", "plangate-export-*")
	if err != nil {
		return nil, false, err
	}
	_ = os.Remove(file.Name()) // unlinked: vanishes with the last reader, even on a crash
	// The extraction outlives the request that started it (others may be
	// reading) but stops when every reader has gone.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{file: file, readers: 1, cancel: cancel}
	f.cond = sync.NewCond(&f.mu)
	fs.m[key] = f
	go func() {
		err := run(rctx, f)
		fs.mu.Lock()
		if fs.m[key] == f {
			delete(fs.m, key) // later requests start afresh
		}
		fs.mu.Unlock()
		f.mu.Lock()
		f.done, f.err = true, err
		f.cond.Broadcast()
		f.mu.Unlock()
		cancel()
	}()
	return f, true, nil
}

// Write appends extraction output and wakes the readers.
func (f *flight) Write(p []byte) (int, error) {
	n, err := f.file.WriteAt(p, f.size)
	f.mu.Lock()
	f.size += int64(n)
	f.cond.Broadcast()
	f.mu.Unlock()
	return n, err
}

// copyTo streams the flight's output to w until the extraction ends; it
// returns the extraction's error. flush is called after each chunk.
func (f *flight) copyTo(ctx context.Context, w io.Writer, flush func()) error {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	buf := make([]byte, 64<<10)
	var off int64
	for {
		f.mu.Lock()
		for off == f.size && !f.done && ctx.Err() == nil {
			f.cond.Wait()
		}
		size, done, err := f.size, f.done, f.err
		f.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for off < size {
			n, rerr := f.file.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return werr
				}
				off += int64(n)
			}
			if rerr != nil && rerr != io.EOF {
				return rerr
			}
		}
		if flush != nil {
			flush()
		}
		if done {
			return err
		}
	}
}

// leave drops a reader; the last one stops an unfinished extraction and
// releases the file.
func (f *flight) leave() {
	f.mu.Lock()
	f.readers--
	last := f.readers == 0
	done := f.done
	f.mu.Unlock()
	if last {
		if !done {
			f.cancel()
		}
		go func() {
			// Wait for the writer to finish before closing the file under it.
			f.mu.Lock()
			for !f.done {
				f.cond.Wait()
			}
			f.mu.Unlock()
			f.file.Close()
		}()
	}
}
