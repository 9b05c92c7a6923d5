package odoo

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// rec is a record as both transports deliver it for one res.partner-like row.
var rec = Record{
	"id":          int64(7),
	"name":        "Deco Addict",
	"ref":         false, // empty char field: Odoo's False
	"partner_id":  []any{int64(9), "Wood Corner"},
	"parent_id":   false, // empty many2one
	"m2o_id_only": []any{int64(4)},
	"m2o_json":    []any{json.Number("12"), "JSON name"},
	"child_ids":   []any{int64(3), int64(5)},
	"tag_ids":     []any{},
	"credit":      12.5,
	"qty_int":     int64(3),
	"qty_text":    "4.25",
	"qty_nan":     "NaN",
	"qty_number":  json.Number("2.5"),
	"active":      true,
	"is_company":  false,
	"active_text": "true",
	"write_date":  "2026-11-24 05:00:00",
	"date":        "2026-11-24",
	"date_xml":    time.Date(2026, 11, 24, 6, 0, 0, 0, time.FixedZone("x", 3600)),
	"bad_date":    "24/11/2026",
	"empty_str":   "",
	"nil_value":   nil,
	"float_id":    3.9,
	"int_list":    []int{1, 2},
}

func TestRecordScalars(t *testing.T) {
	cases := []struct {
		field   string
		int     int
		float   float64
		str     string
		boolean bool
		isFalse bool
	}{
		{"id", 7, 7, "7", false, false},
		{"name", 0, 0, "Deco Addict", false, false},
		{"ref", 0, 0, "", false, true},
		{"partner_id", 9, 0, "Wood Corner", false, false},
		{"parent_id", 0, 0, "", false, true},
		{"tag_ids", 0, 0, "", false, true},
		{"credit", 12, 12.5, "12.5", false, false},
		{"qty_int", 3, 3, "3", false, false},
		{"qty_text", 0, 4.25, "4.25", false, false},
		{"qty_nan", 0, 0, "NaN", false, false},
		{"qty_number", 2, 2.5, "2.5", false, false},
		{"active", 0, 0, "", true, false},
		{"is_company", 0, 0, "", false, true},
		{"active_text", 0, 0, "true", false, false}, // only a real true is true
		{"empty_str", 0, 0, "", false, true},
		{"nil_value", 0, 0, "", false, true},
		{"missing", 0, 0, "", false, true},
		{"float_id", 3, 3.9, "3.9", false, false},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			if got := rec.Int(c.field); got != c.int {
				t.Errorf("Int = %d, want %d", got, c.int)
			}
			if got := rec.Float(c.field); got != c.float {
				t.Errorf("Float = %v, want %v", got, c.float)
			}
			if got := rec.String(c.field); got != c.str {
				t.Errorf("String = %q, want %q", got, c.str)
			}
			if got := rec.Bool(c.field); got != c.boolean {
				t.Errorf("Bool = %v, want %v", got, c.boolean)
			}
			if got := rec.IsFalse(c.field); got != c.isFalse {
				t.Errorf("IsFalse = %v, want %v", got, c.isFalse)
			}
			if got, want := rec.Has(c.field), c.field != "missing"; got != want {
				t.Errorf("Has = %v, want %v", got, want)
			}
		})
	}
	if rec.ID() != 7 {
		t.Errorf("ID = %d", rec.ID())
	}
}

func TestRecordMany2One(t *testing.T) {
	cases := []struct {
		field string
		id    int
		name  string
	}{
		{"partner_id", 9, "Wood Corner"},
		{"parent_id", 0, ""},   // False
		{"missing", 0, ""},     // not returned
		{"tag_ids", 0, ""},     // empty list
		{"m2o_id_only", 4, ""}, // [id] without a name
		{"m2o_json", 12, "JSON name"},
		{"qty_int", 3, ""}, // a bare id (write values, some computed fields)
		{"name", 0, ""},    // text is not a many2one
	}
	for _, c := range cases {
		id, name := rec.Many2One(c.field)
		if id != c.id || name != c.name {
			t.Errorf("Many2One(%s) = (%d, %q), want (%d, %q)", c.field, id, name, c.id, c.name)
		}
		if rec.M2OID(c.field) != c.id || rec.M2OName(c.field) != c.name {
			t.Errorf("M2OID/M2OName(%s) = %d, %q", c.field, rec.M2OID(c.field), rec.M2OName(c.field))
		}
	}
}

func TestRecordIDs(t *testing.T) {
	cases := []struct {
		field string
		want  []int
	}{
		{"child_ids", []int{3, 5}},
		{"tag_ids", []int{}},
		{"parent_id", nil}, // False
		{"missing", nil},
		{"int_list", []int{1, 2}},
	}
	for _, c := range cases {
		if got := rec.IDs(c.field); !reflect.DeepEqual(got, c.want) {
			t.Errorf("IDs(%s) = %#v, want %#v", c.field, got, c.want)
		}
	}
}

func TestRecordTimes(t *testing.T) {
	cases := []struct {
		field string
		want  time.Time
		ok    bool
	}{
		{"write_date", time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC), true},
		{"date", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), true},
		{"date_xml", time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC), true},
		{"bad_date", time.Time{}, false},
		{"ref", time.Time{}, false},
		{"empty_str", time.Time{}, false},
		{"missing", time.Time{}, false},
	}
	for _, c := range cases {
		got, ok := rec.Time(c.field)
		if ok != c.ok || !got.Equal(c.want) || (ok && got.Location() != time.UTC) {
			t.Errorf("Time(%s) = %v, %v; want %v, %v", c.field, got, ok, c.want, c.ok)
		}
		got, ok = rec.Date(c.field)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("Date(%s) = %v, %v; want %v, %v", c.field, got, ok, c.want, c.ok)
		}
	}
}

func TestFormatDates(t *testing.T) {
	at := time.Date(2026, 11, 24, 1, 30, 0, 0, time.FixedZone("CST", -6*3600))
	if got := FormatDatetime(at); got != "2026-11-24 07:30:00" {
		t.Errorf("FormatDatetime = %q (must be naive UTC)", got)
	}
	if got := FormatDate(at); got != "2026-11-24" {
		t.Errorf("FormatDate = %q", got)
	}
	back, ok := AsTime(FormatDatetime(at))
	if !ok || !back.Equal(at) {
		t.Errorf("AsTime(FormatDatetime(t)) = %v, %v", back, ok)
	}
}

func TestFromJSONShapes(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{`1`, int64(1)},
		{`-9007199254740993`, int64(-9007199254740993)}, // beyond float64's exact integers
		{`1.5`, 1.5},
		{`1e3`, 1000.0}, // not an integer literal: float, as Python's json reads it
		{`null`, false},
		{`"x"`, "x"},
		{`true`, true},
		{`[1, null, [2.5]]`, []any{int64(1), false, []any{2.5}}},
		{`{"partner_id": [9, "W"], "ref": null}`, map[string]any{"partner_id": []any{int64(9), "W"}, "ref": false}},
	}
	for _, c := range cases {
		raw, err := decodeJSON(json.RawMessage(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if !reflect.DeepEqual(raw, c.want) {
			t.Errorf("decodeJSON(%s) = %#v, want %#v", c.in, raw, c.want)
		}
	}
	if v, err := decodeJSON(nil); v != nil || err != nil {
		t.Errorf("decodeJSON(empty) = %v, %v", v, err)
	}
	if _, err := decodeJSON(json.RawMessage(`{`)); KindOf(err) != KindOther || err == nil {
		t.Errorf("decodeJSON(bad) err = %v", err)
	}
}

func TestNormaliseArgs(t *testing.T) {
	at := time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC)
	got := normaliseArgs([]any{nil, []int{1, 2}, []string{"a"}, Domain{Term("id", "in", []int{3})},
		Context{"lang": "en_US", "ids": []int{1}}, at, 4})
	want := []any{false, []any{1, 2}, []any{"a"}, []any{[]any{"id", "in", []any{3}}},
		map[string]any{"lang": "en_US", "ids": []any{1}}, "2026-11-24 05:00:00", 4}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("normaliseArgs = %#v\nwant %#v", got, want)
	}
}
