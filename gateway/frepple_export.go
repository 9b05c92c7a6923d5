package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	c, ok := s.authenticate(w, r, q.Get)
	if !ok {
		return
	}
	p, err := s.exportParams(q.Get, c)
	if err != nil {
		s.writeError(w, r, markerExport, err, false)
		return
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
