package gateway

import "net/http"

// handleHealthz answers while the process runs.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}
