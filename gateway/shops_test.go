package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

// shopRig is the shop API in front of an emulator serving the demo
// dataset (with the groups' external ids) as two databases, odoo17 and
// odoo17_b, and the fake shop platform.
type shopRig struct {
	gw  *httptest.Server
	st  *store.Store
	emu *odooemu.Emulator
	fs  *httptest.Server
	fp  *fakeshop.Platform
}

func startShopRig(t *testing.T, cfg gateway.Config) *shopRig {
	t.Helper()
	emu, tr := startShopEmulator(t)
	return startShopGateway(t, emu, tr, cfg)
}

// startShopEmulator serves odoo17 and odoo17_b.
func startShopEmulator(t *testing.T) (*odooemu.Emulator, odoo.Transport) {
	t.Helper()
	var sets []*odooemu.Dataset
	for _, name := range []string{"odoo17", "odoo17_b"} {
		ds, err := odooemu.Load(datasets.Demo(), ".")
		if err != nil {
			t.Fatal(err)
		}
		if err := odooemu.ApplyExtension(ds, datasets.Demo(), "xmlids.json"); err != nil {
			t.Fatal(err)
		}
		ds.Database = name
		sets = append(sets, ds)
	}
	emu := odooemu.New(sets...)
	esrv := odooemu.Start(emu)
	t.Cleanup(esrv.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: esrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return emu, tr
}

// startShopGateway serves the shop API over its own state file.
func startShopGateway(t *testing.T, emu *odooemu.Emulator, tr odoo.Transport, cfg gateway.Config) *shopRig {
	t.Helper()
	st := tempStore(t)
	srv := gateway.New(cfg, tr, st, quiet)
	// The registry's client, with retries that do not wait long.
	srv.SetShops(&shop.Service{Store: st, Log: quiet, Platform: func(sh store.Shop) (shop.Platform, error) {
		p, err := shop.Open(sh)
		if c, ok := p.(*shop.Taobao); ok {
			c.Backoff = time.Millisecond
		}
		return p, err
	}})
	gw := httptest.NewServer(srv)
	t.Cleanup(gw.Close)
	fp := fakeshop.New()
	fs := fakeshop.Start(fp)
	t.Cleanup(fs.Close)
	return &shopRig{gw: gw, st: st, emu: emu, fs: fs, fp: fp}
}

// do sends a shop API request as login (password = login, admin/admin),
// in database db; body, when given, is sent as JSON.
func (r *shopRig) do(t *testing.T, method, path, body, login, db string) resp {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	u := r.gw.URL + path
	if db != "" {
		u += sep + "database=" + db
	}
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	return send(t, method, u, rd, func(req *http.Request) {
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if login != "" {
			req.SetBasicAuth(login, login)
		}
	})
}

func demoShopJSON(apiURL string) string {
	return `{"name":"demo","platform":"taobao-sandbox","order_prefix":"TB","shipping_product":1,"discount_product":2,` +
		`"gift_product":3,"stock_location":8,"app_key":"` + fakeshop.DemoAppKey + `","app_secret":"` + fakeshop.DemoSecret +
		`","session_key":"` + fakeshop.DemoSession + `","api_url":"` + apiURL + `"}`
}

func TestShopAPI(t *testing.T) {
	r := startShopRig(t, gateway.Config{DefaultDatabase: "odoo17"})
	shopJSON := demoShopJSON(r.fs.URL)
	// An update without secrets keeps the stored ones (the imports below need them).
	noSecrets := strings.NewReplacer(`"app_secret":"`+fakeshop.DemoSecret+`",`, "", `"session_key":"`+fakeshop.DemoSession+`",`, "").Replace(shopJSON)
	if strings.Contains(noSecrets, fakeshop.DemoSecret) {
		t.Fatal("test body still has the secret")
	}
	win := "?from=2026-11-01T00:00:00Z&to=2026-11-30T00:00:00Z"
	steps := []struct {
		name, method, path, body string
		login                    string
		status                   int
		contains                 string
	}{
		{"no credentials", "GET", "/shops", "", "", 401, "Login with Odoo"},
		{"create", "POST", "/shops", shopJSON, "admin", 201, `"order_prefix": "TB"`},
		{"create twice", "POST", "/shops", shopJSON, "admin", 409, "exists"},
		{"unknown platform", "POST", "/shops", `{"name":"x","platform":"ebay"}`, "admin", 400, "unknown platform"},
		{"unknown field", "POST", "/shops", `{"name":"x","secret":"s"}`, "admin", 400, "unknown field"},
		{"list", "GET", "/shops", "", "admin", 200, `"database": "odoo17"`},
		{"update keeps secrets", "PUT", "/shops/demo", noSecrets, "admin", 200, `"app_key"`},
		{"missing", "GET", "/shops/nope", "", "admin", 404, "not found"},
		{"import products", "POST", "/shops/demo/import-products" + win, "", "admin", 200, `"items": 3`},
		{"missing before import", "GET", "/shops/demo/missing-orders" + win, "", "admin", 200, `"order": "TB3900000000001",
      "state": "new"`},
		{"import orders", "POST", "/shops/demo/import-orders" + win, "", "admin", 200, `"imported": 3`},
		{"import orders again", "POST", "/shops/demo/import-orders" + win, "", "admin", 200, `"imported": 0`},
		{"missing after import", "GET", "/shops/demo/missing-orders" + win, "", "admin", 200, `"missing": []`},
		{"trades", "GET", "/shops/demo/trades", "", "admin", 200, `"done": true`},
		{"no failed trades", "GET", "/shops/demo/trades?failed=true", "", "admin", 200, `[]`},
		// New records start disabled (the shop's policy): nothing is pushed.
		{"sync stock before enabling", "POST", "/shops/demo/sync-stock", "", "admin", 200, `"disabled": 5`},
		{"enable bad body", "PATCH", "/shops/demo/stock-syncs", `{"on":true}`, "admin", 400, "unknown field"},
		{"enable without sync", "PATCH", "/shops/demo/stock-syncs", `{}`, "admin", 400, `sync\" (true or false) is required`},
		{"enable all", "PATCH", "/shops/demo/stock-syncs", `{"sync":true}`, "admin", 200, `"sync": true`},
		{"sync stock", "POST", "/shops/demo/sync-stock", "", "admin", 200, `"pushed": 5`},
		{"stock syncs", "GET", "/shops/demo/stock-syncs", "", "admin", 200, `"pushes"`},
		{"delete", "DELETE", "/shops/demo", "", "admin", 200, "deleted"},
		{"deleted", "GET", "/shops/demo", "", "admin", 404, ""},
	}
	for _, st := range steps {
		got := r.do(t, st.method, st.path, st.body, st.login, "")
		if got.status != st.status || !strings.Contains(got.body, st.contains) {
			t.Errorf("%s: %d %s, want %d containing %q", st.name, got.status, got.body, st.status, st.contains)
		}
		if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: content type %q, want JSON", st.name, ct)
		}
		// Secrets never leave the API.
		if strings.Contains(got.body, fakeshop.DemoSecret) || strings.Contains(got.body, fakeshop.DemoSession) {
			t.Errorf("%s: response leaks a secret: %s", st.name, got.body)
		}
		if st.name == "sync stock before enabling" && len(r.fp.Updates()) != 0 {
			t.Errorf("%d quantities pushed before any record was enabled", len(r.fp.Updates()))
		}
		if st.name == "stock syncs" {
			var v struct{ Records []store.StockSync }
			if err := json.Unmarshal([]byte(got.body), &v); err != nil || len(v.Records) != 5 {
				t.Errorf("stock syncs: %d records (%v)", len(v.Records), err)
			}
		}
	}
}

// TestShopAuthorization: shops belong to one database. Only its managers
// (stock.group_stock_manager or base.group_system, asked of Odoo with
// has_group) create, change, run and delete them; its internal users may
// read them; portal users, other databases' users and planner tokens get
// nothing. Every refusal leaves the shop as it was.
func TestShopAuthorization(t *testing.T) {
	const key = "sf-webtoken-key"
	r := startShopRig(t, gateway.Config{DefaultDatabase: "odoo17",
		Companies:    map[string]gateway.CompanyConfig{"My Company (San Francisco)": {WebtokenKey: key}},
		ServiceLogin: "admin", ServicePassword: "admin"})
	if got := r.do(t, "POST", "/shops", demoShopJSON(r.fs.URL), "admin", "odoo17"); got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.body)
	}
	// A host that records whatever reaches it: the secrets must never.
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { evilHits.Add(1) }))
	t.Cleanup(evil.Close)
	moved := strings.Replace(demoShopJSON(evil.URL), `"app_secret":"`+fakeshop.DemoSecret+`","session_key":"`+fakeshop.DemoSession+`",`, "", 1)
	win := "?from=2026-11-01T00:00:00Z&to=2026-11-30T00:00:00Z"
	type call struct{ method, path, body string }
	var (
		list    = call{"GET", "/shops", ""}
		get     = call{"GET", "/shops/demo", ""}
		syncs   = call{"GET", "/shops/demo/stock-syncs", ""}
		create  = call{"POST", "/shops", `{"name":"other","platform":"taobao-sandbox","app_key":"k"}`}
		put     = call{"PUT", "/shops/demo", moved}
		del     = call{"DELETE", "/shops/demo", ""}
		imports = call{"POST", "/shops/demo/import-orders" + win, ""}
		stock   = call{"POST", "/shops/demo/sync-stock", ""}
		// The shop controls: reading ones for readers, the rest for managers.
		missing  = call{"GET", "/shops/demo/missing-orders" + win, ""}
		trades   = call{"GET", "/shops/demo/trades", ""}
		items    = call{"GET", "/shops/demo/items", ""}
		mapItem  = call{"PUT", "/shops/demo/items/610000000001", `{"product":20}`}
		mapSKU   = call{"PUT", "/shops/demo/items/610000000002/skus/4100000000021", `{"product":20}`}
		syncOne  = call{"PATCH", "/shops/demo/stock-syncs/8/20", `{"sync":true}`}
		syncAll  = call{"PATCH", "/shops/demo/stock-syncs", `{"sync":true}`}
		authz    = call{"GET", "/shops/demo/authorize", ""}
		callback = call{"GET", "/shops/demo/oauth-callback?code=c&state=s", ""}
		token    = call{"POST", "/shops/demo/oauth-token", `{"code":"c","state":"s"}`}
	)
	for _, tc := range []struct {
		who, login, db string
		c              call
		status         int
		contains       string
	}{
		// Portal users: nothing, not even a list.
		{"portal", "portal", "odoo17", list, 403, "base.group_user"},
		{"portal", "portal", "odoo17", get, 403, ""},
		{"portal", "portal", "odoo17", put, 403, "stock.group_stock_manager"},
		{"portal", "portal", "odoo17", imports, 403, ""},
		{"portal", "portal", "odoo17", del, 403, ""},
		// Internal users without a manager group: read only.
		{"internal user", "demo", "odoo17", list, 200, `"name": "demo"`},
		{"internal user", "demo", "odoo17", get, 200, `"api_url": "` + r.fs.URL},
		{"internal user", "demo", "odoo17", syncs, 200, `"records"`},
		{"internal user", "demo", "odoo17", create, 403, "stock.group_stock_manager"},
		{"internal user", "demo", "odoo17", put, 403, ""},
		{"internal user", "demo", "odoo17", imports, 403, ""},
		{"internal user", "demo", "odoo17", stock, 403, ""},
		{"internal user", "demo", "odoo17", del, 403, ""},
		{"portal", "portal", "odoo17", missing, 403, "base.group_user"},
		{"portal", "portal", "odoo17", trades, 403, ""},
		{"internal user", "demo", "odoo17", missing, 200, `"window": 3`},
		{"internal user", "demo", "odoo17", trades, 200, "[]"},
		{"internal user", "demo", "odoo17", items, 200, "[]"},
		{"internal user", "demo", "odoo17", mapItem, 403, "stock.group_stock_manager"},
		{"internal user", "demo", "odoo17", mapSKU, 403, ""},
		{"internal user", "demo", "odoo17", syncOne, 403, ""},
		{"internal user", "demo", "odoo17", syncAll, 403, ""},
		{"internal user", "demo", "odoo17", authz, 403, ""},
		{"internal user", "demo", "odoo17", callback, 403, ""},
		{"internal user", "demo", "odoo17", token, 403, ""},
		{"other database", "admin", "odoo17_b", missing, 404, "not found"},
		{"other database", "admin", "odoo17_b", trades, 404, ""},
		{"other database", "admin", "odoo17_b", items, 404, ""},
		{"other database", "admin", "odoo17_b", mapItem, 404, ""},
		{"other database", "admin", "odoo17_b", syncAll, 404, ""},
		{"other database", "admin", "odoo17_b", authz, 404, ""},
		{"other database", "admin", "odoo17_b", callback, 404, ""},
		// A manager of another database: the shop does not exist for them.
		{"other database", "admin", "odoo17_b", list, 200, "[]"},
		{"other database", "admin", "odoo17_b", get, 404, "not found"},
		{"other database", "admin", "odoo17_b", syncs, 404, ""},
		{"other database", "admin", "odoo17_b", put, 404, ""},
		{"other database", "admin", "odoo17_b", imports, 404, ""},
		{"other database", "admin", "odoo17_b", stock, 404, ""},
		{"other database", "admin", "odoo17_b", del, 404, ""},
		{"other database", "admin", "odoo17_b", call{"POST", "/shops", demoShopJSON(evil.URL)}, 409, "exists"},
		// The shop's own manager may not move it elsewhere without the secrets.
		{"manager", "admin", "odoo17", put, 400, "app_secret and session_key"},
		{"manager", "admin", "odoo17", call{"PUT", "/shops/demo", strings.Replace(moved, `"platform":"taobao-sandbox"`, `"platform":"taobao"`, 1)}, 400, "needs the secrets again"},
		{"manager", "admin", "odoo17", call{"PUT", "/shops/demo", `{"database":"odoo17_b"}`}, 400, "not the caller's"},
		{"manager", "admin", "odoo17", call{"POST", "/shops", `{"name":"a/b","app_key":"k"}`}, 400, "slashes"},
		{"manager", "admin", "odoo17", call{"POST", "/shops", `{"name":"a\u0000b","app_key":"k"}`}, 400, "control characters"},
		{"manager", "admin", "odoo17", call{"POST", "/shops", `{"name":"` + strings.Repeat("n", 65) + `","app_key":"k"}`}, 400, "at most 64"},
		{"manager", "admin", "odoo17", call{"POST", "/shops", `{"name":"x","platform":"` + strings.Repeat("p", 1<<19) + `"}`}, 400, "bytes more"},
	} {
		got := r.do(t, tc.c.method, tc.c.path, tc.c.body, tc.login, tc.db)
		if got.status != tc.status || !strings.Contains(got.body, tc.contains) {
			t.Errorf("%s %s %s: %d %.300s, want %d containing %q", tc.who, tc.c.method, tc.c.path, got.status, got.body, tc.status, tc.contains)
		}
		if len(got.body) > 2000 {
			t.Errorf("%s %s %s: a %d-byte answer echoes the request", tc.who, tc.c.method, tc.c.path, len(got.body))
		}
		sh, err := r.st.Shop("demo")
		if err != nil || sh.APIURL != r.fs.URL || sh.Database != "odoo17" || sh.AppSecret != fakeshop.DemoSecret || sh.Platform != "taobao-sandbox" {
			t.Fatalf("%s %s %s changed the shop: %+v, %v", tc.who, tc.c.method, tc.c.path, sh, err)
		}
	}
	if _, err := r.st.Shop("other"); err == nil {
		t.Error("a refused create saved a shop")
	}
	if maps, _ := r.st.ItemMappings("demo"); len(maps) != 0 {
		t.Errorf("refused mappings were saved: %+v", maps)
	}
	if sh, _ := r.st.Shop("demo"); sh.SessionKey != fakeshop.DemoSession {
		t.Errorf("a refused OAuth call changed the session key to %q", sh.SessionKey)
	}
	// A planner token is no Odoo user: refused even for reading.
	tok, _ := gateway.SignJWT(map[string]any{"exp": time.Now().Add(time.Hour).Unix(), "user": "admin"}, []byte(key))
	got := send(t, "GET", r.gw.URL+"/shops?company=My%20Company%20(San%20Francisco)", nil, bearer(tok))
	if got.status != 403 || !strings.Contains(got.body, "not a token") {
		t.Errorf("bearer token: %d %s", got.status, got.body)
	}
	// The manager moves the shop with its secrets again; only then does
	// anything go to the new host, and signed with what was sent.
	if got := r.do(t, "POST", "/shops/demo/sync-stock", "", "admin", "odoo17"); got.status != 200 {
		t.Fatalf("sync before the move: %d %s", got.status, got.body)
	}
	if n := evilHits.Load(); n != 0 {
		t.Fatalf("%d requests reached the other host before the move", n)
	}
	withSecrets := strings.NewReplacer(fakeshop.DemoSecret, "new-secret", fakeshop.DemoSession, "new-session").Replace(demoShopJSON(evil.URL))
	if got := r.do(t, "PUT", "/shops/demo", withSecrets, "admin", "odoo17"); got.status != 200 {
		t.Fatalf("move with the secrets: %d %s", got.status, got.body)
	}
	if sh, _ := r.st.Shop("demo"); sh.APIURL != evil.URL || sh.AppSecret != "new-secret" || sh.SessionKey != "new-session" {
		t.Errorf("after the move: %+v", sh)
	}
	// Delete by the manager of the shop's database.
	if got := r.do(t, "DELETE", "/shops/demo", "", "admin", "odoo17"); got.status != 200 {
		t.Errorf("delete: %d %s", got.status, got.body)
	}
}

// TestShopsSavedBeforeOwners: shops saved before shops had a database
// (the CLI, older versions) go to the gateway's default database at its
// first manager's request, and stay invisible to other databases.
func TestShopsSavedBeforeOwners(t *testing.T) {
	emu, tr := startShopEmulator(t)
	for _, tc := range []struct {
		name      string
		cfg       gateway.Config
		db        string // the first caller's database
		wantOwner string // "" stays unowned
		listed    bool
	}{
		{"default database's manager adopts", gateway.Config{DefaultDatabase: "odoo17"}, "odoo17", "odoo17", true},
		{"another database's manager does not", gateway.Config{DefaultDatabase: "odoo17"}, "odoo17_b", "", false},
		{"several databases, no default: nobody", gateway.Config{}, "odoo17", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startShopGateway(t, emu, tr, tc.cfg)
			if err := r.st.SaveShop(store.Shop{Name: "legacy", Platform: "taobao", AppKey: "k", AppSecret: "s"}, time.Now()); err != nil {
				t.Fatal(err)
			}
			got := r.do(t, "GET", "/shops", "", "admin", tc.db)
			if got.status != 200 || strings.Contains(got.body, "legacy") != tc.listed {
				t.Errorf("list from %s: %d %s, want legacy listed=%v", tc.db, got.status, got.body, tc.listed)
			}
			if sh, _ := r.st.Shop("legacy"); sh.Database != tc.wantOwner {
				t.Errorf("owner %q, want %q", sh.Database, tc.wantOwner)
			}
		})
	}
}
