package shop_test

import (
	"context"
	"errors"
	"testing"

	"github.com/plangate/plangate/store"
)

// TestShopOfAnotherDatabaseIsNotRun: a session of one database never runs
// another database's shop, whatever the caller asks; nothing is written.
func TestShopOfAnotherDatabaseIsNotRun(t *testing.T) {
	f := startFlow(t)
	if _, err := f.st.AdoptShops("another_db"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before := len(f.emu.Journal())
	for name, run := range map[string]func() error{
		"import products": func() error { _, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo); return err },
		"import orders":   func() error { _, err := f.svc.ImportOrders(ctx, "demo", paid, winFrom, winTo); return err },
		"sync stock":      func() error { _, err := f.svc.SyncStock(ctx, "demo"); return err },
	} {
		if err := run(); !errors.Is(err, store.ErrOtherDatabase) {
			t.Errorf("%s: err = %v, want ErrOtherDatabase", name, err)
		}
	}
	if n := len(f.emu.Journal()); n != before {
		t.Errorf("%d writes to Odoo for another database's shop", n-before)
	}
	for _, m := range []string{"taobao.items.onsale.get", "taobao.trades.sold.get", "taobao.item.quantity.update"} {
		if got := f.fp.Calls(m); got != 0 {
			t.Errorf("the platform got %d calls of %s", got, m)
		}
	}
}
