package planimport

import (
	"context"
	"fmt"

	"github.com/plangate/plangate/mappers/odoo"
)

// cleanup removes the draft proposals earlier frePPLe imports created
// (spec §4.4), once per plan: the journal keeps the counts for a retry.
func (r *run) cleanup(ctx context.Context) error {
	if _, ok := r.done("cleanup"); ok {
		return nil
	}
	pos, err := r.im.S.Search(ctx, "purchase.order", odoo.Domain{odoo.Term("state", "=", "draft"), odoo.Term("origin", "=like", "frePPLe%")}, odoo.Query{})
	if err != nil {
		return fmt.Errorf("find old draft purchase orders: %w", err)
	}
	if len(pos) > 0 {
		if err := r.im.S.Write(ctx, "purchase.order", pos, map[string]any{"state": "cancel"}); err != nil {
			return fmt.Errorf("cancel old draft purchase orders: %w", err)
		}
		if err := r.im.S.Unlink(ctx, "purchase.order", pos); err != nil {
			return fmt.Errorf("remove old draft purchase orders: %w", err)
		}
	}
	r.j.Counters["removed_po"] = len(pos)
	// Prefix notation as the addon writes it: (draft or cancel) and frePPLe origin.
	mos, err := r.im.S.Search(ctx, "mrp.production", odoo.Domain{"|", odoo.Term("state", "=", "draft"), odoo.Term("state", "=", "cancel"), odoo.Term("origin", "=like", "frePPLe%")}, odoo.Query{})
	if err != nil {
		return fmt.Errorf("find old draft manufacturing orders: %w", err)
	}
	if len(mos) > 0 {
		if err := r.im.S.Write(ctx, "mrp.production", mos, map[string]any{"state": "cancel"}); err != nil {
			return fmt.Errorf("cancel old draft manufacturing orders: %w", err)
		}
		if err := r.im.S.Unlink(ctx, "mrp.production", mos); err != nil {
			return fmt.Errorf("remove old draft manufacturing orders: %w", err)
		}
	}
	r.j.Counters["removed_mo"] = len(mos)
	return r.mark([]string{"cleanup"}, [][]int{append(append([]int{}, pos...), mos...)})
}
