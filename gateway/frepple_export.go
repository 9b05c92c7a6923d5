package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plangate/plangate/mappers/export"
)

// handleExport serves GET /frepple/xml: the frePPLe document streamed
// while Odoo is read (spec §2.5, §3).
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := s.authenticate(w, r, q.Get)
	if !ok {
		return
	}
	p, err := s.exportParams(q.Get, c)
	if err != nil {
		s.writeError(w, r, markerExport, err, false)
		return
	}
	select {
	case s.exportSem <- struct{}{}:
		defer func() { <-s.exportSem }()
	case <-r.Context().Done():
		return
	}

	dw := &deferredWriter{w: w}
	flusher, _ := w.(http.Flusher)
	x := &export.Exporter{Session: c.Session, Logger: s.log.With("database", c.Database, "mode", p.Mode)}
	x.Flush = func() {
		if dw.started && flusher != nil {
			flusher.Flush()
		}
	}
	dw.onStart = func() {
		h := w.Header()
		h.Set("Content-Type", "application/xml;charset=utf8")
		h.Set("Content-Disposition", "inline; filename=odoo_data_for_frepple")
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "0")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
	}
	stats, err := x.Export(r.Context(), dw, p)
	if err != nil {
		if !dw.started {
			s.writeError(w, r, markerExport, err, s.disclose(c))
			return
		}
		// Bytes are out: the status cannot change. Abort the response so the
		// chunked stream ends without its terminator and the document without
		// </plan>; a client can never take it for complete.
		s.log.Error(markerExport+" after streaming began", "err", err, "bytes", stats.Bytes)
		panic(http.ErrAbortHandler)
	}
	s.log.Info("export done", "database", c.Database, "mode", p.Mode, "bytes", stats.Bytes,
		"duration", stats.Duration.Round(time.Millisecond), "login", c.Login)
}

// exportParams parses the GET parameters (spec §2.2). Unlike the addon, a
// non-numeric mode or delta is a 400, not a 500.
func (s *Server) exportParams(param func(string) string, c *caller) (export.Params, error) {
	p := export.Params{Mode: 1, Delta: 999, Now: s.now()}
	if v := param("mode"); v != "" {
		m, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return p, errBadRequest("Invalid mode argument %q: want an integer (0 test, 1 plan run, 2 slow-changing data)", v)
		}
		p.Mode = m
	}
	if v := param("delta"); v != "" {
		d, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return p, errBadRequest("Invalid delta argument %q: want a number of days", v)
		}
		p.Delta = d
	}
	if tz := param("timezone"); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			s.log.Warn("invalid timezone argument; using the user's time zone", "timezone", tz)
		} else {
			p.Timezone = tz
		}
	}
	p.Language = param("language")
	p.SingleCompany = strings.EqualFold(param("singlecompany"), "true")
	p.Apps = param("apps")
	p.Version = param("version")
	if c.Company != nil {
		p.Company = c.Company.Name
	}
	return p, nil
}

// deferredWriter commits the 200 header only with the first byte, so an
// export that fails before writing anything can still answer 500.
type deferredWriter struct {
	w       http.ResponseWriter
	started bool
	onStart func()
}

func (d *deferredWriter) Write(b []byte) (int, error) {
	if !d.started {
		d.started = true
		d.onStart()
	}
	return d.w.Write(b)
}
