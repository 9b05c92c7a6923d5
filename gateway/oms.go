package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/julienschmidt/httprouter"

	"github.com/plangate/plangate/mappers/oms"
)

// omsRoutes serves order sourcing under plangate's path and under the
// Openbravo path existing callers use.
func (s *Server) omsRoutes(rt *httprouter.Router) {
	rt.HandlerFunc(http.MethodPost, "/oms/orders-proposal", s.handleOMSProposal)
	rt.HandlerFunc(http.MethodPost, "/openbravo/ws/org.openbravo.oms.getOrdersProposal", s.handleOMSProposal)
	rt.HandlerFunc(http.MethodGet, "/oms/openapi.json", handleOMSOpenAPI)
	rt.GET("/oms/runs", s.handleOMSRuns)
	rt.GET("/oms/runs/:id", s.handleOMSRun)
}

// writeCompactJSON answers with unindented JSON: sourcing answers are
// machine-read and hot.
func writeCompactJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "encoding the answer failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// maxTicketBytes bounds a sourcing request's body whatever MaxBodyBytes
// allows: the largest ticket (oms.MaxLines lines) is far smaller.
const maxTicketBytes = 8 << 20

// handleOMSProposal answers POST /oms/orders-proposal: which warehouse
// ships which lines of a ticket. The response version comes from the query
// (?version=) or the body ("version"), default 1.1.0; ?refresh=1 reads
// the stock from Odoo again instead of the cached snapshot. Every answer,
// errors included, is JSON.
func (s *Server) handleOMSProposal(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := s.authenticateIn(w, r, q.Get, styleJSON)
	if !ok {
		return
	}
	body := http.MaxBytesReader(w, r.Body, min(s.cfg.MaxBodyBytes, maxTicketBytes))
	t, err := oms.ParseTicket(body)
	if err != nil {
		s.metrics.observeOMS("refused", 0)
		var tooBig *http.MaxBytesError
		var be *bodyError
		switch {
		case errors.As(err, &tooBig):
			writeJSONMessage(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("ticket larger than the body limit of %d bytes", tooBig.Limit))
		case errors.As(err, &be):
			s.writeJSONError(w, r, "reading the ticket failed", be, false)
		default:
			writeJSONMessage(w, http.StatusBadRequest, err.Error())
		}
		return
	}
	v := q.Get("version")
	if v == "" {
		v = t.Version
	}
	version, err := oms.CheckVersion(v)
	if err != nil {
		s.metrics.observeOMS("refused", 0)
		writeJSONMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	req := oms.Request{Session: c.Session, Scope: c.Database + "\x00" + c.Login, Database: c.Database, Ticket: t}
	if q.Get("refresh") == "1" { // stock changed in Odoo just now: read it again
		s.oms.Invalidate(req.Scope)
	}
	if c.Company != nil {
		req.Company = c.Company.ID
	}
	run, err := s.oms.Propose(r.Context(), req)
	if err != nil {
		if oms.IsInputError(err) {
			s.metrics.observeOMS("refused", 0)
			writeJSONMessage(w, http.StatusBadRequest, err.Error())
			return
		}
		s.metrics.observeOMS("failed", 0)
		s.writeJSONError(w, r, "order sourcing failed", fmt.Errorf("ticket %q: %w", t.ID, err), false)
		return
	}
	result := "sourced"
	if !run.Fulfilled {
		result = "empty"
	}
	s.metrics.observeOMS(result, run.Duration)
	if err := s.omsRuns.add(run); err != nil {
		s.metrics.observeOMS("failed", 0)
		writeJSONMessage(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.logFrom(r.Context()).Debug("order sourced", "ticket", t.ID, "run", run.ID, "fulfilled", run.Fulfilled, "lines", len(t.Lines), "duration", run.Duration)
	writeCompactJSON(w, http.StatusOK, oms.NewResponse(run, version))
}

// handleOMSRun serves GET /oms/runs/:id: a kept run with every rule and
// criterion, their groups and logs. Callers see runs of their database only.
func (s *Server) handleOMSRun(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	c, ok := s.authenticateIn(w, r, r.URL.Query().Get, styleJSON)
	if !ok {
		return
	}
	id := ps.ByName("id")
	kept, found, err := s.omsRuns.get(id)
	if err != nil {
		s.writeJSONError(w, r, "reading the run failed", fmt.Errorf("run %q: %w", clip(id, 100), err), false)
		return
	}
	if !found || kept.Database != c.Database {
		writeJSONMessage(w, http.StatusNotFound, "no order-sourcing run "+strconv.Quote(clip(id, 100)))
		return
	}
	kept.Expand() // a copy of its own, decoded for this request
	writeJSON(w, http.StatusOK, kept)
}
