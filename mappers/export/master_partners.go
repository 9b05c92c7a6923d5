package export

import (
	"fmt"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// individuals is the one customer all persons without company map to.
const individuals = "Individuals"

// loadCustomers streams the partners to writeCustomers.
func (r *run) loadCustomers() (func() error, error) {
	partners := r.stream("res.partner", odoo.Domain{"|", odoo.Term("parent_id", "=", false), odoo.Term("parent_id.active", "=", true)},
		odoo.Query{Fields: []string{"name", "parent_id", "is_company"}, Order: "parent_id desc"})
	return func() error { return r.writeCustomers(partners) }, nil
}

// writeCustomers maps partners to customers (§3.4.6): companies by name
// and id, persons without company to "Individuals", contacts to their
// company. Parents come first (order parent_id desc puts NULLs first).
func (r *run) writeCustomers(partners *recordStream) error {
	m := &r.master
	m.customers = map[int]string{}
	m.partnerOrder = nil
	opened := false
	written := map[string]bool{}
	n := 0
	err := partners.each(func(p odoo.Record) error {
		id := p.ID()
		parent := p.M2OID("parent_id")
		var name string
		switch {
		case p.Bool("is_company"):
			name = fmt.Sprintf("%s %d", p.String("name"), id)
		case parent == 0 || parent == id:
			name = individuals
		default:
			pn, ok := m.customers[parent]
			if !ok {
				return nil // parent not mapped (e.g. a grandchild): skipped, as the addon does
			}
			m.customers[id] = pn
			m.partnerOrder = append(m.partnerOrder, id)
			return nil
		}
		m.customers[id] = name
		m.partnerOrder = append(m.partnerOrder, id)
		if name == individuals && written[name] {
			return nil
		}
		written[name] = true
		if !opened {
			r.w.S("<!-- customers -->\n<customers>\n")
			opened = true
		}
		r.w.S("<customer name=", xmlschema.QuoteAttr(name), "/>\n")
		n++
		return nil
	})
	if err != nil {
		return err
	}
	if opened {
		r.w.S("</customers>\n")
	}
	r.counts["customers"] = n
	return nil
}

// loadSuppliers repeats every mapped partner as a supplier, duplicates
// included (§3.4.7); frePPLe merges them.
func (r *run) loadSuppliers() (func() error, error) { return writeOnly(r.writeSuppliers) }

func (r *run) writeSuppliers() error {
	m := &r.master
	if len(m.partnerOrder) == 0 {
		return nil
	}
	r.w.S("<!-- suppliers -->\n<suppliers>\n")
	for _, id := range m.partnerOrder {
		r.w.S("<supplier name=", xmlschema.QuoteAttr(m.customers[id]), "/>\n")
	}
	r.w.S("</suppliers>\n")
	r.counts["suppliers"] = len(m.partnerOrder)
	return nil
}
