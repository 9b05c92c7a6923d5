package export_test

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/export"
)

// TestExportConcurrency: reads overlap up to MaxInFlight, never more, and
// concurrency changes neither the document nor the number of calls.
func TestExportConcurrency(t *testing.T) {
	srv, s := demoSession(t)
	srv.SetCost(odooemu.CostModel{PerCall: 5 * time.Millisecond}) // calls last long enough to overlap
	p := export.Params{Mode: 1, Delta: 999, Company: "My Company (San Francisco)", Now: benchNow}
	var firstDoc string
	var firstCalls int64
	for _, n := range []int{1, 2, 4, 8} {
		srv.ResetUsage()
		var buf bytes.Buffer
		if _, err := (&export.Exporter{Session: s, MaxInFlight: n, Logger: quietLog}).Export(context.Background(), &buf, p); err != nil {
			t.Fatalf("MaxInFlight %d: %v", n, err)
		}
		u := srv.Usage()
		if u.Peak > n || (n > 1 && u.Peak < 2) {
			t.Errorf("MaxInFlight %d: %d calls at once", n, u.Peak)
		}
		if n == 1 {
			firstDoc, firstCalls = buf.String(), u.Calls
			continue
		}
		if buf.String() != firstDoc {
			t.Errorf("MaxInFlight %d: the document differs from the one read call by call:\n%s", n, lineDiff(firstDoc, buf.String()))
		}
		if u.Calls != firstCalls {
			t.Errorf("MaxInFlight %d: %d calls, %d call by call", n, u.Calls, firstCalls)
		}
	}
}

// TestExportFailsFast: when a late section's read fails, the export ends
// at once with that error, leaves the document unterminated and no
// goroutine behind.
func TestExportFailsFast(t *testing.T) {
	srv, s := demoSession(t)
	srv.SetCost(odooemu.CostModel{PerCall: 20 * time.Millisecond})
	srv.InjectFault(&odooemu.Fault{Model: "stock.quant", Method: "search_read", Message: "psycopg2.OperationalError: server closed the connection"})
	var buf bytes.Buffer
	_, err := (&export.Exporter{Session: s, Logger: quietLog}).Export(context.Background(), &buf, export.Params{Mode: 1, Delta: 999,
		Company: "My Company (San Francisco)", Now: benchNow})
	if err == nil || !strings.Contains(err.Error(), "stock.quant") {
		t.Fatalf("err = %v, want the failed read of stock.quant", err)
	}
	if strings.Contains(buf.String(), "</plan>") {
		t.Error("a failed export ends with </plan>")
	}
	if strings.Contains(buf.String(), "<!-- inventory -->") {
		t.Error("the failed section was written")
	}
	// A goroutine that has signalled its end may take a moment to exit.
	stacks := exportGoroutines()
	for deadline := time.Now().Add(2 * time.Second); stacks != "" && time.Now().Before(deadline); stacks = exportGoroutines() {
		time.Sleep(10 * time.Millisecond)
	}
	if stacks != "" {
		t.Errorf("goroutines of the export still run after it returned:\n%s", stacks)
	}
}

// exportGoroutines returns the stacks of goroutines running export code
// (other than this test's).
func exportGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "plangate/mappers/export.(") && !strings.Contains(g, "TestExportFailsFast") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
