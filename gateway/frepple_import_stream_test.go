package gateway_test

import (
	"bytes"
	"context"
	"fmt"
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

// bigPlan streams a planner body with n purchase proposals, the last one
// with an unknown ordertype, without building it in memory.
func bigPlan(boundary string, n int) io.Reader {
	pr, pw := io.Pipe()
	var size atomic.Int64
	go func() {
		w := &countW{w: pw, n: &size}
		fmt.Fprintf(w, "--%s\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n1\r\n", boundary)
		fmt.Fprintf(w, "--%s\r\nContent-Disposition: file; name=\"frePPLe plan\"; filename=\"frepple_plan.xml\"\r\nContent-Type: application/xml\r\n\r\n", boundary)
		io.WriteString(w, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<plan>\n<operationplans>\n")
		var b bytes.Buffer
		for i := 1; i <= n; i++ {
			kind := "PO"
			if i == n {
				kind = "ZZ"
			}
			fmt.Fprintf(&b, `<operationplan reference="PO-PROP-%d" ordertype="%s" item="FURN_7777" location="WH" supplier="Wood Corner 9" start="2026-11-24 10:00:00" end="2026-11-28 10:00:00" quantity="4.00000000" location_id="1" item_id="1,5" criticality="0" batch=""/>`+"\n", i, kind)
			if b.Len() > 32<<10 || i == n {
				w.Write(b.Bytes())
				b.Reset()
			}
		}
		fmt.Fprintf(w, "</operationplans>\n</plan>\n\n--%s--\r\n", boundary)
		pw.Close()
	}()
	return pr
}

type countW struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countW) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// A plan of 100k operationplans (about 24 MB) posted through the gateway
// is streamed in, spooled and parsed in full: the record that fails
// validation is the very last one, and nothing is written to Odoo. The
// peak heap of the request is logged (the body itself is never in memory;
// the validated records are, ~0.7 KB each).
func TestImportLargePlanStreams(t *testing.T) {
	n := 100_000
	if raceEnabled {
		n = 20_000 // encoding/xml under the race detector is several times slower
	}
	r := startImportRigWith(t, nil, func(c *gateway.Config) { c.MaxBodyBytes = 64 << 20 })
	boundary := "===============2055820159000343593=="
	body := bigPlan(boundary, n)
	q := url.Values{"database": {"odoo17"}, "company": {"My Company (San Francisco)"}}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, r.gw.URL+"/frepple/xml?"+q.Encode(), body)
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.SetBasicAuth("admin", "admin")

	var res *http.Response
	var err error
	rise := heapRise(func() { res, err = http.DefaultClient.Do(req) })
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	t.Logf("%d operationplans: status %d; heap in use rose by at most %d MB during the request", n, res.StatusCode, rise>>20)
	want := fmt.Sprintf("PO-PROP-%d", n)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), want) || !strings.Contains(string(got), "ordertype") {
		t.Fatalf("status %d body %q, want 400 naming %s", res.StatusCode, got, want)
	}
	if w := len(r.emu.Journal()); w != 0 {
		t.Errorf("%d writes for a rejected plan", w)
	}
}

const raceEnabled = raceOn

// heapRise runs fn and returns how far the heap in use rose above its
// level before, at most (sampled every 10 ms).
func heapRise(fn func()) int64 {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
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
	fn()
	close(done)
	<-stopped
	return max(0, int64(peak.Load())-int64(base.HeapInuse))
}
