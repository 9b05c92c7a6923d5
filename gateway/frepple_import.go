package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/plangate/plangate/mappers/export"
	"github.com/plangate/plangate/mappers/planimport"
	"github.com/plangate/plangate/store"
)

// importLocks serialises imports of the same plan id, so concurrent
// reposts of one plan cannot both write.
var importLocks sync.Map // plan id → *sync.Mutex

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
	mu, _ := importLocks.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

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
	loc := im.Location(r.Context())
	recs, err := im.Validate(r.Context(), raw, loc, o)
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
	reply, err := im.Apply(r.Context(), recs, j, o)
	if err != nil {
		j.Status, j.Error, j.Updated = store.PlanFailed, err.Error(), s.now()
		if s.store != nil {
			if serr := s.store.SavePlan(j); serr != nil {
				s.logFrom(r.Context()).Error("save plan journal", "plan", id, "err", serr)
			}
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
