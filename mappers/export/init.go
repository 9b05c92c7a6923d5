package export

import (
	"fmt"
	"strings"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// initState holds what the exporter computes before the sections (spec
// §3.1): module flags, company settings and the unit-of-measure table.
type initState struct {
	version           string // Odoo's server_version for <description>
	hasSubcontracting bool
	hasExpiry         bool
	manageWorkOrders  bool
	company           companySettings
	uoms              map[int]uom
}

// companySettings are the frePPLe settings of the requested company (§3.1.3).
type companySettings struct {
	ID                  int
	Name                string
	POLead              float64
	ManufacturingLead   float64
	SecurityLead        float64
	Calendar            string // "<name> <id>" or ""
	MfgWarehouseID      int
	MfgLocation         string // warehouse code, or the company name
	RespectReservations bool
}

// uom is one uom.uom record.
type uom struct {
	Factor   float64
	Category int
	Name     string
}

// initialise performs reads R1–R6 (spec §3.6.1), at once where they are
// independent, and sets the time zone.
func (r *run) initialise() error {
	installed := func(module string) (bool, error) {
		recs, err := r.read("ir.module.module", odoo.Domain{odoo.Term("state", "=", "installed"), odoo.Term("name", "=", module)},
			odoo.Query{Fields: []string{"id"}})
		return len(recs) > 0, err
	}
	// With singlecompany the units are read in the company's scope, which
	// is only known once the company is.
	uomsNow := r.p.Mode != 0 && !r.p.SingleCompany
	err := parallel(
		func() error {
			v, err := odoo.ServerVersion(r.ctx, r.s.T)
			if err != nil {
				return fmt.Errorf("read server version: %w", err)
			}
			r.init.version = v.ServerVersion
			return nil
		},
		r.readTimezone,
		func() (err error) {
			r.init.hasSubcontracting, err = installed("mrp_subcontracting")
			return err
		},
		func() error {
			expiry, err := installed("mrp_product_expiry")
			r.init.hasExpiry = expiry && strings.Contains(r.p.Apps, "freppledb.shelflife")
			return err
		},
		func() error {
			wo, err := r.read("ir.model", odoo.Domain{odoo.Term("model", "=", "mrp.workorder")}, odoo.Query{Fields: []string{"name"}})
			r.init.manageWorkOrders = len(wo) > 0
			return err
		},
		r.readCompany,
		func() error {
			if !uomsNow {
				return nil
			}
			return r.readUOMs()
		},
	)
	if err != nil || r.p.Mode == 0 {
		return err
	}
	if r.p.SingleCompany && r.init.company.ID != 0 {
		r.s = r.base.WithContext(odoo.Context{"allowed_company_ids": []any{r.init.company.ID}})
	}
	if uomsNow {
		return nil
	}
	return r.readUOMs()
}

// readTimezone sets the export zone (§3.1.1): the requested one, else the
// user's, else UTC.
func (r *run) readTimezone() error {
	r.tz = time.UTC
	if loc, err := time.LoadLocation(r.p.Timezone); r.p.Timezone != "" && err == nil {
		r.tz = loc
		return nil
	}
	users, err := r.readIDs("res.users", []int{r.s.UID}, []string{"tz"})
	if err != nil {
		return err
	}
	if len(users) > 0 {
		if tz := users[0].String("tz"); tz != "" {
			if loc, err := time.LoadLocation(tz); err == nil {
				r.tz = loc
			} else {
				r.log.Warn("unknown user time zone; using UTC", "tz", tz)
			}
		}
	}
	return nil
}

// readCompany reads the company settings (R5). The addon's own fields may
// be missing (an Odoo without the addon): they then take their defaults.
func (r *run) readCompany() error {
	c := &r.init.company
	c.Name = r.p.Company
	c.MfgLocation = r.p.Company
	c.RespectReservations = true // the addon field's default; D8: never left unset
	if r.p.Company == "" {
		return nil
	}
	fields := r.onlyExisting("res.company", "security_lead", "po_lead", "manufacturing_lead", "calendar", "manufacturing_warehouse", "respect_reservations")
	recs, err := r.read("res.company", odoo.Domain{odoo.Term("name", "=", r.p.Company)}, odoo.Query{Fields: fields})
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		r.log.Warn("Can't find company", "company", r.p.Company)
		return nil
	}
	rec := recs[len(recs)-1] // the addon keeps the last match
	if err := r.companyDefaults(rec); err != nil {
		return err
	}
	c.ID = rec.ID()
	c.SecurityLead = rec.Float("security_lead")
	c.POLead = rec.Float("po_lead")
	c.ManufacturingLead = rec.Float("manufacturing_lead")
	if rec.Has("respect_reservations") {
		c.RespectReservations = rec.Bool("respect_reservations")
	}
	if id, name := rec.Many2One("calendar"); id != 0 {
		c.Calendar = fmt.Sprintf("%s %d", name, id)
	}
	c.MfgWarehouseID = rec.M2OID("manufacturing_warehouse")
	return nil
}

// companyDefaults fills, from the configuration, the addon's company
// fields that this Odoo lacks (looked up by name); Odoo's values win.
func (r *run) companyDefaults(rec odoo.Record) error {
	d := r.x.Defaults
	if !rec.Has("respect_reservations") && d.RespectReservations != nil {
		rec["respect_reservations"] = *d.RespectReservations
	}
	lookup := func(field, model, name string) error {
		if rec.Has(field) || name == "" {
			return nil
		}
		recs, err := r.read(model, odoo.Domain{odoo.Term("name", "=", name)}, odoo.Query{Fields: []string{"name"}, Limit: 1})
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			r.log.Warn("configured company default not found in Odoo", "field", field, "model", model, "name", name)
			return nil
		}
		rec[field] = []any{recs[0].ID(), recs[0].String("name")}
		return nil
	}
	if err := lookup("calendar", "resource.calendar", d.Calendar); err != nil {
		return err
	}
	return lookup("manufacturing_warehouse", "stock.warehouse", d.ManufacturingWarehouse)
}

// readUOMs reads every unit of measure, archived included (R6, §3.3.2).
func (r *run) readUOMs() error {
	recs, err := r.read("uom.uom", odoo.Domain{"|", odoo.Term("active", "=", 1), odoo.Term("active", "=", 0)},
		odoo.Query{Fields: []string{"factor", "uom_type", "category_id", "name"}})
	if err != nil {
		return err
	}
	r.init.uoms = make(map[int]uom, len(recs))
	for _, u := range recs {
		r.init.uoms[u.ID()] = uom{Factor: u.Float("factor"), Category: u.M2OID("category_id"), Name: u.String("name")}
	}
	return nil
}

// writeConnectionTest writes the mode-0 document (spec §3.1.2).
func (r *run) writeConnectionTest() {
	r.w.S(`<?xml version="1.0" encoding="UTF-8" ?>`, "\n",
		`<plan xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" source="odoo_0">connection ok</plan>`)
}

// fmtTime converts an Odoo UTC datetime to the export time zone (§3.3.3).
func (r *run) fmtTime(t time.Time) string { return xmlschema.Datetime(t.In(r.tz)) }

// convertQty converts a quantity from a unit to the unit of a product
// template (§3.3.2).
func (r *run) convertQty(qty float64, uomID, tmplID int) float64 {
	if uomID == 0 {
		return qty
	}
	from, ok := r.init.uoms[uomID]
	if !ok {
		return qty
	}
	if tmplID == 0 {
		return qty * from.Factor
	}
	t := r.master.templates[tmplID]
	if t == nil || t.UOMID == 0 {
		return qty * from.Factor
	}
	if t.UOMID == uomID {
		return qty
	}
	to, ok := r.init.uoms[t.UOMID]
	if ok && to.Category == from.Category && from.Factor != 0 {
		return qty / from.Factor * to.Factor
	}
	r.warnOnce("product.template", tmplID, fmt.Sprintf("Can't convert from %s for product template %d", from.Name, tmplID))
	return qty * from.Factor
}
