package store

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestShopSecretsKeptOnUpdate(t *testing.T) { forEachBackend(t, testShopSecretsKeptOnUpdate) }

func testShopSecretsKeptOnUpdate(t *testing.T, s *Store) {
	now := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	if err := s.SaveShop(Shop{Name: "tb", AppKey: "k", AppSecret: "sec", SessionKey: "sess", OrderPrefix: "TB"}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveShop(Shop{Name: "tb", AppKey: "k2", OrderPrefix: "TB-"}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	sh, err := s.Shop("tb")
	if err != nil {
		t.Fatal(err)
	}
	if sh.AppSecret != "sec" || sh.SessionKey != "sess" || sh.AppKey != "k2" || sh.OrderPrefix != "TB-" {
		t.Errorf("shop after update = %+v", sh)
	}
	if !sh.Created.Equal(now) || !sh.Updated.Equal(now.Add(time.Hour)) {
		t.Errorf("created/updated = %v/%v", sh.Created, sh.Updated)
	}
	if r := sh.Redacted(); r.AppSecret != "" || r.SessionKey != "" {
		t.Errorf("redacted keeps secrets: %+v", r)
	}
	if err := s.DeleteShop("tb"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Shop("tb"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: err = %v, want ErrNotFound", err)
	}
}

func TestReserveTradeOnce(t *testing.T) { forEachBackend(t, testReserveTradeOnce) }

func testReserveTradeOnce(t *testing.T, s *Store) {
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.ReserveTrade("tb", "1001", "TB1001", now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d reservations won, want 1", fresh)
	}
	if err := s.CompleteTrade("tb", "1001", 42); err != nil {
		t.Fatal(err)
	}
	m, ok, err := s.Trade("tb", "1001")
	if err != nil || !ok || m.Order != 42 || !m.Done {
		t.Errorf("trade = %+v %v %v", m, ok, err)
	}
}

func TestRecordPush(t *testing.T) { forEachBackend(t, testRecordPush) }

func testRecordPush(t *testing.T, s *Store) {
	if err := s.PutStockSync(StockSync{Shop: "tb", Location: 8, Product: 5, ItemID: "1", Sync: true}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	steps := []struct {
		push        StockPush
		wantQty     float64
		wantPending bool
	}{
		{StockPush{Shop: "tb", Location: 8, Product: 5, Time: t0, Quantity: 7, OK: true}, 7, false},
		{StockPush{Shop: "tb", Location: 8, Product: 5, Time: t0.Add(time.Minute), Quantity: 3, Error: "isp.timeout"}, 7, true},
		{StockPush{Shop: "tb", Location: 8, Product: 5, Time: t0.Add(2 * time.Minute), Quantity: 3, OK: true}, 3, false},
	}
	for i, st := range steps {
		if err := s.RecordPush(st.push); err != nil {
			t.Fatal(err)
		}
		rs, err := s.StockSyncs("tb")
		if err != nil || len(rs) != 1 {
			t.Fatalf("step %d: %v %v", i, rs, err)
		}
		if rs[0].LastQty != st.wantQty || rs[0].Pending != st.wantPending {
			t.Errorf("step %d: qty %v pending %v, want %v %v", i, rs[0].LastQty, rs[0].Pending, st.wantQty, st.wantPending)
		}
	}
	ps, err := s.StockPushes("tb")
	if err != nil || len(ps) != 3 || ps[1].OK {
		t.Errorf("history = %+v %v", ps, err)
	}
}
