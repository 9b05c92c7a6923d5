package oms

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RunSummary is a run as a listing shows it: enough to find the run worth
// opening without reading its rules and groups.
type RunSummary struct {
	ID         string `json:"id"`
	TicketID   string `json:"ticket"`
	TicketDate string `json:"ticketDate,omitempty"`
	// Database scopes the listing; callers see their database's runs only.
	Database     string        `json:"-"`
	Organization Ref           `json:"organization"`
	Start        time.Time     `json:"start"`
	Duration     time.Duration `json:"duration_ns"`
	Fulfilled    bool          `json:"fulfilled"`
	Lines        int           `json:"lines"`
	Allocations  int           `json:"allocations"`
}

// Summary is what a listing shows of r.
func (r *Run) Summary() RunSummary {
	return RunSummary{ID: r.ID, TicketID: r.TicketID, TicketDate: r.TicketDate, Database: r.Database,
		Organization: r.Organization, Start: r.Start, Duration: r.Duration, Fulfilled: r.Fulfilled,
		Lines: len(r.Lines), Allocations: len(r.Allocations)}
}

// summaryForm tags a stored summary, so that its shape can change.
const summaryForm = 'S'

// EncodeSummary writes a summary for storage beside its run.
func EncodeSummary(s RunSummary) []byte {
	w := runWriter{b: make([]byte, 0, 64+len(s.ID)+len(s.TicketID)+len(s.Database)+len(s.Organization.Identifier)),
		strs: map[string]int{}, refs: map[int]int{}}
	w.b = append(w.b, summaryForm)
	w.str(s.ID)
	w.str(s.TicketID)
	w.str(s.TicketDate)
	w.str(s.Database)
	w.ref(s.Organization)
	w.time(s.Start)
	w.varint(int64(s.Duration))
	w.bool(s.Fulfilled)
	w.uvarint(uint64(s.Lines))
	w.uvarint(uint64(s.Allocations))
	return w.b
}

// DecodeSummary reads what EncodeSummary writes.
func DecodeSummary(b []byte) (RunSummary, error) {
	if len(b) == 0 || b[0] != summaryForm {
		return RunSummary{}, fmt.Errorf("stored run summary: unknown form")
	}
	rd := runReader{b: b[1:]}
	s := RunSummary{ID: rd.str(), TicketID: rd.str(), TicketDate: rd.str(), Database: rd.str(), Organization: rd.ref(),
		Start: rd.time(), Duration: time.Duration(rd.varint()), Fulfilled: rd.bool()}
	lines, allocs := rd.uvarint(), rd.uvarint()
	if rd.err != nil || len(rd.b) != 0 || lines > MaxLines || allocs > 1<<20 {
		return RunSummary{}, fmt.Errorf("stored run summary: %w", errBadRun)
	}
	s.Lines, s.Allocations = int(lines), int(allocs)
	return s, nil
}

// RunFilter selects runs of a listing. Empty fields select everything.
type RunFilter struct {
	Database string
	// Organization is the organization's id, search key or name.
	Organization string
	// Ticket is a ticket id, exactly.
	Ticket string
	// Fulfilled, when set, keeps the runs that did (or did not) place
	// every line.
	Fulfilled *bool
}

// Match reports whether f selects s.
func (f RunFilter) Match(s RunSummary) bool {
	if s.Database != f.Database || f.Ticket != "" && s.TicketID != f.Ticket {
		return false
	}
	if f.Fulfilled != nil && s.Fulfilled != *f.Fulfilled {
		return false
	}
	if o := f.Organization; o != "" {
		id, err := strconv.Atoi(o)
		byID := err == nil && id == s.Organization.ID
		if !byID && !strings.EqualFold(o, s.Organization.SearchKey) && !strings.EqualFold(o, s.Organization.Identifier) {
			return false
		}
	}
	return true
}
