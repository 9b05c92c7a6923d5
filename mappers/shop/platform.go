// Package shop syncs marketplace shops with Odoo: products and SKUs in,
// paid orders in, available stock out. Marketplaces sit behind Platform;
// the Taobao Open Platform (TOP) is the first implementation.
package shop

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/plangate/plangate/store"
)

// Item is a product on sale in a shop.
type Item struct {
	NumIID   string
	Title    string
	OuterID  string
	Price    float64
	Quantity int
	Modified time.Time
	SKUs     []SKU
}

// SKU is a variant of an item.
type SKU struct {
	SKUID          string
	OuterID        string
	PropertiesName string // "pid:vid:Name:Value;..."
	Price          float64
	Quantity       int
}

// Trade is a buyer's order.
type Trade struct {
	TID          string
	Status       string
	BuyerNick    string
	Receiver     Address
	BuyerMessage string
	SellerMemo   string
	PostFee      float64
	DiscountFee  float64
	Payment      float64
	Created      time.Time
	PayTime      time.Time
	Modified     time.Time
	Orders       []OrderLine
}

// Address is a trade's delivery address.
type Address struct {
	Name, State, City, District, Address, Zip, Mobile, Phone string
}

// OrderLine is one line of a trade.
type OrderLine struct {
	OID         string
	NumIID      string
	SKUID       string
	Title       string
	Num         int
	Price       float64
	DiscountFee float64
	Gift        bool
}

// Platform is a marketplace API. Implementations page and retry on their own.
type Platform interface {
	// Items lists on-sale items (with their SKUs) modified in [from, to).
	Items(ctx context.Context, from, to time.Time) ([]Item, error)
	// Trades lists the ids of trades with status created in [from, to).
	Trades(ctx context.Context, status string, from, to time.Time) ([]string, error)
	// Trade reads one trade in full.
	Trade(ctx context.Context, tid string) (Trade, error)
	// UpdateQuantity sets the sellable quantity of an item or, with sku, of a SKU.
	UpdateQuantity(ctx context.Context, item, sku string, qty int) error
}

// Factory builds a Platform for a shop's configuration.
type Factory func(sh store.Shop) (Platform, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register makes a platform available under name.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[name] = f
}

// Platforms lists the registered platform names.
func Platforms() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Open builds the platform of a shop.
func Open(sh store.Shop) (Platform, error) {
	registryMu.RLock()
	f := registry[sh.Platform]
	registryMu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("shop %s: unknown platform %q (known: %v)", sh.Name, sh.Platform, Platforms())
	}
	return f(sh)
}
