package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/plangate/plangate/mappers/planimport"
	"github.com/plangate/plangate/store"
)

// localImportLocks serialises imports in a gateway without a store.
var localImportLocks = store.NewLocalLocker()

// lockImport serialises imports: mode 1 (which first removes the drafts
// of earlier plans) per database and company, other modes per plan, so
// concurrent posts and reposts never interleave their writes. With a
// store the lock holds across every replica sharing it. The work must
// use the returned context: it ends if the lock is lost.
func (s *Server) lockImport(ctx context.Context, id, database, company string, mode int) (context.Context, func(), error) {
	key := "plan/" + id
	if mode == 1 {
		key = "import-mode1/" + database + "/" + company
	}
	locks := localImportLocks
	if s.store != nil {
		locks = s.store.Locker()
	}
	held, unlock, err := locks.Lock(ctx, key)
	if err != nil {
		return nil, nil, fmt.Errorf("wait for other imports of %s: %w", key, err)
	}
	return held, unlock, nil
}

// handleImport serves POST /frepple/xml: the plan posted by frePPLe
// (spec §4). The file is validated in full before the first write; the
// writes are journaled in the store so a repost or retry writes nothing
// twice.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	// The plan is spooled to a temporary file as it arrives, never held
	// in memory; it is read twice (hash, then parse) from there.
	form, err := readPlanForm(r.Body, r.Header.Get("Content-Type"), s.cfg.MaxBodyBytes, "")
	if err != nil {
		s.writeError(w, r, markerImport, err, false)
		return
	}
	defer form.Close()
	param := func(name string) string {
		if v := r.URL.Query().Get(name); v != "" {
			return v
		}
		return form.fields[name]
	}
	c, ok := s.authenticate(w, r, param)
	if !ok {
		return
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
	o := planimport.Options{Mode: mode, FixD27: s.cfg.Fixes.D27}
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
	ctx, unlock, err := s.lockImport(r.Context(), id, c.Database, companyName, mode)
	if err != nil {
		s.writeError(w, r, markerImport, err, false)
		return
	}
	defer unlock()

	j := &store.Plan{ID: id, Database: c.Database, Company: companyName, Mode: mode, Bytes: int(form.size),
		Status: store.PlanReceived, Received: s.now(), Updated: s.now(), Steps: map[string][]int{}, Counters: map[string]int{}}
	if s.store != nil {
		prev, found, err := s.store.Plan(id)
		if err != nil {
			s.writeError(w, r, markerImport, err, false)
			return
		}
		if found && prev.Status == store.PlanDone {
			// The same plan again: nothing to write; the first answer
			// and a line saying so.
			writeText(w, http.StatusOK, repostReply(prev))
			return
		}
		if found {
			j = prev
		}
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
	loc := im.Location(ctx)
	recs, err := im.Validate(ctx, raw, loc, o)
	if err != nil {
		s.rejectPlan(w, r, err)
		return
	}
	j.Records, j.Status, j.Error = len(recs), store.PlanApplying, ""
	if s.store != nil {
		if err := s.store.SavePlan(j); err != nil {
			s.writeError(w, r, markerImport, err, false)
			return
		}
	}
	reply, err := im.Apply(ctx, recs, j, o)
	if err != nil && ctx.Err() != nil && r.Context().Err() == nil {
		// The lock was lost (this replica's lease ran out): another
		// replica may be resuming the plan, so this one leaves the
		// journal to it.
		s.writeError(w, r, markerImport, fmt.Errorf("import stopped: %w", context.Cause(ctx)), false)
		return
	}
	if err != nil {
		j.Status, j.Error, j.Updated = store.PlanFailed, err.Error(), s.now()
		if s.store != nil {
			if serr := s.store.SavePlan(j); serr != nil {
				s.logFrom(r.Context()).Error("save plan journal", "plan", id, "err", serr)
			}
		}
		if errors.Is(err, store.ErrUnavailable) {
			s.writeError(w, r, markerImport, err, false) // the journal could not be written: 503
			return
		}
		// An Odoo fault midway: 502 whatever its kind, the journal has the rest.
		s.writeError(w, r, markerImport, &badRequest{Status: http.StatusBadGateway, Msg: err.Error()}, s.disclose(c))
		return
	}
	j.Status, j.Reply, j.Updated = store.PlanDone, reply, s.now()
	if s.store != nil {
		if err := s.store.SavePlan(j); err != nil {
			s.logFrom(r.Context()).Error("save plan journal", "plan", id, "err", err)
		}
	}
	s.metrics.observeImport(len(recs))
	s.logFrom(r.Context()).Info("plan imported", "plan", id, "mode", mode, "records", len(recs))
	writeText(w, http.StatusOK, reply)
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
