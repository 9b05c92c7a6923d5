package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Cached records are read back on every warm export, thousands at a time,
// so they are kept in a small binary form: a tag byte per value, varints
// for integers and lengths, 8 bytes for floats. Types survive the round
// trip (int64 stays int64, float64 stays float64: the document formats
// 66 and 66.0 differently).
const (
	recordMagic = 0xB1 // first byte of the binary form; JSON starts with '{'

	tagNil    = 'n'
	tagTrue   = 't'
	tagFalse  = 'f'
	tagInt    = 'i'
	tagFloat  = 'd'
	tagString = 's'
	tagList   = 'l'
	tagMap    = 'm'
	tagJSON   = 'j' // anything else, as JSON
)

// EncodeRecord writes an Odoo record (values as the RPC clients decode
// them) in the cache's binary form.
func EncodeRecord(rec map[string]any) ([]byte, error) {
	b := make([]byte, 1, 256)
	b[0] = recordMagic
	return appendValue(b, rec)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case bool:
		if x {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), x), nil
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, fmt.Errorf("cannot cache float %v", x)
		}
		return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x)), nil
	case string:
		return appendString(append(b, tagString), x), nil
	case time.Time:
		return appendString(append(b, tagString), x.UTC().Format("2006-01-02 15:04:05")), nil
	case []any:
		b = binary.AppendUvarint(append(b, tagList), uint64(len(x)))
		for _, e := range x {
			var err error
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]any:
		b = binary.AppendUvarint(append(b, tagMap), uint64(len(x)))
		for k, e := range x {
			b = appendString(b, k)
			var err error
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return appendString(append(b, tagJSON), string(j)), nil
}

var errShortRecord = errors.New("cached record: truncated")

type recordReader struct {
	b []byte
}

func (r *recordReader) uvarint() (uint64, error) {
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		return 0, errShortRecord
	}
	r.b = r.b[k:]
	return n, nil
}

func (r *recordReader) str() (string, error) {
	n, err := r.uvarint()
	if err != nil || uint64(len(r.b)) < n {
		return "", errShortRecord
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s, nil
}

func (r *recordReader) value() (any, error) {
	if len(r.b) == 0 {
		return nil, errShortRecord
	}
	tag := r.b[0]
	r.b = r.b[1:]
	switch tag {
	case tagNil:
		return nil, nil
	case tagTrue:
		return true, nil
	case tagFalse:
		return false, nil
	case tagInt:
		n, k := binary.Varint(r.b)
		if k <= 0 {
			return nil, errShortRecord
		}
		r.b = r.b[k:]
		return n, nil
	case tagFloat:
		if len(r.b) < 8 {
			return nil, errShortRecord
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(r.b))
		r.b = r.b[8:]
		return f, nil
	case tagString:
		return r.str()
	case tagList:
		n, err := r.uvarint()
		if err != nil || n > uint64(len(r.b)) {
			return nil, errShortRecord
		}
		l := make([]any, n)
		for i := range l {
			if l[i], err = r.value(); err != nil {
				return nil, err
			}
		}
		return l, nil
	case tagMap:
		n, err := r.uvarint()
		if err != nil || n > uint64(len(r.b)) {
			return nil, errShortRecord
		}
		m := make(map[string]any, n)
		for range n {
			k, err := r.str()
			if err != nil {
				return nil, err
			}
			if m[k], err = r.value(); err != nil {
				return nil, err
			}
		}
		return m, nil
	case tagJSON:
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("cached record: %w", err)
		}
		return fixNumbers(v), nil
	}
	return nil, fmt.Errorf("cached record: unknown tag %q", tag)
}

func decodeBinaryRecord(data []byte) (map[string]any, error) {
	r := &recordReader{b: data}
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok || len(r.b) != 0 {
		return nil, errors.New("cached record: not a record")
	}
	return m, nil
}
