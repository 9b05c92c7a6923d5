package odoo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kolo/xmlrpc"
)

// XMLRPC speaks Odoo's /xmlrpc/2 endpoints. kolo/xmlrpc encodes and decodes
// the values; the HTTP exchange is ours so that contexts cancel calls.
type XMLRPC struct {
	base   string
	hc     *http.Client
	onCall func(service, model, method string, d time.Duration, err error)
}

// Common implements Transport.
func (x *XMLRPC) Common(ctx context.Context, method string, args ...any) (any, error) {
	return x.call(ctx, "common", "", method, method, args)
}

// Service implements Transport.
func (x *XMLRPC) Service(ctx context.Context, service, method string, args ...any) (any, error) {
	return x.call(ctx, service, "", method, method, args)
}

// Object implements Transport.
func (x *XMLRPC) Object(ctx context.Context, db string, uid int, password, model, method string, args []any, kwargs map[string]any) (any, error) {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	return x.call(ctx, "object", model, method, "execute_kw", []any{db, uid, password, model, method, args, kwargs})
}

func (x *XMLRPC) call(ctx context.Context, service, model, method, rpcMethod string, args []any) (v any, err error) {
	start := time.Now()
	op := rpcOp(service, method)
	defer func() {
		if x.onCall != nil {
			x.onCall(service, model, method, time.Since(start), err)
		}
	}()
	body, err := xmlrpc.EncodeMethodCall(rpcMethod, normaliseArgs(args)...)
	if err != nil {
		return nil, &Error{Op: op, Model: model, Kind: KindInvalid, Err: fmt.Errorf("encode: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.base+"/xmlrpc/2/"+service, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Op: op, Model: model, Kind: KindInvalid, Err: err}
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := x.hc.Do(req)
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
	r := xmlrpc.Response(data)
	if ferr := r.Err(); ferr != nil {
		var f xmlrpc.FaultError
		if errors.As(ferr, &f) {
			e := newFault(op, model, f.Code, f.String)
			e.Kind = xmlrpcFaultKind(f.Code, f.String)
			return nil, e
		}
		return nil, &Error{Op: op, Model: model, Kind: KindOther, Err: fmt.Errorf("decode fault: %w", ferr)}
	}
	if err := r.Unmarshal(&v); err != nil {
		return nil, &Error{Op: op, Model: model, Kind: KindOther, Err: fmt.Errorf("decode response: %w", err)}
	}
	return v, nil
}

// normaliseArgs turns Go values XML-RPC cannot carry into ones it can:
// []int into []any, nil into false (Odoo's None needs allow_none).
func normaliseArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = normaliseValue(a)
	}
	return out
}

func normaliseValue(a any) any {
	switch x := a.(type) {
	case nil:
		return false
	case []int:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = e
		}
		return l
	case []string:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = e
		}
		return l
	case Domain:
		return normaliseValue([]any(x))
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = normaliseValue(e)
		}
		return l
	case Context:
		return normaliseValue(map[string]any(x))
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = normaliseValue(e)
		}
		return m
	case time.Time:
		return FormatDatetime(x)
	}
	return a
}

// readBody reads a whole response, in one allocation when its length is
// announced (large reads are megabytes; growing a buffer copies them).
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n < 1<<30 {
		buf := bytes.NewBuffer(make([]byte, 0, n+1))
		_, err := buf.ReadFrom(resp.Body)
		return buf.Bytes(), err
	}
	return io.ReadAll(resp.Body)
}

func rpcOp(service, method string) string {
	if service == "object" {
		return "execute_kw " + method
	}
	return method
}

func transportErr(ctx context.Context, op, model string, err error) error {
	if ctx.Err() != nil {
		return &Error{Op: op, Model: model, Kind: KindCanceled, Err: ctx.Err()}
	}
	return newTransport(op, model, err)
}

func httpStatusErr(op, model string, status int, body []byte) error {
	kind := KindOther
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		kind = KindTransient
	case status == http.StatusNotFound:
		kind = KindNotFound
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		kind = KindAuth
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return &Error{Op: op, Model: model, Kind: kind, Err: fmt.Errorf("HTTP %d: %s", status, bytes.TrimSpace(body))}
}
