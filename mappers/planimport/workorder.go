package planimport

import (
	"context"
	"fmt"
	"strconv"

	"github.com/plangate/plangate/mappers/odoo"
)

var woFields = []string{"operation_id", "workcenter_id", "duration_expected", "display_name"}

// workcenterOwners maps workcenter id → its owner (pool) id; 0 when the
// database has no owner field.
func (r *run) workcenterOwners(ctx context.Context, ids []int) map[int]int {
	out := map[int]int{}
	if len(ids) == 0 {
		return out
	}
	recs, err := r.s.Read(ctx, "mrp.workcenter", ids, odoo.Query{Fields: []string{"owner"}})
	if err != nil {
		return out // no pools in this database
	}
	for _, w := range recs {
		out[w.ID()] = w.M2OID("owner")
	}
	return out
}

// moWorkorders applies the <workorder> records of an MO element: dates
// and workcenters (primary when the resource is a member of the WO's
// pool, else a secondary workcenter).
func (r *run) moWorkorders(ctx context.Context, rec *record, mo int, created bool) error {
	k := "mowo:" + strconv.Itoa(rec.Index)
	if _, ok := r.done(k); ok {
		return nil
	}
	wos, err := r.s.SearchRead(ctx, "mrp.workorder", odoo.Domain{odoo.Term("production_id", "=", mo)}, odoo.Query{Fields: woFields})
	if err != nil {
		return fmt.Errorf("read work orders of %s: %w", rec.Name(), err)
	}
	var wcIDs []int
	for _, wd := range rec.Workorder {
		for _, wc := range wd.Workcenters {
			wcIDs = append(wcIDs, wc.ID)
		}
	}
	owner := r.workcenterOwners(ctx, wcIDs)
	var secondary []map[string]any
	for _, wo := range wos {
		match := wo.ID()
		if created {
			match = wo.M2OID("operation_id")
		}
		for _, wd := range rec.Workorder {
			if wd.ID != match {
				continue
			}
			v := map[string]any{}
			if wd.HasS {
				v["date_start"] = wd.Start.Format(odooTime)
			}
			if wd.HasE {
				v["date_finished"] = wd.End.Format(odooTime)
			}
			cur := wo.M2OID("workcenter_id")
			for _, wc := range wd.Workcenters {
				switch {
				case wc.ID == cur:
				case owner[wc.ID] != 0 && owner[wc.ID] == cur:
					v["workcenter_id"] = wc.ID
				default:
					secondary = append(secondary, map[string]any{
						"workcenter_id": wc.ID, "workorder_id": wo.ID(), "duration": wc.Qty * wo.Float("duration_expected"),
					})
				}
			}
			if len(v) > 0 {
				if err := r.s.Write(ctx, "mrp.workorder", []int{wo.ID()}, v); err != nil {
					return fmt.Errorf("schedule work order %d of %s: %w", wo.ID(), rec.Name(), err)
				}
			}
		}
	}
	if secondary, err = r.newSecondaries(ctx, secondary); err != nil {
		return err
	}
	var ids []int
	if len(secondary) > 0 {
		if ids, err = r.s.CreateMulti(ctx, "mrp.workorder.secondary.workcenter", secondary); err != nil {
			return fmt.Errorf("secondary workcenters of %s: %w", rec.Name(), err)
		}
	}
	return r.mark([]string{k}, [][]int{ids})
}

// workorders reschedules WO records (spec §4.6.5); not counted in the reply.
func (r *run) workorders(ctx context.Context) error {
	for _, rec := range r.recs {
		if rec.Type != "WO" {
			continue
		}
		k := "wo:" + strconv.Itoa(rec.Index)
		if _, ok := r.done(k); ok {
			continue
		}
		own := rec.Attr("owner")
		mo := r.moByRef[own]
		if mo == 0 {
			ids, err := r.s.Search(ctx, "mrp.production", odoo.Domain{odoo.Term("name", "=", own)}, odoo.Query{Limit: 1})
			if err != nil {
				return fmt.Errorf("find mrp.production %s: %w", own, err)
			}
			if len(ids) == 0 {
				r.messages = append(r.messages, fmt.Sprintf("Manufacturing order %s not found", own))
				continue
			}
			mo = ids[0]
		}
		wos, err := r.s.SearchRead(ctx, "mrp.workorder", odoo.Domain{odoo.Term("production_id", "=", mo), odoo.Term("state", "in", []any{"pending", "waiting", "ready"})}, odoo.Query{Fields: woFields})
		if err != nil {
			return fmt.Errorf("read work orders of %s: %w", own, err)
		}
		var wo odoo.Record
		for _, w := range wos {
			if w.String("display_name") == rec.Attr("reference") {
				wo = w
				break
			}
		}
		if wo == nil {
			if err := r.mark([]string{k}, [][]int{{}}); err != nil {
				return err
			}
			continue
		}
		v := map[string]any{"date_start": rec.Start.Format(odooTime), "date_finished": rec.End.Format(odooTime)}
		owner := r.workcenterOwners(ctx, rec.Resources)
		cur := wo.M2OID("workcenter_id")
		for _, wc := range rec.Resources {
			if wc == cur || owner[wc] == cur || cur == 0 {
				v["workcenter_id"] = wc
			}
		}
		if err := r.s.Write(ctx, "mrp.workorder", []int{wo.ID()}, v); err != nil {
			return fmt.Errorf("reschedule work order %s: %w", rec.Name(), err)
		}
		if err := r.mark([]string{k}, [][]int{{wo.ID()}}); err != nil {
			return err
		}
	}
	return nil
}
