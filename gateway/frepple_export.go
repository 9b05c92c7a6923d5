package gateway

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/store"
)

// handleExport serves GET /frepple/xml: the frePPLe document streamed
// while Odoo is read (spec §2.5, §3). Identical concurrent requests of the
// same user share one extraction.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Bad values are refused before the login costs Odoo anything.
	p, err := s.exportParams(q.Get)
	if err != nil {
		s.writeError(w, r, markerExport, err, false)
		return
	}
	c, ok := s.authenticate(w, r, q.Get)
	if !ok {
		return
	}
	if c.Company != nil {
		p.Company = c.Company.Name
	}
	if s.store != nil {
		// Before the first byte goes out, so an unreachable etcd is a
		// clean 503 rather than a document cut off midway.
		if err := s.store.Ping(r.Context()); err != nil {
			s.writeError(w, r, markerExport, err, false)
			return
		}
	}
	refresh := q.Get("refresh") == "1" || strings.EqualFold(q.Get("refresh"), "true")
	key := exportKey(c, p, refresh)
	f, leader, err := s.flights.join(r.Context(), key, func(ctx context.Context, out io.Writer) error {
		return s.runExport(ctx, c, p, refresh, out)
	})
	if err != nil {
		s.writeError(w, r, markerExport, err, false)
		return
	}
	defer f.leave()
	if !leader {
		s.logFrom(r.Context()).Info("sharing a running extraction", "database", c.Database, "mode", p.Mode, "login", c.Login)
	}

	dw := &deferredWriter{w: w, onStart: func() {
		h := w.Header()
		h.Set("Content-Type", "application/xml;charset=utf8")
		h.Set("Content-Disposition", "inline; filename=odoo_data_for_frepple")
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "0")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
	}}
	flusher, _ := w.(http.Flusher)
	err = f.copyTo(r.Context(), dw, func() {
		if dw.started && flusher != nil {
			flusher.Flush()
		}
	})
	if err == nil && !dw.started {
		dw.onStart() // an empty document still gets its headers
	}
	if err == nil || r.Context().Err() != nil {
		return
	}
	if !dw.started {
		s.writeError(w, r, markerExport, err, s.disclose(c))
		return
	}
	// Bytes are out: the status cannot change. Abort the response so the
	// chunked stream ends without its terminator and the document without
	// </plan>; a client can never take it for complete.
	s.logFrom(r.Context()).Error(markerExport+" after streaming began", "err", err)
	panic(http.ErrAbortHandler)
}

// exportKey identifies identical requests: same database, user and parameters.
func exportKey(c *caller, p export.Params, refresh bool) string {
	v := url.Values{}
	v.Set("db", c.Database)
	v.Set("login", c.Login)
	v.Set("bearer", strconv.FormatBool(c.Bearer))
	v.Set("mode", strconv.Itoa(p.Mode))
	v.Set("company", p.Company)
	v.Set("tz", p.Timezone)
	v.Set("lang", p.Language)
	v.Set("single", strconv.FormatBool(p.SingleCompany))
	v.Set("delta", strconv.FormatFloat(p.Delta, 'g', -1, 64))
	v.Set("apps", p.Apps)
	v.Set("version", p.Version)
	v.Set("now", p.Now.Format(time.RFC3339))
	v.Set("refresh", strconv.FormatBool(refresh))
	return v.Encode()
}

// runExport performs one extraction into out and records it in the state file.
func (s *Server) runExport(ctx context.Context, c *caller, p export.Params, refresh bool, out io.Writer) error {
	select { // bound the exports running at once; the rest wait their turn
	case s.exportSem <- struct{}{}:
		defer func() { <-s.exportSem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	start := time.Now()
	log := s.logFrom(ctx).With("database", c.Database, "company", p.Company, "mode", p.Mode)
	x := &export.Exporter{Session: c.Session, Logger: log, Flush: func() {}}
	s.configureExporter(x, c, refresh)
	stats, err := x.Export(ctx, out, p)
	s.metrics.observeExport(p.Mode, stats, err)
	if s.store != nil {
		run := store.Run{ID: store.NewRunID(start), Database: c.Database, Company: p.Company, Mode: p.Mode,
			Params: map[string]string{"timezone": p.Timezone, "language": p.Language, "singlecompany": strconv.FormatBool(p.SingleCompany),
				"delta": strconv.FormatFloat(p.Delta, 'g', -1, 64), "apps": p.Apps, "login": c.Login, "refresh": strconv.FormatBool(refresh)},
			Start: start.UTC(), End: time.Now().UTC(), Sections: stats.Sections, Bytes: stats.Bytes, Duration: time.Since(start)}
		fillRunStats(&run, stats)
		if err != nil {
			run.Error = err.Error()
		}
		if serr := s.store.SaveRun(run); serr != nil {
			log.Warn("could not record the extraction", "err", serr)
		}
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	log.Info("export done", "bytes", stats.Bytes, "duration", stats.Duration.Round(time.Millisecond), "login", c.Login)
	return nil
}

// exportParams parses the GET parameters (spec §2.2). Unlike the addon,
// which answers 500 for a non-numeric mode or delta, ignores an unknown
// time zone and serves any mode but 0 and 1 as mode 2, every value that
// cannot be meant is a 400 naming the parameter and what it accepts. The
// company is the caller's, set after authentication.
func (s *Server) exportParams(param func(string) string) (export.Params, error) {
	p := export.Params{Mode: 1, Delta: 999, Now: s.now()}
	if v := param("mode"); v != "" {
		m, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || !s.knownMode(m) {
			return p, errBadRequest("Invalid mode argument %q: want %s", v, s.modeChoices())
		}
		p.Mode = m
	}
	if v := param("delta"); v != "" {
		d, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(d) || math.IsInf(d, 0) {
			return p, errBadRequest("Invalid delta argument %q: want a number of days (999: all)", v)
		}
		p.Delta = d
	}
	if tz := param("timezone"); tz != "" {
		// "Local" would be this host's zone, not one the planner can mean.
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			return p, errBadRequest("Invalid timezone argument %q: want an IANA time zone such as Europe/Brussels or UTC", tz)
		}
		p.Timezone = tz
	}
	if v := param("singlecompany"); v != "" {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1":
			p.SingleCompany = true
		case "false", "0":
		default:
			return p, errBadRequest("Invalid singlecompany argument %q: want true or false (or 1 or 0)", v)
		}
	}
	p.Language = param("language")
	p.Apps = param("apps")
	p.Version = param("version")
	return p, nil
}

// knownMode reports whether mode m is served: 0 (connection test), 1, 2
// and any mode the configuration defines.
func (s *Server) knownMode(m int) bool {
	if m >= 0 && m <= 2 {
		return true
	}
	_, ok := s.cfg.Modes[m]
	return ok
}

// modeChoices lists the served modes for an error message.
func (s *Server) modeChoices() string {
	var modes []int
	for m := range s.cfg.Modes {
		if m < 0 || m > 2 {
			modes = append(modes, m)
		}
	}
	slices.Sort(modes)
	var extra []string
	for _, m := range modes {
		extra = append(extra, strconv.Itoa(m))
	}
	choices := "0 (connection test), 1 (every plan run) or 2 (slow-changing data)"
	if len(extra) > 0 {
		choices = "0 (connection test), 1 (every plan run), 2 (slow-changing data) or a configured mode: " + strings.Join(extra, ", ")
	}
	return choices
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
