package oms

import (
	"bytes"
	"encoding/json"
	"testing"
)

var scanSeeds = []string{
	`{"id": "30", "_identifier": "Individual Workplace"}`, `{"id":20}`, `{}`, ` { } `, `{"ID":"a","id":"b"}`,
	`{"Id": null}`, `{"x": {"id": "no", "y": [1, {"id": 2}]}, "id": "yes"}`, `{"id": "a\"b", "n": "\\"}`,
	`{"\u0069d": "escaped key"}`, `{"íd": "not ascii"}`, `{"id": [1, 2]}`, `{"id": -1.5e3}`, `{"a": true, "id": false}`,
	`"30"`, `" 30 "`, `"a\u0041"`, `30`, `-0.5`, `null`,
}

// TestTicketScanAgreesWithEncodingJSON: on the seeds, the fast paths read
// what encoding/json reads (FuzzTicketScan tries any JSON).
func TestTicketScanAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range scanSeeds {
		checkScan(t, []byte(s))
	}
}

// FuzzTicketScan: on any valid JSON value, objectID picks the member
// encoding/json gives the "id" field, and plainString reads a string as
// encoding/json does, or both leave it to the general decoder.
func FuzzTicketScan(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := bytes.TrimSpace([]byte(s))
		if !json.Valid(b) {
			return
		}
		checkScan(t, b)
	})
}

func checkScan(t *testing.T, b []byte) {
	t.Helper()
	b = bytes.TrimSpace(b)
	switch b[0] {
	case '{':
		var want struct {
			ID json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if got, ok := objectID(b); ok && !bytes.Equal(got, want.ID) {
			t.Errorf("objectID(%s) = %q, encoding/json reads %q", b, got, want.ID)
		}
	case '"':
		var want string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if got, ok := plainString(b); ok && got != want {
			t.Errorf("plainString(%s) = %q, encoding/json reads %q", b, got, want)
		}
	}
	// The reference as a whole: the fast and the general way agree.
	var fast flexRef
	fastErr := fast.UnmarshalJSON(b)
	var slow flexRef
	slowErr := slowFlexRef(&slow, b)
	if (fastErr == nil) != (slowErr == nil) || fast != slow {
		t.Errorf("flexRef(%s) = %q, %v; the general decoder gives %q, %v", b, fast.ID, fastErr, slow.ID, slowErr)
	}
}

// slowFlexRef is flexRef's reading without the fast paths.
func slowFlexRef(r *flexRef, b []byte) error {
	if b[0] == '{' {
		var o struct {
			ID json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		if o.ID == nil {
			r.ID = ""
			return nil
		}
		b = o.ID
	}
	switch {
	case string(b) == "null":
		r.ID = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		r.ID = flexID(bytes.TrimSpace([]byte(s)))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		r.ID = flexID(n)
	default:
		return errBadRun // any error: only its presence is compared
	}
	return nil
}
