package gateway

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/store"
)

// Pages of GET /oms/runs.
const (
	defaultRunsPage = 50
	maxRunsPage     = 200
	// runsScanBudget bounds the stored runs one page request examines: a
	// filter that matches little answers a short page (or none) and a
	// cursor to go on, instead of reading the whole history at once.
	runsScanBudget = 5000
	// maxRunsParam bounds the text filters, which are matched exactly.
	maxRunsParam = 256
)

// runQuery is one page request of the run listing.
type runQuery struct {
	filter       oms.RunFilter
	since, until time.Time
	before       []byte // from the cursor: only runs before this position
	limit        int
}

// runPage is the answer of GET /oms/runs: runs newest first, and a cursor
// to the next page (none on the last).
type runPage struct {
	Runs []oms.RunSummary `json:"runs"`
	Next string           `json:"next,omitempty"`
}

// handleOMSRuns serves GET /oms/runs: the kept runs of the caller's
// database, newest first, filtered by organization, ticket, start time and
// outcome, one page at a time.
func (s *Server) handleOMSRuns(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	qv := r.URL.Query()
	c, ok := s.authenticateIn(w, r, qv.Get, styleJSON)
	if !ok {
		return
	}
	q, err := parseRunQuery(qv, c.Database)
	if err != nil {
		writeJSONMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	runs, next, err := s.omsRuns.list(q, runsScanBudget)
	if err != nil {
		s.writeJSONError(w, r, "listing the runs failed", err, false)
		return
	}
	page := runPage{Runs: runs}
	if next != nil {
		page.Next = base64.RawURLEncoding.EncodeToString(next)
	}
	writeJSON(w, http.StatusOK, page)
}

// parseRunQuery reads the listing's parameters; database scopes it.
func parseRunQuery(qv url.Values, database string) (runQuery, error) {
	q := runQuery{filter: oms.RunFilter{Database: database, Organization: qv.Get("organization"), Ticket: qv.Get("ticket")}, limit: defaultRunsPage}
	for _, p := range []string{"organization", "ticket", "cursor"} {
		if len(qv.Get(p)) > maxRunsParam {
			return q, fmt.Errorf("parameter %s: longer than %d bytes", p, maxRunsParam)
		}
	}
	if v := qv.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRunsPage {
			return q, fmt.Errorf("parameter limit: %q is not a number from 1 to %d", clip(v, 20), maxRunsPage)
		}
		q.limit = n
	}
	if v := qv.Get("fulfilled"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return q, fmt.Errorf("parameter fulfilled: %q is not true or false", clip(v, 20))
		}
		q.filter.Fulfilled = &b
	}
	var err error
	if q.since, err = parseRunTime("from", qv.Get("from")); err != nil {
		return q, err
	}
	if q.until, err = parseRunTime("to", qv.Get("to")); err != nil {
		return q, err
	}
	if v := qv.Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) < 8 {
			return q, fmt.Errorf("parameter cursor: not a cursor this listing gave")
		}
		q.before = b
	}
	return q, nil
}

// parseRunTime reads an RFC 3339 time or a date (midnight UTC).
func parseRunTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("parameter %s: %q is neither an RFC 3339 time nor a date (YYYY-MM-DD)", name, clip(v, 40))
}

// list returns one page of runs newest first and the position the next
// page starts from (nil: no more). Runs not yet in the store (queued, or
// being written) come from memory, so a run answered a moment ago is
// listed at once.
func (k *runKeeper) list(q runQuery, budget int) ([]oms.RunSummary, []byte, error) {
	type found struct {
		pos []byte
		sum oms.RunSummary
	}
	var cands []found
	k.mu.Lock()
	for _, kr := range k.pending {
		pos := store.OMSRunPosition(kr.run.Start, kr.run.ID)
		if q.selects(pos, kr.run.Start) && q.filter.Match(kr.sum) {
			cands = append(cands, found{pos, kr.sum})
		}
	}
	k.mu.Unlock()
	var stop []byte // where the store scan ended; nil: it saw every run
	if k.st != nil {
		matched := 0
		var err error
		stop, err = k.st.ScanOMSRuns(store.OMSRunScan{Before: q.before, Since: q.since, Until: q.until, Budget: budget}, func(e store.OMSRunEntry) (bool, error) {
			sum, err := entrySummary(e)
			if err != nil {
				k.log.Warn("a stored order-sourcing run cannot be listed", "run", e.ID, "err", err)
				return true, nil
			}
			if !q.filter.Match(sum) {
				return true, nil
			}
			cands = append(cands, found{bytes.Clone(e.Position), sum})
			matched++
			return matched <= q.limit, nil // one more than a page: then a next page exists
		})
		if err != nil {
			return nil, nil, err
		}
	}
	if stop != nil {
		// Runs in memory below where the scan stopped belong to a later page.
		cands = slices.DeleteFunc(cands, func(f found) bool { return bytes.Compare(f.pos, stop) < 0 })
	}
	slices.SortFunc(cands, func(a, b found) int { return bytes.Compare(b.pos, a.pos) })
	cands = slices.CompactFunc(cands, func(a, b found) bool { return bytes.Equal(a.pos, b.pos) }) // queued and already saved
	next := stop
	if len(cands) > q.limit {
		cands = cands[:q.limit]
		next = cands[len(cands)-1].pos
	}
	runs := make([]oms.RunSummary, len(cands))
	for i, f := range cands {
		runs[i] = f.sum
	}
	return runs, next, nil
}

// selects reports whether a run at pos, started at start, is in q's range.
func (q runQuery) selects(pos []byte, start time.Time) bool {
	return (q.before == nil || bytes.Compare(pos, q.before) < 0) &&
		(q.since.IsZero() || !start.Before(q.since)) && (q.until.IsZero() || start.Before(q.until))
}

// entrySummary is a stored run's summary, made from its document for runs
// stored before summaries were.
func entrySummary(e store.OMSRunEntry) (oms.RunSummary, error) {
	if e.Summary != nil {
		return oms.DecodeSummary(e.Summary)
	}
	r, err := oms.DecodeRun(e.Doc)
	if err != nil {
		return oms.RunSummary{}, err
	}
	return r.Summary(), nil
}
