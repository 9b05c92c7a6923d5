package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
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
// (0: no limit). It accepts CRLF, LF or CR before delimiter lines,
// trailing whitespace after delimiters, and part headers separated by
// either line ending (spec §4.1); Go's mime/multipart rejects the bodies
// the planner really sends.
func readLenientMultipart(r io.Reader, contentType string, limit int64) ([]formPart, error) {
	boundary, err := multipartBoundary(contentType)
	if err != nil {
		return nil, err
	}
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if limit > 0 && int64(len(body)) > limit {
		return nil, errTooLarge
	}
	return splitMultipart(body, boundary)
}

// splitMultipart cuts body at the delimiter lines of boundary.
func splitMultipart(body []byte, boundary string) ([]formPart, error) {
	delim := []byte("--" + boundary)
	// Find delimiters that start a line.
	var starts []int // index of "--boundary"
	for off := 0; ; {
		i := bytes.Index(body[off:], delim)
		if i < 0 {
			break
		}
		p := off + i
		if p == 0 || body[p-1] == '\n' || body[p-1] == '\r' {
			starts = append(starts, p)
		}
		off = p + len(delim)
	}
	if len(starts) == 0 {
		return nil, errBadRequest("multipart body has no boundary line")
	}
	var parts []formPart
	for k, p := range starts {
		after := p + len(delim)
		if bytes.HasPrefix(body[after:], []byte("--")) {
			return parts, nil // closing delimiter
		}
		if k+1 >= len(starts) {
			break
		}
		// Skip the rest of the delimiter line (whitespace, CR, LF).
		content := body[after:starts[k+1]]
		nl := bytes.IndexByte(content, '\n')
		if nl < 0 {
			return nil, errBadRequest("malformed multipart delimiter line")
		}
		if strings.TrimSpace(string(content[:nl])) != "" {
			continue // not a delimiter: the boundary text followed by other characters
		}
		content = content[nl+1:]
		// The line ending before the next delimiter belongs to the delimiter.
		if bytes.HasSuffix(content, []byte("\r\n")) {
			content = content[:len(content)-2]
		} else if n := len(content); n > 0 && (content[n-1] == '\n' || content[n-1] == '\r') {
			content = content[:n-1]
		}
		part, err := parsePart(content)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
	}
	return nil, errBadRequest("multipart body has no closing boundary")
}

// parsePart splits headers from content; headers end at the first empty line.
func parsePart(b []byte) (formPart, error) {
	var p formPart
	for {
		nl := bytes.IndexByte(b, '\n')
		var line []byte
		if nl < 0 {
			line, b = b, nil
		} else {
			line, b = b[:nl], b[nl+1:]
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		name, value, ok := strings.Cut(string(line), ":")
		if !ok {
			return p, errBadRequest("malformed multipart part header %q", string(line))
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Disposition") {
			p.Name = dispositionParam(value, "name")
			p.Filename = dispositionParam(value, "filename")
		}
		if b == nil {
			break
		}
	}
	p.Body = b
	if p.Filename == "" {
		p.Body = bytes.TrimRight(p.Body, "\r")
	}
	return p, nil
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
