package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/plangate/plangate/xmlschema/docdiff"
)

// Addon is the frePPLe Odoo addon's own /frepple/xml on an Odoo that has
// it installed: the document plangate's export must equal, fetched for
// the migration check (CompareWithAddon).
type Addon struct {
	// URL is the Odoo's base URL (https://odoo.example.com); the request
	// goes to URL/frepple/xml.
	URL string
	// Login and Password are sent as HTTP Basic, as the planner does.
	Login, Password string
	// Client makes the request; nil means http.DefaultClient.
	Client *http.Client
	// MaxBytes bounds the document read; 0: no bound.
	MaxBytes int64
}

// RequestURL is what the planner GETs from the addon for database and p:
// the same parameters plangate's /frepple/xml takes (spec §2.2).
func (a *Addon) RequestURL(database string, p Params) (string, error) {
	u, err := url.Parse(strings.TrimRight(a.URL, "/") + "/frepple/xml")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("addon URL %q: want http(s)://host[:port] of the Odoo that has the frePPLe addon", a.URL)
	}
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("database", database)
	set("company", p.Company)
	q.Set("mode", strconv.Itoa(p.Mode))
	set("language", p.Language)
	set("timezone", p.Timezone)
	if p.SingleCompany {
		q.Set("singlecompany", "true")
	}
	if p.Delta != 0 && p.Delta != 999 {
		q.Set("delta", strconv.FormatFloat(p.Delta, 'g', -1, 64))
	}
	set("apps", p.Apps)
	set("version", p.Version)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Fetch GETs the addon's document for database and p; the caller closes
// it. An answer other than 200 is an error that says what it means.
func (a *Addon) Fetch(ctx context.Context, database string, p Params) (io.ReadCloser, error) {
	target, err := a.RequestURL(database, p)
	if err != nil {
		return nil, err
	}
	body, err := GetDocument(ctx, a.Client, target, a.Login, a.Password)
	var se *StatusError
	if errors.As(err, &se) {
		hint := ""
		switch se.Code {
		case http.StatusNotFound:
			hint = ": is the frePPLe addon installed in that Odoo?"
		case http.StatusUnauthorized:
			hint = fmt.Sprintf(": the addon refused the login %q", a.Login)
		}
		return nil, fmt.Errorf("the addon at %s answered %s%s (%s)", a.URL, se.Status, hint, se.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch the addon's document: %w", err)
	}
	if a.MaxBytes > 0 {
		return &limitedBody{ReadCloser: body, left: a.MaxBytes, max: a.MaxBytes}, nil
	}
	return body, nil
}

// StatusError is an HTTP answer other than 200 to a document request.
type StatusError struct {
	URL    string // without credentials
	Code   int
	Status string // "404 Not Found"
	Body   string // the start of the answer, trimmed
}

func (e *StatusError) Error() string { return fmt.Sprintf("GET %s: %s (%s)", e.URL, e.Status, e.Body) }

// GetDocument GETs a planner document from a URL (an addon's or a
// gateway's /frepple/xml), with HTTP Basic when login is set; client nil
// means http.DefaultClient. The caller closes the body.
func GetDocument(ctx context.Context, client *http.Client, target, login, password string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("document request: %w", err)
	}
	if login != "" {
		req.SetBasicAuth(login, password)
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		head, _ := io.ReadAll(io.LimitReader(res.Body, 300))
		return nil, &StatusError{URL: req.URL.Redacted(), Code: res.StatusCode, Status: res.Status, Body: strings.TrimSpace(string(head))}
	}
	return res.Body, nil
}

// limitedBody ends a document larger than Addon.MaxBytes with an error.
type limitedBody struct {
	io.ReadCloser
	left, max int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.tooLarge()
	}
	if int64(len(p)) > l.left {
		p = p[:l.left+1] // one byte more tells a document of exactly the limit from a larger one
	}
	n, err := l.ReadCloser.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, l.tooLarge()
	}
	return n, err
}

func (l *limitedBody) tooLarge() error {
	return fmt.Errorf("the addon's document is larger than %d bytes", l.max)
}

// AddonError is a failure to get the addon's document (unreachable, an
// error answer, not a planner document): the fault of the other side.
type AddonError struct{ Err error }

func (e *AddonError) Error() string { return e.Err.Error() }
func (e *AddonError) Unwrap() error { return e.Err }

// CompareWithAddon is the migration check: it fetches the addon's
// document for database and p (A) while export writes plangate's
// document for the same parameters (B), so that the two are made at
// about the same moment, and compares them. Each document is read into
// its tree as it arrives. Failures of the addon's side are *AddonError.
func CompareWithAddon(ctx context.Context, a *Addon, database string, p Params, export func(context.Context, io.Writer) error, opts docdiff.Options) (*docdiff.Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		doc *docdiff.Document
		err error
	}
	addon := make(chan fetched, 1)
	go func() {
		body, err := a.Fetch(ctx, database, p)
		if err != nil {
			addon <- fetched{err: err}
			return
		}
		defer body.Close()
		d, err := docdiff.Read(body)
		if err != nil {
			err = fmt.Errorf("the addon's document: %w", err)
		}
		addon <- fetched{d, err}
	}()

	pr, pw := io.Pipe()
	exported := make(chan error, 1)
	go func() {
		err := export(ctx, pw)
		pw.CloseWithError(err) // nil: the reader sees the end of the document
		exported <- err
	}()
	mine, rerr := docdiff.Read(pr)
	if rerr != nil {
		pr.CloseWithError(rerr) // stops the export's writes
	}
	if eerr := <-exported; eerr != nil && (rerr == nil || !errors.Is(eerr, rerr)) {
		return nil, fmt.Errorf("plangate's export: %w", eerr)
	}
	if rerr != nil {
		return nil, fmt.Errorf("plangate's export: %w", rerr)
	}
	theirs := <-addon
	if theirs.err != nil {
		return nil, &AddonError{theirs.err}
	}
	return docdiff.Compare(theirs.doc, mine, opts)
}
