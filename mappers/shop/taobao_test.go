package shop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

// The expected signatures were computed outside Go (Python hashlib/hmac)
// from the algorithm as TOP documents it.
func TestSign(t *testing.T) {
	p := map[string]string{"method": "taobao.item.seller.get", "app_key": "12345678", "timestamp": "2026-11-24 14:00:00",
		"v": "2.0", "format": "json", "fields": "num_iid,title", "num_iid": "11223344", "session": ""}
	for _, tc := range []struct{ method, want string }{
		{shop.SignMD5, "981DDE2B472138FA2CBA06023DF53A5C"},
		{shop.SignHMAC, "7804667A5A4F441AD0B7E71412BD0BDE"},
	} {
		p["sign_method"] = tc.method
		if got := shop.Sign(p, "helloworld", tc.method); got != tc.want {
			t.Errorf("Sign(%s) = %s, want %s", tc.method, got, tc.want)
		}
	}
}

func TestTimeGMT8(t *testing.T) {
	u := time.Date(2026, 11, 23, 18, 30, 0, 0, time.UTC)
	if got, want := shop.FormatTime(u), "2026-11-24 02:30:00"; got != want {
		t.Errorf("FormatTime = %s, want %s", got, want)
	}
	back, err := shop.ParseTime("2026-11-24 02:30:00")
	if err != nil || !back.Equal(u) {
		t.Errorf("ParseTime = %v %v, want %v", back, err, u)
	}
}

func newClient(t *testing.T, sign string) (*shop.Taobao, *fakeshop.Platform) {
	t.Helper()
	fp := fakeshop.New()
	srv := fakeshop.Start(fp)
	t.Cleanup(srv.Close)
	c := shop.NewTaobao(store.Shop{AppKey: fakeshop.DemoAppKey, AppSecret: fakeshop.DemoSecret,
		SessionKey: fakeshop.DemoSession, SignMethod: sign, APIURL: srv.URL}, "")
	c.Backoff = time.Millisecond
	c.PageSize = 1 // every list call pages
	return c, fp
}

var (
	from = time.Date(2026, 11, 1, 0, 0, 0, 0, shop.Beijing)
	to   = time.Date(2026, 11, 30, 0, 0, 0, 0, shop.Beijing)
)

func TestTaobaoMethods(t *testing.T) {
	for _, sm := range []string{shop.SignMD5, shop.SignHMAC} {
		t.Run(sm, func(t *testing.T) {
			ctx := context.Background()
			c, fp := newClient(t, sm)
			items, err := c.Items(ctx, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 3 || fp.Calls("taobao.items.onsale.get") != 3 {
				t.Fatalf("%d items in %d pages, want 3 in 3", len(items), fp.Calls("taobao.items.onsale.get"))
			}
			if got := len(items[1].SKUs); got != 3 || items[1].SKUs[2].OuterID != "TEE-BLU-M" || items[1].SKUs[2].Price != 62 {
				t.Errorf("SKUs of %s = %+v", items[1].NumIID, items[1].SKUs)
			}
			tids, err := c.Trades(ctx, "WAIT_SELLER_SEND_GOODS", from, to)
			if err != nil || len(tids) != 3 {
				t.Fatalf("trades = %v %v, want 3", tids, err)
			}
			tr, err := c.Trade(ctx, "3900000000002")
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Orders) != 3 || !tr.Orders[2].Gift || tr.Orders[0].SKUID != "4100000000021" || tr.BuyerNick != "lily_w" {
				t.Errorf("trade = %+v", tr)
			}
			// 23:55 in Beijing is 15:55 UTC the same day.
			if got, want := tr.PayTime.UTC(), time.Date(2026, 11, 21, 15, 55, 0, 0, time.UTC); !got.Equal(want) {
				t.Errorf("pay time %v, want %v", got, want)
			}
			if err := c.UpdateQuantity(ctx, "610000000002", "4100000000022", 9); err != nil {
				t.Fatal(err)
			}
			if q, _ := fp.Quantity("610000000002", "4100000000022"); q != 9 {
				t.Errorf("quantity after update = %d, want 9", q)
			}
		})
	}
}

func TestTaobaoErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		setup     func(c *shop.Taobao, fp *fakeshop.Platform)
		wantErr   bool
		wantCode  int
		wantCalls int
	}{
		{"rate limit recovered", func(c *shop.Taobao, fp *fakeshop.Platform) {
			fp.Fail("taobao.trade.fullinfo.get", 2, fakeshop.RateLimit)
		}, false, 0, 3},
		{"isp error recovered", func(c *shop.Taobao, fp *fakeshop.Platform) {
			fp.Fail("taobao.trade.fullinfo.get", 1, fakeshop.ServiceError)
		}, false, 0, 2},
		{"retries exhausted", func(c *shop.Taobao, fp *fakeshop.Platform) {
			c.Retries = 2
			fp.Fail("taobao.trade.fullinfo.get", 5, fakeshop.ServiceError)
		}, true, 15, 3},
		{"bad secret not retried", func(c *shop.Taobao, fp *fakeshop.Platform) { c.AppSecret = "wrong" }, true, 25, 1},
		{"bad session not retried", func(c *shop.Taobao, fp *fakeshop.Platform) { c.Session = "expired" }, true, 27, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, fp := newClient(t, shop.SignMD5)
			tc.setup(c, fp)
			_, err := c.Trade(ctx, "3900000000001")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			var te *shop.TOPError
			if tc.wantErr && (!errors.As(err, &te) || te.Code != tc.wantCode) {
				t.Errorf("err = %v, want TOP code %d", err, tc.wantCode)
			}
			if got := fp.Calls("taobao.trade.fullinfo.get"); got != tc.wantCalls {
				t.Errorf("%d calls, want %d", got, tc.wantCalls)
			}
		})
	}
}
