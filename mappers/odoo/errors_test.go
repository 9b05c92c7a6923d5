package odoo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// tb wraps the last line of an Odoo fault the way XML-RPC faultString carries it.
func tb(last string) string {
	return "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/odoo/http.py\", line 1, in dispatch\n" + last + "\n"
}

func TestClassifyFault(t *testing.T) {
	cases := []struct {
		fault string
		want  Kind
	}{
		// Authentication: wrong password, unknown database.
		{"Access Denied", KindAuth},
		{tb("odoo.exceptions.AccessDenied: Access Denied"), KindAuth},
		{tb(`psycopg2.OperationalError: connection to server failed: FATAL:  database "nodb" does not exist`), KindAuth},
		// Access rights.
		{tb("odoo.exceptions.AccessError: You are not allowed to access 'Sales Order' (sale.order) records."), KindAccess},
		{tb("odoo.exceptions.AccessError: Private methods (such as res.partner._x) cannot be called remotely."), KindAccess},
		// Unknown model, field, record or method.
		{tb("odoo.exceptions.MissingError: Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)"), KindNotFound},
		{tb("odoo.exceptions.UserError: Object no.such.model doesn't exist"), KindNotFound},
		{tb("ValueError: Invalid field 'no_such_field' on model 'res.partner'"), KindNotFound},
		{tb("ValueError: Invalid field res.partner.foo in leaf ('foo', '=', 1)"), KindNotFound},
		{tb("builtins.ValueError: Unknown field \"foo\" in search"), KindNotFound},
		{tb("AttributeError: 'res.partner' object has no attribute 'name_get'"), KindNotFound},
		{tb("AttributeError: The method 'frob' does not exist on the model 'res.partner'"), KindOther}, // methods are not in KindNotFound's scope
		// Refused values.
		{tb("odoo.exceptions.ValidationError: The operation cannot be completed: another model requires the record being deleted."), KindInvalid},
		{tb("odoo.exceptions.UserError: You can not delete a confirmed order."), KindInvalid},
		{tb("ValueError: Invalid domain operator '~'"), KindInvalid},
		{tb("TypeError: write() missing 1 required positional argument: 'vals'"), KindInvalid},
		// Worth a retry.
		{tb("psycopg2.OperationalError: server closed the connection unexpectedly"), KindTransient},
		{tb("psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update"), KindTransient},
		{tb("builtins.TimeoutError: Timeout waiting for the lock"), KindTransient},
		// Anything else.
		{tb("KeyError: 'no.such.model'"), KindOther},
		{"", KindOther},
	}
	for _, c := range cases {
		if got := classifyFault(c.fault); got != c.want {
			t.Errorf("classifyFault(%q) = %v, want %v", firstLine(lastLine(c.fault)), got, c.want)
		}
	}
}

// TestXMLRPCFaultKind covers the faults Odoo 17's /xmlrpc/2 really sends:
// the class as the code and the bare message for Odoo's own exceptions.
func TestXMLRPCFaultKind(t *testing.T) {
	cases := []struct {
		code  int
		fault string
		want  Kind
	}{
		{3, "Access Denied", KindAuth},
		{4, "You are not allowed to access 'Sales Order' (sale.order) records.\n\nThis operation is allowed for the following groups:\n\t- Sales/User", KindAccess},
		{4, "Private methods (such as res.partner._x) cannot be called remotely.", KindAccess},
		{2, "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)", KindNotFound}, // MissingError
		{2, "Object no.such.model doesn't exist", KindNotFound},                                                  // UserError
		{2, "The operation cannot be completed: another model requires the record being deleted.", KindInvalid},  // ValidationError
		{2, "You can not delete a sent quotation or a confirmed sales order.", KindInvalid},                      // UserError
		{1, tb("ValueError: Invalid field 'foo' on model 'res.partner'"), KindNotFound},
		{1, tb("psycopg2.OperationalError: server closed the connection unexpectedly"), KindTransient},
		{1, tb("KeyError: 'x'"), KindOther},
		{1, tb("odoo.exceptions.AccessError: the emulator's traceback form"), KindAccess},
	}
	for _, c := range cases {
		if got := xmlrpcFaultKind(c.code, c.fault); got != c.want {
			t.Errorf("xmlrpcFaultKind(%d, %q) = %v, want %v", c.code, firstLine(c.fault), got, c.want)
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func TestKindString(t *testing.T) {
	want := map[Kind]string{KindOther: "error", KindAuth: "authentication", KindAccess: "access", KindNotFound: "not found",
		KindInvalid: "invalid", KindTransient: "transient", KindCanceled: "canceled", Kind(99): "error"}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), k.String(), s)
		}
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New("dial tcp: connection refused")
	cases := []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "execute_kw search_read", Model: "res.partner", Kind: KindNotFound, Fault: "ValueError: Invalid field 'x'\nmore"},
			"odoo execute_kw search_read res.partner: not found: ValueError: Invalid field 'x'"},
		{&Error{Op: "version", Kind: KindTransient, Err: cause}, "odoo version: transient: dial tcp: connection refused"},
		{ErrAuth, "odoo authenticate: authentication: Access Denied"},
		{newFault("execute_kw read", "sale.order", 1, tb("odoo.exceptions.AccessError: no")),
			"odoo execute_kw read sale.order: access: Traceback (most recent call last):"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
	wrapped := fmt.Errorf("export: %w", &Error{Op: "x", Kind: KindTransient, Err: cause})
	if KindOf(wrapped) != KindTransient || !IsKind(wrapped, KindTransient) || !errors.Is(wrapped, cause) {
		t.Errorf("KindOf/IsKind/Unwrap through a wrap: %v", wrapped)
	}
	if KindOf(cause) != KindOther || KindOf(nil) != KindOther {
		t.Error("KindOf of a foreign or nil error must be KindOther")
	}
}

func TestHTTPStatusErr(t *testing.T) {
	cases := []struct {
		status int
		want   Kind
	}{
		{http.StatusTooManyRequests, KindTransient},
		{http.StatusBadGateway, KindTransient},
		{http.StatusServiceUnavailable, KindTransient},
		{http.StatusNotFound, KindNotFound},
		{http.StatusUnauthorized, KindAuth},
		{http.StatusForbidden, KindAuth},
		{http.StatusBadRequest, KindOther},
	}
	for _, c := range cases {
		err := httpStatusErr("version", "", c.status, []byte(strings.Repeat("x", 500)))
		if KindOf(err) != c.want {
			t.Errorf("HTTP %d: kind %v, want %v", c.status, KindOf(err), c.want)
		}
		if len(err.Error()) > 300 {
			t.Errorf("HTTP %d: the body is not cut: %d bytes", c.status, len(err.Error()))
		}
	}
}

func TestTransportErr(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cause := errors.New("read: connection reset")
	if err := transportErr(ctx, "version", "", cause); KindOf(err) != KindTransient || !errors.Is(err, cause) {
		t.Errorf("live context: %v", err)
	}
	cancel()
	if err := transportErr(ctx, "version", "", cause); KindOf(err) != KindCanceled || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

func TestIsUnknownDatabase(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{newFault("common.authenticate", "", 1, tb(`psycopg2.OperationalError: connection to server at "db" (10.0.0.2), port 5432 failed: FATAL:  database "nodb" does not exist`)), true},
		{newFault("common.authenticate", "", 200, `psycopg2.OperationalError: connection to server failed: FATAL:  database "nodb" does not exist`), true}, // JSON-RPC
		{fmt.Errorf("log in: %w", newFault("common.authenticate", "", 1, tb(`psycopg2.OperationalError: FATAL:  database "x" does not exist`))), true},
		{ErrAuth, false},
		{newFault("execute_kw", "res.partner", 1, tb(`psycopg2.errors.UndefinedTable: relation "res_partner" does not exist`)), false},
		{newFault("execute_kw", "res.partner", 1, tb(`psycopg2.OperationalError: could not serialize access; the database "a" is busy`)), false},
		{errors.New(`database "nodb" does not exist`), false}, // not from Odoo
		{nil, false},
	} {
		if got := IsUnknownDatabase(tc.err); got != tc.want {
			t.Errorf("IsUnknownDatabase(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
