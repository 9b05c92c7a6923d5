package odoo

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// DatetimeLayout is how Odoo writes datetimes over RPC: naive UTC.
const DatetimeLayout = "2006-01-02 15:04:05"

// DateLayout is how Odoo writes dates over RPC.
const DateLayout = "2006-01-02"

// Record is one Odoo record as read/search_read return it, with values
// normalised by the transport: integers are int64, floats float64, text
// string, Odoo's False is the Go bool false, lists are []any and structs
// map[string]any. The typed accessors below read Odoo's conventions
// (False for empty, many2one as [id, name], x2many as id lists).
type Record map[string]any

// ID is the record's "id" field.
func (r Record) ID() int { return r.Int("id") }

// Has reports whether the field was returned at all.
func (r Record) Has(field string) bool { _, ok := r[field]; return ok }

// IsFalse reports whether the field is missing or Odoo's False/empty.
func (r Record) IsFalse(field string) bool { return IsEmpty(r[field]) }

// Int reads an integer field; False or missing is 0.
func (r Record) Int(field string) int { return AsInt(r[field]) }

// Float reads a float field; False or missing is 0.
func (r Record) Float(field string) float64 { return AsFloat(r[field]) }

// String reads a char/text/selection field; False or missing is "".
func (r Record) String(field string) string { return AsString(r[field]) }

// Bool reads a boolean field; anything but true is false.
func (r Record) Bool(field string) bool { b, _ := r[field].(bool); return b }

// Many2One reads a many2one field as its id and display name; False is (0, "").
func (r Record) Many2One(field string) (id int, name string) { return AsMany2One(r[field]) }

// M2OID is the id of a many2one field, 0 when empty.
func (r Record) M2OID(field string) int { id, _ := AsMany2One(r[field]); return id }

// M2OName is the display name of a many2one field, "" when empty.
func (r Record) M2OName(field string) string { _, n := AsMany2One(r[field]); return n }

// IDs reads a one2many/many2many field as its list of ids.
func (r Record) IDs(field string) []int { return AsIDs(r[field]) }

// Time reads a datetime field (UTC). ok is false when empty or unparsable.
func (r Record) Time(field string) (t time.Time, ok bool) { return AsTime(r[field]) }

// Date reads a date field as midnight UTC. ok is false when empty or unparsable.
func (r Record) Date(field string) (t time.Time, ok bool) { return AsDate(r[field]) }

// IsEmpty reports whether v is an Odoo empty value: nil, False, "" or an empty list.
func IsEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	}
	return false
}

// AsInt converts an RPC value to int; non-numbers are 0.
func AsInt(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case int:
		return x
	case int32:
		return int(x)
	case float64:
		return int(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return int(f)
	case []any: // many2one
		if len(x) > 0 {
			return AsInt(x[0])
		}
	}
	return 0
}

// AsFloat converts an RPC value to float64; non-numbers are 0.
func AsFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case json.Number:
		f, _ := x.Float64()
		return f
	case string: // numeric fields never arrive as text, but be lenient
		f, err := strconv.ParseFloat(x, 64)
		if err == nil && !math.IsNaN(f) {
			return f
		}
	}
	return 0
}

// AsString converts an RPC value to text; False and nil are "".
func AsString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil, bool:
		return ""
	case []any: // many2one: its display name
		if len(x) > 1 {
			return AsString(x[1])
		}
		return ""
	case int64, int, float64, json.Number:
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}

// AsMany2One splits a many2one value [id, name]; False is (0, "").
func AsMany2One(v any) (int, string) {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return 0, ""
		}
		id := AsInt(x[0])
		if len(x) > 1 {
			return id, AsString(x[1])
		}
		return id, ""
	case int64, int, float64, json.Number:
		return AsInt(x), ""
	}
	return 0, ""
}

// AsIDs converts an x2many value to ids; False is nil.
func AsIDs(v any) []int {
	l, ok := v.([]any)
	if !ok {
		if ints, ok := v.([]int); ok {
			return ints
		}
		return nil
	}
	ids := make([]int, 0, len(l))
	for _, e := range l {
		ids = append(ids, AsInt(e))
	}
	return ids
}

// AsTime parses an Odoo datetime (naive UTC text, or time.Time from XML-RPC).
func AsTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), true
	case string:
		if x == "" {
			return time.Time{}, false
		}
		if t, err := time.ParseInLocation(DatetimeLayout, x, time.UTC); err == nil {
			return t, true
		}
		if t, err := time.ParseInLocation(DateLayout, x, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// AsDate parses an Odoo date "YYYY-MM-DD" as midnight UTC.
func AsDate(v any) (time.Time, bool) { return AsTime(v) }

// FormatDatetime writes t as Odoo expects datetimes: naive UTC text.
func FormatDatetime(t time.Time) string { return t.UTC().Format(DatetimeLayout) }

// FormatDate writes t as an Odoo date.
func FormatDate(t time.Time) string { return t.Format(DateLayout) }
