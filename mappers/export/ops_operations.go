package export

import (
	"fmt"
	"unicode/utf8"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// routingStep is one mrp.routing.workcenter of a BOM (B1).
type routingStep struct {
	ID         int
	Name       string
	Workcenter int
	TimeCycle  float64
	Skill      string
	SearchMode string
	Secondary  []int
}

// secondaryWC is one addon mrp.secondary.workcenter (B2).
type secondaryWC struct {
	Workcenter int
	Duration   float64
	SearchMode string
	Skill      string
}

// bomLine is one mrp.bom.line (B4).
type bomLine struct {
	ID        int
	Qty       float64
	UOM       int
	Product   int
	Operation int
	Values    []int
}

// component is the summed quantity of one component (and step).
type component struct {
	product   int
	operation int
	qty       float64
}

// loadOperations reads routing steps, the addon's secondary workcenters
// and BOMs at once, then all BOM lines (§3.4.13). The addon's N+1 reads of
// BOM lines become one read of all lines.
func (r *run) loadOperations() (func() error, error) {
	var stepRecs, secRecs, boms []odoo.Record
	err := parallel(
		func() error {
			stepFields := r.onlyExisting("mrp.routing.workcenter", "name", "bom_id", "workcenter_id", "sequence", "time_cycle", "skill", "search_mode", "secondary_workcenter")
			return r.readTo(&stepRecs, "mrp.routing.workcenter", nil, odoo.Query{Fields: stepFields, Order: "bom_id, sequence, id asc"})()
		},
		func() error {
			if !r.hasModel("mrp.secondary.workcenter") {
				return nil
			}
			return r.readTo(&secRecs, "mrp.secondary.workcenter", nil, odoo.Query{Fields: r.onlyExisting("mrp.secondary.workcenter", "workcenter_id", "duration", "search_mode", "skill")})()
		},
		r.readTo(&boms, "mrp.bom", nil, odoo.Query{Fields: []string{"product_qty", "product_uom_id", "product_tmpl_id", "product_id", "type",
			"bom_line_ids", "produce_delay", "days_to_prepare_mo", "sequence", "code"}}),
	)
	if err != nil {
		return nil, err
	}
	lines, err := r.bomLines(boms)
	if err != nil {
		return nil, err
	}
	steps := map[int][]routingStep{}
	for _, s := range stepRecs {
		bom := s.M2OID("bom_id")
		if bom == 0 {
			continue
		}
		mode := s.String("search_mode")
		if mode == "" {
			mode = "PRIORITY"
		}
		steps[bom] = append(steps[bom], routingStep{ID: s.ID(), Name: s.String("name"), Workcenter: s.M2OID("workcenter_id"),
			TimeCycle: s.Float("time_cycle"), Skill: s.M2OName("skill"), SearchMode: mode, Secondary: s.IDs("secondary_workcenter")})
	}
	secondaries := map[int]secondaryWC{}
	for _, s := range secRecs {
		mode := s.String("search_mode")
		if mode == "" {
			mode = "PRIORITY"
		}
		secondaries[s.ID()] = secondaryWC{Workcenter: s.M2OID("workcenter_id"), Duration: s.Float("duration"), SearchMode: mode, Skill: s.M2OName("skill")}
	}
	return func() error { return r.writeOperations(steps, secondaries, boms, lines) }, nil
}

// writeOperations maps BOMs and routings to operations (§3.4.13).
func (r *run) writeOperations(steps map[int][]routingStep, secondaries map[int]secondaryWC, boms []odoo.Record, lines map[int][]bomLine) error {
	r.w.S("<!-- bills of material -->\n<operations>\n")
	n := 0
	// One pass over the BOMs in Odoo's order (mrp.bom: sequence, then id;
	// a NULL sequence sorts last), subcontracting ones where they come, as
	// the addon loops.
	for _, b := range boms {
		n += r.writeBOM(b, steps[b.ID()], secondaries, lines)
	}
	r.w.S("</operations>\n")
	r.counts["operations"] = n
	return nil
}

// bomLines reads the lines of all BOMs at once, keyed by BOM id in the
// order of the BOM's bom_line_ids.
func (r *run) bomLines(boms []odoo.Record) (map[int][]bomLine, error) {
	var ids []int
	for _, b := range boms {
		ids = append(ids, b.IDs("bom_line_ids")...)
	}
	recs, err := r.readIDs("mrp.bom.line", ids, []string{"product_qty", "product_uom_id", "product_id", "operation_id", "bom_product_template_attribute_value_ids"})
	if err != nil {
		return nil, err
	}
	byID := make(map[int]bomLine, len(recs))
	for _, l := range recs {
		byID[l.ID()] = bomLine{ID: l.ID(), Qty: l.Float("product_qty"), UOM: l.M2OID("product_uom_id"), Product: l.M2OID("product_id"),
			Operation: l.M2OID("operation_id"), Values: l.IDs("bom_product_template_attribute_value_ids")}
	}
	out := map[int][]bomLine{}
	for _, b := range boms {
		for _, id := range b.IDs("bom_line_ids") {
			if l, ok := byID[id]; ok {
				out[b.ID()] = append(out[b.ID()], l)
			}
		}
	}
	return out, nil
}

func subset(a, b []int) bool {
	set := make(map[int]bool, len(b))
	for _, x := range b {
		set[x] = true
	}
	for _, x := range a {
		if !set[x] {
			return false
		}
	}
	return true
}

// writeBOM writes the operations of one BOM, returning how many it wrote:
// per applicable variant, one operation, or one per subcontractor of a
// subcontracting BOM (the addon's loops: BOM, variant, subcontractor).
func (r *run) writeBOM(b odoo.Record, steps []routingStep, secondaries map[int]secondaryWC, lines map[int][]bomLine) int {
	tp := r.master.templates[b.M2OID("product_tmpl_id")]
	if tp == nil {
		return 0
	}
	subs := []*subcontractor{nil}
	if b.String("type") == "subcontract" {
		if len(tp.Subcontractors) == 0 {
			return 0
		}
		subs = subs[:0]
		for i := range tp.Subcontractors {
			subs = append(subs, &tp.Subcontractors[i])
		}
	}
	loc := r.init.company.MfgLocation
	only := b.M2OID("product_id")
	code := b.String("code")
	desc := ""
	if code != "" {
		desc = " description=" + xmlschema.QuoteAttr(code)
	}
	seq := b.Int("sequence")
	if seq == 0 {
		seq = 1
	}
	produced := r.convertQty(b.Float("product_qty"), b.M2OID("product_uom_id"), tp.ID)
	if produced == 0 {
		produced = 1
	}
	n := 0
	for _, v := range tp.Variants {
		if only != 0 && v != only {
			continue
		}
		it := r.master.items[v]
		if it == nil {
			continue
		}
		head := it.Code
		if head == "" {
			head = it.Name
		}
		for _, sub := range subs {
			where := loc
			if sub != nil {
				where = sub.Name
			}
			suffix := fmt.Sprintf(" @ %s %d", where, b.ID())
			name := head + suffix
			if utf8.RuneCountInString(name) > 300 {
				name = cutFront(it.Name, suffix, 300) // the addon cuts the item name, not the code
			}
			if sub != nil || !r.init.manageWorkOrders || len(steps) == 0 {
				r.writeSummaryOperation(name, desc, it, loc, b, sub, produced, seq, lines[b.ID()])
			} else {
				r.writeRoutingOperation(name, desc, it, loc, b, produced, seq, steps, secondaries, lines[b.ID()])
			}
			n++
		}
	}
	return n
}

// cutFront shortens head so that head+suffix fits n characters, keeping the suffix.
func cutFront(head, suffix string, n int) string {
	hr, sr := []rune(head), []rune(suffix)
	if len(hr)+len(sr) <= n {
		return head + suffix
	}
	keep := n - len(sr)
	if keep < 0 {
		keep = 0
	}
	return string(hr[:keep]) + suffix
}

// sumComponents groups applicable lines by component (and step when
// byStep), converting quantities, in first-seen order.
func (r *run) sumComponents(lines []bomLine, applies func(bomLine) bool, byStep bool) []*component {
	var out []*component
	index := map[[2]int]*component{}
	for _, l := range lines {
		if !applies(l) {
			continue
		}
		ci := r.master.items[l.Product]
		if ci == nil {
			r.warnOnce("mrp.bom.line", l.ID, "component not exported; skipped", "product", l.Product)
			continue
		}
		key := [2]int{l.Product, 0}
		if byStep {
			key[1] = l.Operation
		}
		c, ok := index[key]
		if !ok {
			c = &component{product: l.Product, operation: key[1]}
			index[key] = c
			out = append(out, c)
		}
		c.qty += r.convertQty(l.Qty, l.UOM, ci.TmplID)
	}
	return out
}

func (r *run) writeFlow(c *component, produced float64) {
	r.w.S(`<flow xsi:type="flow_start" quantity="-`, xmlschema.Fixed6(c.qty/produced), `"><item name=`,
		xmlschema.QuoteAttr(r.master.items[c.product].Name), "/></flow>\n")
}

// writeSummaryOperation writes a subcontracting operation or a BOM without
// routing steps (§3.4.13.3).
func (r *run) writeSummaryOperation(name, desc string, it *item, loc string, b odoo.Record, sub *subcontractor, produced float64, seq int, lines []bomLine) {
	if sub != nil {
		r.w.S("<operation name=", xmlschema.QuoteAttr(name), desc, ` size_multiple="1" category="subcontractor" subcategory=`, xmlschema.QuoteAttr(sub.Name),
			` duration="`, xmlschema.Days(sub.Delay), `" posttime="`, xmlschema.Days(r.init.company.POLead),
			`" xsi:type="operation_fixed_time" priority="`, xmlschema.PyInt(sub.Priority+50), `" size_minimum="`, xmlschema.PyFloat(sub.SizeMinimum), `">`, "\n")
	} else {
		days := b.Float("produce_delay") + b.Float("days_to_prepare_mo")
		dur := "P0D"
		if days != 0 {
			dur = xmlschema.TimedeltaDays(days)
		}
		r.w.S("<operation name=", xmlschema.QuoteAttr(name), desc, ` size_multiple="1" duration_per="`, dur, `" posttime="`,
			xmlschema.Days(r.init.company.ManufacturingLead), `" priority="`, xmlschema.PyInt(100+seq), `" xsi:type="operation_time_per">`, "\n")
	}
	r.w.S("<item name=", xmlschema.QuoteAttr(it.Name), "/><location name=", xmlschema.QuoteAttr(loc), "/>\n")
	if produced != 1 && sub == nil {
		r.w.S("<size_minimum>", xmlschema.PyFloat(produced), "</size_minimum>")
	}
	// D18: the summary case applies a line when every value of the variant
	// is among the line's values (lines without values always apply).
	applies := func(l bomLine) bool { return len(l.Values) == 0 || subset(it.AttrValues, l.Values) }
	r.w.S("<flows>\n")
	for _, c := range r.sumComponents(lines, applies, false) {
		if c.qty > 0 {
			r.writeFlow(c, produced)
		}
	}
	r.w.S("</flows>\n</operation>\n")
}

// writeRoutingOperation writes a BOM with routing steps as a routing of
// time-per suboperations (§3.4.13.4).
func (r *run) writeRoutingOperation(name, desc string, it *item, loc string, b odoo.Record, produced float64, seq int,
	steps []routingStep, secondaries map[int]secondaryWC, lines []bomLine) {
	r.w.S("<operation name=", xmlschema.QuoteAttr(name), desc, ` size_multiple="1" posttime="`, xmlschema.Days(r.init.company.ManufacturingLead),
		`" priority="`, xmlschema.PyInt(100+seq), `" xsi:type="operation_routing"><item name=`, xmlschema.QuoteAttr(it.Name),
		"/><location name=", xmlschema.QuoteAttr(loc), "/>\n")
	if produced != 1 {
		r.w.S("<size_minimum>", xmlschema.PyFloat(produced), "</size_minimum>")
	}
	r.w.S("<suboperations>")
	applies := func(l bomLine) bool { return subset(l.Values, it.AttrValues) }
	comps := r.sumComponents(lines, applies, true)
	firstStep := 0
	if len(steps) > 0 {
		firstStep = steps[0].ID
	}
	for i, st := range steps {
		res, ok := r.master.resources[st.Workcenter]
		if !ok {
			r.warnOnce("mrp.routing.workcenter", st.ID, "workcenter not exported; step skipped")
			continue
		}
		var secondary string
		for _, sid := range st.Secondary {
			sw, ok := secondaries[sid]
			if !ok {
				continue
			}
			sres, ok := r.master.resources[sw.Workcenter]
			if !ok {
				continue
			}
			q := 1.0
			if sw.Duration != 0 && st.TimeCycle != 0 {
				q = sw.Duration / st.TimeCycle
			}
			secondary += `<load quantity="` + xmlschema.Fixed6(q) + `" search=` + xmlschema.QuoteAttr(sw.SearchMode) + "><resource name=" + xmlschema.QuoteAttr(sres) + "/>"
			if sw.Skill != "" {
				secondary += "<skill name=" + xmlschema.QuoteAttr(sw.Skill) + "/>"
			}
			secondary += "</load>"
		}
		dur := "P0D"
		if st.TimeCycle != 0 {
			dur = xmlschema.TimedeltaMinutes(st.TimeCycle)
		}
		r.w.S("<suboperation><operation name=", xmlschema.QuoteAttr(cutFront(name, fmt.Sprintf(" - %s - %d", st.Name, st.ID), 300)), desc,
			` priority="`, xmlschema.PyInt((i+1)*10), `" duration_per="`, dur, `" xsi:type="operation_time_per">`, "\n",
			"<location name=", xmlschema.QuoteAttr(loc), "/>\n",
			`<loads><load quantity="1.000000" search=`, xmlschema.QuoteAttr(st.SearchMode), "><resource name=", xmlschema.QuoteAttr(res), "/>")
		if st.Skill != "" {
			r.w.S("<skill name=", xmlschema.QuoteAttr(st.Skill), "/>")
		}
		r.w.S("</load>", secondary, "</loads>\n")
		var mine []*component
		for _, c := range comps {
			if c.qty > 0 && (c.operation == st.ID || (c.operation == 0 && st.ID == firstStep)) {
				mine = append(mine, c)
			}
		}
		if len(mine) > 0 {
			r.w.S("<flows>\n")
			for _, c := range mine {
				r.writeFlow(c, produced)
			}
			r.w.S("</flows>\n")
		}
		r.w.S("</operation></suboperation>\n")
	}
	r.w.S("</suboperations>\n</operation>\n")
}
