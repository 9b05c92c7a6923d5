package planimport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/plangate/plangate/mappers/odoo"
)

// When Odoo commits a create but its reply is lost (a timeout, a proxy
// giving up), the journal does not know the new ids, and a resume that
// trusted it alone would create the records again. So every record an
// import creates can be found again without its id:
//
//   - records with an origin field (RFQs, transfers, MOs) are created with
//     a marker naming the run and the journal step appended to their
//     origin, removed again as soon as the ids are journaled; a resume
//     first looks for the markers of its run (recoverMarked);
//   - children of those records (RFQ lines, stock moves) are found under
//     their parent: the children an earlier attempt left unjournaled are
//     those of the one batch whose reply was lost, in creation order
//     (claimChildren);
//   - secondary workcenters are unique per work order and workcenter.

// createSpec says how records of a model are created and found again.
type createSpec struct {
	model  string
	marked bool   // the model has an origin field that carries the marker
	parent string // the many2one to a record this run created, for children
}

// markedModels are the models createAll marks, in the order Apply creates them.
var markedModels = []string{"purchase.order", "stock.picking", "mrp.production"}

// NewRun returns a fresh run token for store.Plan.Run.
func NewRun() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func (r *run) markerPrefix() string { return " [plangate " + r.j.Run + " " }

// withMarker returns a copy of vals whose origin names the run and step.
func (r *run) withMarker(vals map[string]any, key string) map[string]any {
	out := make(map[string]any, len(vals))
	for k, v := range vals {
		out[k] = v
	}
	out["origin"] = fmt.Sprint(vals["origin"]) + r.markerPrefix() + key + "]"
	return out
}

// parseMarker splits a marked origin into the origin as the addon writes
// it and the step key; ok is false for an origin without this run's marker.
func (r *run) parseMarker(origin string) (plain, key string, ok bool) {
	p := r.markerPrefix()
	i := strings.LastIndex(origin, p)
	if i < 0 || !strings.HasSuffix(origin, "]") {
		return "", "", false
	}
	return origin[:i], origin[i+len(p) : len(origin)-1], true
}

// unmark gives created records back the origin the addon writes: one
// write per distinct origin.
func (r *run) unmark(ctx context.Context, model string, ids []int, origins []string) error {
	var order []string
	byOrigin := map[string][]int{}
	for i, id := range ids {
		if _, ok := byOrigin[origins[i]]; !ok {
			order = append(order, origins[i])
		}
		byOrigin[origins[i]] = append(byOrigin[origins[i]], id)
	}
	for _, o := range order {
		if err := r.s.Write(ctx, model, byOrigin[o], map[string]any{"origin": o}); err != nil {
			return fmt.Errorf("restore origin of %d %s: %w", len(byOrigin[o]), model, err)
		}
	}
	return nil
}

// recoverMarked journals the records an earlier attempt of this run
// created but could not journal, found by their marker, and removes the
// markers it finds (also those whose removal failed).
func (r *run) recoverMarked(ctx context.Context) error {
	for _, model := range markedModels {
		recs, err := r.s.SearchRead(ctx, model, odoo.Domain{odoo.Term("origin", "like", strings.TrimSpace(r.markerPrefix()))},
			odoo.Query{Fields: []string{"origin"}, Order: "id"})
		if err != nil {
			return fmt.Errorf("find %s of an earlier attempt: %w", model, err)
		}
		var keys []string
		var ids [][]int
		var found []int
		var origins []string
		for _, rec := range recs {
			plain, key, ok := r.parseMarker(rec.String("origin"))
			if !ok {
				continue
			}
			found, origins = append(found, rec.ID()), append(origins, plain)
			if _, done := r.done(key); !done {
				keys, ids = append(keys, key), append(ids, []int{rec.ID()})
			}
		}
		if len(keys) > 0 {
			r.im.logger().Warn("resumed plan: records created by the earlier attempt found in Odoo", "model", model, "records", len(keys))
			if err := r.mark(keys, ids); err != nil {
				return err
			}
		}
		if len(found) > 0 {
			if err := r.unmark(ctx, model, found, origins); err != nil {
				return err
			}
		}
	}
	return nil
}

// claimChildren finds, on a resume, the children (spec.parent set) an
// earlier attempt created but could not journal: they are the records
// of the batch whose reply was lost, so they match the first pending
// vals in creation order. It journals them and returns index → id.
func (r *run) claimChildren(ctx context.Context, spec createSpec, keys []string, vals []map[string]any) (map[int]int, error) {
	if !r.resume || spec.parent == "" || len(vals) == 0 {
		return nil, nil
	}
	var parents []any
	seen := map[any]bool{}
	for _, v := range vals {
		if p := v[spec.parent]; !seen[p] {
			seen[p] = true
			parents = append(parents, p)
		}
	}
	recs, err := r.s.SearchRead(ctx, spec.model, odoo.Domain{odoo.Term(spec.parent, "in", parents)},
		odoo.Query{Fields: []string{spec.parent, "product_id"}, Order: "id"})
	if err != nil {
		return nil, fmt.Errorf("find %s of an earlier attempt: %w", spec.model, err)
	}
	// Steps of this kind ("pol:", "move:") hold the journaled children.
	kind := keys[0][:strings.IndexByte(keys[0], ':')+1]
	journaled := map[int]bool{}
	for k, ids := range r.j.Steps {
		if strings.HasPrefix(k, kind) {
			for _, id := range ids {
				journaled[id] = true
			}
		}
	}
	out := map[int]int{}
	var ck []string
	var cids [][]int
	i := 0
	for _, rec := range recs {
		if journaled[rec.ID()] {
			continue
		}
		if i == len(vals) || rec.M2OID(spec.parent) != vals[i][spec.parent] || rec.M2OID("product_id") != vals[i]["product_id"] {
			// Not the batch this run would have created: someone else's
			// record. Create the rest rather than guess.
			r.im.logger().Warn("resumed plan: unexpected record under a created parent; not taken", "model", spec.model, "id", rec.ID())
			break
		}
		out[i] = rec.ID()
		ck, cids = append(ck, keys[i]), append(cids, []int{rec.ID()})
		i++
	}
	if len(ck) > 0 {
		r.im.logger().Warn("resumed plan: records created by the earlier attempt found in Odoo", "model", spec.model, "records", len(ck))
		if err := r.mark(ck, cids); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newSecondaries drops, on a resume, the secondary workcenters a work
// order already has (an earlier attempt created them).
func (r *run) newSecondaries(ctx context.Context, secondary []map[string]any) ([]map[string]any, error) {
	if !r.resume || len(secondary) == 0 {
		return secondary, nil
	}
	var wos []any
	for _, s := range secondary {
		wos = append(wos, s["workorder_id"])
	}
	recs, err := r.s.SearchRead(ctx, "mrp.workorder.secondary.workcenter", odoo.Domain{odoo.Term("workorder_id", "in", wos)},
		odoo.Query{Fields: []string{"workorder_id", "workcenter_id"}})
	if err != nil {
		return nil, fmt.Errorf("find secondary workcenters of an earlier attempt: %w", err)
	}
	have := map[[2]int]int{}
	for _, rec := range recs {
		have[[2]int{rec.M2OID("workorder_id"), rec.M2OID("workcenter_id")}]++
	}
	var out []map[string]any
	for _, s := range secondary {
		k := [2]int{s["workorder_id"].(int), s["workcenter_id"].(int)}
		if have[k] > 0 {
			have[k]--
			continue
		}
		out = append(out, s)
	}
	return out, nil
}
