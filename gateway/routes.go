package gateway

import (
	"net/http"

	"github.com/julienschmidt/httprouter"
)

// routes lists every endpoint of the gateway in one place.
func (s *Server) routes() *httprouter.Router {
	rt := httprouter.New()
	// The planner GETs /frepple/xml and POSTs /frepple/xml/ (spec §2.1):
	// serve both spellings instead of redirecting, a redirect loses the POST body.
	rt.RedirectTrailingSlash = false
	for _, p := range []string{"/frepple/xml", "/frepple/xml/"} {
		rt.Handler(http.MethodGet, p, http.HandlerFunc(s.handleExport))
		rt.Handler(http.MethodPost, p, http.HandlerFunc(s.handleImport))
	}
	rt.HandlerFunc(http.MethodGet, "/frepple/state", s.handleState)
	rt.HandlerFunc(http.MethodGet, "/frepple/diff", s.handleDiff)
	rt.HandlerFunc(http.MethodGet, "/healthz", s.handleHealthz)
	rt.HandlerFunc(http.MethodGet, "/readyz", s.handleReadyz)
	rt.Handler(http.MethodGet, "/metrics", s.metrics.handler())
	rt.HandlerFunc(http.MethodGet, "/", s.handlePage)
	s.shopRoutes(rt)
	s.omsRoutes(rt)
	return rt
}
