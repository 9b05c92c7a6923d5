package gateway_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plangate/plangate/gateway"
)

var importMemoryFlag = flag.Bool("import-memory", false, "measure the gateway's peak heap for hostile plan bodies (42 MB of nesting, 1 GB bodies); slow, writes up to 1 GB to the temp dir")

// generated is a body of size bytes: head, then unit repeated, then
// tail. off counts the bytes read, also while the transport still reads.
type generated struct {
	head, unit, tail string
	size             int64
	off              atomic.Int64
}

func (g *generated) Read(p []byte) (int, error) {
	off := g.off.Load()
	if off >= g.size {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && off < g.size {
		var c int
		switch tailAt := g.size - int64(len(g.tail)); {
		case off < int64(len(g.head)):
			c = copy(p[k:], g.head[off:])
		case off >= tailAt:
			c = copy(p[k:], g.tail[off-tailAt:])
		default:
			end := len(p)
			if rest := tailAt - off; rest < int64(end-k) {
				end = k + int(rest)
			}
			c = copy(p[k:end], g.unit[(off-int64(len(g.head)))%int64(len(g.unit)):])
		}
		k += c
		off += int64(c)
	}
	g.off.Store(off)
	return k, nil
}

// planBody is a planner body of size bytes (math.MaxInt64: endless) whose
// plan is open followed by unit repeated.
func planBody(size int64, open, unit string) *generated {
	full := string(plannerBody(testBoundary, "1", []byte(open)))
	i := strings.LastIndex(full, "\n--"+testBoundary)
	return &generated{head: full[:i], unit: unit, tail: full[i:], size: size}
}

// TestImportPeakMemory posts hostile bodies and reports how far the heap
// in use rose while each was answered (the emulator and the test share
// the process; the body is generated, never held). Run with
// -import-memory; the figures go to the README.
func TestImportPeakMemory(t *testing.T) {
	if !*importMemoryFlag {
		t.Skip("run with -import-memory")
	}
	const gb = 1 << 30
	nested := "<plan><operationplans>"
	record := `<operationplan reference="PO-X" ordertype="PO" item="FURN_7777" location="WH" supplier="Wood Corner 9" start="2026-11-24 10:00:00" end="2026-11-28 10:00:00" quantity="4.00000000" location_id="1" item_id="1,5" criticality="0" batch=""/>` + "\n"
	cases := []struct {
		name     string
		maxBody  int64
		body     *generated
		announce bool // send Content-Length
		password string
	}{
		{"42 MB of nested elements", 64 << 20, planBody(42<<20, nested, "<a>"), true, "admin"},
		{"1 GB announced, default limit", 0, planBody(gb, nested, record), true, "admin"},
		{"1 GB chunked, default limit", 0, planBody(gb, nested, record), false, "admin"},
		{"1 GB chunked, wrong password", 0, planBody(gb, nested, record), false, "wrong"},
		{"1 GB plan of operationplans, limit 2 GB", 2 * gb, planBody(gb, nested, record), true, "admin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := startImportRigWith(t, nil, func(cfg *gateway.Config) { cfg.MaxBodyBytes = c.maxBody })
			q := url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}}
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, r.gw.URL+"/frepple/xml?"+q.Encode(), c.body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = -1
			if c.announce {
				req.ContentLength = c.body.size
			}
			req.Header.Set("Content-Type", "multipart/form-data; boundary="+testBoundary)
			req.SetBasicAuth("admin", c.password)
			t0 := time.Now()
			var res *http.Response
			rise := heapRise(func() { res, err = http.DefaultClient.Do(req) })
			if err != nil {
				t.Fatalf("after %s: %v", time.Since(t0).Round(time.Millisecond), err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			msg := strings.TrimSpace(string(b))
			if len(msg) > 90 {
				msg = msg[:90] + "…"
			}
			t.Logf("%s: %d %q after %s, %d MB of the body sent; heap in use rose by at most %d MB",
				c.name, res.StatusCode, msg, time.Since(t0).Round(time.Millisecond), c.body.off.Load()>>20, rise>>20)
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Errorf("status %d, want a 4xx", res.StatusCode)
			}
		})
	}
}
