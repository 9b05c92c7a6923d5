package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/planimport"
	"github.com/plangate/plangate/store"
)

// errAnswered stops reading a body whose request has been answered.
var errAnswered = errors.New("request answered")

// handleImport serves POST /frepple/xml: the plan posted by frePPLe
// (spec §4). Nothing is written to Odoo before the caller is
// authenticated and the whole plan is read and validated: the announced
// size is checked first, the login before the plan's first byte is read,
// then the plan is spooled, parsed and checked. Under the lock of its
// database and company, the journal then tells a repost of the plan
// imported last (nothing written), a resume of a failed import, or a new
// import; only then does Odoo change (mode 1 first removes the old drafts).
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		s.writeError(w, r, markerImport, errTooLarge, false)
		return
	}
	s.uploadDeadlines(w)
	var c *caller
	login := func(fields map[string]string) error {
		var ok bool
		if c, ok = s.authenticate(w, r, formParam(r, fields)); !ok {
			return errAnswered
		}
		return nil
	}
	// The plan is spooled to a temporary file as it arrives, never held
	// in memory; it is read twice (hash, then parse) from there.
	form, err := readPlanForm(r.Body, r.Header.Get("Content-Type"), s.cfg.MaxBodyBytes, "", login)
	if errors.Is(err, errAnswered) {
		return
	}
	if err != nil {
		s.writeError(w, r, markerImport, err, false)
		return
	}
	defer form.Close()
	param := formParam(r, form.fields)
	if c == nil { // no plan part: the login still comes first
		if login(form.fields) != nil {
			return
		}
	}
	if !form.haveFile {
		s.writeError(w, r, markerImport, errBadRequest("%s", errNoPlan.Error()), false)
		return
	}
	mode := 1
	if v := param("mode"); v != "" {
		if mode, err = strconv.Atoi(v); err != nil || mode < 1 || mode > 3 {
			s.writeError(w, r, markerImport, errBadRequest("invalid mode %q", v), false)
			return
		}
	}
	o := planimport.Options{Mode: mode, FixD27: s.cfg.Fixes.D27, ResupplyPickings: s.cfg.Extensions.Has(export.ItemDistributions)}
	companyName := ""
	if c.Company != nil {
		o.CompanyID, companyName = c.Company.ID, c.Company.Name
	}
	if mode == 2 {
		o.ActualUser = param("actual_user")
	}
	plan, err := form.reader()
	if err != nil {
		s.writeError(w, r, markerImport, err, false)
		return
	}
	id, err := store.PlanIDFrom(c.Database, companyName, mode, plan)
	if err != nil {
		s.writeError(w, r, markerImport, err, false)
		return
	}
	// One import at a time per database and company: a mode-1 plan's
	// cleanup must see the proposals of the plan before it.
	// On etcd the lock holds across replicas and can be lost (lost ends).
	lost, unlock, err := store.Hold(r.Context(), s.cfg.Locker, "plan-import\x00"+c.Database+"\x00"+companyName)
	if errors.Is(err, store.ErrUnavailable) {
		s.writeError(w, r, markerImport, err, false) // etcd cannot be reached: 503, nothing written
		return
	}
	if err != nil {
		// Otherwise only the caller's context ends the wait: it went away (499).
		s.writeError(w, r, markerImport, &badRequest{Status: 499, Msg: "gave up waiting for the import before it: " + err.Error()}, false)
		return
	}
	defer unlock()
	j, fresh, err := s.journalEntry(id, c.Database, companyName, mode, form.size)
	if err != nil {
		s.writeError(w, r, markerImport, err, false)
		return
	}
	if j.Status == store.PlanDone {
		// The plan imported last, again: nothing to write; the first
		// answer and a line saying so.
		writeText(w, http.StatusOK, repostReply(j))
		return
	}
	im := &planimport.Importer{S: c.Session, Store: s.store, Log: s.log, Now: s.now}
	if plan, err = form.reader(); err != nil {
		s.writeError(w, r, markerImport, err, false)
		return
	}
	raw, err := planimport.Parse(plan)
	if err != nil {
		s.rejectPlan(w, r, err)
		return
	}
	loc := im.Location(r.Context())
	recs, err := im.Validate(r.Context(), raw, loc, o)
	if err != nil {
		s.rejectPlan(w, r, err)
		return
	}
	j.Records, j.Status, j.Error, j.Updated = len(recs), store.PlanApplying, "", s.now()
	j.Attempts++
	if err := s.saveJournal(j, fresh); err != nil {
		s.writeError(w, r, markerImport, err, false)
		return
	}
	// The plan is in: writing it to Odoo goes on if the caller hangs up,
	// rather than leaving it half applied; it stops if the lock is lost.
	ctx, stop := untilLost(context.WithoutCancel(r.Context()), lost)
	defer stop()
	reply, err := im.Apply(ctx, recs, j, o)
	if err != nil && lost.Err() != nil {
		// This replica's lease ran out: another may be resuming the plan
		// from the journal, so this one leaves the journal to it.
		s.writeError(w, r, markerImport, fmt.Errorf("import stopped: %w", context.Cause(lost)), false)
		return
	}
	if errors.Is(err, store.ErrUnavailable) {
		s.writeError(w, r, markerImport, err, false) // the journal cannot be written: 503
		return
	}
	if err != nil {
		j.Status, j.Error, j.Updated = store.PlanFailed, err.Error(), s.now()
		if serr := s.saveJournal(j, false); serr != nil {
			s.logFrom(ctx).Error("save plan journal", "plan", id, "err", serr)
		}
		// An Odoo fault midway: 502 whatever its kind, the journal has the rest.
		s.writeError(w, r, markerImport, &badRequest{Status: http.StatusBadGateway, Msg: err.Error(), Err: err}, s.disclose(c))
		return
	}
	j.Status, j.Reply, j.Updated = store.PlanDone, reply, s.now()
	if err := s.saveJournal(j, false); err != nil {
		s.logFrom(ctx).Error("save plan journal", "plan", id, "err", err)
	}
	s.metrics.observeImport(len(recs))
	s.logFrom(ctx).Info("plan imported", "plan", id, "mode", mode, "records", len(recs), "attempt", j.Attempts)
	writeText(w, http.StatusOK, reply)
}

// untilLost is ctx, ending also when the import lock is lost (with its
// cause); stop releases the watch.
func untilLost(ctx, lost context.Context) (context.Context, func()) {
	c, cancel := context.WithCancelCause(ctx)
	stopWatch := context.AfterFunc(lost, func() { cancel(context.Cause(lost)) })
	return c, func() {
		stopWatch()
		cancel(context.Canceled)
	}
}

// formParam reads a request parameter: the query, then the form fields.
func formParam(r *http.Request, fields map[string]string) func(string) string {
	return func(name string) string {
		if v := r.URL.Query().Get(name); v != "" {
			return v
		}
		return fields[name]
	}
}

// uploadDeadlines replaces the server's general read and write timeouts
// for a plan upload: a plan of hundreds of MB over a slow link takes
// longer to arrive than any other request may, and the reply comes only
// once Odoo has been written. The reply is a few lines the socket buffers
// whole, so writing it needs no deadline.
func (s *Server) uploadDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	// ErrNotSupported (a writer without deadlines): the server's own apply.
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.UploadTimeout))
	_ = rc.SetWriteDeadline(time.Time{})
}

// journalEntry decides what a posted plan is. A repost of the plan
// imported last for the database and company returns its done entry; a
// plan whose import failed, and which no other plan followed, resumes from
// its entry; anything else (a new plan, or an older one posted again after
// another) is imported afresh (fresh true). Without a store every plan is
// new.
func (s *Server) journalEntry(id, database, company string, mode int, size int64) (j *store.Plan, fresh bool, err error) {
	if s.store != nil {
		prev, found, err := s.store.Plan(id)
		if err != nil {
			return nil, false, err
		}
		head, known, err := s.store.PlanHead(database, company)
		if err != nil {
			return nil, false, err
		}
		// A file from before heads were kept has none: the entry itself is the latest.
		if found && (head == id || !known) {
			return prev, false, nil
		}
	}
	now := s.now()
	return &store.Plan{ID: id, Database: database, Company: company, Mode: mode, Bytes: int(size), Run: planimport.NewRun(),
		Status: store.PlanReceived, Received: now, Updated: now, Steps: map[string][]int{}, Counters: map[string]int{}}, true, nil
}

// saveJournal records the entry's header (steps are saved as they are
// done); a fresh entry replaces any earlier import of the same bytes and
// becomes the head of its database and company.
func (s *Server) saveJournal(j *store.Plan, fresh bool) error {
	if s.store == nil {
		return nil
	}
	if fresh {
		return s.store.StartPlan(j)
	}
	return s.store.SavePlanSteps(j, nil)
}

// rejectPlan answers a file that failed validation: 400 naming the record.
func (s *Server) rejectPlan(w http.ResponseWriter, r *http.Request, err error) {
	var ve *planimport.ValidationError
	if errors.As(err, &ve) {
		s.writeError(w, r, markerImport, errBadRequest("%s", ve.Error()), false)
		return
	}
	s.writeError(w, r, markerImport, err, false)
}

// repostReply answers a plan that was already imported: the reply of the
// import, then a line saying nothing was written this time.
func repostReply(p *store.Plan) string {
	return p.Reply + "\n" + fmt.Sprintf("Plan %.12s already imported at %s: nothing written", p.ID, p.Updated.UTC().Format(time.RFC3339))
}
