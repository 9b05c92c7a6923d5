package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/etcdtest"
	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/store"
)

var (
	loadFlag    = flag.Duration("load", 0, "TestOMSLoad: post tickets this long (e.g. -load=10s); without it a short run")
	noStoreFlag = flag.Bool("nostore", false, "TestOMSLoad: run the demo without a state file (throughput only)")
	profileFlag = flag.String("demoprofile", "", "TestOMSLoad: write the demo process's CPU and allocation profiles to this directory")
)

// childProfileEnv names the directory a child writes its profiles to.
const childProfileEnv = "PLANGATE_TEST_PROFILE_DIR"

// childEnv makes the test binary run plangate's main instead of the tests,
// so that a test can run the real process and signal it.
const childEnv = "PLANGATE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if dir := os.Getenv(childProfileEnv); dir != "" {
			defer profile(dir)()
		}
		main()
		return
	}
	etcdtest.Main(m) // the tests, then the embedded etcd some of them share stops
}

// profile starts a CPU profile in dir; the function it returns stops it
// and writes the allocation profile.
func profile(dir string) func() {
	cpu, err := os.Create(filepath.Join(dir, "cpu.prof"))
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		panic(err)
	}
	return func() {
		pprof.StopCPUProfile()
		cpu.Close()
		f, err := os.Create(filepath.Join(dir, "allocs.prof"))
		if err != nil {
			panic(err)
		}
		defer f.Close()
		_ = pprof.Lookup("allocs").WriteTo(f, 0)
	}
}

// demoProcess is `plangate demo` running in a child process.
type demoProcess struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

// startDemo runs `plangate demo` with args in a child process and waits
// until it prints its gateway URL.
func startDemo(t *testing.T, args ...string) *demoProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"demo", "--listen", "127.0.0.1:0", "--log-level", "error"}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	if *profileFlag != "" {
		cmd.Env = append(cmd.Env, childProfileEnv+"="+*profileFlag)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &demoProcess{cmd: cmd, done: make(chan error, 1)}
	url := make(chan string, 1)
	go func() {
		gw := regexp.MustCompile(`Gateway:\s+(http://\S+)/`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := gw.FindStringSubmatch(sc.Text()); m != nil {
				url <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, out)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.base = <-url:
	case err := <-p.done:
		t.Fatalf("demo ended before serving: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("demo did not start\n%s", stderr.String())
	}
	return p
}

// stop signals the process and waits for it to end.
func (p *demoProcess) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("demo did not stop within 60 s of %v", sig)
		return nil
	}
}

// loadTicket is a 50-line ticket of Deco Addict over products the demo's
// San Francisco warehouses stock (shared with the gateway's benchmark).
func loadTicket(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../gateway/testdata/oms_ticket50.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// answered is one ticket the gateway answered.
type answered struct {
	run string
	at  time.Time
}

// loadResult is what the clients saw.
type loadResult struct {
	answers  []answered
	lat      []time.Duration // of answers before the stop
	failures int             // non-200 answers (transport errors after the stop are expected)
	elapsed  time.Duration
}

var runIDField = []byte(`"obomsRunId":"`)

// postTickets posts ticket from clients goroutines until stopAt, then on
// until the server stops answering (when drain) or stops at once.
func postTickets(base, ticket string, clients int, stopAt time.Time, drain bool) *loadResult {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	res := &loadResult{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t0 := time.Now()
				if !drain && !t0.Before(stopAt) {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, base+"/oms/orders-proposal", strings.NewReader(ticket))
				req.SetBasicAuth("admin", "admin")
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil { // after the stop: the server is gone, this client ends
					if time.Now().After(stopAt) {
						return
					}
					mu.Lock()
					res.failures++
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
					continue
				}
				body, err := io.ReadAll(resp.Body) // read to the end: the connection is reused
				resp.Body.Close()
				now := time.Now()
				mu.Lock()
				if err != nil || resp.StatusCode != http.StatusOK {
					if now.Before(stopAt) || (err == nil && resp.StatusCode != http.StatusServiceUnavailable) {
						res.failures++
					}
				} else if i := bytes.Index(body, runIDField); i >= 0 {
					id, _, _ := bytes.Cut(body[i+len(runIDField):], []byte(`"`))
					res.answers = append(res.answers, answered{run: string(id), at: now})
					if t0.Before(stopAt) {
						res.lat = append(res.lat, now.Sub(t0))
					}
				} else {
					res.failures++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = min(time.Since(start), stopAt.Sub(start))
	slices.Sort(res.lat)
	return res
}

// readableRuns counts the answered runs the state file holds, decoded, of
// the ticket that was posted; it lists the first few missing.
func readableRuns(t *testing.T, path string, answers []answered) (saved, readable, docBytes int, missing []string) {
	t.Helper()
	st, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if saved, err = st.OMSRunCount(); err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		doc, found, err := st.OMSRunDoc(a.run)
		if err != nil {
			t.Fatal(err)
		}
		docBytes += len(doc)
		if found {
			if r, err := oms.DecodeRun(doc); err == nil && r.ID == a.run && r.TicketID == "LOAD" && len(r.Lines) == 50 {
				readable++
				continue
			}
		}
		if len(missing) < 5 {
			missing = append(missing, a.run)
		}
	}
	return saved, readable, docBytes, missing
}

// loadRun is the outcome of a demo put under load and then stopped.
type loadRun struct {
	path    string        // the state file ("" without one)
	answers []answered    // every ticket answered, warm-up included
	res     *loadResult   // the loaded phase
	stopAt  time.Time     // when the signal was sent
	stopErr error         // how the process ended
	cpu     time.Duration // the process's CPU time, start-up and shutdown included
}

// loadDemo starts plangate demo (with a state file unless noStore),
// posts the load ticket from clients for d, then sends sig while they go
// on posting, and waits for the process to end.
func loadDemo(t *testing.T, clients int, d time.Duration, sig os.Signal, noStore bool) *loadRun {
	t.Helper()
	dir := t.TempDir()
	lr := &loadRun{path: filepath.Join(dir, "state.db")}
	cfg := filepath.Join(dir, "plangate.yaml")
	// Retention must not remove runs the tests check.
	if err := os.WriteFile(cfg, []byte("oms:\n  keep_runs: 10000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", cfg, "--store", lr.path}
	if noStore {
		args[3], lr.path = storeNone, ""
	}
	p := startDemo(t, args...)
	ticket := loadTicket(t)
	warm := postTickets(p.base, ticket, 1, time.Now().Add(200*time.Millisecond), false) // stock read, login cached
	if len(warm.answers) == 0 || warm.failures > 0 {
		t.Fatalf("warm-up: %d answers, %d failures", len(warm.answers), warm.failures)
	}
	lr.stopAt = time.Now().Add(d)
	stopped := make(chan struct{})
	go func() {
		time.Sleep(time.Until(lr.stopAt))
		lr.stopErr = p.stop(t, sig)
		close(stopped)
	}()
	lr.res = postTickets(p.base, ticket, clients, lr.stopAt, true)
	<-stopped
	lr.cpu = p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	if len(lr.res.lat) == 0 {
		t.Fatal("no ticket answered")
	}
	if lr.res.failures > 0 {
		t.Errorf("%d requests failed before %v", lr.res.failures, sig)
	}
	lr.answers = append(warm.answers, lr.res.answers...)
	return lr
}

// TestOMSLoadKeepsEveryRun is order sourcing as a shop backend calls it:
// `plangate demo --store` in its own process, 8 clients posting a 50-line
// ticket over the demo's warehouses, then SIGTERM while they still post.
// Every answered ticket's run must be in the state file afterwards.
// With -load=DURATION it reports tickets/s and latency for that long
// (-nostore: without a state file, for comparison).
func TestOMSLoadKeepsEveryRun(t *testing.T) {
	d := *loadFlag
	if d == 0 {
		d = 1500 * time.Millisecond
	}
	lr := loadDemo(t, 8, d, syscall.SIGTERM, *noStoreFlag)
	if lr.stopErr != nil {
		t.Fatalf("plangate demo ended with %v after SIGTERM", lr.stopErr)
	}
	res := lr.res
	msg := fmt.Sprintf("50-line tickets over the demo's warehouses, 8 clients, %v then SIGTERM: %.0f tickets/s, p50 %v, p99 %v, %d answered (%d after SIGTERM), gateway CPU %v per ticket",
		res.elapsed.Round(time.Millisecond), float64(len(res.lat))/res.elapsed.Seconds(), res.lat[len(res.lat)/2].Round(10*time.Microsecond),
		res.lat[len(res.lat)*99/100].Round(10*time.Microsecond), len(lr.answers), len(res.answers)-len(res.lat), (lr.cpu / time.Duration(len(lr.answers))).Round(time.Microsecond))
	if lr.path == "" {
		t.Log(msg + ", no state file")
		return
	}
	saved, readable, docBytes, missing := readableRuns(t, lr.path, lr.answers)
	fi, err := os.Stat(lr.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s, runs saved %d, readable %d (%d bytes each on average; state file %.1f MB)", msg, saved, readable,
		docBytes/max(1, len(lr.answers)), float64(fi.Size())/1e6)
	if readable != len(lr.answers) {
		t.Errorf("%d of %d answered runs are not readable from the state file after SIGTERM, e.g. %v", len(lr.answers)-readable, len(lr.answers), missing)
	}
	if saved != len(lr.answers) {
		t.Errorf("the state file holds %d runs, %d were answered", saved, len(lr.answers))
	}
}

// TestOMSCrashLosesOnlyTheLastWindow kills plangate demo (SIGKILL: no
// shutdown) under load. Runs reach the state file in one transaction per
// 25 ms window, so only runs answered just before the kill may be lost:
// every run answered half a second or more earlier must be there.
func TestOMSCrashLosesOnlyTheLastWindow(t *testing.T) {
	lr := loadDemo(t, 4, 2500*time.Millisecond, syscall.SIGKILL, false)
	const margin = 500 * time.Millisecond // the window, a transaction, and a loaded machine's delays
	var early, late []answered
	for _, a := range lr.answers {
		if a.at.Before(lr.stopAt.Add(-margin)) {
			early = append(early, a)
		} else {
			late = append(late, a)
		}
	}
	if len(early) == 0 {
		t.Fatal("no ticket answered before the last half second")
	}
	_, readable, _, missing := readableRuns(t, lr.path, early)
	_, lateKept, _, _ := readableRuns(t, lr.path, late)
	t.Logf("killed under load: %d of %d runs answered earlier than %v before the kill are kept; of the %d answered after, %d", readable, len(early), margin, len(late), lateKept)
	if readable != len(early) {
		t.Errorf("%d runs answered %v or more before the crash are lost, e.g. %v", len(early)-readable, margin, missing)
	}
}
