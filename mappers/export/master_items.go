package export

import (
	"fmt"
	"strings"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// mtoRouteName is the English name the addon looks the MTO route up by (D15).
const mtoRouteName = "Replenish on Order (MTO)"

// loadCategories reads the product categories (§3.4.11).
func (r *run) loadCategories() (func() error, error) {
	cats, err := r.read("product.category", nil, odoo.Query{Fields: []string{"complete_name", "parent_id"}})
	if err != nil {
		return nil, err
	}
	return func() error { return r.writeCategories(cats) }, nil
}

// writeCategories writes the item hierarchy from product categories.
func (r *run) writeCategories(cats []odoo.Record) error {
	m := &r.master
	m.categories = make(map[int]string, len(cats))
	for _, c := range cats {
		m.categories[c.ID()] = c.String("complete_name")
	}
	if len(cats) == 0 {
		return nil
	}
	r.w.S("<!-- categories -->\n<items>\n")
	for _, c := range cats {
		r.w.S("<item name=", xmlschema.QuoteAttr(c.String("complete_name")), ">")
		if p := c.M2OID("parent_id"); p != 0 {
			if pn, ok := m.categories[p]; ok {
				r.w.S("<owner name=", xmlschema.QuoteAttr(pn), "/>")
			}
		}
		r.w.S("</item>\n")
	}
	r.w.S("</items>\n")
	r.counts["categories"] = len(cats)
	return nil
}

// supplierGroup merges supplier infos of one supplier and start date (§3.4.12.4).
type supplierGroup struct {
	name        string
	delay       float64
	sequence    int
	batchWindow float64
	minQty      float64
	price       float64
	dateStart   string
	dateEnd     string
}

// itemReads are the records behind the items section.
type itemReads struct {
	templates     map[int]*template
	mtoRoute      int
	supplierInfos []odoo.Record
	short         bool
	products      *recordStream
}

// loadItems reads routes, templates, the short-name check and supplier
// infos at once, and streams the products (§3.4.12).
func (r *run) loadItems() (func() error, error) {
	var in itemReads
	var routes, tmpls []odoo.Record
	tfields := []string{"sale_ok", "purchase_ok", "list_price", "standard_price", "uom_id", "categ_id", "product_variant_ids", "route_ids"}
	if r.init.hasExpiry {
		tfields = append(tfields, "expiration_time")
	}
	in.products = r.stream("product.product", nil, odoo.Query{Fields: []string{"id", "name", "code", "product_tmpl_id", "volume", "weight",
		"product_template_attribute_value_ids", "price_extra"}})
	err := parallel(
		r.readTo(&routes, "stock.route", nil, odoo.Query{Fields: []string{"name"}}),
		r.readTo(&tmpls, "product.template", odoo.Domain{odoo.Term("type", "not in", []any{"service", "consu"})}, odoo.Query{Fields: tfields}),
		func() (err error) {
			in.short, err = r.memoBool("short names", []string{"product.product", "product.template"}, r.shortNames)
			return err
		},
		func() error {
			fields := r.onlyExisting("product.supplierinfo", "product_tmpl_id", "partner_id", "delay", "min_qty", "date_end", "date_start",
				"price", "batching_window", "sequence", "is_subcontractor")
			return r.readTo(&in.supplierInfos, "product.supplierinfo", odoo.Domain{odoo.Term("product_tmpl_id", "!=", false)}, odoo.Query{Fields: fields})()
		},
	)
	if err != nil {
		return nil, err
	}
	for _, rt := range routes {
		if rt.String("name") == mtoRouteName {
			in.mtoRoute = rt.ID()
		}
	}
	in.templates = make(map[int]*template, len(tmpls))
	for _, t := range tmpls {
		uomID, uomName := t.Many2One("uom_id")
		tp := &template{ID: t.ID(), UOMID: uomID, UOMName: uomName, Category: t.M2OID("categ_id"),
			PurchaseOK: t.Bool("purchase_ok"), SaleOK: t.Bool("sale_ok"), ListPrice: t.Float("list_price"),
			StandardPrice: t.Float("standard_price"), Variants: t.IDs("product_variant_ids"), Routes: t.IDs("route_ids"),
			ExpirationTime: t.Float("expiration_time")}
		for _, rt := range tp.Routes {
			if rt == in.mtoRoute && rt != 0 {
				tp.MTO = true
			}
		}
		in.templates[t.ID()] = tp
	}
	return func() error { return r.writeItems(in) }, nil
}

// writeItems writes the products with their suppliers (§3.4.12).
func (r *run) writeItems(in itemReads) error {
	m := &r.master
	m.templates, m.mtoRoute = in.templates, in.mtoRoute
	short := in.short
	suppliers := r.itemSuppliers(in.supplierInfos)

	m.items = map[int]*item{}
	opened := false
	n := 0
	err := in.products.each(func(p odoo.Record) error {
		if !opened {
			r.w.S("<!-- products -->\n<items>\n")
			opened = true
		}
		tp := m.templates[p.M2OID("product_tmpl_id")]
		if tp == nil {
			return nil
		}
		it := &item{ID: p.ID(), TmplID: tp.ID, UOMID: tp.UOMID, Code: p.String("code"), AttrValues: p.IDs("product_template_attribute_value_ids")}
		pname := p.String("name")
		switch {
		case it.Code != "" && short:
			it.Name, it.Description = it.Code, pname
		case it.Code != "":
			it.Name = "[" + it.Code + "] " + pname
		case len(it.AttrValues) > 0:
			it.Name = fmt.Sprintf("[%d] %s", p.ID(), pname)
			if short {
				it.Description = pname
			}
		default:
			it.Name = pname
			if short {
				it.Description = pname
			}
		}
		it.Name = truncRunes(it.Name, 300)
		it.Description = truncRunes(it.Description, 500)
		m.items[p.ID()] = it

		r.w.S("<item name=", xmlschema.QuoteAttr(it.Name))
		if short && it.Description != "" {
			r.w.S(" description=", xmlschema.QuoteAttr(it.Description))
		} else {
			r.w.S(" ") // the addon leaves two spaces where the description would be
		}
		cost := (tp.ListPrice + p.Float("price_extra")) / r.convertQty(1, tp.UOMID, tp.ID)
		if cost < 0 {
			cost = 0
		}
		r.w.S(" uom=", xmlschema.QuoteAttr(tp.UOMName),
			` volume="`, xmlschema.Fixed6(p.Float("volume")), `"`,
			` weight="`, xmlschema.Fixed6(p.Float("weight")), `"`,
			` cost="`, xmlschema.Fixed6(cost), `"`,
			` subcategory="`, fmt.Sprintf("%d,%d", tp.UOMID, p.ID()), `"`)
		if tp.MTO {
			r.w.S(` type="item_mto"`)
		}
		if r.init.hasExpiry && tp.ExpirationTime > 0 {
			r.w.S(` shelflife="`, xmlschema.TimedeltaDays(tp.ExpirationTime), `"`)
		}
		r.w.S(">")
		if cat, ok := m.categories[tp.Category]; ok {
			r.w.S("<owner name=", xmlschema.QuoteAttr(cat), "/>")
		}
		r.w.S("\n")
		if groups := suppliers[tp.ID]; tp.PurchaseOK && len(groups) > 0 {
			r.w.S("<itemsuppliers>\n")
			for _, g := range groups {
				r.w.S(`<itemsupplier leadtime="`, xmlschema.Days(g.delay), `" priority="`, xmlschema.PyInt(g.sequence),
					`" batchwindow="`, xmlschema.Days(g.batchWindow), `" size_minimum="`, xmlschema.Fixed6(g.minQty),
					`" cost="`, xmlschema.Fixed6(max(0, g.price)), `"`)
				if g.dateEnd != "" {
					r.w.S(` effective_end="`, g.dateEnd, `T00:00:00"`)
				}
				if g.dateStart != "" {
					r.w.S(` effective_start="`, g.dateStart, `T00:00:00"`)
				}
				r.w.S("><supplier name=", xmlschema.QuoteAttr(g.name), "/></itemsupplier>\n")
			}
			r.w.S("</itemsuppliers>\n")
		}
		r.w.S("</item>\n")
		n++
		return nil
	})
	if err != nil {
		return err
	}
	if opened {
		r.w.S("</items>\n")
	}
	r.counts["items"] = n
	return nil
}

func truncRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n])
}

// shortNames emulates the addon's SQL check (§3.4.12.2): items are named
// by their code when no two storable products, archived included and
// across all companies, share a key.
func (r *run) shortNames() (bool, error) {
	lang := r.p.Language
	if lang == "" {
		lang = "en_US"
	}
	all := odoo.Context{"active_test": false, "lang": lang}
	each := func(model string, domain odoo.Domain, fields []string, fn func(odoo.Record) error) error {
		q := odoo.Query{Fields: fields, Context: all}
		if r.s != r.base { // singlecompany: still across all companies
			return r.base.SearchReadEach(r.ctx, model, domain, q, fn)
		}
		return r.each(model, domain, q, fn) // through the cache when there is one
	}
	names := map[int]string{}
	err := each("product.template", odoo.Domain{odoo.Term("type", "not in", []any{"service", "consu"})}, []string{"name"}, func(t odoo.Record) error {
		names[t.ID()] = t.String("name")
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read product.template names: %w", err)
	}
	seen := map[string]bool{}
	short := true
	err = each("product.product", nil, []string{"default_code", "product_tmpl_id"}, func(p odoo.Record) error {
		name, ok := names[p.M2OID("product_tmpl_id")]
		if !ok {
			return nil
		}
		key := p.String("default_code")
		if key == "" {
			key = name
		}
		if seen[key] {
			short = false
		}
		seen[key] = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read product.product codes: %w", err)
	}
	return short, nil
}

// itemSuppliers groups supplier infos per template (§3.4.12.4) and records
// subcontractors for the BOM export.
func (r *run) itemSuppliers(infos []odoo.Record) map[int][]*supplierGroup {
	out := map[int][]*supplierGroup{}
	index := map[string]*supplierGroup{}
	for _, si := range infos {
		tp := r.master.templates[si.M2OID("product_tmpl_id")]
		if tp == nil || !tp.PurchaseOK {
			continue
		}
		name, ok := r.master.customers[si.M2OID("partner_id")]
		if !ok {
			r.warnOnce("product.supplierinfo", si.ID(), "supplier not exported (archived partner?); skipped")
			continue
		}
		seq := si.Int("sequence")
		if si.Bool("is_subcontractor") {
			prio := seq
			if prio == 0 {
				prio = 1
			}
			sc := subcontractor{Name: name, PartnerID: si.M2OID("partner_id"), Delay: si.Float("delay"), Priority: prio, SizeMinimum: si.Float("min_qty")}
			if r.p.Fixes.D14 {
				tp.Subcontractors = append(tp.Subcontractors, sc)
			} else {
				tp.Subcontractors = []subcontractor{sc} // D14: only the last survives
			}
			continue
		}
		start := si.String("date_start")
		key := fmt.Sprintf("%d\x00%s\x00%s", tp.ID, name, start)
		g, ok := index[key]
		if !ok {
			g = &supplierGroup{name: name, delay: si.Float("delay"), sequence: seq, batchWindow: si.Float("batching_window"),
				minQty: si.Float("min_qty"), price: si.Float("price"), dateStart: start, dateEnd: si.String("date_end")}
			if g.sequence == 0 {
				g.sequence = 1
			}
			index[key] = g
			out[tp.ID] = append(out[tp.ID], g)
			continue
		}
		g.delay = minNonZero(g.delay, si.Float("delay"))
		g.sequence = int(minNonZero(float64(g.sequence), float64(seq)))
		g.batchWindow = max(g.batchWindow, si.Float("batching_window"))
		g.minQty = minNonZero(g.minQty, si.Float("min_qty"))
		g.price = minNonZero(g.price, si.Float("price"))
		if e := si.String("date_end"); e > g.dateEnd || (e == "" && false) {
			g.dateEnd = e
		}
	}
	return out
}

func minNonZero(a, b float64) float64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

var _ = strings.TrimSpace
