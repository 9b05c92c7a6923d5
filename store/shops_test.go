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

// A trade is claimed once, however many imports try at once: goroutines of
// one process, or two replicas sharing etcd (see replicas).
func TestReserveTradeOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testReserveTradeOnce(t, b) })
	}
}

func testReserveTradeOnce(t *testing.T, b backendCase) {
	s, other := replicas(t, b)
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for i := 0; i < 8; i++ {
		st := []*Store{s, other}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := st.ReserveTrade("tb", "1001", "TB1001", now)
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

// TestShopOwnership: a shop belongs to one database. Saves of another
// database, creates of a taken name and moves to another platform or API
// URL without the secrets are refused in the transaction that would write;
// shops saved before owners existed are adopted in one go.
func TestShopOwnership(t *testing.T) { forEachBackend(t, testShopOwnership) }

func testShopOwnership(t *testing.T, s *Store) {
	now := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	base := Shop{Name: "tb", Database: "a", Platform: "taobao", APIURL: "https://gw.example/router", AppKey: "k", AppSecret: "sec", SessionKey: "sess"}
	if err := s.CreateShop(base, now); err != nil {
		t.Fatal(err)
	}
	with := func(f func(*Shop)) Shop { sh := base; f(&sh); return sh }
	for _, tc := range []struct {
		name string
		save func() error
		want error
	}{
		{"create again", func() error { return s.CreateShop(base, now) }, ErrShopExists},
		{"create again from another database", func() error { return s.CreateShop(with(func(sh *Shop) { sh.Database = "b" }), now) }, ErrShopExists},
		{"save from another database", func() error { return s.SaveShop(with(func(sh *Shop) { sh.Database = "b" }), now) }, ErrOtherDatabase},
		{"new api_url without secrets", func() error {
			return s.SaveShop(with(func(sh *Shop) { sh.APIURL, sh.AppSecret, sh.SessionKey = "https://evil.example/", "", "" }), now)
		}, ErrSecretsRequired},
		{"new api_url with only the app secret", func() error {
			return s.SaveShop(with(func(sh *Shop) { sh.APIURL, sh.SessionKey = "https://evil.example/", "" }), now)
		}, ErrSecretsRequired},
		{"api_url dropped (platform default) without secrets", func() error {
			return s.SaveShop(with(func(sh *Shop) { sh.APIURL, sh.AppSecret, sh.SessionKey = "", "", "" }), now)
		}, ErrSecretsRequired},
		{"new platform without secrets", func() error {
			return s.SaveShop(with(func(sh *Shop) { sh.Platform, sh.AppSecret, sh.SessionKey = "taobao-sandbox", "", "" }), now)
		}, ErrSecretsRequired},
		{"new token_url without secrets", func() error {
			return s.SaveShop(with(func(sh *Shop) { sh.TokenURL, sh.AppSecret, sh.SessionKey = "https://evil.example/token", "", "" }), now)
		}, ErrSecretsRequired},
		{"name with NUL", func() error { return s.SaveShop(with(func(sh *Shop) { sh.Name = "tb\x00x" }), now) }, nil},
	} {
		err := tc.save()
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: saved", tc.name)
			}
		} else if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		if sh, _ := s.Shop("tb"); sh.APIURL != base.APIURL || sh.Database != "a" || sh.AppSecret != "sec" || sh.Platform != "taobao" {
			t.Fatalf("%s changed the shop: %+v", tc.name, sh)
		}
	}
	// The same URL without secrets keeps them; the CLI's empty database keeps the owner.
	if err := s.SaveShop(with(func(sh *Shop) { sh.Database, sh.AppSecret, sh.SessionKey, sh.OrderPrefix = "", "", "", "TB" }), now); err != nil {
		t.Fatal(err)
	}
	// A move with both secrets again is fine.
	if err := s.SaveShop(with(func(sh *Shop) { sh.APIURL, sh.AppSecret, sh.SessionKey = "https://gw2.example/", "sec2", "sess2" }), now); err != nil {
		t.Fatal(err)
	}
	if sh, _ := s.Shop("tb"); sh.Database != "a" || sh.APIURL != "https://gw2.example/" || sh.AppSecret != "sec2" || sh.SessionKey != "sess2" {
		t.Errorf("after the move: %+v", sh)
	}
	if err := s.DeleteShopOf("b", "tb"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete from another database: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Shop("tb"); err != nil {
		t.Fatalf("a delete from another database removed the shop: %v", err)
	}
	if err := s.DeleteShopOf("a", "tb"); err != nil {
		t.Fatal(err)
	}

	// Shops saved before owners existed: adopted together, the owned ones left alone.
	for _, sh := range []Shop{{Name: "old1"}, {Name: "old2"}, {Name: "mine", Database: "c"}} {
		if err := s.SaveShop(sh, now); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AdoptShops("a")
	if err != nil || len(got) != 2 || got[0] != "old1" || got[1] != "old2" {
		t.Fatalf("adopted %v, %v; want [old1 old2]", got, err)
	}
	if again, _ := s.AdoptShops("b"); len(again) != 0 {
		t.Errorf("a second adoption took %v", again)
	}
	for name, db := range map[string]string{"old1": "a", "old2": "a", "mine": "c"} {
		if sh, _ := s.Shop(name); sh.Database != db {
			t.Errorf("%s belongs to %q, want %q", name, sh.Database, db)
		}
	}
}

// A failed or stale attempt is taken over by one import only, however
// many try at once on however many replicas; a failure is recorded only
// by the attempt that holds the trade, and success forgets it.
func TestTakeOverTradeOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testTakeOverTradeOnce(t, b) })
	}
}

func testTakeOverTradeOnce(t *testing.T, b backendCase) {
	s, other := replicas(t, b)
	now := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	first, fresh, err := s.ReserveTrade("tb", "1001", "TB1001", now)
	if err != nil || !fresh || first.Attempts != 1 {
		t.Fatalf("reserve: %+v %v %v", first, fresh, err)
	}
	if err := s.FailTrade(first, "isv.trade-not-exist", now); err != nil {
		t.Fatal(err)
	}
	seen, _, _ := s.Trade("tb", "1001")
	if !seen.Failed || seen.Error != "isv.trade-not-exist" || !seen.FailedAt.Equal(now) {
		t.Fatalf("after the failure: %+v", seen)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []TradeMapping
	for i := 0; i < 8; i++ {
		st := []*Store{s, other}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, ok, err := st.TakeOverTrade(seen, now.Add(time.Second))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won = append(won, m)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || won[0].Attempts != 2 || won[0].Failed {
		t.Fatalf("takeovers won: %+v, want one at attempt 2", won)
	}
	// The first attempt, late, cannot mark the second one failed.
	if err := s.FailTrade(first, "late", now); err != nil {
		t.Fatal(err)
	}
	if m, _, _ := s.Trade("tb", "1001"); m.Failed || m.Error != "isv.trade-not-exist" {
		t.Errorf("a stale attempt's failure was recorded: %+v", m)
	}
	if err := s.CompleteTrade("tb", "1001", 42); err != nil {
		t.Fatal(err)
	}
	if m, _, _ := s.Trade("tb", "1001"); !m.Done || m.Failed || m.Error != "" || m.Order != 42 {
		t.Errorf("after completion: %+v", m)
	}
	if _, ok, _ := s.TakeOverTrade(won[0], now); ok {
		t.Error("a done trade was taken over")
	}
}

func TestStockSyncSwitch(t *testing.T) { forEachBackend(t, testStockSyncSwitch) }

func testStockSyncSwitch(t *testing.T, s *Store) {
	now := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	if _, err := s.SetStockSync("tb", 8, 5, true, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("switching a missing record: %v", err)
	}
	if err := s.PutStockSync(StockSync{Shop: "tb", Location: 8, Product: 5, ItemID: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordPush(StockPush{Shop: "tb", Location: 8, Product: 5, Time: now, Quantity: 4, OK: true}); err != nil {
		t.Fatal(err)
	}
	r, err := s.SetStockSync("tb", 8, 5, true, now)
	if err != nil || !r.Sync || !r.Pending || !r.Changed.Equal(now) {
		t.Errorf("turned on: %+v %v, want sync and pending", r, err)
	}
	if err := s.DeleteStockSync("tb", 8, 5); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.StockSync("tb", 8, 5); found {
		t.Error("deleted record still there")
	}
}
