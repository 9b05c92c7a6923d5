package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// JSONRPC speaks Odoo's /jsonrpc endpoint (service common/object, method
// call). Odoo serialises JSON far faster than XML, so large reads gain.
type JSONRPC struct {
	base   string
	hc     *http.Client
	onCall func(service, model, method string, d time.Duration, err error)
	seq    atomic.Int64
}

// Common implements Transport.
func (j *JSONRPC) Common(ctx context.Context, method string, args ...any) (any, error) {
	return j.call(ctx, "common", "", method, method, args)
}

// Service implements Transport.
func (j *JSONRPC) Service(ctx context.Context, service, method string, args ...any) (any, error) {
	return j.call(ctx, service, "", method, method, args)
}

// Object implements Transport.
func (j *JSONRPC) Object(ctx context.Context, db string, uid int, password, model, method string, args []any, kwargs map[string]any) (any, error) {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	return j.call(ctx, "object", model, method, "execute_kw", []any{db, uid, password, model, method, args, kwargs})
}

type jsonRPCError struct {
	Code    any    `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Name          string `json:"name"`
		Debug         string `json:"debug"`
		Message       string `json:"message"`
		ExceptionType string `json:"exception_type"`
	} `json:"data"`
}

func (j *JSONRPC) call(ctx context.Context, service, model, method, rpcMethod string, args []any) (v any, err error) {
	start := time.Now()
	op := rpcOp(service, method)
	defer func() {
		if j.onCall != nil {
			j.onCall(service, model, method, time.Since(start), err)
		}
	}()
	payload := map[string]any{
		"jsonrpc": "2.0",
		"method":  "call",
		"id":      j.seq.Add(1),
		"params":  map[string]any{"service": service, "method": rpcMethod, "args": normaliseArgs(args)},
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, &Error{Op: op, Model: model, Kind: KindInvalid, Err: fmt.Errorf("encode: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.base+"/jsonrpc", bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Op: op, Model: model, Kind: KindInvalid, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := j.hc.Do(req)
	if err != nil {
		return nil, transportErr(ctx, op, model, err)
	}
	defer resp.Body.Close()
	data, err := readBody(resp)
	if err != nil {
		return nil, transportErr(ctx, op, model, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, httpStatusErr(op, model, resp.StatusCode, data)
	}
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *jsonRPCError   `json:"error"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, &Error{Op: op, Model: model, Kind: KindOther, Err: fmt.Errorf("decode response: %w", err)}
	}
	if out.Error != nil {
		// Classify on the same text XML-RPC would carry: "Exception: message".
		text := out.Error.Message
		if out.Error.Data.Message != "" {
			text = out.Error.Data.Name + ": " + out.Error.Data.Message
		}
		e := newFault(op, model, out.Error.Code, text)
		e.Detail = out.Error.Data.Debug
		return nil, e
	}
	if out.Result == nil { // a null result arrives as the text "null"; nil is an absent member
		return nil, &Error{Op: op, Model: model, Kind: KindOther, Err: fmt.Errorf("decode response: neither result nor error in %.100q", data)}
	}
	return decodeJSON(out.Result)
}

// decodeJSON decodes a JSON result into the same shapes XML-RPC yields:
// integers as int64, other numbers as float64.
func decodeJSON(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &Error{Op: "decode", Kind: KindOther, Err: err}
	}
	return FromJSON(v), nil
}

// FromJSON turns a value decoded with json.Decoder.UseNumber into the
// shapes XML-RPC yields: whole numbers int64, other numbers float64, null
// as Odoo's False. Lists and objects are converted in place.
func FromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i, e := range x {
			x[i] = FromJSON(e)
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = FromJSON(e)
		}
		return x
	case nil:
		return false
	}
	return v
}
