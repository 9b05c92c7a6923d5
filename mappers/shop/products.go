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
	// Matched counts the items/SKUs linked to an existing Odoo product
	// whose internal reference is their outer id.
	Matched int `json:"matched"`
	// Unmapped lists the items/SKUs left without a product: map them
	// explicitly (MapItem); their orders wait until then.
	Unmapped []Unmapped `json:"unmapped,omitempty"`
}

// Unmapped is an item/SKU an import linked to no product, and why.
type Unmapped struct {
	ItemID  string `json:"item_id"`
	SKUID   string `json:"sku_id,omitempty"`
	OuterID string `json:"outer_id,omitempty"`
	Reason  string `json:"reason"`
}

// ImportProducts imports a shop's on-sale items modified in [from, to).
// An item or SKU not mapped yet whose outer id is the internal reference
// (default_code) of exactly one Odoo product is linked to that product,
// which is left as it is. The others become one template per item and
// one product per SKU (or one for an item without SKUs), updated in
// place on later imports; but the SKUs of an item whose other SKUs were
// linked to existing products are not created (the item has no template
// of ours to put them in): they are listed as unmapped.
func (s *Service) ImportProducts(ctx context.Context, name string, from, to time.Time) (ProductResult, error) {
	var res ProductResult
	sh, p, err := s.open(ctx, name)
	if err != nil {
		return res, err
	}
	items, err := p.Items(ctx, from, to)
	if err != nil {
		return res, errf("import products of "+name, err)
	}
	refs, err := s.productsByRef(ctx, sh, items)
	if err != nil {
		return res, err
	}
	for _, it := range items {
		res.Items++
		if err := s.importItem(ctx, sh, it, refs, &res); err != nil {
			return res, fmt.Errorf("import item %s of %s: %w", it.NumIID, name, err)
		}
	}
	s.log().Info("products imported", "shop", name, "items", res.Items, "created", res.Created, "updated", res.Updated,
		"matched", res.Matched, "unmapped", len(res.Unmapped))
	return res, nil
}

// refProduct is an Odoo product found by internal reference.
type refProduct struct{ product, template int }

// productsByRef reads, in one call, the active products whose internal
// reference is the outer id of an item or SKU not mapped yet.
func (s *Service) productsByRef(ctx context.Context, sh store.Shop, items []Item) (map[string][]refProduct, error) {
	var refs []any
	seen := map[string]bool{}
	want := func(item, sku, outer string) error {
		if outer == "" || seen[outer] {
			return nil
		}
		m, ok, err := s.Store.ItemMapping(sh.Name, item, sku)
		if err != nil {
			return err
		}
		if !ok || m.Product == 0 {
			seen[outer] = true
			refs = append(refs, outer)
		}
		return nil
	}
	for _, it := range items {
		if len(it.SKUs) == 0 {
			if err := want(it.NumIID, "", it.OuterID); err != nil {
				return nil, err
			}
		}
		for _, sku := range it.SKUs {
			if err := want(it.NumIID, sku.SKUID, sku.OuterID); err != nil {
				return nil, err
			}
		}
	}
	out := map[string][]refProduct{}
	if len(refs) == 0 {
		return out, nil
	}
	recs, err := s.Odoo.SearchRead(ctx, "product.product", odoo.Domain{odoo.Term("default_code", "in", refs)},
		odoo.Query{Fields: []string{"default_code", "product_tmpl_id"}})
	if err != nil {
		return nil, errf("find products by internal reference", err)
	}
	for _, r := range recs {
		c := r.String("default_code")
		out[c] = append(out[c], refProduct{product: r.ID(), template: r.M2OID("product_tmpl_id")})
	}
	return out, nil
}

// match finds the one product with internal reference outer; ambiguous
// says why there is none to take when several have it.
func match(refs map[string][]refProduct, outer string) (p refProduct, ok bool, ambiguous string) {
	if outer == "" {
		return p, false, ""
	}
	switch got := refs[outer]; len(got) {
	case 0:
		return p, false, ""
	case 1:
		return got[0], true, ""
	default:
		return p, false, fmt.Sprintf("%d products have the internal reference %q", len(got), outer)
	}
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

func (s *Service) importItem(ctx context.Context, sh store.Shop, it Item, refs map[string][]refProduct, res *ProductResult) error {
	o := s.Odoo
	modified := FormatTime(it.Modified)
	tmplVals := map[string]any{"name": it.Title, "list_price": it.Price, "sale_ok": true, "detailed_type": "product"}
	if len(it.SKUs) == 0 {
		tmplVals["default_code"] = code(it.OuterID, it.NumIID)
	}
	prev, mapped, err := s.Store.ItemMapping(sh.Name, it.NumIID, "")
	if err != nil {
		return err
	}
	if mapped && prev.Modified == modified {
		res.Same++
		return nil
	}
	// own is the template of ours the item's new products go in (0: none yet).
	own := 0
	if mapped && prev.Ours() {
		own = prev.Template
	}
	if len(it.SKUs) == 0 {
		switch {
		case mapped && prev.Product != 0 && !prev.Ours():
			// Linked to a product of the user's: Odoo's record is the master.
			res.Same++
			return s.mapped(ctx, sh, it.NumIID, "", prev.Template, prev.Product, modified, prev.Source)
		case !mapped || prev.Product == 0:
			if m, ok, amb := match(refs, it.OuterID); ok {
				res.Matched++
				return s.mapped(ctx, sh, it.NumIID, "", m.template, m.product, modified, store.MappingMatched)
			} else if amb != "" {
				res.Unmapped = append(res.Unmapped, Unmapped{ItemID: it.NumIID, OuterID: it.OuterID, Reason: amb})
				return nil
			}
		}
		if own != 0 {
			if err := o.Write(ctx, "product.template", []int{own}, tmplVals); err != nil {
				return errf("update product.template", err)
			}
			res.Updated++
		} else {
			if own, err = o.Create(ctx, "product.template", tmplVals); err != nil {
				return errf("create product.template", err)
			}
			res.Created++
		}
		prod := prev.Product
		if prod == 0 {
			if prod, err = s.variant(ctx, own, nil, code(it.OuterID, it.NumIID), res); err != nil {
				return err
			}
		}
		return s.mapped(ctx, sh, it.NumIID, "", own, prod, modified, store.MappingCreated)
	}

	// Sort the SKUs: mapped already, linked now to existing products, or to create.
	type skuMap struct {
		sku  SKU
		m    store.ItemMapping
		have bool
	}
	var keep []skuMap
	var create []SKU
	linked := 0 // template of the first SKU linked to a product of the user's
	for _, sku := range it.SKUs {
		m, ok, err := s.Store.ItemMapping(sh.Name, it.NumIID, sku.SKUID)
		if err != nil {
			return err
		}
		if ok && m.Product != 0 {
			keep = append(keep, skuMap{sku, m, true})
			if !m.Ours() && linked == 0 {
				linked = m.Template
			}
			continue
		}
		if p, ok, amb := match(refs, sku.OuterID); ok {
			res.Matched++
			keep = append(keep, skuMap{sku, store.ItemMapping{Template: p.template, Product: p.product, Source: store.MappingMatched}, false})
			if linked == 0 {
				linked = p.template
			}
			continue
		} else if amb != "" {
			res.Unmapped = append(res.Unmapped, Unmapped{ItemID: it.NumIID, SKUID: sku.SKUID, OuterID: sku.OuterID, Reason: amb})
			continue
		}
		create = append(create, sku)
	}
	if own == 0 && linked != 0 {
		for _, sku := range create {
			res.Unmapped = append(res.Unmapped, Unmapped{ItemID: it.NumIID, SKUID: sku.SKUID, OuterID: sku.OuterID,
				Reason: fmt.Sprintf("no product has the internal reference %q, and the item's other SKUs are existing products: map it explicitly", sku.OuterID)})
		}
		create = nil
	}
	if own != 0 {
		if err := o.Write(ctx, "product.template", []int{own}, tmplVals); err != nil {
			return errf("update product.template", err)
		}
		res.Updated++
	} else if len(create) > 0 {
		if own, err = o.Create(ctx, "product.template", tmplVals); err != nil {
			return errf("create product.template", err)
		}
		res.Created++
	}
	valueIDs, err := s.attributeLines(ctx, own, create)
	if err != nil {
		return err
	}
	for _, k := range keep {
		c := code(k.sku.OuterID, k.sku.SKUID)
		if k.have && k.m.Ours() {
			if err := o.Write(ctx, "product.product", []int{k.m.Product}, map[string]any{"default_code": c}); err != nil {
				return errf("update product.product", err)
			}
		}
		src := k.m.Source
		if src == "" {
			src = store.MappingCreated
		}
		if err := s.mapped(ctx, sh, it.NumIID, k.sku.SKUID, k.m.Template, k.m.Product, modified, src); err != nil {
			return err
		}
	}
	for _, sku := range create {
		var vals []int
		for _, av := range parseProperties(sku.PropertiesName) {
			vals = append(vals, valueIDs[av])
		}
		prod, err := s.variant(ctx, own, vals, code(sku.OuterID, sku.SKUID), res)
		if err != nil {
			return err
		}
		if err := s.mapped(ctx, sh, it.NumIID, sku.SKUID, own, prod, modified, store.MappingCreated); err != nil {
			return err
		}
	}
	tmpl, src := own, store.MappingCreated
	if own == 0 {
		tmpl, src = linked, store.MappingMatched
	}
	if tmpl == 0 {
		return nil // every SKU unmapped: nothing to remember
	}
	return s.mapped(ctx, sh, it.NumIID, "", tmpl, 0, modified, src)
}

// attributeLines gives template tmpl the attributes and values of the SKUs
// to create (found by name or created), one line per attribute, and
// returns the value ids.
func (s *Service) attributeLines(ctx context.Context, tmpl int, skus []SKU) (map[attrValue]int, error) {
	o := s.Odoo
	valueIDs := map[attrValue]int{}
	if len(skus) == 0 {
		return valueIDs, nil
	}
	var attrs []string
	attrValues := map[string][]int{}
	for _, sku := range skus {
		for _, av := range parseProperties(sku.PropertiesName) {
			if _, ok := valueIDs[av]; ok {
				continue
			}
			vid, _, err := s.attributeValue(ctx, av)
			if err != nil {
				return nil, err
			}
			valueIDs[av] = vid
			if _, ok := attrValues[av.Attr]; !ok {
				attrs = append(attrs, av.Attr)
			}
			attrValues[av.Attr] = append(attrValues[av.Attr], vid)
		}
	}
	lines, err := o.SearchRead(ctx, "product.template.attribute.line", odoo.Domain{odoo.Term("product_tmpl_id", "=", tmpl)},
		odoo.Query{Fields: []string{"attribute_id", "value_ids"}})
	if err != nil {
		return nil, errf("read attribute lines", err)
	}
	lineOf := map[int]odoo.Record{}
	for _, l := range lines {
		lineOf[l.M2OID("attribute_id")] = l
	}
	var cmds []any
	for _, a := range attrs {
		aid, err := s.attribute(ctx, a)
		if err != nil {
			return nil, err
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
			return nil, errf("write attribute lines", err)
		}
	}
	return valueIDs, nil
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

// mapped stores the mapping and, for a product, its stock-sync record at
// the shop's location, enabled or not by the shop's policy. A record of
// the item/SKU for another product (it was mapped elsewhere before) goes.
func (s *Service) mapped(ctx context.Context, sh store.Shop, item, sku string, tmpl, prod int, modified, source string) error {
	if err := s.Store.PutItemMapping(store.ItemMapping{Shop: sh.Name, ItemID: item, SKUID: sku, Template: tmpl, Product: prod,
		Modified: modified, Updated: s.now(), Source: source}); err != nil {
		return err
	}
	if prod == 0 || sh.StockLocation == 0 {
		return nil
	}
	recs, err := s.Store.StockSyncs(sh.Name)
	if err != nil {
		return err
	}
	exists := false
	for _, r := range recs {
		switch {
		case r.Location == sh.StockLocation && r.Product == prod:
			exists = true
		case r.Location == sh.StockLocation && r.ItemID == item && r.SKUID == sku:
			if err := s.Store.DeleteStockSync(sh.Name, r.Location, r.Product); err != nil {
				return err
			}
		}
	}
	if exists {
		return nil
	}
	return s.Store.PutStockSync(store.StockSync{Shop: sh.Name, Location: sh.StockLocation, Product: prod, ItemID: item, SKUID: sku,
		Sync: sh.NewStockSyncsEnabled})
}
