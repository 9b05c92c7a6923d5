package shop

import (
	"context"
	"math"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// StockResult counts a stock push.
type StockResult struct {
	Records   int      `json:"records"`   // enabled records
	Disabled  int      `json:"disabled"`  // records whose sync is off: nothing sent
	Pushed    int      `json:"pushed"`    // quantities sent and accepted
	Unchanged int      `json:"unchanged"` // same as last push: nothing sent
	Failed    int      `json:"failed"`    // sent and refused; retried next run
	Errors    []string `json:"errors,omitempty"`
	first     error
}

// Err is the first push's failure when every push sent failed (the
// platform refusing them all, say); nil when none failed or some went
// through.
func (r StockResult) Err() error {
	if r.Pushed == 0 && r.first != nil {
		return r.first
	}
	return nil
}

// Available is on hand minus reserved of a product at a location and its children.
func (s *Service) Available(ctx context.Context, location, product int) (float64, error) {
	var qty float64
	err := s.Odoo.SearchReadEach(ctx, "stock.quant",
		odoo.Domain{odoo.Term("product_id", "=", product), odoo.Term("location_id", "child_of", location)},
		odoo.Query{Fields: []string{"quantity", "reserved_quantity"}}, func(r odoo.Record) error {
			qty += r.Float("quantity") - r.Float("reserved_quantity")
			return nil
		})
	if err != nil {
		return 0, errf("read stock.quant", err)
	}
	return qty, nil
}

// SyncStock pushes the available quantity of every enabled record of a
// shop whose quantity changed since its last accepted push (or whose last
// push failed). Every attempt is recorded; failures are counted and
// returned in the result, and stay pending for the next run.
func (s *Service) SyncStock(ctx context.Context, name string) (StockResult, error) {
	var res StockResult
	sh, p, err := s.open(ctx, name)
	if err != nil {
		return res, err
	}
	recs, err := s.Store.StockSyncs(sh.Name)
	if err != nil {
		return res, err
	}
	for _, r := range recs {
		if !r.Sync {
			res.Disabled++ // never pushed before someone (or the shop's policy) enables it
			continue
		}
		res.Records++
		avail, err := s.Available(ctx, r.Location, r.Product)
		if err != nil {
			return res, err
		}
		// Platforms take whole units; never advertise a negative stock.
		qty := math.Max(0, math.Floor(avail))
		if !r.LastPushed.IsZero() && !r.Pending && qty == r.LastQty {
			res.Unchanged++
			continue
		}
		push := store.StockPush{Shop: sh.Name, Location: r.Location, Product: r.Product, Time: s.now(), Quantity: qty, OK: true}
		if err := p.UpdateQuantity(ctx, r.ItemID, r.SKUID, int(qty)); err != nil {
			if ctx.Err() != nil {
				return res, err
			}
			push.OK, push.Error = false, err.Error()
			res.Failed++
			if res.first == nil {
				res.first = err
			}
			res.Errors = append(res.Errors, err.Error())
			s.log().Warn("stock push failed", "shop", sh.Name, "product", r.Product, "item", r.ItemID, "sku", r.SKUID, "err", err)
		} else {
			res.Pushed++
		}
		if err := s.Store.RecordPush(push); err != nil {
			return res, err
		}
	}
	return res, nil
}
