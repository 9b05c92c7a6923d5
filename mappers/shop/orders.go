package shop

import (
	"context"
	"errors"
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
	Retried   int      `json:"retried"`   // of the missing, trades whose earlier import had failed
	// Failed lists the trades whose import failed this time, with the
	// reason: nothing was created for them and the next import retries
	// them at once.
	Failed []FailedTrade `json:"failed"`
	// Unconfirmed lists orders created but whose confirmation failed:
	// they stay quotations and are not imported again.
	Unconfirmed []FailedTrade `json:"unconfirmed,omitempty"`
	first       error
}

// FailedTrade is a trade whose import failed, and why.
type FailedTrade struct {
	TID      string `json:"tid"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
}

// Err is the first trade's failure when no order was imported although
// some failed (the platform or Odoo refusing everything, say); nil when
// nothing failed or something went through.
func (r OrderResult) Err() error {
	if r.Imported == 0 && r.first != nil {
		return r.first
	}
	return nil
}

const odooTime = "2006-01-02 15:04:05"

// MissingOrders lists the trades with status created in [from, to) that
// have no sales order in Odoo yet.
func (s *Service) MissingOrders(ctx context.Context, name, status string, from, to time.Time) (all, missing []string, err error) {
	sh, p, err := s.open(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	return s.missing(ctx, sh, p, status, from, to)
}

// MissingTrade is a trade of the window that has no sales order in Odoo.
type MissingTrade struct {
	TID   string `json:"tid"`
	Order string `json:"order"` // the sales order name it gets
	// State: "new" (never tried), "failed" (the last import failed: Error
	// says why; the next import retries it), "importing" (an import holds
	// it now) or "gone" (imported once, its order since deleted in Odoo:
	// imports leave it alone).
	State    string    `json:"state"`
	Error    string    `json:"error,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	FailedAt time.Time `json:"failed_at,omitempty"`
}

// MissingReport is a missing-order check of a shop's window.
type MissingReport struct {
	Shop    string         `json:"shop"`
	Status  string         `json:"status"`
	From    time.Time      `json:"from"`
	To      time.Time      `json:"to"`
	Window  int            `json:"window"` // trades on the platform in the window
	Missing []MissingTrade `json:"missing"`
}

// MissingReport is MissingOrders with what the state knows of each
// missing trade. It reads the platform and Odoo and writes nothing.
func (s *Service) MissingReport(ctx context.Context, name, status string, from, to time.Time) (MissingReport, error) {
	rep := MissingReport{Shop: name, Status: status, From: from, To: to, Missing: []MissingTrade{}}
	sh, p, err := s.open(ctx, name)
	if err != nil {
		return rep, err
	}
	all, missing, err := s.missing(ctx, sh, p, status, from, to)
	if err != nil {
		return rep, err
	}
	rep.Window = len(all)
	for _, tid := range missing {
		mt := MissingTrade{TID: tid, Order: sh.OrderPrefix + tid, State: "new"}
		m, found, err := s.Store.Trade(sh.Name, tid)
		if err != nil {
			return rep, err
		}
		if found {
			mt.Attempts, mt.Error = m.Attempts, m.Error
			switch {
			case m.Done:
				mt.State = "gone"
			case m.Failed:
				mt.State, mt.FailedAt = "failed", m.FailedAt
			default:
				mt.State = "importing"
			}
		}
		rep.Missing = append(rep.Missing, mt)
	}
	return rep, nil
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
// are missing from Odoo, each exactly once. A trade whose import fails is
// listed in the result's Failed with the reason, kept with its
// reservation too, which it releases: the next import retries it at
// once. The others go on; only a canceled context stops the run.
func (s *Service) ImportOrders(ctx context.Context, name, status string, from, to time.Time) (OrderResult, error) {
	res := OrderResult{Failed: []FailedTrade{}}
	sh, p, err := s.open(ctx, name)
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
		attempts, err := s.importTrade(ctx, sh, p, tid, &res)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("import trade %s of %s: %w", tid, name, err)
		}
		if res.first == nil {
			res.first = fmt.Errorf("import trade %s of %s: %w", tid, name, err)
		}
		res.Failed = append(res.Failed, FailedTrade{TID: tid, Error: err.Error(), Attempts: attempts})
		s.log().Warn("order import failed, retried next run", "shop", name, "tid", tid, "attempts", attempts, "err", err)
	}
	s.log().Info("orders imported", "shop", name, "window", res.Window, "missing", len(missing), "imported", res.Imported,
		"skipped", res.Skipped, "failed", len(res.Failed), "retried", res.Retried)
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

// importTrade imports one trade: it claims it (a new reservation, or a
// takeover of a failed or stale one), creates and confirms the order and
// completes the claim. A failure before the order exists releases the
// claim with its reason. It returns the trade's attempts so far.
func (s *Service) importTrade(ctx context.Context, sh store.Shop, p Platform, tid string, res *OrderResult) (int, error) {
	name := sh.OrderPrefix + tid
	m, fresh, err := s.Store.ReserveTrade(sh.Name, tid, name, s.now())
	if err != nil {
		return 0, err
	}
	if !fresh {
		if m.Done {
			res.Skipped++
			return m.Attempts, nil
		}
		// Reserved but not finished: the order may exist (a crash, or a
		// failure, after create) or another import may be creating it now.
		id, err := s.findOrder(ctx, name)
		if err != nil {
			return m.Attempts, err
		}
		if id != 0 {
			res.Skipped++
			return m.Attempts, s.Store.CompleteTrade(sh.Name, tid, id)
		}
		stale := s.StaleReservation
		if stale == 0 {
			stale = 10 * time.Minute
		}
		if !m.Failed && s.now().Sub(m.Reserved) < stale {
			res.Skipped++ // an import still running holds it
			return m.Attempts, nil
		}
		retry := m.Failed
		var won bool
		if m, won, err = s.Store.TakeOverTrade(m, s.now()); err != nil {
			return m.Attempts, err
		}
		if !won {
			res.Skipped++ // another import took it over first
			return m.Attempts, nil
		}
		if retry {
			res.Retried++
		}
	}
	id, err := s.createOrder(ctx, sh, p, tid, name)
	if err != nil {
		// Nothing was created, or a create whose answer was lost: the next
		// run looks the order up by name before it creates again.
		if ferr := s.Store.FailTrade(m, err.Error(), s.now()); ferr != nil {
			return m.Attempts, errors.Join(err, ferr)
		}
		return m.Attempts, err
	}
	res.Imported++
	if id.review {
		res.Review++
		return m.Attempts, s.Store.CompleteTrade(sh.Name, tid, id.order)
	}
	if _, err := s.Odoo.Call(ctx, "sale.order", "action_confirm", []any{[]any{id.order}}, nil); err != nil {
		// The order exists: importing it again would duplicate it.
		err = errf("confirm sale.order "+name, err)
		res.Review++
		res.Unconfirmed = append(res.Unconfirmed, FailedTrade{TID: tid, Error: err.Error(), Attempts: m.Attempts})
		s.log().Warn("order imported but not confirmed", "shop", sh.Name, "tid", tid, "err", err)
		return m.Attempts, s.Store.CompleteTradeNote(sh.Name, tid, id.order, "created, not confirmed: "+err.Error())
	}
	res.Confirmed++
	return m.Attempts, s.Store.CompleteTrade(sh.Name, tid, id.order)
}

// created is an order createOrder made; review: it waits for a person.
type created struct {
	order  int
	review bool
}

// createOrder reads the trade and creates its sales order.
func (s *Service) createOrder(ctx context.Context, sh store.Shop, p Platform, tid, name string) (created, error) {
	tr, err := p.Trade(ctx, tid)
	if err != nil {
		return created{}, err
	}
	partner, shipping, err := s.partner(ctx, sh, tr)
	if err != nil {
		return created{}, err
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
			return created{}, err
		}
		if !ok || mp.Product == 0 {
			return created{}, fmt.Errorf("line %s: item %s sku %q has no product (import products, or map it)", ol.OID, ol.NumIID, ol.SKUID)
		}
		price := ol.Price
		if ol.Gift {
			price = 0
		}
		line(mp.Product, ol.Title, float64(ol.Num), price)
	}
	if tr.PostFee != 0 {
		if sh.ShippingProduct == 0 {
			return created{}, fmt.Errorf("shop %s has no shipping product for post fee %.2f", sh.Name, tr.PostFee)
		}
		line(sh.ShippingProduct, "Shipping", 1, tr.PostFee)
	}
	if tr.DiscountFee != 0 {
		if sh.DiscountProduct == 0 {
			return created{}, fmt.Errorf("shop %s has no discount product for discount %.2f", sh.Name, tr.DiscountFee)
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
		return created{}, errf("create sale.order "+name, err)
	}
	// Orders with a buyer message or seller memo wait for a person.
	return created{order: id, review: tr.BuyerMessage != "" || tr.SellerMemo != ""}, nil
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
