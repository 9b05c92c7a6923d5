package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/plangate/plangate/store"
)

// stateResponse is the body of GET /frepple/state.
type stateResponse struct {
	Database string      `json:"database"`
	Last     []store.Run `json:"last"`
	History  []store.Run `json:"history"`
}

// handleState serves GET /frepple/state: the last extraction per
// company and mode of the caller's database, and the recent history
// (filters: company, mode, limit).
func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := s.authenticate(w, r, q.Get)
	if !ok {
		return
	}
	if s.store == nil {
		writeText(w, http.StatusNotFound, "no state is kept: start the gateway with --store FILE")
		return
	}
	f := store.RunFilter{Database: c.Database, Company: q.Get("company")}
	if v := q.Get("mode"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil {
			writeText(w, http.StatusBadRequest, "Invalid mode argument "+strconv.Quote(v))
			return
		}
		f.Mode = &m
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeText(w, http.StatusBadRequest, "Invalid limit argument "+strconv.Quote(v))
			return
		}
		f.Limit = n
	}
	hist, err := s.store.Runs(f)
	if err != nil {
		s.writeError(w, r, "Error reading the extraction state", err, false)
		return
	}
	all, err := s.store.LastRuns()
	if err != nil {
		s.writeError(w, r, "Error reading the extraction state", err, false)
		return
	}
	resp := stateResponse{Database: c.Database, Last: []store.Run{}, History: hist}
	for _, run := range all {
		if run.Database == c.Database && (f.Company == "" || run.Company == f.Company) && (f.Mode == nil || run.Mode == *f.Mode) {
			resp.Last = append(resp.Last, run)
		}
	}
	if resp.History == nil {
		resp.History = []store.Run{}
	}
	writeJSON(w, http.StatusOK, resp)
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
