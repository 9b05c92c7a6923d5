package shop

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/store"
)

// Service syncs the shops kept in a store with one Odoo database.
type Service struct {
	Store *store.Store
	Odoo  *odoo.Session
	// Platform opens a shop's platform (nil: the registry's Open).
	Platform func(sh store.Shop) (Platform, error)
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	Log *slog.Logger
	// HTTP is the client of calls outside a Platform, such as the OAuth
	// token exchange (nil: http.DefaultClient).
	HTTP *http.Client
	// StaleReservation is how old a reservation of a trade with no order in
	// Odoo must be before another import takes it over (default 10 min):
	// younger ones belong to an import still running.
	StaleReservation time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) open(ctx context.Context, name string) (store.Shop, Platform, error) {
	// Never write one database's orders and stock with another's shop.
	sh, err := s.shop(name)
	if err != nil {
		return store.Shop{}, nil, err
	}
	if sh, err = s.freshSession(ctx, sh); err != nil {
		return store.Shop{}, nil, err
	}
	open := s.Platform
	if open == nil {
		open = Open
	}
	p, err := open(sh)
	if err != nil {
		return store.Shop{}, nil, err
	}
	return sh, p, nil
}

// SyncResult sums up a full sync of a shop.
type SyncResult struct {
	Products ProductResult `json:"products"`
	Orders   OrderResult   `json:"orders"`
	Stock    StockResult   `json:"stock"`
}

// Sync imports products modified and orders created in [from, to) with
// the given status, then pushes stock.
func (s *Service) Sync(ctx context.Context, name, status string, from, to time.Time) (SyncResult, error) {
	var r SyncResult
	var err error
	if r.Products, err = s.ImportProducts(ctx, name, from, to); err != nil {
		return r, err
	}
	if r.Orders, err = s.ImportOrders(ctx, name, status, from, to); err != nil {
		return r, err
	}
	r.Stock, err = s.SyncStock(ctx, name)
	return r, err
}

func errf(op string, err error) error { return fmt.Errorf("%s: %w", op, err) }
