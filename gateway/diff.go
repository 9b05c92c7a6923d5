package gateway

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/xmlschema/docdiff"
)

//go:embed diff.html
var diffHTML string

// diffTmpl shows the outcome of the migration check (GET /frepple/diff).
var diffTmpl = template.Must(template.New("diff").Funcs(template.FuncMap{
	"value": func(s *string) string {
		if s == nil {
			return "(absent)"
		}
		return *s
	},
}).Parse(diffHTML))

// markerDiff starts the error pages of the comparison.
const markerDiff = "Error comparing with the frePPLe addon"

// diffPerSection bounds the differences the page lists per section; the
// JSON form (?format=json) has them all.
const diffPerSection = 200

// diffPage fills the template.
type diffPage struct {
	Query    url.Values // the request's parameters, shown back
	R        *docdiff.Report
	Share    string
	Sections []diffSection
	JSONLink string
}

type diffSection struct {
	*docdiff.SectionSummary
	Shown []docdiff.Difference
	More  int
}

// handleDiff serves GET /frepple/diff: the migration check. It fetches
// the addon's /frepple/xml from the configured Odoo (Config.AddonURL)
// with the caller's login and the request's database, company, mode and
// language, exports plangate's document for the same parameters at the
// same time, and answers the comparison as a page (or JSON with
// format=json). The target is configuration, not a parameter: the
// gateway fetches from no address a request names.
func (s *Server) handleDiff(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Bad values are refused before the login costs Odoo anything.
	p, err := s.exportParams(q.Get)
	if err != nil {
		s.writeError(w, r, markerDiff, err, false)
		return
	}
	c, ok := s.authenticate(w, r, q.Get)
	if !ok {
		return
	}
	if s.cfg.AddonURL == "" {
		writeText(w, http.StatusNotFound, "no addon to compare with: start the gateway with --addon URL (the Odoo that has the frePPLe addon)\n")
		return
	}
	if c.Company != nil {
		p.Company = c.Company.Name
	}
	opts := docdiff.Options{IgnoreOrder: q.Get("order") == "ignore", IgnoreClock: q.Get("clock") != "compare"}
	for _, name := range strings.Split(q.Get("sections"), ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.Contains(docdiff.SectionNames(), name) {
			s.writeError(w, r, markerDiff, errBadRequest("unknown section %q (sections: %s)", name, strings.Join(docdiff.SectionNames(), ", ")), false)
			return
		}
		opts.Sections = append(opts.Sections, name)
	}
	addon := &export.Addon{URL: s.cfg.AddonURL, MaxBytes: s.cfg.MaxBodyBytes}
	if c.Bearer {
		// The addon's own Bearer support is broken (spec §2.4.2, D1): log in
		// to it with the service account the token runs as.
		addon.Login, addon.Password = s.cfg.ServiceLogin, s.cfg.ServicePassword
	} else {
		addon.Login, addon.Password, _ = r.BasicAuth()
	}
	rep, err := export.CompareWithAddon(r.Context(), addon, c.Database, p, func(ctx context.Context, w io.Writer) error {
		return s.runExport(ctx, c, p, false, w)
	}, opts)
	var ae *export.AddonError
	switch {
	case errors.As(err, &ae):
		// The addon's answer is worth showing; where it runs is not.
		msg := strings.ReplaceAll(ae.Error(), addon.URL, "the configured Odoo")
		s.writeError(w, r, markerDiff, &badRequest{Status: http.StatusBadGateway, Msg: msg, Public: true}, s.disclose(c))
		return
	case err != nil:
		s.writeError(w, r, markerDiff, err, s.disclose(c))
		return
	}
	// Named by its request, not by where the addon runs (an internal address).
	target := "/frepple/xml"
	if u, err := addon.RequestURL(c.Database, p); err == nil {
		if pu, err := url.Parse(u); err == nil {
			target = pu.RequestURI()
		}
	}
	rep.A, rep.B = "the frePPLe addon: "+target, "plangate: its own export of the same request"
	s.logFrom(r.Context()).Info("addon comparison", "database", c.Database, "company", p.Company, "mode", p.Mode,
		"equal", rep.Equal, "differences", len(rep.Differences), "elements", rep.Elements)

	if q.Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(rep)
		return
	}
	d := diffPage{Query: q, R: rep, Share: strconv.FormatFloat(100*rep.ShareEqual, 'f', 2, 64)}
	jq := url.Values{}
	for k, v := range q {
		jq[k] = v
	}
	jq.Set("format", "json")
	d.JSONLink = "?" + jq.Encode()
	for _, sum := range rep.Sections {
		ds := diffSection{SectionSummary: sum}
		for _, df := range rep.Differences {
			if df.Section != sum.Name {
				continue
			}
			if len(ds.Shown) == diffPerSection {
				ds.More++
				continue
			}
			ds.Shown = append(ds.Shown, df)
		}
		d.Sections = append(d.Sections, ds)
	}
	var b bytes.Buffer
	if err := diffTmpl.Execute(&b, d); err != nil {
		s.logFrom(r.Context()).Error("diff template", "err", err)
		writeText(w, http.StatusInternalServerError, "page template failed\n")
		return
	}
	setPageHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// redactURL drops credentials from a URL for display.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Redacted()
}
