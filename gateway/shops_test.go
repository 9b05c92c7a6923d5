package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

func TestShopAPI(t *testing.T) {
	e := emulate(t, nil)
	ds, tr, st := e.ds, e.tr, tempStore(t)
	fp := fakeshop.New()
	fs := fakeshop.Start(fp)
	t.Cleanup(fs.Close)
	srv := gateway.New(gateway.Config{DefaultDatabase: ds.Database}, tr, st, quiet)
	srv.SetShops(&shop.Service{Store: st, Log: quiet})
	gw := httptest.NewServer(srv)
	t.Cleanup(gw.Close)

	do := func(method, path, body string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), method, gw.URL+path, strings.NewReader(body))
		if auth {
			req.SetBasicAuth("admin", "admin")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	shopJSON := `{"name":"demo","platform":"taobao-sandbox","order_prefix":"TB","shipping_product":1,"discount_product":2,` +
		`"gift_product":3,"stock_location":8,"app_key":"` + fakeshop.DemoAppKey + `","app_secret":"` + fakeshop.DemoSecret +
		`","session_key":"` + fakeshop.DemoSession + `","api_url":"` + fs.URL + `"}`
	// An update without secrets keeps the stored ones (the imports below need them).
	noSecrets := strings.NewReplacer(`"app_secret":"`+fakeshop.DemoSecret+`",`, "", `"session_key":"`+fakeshop.DemoSession+`",`, "").Replace(shopJSON)
	if strings.Contains(noSecrets, fakeshop.DemoSecret) {
		t.Fatal("test body still has the secret")
	}
	win := "?from=2026-11-01T00:00:00Z&to=2026-11-30T00:00:00Z"
	steps := []struct {
		name, method, path, body string
		auth                     bool
		status                   int
		contains                 string
	}{
		{"no credentials", "GET", "/shops", "", false, 401, ""},
		{"create", "POST", "/shops", shopJSON, true, 201, `"order_prefix": "TB"`},
		{"create twice", "POST", "/shops", shopJSON, true, 409, "exists"},
		{"unknown platform", "POST", "/shops", `{"name":"x","platform":"ebay"}`, true, 400, "unknown platform"},
		{"unknown field", "POST", "/shops", `{"name":"x","secret":"s"}`, true, 400, "unknown field"},
		{"list", "GET", "/shops", "", true, 200, `"name": "demo"`},
		{"update keeps secrets", "PUT", "/shops/demo", noSecrets, true, 200, `"app_key"`},
		{"missing", "GET", "/shops/nope", "", true, 404, "not found"},
		{"import products", "POST", "/shops/demo/import-products" + win, "", true, 200, `"items": 3`},
		{"import orders", "POST", "/shops/demo/import-orders" + win, "", true, 200, `"imported": 3`},
		{"import orders again", "POST", "/shops/demo/import-orders" + win, "", true, 200, `"imported": 0`},
		{"sync stock", "POST", "/shops/demo/sync-stock", "", true, 200, `"pushed": 5`},
		{"stock syncs", "GET", "/shops/demo/stock-syncs", "", true, 200, `"pushes"`},
		{"delete", "DELETE", "/shops/demo", "", true, 200, "deleted"},
		{"deleted", "GET", "/shops/demo", "", true, 404, ""},
	}
	for _, st := range steps {
		status, body := do(st.method, st.path, st.body, st.auth)
		if status != st.status || !strings.Contains(body, st.contains) {
			t.Errorf("%s: %d %s, want %d containing %q", st.name, status, body, st.status, st.contains)
		}
		// Secrets never leave the API.
		if strings.Contains(body, fakeshop.DemoSecret) || strings.Contains(body, fakeshop.DemoSession) {
			t.Errorf("%s: response leaks a secret: %s", st.name, body)
		}
		if st.name == "stock syncs" {
			var v struct{ Records []store.StockSync }
			if err := json.Unmarshal([]byte(body), &v); err != nil || len(v.Records) != 5 {
				t.Errorf("stock syncs: %d records (%v)", len(v.Records), err)
			}
		}
	}
}
