package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// checkShape fails unless v holds only the shapes the transports promise
// (Record's doc): int64, float64, string, bool, lists, string-keyed structs,
// and from XML-RPC also time.Time (dateTime.iso8601) and nil (kolo/xmlrpc
// leaves an empty <string></string> or <value></value> unset).
func checkShape(t *testing.T, v any, xmlrpc bool, path string) {
	t.Helper()
	switch x := v.(type) {
	case nil:
		if !xmlrpc {
			t.Fatalf("%s: nil", path)
		}
	case int64, float64, string, bool:
	case time.Time:
		if !xmlrpc {
			t.Fatalf("%s: time.Time from JSON", path)
		}
	case []any:
		for i, e := range x {
			checkShape(t, e, xmlrpc, path+"["+strconv.Itoa(i)+"]")
		}
	case map[string]any:
		for k, e := range x {
			checkShape(t, e, xmlrpc, path+"."+k)
		}
	default:
		t.Fatalf("%s: unexpected %T", path, v)
	}
}

// sameConversion checks that conv is FromJSON of orig, element by element.
func sameConversion(t *testing.T, orig, conv any, path string) {
	t.Helper()
	switch o := orig.(type) {
	case json.Number:
		if i, err := o.Int64(); err == nil {
			if conv != i {
				t.Fatalf("%s: %s became %#v, want int64 %d", path, o, conv, i)
			}
			return
		}
		f, _ := strconv.ParseFloat(string(o), 64)
		c, ok := conv.(float64)
		if !ok || math.Float64bits(c) != math.Float64bits(f) {
			t.Fatalf("%s: %s became %#v, want float64 %v", path, o, conv, f)
		}
	case nil:
		if conv != false {
			t.Fatalf("%s: null became %#v, want false", path, conv)
		}
	case []any:
		c, ok := conv.([]any)
		if !ok || len(c) != len(o) {
			t.Fatalf("%s: list became %#v", path, conv)
		}
		for i := range o {
			sameConversion(t, o[i], c[i], path+"["+strconv.Itoa(i)+"]")
		}
	case map[string]any:
		c, ok := conv.(map[string]any)
		if !ok || len(c) != len(o) {
			t.Fatalf("%s: object became %#v", path, conv)
		}
		for k := range o {
			sameConversion(t, o[k], c[k], path+"."+k)
		}
	default:
		if conv != orig {
			t.Fatalf("%s: %#v became %#v", path, orig, conv)
		}
	}
}

func decodeNumbers(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// FuzzFromJSON: any JSON value converts to the XML-RPC shapes (no
// json.Number, no nil), numbers exactly as Int64/ParseFloat read them,
// null as False, and converting twice changes nothing.
func FuzzFromJSON(f *testing.F) {
	f.Add([]byte(`{"id": 7, "partner_id": [9, "Wood Corner"], "ref": null, "qty": 4.5, "tags": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		orig, err := decodeNumbers(data)
		if err != nil {
			return
		}
		again, _ := decodeNumbers(data) // FromJSON converts in place
		conv := FromJSON(again)
		checkShape(t, conv, false, "$")
		sameConversion(t, orig, conv, "$")
		copy1, _ := decodeNumbers(data)
		twice := FromJSON(FromJSON(copy1))
		sameConversion(t, orig, twice, "$")
	})
}

// bodyTransport answers every request with one canned HTTP response.
type bodyTransport struct {
	status int
	body   []byte
}

func (b bodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: b.status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(b.body)), Request: req}, nil
}

// fuzzCall runs one object call whose response body is body, as protocol p.
func fuzzCall(t *testing.T, p Protocol, body []byte) {
	tr, err := NewTransport(Options{URL: "http://odoo.invalid", Protocol: p, HTTPClient: &http.Client{Transport: bodyTransport{200, body}}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := tr.Object(context.Background(), "odoo17", 2, "admin", "res.partner", "search_read", []any{Domain{}}, map[string]any{"limit": 1})
	if err != nil {
		var oe *Error
		if !errors.As(err, &oe) {
			t.Fatalf("error %T %v is not an *odoo.Error", err, err)
		}
		if oe.Kind < KindOther || oe.Kind > KindCanceled || oe.Op == "" || err.Error() == "" {
			t.Fatalf("error %#v", oe)
		}
		if oe.Fault == "" && oe.Err == nil {
			t.Fatalf("error %q carries neither a fault nor a cause", err)
		}
		return
	}
	checkShape(t, v, p == ProtocolXMLRPC, "$")
}

// FuzzXMLRPCResponse feeds arbitrary bytes as the body of an XML-RPC
// answer: the client returns a value of the documented shapes or an
// *odoo.Error, never panics.
func FuzzXMLRPCResponse(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><struct><member><name>id</name><value><int>7</int></value></member></struct></value></data></array></value></param></params></methodResponse>`))
	f.Fuzz(func(t *testing.T, body []byte) { fuzzCall(t, ProtocolXMLRPC, body) })
}

// FuzzJSONRPCResponse is FuzzXMLRPCResponse for the /jsonrpc answer.
func FuzzJSONRPCResponse(f *testing.F) {
	f.Add([]byte(`{"jsonrpc": "2.0", "id": 1, "result": [{"id": 7, "name": "A", "parent_id": false}]}`))
	f.Fuzz(func(t *testing.T, body []byte) { fuzzCall(t, ProtocolJSONRPC, body) })
}
