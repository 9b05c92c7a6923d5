package shop

import (
	"context"
	"fmt"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// OrderResult counts an order import.
type OrderResult struct {
	Window    int      `json:"window"`    // trades in the window
	Missing   []string `json:"missing"`   // of those, not in Odoo before the import
	Imported  int      `json:"imported"`  // sales orders created
	Confirmed int      `json:"confirmed"` // of those, confirmed
	Review    int      `json:"review"`    // of those, left as quotations (message or memo)
	Skipped   int      `json:"skipped"`   // already imported or being imported
}

const odooTime = "2006-01-02 15:04:05"

// MissingOrders lists the trades with status created in [from, to) that
// have no sales order in Odoo yet.
func (s *Service) MissingOrders(ctx context.Context, name, status string, from, to time.Time) (all, missing []string, err error) {
	sh, p, err := s.open(name)
	if err != nil {
		return nil, nil, err
	}
	return s.missing(ctx, sh, p, status, from, to)
}

func (s *Service) missing(ctx context.Context, sh store.Shop, p Platform, status string, from, to time.Time) (all, missing []string, err error) {
	all, err = p.Trades(ctx, status, from, to)
	if err != nil {
		return nil, nil, errf("list trades of "+sh.Name, err)
	}
	if len(all) == 0 {
		return all, nil, nil
	}
	names := make([]any, len(all))
	for i, tid := range all {
		names[i] = sh.OrderPrefix + tid
	}
	have := map[string]bool{}
	recs, err := s.Odoo.SearchRead(ctx, "sale.order", odoo.Domain{odoo.Term("name", "in", names)},
		odoo.Query{Fields: []string{"name"}, Context: odoo.Context{"active_test": false}})
	if err != nil {
		return nil, nil, errf("find imported sale.order", err)
	}
	for _, r := range recs {
		have[r.String("name")] = true
	}
	for _, tid := range all {
		if !have[sh.OrderPrefix+tid] {
			missing = append(missing, tid)
		}
	}
	return all, missing, nil
}

// ImportOrders imports the trades with status created in [from, to) that
// are missing from Odoo, each exactly once.
func (s *Service) ImportOrders(ctx context.Context, name, status string, from, to time.Time) (OrderResult, error) {
	var res OrderResult
	sh, p, err := s.open(name)
	if err != nil {
		return res, err
	}
	all, missing, err := s.missing(ctx, sh, p, status, from, to)
	if err != nil {
		return res, err
	}
	res.Window, res.Missing = len(all), missing
	if res.Missing == nil {
		res.Missing = []string{}
	}
	for _, tid := range missing {
		if err := s.importTrade(ctx, sh, p, tid, &res); err != nil {
			return res, fmt.Errorf("import trade %s of %s: %w", tid, name, err)
		}
	}
	s.log().Info("orders imported", "shop", name, "window", res.Window, "missing", len(missing), "imported", res.Imported, "skipped", res.Skipped)
	return res, nil
}

func (s *Service) findOrder(ctx context.Context, name string) (int, error) {
	ids, err := s.Odoo.Search(ctx, "sale.order", odoo.Domain{odoo.Term("name", "=", name)}, odoo.Query{Limit: 1, Context: odoo.Context{"active_test": false}})
	if err != nil {
		return 0, errf("find sale.order "+name, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

func (s *Service) importTrade(ctx context.Context, sh store.Shop, p Platform, tid string, res *OrderResult) error {
	name := sh.OrderPrefix + tid
	m, fresh, err := s.Store.ReserveTrade(sh.Name, tid, name, s.now())
	if err != nil {
		return err
	}
	if !fresh {
		if m.Done {
			res.Skipped++
			return nil
		}
		// Reserved but not finished: the order may exist (a crash after
		// create) or another import may be creating it right now.
		id, err := s.findOrder(ctx, name)
		if err != nil {
			return err
		}
		if id != 0 {
			res.Skipped++
			return s.Store.CompleteTrade(sh.Name, tid, id)
		}
		stale := s.StaleReservation
		if stale == 0 {
			stale = 10 * time.Minute
		}
		if s.now().Sub(m.Reserved) < stale {
			res.Skipped++
			return nil
		}
	}
	tr, err := p.Trade(ctx, tid)
	if err != nil {
		return err
	}
	partner, shipping, err := s.partner(ctx, sh, tr)
	if err != nil {
		return err
	}
	var lines []any
	line := func(product int, desc string, qty, price float64) {
		lines = append(lines, []any{0, 0, map[string]any{"product_id": product, "name": desc, "product_uom_qty": qty, "price_unit": price}})
	}
	for _, ol := range tr.Orders {
		if ol.Gift && sh.GiftProduct != 0 {
			line(sh.GiftProduct, ol.Title, float64(ol.Num), 0)
			continue
		}
		mp, ok, err := s.Store.ItemMapping(sh.Name, ol.NumIID, ol.SKUID)
		if err != nil {
			return err
		}
		if !ok || mp.Product == 0 {
			return fmt.Errorf("line %s: item %s sku %q not imported (import products first)", ol.OID, ol.NumIID, ol.SKUID)
		}
		price := ol.Price
		if ol.Gift {
			price = 0
		}
		line(mp.Product, ol.Title, float64(ol.Num), price)
	}
	if tr.PostFee != 0 {
		if sh.ShippingProduct == 0 {
			return fmt.Errorf("shop %s has no shipping product for post fee %.2f", sh.Name, tr.PostFee)
		}
		line(sh.ShippingProduct, "Shipping", 1, tr.PostFee)
	}
	if tr.DiscountFee != 0 {
		if sh.DiscountProduct == 0 {
			return fmt.Errorf("shop %s has no discount product for discount %.2f", sh.Name, tr.DiscountFee)
		}
		line(sh.DiscountProduct, "Discount", 1, -tr.DiscountFee)
	}
	vals := map[string]any{"name": name, "client_order_ref": tid, "partner_id": partner, "partner_invoice_id": partner,
		"partner_shipping_id": shipping, "order_line": lines, "origin": sh.Name}
	if !tr.Created.IsZero() {
		vals["date_order"] = tr.Created.UTC().Format(odooTime)
	}
	if sh.SalesJournal != 0 {
		vals["journal_id"] = sh.SalesJournal
	}
	id, err := s.Odoo.Create(ctx, "sale.order", vals)
	if err != nil {
		return errf("create sale.order "+name, err)
	}
	res.Imported++
	// Orders with a buyer message or seller memo wait for a person.
	if tr.BuyerMessage == "" && tr.SellerMemo == "" {
		if _, err := s.Odoo.Call(ctx, "sale.order", "action_confirm", []any{[]any{id}}, nil); err != nil {
			return errf("confirm sale.order "+name, err)
		}
		res.Confirmed++
	} else {
		res.Review++
	}
	return s.Store.CompleteTrade(sh.Name, tid, id)
}

// partner finds or creates the buyer (by nick, kept as ref) and its
// delivery address (a child contact with the same address).
func (s *Service) partner(ctx context.Context, sh store.Shop, tr Trade) (buyer, shipping int, err error) {
	o := s.Odoo
	ref := sh.Platform + ":" + tr.BuyerNick
	ids, err := o.Search(ctx, "res.partner", odoo.Domain{odoo.Term("ref", "=", ref), odoo.Term("parent_id", "=", false)}, odoo.Query{Limit: 1})
	if err != nil {
		return 0, 0, errf("find res.partner "+ref, err)
	}
	if len(ids) > 0 {
		buyer = ids[0]
	} else if buyer, err = o.Create(ctx, "res.partner", map[string]any{"name": tr.BuyerNick, "ref": ref}); err != nil {
		return 0, 0, errf("create res.partner "+ref, err)
	}
	a := tr.Receiver
	street := a.District + " " + a.Address
	phone := a.Mobile
	if phone == "" {
		phone = a.Phone
	}
	ids, err = o.Search(ctx, "res.partner", odoo.Domain{odoo.Term("parent_id", "=", buyer), odoo.Term("type", "=", "delivery"),
		odoo.Term("name", "=", a.Name), odoo.Term("street", "=", street), odoo.Term("city", "=", a.City), odoo.Term("zip", "=", a.Zip)}, odoo.Query{Limit: 1})
	if err != nil {
		return 0, 0, errf("find delivery address", err)
	}
	if len(ids) > 0 {
		return buyer, ids[0], nil
	}
	shipping, err = o.Create(ctx, "res.partner", map[string]any{"parent_id": buyer, "type": "delivery", "name": a.Name,
		"street": street, "city": a.City, "zip": a.Zip, "mobile": phone})
	if err != nil {
		return 0, 0, errf("create delivery address", err)
	}
	return buyer, shipping, nil
}
