package export

import (
	"fmt"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// loadSkills reads the addon's mrp.skill records (§3.4.8); an Odoo
// without the addon has none.
func (r *run) loadSkills() (func() error, error) {
	var skills []odoo.Record
	if r.hasModel("mrp.skill") {
		if err := r.readTo(&skills, "mrp.skill", nil, odoo.Query{Fields: []string{"name"}})(); err != nil {
			return nil, err
		}
	}
	return func() error { return r.writeSkills(skills) }, nil
}

func (r *run) writeSkills(skills []odoo.Record) error {
	if len(skills) == 0 {
		return nil
	}
	r.w.S("<!-- skills -->\n<skills>\n")
	for _, s := range skills {
		r.w.S("<skill name=", xmlschema.QuoteAttr(s.String("name")), "/>\n")
	}
	r.w.S("</skills>\n")
	r.counts["skills"] = len(skills)
	return nil
}

// loadResources reads the workcenters (§3.4.9).
func (r *run) loadResources() (func() error, error) {
	fields := r.onlyExisting("mrp.workcenter", "name", "resource_id", "owner", "resource_calendar_id", "time_efficiency", "default_capacity", "tool")
	wcs, err := r.read("mrp.workcenter", nil, odoo.Query{Fields: fields})
	if err != nil {
		return nil, err
	}
	return func() error { return r.writeResources(wcs) }, nil
}

// writeResources maps workcenters to resources (§3.4.9).
func (r *run) writeResources(wcs []odoo.Record) error {
	m := &r.master
	m.resources = make(map[int]string, len(wcs))
	m.resourceOwner = make(map[int]int, len(wcs))
	if len(wcs) == 0 {
		return nil
	}
	r.w.S("<!-- workcenters -->\n<resources>\n")
	for _, wc := range wcs {
		name := wc.String("name")
		m.resources[wc.ID()] = name
		m.resourceOwner[wc.ID()] = wc.M2OID("owner")
		sub := ""
		if wc.Bool("tool") {
			sub = "tool per piece"
		}
		r.w.S("<resource name=", xmlschema.QuoteAttr(name),
			" maximum=", xmlschema.QuoteAttr(xmlschema.PyFloat(wc.Float("default_capacity"))),
			" category=", xmlschema.QuoteAttr(fmt.Sprint(wc.ID())),
			" subcategory=", xmlschema.QuoteAttr(sub),
			" efficiency=", xmlschema.QuoteAttr(xmlschema.PyFloat(wc.Float("time_efficiency"))), ">",
			"<location name=", xmlschema.QuoteAttr(r.init.company.MfgLocation), "/>")
		if owner := wc.M2OName("owner"); owner != "" {
			r.w.S("<owner name=", xmlschema.QuoteAttr(owner), "/>")
		}
		if cal, ok := m.resourceCalendar[wc.M2OID("resource_id")]; ok {
			r.w.S("<available name=", xmlschema.QuoteAttr(cal), "/>")
		} else if id, cname := wc.Many2One("resource_calendar_id"); id != 0 {
			r.w.S("<available name=", xmlschema.QuoteAttr(fmt.Sprintf("%s %d", cname, id)), "/>")
		}
		r.w.S("</resource>\n")
	}
	r.w.S("</resources>\n")
	r.counts["resources"] = len(wcs)
	return nil
}

// loadResourceSkills reads the addon's workcenter skills (§3.4.10).
func (r *run) loadResourceSkills() (func() error, error) {
	var recs []odoo.Record
	if r.hasModel("mrp.workcenter.skill") {
		if err := r.readTo(&recs, "mrp.workcenter.skill", nil, odoo.Query{Fields: []string{"workcenter", "skill", "priority"}})(); err != nil {
			return nil, err
		}
	}
	return func() error { return r.writeResourceSkills(recs) }, nil
}

// writeResourceSkills writes the workcenter skills of exported resources.
func (r *run) writeResourceSkills(recs []odoo.Record) error {
	opened := false
	n := 0
	for _, s := range recs {
		res, ok := r.master.resources[s.M2OID("workcenter")]
		if !ok {
			continue
		}
		if !opened {
			r.w.S("<!-- resourceskills -->\n<skills>")
			opened = true
		}
		r.w.S("<skill name=", xmlschema.QuoteAttr(s.M2OName("skill")), ">\n",
			`<resourceskills><resourceskill priority="`, xmlschema.PyInt(s.Int("priority")), `"><resource name=`,
			xmlschema.QuoteAttr(res), "/></resourceskill></resourceskills></skill>")
		n++
	}
	if opened {
		r.w.S("</skills>")
	}
	r.counts["resourceskills"] = n
	return nil
}
