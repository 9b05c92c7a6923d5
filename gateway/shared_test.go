package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFlightsShareOneRun(t *testing.T) {
	var fs flights
	var runs atomic.Int32
	release := make(chan struct{})
	run := func(ctx context.Context, w io.Writer) error {
		runs.Add(1)
		io.WriteString(w, "<plan>")
		<-release
		io.WriteString(w, "</plan>\n")
		return nil
	}
	const readers = 5
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, readers)
	started := make(chan struct{}, readers)
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			f, _, err := fs.join(context.Background(), "k", run)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.leave()
			started <- struct{}{}
			if err := f.copyTo(context.Background(), &outs[i], nil); err != nil {
				t.Error(err)
			}
		}(i)
	}
	for i := 0; i < readers; i++ {
		<-started
	}
	close(release)
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("extraction ran %d times for %d concurrent readers, want once", n, readers)
	}
	for i := range outs {
		if got := outs[i].String(); got != "<plan></plan>\n" {
			t.Errorf("reader %d got %q", i, got)
		}
	}
	// A later request starts afresh.
	f, leader, _ := fs.join(context.Background(), "k", func(ctx context.Context, w io.Writer) error { runs.Add(1); return nil })
	_ = f.copyTo(context.Background(), io.Discard, nil)
	f.leave()
	if !leader || runs.Load() != 2 {
		t.Errorf("after completion a new request should run again: leader=%v runs=%d", leader, runs.Load())
	}
}

func TestFlightErrorReachesEveryReader(t *testing.T) {
	var fs flights
	boom := errors.New("odoo went away")
	f, _, _ := fs.join(context.Background(), "k", func(ctx context.Context, w io.Writer) error {
		io.WriteString(w, "<plan>")
		return boom
	})
	defer f.leave()
	var out bytes.Buffer
	if err := f.copyTo(context.Background(), &out, nil); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if out.String() != "<plan>" {
		t.Errorf("partial output %q", out.String())
	}
}

func TestFlightStopsWhenAllReadersLeave(t *testing.T) {
	var fs flights
	stopped := make(chan struct{})
	f, _, _ := fs.join(context.Background(), "k", func(ctx context.Context, w io.Writer) error {
		<-ctx.Done()
		close(stopped)
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := f.copyTo(ctx, io.Discard, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("copy err = %v", err)
	}
	f.leave()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("extraction kept running after its last reader left")
	}
}
