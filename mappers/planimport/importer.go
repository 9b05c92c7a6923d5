// Package planimport writes a plan posted by frePPLe into Odoo over
// XML-RPC with the results of the frePPLe addon's importer (spec §4):
// RFQs, transfers, manufacturing orders and their work orders. The whole
// file is validated before the first write; writes are batched and
// journaled so a repost or a retry after a failure writes nothing twice.
package planimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
	"github.com/plangate/plangate/xmlschema"
)

// odooTime is the datetime format Odoo takes over XML-RPC (UTC).
const odooTime = "2006-01-02 15:04:05"

// Options of one import.
type Options struct {
	Mode       int    // 1 complete plan, 2 incremental, 3 further pages
	ActualUser string // login; mode 2 only
	CompanyID  int    // 0 when the request named no company
	// FixD27 corrects defect D27. RFQ lines are in the product's purchase
	// UoM, as Odoo's _prepare_purchase_order_line makes them; when mode 2
	// merges several proposals into one line the addon adds the later
	// quantities in the frePPLe UoM unconverted, and so does plangate by
	// default. With FixD27 the merged total is converted.
	FixD27 bool
	// OneByOne writes one call per record instead of batches (benchmark
	// baseline).
	OneByOne bool
	// ResupplyPickings turns a distribution order between warehouses that
	// one of Odoo's routes links into the pickings Odoo makes for that
	// route (resupply.go) instead of the addon's internal transfer.
	ResupplyPickings bool
}

// ValidationError rejects a file before anything is written.
type ValidationError struct {
	Element string
	Line    int
	Name    string
	Msg     string
}

func (e *ValidationError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("%s %q (line %d): %s", e.Element, e.Name, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s (line %d): %s", e.Element, e.Line, e.Msg)
}

// Importer applies plans through one Odoo session.
type Importer struct {
	S     *odoo.Session
	Store *store.Store
	Log   *slog.Logger
	Now   func() time.Time
	// BatchSize bounds the records of one create call (0: 500).
	BatchSize int
}

// record is a validated operationplan.
type record struct {
	*xmlschema.PlanRecord
	Index     int
	Type      string // PO, DO, WO, MO
	Status    string
	UoM       int
	Product   int
	Qty       float64
	QtyRaw    string
	Start     time.Time // UTC
	End       time.Time // UTC
	HasStart  bool
	HasEnd    bool
	Supplier  int
	Warehouse int
	Origin    string
	Workorder []workorderData
	Resources []int
}

type workorderData struct {
	ID          int
	Start, End  time.Time
	HasS, HasE  bool
	Workcenters []resourceData
}

type resourceData struct {
	ID  int
	Qty float64
}

// Parse reads all operationplans of a plan file as a stream.
func Parse(r io.Reader) ([]*xmlschema.PlanRecord, error) {
	pr := xmlschema.NewPlanReader(r)
	var out []*xmlschema.PlanRecord
	for {
		rec, err := pr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			var se *xmlschema.PlanSyntaxError
			if errors.As(err, &se) {
				return nil, &ValidationError{Element: "plan", Line: se.Line, Msg: se.Msg}
			}
			return nil, err
		}
		out = append(out, rec)
	}
}

// Location returns the connector user's time zone (UTC when unset).
func (im *Importer) Location(ctx context.Context) *time.Location {
	recs, err := im.S.Read(ctx, "res.users", []int{im.S.UID}, odoo.Query{Fields: []string{"tz"}})
	if err != nil || len(recs) == 0 {
		return time.UTC
	}
	loc, err := time.LoadLocation(recs[0].String("tz"))
	if err != nil || recs[0].String("tz") == "" {
		return time.UTC
	}
	return loc
}

func lastInt(s, sep string) (int, error) {
	i := strings.LastIndex(s, sep)
	return strconv.Atoi(strings.TrimSpace(s[i+len(sep):]))
}

// Validate checks every record and resolves the ids it names against
// Odoo with bulk reads. The first problem is returned as a
// *ValidationError naming the record.
func (im *Importer) Validate(ctx context.Context, raw []*xmlschema.PlanRecord, loc *time.Location, o Options) ([]*record, error) {
	recs, ids, err := checkRecords(raw, loc)
	if err != nil {
		return nil, err
	}
	if err := im.resolve(ctx, recs, ids, o); err != nil {
		return nil, err
	}
	return recs, nil
}

// named are the Odoo ids a plan names, to check in bulk.
type named struct {
	products, partners, workcenters, warehouses map[int]bool
}

// maxQuantity bounds every quantity: more is no order anyone places, and
// Odoo's amounts (price × quantity) would lose all precision.
const maxQuantity = 1e12

// quantity parses a quantity: a finite number, positive unless zero is
// allowed, at most maxQuantity.
func quantity(v string, zeroOK bool) (float64, error) {
	q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	switch {
	case err != nil || math.IsNaN(q) || math.IsInf(q, 0):
		return 0, fmt.Errorf("bad quantity %q", v)
	case q < 0 || q == 0 && !zeroOK:
		return 0, fmt.Errorf("bad quantity %q: it must be greater than 0", v)
	case q > maxQuantity:
		return 0, fmt.Errorf("bad quantity %q: more than %g", v, float64(maxQuantity))
	}
	return q, nil
}

// checkRecords is the part of validation that needs no Odoo: attribute
// syntax, dates from the user's zone loc to UTC, ids collected.
func checkRecords(raw []*xmlschema.PlanRecord, loc *time.Location) ([]*record, named, error) {
	recs := make([]*record, 0, len(raw))
	products, partners, wcs, whs := map[int]bool{}, map[int]bool{}, map[int]bool{}, map[int]bool{}
	ids := named{products, partners, wcs, whs}
	bad := func(r *xmlschema.PlanRecord, format string, a ...any) error {
		return &ValidationError{Element: "operationplan", Line: r.Line, Name: r.Name(), Msg: fmt.Sprintf(format, a...)}
	}
	parseDate := func(v string, l *time.Location) (time.Time, error) {
		// Exactly YYYY-MM-DD HH:MM:SS, like the addon's strptime: Go
		// would also take fractional seconds and drop them.
		if len(v) != len(odooTime) {
			return time.Time{}, fmt.Errorf("date %q is not %s", v, odooTime)
		}
		t, err := time.ParseInLocation(odooTime, v, l)
		return t.UTC(), err
	}
	for i, pr := range raw {
		r := &record{PlanRecord: pr, Index: i, Status: pr.Attr("status")}
		switch t := pr.Attr("ordertype"); t {
		case "PO", "DO", "WO", "MO":
			r.Type = t
		case "":
			r.Type = "MO"
		default:
			return nil, ids, bad(pr, "unknown ordertype %q", t)
		}
		switch r.Status {
		case "", "proposed", "approved", "confirmed":
		default:
			if r.Type != "DO" && r.Type != "WO" {
				return nil, ids, bad(pr, "unknown status %q", r.Status)
			}
		}
		uom, prod, ok := strings.Cut(pr.Attr("item_id"), ",")
		var err1, err2 error
		r.UoM, err1 = strconv.Atoi(strings.TrimSpace(uom))
		r.Product, err2 = strconv.Atoi(strings.TrimSpace(prod))
		if !ok || err1 != nil || err2 != nil {
			return nil, ids, bad(pr, "item_id %q is not <uom id>,<product id>", pr.Attr("item_id"))
		}
		products[r.Product] = true
		r.QtyRaw = pr.Attr("quantity")
		q, err := quantity(r.QtyRaw, false)
		if err != nil {
			return nil, ids, bad(pr, "%v", err)
		}
		r.Qty = q
		dloc := loc // MO dates too: D26 (the addon leaves them unconverted) is fixed
		if v := pr.Attr("start"); v != "" {
			if r.Start, err = parseDate(v, dloc); err != nil {
				return nil, ids, bad(pr, "bad start date %q", v)
			}
			r.HasStart = true
		}
		if v := pr.Attr("end"); v != "" {
			eloc := dloc
			if r.Type == "WO" {
				eloc = time.UTC // the addon stores a WO record's end unconverted (golden_import)
			}
			if r.End, err = parseDate(v, eloc); err != nil {
				return nil, ids, bad(pr, "bad end date %q", v)
			}
			r.HasEnd = true
		}
		if v := pr.Attr("location_id"); v != "" {
			if r.Warehouse, err = strconv.Atoi(v); err != nil {
				return nil, ids, bad(pr, "bad location_id %q", v)
			}
			whs[r.Warehouse] = true
		}
		r.Origin = "frePPLe"
		if rm := pr.Attr("remark"); rm != "" {
			r.Origin = "frePPLe - " + rm
		}
		switch r.Type {
		case "PO":
			if r.Status == "approved" || r.Status == "confirmed" {
				if _, err := lastInt(pr.Attr("id"), " - "); err != nil {
					return nil, ids, bad(pr, "id %q does not end with a purchase order line id", pr.Attr("id"))
				}
				break
			}
			if r.Supplier, err = lastInt(pr.Attr("supplier"), " "); err != nil {
				return nil, ids, bad(pr, "supplier %q does not end with a partner id", pr.Attr("supplier"))
			}
			partners[r.Supplier] = true
			if !r.HasEnd || !r.HasStart {
				return nil, ids, bad(pr, "purchase proposal without start or end")
			}
		case "DO":
			if pr.Attr("origin") == "" || pr.Attr("destination") == "" {
				return nil, ids, bad(pr, "distribution order without origin or destination")
			}
		case "MO":
			if r.Status == "" || r.Status == "proposed" {
				if _, err := lastInt(pr.Attr("operation"), " "); err != nil {
					return nil, ids, bad(pr, "operation %q does not end with a bill of materials id", pr.Attr("operation"))
				}
			}
			for _, w := range pr.Workorders {
				wd := workorderData{}
				if wd.ID, err = lastInt(w.Operation, "- "); err != nil {
					return nil, ids, &ValidationError{Element: "workorder", Line: w.Line, Name: w.Operation, Msg: "operation does not end with an id"}
				}
				if w.Start != "" {
					if wd.Start, err = parseDate(w.Start, loc); err != nil {
						return nil, ids, &ValidationError{Element: "workorder", Line: w.Line, Name: w.Operation, Msg: fmt.Sprintf("bad start date %q", w.Start)}
					}
					wd.HasS = true
				}
				if w.End != "" {
					if wd.End, err = parseDate(w.End, loc); err != nil {
						return nil, ids, &ValidationError{Element: "workorder", Line: w.Line, Name: w.Operation, Msg: fmt.Sprintf("bad end date %q", w.End)}
					}
					wd.HasE = true
				}
				for _, res := range w.Resources {
					id, err := strconv.Atoi(res.ID)
					if err != nil {
						return nil, ids, &ValidationError{Element: "resource", Line: res.Line, Name: res.Name, Msg: fmt.Sprintf("bad workcenter id %q", res.ID)}
					}
					qty := 0.0
					if res.Quantity != "" {
						if qty, err = quantity(res.Quantity, true); err != nil {
							return nil, ids, &ValidationError{Element: "resource", Line: res.Line, Name: res.Name, Msg: err.Error()}
						}
					}
					wcs[id] = true
					wd.Workcenters = append(wd.Workcenters, resourceData{ID: id, Qty: qty})
				}
				r.Workorder = append(r.Workorder, wd)
			}
		case "WO":
			if !r.HasStart || !r.HasEnd {
				return nil, ids, bad(pr, "work order without start or end")
			}
			for _, res := range pr.Resources {
				id, err := strconv.Atoi(res.ID)
				if err != nil {
					return nil, ids, &ValidationError{Element: "resource", Line: res.Line, Name: res.Name, Msg: fmt.Sprintf("bad workcenter id %q", res.ID)}
				}
				wcs[id] = true
				r.Resources = append(r.Resources, id)
			}
		}
		recs = append(recs, r)
	}
	return recs, ids, nil
}

// resolve checks that the ids the records name exist in Odoo, and that
// their warehouses belong to the posting company.
func (im *Importer) resolve(ctx context.Context, recs []*record, ids named, o Options) error {
	products, partners, wcs := ids.products, ids.partners, ids.workcenters
	if err := im.warehouses(ctx, recs, ids.warehouses, o.CompanyID); err != nil {
		return err
	}
	bad := func(r *xmlschema.PlanRecord, format string, a ...any) error {
		return &ValidationError{Element: "operationplan", Line: r.Line, Name: r.Name(), Msg: fmt.Sprintf(format, a...)}
	}
	if err := im.exist(ctx, "product.product", products, recs, func(r *record) int { return r.Product }, "unknown product id %d"); err != nil {
		return err
	}
	if err := im.exist(ctx, "res.partner", partners, recs, func(r *record) int { return r.Supplier }, "unknown supplier id %d"); err != nil {
		return err
	}
	if len(wcs) > 0 {
		found, err := im.existing(ctx, "mrp.workcenter", wcs)
		if err != nil {
			return err
		}
		for _, r := range recs {
			for _, w := range r.Workorder {
				for _, wc := range w.Workcenters {
					if !found[wc.ID] {
						return bad(r.PlanRecord, "unknown workcenter id %d", wc.ID)
					}
				}
			}
			for _, id := range r.Resources {
				if !found[id] {
					return bad(r.PlanRecord, "unknown workcenter id %d", id)
				}
			}
		}
	}
	return nil
}

// warehouses checks the location_id of every record: an existing
// stock.warehouse (archived ones too) of the company the plan was posted
// for. The addon would write such records with another warehouse's or no
// picking type; here they are refused.
func (im *Importer) warehouses(ctx context.Context, recs []*record, ids map[int]bool, company int) error {
	if len(ids) == 0 {
		return nil
	}
	all := make([]any, 0, len(ids))
	for id := range ids {
		all = append(all, id)
	}
	whs, err := im.S.SearchRead(ctx, "stock.warehouse", odoo.Domain{odoo.Term("id", "in", all)},
		odoo.Query{Fields: []string{"name", "company_id"}, Context: odoo.Context{"active_test": false}})
	if err != nil {
		return fmt.Errorf("check stock.warehouse ids: %w", err)
	}
	found := map[int]odoo.Record{}
	for _, w := range whs {
		found[w.ID()] = w
	}
	for _, r := range recs {
		if r.PlanRecord.Attr("location_id") == "" {
			continue
		}
		w, ok := found[r.Warehouse]
		switch {
		case !ok:
			return &ValidationError{Element: "operationplan", Line: r.Line, Name: r.Name(), Msg: fmt.Sprintf("unknown location_id %d: no such warehouse", r.Warehouse)}
		case company != 0 && w.M2OID("company_id") != company:
			return &ValidationError{Element: "operationplan", Line: r.Line, Name: r.Name(),
				Msg: fmt.Sprintf("location_id %d is warehouse %q of %s, not of the company the plan was posted for", r.Warehouse, w.String("name"), w.M2OName("company_id"))}
		}
	}
	return nil
}

// existing returns which of ids exist in model (one search per 1000 ids).
func (im *Importer) existing(ctx context.Context, model string, ids map[int]bool) (map[int]bool, error) {
	all := make([]any, 0, len(ids))
	for id := range ids {
		all = append(all, id)
	}
	found := map[int]bool{}
	for i := 0; i < len(all); i += 1000 {
		j := min(i+1000, len(all))
		got, err := im.S.Search(ctx, model, odoo.Domain{odoo.Term("id", "in", all[i:j])}, odoo.Query{Context: odoo.Context{"active_test": false}})
		if err != nil {
			return nil, fmt.Errorf("check %s ids: %w", model, err)
		}
		for _, id := range got {
			found[id] = true
		}
	}
	return found, nil
}

func (im *Importer) exist(ctx context.Context, model string, ids map[int]bool, recs []*record, key func(*record) int, msg string) error {
	if len(ids) == 0 {
		return nil
	}
	found, err := im.existing(ctx, model, ids)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if k := key(r); k != 0 && !found[k] {
			return &ValidationError{Element: "operationplan", Line: r.Line, Name: r.Name(), Msg: fmt.Sprintf(msg, k)}
		}
	}
	return nil
}

// run is the state of one Apply.
type run struct {
	im   *Importer
	o    Options
	j    *store.Plan
	recs []*record
	s    *odoo.Session // acting session (actual user in mode 2)
	// reply counters
	procurement, mfgCount int
	messages              []string
	moByRef               map[string]int
	actualUser            int  // res.users id responsible in mode 2
	resume                bool // an earlier attempt may have left unjournaled records
}

// done reports whether a journal step exists.
func (r *run) done(key string) ([]int, bool) {
	ids, ok := r.j.Steps[key]
	return ids, ok
}

// mark records a finished step and saves the journal.
func (r *run) mark(keys []string, ids [][]int) error {
	for i, k := range keys {
		r.j.Steps[k] = ids[i]
	}
	r.j.Updated = r.im.now()
	if r.im.Store == nil {
		return nil
	}
	return r.im.Store.SavePlanSteps(r.j, keys)
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now().UTC()
	}
	return time.Now().UTC()
}

// written counts the Odoo records the run created or changed so far (the
// journal's steps hold their ids).
func (r *run) written() int {
	n := 0
	for _, ids := range r.j.Steps {
		n += len(ids)
	}
	return n
}

func (im *Importer) logger() *slog.Logger {
	if im.Log != nil {
		return im.Log
	}
	return slog.Default()
}

func (im *Importer) batch() int {
	if im.BatchSize > 0 {
		return im.BatchSize
	}
	return 500
}

// createAll creates vals in batches (or one by one), recording each
// batch's ids under its keys in the journal, and returns the ids in the
// order of keys. Records of a marked model carry the run's marker in
// their origin until their ids are journaled; on a resume, children an
// earlier attempt created are taken instead of created again (resume.go).
func (r *run) createAll(ctx context.Context, spec createSpec, keys []string, vals []map[string]any) ([]int, error) {
	ids := make([]int, len(vals))
	pending := make([]int, 0, len(vals)) // indexes still to create
	claimed, err := r.claimChildren(ctx, spec, keys, vals)
	if err != nil {
		return nil, err
	}
	for i := range vals {
		if id, ok := claimed[i]; ok {
			ids[i] = id
			continue
		}
		pending = append(pending, i)
	}
	size := r.im.batch()
	if r.o.OneByOne {
		size = 1
	}
	for b := 0; b < len(pending); b += size {
		batch := pending[b:min(b+size, len(pending))]
		bv := make([]map[string]any, len(batch))
		for k, i := range batch {
			bv[k] = vals[i]
			if spec.marked {
				bv[k] = r.withMarker(vals[i], keys[i])
			}
		}
		var got []int
		if len(bv) == 1 {
			id, err := r.s.Create(ctx, spec.model, bv[0])
			if err != nil {
				return nil, fmt.Errorf("create %s: %w", spec.model, err)
			}
			got = []int{id}
		} else {
			if got, err = r.s.CreateMulti(ctx, spec.model, bv); err != nil {
				return nil, fmt.Errorf("create %d %s: %w", len(bv), spec.model, err)
			}
		}
		bk := make([]string, len(batch))
		idl := make([][]int, len(batch))
		origins := make([]string, len(batch))
		for k, i := range batch {
			ids[i], bk[k], idl[k] = got[k], keys[i], []int{got[k]}
			origins[k] = fmt.Sprint(vals[i]["origin"])
		}
		if err := r.mark(bk, idl); err != nil {
			return nil, err
		}
		if spec.marked {
			if err := r.unmark(ctx, spec.model, got, origins); err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

// Apply writes validated records into Odoo, resuming from the journal j,
// and returns the reply body. On an Odoo failure the journal keeps what
// was done and the error is returned. j.Attempts counts this attempt
// (the caller saves it first): above 1, Apply first finds in Odoo the
// records an earlier attempt created whose ids it could not journal (a
// reply lost after Odoo committed), so nothing is created twice.
func (im *Importer) Apply(ctx context.Context, recs []*record, j *store.Plan, o Options) (string, error) {
	if j.Steps == nil {
		j.Steps = map[string][]int{}
	}
	if j.Counters == nil {
		j.Counters = map[string]int{}
	}
	if j.Run == "" {
		j.Run = NewRun()
	}
	r := &run{im: im, o: o, j: j, recs: recs, s: im.S, moByRef: map[string]int{}, resume: j.Attempts > 1}
	if r.resume {
		if err := r.recoverMarked(ctx); err != nil {
			return "", err
		}
	}
	if o.Mode == 2 && o.ActualUser != "" {
		ids, err := im.S.Search(ctx, "res.users", odoo.Domain{odoo.Term("login", "=", o.ActualUser)}, odoo.Query{Limit: 1})
		if err != nil {
			return "", fmt.Errorf("find actual user %s: %w", o.ActualUser, err)
		}
		if len(ids) > 0 {
			r.actualUser = ids[0]
		}
	}
	if o.Mode == 1 {
		if err := r.cleanup(ctx); err != nil {
			return "", err
		}
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"purchase updates", r.purchaseUpdates}, {"purchase orders", r.purchaseCreates},
		{"transfers", r.distribution}, {"manufacturing orders", r.manufacturing}, {"work orders", r.workorders},
	}
	for _, step := range steps {
		t0, before := time.Now(), r.written()
		if err := step.fn(ctx); err != nil {
			return "", err
		}
		// Progress of long imports: one line per step.
		n, took := r.written()-before, time.Since(t0)
		im.logger().Info("plan import step done", "step", step.name, "records", n, "duration", took.Round(time.Millisecond),
			"records_per_s", int(float64(n)/max(took.Seconds(), 1e-6)))
	}
	return r.reply(), nil
}
