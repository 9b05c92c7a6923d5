package shop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// Refusals of the mapping and stock-sync controls: the request names
// something that is not there. Nothing is changed.
var (
	ErrUnknownProduct  = errors.New("shop: no such product in Odoo")
	ErrUnknownLocation = errors.New("shop: no such internal stock location in Odoo")
	ErrNotMapped       = errors.New("shop: the product is mapped to no item of the shop")
	ErrBadID           = errors.New("shop: bad platform id")
)

// shop reads a shop of the session's database (as open, without the platform).
func (s *Service) shop(name string) (store.Shop, error) {
	sh, err := s.Store.Shop(name)
	if err != nil {
		return store.Shop{}, err
	}
	if sh.Database != "" && s.Odoo != nil && s.Odoo.DB != sh.Database {
		return store.Shop{}, fmt.Errorf("shop %q belongs to database %q, not %q: %w", name, sh.Database, s.Odoo.DB, store.ErrOtherDatabase)
	}
	return sh, nil
}

// checkID refuses platform ids that could reach into other records' keys.
func checkID(what, id string, required bool) error {
	if id == "" {
		if required {
			return fmt.Errorf("%s: empty: %w", what, ErrBadID)
		}
		return nil
	}
	if len(id) > 64 || strings.IndexFunc(id, func(r rune) bool { return unicode.IsControl(r) || r == '/' || r == unicode.ReplacementChar }) >= 0 {
		return fmt.Errorf("%s %.64q: at most 64 bytes, no control characters or slashes: %w", what, id, ErrBadID)
	}
	return nil
}

// MapItem links a shop's item (sku "") or SKU to an existing, active Odoo
// product, whatever an import made of it before: imports then leave the
// product as it is, and orders of the item/SKU get it. A product that
// does not exist (or is archived) is refused with ErrUnknownProduct.
func (s *Service) MapItem(ctx context.Context, name, item, sku string, product int) (store.ItemMapping, error) {
	if err := checkID("item id", item, true); err != nil {
		return store.ItemMapping{}, err
	}
	if err := checkID("sku id", sku, false); err != nil {
		return store.ItemMapping{}, err
	}
	sh, err := s.shop(name)
	if err != nil {
		return store.ItemMapping{}, err
	}
	if product <= 0 {
		return store.ItemMapping{}, fmt.Errorf("product %d: %w", product, ErrUnknownProduct)
	}
	recs, err := s.Odoo.SearchRead(ctx, "product.product", odoo.Domain{odoo.Term("id", "=", product)},
		odoo.Query{Fields: []string{"product_tmpl_id", "active"}, Context: odoo.Context{"active_test": false}})
	if err != nil {
		return store.ItemMapping{}, errf("read product.product", err)
	}
	if len(recs) == 0 {
		return store.ItemMapping{}, fmt.Errorf("product.product %d in database %s: %w", product, s.Odoo.DB, ErrUnknownProduct)
	}
	if !recs[0].Bool("active") {
		return store.ItemMapping{}, fmt.Errorf("product.product %d in database %s is archived: %w", product, s.Odoo.DB, ErrUnknownProduct)
	}
	prev, _, err := s.Store.ItemMapping(sh.Name, item, sku)
	if err != nil {
		return store.ItemMapping{}, err
	}
	if err := s.mapped(ctx, sh, item, sku, recs[0].M2OID("product_tmpl_id"), product, prev.Modified, store.MappingManual); err != nil {
		return store.ItemMapping{}, err
	}
	m, _, err := s.Store.ItemMapping(sh.Name, item, sku)
	s.log().Info("item mapped", "shop", sh.Name, "item", item, "sku", sku, "product", product, "before", prev.Product)
	return m, err
}

// SetStockSync turns the stock push of product at location on or off. A
// record missing there is made if the product is mapped to one item/SKU
// of the shop (ErrNotMapped otherwise) and location is an internal
// location of Odoo (ErrUnknownLocation otherwise).
func (s *Service) SetStockSync(ctx context.Context, name string, location, product int, sync bool) (store.StockSync, error) {
	sh, err := s.shop(name)
	if err != nil {
		return store.StockSync{}, err
	}
	if _, found, err := s.Store.StockSync(sh.Name, location, product); err != nil {
		return store.StockSync{}, err
	} else if found {
		return s.Store.SetStockSync(sh.Name, location, product, sync, s.now())
	}
	maps, err := s.Store.ItemMappings(sh.Name)
	if err != nil {
		return store.StockSync{}, err
	}
	var of []store.ItemMapping
	for _, m := range maps {
		if m.Product == product {
			of = append(of, m)
		}
	}
	if len(of) != 1 {
		return store.StockSync{}, fmt.Errorf("product %d (%d items/SKUs of shop %s have it): %w", product, len(of), sh.Name, ErrNotMapped)
	}
	ids, err := s.Odoo.Search(ctx, "stock.location", odoo.Domain{odoo.Term("id", "=", location), odoo.Term("usage", "=", "internal")},
		odoo.Query{Limit: 1})
	if err != nil {
		return store.StockSync{}, errf("find stock.location", err)
	}
	if len(ids) == 0 {
		return store.StockSync{}, fmt.Errorf("stock.location %d in database %s: %w", location, s.Odoo.DB, ErrUnknownLocation)
	}
	r := store.StockSync{Shop: sh.Name, Location: location, Product: product, ItemID: of[0].ItemID, SKUID: of[0].SKUID,
		Sync: sync, Changed: s.now()}
	if err := s.Store.PutStockSync(r); err != nil {
		return store.StockSync{}, err
	}
	return r, nil
}

// SetStockSyncs turns every stock-sync record of a shop on or off and
// returns them.
func (s *Service) SetStockSyncs(name string, sync bool) ([]store.StockSync, error) {
	sh, err := s.shop(name)
	if err != nil {
		return nil, err
	}
	recs, err := s.Store.StockSyncs(sh.Name)
	if err != nil {
		return nil, err
	}
	out := make([]store.StockSync, 0, len(recs))
	for _, r := range recs {
		r, err := s.Store.SetStockSync(sh.Name, r.Location, r.Product, sync, s.now())
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
