package gateway

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// Texts of the addon's responses that the planner and its users know (spec §2.5).
const (
	msgLogin           = "Login with Odoo user name and password"
	msgMissingDatabase = "Missing database name argument"
	msgInvalidCompany  = "Invalid company name argument"
	markerExport       = "Error generating frePPLe XML data"
	markerImport       = "Error processing data posted by frePPLe"
)

// statusClientClosed is nginx's 499: the client went away before the
// answer. Nobody reads it; it keeps logs and metrics apart from failures.
const statusClientClosed = 499

// maxEchoed bounds an error message sent back: a message quoting the
// caller's input never returns megabytes of it.
const maxEchoed = 1000

// badRequest is an input error: answered 400 (or Status) with its text.
type badRequest struct {
	Status int
	Msg    string
	// Public marks a 5xx message the gateway composed without internal
	// addresses, shown as is (4xx messages always are).
	Public bool
	// Err is the cause, if any: a 502 page says why Odoo failed from it.
	Err error
}

func (e *badRequest) Error() string { return e.Msg }
func (e *badRequest) Unwrap() error { return e.Err }

func errBadRequest(format string, args ...any) error {
	return &badRequest{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// bodyError is a failure to read the request body that is the client's
// doing: it went away (499), sent too slowly for the read deadline (408)
// or sent a broken transfer encoding (400). The middleware gives every
// request a body that returns these, so each handler's error path tells a
// client abort from a failure without knowing how it read the body.
type bodyError struct {
	status int
	err    error
}

func (e *bodyError) Error() string {
	switch e.status {
	case statusClientClosed:
		return "the client went away while sending the request: " + e.err.Error()
	case http.StatusRequestTimeout:
		return "the request body did not arrive in time"
	}
	return "reading the request body: " + e.err.Error()
}

func (e *bodyError) Unwrap() error { return e.err }

// clientBody marks the read errors of a request body as bodyErrors.
type clientBody struct{ io.ReadCloser }

func (b clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == nil || err == io.EOF {
		return n, err
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) { // a limit set below us: the caller's own
		return n, err
	}
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		status = http.StatusRequestTimeout
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, net.ErrClosed), errors.Is(err, context.Canceled):
		status = statusClientClosed
	}
	return n, &bodyError{status: status, err: err}
}

// statusFor maps an error to the HTTP status the gateway answers with.
func statusFor(err error) int {
	var be *bodyError
	if errors.As(err, &be) {
		return be.status
	}
	var br *badRequest
	if errors.As(err, &br) {
		return br.Status
	}
	if errors.Is(err, context.Canceled) {
		return statusClientClosed
	}
	if errors.Is(err, store.ErrUnavailable) {
		return http.StatusServiceUnavailable // etcd down or cut off: retry later, elsewhere
	}
	switch odoo.KindOf(err) {
	case odoo.KindTransient:
		return http.StatusBadGateway
	case odoo.KindCanceled:
		return statusClientClosed
	case odoo.KindAuth:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// failure is how a request failed: its status and what the caller is told.
type failure struct {
	status int
	public string // "" for 499: there is nobody to tell
}

// classify decides the status of err for request r and what the answer
// may say. When r's context was canceled the client has gone, whatever
// err became on the way up. A 502 says why Odoo failed but never where it
// runs; other 5xx carry their detail only when disclose is set (the
// company's disclose_stack_trace, or an API whose callers manage what
// failed), else the request id to find it in the log.
func classify(r *http.Request, err error, disclose bool) failure {
	status := statusFor(err)
	// A read deadline that ran out cancels the context too, but the client
	// is still there to be told 408.
	if errors.Is(r.Context().Err(), context.Canceled) && status != http.StatusRequestTimeout {
		status = statusClientClosed
	}
	f := failure{status: status}
	var br *badRequest
	switch {
	case status == statusClientClosed:
	case errors.As(err, &br) && br.Public:
		f.public = clip(br.Msg, maxEchoed)
	case status == http.StatusBadGateway:
		f.public = "Odoo is unreachable or failed: " + publicReason(err)
	case status == http.StatusServiceUnavailable && !disclose:
		f.public = "the state store is unreachable, nothing was written (request " + RequestID(r.Context()) + " in the gateway's log)"
	case status < 500 || disclose:
		f.public = clip(err.Error(), maxEchoed)
	default:
		f.public = "internal error (request " + RequestID(r.Context()) + " in the gateway's log)"
	}
	return f
}

// logFailure logs a failed request once: a client abort or a refused
// request at info, a failure of ours or of Odoo at error.
func (s *Server) logFailure(r *http.Request, status int, what string, err error) {
	log := s.logFrom(r.Context())
	switch {
	case status == statusClientClosed:
		log.Info("client went away", "path", r.URL.Path, "status", status, "err", err)
	case status < 500:
		log.Info("request rejected", "path", r.URL.Path, "status", status, "err", err)
	default:
		log.Error(what, "path", r.URL.Path, "status", status, "err", err)
	}
}

// publicReason says why Odoo failed without naming where it runs: the
// kind of transport failure, Odoo's HTTP status or the exception class.
func publicReason(err error) string {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dns):
		return "host name not found"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer in time"
	case errors.As(err, &cert), errors.As(err, &unknownCA), errors.As(err, &hostname):
		return "TLS certificate not accepted"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed by Odoo"
	}
	var oe *odoo.Error
	if errors.As(err, &oe) {
		call := strings.TrimSpace(oe.Op + " " + oe.Model)
		if oe.Err != nil && strings.HasPrefix(oe.Err.Error(), "HTTP ") {
			code, _, _ := strings.Cut(oe.Err.Error(), ":")
			return "Odoo answered " + code + " to " + call
		}
		if oe.Fault != "" {
			// Only the exception class: its message may name hosts (a
			// database server that refused Odoo, for one).
			class, _, _ := strings.Cut(firstFaultLine(oe.Fault), ":")
			return "Odoo failed: " + clip(class, 100) + " in " + call
		}
		return "transport failure in " + call
	}
	return "see the gateway's log"
}

// firstFaultLine is the line of a traceback that names the exception.
func firstFaultLine(fault string) string {
	lines := strings.Split(strings.TrimSpace(fault), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "File ") && !strings.HasPrefix(l, "Traceback") {
			return l
		}
	}
	return ""
}

// clip shortens s to at most n bytes (on a rune boundary), saying how much was cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes more)", s[:cut], len(s)-cut)
}

// writeText answers with a plain-text body, as werkzeug does for the addon's errors.
func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// writeError answers a failed request: 4xx as plain text; 5xx as the
// addon's HTML error page whose paragraph starts with the marker sentence
// the planner looks for, with the detail only when disclosure is on; a
// client that went away gets nothing (499 in the log).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, marker string, err error, disclose bool) {
	f := classify(r, err, disclose)
	s.logFailure(r, f.status, marker, err)
	switch {
	case f.status == statusClientClosed:
		w.WriteHeader(f.status)
		return
	case f.status < 500:
		writeText(w, f.status, f.public)
		return
	}
	detail := f.public
	if disclose {
		// The company's disclose_stack_trace: Odoo's traceback too.
		var oe *odoo.Error
		if errors.As(err, &oe) {
			if tb := cmp.Or(oe.Detail, oe.Fault); strings.Contains(tb, "\n") {
				detail += "\n" + tb
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(f.status)
	desc := html.EscapeString(marker+":") + "<br>" + strings.ReplaceAll(html.EscapeString(detail), "\n", "<br>")
	fmt.Fprintf(w, "<!doctype html>\n<html lang=en>\n<title>%d %s</title>\n<h1>%s</h1>\n<p>%s</p>\n",
		f.status, http.StatusText(f.status), http.StatusText(f.status), desc)
}

// jsonError is the body of every failed request of the JSON APIs (order
// sourcing, shops): {"error": {"status": 400, "message": "…"}}.
type jsonError struct {
	Error jsonErrorBody `json:"error"`
}

type jsonErrorBody struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// writeJSONMessage answers a JSON API request with an error status and message.
func writeJSONMessage(w http.ResponseWriter, status int, msg string) {
	writeCompactJSON(w, status, jsonError{Error: jsonErrorBody{Status: status, Message: clip(msg, maxEchoed)}})
}

// writeJSONError answers a failed JSON API request; what prefixes the
// message and names the failure in the log; disclose as for classify.
func (s *Server) writeJSONError(w http.ResponseWriter, r *http.Request, what string, err error, disclose bool) {
	f := classify(r, err, disclose)
	s.logFailure(r, f.status, what, err)
	if f.status == statusClientClosed {
		w.WriteHeader(f.status)
		return
	}
	writeJSONMessage(w, f.status, what+": "+f.public)
}

// errorStyle is how an endpoint family answers failures of the request
// preamble (authentication, the database, the company).
type errorStyle int

const (
	// styleAddon: plain text 4xx and the addon's HTML page for 5xx (/frepple/…).
	styleAddon errorStyle = iota
	// styleJSON: the JSON APIs' error object (order sourcing, shops).
	styleJSON
)

// refuse answers a refusal (4xx) in the style of the endpoint.
func (st errorStyle) refuse(w http.ResponseWriter, status int, msg string) {
	if st == styleJSON {
		writeJSONMessage(w, status, msg)
		return
	}
	writeText(w, status, msg)
}

// fail answers a failed preamble step in the style of the endpoint.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, st errorStyle, err error) {
	if st == styleJSON {
		s.writeJSONError(w, r, "request failed", err, false)
		return
	}
	s.writeError(w, r, markerExport, err, false)
}
