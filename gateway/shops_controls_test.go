package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/gateway"
)

const shopWin = "?from=2026-11-01T00:00:00Z&to=2026-11-30T00:00:00Z"

// TestShopPlatformErrors: every shop endpoint that calls the platform
// answers 502 naming the platform's error (code, sub code and message) or
// that it could not be reached, never 500; a refused run of every trade
// or every push keeps what it recorded for the next run.
func TestShopPlatformErrors(t *testing.T) {
	denied := fakeshop.Fault{Code: 11, Msg: "Insufficient isv permissions", SubCode: "isv.permission-api-package-limit", SubMsg: "scope ungranted"}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there any more
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, r *shopRig) // before the call
		method string
		path   string
		want   []string
	}{
		{"import products", func(t *testing.T, r *shopRig) { r.fp.Fail("taobao.items.onsale.get", 1, denied) },
			"POST", "/shops/demo/import-products" + shopWin, []string{"error 11 Insufficient isv permissions", "isv.permission-api-package-limit: scope ungranted", "taobao.items.onsale.get"}},
		{"import orders: the listing", func(t *testing.T, r *shopRig) { r.fp.Fail("taobao.trades.sold.get", 1, denied) },
			"POST", "/shops/demo/import-orders" + shopWin, []string{"error 11", "isv.permission-api-package-limit", "taobao.trades.sold.get"}},
		{"import orders: every trade", func(t *testing.T, r *shopRig) {
			r.importProducts(t)
			r.fp.Fail("taobao.trade.fullinfo.get", 3, denied)
		}, "POST", "/shops/demo/import-orders" + shopWin, []string{"error 11", "taobao.trade.fullinfo.get"}},
		{"missing orders", func(t *testing.T, r *shopRig) { r.fp.Fail("taobao.trades.sold.get", 1, denied) },
			"GET", "/shops/demo/missing-orders" + shopWin, []string{"error 11", "taobao.trades.sold.get"}},
		{"sync stock: every push", func(t *testing.T, r *shopRig) {
			r.importProducts(t)
			if got := r.do(t, "PATCH", "/shops/demo/stock-syncs", `{"sync":true}`, "admin", ""); got.status != 200 {
				t.Fatalf("enable: %d %s", got.status, got.body)
			}
			r.fp.Fail("taobao.item.quantity.update", 5, denied)
		}, "POST", "/shops/demo/sync-stock", []string{"error 11", "taobao.item.quantity.update"}},
		{"unreachable", func(t *testing.T, r *shopRig) {
			body := strings.Replace(demoShopJSON(closed.URL), `"name":"demo",`, "", 1)
			if got := r.do(t, "PUT", "/shops/demo", body, "admin", ""); got.status != 200 {
				t.Fatalf("move: %d %s", got.status, got.body)
			}
		}, "GET", "/shops/demo/missing-orders" + shopWin, []string{"platform is unreachable", "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startShopRig(t, gateway.Config{DefaultDatabase: "odoo17"})
			if got := r.do(t, "POST", "/shops", demoShopJSON(r.fs.URL), "admin", ""); got.status != 201 {
				t.Fatalf("create: %d %s", got.status, got.body)
			}
			tc.setup(t, r)
			got := r.do(t, tc.method, tc.path, "", "admin", "")
			if got.status != http.StatusBadGateway {
				t.Errorf("%d %s, want 502", got.status, got.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.body, w) {
					t.Errorf("answer %s lacks %q", got.body, w)
				}
			}
			if strings.Contains(got.body, closed.URL) {
				t.Errorf("the answer names the platform's address: %s", got.body)
			}
		})
	}
}

func (r *shopRig) importProducts(t *testing.T) {
	t.Helper()
	if got := r.do(t, "POST", "/shops/demo/import-products"+shopWin, "", "admin", ""); got.status != 200 {
		t.Fatalf("import products: %d %s", got.status, got.body)
	}
}

// TestShopMappingAndStockSyncAPI: an item/SKU is mapped to an existing
// product by id and an unknown product is refused, changing nothing; one
// stock-sync record is turned on by location and product, and a record
// for a product mapped nowhere, or at a location Odoo lacks, is refused.
func TestShopMappingAndStockSyncAPI(t *testing.T) {
	r := startShopRig(t, gateway.Config{DefaultDatabase: "odoo17"})
	if got := r.do(t, "POST", "/shops", demoShopJSON(r.fs.URL), "admin", ""); got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.body)
	}
	r.importProducts(t)
	lamp, _, _ := r.st.ItemMapping("demo", "610000000001", "")
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"unknown product", "PUT", "/shops/demo/items/610000000001", `{"product":999999}`, 400, "product.product 999999 in database odoo17"},
		{"no product", "PUT", "/shops/demo/items/610000000001", `{}`, 400, `product\" (a product.product id) is required`},
		{"bad sku id", "PUT", "/shops/demo/items/610000000002/skus/%01", `{"product":20}`, 400, "no control characters"},
		{"map the lamp to product 20", "PUT", "/shops/demo/items/610000000001", `{"product":20}`, 200, `"source": "manual"`},
		{"listed", "GET", "/shops/demo/items", "", 200, `"product": 20`},
		{"turn one on", "PATCH", "/shops/demo/stock-syncs/8/20", `{"sync":true}`, 200, `"sync": true`},
		{"product mapped nowhere", "PUT", "/shops/demo/stock-syncs/8/21", `{"sync":true}`, 400, "mapped to no item"},
		{"location Odoo lacks", "PUT", "/shops/demo/stock-syncs/99999/20", `{"sync":true}`, 400, "stock.location 99999"},
		{"bad location", "PUT", "/shops/demo/stock-syncs/x/20", `{"sync":true}`, 400, "not an id"},
		{"only product 20", "GET", "/shops/demo/stock-syncs?product=20", "", 200, `"item_id": "610000000001"`},
	} {
		got := r.do(t, tc.method, tc.path, tc.body, "admin", "")
		if got.status != tc.status || !strings.Contains(got.body, tc.contains) {
			t.Errorf("%s: %d %s, want %d containing %q", tc.name, got.status, got.body, tc.status, tc.contains)
		}
		if tc.status == 400 {
			if m, _, _ := r.st.ItemMapping("demo", "610000000001", ""); tc.name != "bad sku id" && m.Product != lamp.Product && m.Product != 20 {
				t.Errorf("%s changed the mapping: %+v", tc.name, m)
			}
		}
	}
	var v struct {
		Records []struct {
			Product int
			Sync    bool
		}
	}
	got := r.do(t, "GET", "/shops/demo/stock-syncs", "", "admin", "")
	if err := json.Unmarshal([]byte(got.body), &v); err != nil {
		t.Fatal(err)
	}
	on := 0
	for _, rec := range v.Records {
		if rec.Product == lamp.Product {
			t.Errorf("the lamp's old product %d keeps a stock-sync record after the remap", lamp.Product)
		}
		if rec.Sync {
			on++
		}
	}
	if len(v.Records) != 5 || on != 1 {
		t.Errorf("%d records, %d on; want 5 and 1: %s", len(v.Records), on, got.body)
	}
	if got := r.do(t, "POST", "/shops/demo/sync-stock", "", "admin", ""); !strings.Contains(got.body, `"pushed": 1`) {
		t.Errorf("sync stock: %d %s, want one push", got.status, got.body)
	}
	if u := r.fp.Updates(); len(u) != 1 || u[0].NumIID != "610000000001" {
		t.Errorf("pushed %+v, want the lamp only", u)
	}
}

// TestShopOAuth: the seller authorises the app over real HTTP at the
// fake platform's authorize page, which sends the browser to the
// gateway's callback; the gateway exchanges the code at the token URL and
// keeps the new Session Key, with which the imports then run (the old
// one is refused from then on). A forged state is refused before
// anything is sent, a code the platform refuses is a 502 naming its error.
func TestShopOAuth(t *testing.T) {
	r := startShopRig(t, gateway.Config{DefaultDatabase: "odoo17"})
	callback := r.gw.URL + "/shops/demo/oauth-callback?database=odoo17"
	body := strings.TrimSuffix(demoShopJSON(r.fs.URL), "}") + `,"auth_url":"` + r.fs.URL + `/authorize","token_url":"` + r.fs.URL +
		`/token","redirect_uri":"` + callback + `"}`
	if got := r.do(t, "POST", "/shops", body, "admin", ""); got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.body)
	}
	got := r.do(t, "GET", "/shops/demo/authorize", "", "admin", "")
	var a struct {
		URL   string `json:"authorize_url"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(got.body), &a); err != nil || got.status != 200 {
		t.Fatalf("authorize: %d %s (%v)", got.status, got.body, err)
	}
	u, _ := url.Parse(a.URL)
	if q := u.Query(); q.Get("client_id") != fakeshop.DemoAppKey || q.Get("response_type") != "code" || q.Get("redirect_uri") != callback || q.Get("state") != a.State {
		t.Errorf("authorize URL %s", a.URL)
	}
	// The seller's browser: the platform redirects it to the callback.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(back, r.gw.URL+"/shops/demo/oauth-callback?") {
		t.Fatalf("authorize page: %d to %q", res.StatusCode, back)
	}
	bu, _ := url.Parse(back)
	code := bu.Query().Get("code")
	path := strings.TrimPrefix(back, r.gw.URL)

	forged := strings.Replace(path, "state=", "state=1"+"x", 1)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"forged state", "GET", forged, "", 400, "not one this gateway issued"},
		{"no code", "POST", "/shops/demo/oauth-token", `{"state":"` + a.State + `"}`, 400, "code and state are required"},
		{"seller refused", "GET", "/shops/demo/oauth-callback?error=access_denied&error_description=authorize%20reject", "", 400, "access_denied"},
		{"code the platform does not know", "POST", "/shops/demo/oauth-token", `{"code":"made-up","state":"` + a.State + `"}`, 502, "invalid_grant: code doesn't exist"},
	} {
		got := r.do(t, tc.method, tc.path, tc.body, "admin", "")
		if got.status != tc.status || !strings.Contains(got.body, tc.contains) {
			t.Errorf("%s: %d %s, want %d containing %q", tc.name, got.status, got.body, tc.status, tc.contains)
		}
		if sh, _ := r.st.Shop("demo"); sh.SessionKey != fakeshop.DemoSession {
			t.Fatalf("%s changed the session key", tc.name)
		}
	}
	if n := r.fp.Calls("oauth.token"); n != 1 {
		t.Errorf("%d token requests, want 1 (only the made-up code's): refusals must not reach the platform", n)
	}
	got = r.do(t, "GET", path, "", "admin", "")
	if got.status != 200 || !strings.Contains(got.body, `"seller_nick": "`+fakeshop.SellerNick+`"`) {
		t.Fatalf("callback: %d %s", got.status, got.body)
	}
	sh, _ := r.st.Shop("demo")
	if sh.SessionKey != r.fp.CurrentSession() || sh.SessionKey == fakeshop.DemoSession || sh.RefreshToken == "" || sh.SessionExpires.IsZero() {
		t.Errorf("shop after the callback: session %q (platform's %q), refresh %q, expires %v", sh.SessionKey, r.fp.CurrentSession(), sh.RefreshToken, sh.SessionExpires)
	}
	if strings.Contains(got.body, sh.SessionKey) || strings.Contains(r.do(t, "GET", "/shops/demo", "", "admin", "").body, sh.RefreshToken) {
		t.Error("the new secrets leave the API")
	}
	if got := r.do(t, "POST", "/shops/demo/import-products"+shopWin, "", "admin", ""); got.status != 200 {
		t.Errorf("import with the new session key: %d %s", got.status, got.body)
	}
	// The code is used: replaying the callback is the platform's refusal.
	if got := r.do(t, "GET", path, "", "admin", ""); got.status != 502 || !strings.Contains(got.body, "invalid_grant") {
		t.Errorf("replayed code %s: %d %s", code, got.status, got.body)
	}
}
