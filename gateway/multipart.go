package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// formPart is one part of a multipart body: its field name (from the name
// parameter of Content-Disposition, whatever the disposition type), the
// filename when present, and its content.
type formPart struct {
	Name     string
	Filename string
	Body     []byte
}

// errTooLarge is answered 413.
var errTooLarge = &badRequest{Status: http.StatusRequestEntityTooLarge, Msg: "request body exceeds the size limit"}

// uploadReadError classifies a failure to read a multipart body: it lies
// with the client's connection, never with the server, so it is no 5xx.
// The middleware's body has classified it already; a body read without it
// (a test's) is classified the same way here.
func uploadReadError(err error) error {
	var be *bodyError
	switch {
	case errors.Is(err, errTooLarge):
		return errTooLarge
	case errors.As(err, &be):
		return be
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &bodyError{status: http.StatusRequestTimeout, err: err}
	}
	return &bodyError{status: statusClientClosed, err: err}
}

// multipartBoundary takes the boundary from a Content-Type header the way
// spec §4.1 asks: everything after the first "boundary=" up to ";" or the
// end, quotes optional, so the planner's unquoted "===…==" boundaries work.
func multipartBoundary(contentType string) (string, error) {
	ct := strings.TrimSpace(contentType)
	if !strings.HasPrefix(strings.ToLower(ct), "multipart/") {
		return "", errBadRequest("expected a multipart/form-data body, got Content-Type %q", contentType)
	}
	i := strings.Index(strings.ToLower(ct), "boundary=")
	if i < 0 {
		return "", errBadRequest("multipart Content-Type without boundary")
	}
	b := ct[i+len("boundary="):]
	if b != "" && b[0] == '"' {
		end := strings.IndexByte(b[1:], '"')
		if end < 0 {
			return "", errBadRequest("unterminated quoted multipart boundary")
		}
		b = b[1 : 1+end]
	} else if j := strings.IndexByte(b, ';'); j >= 0 {
		b = b[:j]
	}
	b = strings.TrimSpace(b)
	if b == "" || len(b) > 200 {
		return "", errBadRequest("invalid multipart boundary")
	}
	return b, nil
}

// readLenientMultipart reads a multipart body of at most limit bytes
// (0: no limit) into memory, every part. It accepts what
// streamMultipart accepts.
func readLenientMultipart(r io.Reader, contentType string, limit int64) ([]formPart, error) {
	var parts []formPart
	var buf *bytes.Buffer
	err := streamMultipart(r, contentType, limit, func(p formPart) (io.Writer, error) {
		if buf != nil {
			parts[len(parts)-1].Body = buf.Bytes()
		}
		parts = append(parts, p)
		buf = &bytes.Buffer{}
		return buf, nil
	})
	if err != nil {
		return nil, err
	}
	if buf != nil {
		parts[len(parts)-1].Body = buf.Bytes()
	}
	for i := range parts {
		if parts[i].Filename == "" {
			parts[i].Body = bytes.TrimRight(parts[i].Body, "\r")
		}
	}
	return parts, nil
}

// limited fails with errTooLarge once more than n bytes were read.
type limited struct {
	r io.Reader
	n int64 // bytes still allowed
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, errTooLarge
	}
	return n, err
}

// maxPartHeader bounds the header block of one part, maxPreamble what
// comes before the first delimiter.
const (
	maxPartHeader = 16 << 10
	maxPreamble   = 64 << 10
)

// streamMultipart reads a multipart body of at most limit bytes (0: no
// limit) as a stream: for each part, sink receives its name and filename
// and returns where the content goes (nil: discard). Memory stays
// bounded by the read buffer whatever the size of the parts. It accepts
// CRLF, LF or CR before delimiter lines, trailing whitespace after
// delimiters, and part headers separated by either line ending (spec
// §4.1); Go's mime/multipart rejects the bodies the planner really
// sends. The line ending before a delimiter belongs to the delimiter.
func streamMultipart(r io.Reader, contentType string, limit int64, sink func(formPart) (io.Writer, error)) error {
	boundary, err := multipartBoundary(contentType)
	if err != nil {
		return err
	}
	if limit > 0 {
		r = &limited{r: r, n: limit}
	}
	const bufSize = 64 << 10
	br := bufio.NewReaderSize(r, bufSize)
	delim := []byte("--" + boundary)
	readErr := uploadReadError
	preamble := 0 // bytes skipped before the first delimiter
	// next copies content to w (nil: discard) up to the next delimiter
	// that starts a line (or the body, when first), consumes the
	// delimiter and reports whether it was the closing one.
	first := true
	next := func(w io.Writer) (closing bool, err error) {
		keep := len(delim) + 2 // a line ending and the delimiter may straddle reads
		for {
			buf, perr := br.Peek(bufSize)
			if perr != nil && perr != io.EOF && !errors.Is(perr, bufio.ErrBufferFull) {
				return false, readErr(perr)
			}
			eof := perr == io.EOF
			found, end := -1, -1    // content end, delimiter end
			hold := len(buf) - keep // bytes that may be passed on when nothing is found
			for off := 0; ; {
				i := bytes.Index(buf[off:], delim)
				if i < 0 {
					break
				}
				p := off + i
				off = p + 1
				if !(p == 0 && first) && (p == 0 || (buf[p-1] != '\n' && buf[p-1] != '\r')) {
					continue
				}
				// What follows must be "--" or blanks up to a line feed.
				rest := buf[p+len(delim):]
				if len(rest) < 2 && !eof {
					hold = min(hold, p-2)
					break // need more bytes to decide
				}
				if bytes.HasPrefix(rest, []byte("--")) {
					found, end, closing = p, p+len(delim)+2, true
					break
				}
				nl := bytes.IndexByte(rest, '\n')
				if nl < 0 {
					if !eof && len(rest) < 256 {
						hold = min(hold, p-2)
						break // need more bytes
					}
					if len(bytes.TrimSpace(rest)) == 0 && eof {
						return false, errBadRequest("multipart body has no closing boundary")
					}
					continue
				}
				if len(bytes.TrimSpace(rest[:nl])) != 0 {
					continue // the boundary text followed by other characters
				}
				found, end = p, p+len(delim)+nl+1
				break
			}
			if found >= 0 {
				content := buf[:found]
				if found > 0 {
					if bytes.HasSuffix(content, []byte("\r\n")) {
						content = content[:len(content)-2]
					} else {
						content = content[:len(content)-1]
					}
				}
				if w != nil && !first {
					if _, err := w.Write(content); err != nil {
						return false, err
					}
				}
				if _, err := br.Discard(end); err != nil {
					return false, readErr(err)
				}
				first = false
				return closing, nil
			}
			if eof {
				if first {
					return false, errBadRequest("multipart body has no boundary line")
				}
				return false, errBadRequest("multipart body has no closing boundary")
			}
			// No delimiter yet: pass on all but a tail that could start one.
			// (Peek returned a full buffer here, far longer than a delimiter
			// line, so n > 0 and the loop advances.)
			n := max(hold, 0)
			if first {
				// The planner sends no preamble: do not read megabytes of
				// one from a caller not yet authenticated.
				if preamble += n; preamble > maxPreamble {
					return false, errBadRequest("multipart body has no boundary line in its first %d bytes", maxPreamble)
				}
			}
			if w != nil && !first && n > 0 {
				if _, err := w.Write(buf[:n]); err != nil {
					return false, err
				}
			}
			if n > 0 {
				if _, err := br.Discard(n); err != nil {
					return false, readErr(err)
				}
			}
		}
	}
	closing, err := next(nil) // preamble
	if err != nil {
		return err
	}
	for !closing {
		p, err := readPartHeader(br)
		if err != nil {
			return err
		}
		w, err := sink(p)
		if err != nil {
			return err
		}
		if closing, err = next(w); err != nil {
			return err
		}
	}
	return nil
}

// readPartHeader reads header lines up to the first empty one.
func readPartHeader(br *bufio.Reader) (formPart, error) {
	var p formPart
	total := 0
	for {
		line, err := br.ReadSlice('\n')
		total += len(line)
		if total > maxPartHeader || errors.Is(err, bufio.ErrBufferFull) {
			return p, errBadRequest("multipart part header too long")
		}
		if err != nil && err != io.EOF {
			return p, uploadReadError(err)
		}
		l := bytes.TrimRight(line, "\r\n")
		if len(l) == 0 {
			if err == io.EOF {
				return p, errBadRequest("multipart body has no closing boundary")
			}
			return p, nil
		}
		name, value, ok := strings.Cut(string(l), ":")
		if !ok {
			return p, errBadRequest("malformed multipart part header %q", string(l))
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Disposition") {
			p.Name = dispositionParam(value, "name")
			p.Filename = dispositionParam(value, "filename")
		}
		if err == io.EOF {
			return p, errBadRequest("multipart body has no closing boundary")
		}
	}
}

// dispositionParam returns a parameter of a Content-Disposition value,
// quoted or not.
func dispositionParam(v, key string) string {
	for _, seg := range splitParams(v) {
		k, val, ok := strings.Cut(seg, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), key) {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = strings.ReplaceAll(val[1:len(val)-1], `\"`, `"`)
		}
		return val
	}
	return ""
}

// splitParams splits at semicolons outside quotes.
func splitParams(v string) []string {
	var out []string
	inQ := false
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			inQ = !inQ
		case ';':
			if !inQ {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

var errNoPlan = errors.New("missing file field 'frePPLe plan'")

// planForm is a posted plan form: the plain fields in memory, the plan
// file spooled to a temporary file of its own (never held in memory;
// D31: no shared temp files).
type planForm struct {
	fields   map[string]string
	file     *os.File // nil when the body had no plan part
	size     int64
	haveFile bool
}

// maxField bounds a plain form field, maxFields their number (the
// planner sends six).
const (
	maxField  = 64 << 10
	maxFields = 100
)

// readPlanForm reads a plan upload: fields first-wins as werkzeug's
// request.form, the first "frePPLe plan" part spooled into dir ("" for
// the system temp dir). beforePlan, when set, is called with the fields
// read so far before the first byte of the plan is: an error from it
// stops the read (the caller's login is checked there, so a stranger's
// plan is never spooled). Close removes the spool file.
func readPlanForm(r io.Reader, contentType string, limit int64, dir string, beforePlan func(fields map[string]string) error) (*planForm, error) {
	f := &planForm{fields: map[string]string{}}
	parts := 0
	var field *bytes.Buffer
	var fieldName string
	flush := func() {
		if field != nil {
			if _, dup := f.fields[fieldName]; !dup {
				f.fields[fieldName] = strings.TrimRight(field.String(), "\r")
			}
			field = nil
		}
	}
	err := streamMultipart(r, contentType, limit, func(p formPart) (io.Writer, error) {
		flush()
		if p.Name == planField {
			if f.haveFile {
				return nil, nil // a second plan part: ignored, as werkzeug's files[name] gives the first
			}
			if beforePlan != nil {
				if err := beforePlan(f.fields); err != nil {
					return nil, err
				}
			}
			tmp, err := os.CreateTemp(dir, "plangate-plan-*.xml")
			if err != nil {
				return nil, fmt.Errorf("spool plan: %w", err)
			}
			f.file, f.haveFile = tmp, true
			return &countingWriter{w: tmp, n: &f.size}, nil
		}
		if parts++; parts > maxFields {
			return nil, errBadRequest("more than %d form fields", maxFields)
		}
		field, fieldName = &bytes.Buffer{}, p.Name
		return &cappedWriter{b: field}, nil
	})
	flush()
	if err != nil {
		f.Close()
		return nil, err
	}
	if f.file != nil {
		if _, err := f.file.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool plan: %w", err)
		}
	}
	return f, nil
}

// Close removes the spooled plan.
func (f *planForm) Close() {
	if f != nil && f.file != nil {
		f.file.Close()
		os.Remove(f.file.Name())
		f.file = nil
	}
}

// reader returns the plan from its first byte.
func (f *planForm) reader() (io.Reader, error) {
	if _, err := f.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reread plan: %w", err)
	}
	return bufio.NewReaderSize(f.file, 64<<10), nil
}

type countingWriter struct {
	w io.Writer
	n *int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// cappedWriter refuses a plain field longer than maxField.
type cappedWriter struct{ b *bytes.Buffer }

func (c *cappedWriter) Write(p []byte) (int, error) {
	if c.b.Len()+len(p) > maxField {
		return 0, errBadRequest("form field longer than %d bytes", maxField)
	}
	return c.b.Write(p)
}

const planField = "frePPLe plan"
