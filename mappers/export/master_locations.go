package export

import (
	"fmt"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// loadLocations reads warehouses, internal locations and, when
// manufacturing orders are written, operation types.
func (r *run) loadLocations() (func() error, error) {
	var whs, locs, pts []odoo.Record
	reads := []func() error{
		r.readTo(&whs, "stock.warehouse", nil, odoo.Query{Fields: []string{"name", "code"}}),
		r.readTo(&locs, "stock.location", odoo.Domain{odoo.Term("usage", "=", "internal")}, odoo.Query{Fields: []string{"warehouse_id"}}),
	}
	if r.needPickingTypes() {
		reads = append(reads, r.readTo(&pts, "stock.picking.type", odoo.Domain{"|", odoo.Term("active", "=", 1), odoo.Term("active", "=", 0)},
			odoo.Query{Fields: []string{"name", "sequence_code", "code", "default_location_src_id", "default_location_dest_id", "warehouse_id"}}))
	}
	if err := parallel(reads...); err != nil {
		return nil, err
	}
	return func() error { return r.writeLocations(whs, locs, pts) }, nil
}

// writeLocations maps warehouses to frePPLe locations (§3.4.4) and keeps
// internal locations and operation types (§3.4.5, no output).
func (r *run) writeLocations(whs, locs, pts []odoo.Record) error {
	m := &r.master
	m.warehouses = make(map[int]warehouse, len(whs))
	opened := false
	for _, w := range whs {
		code := w.String("code")
		if code == "" {
			code = w.String("name")
		}
		m.warehouses[w.ID()] = warehouse{ID: w.ID(), Code: code, Name: w.String("name")}
		if !opened {
			r.w.S("<!-- warehouses -->\n<locations>\n")
			opened = true
		}
		r.w.S("<location name=", xmlschema.QuoteAttr(code), " description=", xmlschema.QuoteAttr(w.String("name")),
			" subcategory=", xmlschema.QuoteAttr(fmt.Sprint(w.ID())), ">")
		if c := r.init.company.Calendar; c != "" {
			r.w.S("<available name=", xmlschema.QuoteAttr(c), "/>")
		}
		r.w.S("</location>\n")
	}
	if opened {
		r.w.S("</locations>\n")
	}
	r.counts["locations"] = len(whs)
	if id := r.init.company.MfgWarehouseID; id != 0 {
		if w, ok := m.warehouses[id]; ok {
			r.init.company.MfgLocation = w.Code
		}
	} else if r.init.company.ID != 0 {
		r.init.company.MfgLocation = r.init.company.Name
	}

	m.locationWarehouse = make(map[int]string, len(locs))
	for _, l := range locs {
		if w, ok := m.warehouses[l.M2OID("warehouse_id")]; ok {
			m.locationWarehouse[l.ID()] = w.Code
		}
	}
	r.keepPickingTypes(pts)
	return nil
}

// keepPickingTypes keeps operation types with their warehouses (§3.4.5).
func (r *run) keepPickingTypes(pts []odoo.Record) {
	r.master.pickingTypes = make(map[int]pickingType, len(pts))
	for _, p := range pts {
		pt := pickingType{Code: p.String("code"),
			Src:  r.master.locationWarehouse[p.M2OID("default_location_src_id")],
			Dest: r.master.locationWarehouse[p.M2OID("default_location_dest_id")]}
		if w, ok := r.master.warehouses[p.M2OID("warehouse_id")]; ok {
			pt.Warehouse = w.Code
		}
		r.master.pickingTypes[p.ID()] = pt
	}
}

// needPickingTypes: operation types only locate subcontracting MOs, which
// only the manufacturing-order section of mode 1 writes.
func (r *run) needPickingTypes() bool { return has(r.mode.Sections, "manufacturingorders") }
