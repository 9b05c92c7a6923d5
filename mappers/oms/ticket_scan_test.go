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
	`{"searchKey": "FURN_0789"}`, `{"id": "30", "searchKey": "FURN_0789", "_identifier": "x"}`, `{"SEARCHKEY": 5, "searchkey": "b"}`,
	`{"searchKey": null}`, `{"searchKey": {"id": 1}}`, `{"searchKeys": "no"}`,
}

// TestTicketScanAgreesWithEncodingJSON: on the seeds, the fast paths read
// what encoding/json reads (FuzzTicketScan tries any JSON).
func TestTicketScanAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range scanSeeds {
		checkScan(t, []byte(s))
	}
}

// FuzzTicketScan: on any valid JSON value, objectRef picks the members
// encoding/json gives the "id" and "searchKey" fields, and plainString reads a string as
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
			ID  json.RawMessage `json:"id"`
			Key json.RawMessage `json:"searchKey"`
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if id, key, ok := objectRef(b); ok && (!bytes.Equal(id, want.ID) || !bytes.Equal(key, want.Key)) {
			t.Errorf("objectRef(%s) = %q, %q; encoding/json reads %q, %q", b, id, key, want.ID, want.Key)
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
		t.Errorf("flexRef(%s) = %+v, %v; the general decoder gives %+v, %v", b, fast, fastErr, slow, slowErr)
	}
}

// slowFlexRef is flexRef's reading without the fast paths.
func slowFlexRef(r *flexRef, b []byte) error {
	if b[0] == '{' {
		var o struct {
			ID  json.RawMessage `json:"id"`
			Key json.RawMessage `json:"searchKey"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		r.ID, r.Key = "", ""
		if o.ID != nil {
			if err := slowID(&r.ID, o.ID); err != nil {
				return err
			}
		}
		if o.Key != nil {
			return slowID(&r.Key, o.Key)
		}
		return nil
	}
	return slowID(&r.ID, b)
}

func slowID(f *flexID, b []byte) error {
	switch {
	case string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(bytes.TrimSpace([]byte(s)))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexID(n)
	default:
		return errBadRun // any error: only its presence is compared
	}
	return nil
}

var scanTicketSeeds = []string{
	guideTicket,
	`{"ticket":{"id":"T","lines":[{"product":{"id":"1"},"qty":1,"uom":"1"}]}}`,
	`{"version":"1.0.0","ticket":{"id":7,"date":null,"lines":[{"id":1,"product":{"id":2},"qty":"3.5","uom":{"id":1}}]},"x":[{}]}`,
	`{"ticket":{"id":"T","lines":[{"product":null,"qty":null,"uom":"1","price":{"a":[1,"]"]}}]}}`,
	`{"ticket":{"id":"T","ID":"U","lines":[{"product":{"id":"1"},"qty":1,"uom":"1"}]}}`,
	`{"ticket":{"id":"T","lines":[{"product":{"id":"1"},"qty":1,"uom":"1"}]},"ticket":{"id":"U"}}`,
	`{"ticket":{"\u0069d":"T","lines":[{"product":{"id":"1"},"qty":1,"uom":"1"}]}}`,
	`{"ticket":{"id":"T","lines":[]}}`, `{"ticket":{"id":"T","lines":[{}, 3]}}`, `{"ticket":{"id":"","lines":[{}]}}`,
	`{"ticket":{"id":"T","lines":[{"product":{"id":"1"},"qty":1,"uom":"1"}]}} `, `{"ticket":{"id":"T","lines":[{}]}}}`,
	`{"ticket":{"id":"T","organization":{"searchKey":"West"},"lines":[{"product":{"searchKey":"P1"},"qty":1}]}}`,
}

// TestScanTicketTakesTheCommonShape: the shapes shops send go the fast
// way, and the rest to encoding/json.
func TestScanTicketTakesTheCommonShape(t *testing.T) {
	for i, want := range []bool{true, true, true, true, false, false, false, false, false, false, true, false, true} {
		if _, _, ok := scanTicket([]byte(scanTicketSeeds[i])); ok != want {
			t.Errorf("scanTicket(%s): fast %v, want %v", scanTicketSeeds[i], ok, want)
		}
	}
}

// FuzzScanTicket: whatever scanTicket reads, encoding/json reads the same
// from the same body.
func FuzzScanTicket(f *testing.F) {
	for _, s := range scanTicketSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fast, fastLines, ok := scanTicket([]byte(body))
		if !ok {
			return
		}
		slow, slowLines, err := decodeTicket([]byte(body))
		if err != nil {
			t.Fatalf("scanTicket read %s, encoding/json refuses it: %v", body, err)
		}
		fast.Ticket.Lines, slow.Ticket.Lines = nil, nil
		if fast.Version != slow.Version || wireTicketString(fast.Ticket) != wireTicketString(slow.Ticket) {
			t.Errorf("%s:\nscanTicket   %s %s\nencoding/json %s %s", body, fast.Version, wireTicketString(fast.Ticket), slow.Version, wireTicketString(slow.Ticket))
		}
		if len(fastLines) != len(slowLines) {
			t.Fatalf("%s: %d lines, encoding/json %d", body, len(fastLines), len(slowLines))
		}
		for i := range fastLines {
			a, b := fastLines[i], slowLines[i]
			if a.ID != b.ID || a.Product.id() != b.Product.id() || a.Product.key() != b.Product.key() || (a.Product == nil) != (b.Product == nil) ||
				a.UOM.id() != b.UOM.id() || a.UOM.key() != b.UOM.key() || (a.UOM == nil) != (b.UOM == nil) || string(a.Qty) != string(b.Qty) {
				t.Errorf("%s: line %d %+v, encoding/json %+v", body, i+1, a, b)
			}
		}
	})
}

func wireTicketString(t *wireTicket) string {
	ref := func(r *flexRef) string {
		if r == nil {
			return "nil"
		}
		return "{" + string(r.ID) + "|" + string(r.Key) + "}"
	}
	return string(t.ID) + "|" + ref(t.Organization) + "|" + ref(t.BusinessPartner) + "|" + string(t.Date)
}
