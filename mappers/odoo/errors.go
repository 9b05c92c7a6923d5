package odoo

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Kind classifies a failure so callers can answer 4xx, 5xx or retry.
type Kind int

// Kinds of Odoo failures.
const (
	KindOther     Kind = iota
	KindAuth           // wrong database, login or password
	KindAccess         // the user may not do this (AccessError)
	KindNotFound       // unknown model, field or record (MissingError, ValueError on fields)
	KindInvalid        // Odoo refused the values (ValidationError, UserError)
	KindTransient      // transport failure, timeout, server overloaded: worth a retry
	KindCanceled       // the caller's context ended
)

func (k Kind) String() string {
	switch k {
	case KindAuth:
		return "authentication"
	case KindAccess:
		return "access"
	case KindNotFound:
		return "not found"
	case KindInvalid:
		return "invalid"
	case KindTransient:
		return "transient"
	case KindCanceled:
		return "canceled"
	}
	return "error"
}

// Error is a failed Odoo call: which operation, on which model, what kind,
// and Odoo's own fault text (or the transport error) as the cause.
type Error struct {
	Op     string // e.g. "execute_kw search_read"
	Model  string // empty for common-service calls
	Kind   Kind
	Fault  string // Odoo's fault string, first line is the exception
	Code   any    // fault code as sent (int over XML-RPC, int/str over JSON-RPC)
	Err    error  // transport cause, if any
	Detail string // full traceback text when Odoo sent one
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("odoo ")
	b.WriteString(e.Op)
	if e.Model != "" {
		b.WriteString(" ")
		b.WriteString(e.Model)
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.String())
	if e.Fault != "" {
		b.WriteString(": ")
		b.WriteString(firstLine(e.Fault))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of an error chain containing an *Error, else KindOther.
func KindOf(err error) Kind {
	var oe *Error
	if errors.As(err, &oe) {
		return oe.Kind
	}
	return KindOther
}

// IsKind reports whether err carries an Odoo error of kind k.
func IsKind(err error, k Kind) bool { return KindOf(err) == k }

// IsUnknownDatabase reports whether Odoo failed because the database named
// in the call does not exist (PostgreSQL's `database "x" does not exist`,
// sent as an OperationalError). Such a failure is KindAuth, as no login
// can succeed, but it is no reason to ask for a password again.
func IsUnknownDatabase(err error) bool {
	var oe *Error
	return errors.As(err, &oe) && unknownDatabase.MatchString(oe.Fault)
}

var unknownDatabase = regexp.MustCompile(`OperationalError\b.*\bdatabase "[^"\n]*" does not exist`)

// ErrAuth is returned by Authenticate for wrong credentials (Odoo answers False).
var ErrAuth = &Error{Op: "authenticate", Kind: KindAuth, Fault: "Access Denied"}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// classifyFault maps Odoo's exception names in a fault text to a Kind.
func classifyFault(fault string) Kind {
	switch {
	case strings.Contains(fault, "AccessDenied"), strings.Contains(fault, "Access Denied"),
		strings.Contains(fault, "database") && strings.Contains(fault, "does not exist"):
		return KindAuth
	case strings.Contains(fault, "AccessError"):
		return KindAccess
	case strings.Contains(fault, "MissingError"), strings.Contains(fault, "doesn't exist"),
		strings.Contains(fault, "Invalid field"), strings.Contains(fault, "Unknown field"),
		strings.Contains(fault, "Object ") && strings.Contains(fault, "doesn't exist"),
		strings.Contains(fault, "has no attribute"):
		return KindNotFound
	case strings.Contains(fault, "ValidationError"), strings.Contains(fault, "UserError"),
		strings.Contains(fault, "ValueError"), strings.Contains(fault, "TypeError"):
		return KindInvalid
	case strings.Contains(fault, "OperationalError"), strings.Contains(fault, "SerializationFailure"),
		strings.Contains(fault, "could not serialize"), strings.Contains(fault, "Timeout"):
		return KindTransient
	}
	return KindOther
}

func newFault(op, model string, code any, fault string) *Error {
	if strings.TrimSpace(fault) == "" { // seen only from broken servers or proxies; say so rather than nothing
		fault = fmt.Sprintf("fault without a message (code %v)", code)
	}
	return &Error{Op: op, Model: model, Kind: classifyFault(fault), Code: code, Fault: fault}
}

// xmlrpcFaultKind classifies an XML-RPC fault. Odoo's /xmlrpc/2 endpoints
// (xmlrpc_handle_exception_int) send the exception class only as the fault
// code, with the bare message as the fault string: 3 AccessDenied,
// 4 AccessError, 2 UserError and its subclasses (ValidationError,
// MissingError, RedirectWarning); 1 carries a traceback naming the class.
func xmlrpcFaultKind(code int, fault string) Kind {
	k := classifyFault(fault)
	switch code {
	case 3:
		return KindAuth
	case 4:
		return KindAccess
	case 2:
		if k == KindNotFound || strings.Contains(fault, "does not exist or has been deleted") {
			return KindNotFound // MissingError, or "Object x doesn't exist"
		}
		return KindInvalid
	}
	return k
}

func newTransport(op, model string, err error) *Error {
	return &Error{Op: op, Model: model, Kind: KindTransient, Err: fmt.Errorf("transport: %w", err)}
}
