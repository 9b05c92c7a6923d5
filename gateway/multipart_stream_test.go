package gateway

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/plangate/plangate/xmlschema"
)

// Parts whose delimiters fall on every position around the 64 KiB read
// buffer, with each line ending, read in halves or with io.EOF on the
// last data, come out exactly as sent.
func TestStreamMultipartAcrossReads(t *testing.T) {
	const b = "===============2055820159000343593=="
	ct := "multipart/form-data; boundary=" + b
	for _, eol := range []string{"\r\n", "\n", "\r"} {
		for n := 65536 - 90; n <= 65536+40; n++ {
			// Content with line endings of all kinds, a CR at its very end
			// and the boundary text inside a line: none of it is a delimiter.
			var c bytes.Buffer
			c.WriteString("<plan>\r\n--" + b + "x\n")
			for c.Len() < n-1 {
				c.WriteString("ab\r\ncd\ne\rf")
			}
			c.Truncate(n - 1)
			// A CR at the end, except with LF line endings, where
			// "\r\n--boundary" reads as a CRLF delimiter (as in the
			// in-memory parser this one replaced).
			if eol == "\n" {
				c.WriteString("x")
			} else {
				c.WriteString("\r")
			}
			file := c.Bytes()
			// eol ends the lines before delimiters; header lines end in
			// CRLF or LF (a bare CR there is not accepted).
			hl := eol
			if eol == "\r" {
				hl = "\r\n"
			}
			var body bytes.Buffer
			body.WriteString("preamble" + eol + "--" + b + " " + hl + "Content-Disposition: form-data; name=\"mode\"" + hl + hl + "1" + eol)
			body.WriteString("--" + b + hl + "Content-Disposition: file; name=\"frePPLe plan\"; filename=\"p.xml\"" + hl + "Content-Type: application/xml" + hl + hl)
			body.Write(file)
			// A field after the plan: the delimiter after the plan is not
			// the closing one (and has blanks before its line ending).
			body.WriteString(eol + "--" + b + "   " + hl + "Content-Disposition: form-data; name=\"actual_user\"" + hl + hl + "admin" + eol)
			body.WriteString("--" + b + "--" + eol + "epilogue")
			for name, r := range map[string]io.Reader{
				"half":          iotest.HalfReader(bytes.NewReader(body.Bytes())),
				"EOF with data": iotest.DataErrReader(bytes.NewReader(body.Bytes())),
			} {
				parts, err := readLenientMultipart(r, ct, 0)
				if err != nil {
					t.Fatalf("eol %q n %d %s: %v", eol, n, name, err)
				}
				if len(parts) != 3 || parts[0].Name != "mode" || string(parts[0].Body) != "1" || parts[1].Name != "frePPLe plan" || !bytes.Equal(parts[1].Body, file) ||
					parts[2].Name != "actual_user" || string(parts[2].Body) != "admin" {
					var names []string
					for _, p := range parts {
						names = append(names, fmt.Sprintf("%s:%d", p.Name, len(p.Body)))
					}
					t.Fatalf("eol %q n %d %s: parts %v, want mode:1, frePPLe plan:%d, actual_user:5", eol, n, name, names, len(file))
				}
			}
		}
	}
}

func TestStreamMultipartMalformed(t *testing.T) {
	ct := "multipart/form-data; boundary=b"
	for _, c := range []struct{ name, body, want string }{
		{"no boundary line", "hello", "no boundary line"},
		{"no closing boundary", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n", "no closing boundary"},
		{"header without colon", "--b\r\nbogus\r\n\r\n1\r\n--b--\r\n", "malformed multipart part header"},
		{"field too long", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n" + strings.Repeat("x", maxField+1) + "\r\n--b--\r\n", "longer than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := readPlanForm(strings.NewReader(c.body), ct, 0, t.TempDir(), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				f.Close()
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// planBody streams a planner-style multipart body (spec §4.1: CRLF,
// unquoted "=" boundary, disposition "file") carrying a plan of n
// purchase proposals, without building it in memory and without
// allocating per record.
type planBody struct {
	n, i  int
	stage int
	buf   []byte
	off   int
	size  int64 // plan bytes produced
	h     interface {
		io.Writer
		Sum([]byte) []byte
	}
	lastBad bool // make the last record invalid
}

const streamBoundary = "===============2055820159000343593=="

// recordTail follows the reference of each generated purchase proposal
// (golden_import/plan.xml's PO-PROP-1).
const recordTail = `" ordertype="PO" item="FURN_7777" location="WH" supplier="Wood Corner 9" start="2026-11-24 10:00:00" end="2026-11-28 10:00:00" quantity="4.00000000" location_id="1" item_id="1,5" criticality="0" batch=""/>` + "\n"

func newPlanBody(n int, lastBad bool) *planBody {
	return &planBody{n: n, buf: make([]byte, 0, 512), h: sha256.New(), lastBad: lastBad}
}

func (p *planBody) fill() bool {
	p.buf, p.off = p.buf[:0], 0
	plan := func(s string) {
		p.buf = append(p.buf, s...)
	}
	switch {
	case p.stage == 0:
		p.buf = append(p.buf, "--"+streamBoundary+"\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n1\r\n"...)
		p.buf = append(p.buf, "--"+streamBoundary+"\r\nContent-Disposition: file; name=\"frePPLe plan\"; filename=\"frepple_plan.xml\"\r\nContent-Type: application/xml\r\n\r\n"...)
		start := len(p.buf)
		plan("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<plan xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n<operationplans>\n")
		p.count(start)
		p.stage = 1
	case p.stage == 1 && p.i < p.n:
		start := len(p.buf)
		plan(`<operationplan reference="PO-PROP-`)
		p.buf = strconv.AppendInt(p.buf, int64(p.i+1), 10)
		if p.lastBad && p.i == p.n-1 {
			plan(strings.Replace(recordTail, `"PO"`, `"ZZ"`, 1))
		} else {
			plan(recordTail)
		}
		p.count(start)
		p.i++
	case p.stage == 1:
		start := len(p.buf)
		plan("</operationplans>\n</plan>\n")
		p.count(start)
		p.buf = append(p.buf, "\n--"+streamBoundary+"--\r\n"...)
		p.stage = 2
	default:
		return false
	}
	return true
}

func (p *planBody) count(start int) {
	p.size += int64(len(p.buf) - start)
	p.h.Write(p.buf[start:])
}

func (p *planBody) Read(b []byte) (int, error) {
	for p.off == len(p.buf) {
		if !p.fill() {
			return 0, io.EOF
		}
	}
	n := copy(b, p.buf[p.off:])
	p.off += n
	return n, nil
}

// A 100k-operationplan upload is spooled to disk as it is read: the
// allocations of reading it do not grow with its size, and the spooled
// plan is the one sent. Parsing it then keeps only compact records
// (measured ~470 B each; the plan itself is ~240 B per record and is
// never held in memory).
func TestPlanUploadSpooled(t *testing.T) {
	const n = 100_000
	dir := t.TempDir()
	body := newPlanBody(n, false)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	f, err := readPlanForm(body, "multipart/form-data; boundary="+streamBoundary, 0, dir, nil)
	runtime.ReadMemStats(&m1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("plan of %d operationplans, %.1f MB: %d KB allocated while reading it", n, float64(body.size)/(1<<20), alloc>>10)
	if f.size != body.size || f.fields["mode"] != "1" {
		t.Fatalf("spooled %d bytes (want %d), mode %q", f.size, body.size, f.fields["mode"])
	}
	if alloc > 2<<20 {
		t.Errorf("reading a %.0f MB plan allocated %d KB; want it bounded by the read buffer (< 2 MB)", float64(body.size)/(1<<20), alloc>>10)
	}
	h := sha256.New()
	r, err := f.reader()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h.Sum(nil), body.h.Sum(nil)) {
		t.Fatal("spooled plan differs from the plan sent")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the spool directory, want 1", len(entries))
	}

	// Parse (the race detector slows encoding/xml: a fifth of it there).
	parse := n
	if raceEnabled {
		parse = n / 5
	}
	if r, err = f.reader(); err != nil {
		t.Fatal(err)
	}
	var p0, p1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&p0)
	// What planimport.Parse does, stopped after parse records.
	pr := xmlschema.NewPlanReader(r)
	recs := make([]*xmlschema.PlanRecord, 0, parse)
	for len(recs) < parse {
		rec, err := pr.Next()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	runtime.GC()
	runtime.ReadMemStats(&p1)
	per := int64(p1.HeapAlloc-p0.HeapAlloc) / int64(len(recs))
	t.Logf("%d records parsed and held: %d B each", len(recs), per)
	if per > 1000 {
		t.Errorf("a parsed record holds %d B, want < 1000", per)
	}
	runtime.KeepAlive(recs)
	f.Close()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("spool file left behind: %v", entries)
	}
}
