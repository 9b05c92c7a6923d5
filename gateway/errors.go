package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"

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

// badRequest is an input error: answered 400 (or Status) with its text.
type badRequest struct {
	Status int
	Msg    string
}

func (e *badRequest) Error() string { return e.Msg }

func errBadRequest(format string, args ...any) error {
	return &badRequest{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// writeText answers with a plain-text body, as werkzeug does for the addon's errors.
func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, reason string) {
	// Never log credentials: reason names the failure, not the secret.
	s.logFrom(r.Context()).Warn("Failed login attempt", "reason", reason, "remote", r.RemoteAddr, "path", r.URL.Path)
	w.Header().Set("WWW-Authenticate", `Basic realm="odoo"`)
	writeText(w, http.StatusUnauthorized, msgLogin)
}

// statusFor maps an error to the HTTP status the gateway answers with.
func statusFor(err error) int {
	var br *badRequest
	if errors.As(err, &br) {
		return br.Status
	}
	if errors.Is(err, store.ErrUnavailable) {
		return http.StatusServiceUnavailable // etcd down or cut off: retry later, elsewhere
	}
	switch odoo.KindOf(err) {
	case odoo.KindTransient:
		return http.StatusBadGateway
	case odoo.KindCanceled:
		return 499 // client went away; nobody reads this
	case odoo.KindAuth:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// writeError answers a failed request: 4xx as plain text; 5xx as the
// addon's HTML error page whose paragraph starts with the marker sentence
// the planner looks for, with the detail only when disclosure is on.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, marker string, err error, disclose bool) {
	status := statusFor(err)
	if status < 500 {
		s.logFrom(r.Context()).Info("request rejected", "path", r.URL.Path, "status", status, "err", err)
		writeText(w, status, err.Error())
		return
	}
	s.logFrom(r.Context()).Error(marker, "path", r.URL.Path, "status", status, "err", err)
	detail := "internal error"
	if status == http.StatusBadGateway {
		detail = "Odoo is unreachable or failed: " + err.Error()
	} else if status == http.StatusServiceUnavailable {
		detail = "the state store is unreachable, nothing was written: " + err.Error()
	} else if disclose {
		detail = err.Error()
	}
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
	w.WriteHeader(status)
	desc := html.EscapeString(marker+":") + "<br>" + strings.ReplaceAll(html.EscapeString(detail), "\n", "<br>")
	fmt.Fprintf(w, "<!doctype html>\n<html lang=en>\n<title>%d %s</title>\n<h1>%s</h1>\n<p>%s</p>\n",
		status, http.StatusText(status), http.StatusText(status), desc)
}
