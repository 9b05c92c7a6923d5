// Package odoo is plangate's client for Odoo's external API: the "common"
// service (version, authenticate) and the "object" service (execute_kw),
// over XML-RPC (/xmlrpc/2/...) or JSON-RPC (/jsonrpc), behind one interface.
//
// Values come back normalised (see Record), faults as *Error with a Kind.
// Nothing here is specific to frePPLe: the mappers build on Session.
package odoo

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Transport carries the two Odoo services. XMLRPC and JSONRPC implement it;
// both are safe for concurrent use.
type Transport interface {
	// Common calls a method of the "common" service (version, authenticate, login).
	Common(ctx context.Context, method string, args ...any) (any, error)
	// Service calls a method of any service by name (e.g. "db", "list").
	Service(ctx context.Context, service, method string, args ...any) (any, error)
	// Object calls execute_kw on the "object" service.
	Object(ctx context.Context, db string, uid int, password, model, method string, args []any, kwargs map[string]any) (any, error)
}

// Protocol names an RPC flavour.
type Protocol string

// Supported protocols.
const (
	ProtocolXMLRPC  Protocol = "xmlrpc"
	ProtocolJSONRPC Protocol = "jsonrpc"
)

// Options configure a Transport.
type Options struct {
	// URL is Odoo's base URL, e.g. http://localhost:8069.
	URL string
	// Protocol selects XML-RPC (the default) or JSON-RPC.
	Protocol Protocol
	// HTTPClient is used when set; otherwise one is built from Timeout and Insecure.
	HTTPClient *http.Client
	// Timeout bounds one HTTP exchange (0: 10 minutes; large reads are slow).
	Timeout time.Duration
	// Insecure skips TLS certificate verification (self-signed test servers only).
	Insecure bool
	// OnCall, when set, is told about every RPC: for metrics and call counting.
	OnCall func(service, model, method string, d time.Duration, err error)
}

// NewTransport builds the transport the options name.
func NewTransport(o Options) (Transport, error) {
	if o.URL == "" {
		return nil, fmt.Errorf("odoo: empty URL")
	}
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		return nil, fmt.Errorf("odoo: URL %q must start with http:// or https://", o.URL)
	}
	hc := o.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		if o.Insecure {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // opt-in for test servers
		}
		timeout := o.Timeout
		if timeout == 0 {
			timeout = 10 * time.Minute
		}
		hc = &http.Client{Transport: tr, Timeout: timeout}
	}
	base := strings.TrimRight(o.URL, "/")
	switch o.Protocol {
	case "", ProtocolXMLRPC:
		return &XMLRPC{base: base, hc: hc, onCall: o.OnCall}, nil
	case ProtocolJSONRPC:
		return &JSONRPC{base: base, hc: hc, onCall: o.OnCall}, nil
	}
	return nil, fmt.Errorf("odoo: unknown protocol %q (want xmlrpc or jsonrpc)", o.Protocol)
}

// Version is the answer of common.version.
type Version struct {
	ServerVersion     string
	ServerVersionInfo []any
	ServerSerie       string
	ProtocolVersion   int
}

// ServerVersion calls common.version.
func ServerVersion(ctx context.Context, t Transport) (Version, error) {
	v, err := t.Common(ctx, "version")
	if err != nil {
		return Version{}, err
	}
	m, _ := v.(map[string]any)
	info, _ := m["server_version_info"].([]any)
	return Version{
		ServerVersion:     AsString(m["server_version"]),
		ServerVersionInfo: info,
		ServerSerie:       AsString(m["server_serie"]),
		ProtocolVersion:   AsInt(m["protocol_version"]),
	}, nil
}

// Authenticate checks a login against a database and returns the uid.
// Wrong credentials yield an error of KindAuth.
func Authenticate(ctx context.Context, t Transport, db, login, password string) (int, error) {
	if db == "" || login == "" || password == "" {
		return 0, ErrAuth
	}
	v, err := t.Common(ctx, "authenticate", db, login, password, map[string]any{})
	if err != nil {
		return 0, err
	}
	uid := AsInt(v)
	if uid <= 0 {
		return 0, ErrAuth
	}
	return uid, nil
}

// ListDatabases asks Odoo for its databases (service db, method list).
// Servers with list_db = False answer with an AccessDenied fault.
func ListDatabases(ctx context.Context, t Transport) ([]string, error) {
	v, err := t.Service(ctx, "db", "list")
	if err != nil {
		return nil, err
	}
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, AsString(e))
	}
	return out, nil
}
