package oms

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Fast paths for reading ticket references. The JSON decoder hands an
// UnmarshalJSON method one value it has already checked, so the shapes
// tickets use ("30", 30, {"id": "30", "_identifier": "..."}) can be read
// off the bytes instead of being decoded a second time; whatever else
// (escapes, keys that are not plain ASCII) takes the general way.

// plainString returns the content of a checked JSON string that has no
// escapes and is valid UTF-8 (encoding/json replaces bad bytes); ok is
// false for anything else.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' || bytes.IndexByte(b, '\\') >= 0 || !utf8.Valid(b) {
		return "", false
	}
	return string(b[1 : len(b)-1]), true
}

// objectRef returns the values of the "id" and "searchKey" members of a
// checked JSON object, matched as encoding/json matches field names (the
// last of any case spelling; nil when absent). ok is false when the
// object needs the general decoder.
func objectRef(b []byte) (id, key []byte, ok bool) {
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		return nil, nil, true
	}
	for i < len(b) && b[i] == '"' {
		end := valueEnd(b, i)
		k := b[i+1 : end-1]
		for _, c := range k {
			if c == '\\' || c >= 0x80 {
				return nil, nil, false
			}
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, nil, false
		}
		i = skipSpace(b, i+1)
		end = valueEnd(b, i)
		switch {
		case len(k) == 2 && k[0]|0x20 == 'i' && k[1]|0x20 == 'd':
			id = b[i:end]
		case len(k) == 9 && bytes.EqualFold(k, searchKeyName):
			key = b[i:end]
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, nil, false
		}
		switch b[i] {
		case '}':
			return id, key, true
		case ',':
			i = skipSpace(b, i+1)
			continue
		}
		return nil, nil, false
	}
	return nil, nil, false
}

var searchKeyName = []byte("searchKey")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns where the checked JSON value starting at b[i] ends.
func valueEnd(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return min(i+1, len(b))
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // a scalar ended by its container
				return i
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// scanTicket reads a request in the shape shops send straight off the
// bytes: one valid JSON object, each of our keys spelled exactly and at
// most once, a ticket with an id and a non-empty list of line objects,
// references as ids or {"id": ...}. For anything else ok is false and
// the body goes to encoding/json (decodeTicket), which also words the
// errors; on what it accepts it reads what encoding/json would
// (FuzzScanTicket holds it to that).
func scanTicket(body []byte) (req wireRequest, lines []wireLine, ok bool) {
	if !json.Valid(body) {
		return req, nil, false
	}
	c := jsonCursor{b: body}
	t := &wireTicket{}
	haveLines := false
	ok = c.object([]string{"ticket", "version"}, func(field int) bool {
		if field == 1 {
			return c.id(&req.Version)
		}
		req.Ticket = t
		return c.object([]string{"id", "organization", "businessPartner", "date", "lines"}, func(field int) bool {
			switch field {
			case 0:
				return c.id(&t.ID)
			case 1:
				return c.ref(&t.Organization)
			case 2:
				return c.ref(&t.BusinessPartner)
			case 3:
				return c.id(&t.Date)
			}
			haveLines = true
			lines, ok = c.lines()
			return ok
		})
	})
	if !ok || req.Ticket == nil || t.ID == "" || !haveLines {
		return wireRequest{}, nil, false
	}
	return req, lines, true
}

// jsonCursor walks a document json.Valid accepted.
type jsonCursor struct {
	b    []byte
	i    int
	refs []flexRef // references are cut from here: one allocation for many
}

// value returns the next value and moves past it.
func (c *jsonCursor) value() []byte {
	c.i = skipSpace(c.b, c.i)
	start := c.i
	c.i = valueEnd(c.b, c.i)
	return c.b[start:c.i]
}

// object calls member with the index in fields of each member of the
// object at the cursor, which reads the value; other members are
// skipped. It gives up (false) on what encoding/json might match
// differently: a key spelled in another case or escaped, a field twice.
func (c *jsonCursor) object(fields []string, member func(field int) bool) bool {
	c.i = skipSpace(c.b, c.i)
	if c.i >= len(c.b) || c.b[c.i] != '{' {
		return false
	}
	c.i = skipSpace(c.b, c.i+1)
	seen := 0
	for c.b[c.i] == '"' {
		end := valueEnd(c.b, c.i)
		key := c.b[c.i+1 : end-1]
		c.i = skipSpace(c.b, end) + 1 // past the colon
		field := -1
		for k, f := range fields {
			if string(key) == f {
				field = k
			} else if bytes.EqualFold(key, []byte(f)) {
				return false
			}
		}
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			return false
		}
		if field < 0 {
			c.value()
		} else {
			if seen&(1<<field) != 0 {
				return false
			}
			seen |= 1 << field
			c.i = skipSpace(c.b, c.i)
			if !member(field) {
				return false
			}
		}
		c.i = skipSpace(c.b, c.i)
		if c.b[c.i] == ',' {
			c.i = skipSpace(c.b, c.i+1)
		}
	}
	c.i++ // the closing brace
	return true
}

func (c *jsonCursor) id(f *flexID) bool { return f.UnmarshalJSON(c.value()) == nil }

// ref reads a reference; null leaves it nil, as for a pointer field.
func (c *jsonCursor) ref(r **flexRef) bool {
	v := c.value()
	if string(v) == "null" {
		*r = nil
		return true
	}
	if len(c.refs) == cap(c.refs) {
		c.refs = make([]flexRef, 0, 64)
	}
	c.refs = append(c.refs, flexRef{})
	*r = &c.refs[len(c.refs)-1]
	return (*r).UnmarshalJSON(v) == nil
}

// lines reads a non-empty list of line objects.
func (c *jsonCursor) lines() ([]wireLine, bool) {
	if c.b[c.i] != '[' {
		return nil, false
	}
	c.i = skipSpace(c.b, c.i+1)
	out := make([]wireLine, 0, min(len(c.b)/64, MaxLines)+1) // a line takes some 60 bytes or more
	for c.b[c.i] == '{' {
		out = append(out, wireLine{})
		l := &out[len(out)-1]
		if !c.object([]string{"id", "product", "qty", "uom"}, func(field int) bool {
			switch field {
			case 0:
				return c.id(&l.ID)
			case 1:
				return c.ref(&l.Product)
			case 2:
				l.Qty = c.value()
				return true
			}
			return c.ref(&l.UOM)
		}) {
			return nil, false
		}
		c.i = skipSpace(c.b, c.i)
		if c.b[c.i] == ',' {
			c.i = skipSpace(c.b, c.i+1)
		}
	}
	if c.b[c.i] != ']' || len(out) == 0 { // an element that is not an object, or none
		return nil, false
	}
	c.i++
	return out, true
}
