package oms

import (
	"bytes"
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

// objectID returns the value of the "id" member of a checked JSON object,
// matched as encoding/json matches field names (the last of any case
// spelling; nil when absent). ok is false when the object needs the
// general decoder.
func objectID(b []byte) (id []byte, ok bool) {
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		return nil, true
	}
	for i < len(b) && b[i] == '"' {
		end := valueEnd(b, i)
		key := b[i+1 : end-1]
		for _, c := range key {
			if c == '\\' || c >= 0x80 {
				return nil, false
			}
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		end = valueEnd(b, i)
		if len(key) == 2 && key[0]|0x20 == 'i' && key[1]|0x20 == 'd' {
			id = b[i:end]
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case '}':
			return id, true
		case ',':
			i = skipSpace(b, i+1)
			continue
		}
		return nil, false
	}
	return nil, false
}

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
