package store

import (
	"reflect"
	"testing"
	"time"
)

func TestRecordCodec(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any // nil: same as in
	}{
		{"scalars keep their types", map[string]any{"id": int64(7), "qty": 66.0, "price": 0.1, "name": "Café <&>", "active": true, "note": false, "none": nil}, nil},
		{"int becomes int64", map[string]any{"id": 7}, map[string]any{"id": int64(7)}},
		{"many2one and x2many", map[string]any{"partner_id": []any{int64(3), "Deco Addict"}, "line_ids": []any{int64(1), int64(2)}, "empty": []any{}}, nil},
		{"nested maps", map[string]any{"ctx": map[string]any{"lang": "en_US", "n": -1.5}}, nil},
		{"times as Odoo text", map[string]any{"write_date": time.Date(2026, 11, 30, 6, 0, 1, 0, time.UTC)}, map[string]any{"write_date": "2026-11-30 06:00:01"}},
		{"other types as JSON", map[string]any{"ids": []int{1, 2}}, map[string]any{"ids": []any{int64(1), int64(2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeRecord(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v\nwant %#v", got, want)
			}
			for cut := 1; cut < len(b); cut++ {
				if _, err := DecodeRecord(b[:cut]); err == nil {
					t.Fatalf("truncated at %d of %d decoded without error", cut, len(b))
				}
			}
		})
	}
	// Records cached as JSON by earlier versions still read, with types.
	old, err := DecodeRecord([]byte(`{"id":7,"qty":66.0,"name":"x","partner_id":[3,"P"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"id": int64(7), "qty": 66.0, "name": "x", "partner_id": []any{int64(3), "P"}}; !reflect.DeepEqual(old, want) {
		t.Errorf("legacy JSON record: %#v", old)
	}
	if _, err := EncodeRecord(map[string]any{"bad": func() {}}); err == nil {
		t.Error("unencodable value accepted")
	}
}
