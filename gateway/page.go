package gateway

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"slices"
)

//go:embed page.html
var pageHTML string

// pageTmpl is the browser page at /: what the gateway is, a form that
// opens a frePPLe document, and links to the other endpoints. Links are
// relative so the page also works behind a reverse proxy's path prefix.
var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// pageData fills the page template.
type pageData struct {
	Database  string   // the configured default database, prefilled
	Companies []string // companies with gateway-side settings and Config.PageCompanies, suggested
	Timezones []string
	Languages []string
	AddonURL  string // the Odoo whose addon the comparison form fetches from; empty: no form
}

// handlePage serves GET /. It needs no login: the form's target asks for one.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	d := pageData{
		Database:  s.cfg.DefaultDatabase,
		AddonURL:  redactURL(s.cfg.AddonURL),
		Timezones: []string{"UTC", "Europe/Brussels", "Europe/Paris", "Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Shanghai", "Asia/Kolkata"},
		Languages: []string{"en_US", "fr_FR", "nl_BE", "de_DE", "es_ES", "it_IT", "zh_CN"},
	}
	for name := range s.cfg.Companies {
		d.Companies = append(d.Companies, name)
	}
	d.Companies = append(d.Companies, s.cfg.PageCompanies...)
	slices.Sort(d.Companies)
	d.Companies = slices.Compact(d.Companies)
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, d); err != nil {
		s.logFrom(r.Context()).Error("page template", "err", err)
		writeText(w, http.StatusInternalServerError, "page template failed\n")
		return
	}
	setPageHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// setPageHeaders are the headers of the gateway's HTML pages.
func setPageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// No scripts, no external assets: the page is a form and links.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
}
