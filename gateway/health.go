package gateway

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
)

// readyTimeout bounds the Odoo call of /readyz: a probe must answer fast.
const readyTimeout = 3 * time.Second

// handleHealthz answers while the process runs.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

// handleReadyz answers 200 when Odoo answers common.version within
// readyTimeout and the state store answers too (etcd: with a quorum), 503
// with the reason otherwise. It needs no credentials: common.version is
// public, as the probe of a load balancer must be.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.odoo == nil {
		writeText(w, http.StatusServiceUnavailable, "not ready: no Odoo transport configured\n")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	start := time.Now()
	v, err := odoo.ServerVersion(ctx, s.odoo)
	// The probe is public: say what went wrong, not where Odoo runs (the
	// log has the whole error).
	var reason string
	switch {
	case err != nil && ctx.Err() == context.DeadlineExceeded:
		reason = fmt.Sprintf("no answer within %s", readyTimeout)
	case err != nil:
		reason = publicReason(err)
	case v.ServerVersion == "":
		reason = "common.version answered without server_version"
	}
	if reason != "" {
		s.logFrom(r.Context()).Warn("not ready: Odoo does not answer", "reason", reason, "err", err)
		writeText(w, http.StatusServiceUnavailable, "not ready: Odoo does not answer: "+reason+"\n")
		return
	}
	took := time.Since(start)
	if s.store != nil {
		if err := s.store.Ping(ctx); err != nil {
			s.logFrom(r.Context()).Warn("not ready: the state store does not answer", "store", s.store.Path(), "err", err)
			// As for Odoo: the kind of failure, not where etcd runs.
			writeText(w, http.StatusServiceUnavailable, "not ready: the state store ("+s.store.Backend()+") does not answer within "+readyTimeout.String()+"\n")
			return
		}
	}
	writeText(w, http.StatusOK, fmt.Sprintf("ready: Odoo %s answered in %s\n", v.ServerVersion, took.Round(time.Millisecond)))
}
