package planimport

import (
	"context"
	"fmt"
	"strconv"

	"github.com/plangate/plangate/mappers/odoo"
)

// manufacturing creates proposed MOs (batched) and updates approved or
// confirmed ones, then applies their <workorder> data (spec §4.6.4).
func (r *run) manufacturing(ctx context.Context) error {
	var creates []*record
	ptByWH := map[int]int{}
	for _, rec := range r.recs {
		if rec.Type != "MO" {
			continue
		}
		r.mfgCount++
		if rec.Status == "" || rec.Status == "proposed" {
			creates = append(creates, rec)
			if _, ok := ptByWH[rec.Warehouse]; !ok {
				d := odoo.Domain{odoo.Term("code", "=", "mrp_operation"), odoo.Term("warehouse_id", "=", rec.Warehouse)}
				if r.o.CompanyID != 0 {
					d = append(d, odoo.Term("company_id", "=", r.o.CompanyID))
				}
				ids, err := r.s.Search(ctx, "stock.picking.type", d, odoo.Query{Limit: 1})
				if err != nil {
					return fmt.Errorf("find manufacturing type of warehouse %d: %w", rec.Warehouse, err)
				}
				ptByWH[rec.Warehouse] = 0
				if len(ids) > 0 {
					ptByWH[rec.Warehouse] = ids[0]
				}
			}
			continue
		}
		if err := r.updateMO(ctx, rec); err != nil {
			return err
		}
	}
	var keys []string
	var vals []map[string]any
	var pending []*record
	for _, rec := range creates {
		k := "mo:" + strconv.Itoa(rec.Index)
		if ids, ok := r.done(k); ok {
			r.moByRef[rec.Name()] = ids[0]
			continue
		}
		bom, _ := lastInt(rec.Attr("operation"), " ")
		v := map[string]any{
			"product_qty": rec.Qty, "product_id": rec.Product, "product_uom_id": rec.UoM,
			"bom_id": bom, "qty_producing": 0.0, "origin": rec.Origin,
		}
		if rec.HasStart {
			v["date_start"] = rec.Start.Format(odooTime)
		}
		if rec.HasEnd {
			v["date_finished"] = rec.End.Format(odooTime)
		}
		if r.o.CompanyID != 0 {
			v["company_id"] = r.o.CompanyID
		}
		if pt := ptByWH[rec.Warehouse]; pt != 0 {
			v["picking_type_id"] = pt
		}
		if r.actualUser != 0 {
			v["user_id"] = r.actualUser
		}
		keys, vals, pending = append(keys, k), append(vals, v), append(pending, rec)
	}
	s := r.s
	r.s = s.WithContext(odoo.Context{"ignore_secondary_workcenters": true})
	ids, err := r.createAll(ctx, createSpec{model: "mrp.production", marked: true}, keys, vals)
	r.s = s
	if err != nil {
		return err
	}
	for i, rec := range pending {
		r.moByRef[rec.Name()] = ids[i]
	}
	for _, rec := range creates {
		if len(rec.Workorder) == 0 {
			continue
		}
		if err := r.moWorkorders(ctx, rec, r.moByRef[rec.Name()], true); err != nil {
			return err
		}
	}
	return nil
}

// updateMO reschedules (and re-quantifies) an existing MO.
func (r *run) updateMO(ctx context.Context, rec *record) error {
	k := "moupd:" + strconv.Itoa(rec.Index)
	if ids, ok := r.done(k); ok {
		if len(ids) > 0 {
			r.moByRef[rec.Name()] = ids[0]
		}
		return nil
	}
	mos, err := r.s.SearchRead(ctx, "mrp.production", odoo.Domain{odoo.Term("name", "=", rec.Name())}, odoo.Query{Fields: []string{"product_qty"}, Limit: 1})
	if err != nil {
		return fmt.Errorf("find mrp.production %s: %w", rec.Name(), err)
	}
	if len(mos) == 0 {
		return r.mark([]string{k}, [][]int{{}})
	}
	mo := mos[0].ID()
	if mos[0].Float("product_qty") != rec.Qty {
		wiz, err := r.s.Create(ctx, "change.production.qty", map[string]any{"mo_id": mo, "product_qty": rec.Qty})
		if err != nil {
			return fmt.Errorf("change quantity of %s: %w", rec.Name(), err)
		}
		if _, err := r.s.Call(ctx, "change.production.qty", "change_prod_qty", []any{[]int{wiz}}, nil); err != nil {
			return fmt.Errorf("change quantity of %s: %w", rec.Name(), err)
		}
	}
	v := map[string]any{"origin": rec.Origin}
	if rec.HasStart {
		v["date_start"] = rec.Start.Format(odooTime)
	}
	if rec.HasEnd {
		v["date_finished"] = rec.End.Format(odooTime)
	}
	if err := r.s.Write(ctx, "mrp.production", []int{mo}, v); err != nil {
		return fmt.Errorf("reschedule %s: %w", rec.Name(), err)
	}
	r.moByRef[rec.Name()] = mo
	if err := r.moWorkorders(ctx, rec, mo, false); err != nil {
		return err
	}
	return r.mark([]string{k}, [][]int{{mo}})
}
