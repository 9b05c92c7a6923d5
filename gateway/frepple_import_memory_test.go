package gateway_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plangate/plangate/gateway"
)

var importMemoryFlag = flag.Bool("import-memory", false, "measure the gateway's peak heap for hostile plan bodies (42 MB of nesting, 1 GB bodies); slow, writes up to 1 GB to the temp dir")

// generated is a body of size bytes: head, then unit repeated, then tail.
type generated struct {
	head, unit, tail string
	size, off        int64
}

func (g *generated) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && g.off < g.size {
		var c int
		switch tailAt := g.size - int64(len(g.tail)); {
		case g.off < int64(len(g.head)):
			c = copy(p[k:], g.head[g.off:])
		case g.off >= tailAt:
			c = copy(p[k:], g.tail[g.off-tailAt:])
		default:
			u := (g.off - int64(len(g.head))) % int64(len(g.unit))
			c = copy(p[k:min(len(p), k+int(tailAt-g.off))], g.unit[u:])
		}
		k += c
		g.off += int64(c)
	}
	return k, nil
}

// planBody is a planner body of about size bytes whose plan is open
// followed by unit repeated.
func planBody(size int64, open, unit string) *generated {
	head := "--" + testBoundary + "\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n1\r\n--" + testBoundary +
		"\r\nContent-Disposition: file; name=\"frePPLe plan\"; filename=\"frepple_plan.xml\"\r\nContent-Type: application/xml\r\n\r\n" + open
	return &generated{head: head, unit: unit, tail: "\n--" + testBoundary + "--\r\n", size: size}
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
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			done := make(chan struct{})
			go func() {
				var m runtime.MemStats
				for {
					select {
					case <-done:
						return
					case <-time.After(10 * time.Millisecond):
					}
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}()
			t0 := time.Now()
			res, err := http.DefaultClient.Do(req)
			close(done)
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
				c.name, res.StatusCode, msg, time.Since(t0).Round(time.Millisecond), c.body.off>>20, max(0, int64(peak.Load())-int64(base.HeapInuse))>>20)
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Errorf("status %d, want a 4xx", res.StatusCode)
			}
		})
	}
}
