package gateway

import "net/http"

// handleImport serves POST /frepple/xml: the plan posted by frePPLe.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusNotImplemented, "plan import is not available yet")
}
