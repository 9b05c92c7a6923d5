package shop

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// ProductResult counts a product import.
type ProductResult struct {
	Items    int `json:"items"`
	Created  int `json:"created"`  // templates created
	Updated  int `json:"updated"`  // templates written again
	Variants int `json:"variants"` // products created
	Same     int `json:"same"`     // mapped and not modified since: untouched
}

// ImportProducts imports a shop's on-sale items modified in [from, to):
// one template per item, one product per SKU (or one for an item without
// SKUs). Items already mapped are updated in place.
func (s *Service) ImportProducts(ctx context.Context, name string, from, to time.Time) (ProductResult, error) {
	var res ProductResult
	sh, p, err := s.open(name)
	if err != nil {
		return res, err
	}
	items, err := p.Items(ctx, from, to)
	if err != nil {
		return res, errf("import products of "+name, err)
	}
	for _, it := range items {
		res.Items++
		if err := s.importItem(ctx, sh, it, &res); err != nil {
			return res, fmt.Errorf("import item %s of %s: %w", it.NumIID, name, err)
		}
	}
	s.log().Info("products imported", "shop", name, "items", res.Items, "created", res.Created, "updated", res.Updated)
	return res, nil
}

// code is the internal reference: the outer id, else the numeric id.
func code(outer, id string) string {
	if outer != "" {
		return outer
	}
	return id
}

// attrValue is one "pid:vid:Name:Value" pair of properties_name.
type attrValue struct{ Attr, Value string }

func parseProperties(s string) []attrValue {
	var out []attrValue
	for _, part := range strings.Split(s, ";") {
		f := strings.SplitN(part, ":", 4)
		if len(f) == 4 {
			out = append(out, attrValue{f[2], f[3]})
		}
	}
	return out
}

func (s *Service) importItem(ctx context.Context, sh store.Shop, it Item, res *ProductResult) error {
	o := s.Odoo
	tmplVals := map[string]any{"name": it.Title, "list_price": it.Price, "sale_ok": true, "detailed_type": "product"}
	if len(it.SKUs) == 0 {
		tmplVals["default_code"] = code(it.OuterID, it.NumIID)
	}
	prev, mapped, err := s.Store.ItemMapping(sh.Name, it.NumIID, "")
	if err != nil {
		return err
	}
	tmpl := prev.Template
	if mapped && prev.Modified == FormatTime(it.Modified) {
		res.Same++
		return nil
	}
	if mapped {
		if err := o.Write(ctx, "product.template", []int{tmpl}, tmplVals); err != nil {
			return errf("update product.template", err)
		}
		res.Updated++
	} else {
		if tmpl, err = o.Create(ctx, "product.template", tmplVals); err != nil {
			return errf("create product.template", err)
		}
		res.Created++
	}
	if len(it.SKUs) == 0 {
		prod := prev.Product
		if prod == 0 {
			if prod, err = s.variant(ctx, tmpl, nil, code(it.OuterID, it.NumIID), res); err != nil {
				return err
			}
		}
		return s.mapped(ctx, sh, it.NumIID, "", tmpl, prod, it.Modified)
	}
	// Attributes and values, found by name or created, then one line per attribute.
	valueIDs := map[attrValue]int{}
	var attrs []string
	attrValues := map[string][]int{}
	for _, sku := range it.SKUs {
		for _, av := range parseProperties(sku.PropertiesName) {
			if _, ok := valueIDs[av]; ok {
				continue
			}
			vid, aid, err := s.attributeValue(ctx, av)
			if err != nil {
				return err
			}
			valueIDs[av] = vid
			if _, ok := attrValues[av.Attr]; !ok {
				attrs = append(attrs, av.Attr)
			}
			attrValues[av.Attr] = append(attrValues[av.Attr], vid)
			_ = aid
		}
	}
	lines, err := o.SearchRead(ctx, "product.template.attribute.line", odoo.Domain{odoo.Term("product_tmpl_id", "=", tmpl)},
		odoo.Query{Fields: []string{"attribute_id", "value_ids"}})
	if err != nil {
		return errf("read attribute lines", err)
	}
	lineOf := map[int]odoo.Record{}
	for _, l := range lines {
		lineOf[l.M2OID("attribute_id")] = l
	}
	var cmds []any
	for _, a := range attrs {
		aid, err := s.attribute(ctx, a)
		if err != nil {
			return err
		}
		if l, ok := lineOf[aid]; ok {
			have := map[int]bool{}
			for _, v := range l.IDs("value_ids") {
				have[v] = true
			}
			var add []any
			for _, v := range attrValues[a] {
				if !have[v] {
					add = append(add, []any{4, v})
				}
			}
			if len(add) > 0 {
				cmds = append(cmds, []any{1, l.ID(), map[string]any{"value_ids": add}})
			}
			continue
		}
		cmds = append(cmds, []any{0, 0, map[string]any{"attribute_id": aid, "value_ids": []any{[]any{6, 0, toAny(attrValues[a])}}}})
	}
	if len(cmds) > 0 {
		if err := o.Write(ctx, "product.template", []int{tmpl}, map[string]any{"attribute_line_ids": cmds}); err != nil {
			return errf("write attribute lines", err)
		}
	}
	for _, sku := range it.SKUs {
		m, ok, err := s.Store.ItemMapping(sh.Name, it.NumIID, sku.SKUID)
		if err != nil {
			return err
		}
		c := code(sku.OuterID, sku.SKUID)
		prod := m.Product
		if !ok {
			var vals []int
			for _, av := range parseProperties(sku.PropertiesName) {
				vals = append(vals, valueIDs[av])
			}
			if prod, err = s.variant(ctx, tmpl, vals, c, res); err != nil {
				return err
			}
		} else if err := o.Write(ctx, "product.product", []int{prod}, map[string]any{"default_code": c}); err != nil {
			return errf("update product.product", err)
		}
		if err := s.mapped(ctx, sh, it.NumIID, sku.SKUID, tmpl, prod, it.Modified); err != nil {
			return err
		}
	}
	return s.mapped(ctx, sh, it.NumIID, "", tmpl, 0, it.Modified)
}

func toAny(ids []int) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// variant finds the template's product with the given attribute values
// (Odoo makes variants itself when a template or its lines change) and
// sets its internal reference; where none exists it is created.
func (s *Service) variant(ctx context.Context, tmpl int, values []int, ref string, res *ProductResult) (int, error) {
	o := s.Odoo
	prods, err := o.SearchRead(ctx, "product.product", odoo.Domain{odoo.Term("product_tmpl_id", "=", tmpl)},
		odoo.Query{Fields: []string{"default_code", "product_template_attribute_value_ids"}, Context: odoo.Context{"active_test": false}})
	if err != nil {
		return 0, errf("read variants", err)
	}
	want := map[int]bool{}
	for _, v := range values {
		want[v] = true
	}
	for _, p := range prods {
		if p.String("default_code") == ref {
			return p.ID(), nil
		}
	}
	for _, p := range prods {
		ptavs := p.IDs("product_template_attribute_value_ids")
		if len(values) == 0 && len(ptavs) == 0 && p.String("default_code") == "" {
			return p.ID(), o.Write(ctx, "product.product", []int{p.ID()}, map[string]any{"default_code": ref})
		}
		if len(values) > 0 && len(ptavs) == len(values) {
			recs, err := o.Read(ctx, "product.template.attribute.value", ptavs, odoo.Query{Fields: []string{"product_attribute_value_id"}})
			if err != nil {
				return 0, errf("read variant values", err)
			}
			match := true
			for _, r := range recs {
				match = match && want[r.M2OID("product_attribute_value_id")]
			}
			if match {
				return p.ID(), o.Write(ctx, "product.product", []int{p.ID()}, map[string]any{"default_code": ref})
			}
		}
	}
	id, err := o.Create(ctx, "product.product", map[string]any{"product_tmpl_id": tmpl, "default_code": ref})
	if err != nil {
		return 0, errf("create product.product", err)
	}
	res.Variants++
	return id, nil
}

func (s *Service) attribute(ctx context.Context, name string) (int, error) {
	ids, err := s.Odoo.Search(ctx, "product.attribute", odoo.Domain{odoo.Term("name", "=", name)}, odoo.Query{Limit: 1})
	if err != nil {
		return 0, errf("find product.attribute "+name, err)
	}
	if len(ids) > 0 {
		return ids[0], nil
	}
	id, err := s.Odoo.Create(ctx, "product.attribute", map[string]any{"name": name, "create_variant": "always"})
	if err != nil {
		return 0, errf("create product.attribute "+name, err)
	}
	return id, nil
}

func (s *Service) attributeValue(ctx context.Context, av attrValue) (value, attr int, err error) {
	if attr, err = s.attribute(ctx, av.Attr); err != nil {
		return 0, 0, err
	}
	ids, err := s.Odoo.Search(ctx, "product.attribute.value",
		odoo.Domain{odoo.Term("attribute_id", "=", attr), odoo.Term("name", "=", av.Value)}, odoo.Query{Limit: 1})
	if err != nil {
		return 0, 0, errf("find product.attribute.value "+av.Value, err)
	}
	if len(ids) > 0 {
		return ids[0], attr, nil
	}
	id, err := s.Odoo.Create(ctx, "product.attribute.value", map[string]any{"name": av.Value, "attribute_id": attr})
	if err != nil {
		return 0, 0, errf("create product.attribute.value "+av.Value, err)
	}
	return id, attr, nil
}

// mapped stores the mapping and, for a product, its stock-sync record.
func (s *Service) mapped(ctx context.Context, sh store.Shop, item, sku string, tmpl, prod int, modified time.Time) error {
	if err := s.Store.PutItemMapping(store.ItemMapping{Shop: sh.Name, ItemID: item, SKUID: sku, Template: tmpl, Product: prod,
		Modified: FormatTime(modified), Updated: s.now()}); err != nil {
		return err
	}
	if prod == 0 || sh.StockLocation == 0 {
		return nil
	}
	recs, err := s.Store.StockSyncs(sh.Name)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.Location == sh.StockLocation && r.Product == prod {
			return nil
		}
	}
	return s.Store.PutStockSync(store.StockSync{Shop: sh.Name, Location: sh.StockLocation, Product: prod, ItemID: item, SKUID: sku, Sync: true})
}
