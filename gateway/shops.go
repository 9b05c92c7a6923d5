package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/julienschmidt/httprouter"

	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

// shopServices holds each server's shop service. It lives here rather
// than as a Server field so the shop API stays in this one file.
var shopServices sync.Map // *Server → *shop.Service

// SetShops enables the shop API (/shops…) with svc; its Odoo session is
// replaced per request by the caller's.
func (s *Server) SetShops(svc *shop.Service) { shopServices.Store(s, svc) }

func (s *Server) shops() *shop.Service {
	v, _ := shopServices.Load(s)
	svc, _ := v.(*shop.Service)
	return svc
}

// Who may use the shop API: reading needs an internal user of the shop's
// database (not a portal or public user); everything else, a manager.
var (
	shopReaders  = []string{"base.group_user"}
	shopManagers = []string{"stock.group_stock_manager", "base.group_system"}
)

// shopRoutes adds the shop API to rt.
func (s *Server) shopRoutes(rt *httprouter.Router) {
	rt.GET("/shops", s.shopHandler(shopReaders, s.listShops))
	rt.POST("/shops", s.shopHandler(shopManagers, s.createShop))
	rt.GET("/shops/:name", s.shopHandler(shopReaders, s.getShop))
	rt.PUT("/shops/:name", s.shopHandler(shopManagers, s.putShop))
	rt.DELETE("/shops/:name", s.shopHandler(shopManagers, s.deleteShop))
	rt.POST("/shops/:name/import-products", s.shopHandler(shopManagers, s.shopImportProducts))
	rt.POST("/shops/:name/import-orders", s.shopHandler(shopManagers, s.shopImportOrders))
	rt.POST("/shops/:name/sync-stock", s.shopHandler(shopManagers, s.shopSyncStock))
	rt.GET("/shops/:name/stock-syncs", s.shopHandler(shopReaders, s.shopStockSyncs))
	rt.PATCH("/shops/:name/stock-syncs", s.shopHandler(shopManagers, s.shopSetStockSyncs))
	rt.PUT("/shops/:name/stock-syncs/:location/:product", s.shopHandler(shopManagers, s.shopSetStockSync))
	rt.PATCH("/shops/:name/stock-syncs/:location/:product", s.shopHandler(shopManagers, s.shopSetStockSync))
	rt.GET("/shops/:name/missing-orders", s.shopHandler(shopReaders, s.shopMissingOrders))
	rt.GET("/shops/:name/trades", s.shopHandler(shopReaders, s.shopTrades))
	rt.GET("/shops/:name/items", s.shopHandler(shopReaders, s.shopItems))
	rt.PUT("/shops/:name/items/:item", s.shopHandler(shopManagers, s.shopMapItem))
	rt.PUT("/shops/:name/items/:item/skus/:sku", s.shopHandler(shopManagers, s.shopMapItem))
	rt.GET("/shops/:name/authorize", s.shopHandler(shopManagers, s.shopAuthorize))
	rt.GET("/shops/:name/oauth-callback", s.shopHandler(shopManagers, s.shopOAuthCallback))
	rt.POST("/shops/:name/oauth-token", s.shopHandler(shopManagers, s.shopOAuthToken))
}

// shopCall is one authorised shop request: the service bound to the
// caller's session, the caller's database and the shop named in the path.
type shopCall struct {
	r    *http.Request
	ps   httprouter.Params
	svc  *shop.Service
	db   string
	name string
}

// shop returns the named shop if it belongs to the caller's database;
// another database's shop is "not found", as if it did not exist.
func (c *shopCall) shop() (store.Shop, error) {
	sh, err := c.svc.Store.Shop(c.name)
	if err == nil && sh.Database != c.db {
		err = fmt.Errorf("shop %q: %w", c.name, store.ErrNotFound)
	}
	return sh, err
}

type shopFunc func(c *shopCall) (int, any, error)

// shopHandler authenticates against Odoo, checks that the caller belongs
// to one of groups in that database, binds the caller's session to the
// service and encodes the answer (or the error) as JSON. Nothing runs
// before all of that has passed.
func (s *Server) shopHandler(groups []string, fn shopFunc) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		base := s.shops()
		if base == nil || base.Store == nil {
			writeJSONMessage(w, http.StatusNotFound, "shop sync is not enabled (no state file)")
			return
		}
		c, ok := s.authenticateIn(w, r, r.URL.Query().Get, styleJSON)
		if !ok {
			return
		}
		if c.Bearer {
			// A planner token runs as the service account: it says nothing
			// about which Odoo user asks, so it cannot be authorised here.
			writeJSONMessage(w, http.StatusForbidden, "the shop API needs an Odoo login (HTTP Basic), not a token")
			return
		}
		allowed, err := hasGroup(r.Context(), c.Session, groups...)
		if err != nil {
			s.writeJSONError(w, r, "checking the user's groups failed", err, false)
			return
		}
		if !allowed {
			s.logFrom(r.Context()).Info("shop request refused: missing group", "path", r.URL.Path, "database", c.Database, "login", c.Login, "groups", groups)
			writeJSONMessage(w, http.StatusForbidden, fmt.Sprintf("this needs an Odoo user of database %q in one of the groups %s", c.Database, strings.Join(groups, ", ")))
			return
		}
		if err := s.adoptShops(r.Context(), base.Store, c.Database); err != nil {
			s.writeJSONError(w, r, "shop request failed", err, false)
			return
		}
		svc := *base
		svc.Odoo = c.Session
		status, body, err := fn(&shopCall{r: r, ps: ps, svc: &svc, db: c.Database, name: ps.ByName("name")})
		if err != nil {
			s.writeJSONError(w, r, "shop request failed", shopError(err), true)
			return
		}
		writeJSON(w, status, body)
	}
}

// shopError gives the store's and the service's refusals their statuses,
// and the platform's failures 502 with what the platform said.
func shopError(err error) error {
	var te *shop.TOPError
	var oe *shop.OAuthError
	var ue *shop.UnreachableError
	switch {
	case errors.As(err, &te):
		return &badRequest{Status: http.StatusBadGateway, Public: true, Err: err,
			Msg: fmt.Sprintf("the platform failed: error %d %s (%s: %s) in %s", te.Code, clip(te.Msg, 200), clip(te.SubCode, 100), clip(te.SubMsg, 300), te.Method)}
	case errors.As(err, &oe):
		return &badRequest{Status: http.StatusBadGateway, Public: true, Err: err,
			Msg: fmt.Sprintf("the platform refused the OAuth token request: %s: %s (HTTP %d)", clip(oe.Code, 100), clip(oe.Description, 300), oe.Status)}
	case errors.As(err, &ue):
		return &badRequest{Status: http.StatusBadGateway, Public: true, Err: err,
			Msg: "the platform is unreachable or failed in " + ue.Method + ": " + platformReason(ue.Err)}
	case errors.Is(err, shop.ErrUnknownProduct), errors.Is(err, shop.ErrUnknownLocation), errors.Is(err, shop.ErrNotMapped),
		errors.Is(err, shop.ErrBadID), errors.Is(err, shop.ErrNoOAuth), errors.Is(err, shop.ErrBadState):
		return &badRequest{Status: http.StatusBadRequest, Msg: err.Error(), Err: err}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrOtherDatabase):
		return &badRequest{Status: http.StatusNotFound, Msg: "not found: " + err.Error()}
	case errors.Is(err, store.ErrShopExists):
		return &badRequest{Status: http.StatusConflict, Msg: err.Error()}
	case errors.Is(err, store.ErrSecretsRequired):
		return &badRequest{Status: http.StatusBadRequest, Msg: err.Error() + ": send app_secret and session_key with the new platform, api_url or token_url"}
	}
	return err
}

// adoptShops gives shops saved before shops had a database to the
// gateway's default database (odoo.database, or the only one Odoo lists),
// at the first authorised request from there. Until then, or when there
// is no default database, they are hidden from the API.
func (s *Server) adoptShops(ctx context.Context, st *store.Store, db string) error {
	shops, err := st.Shops()
	if err != nil {
		return err
	}
	orphans := false
	for _, sh := range shops {
		orphans = orphans || sh.Database == ""
	}
	if !orphans {
		return nil
	}
	def, err := s.defaultDatabase(ctx)
	if err != nil || def != db {
		return nil // not the default database's to take
	}
	names, err := st.AdoptShops(db)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		s.logFrom(ctx).Warn("shops saved before shops had a database now belong to the default database", "database", db, "shops", names)
	}
	return nil
}

func (s *Server) listShops(c *shopCall) (int, any, error) {
	shops, err := c.svc.Store.Shops()
	if err != nil {
		return 0, nil, err
	}
	out := make([]store.Shop, 0, len(shops))
	for _, sh := range shops {
		if sh.Database == c.db {
			out = append(out, sh.Redacted())
		}
	}
	return http.StatusOK, out, nil
}

func (s *Server) getShop(c *shopCall) (int, any, error) {
	sh, err := c.shop()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sh.Redacted(), nil
}

// maxShopName bounds shop names: they are keys of the state file and
// appear in order names.
const maxShopName = 64

// decodeShop reads and checks a shop from the request body. The caller's
// database becomes the shop's.
func (s *Server) decodeShop(c *shopCall) (store.Shop, error) {
	var sh store.Shop
	dec := json.NewDecoder(http.MaxBytesReader(nil, c.r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sh); err != nil {
		var be *bodyError
		if errors.As(err, &be) {
			return sh, be
		}
		return sh, errBadRequest("shop: %s", clip(err.Error(), 200))
	}
	if sh.Database != "" && sh.Database != c.db {
		return sh, errBadRequest("shop: database %q is not the caller's %q (leave it out)", clip(sh.Database, 100), c.db)
	}
	sh.Database = c.db
	if sh.Platform == "" {
		sh.Platform = shop.PlatformTaobao
	}
	if !slices.Contains(shop.Platforms(), sh.Platform) {
		return sh, errBadRequest("shop: unknown platform %q (known: %v)", clip(sh.Platform, 50), shop.Platforms())
	}
	if sh.Name != "" {
		if err := checkShopName(sh.Name); err != nil {
			return sh, err
		}
	}
	return sh, nil
}

// checkShopName refuses names that are not plain labels: a NUL or a
// slash would reach into other shops' keys or paths.
func checkShopName(name string) error {
	if len(name) > maxShopName {
		return errBadRequest("shop: name of %d bytes, at most %d allowed", len(name), maxShopName)
	}
	for _, r := range name {
		if r == '/' || r == utf8.RuneError || unicode.IsControl(r) {
			return errBadRequest("shop: name %q: no control characters, slashes or invalid UTF-8", clip(name, maxShopName))
		}
	}
	return nil
}

func (s *Server) createShop(c *shopCall) (int, any, error) {
	sh, err := s.decodeShop(c)
	if err != nil {
		return 0, nil, err
	}
	if sh.Name == "" {
		return 0, nil, errBadRequest("shop: name is required")
	}
	if err := c.svc.Store.CreateShop(sh, time.Now()); err != nil {
		return 0, nil, err
	}
	return s.savedShop(c.svc, sh.Name, http.StatusCreated)
}

func (s *Server) putShop(c *shopCall) (int, any, error) {
	if _, err := c.shop(); err != nil {
		return 0, nil, err // PUT replaces a shop of the caller's database; it creates none
	}
	sh, err := s.decodeShop(c)
	if err != nil {
		return 0, nil, err
	}
	if sh.Name != "" && sh.Name != c.name {
		return 0, nil, errBadRequest("shop: name %q in body differs from %q in path", clip(sh.Name, maxShopName), clip(c.name, maxShopName))
	}
	sh.Name = c.name
	if err := c.svc.Store.SaveShop(sh, time.Now()); err != nil {
		return 0, nil, err
	}
	return s.savedShop(c.svc, sh.Name, http.StatusOK)
}

func (s *Server) savedShop(svc *shop.Service, name string, status int) (int, any, error) {
	saved, err := svc.Store.Shop(name)
	if err != nil {
		return 0, nil, err
	}
	return status, saved.Redacted(), nil
}

func (s *Server) deleteShop(c *shopCall) (int, any, error) {
	if err := c.svc.Store.DeleteShopOf(c.db, c.name); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]string{"deleted": c.name}, nil
}

// shopWindow reads from/to (RFC 3339 or TOP's GMT+8 text); defaults: the last 24 hours.
func shopWindow(r *http.Request) (from, to time.Time, err error) {
	to = time.Now()
	from = to.Add(-24 * time.Hour)
	parse := func(v string) (time.Time, error) {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		return shop.ParseTime(v)
	}
	q := r.URL.Query()
	if v := q.Get("from"); v != "" {
		if from, err = parse(v); err != nil {
			return from, to, errBadRequest("from: %v", err)
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = parse(v); err != nil {
			return from, to, errBadRequest("to: %v", err)
		}
	}
	return from, to, nil
}

func (s *Server) shopImportProducts(c *shopCall) (int, any, error) {
	from, to, err := shopWindow(c.r)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	res, err := c.svc.ImportProducts(c.r.Context(), c.name, from, to)
	return http.StatusOK, res, err
}

func (s *Server) shopImportOrders(c *shopCall) (int, any, error) {
	from, to, err := shopWindow(c.r)
	if err != nil {
		return 0, nil, err
	}
	status := tradeStatus(c.r)
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	res, err := c.svc.ImportOrders(c.r.Context(), c.name, status, from, to)
	if err == nil {
		err = res.Err() // every import failed: say why (each is retried next run)
	}
	return http.StatusOK, res, err
}

func (s *Server) shopSyncStock(c *shopCall) (int, any, error) {
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	res, err := c.svc.SyncStock(c.r.Context(), c.name)
	if err == nil {
		err = res.Err() // every push refused: say why (the pushes are recorded)
	}
	return http.StatusOK, res, err
}

// shopStockSyncs lists the stock-sync records and pushes, of one product
// (?product=) or location (?location=) if asked.
func (s *Server) shopStockSyncs(c *shopCall) (int, any, error) {
	q := c.r.URL.Query()
	var product, location int
	for _, f := range []struct {
		name string
		v    *int
	}{{"product", &product}, {"location", &location}} {
		if v := q.Get(f.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return 0, nil, errBadRequest("%s: %q is not an id", f.name, clip(v, 50))
			}
			*f.v = n
		}
	}
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	all, err := c.svc.Store.StockSyncs(c.name)
	if err != nil {
		return 0, nil, err
	}
	allPushes, err := c.svc.Store.StockPushes(c.name)
	if err != nil {
		return 0, nil, err
	}
	keep := func(loc, prod int) bool {
		return (product == 0 || prod == product) && (location == 0 || loc == location)
	}
	recs, pushes := []store.StockSync{}, []store.StockPush{}
	for _, r := range all {
		if keep(r.Location, r.Product) {
			recs = append(recs, r)
		}
	}
	for _, p := range allPushes {
		if keep(p.Location, p.Product) {
			pushes = append(pushes, p)
		}
	}
	return http.StatusOK, map[string]any{"records": recs, "pushes": pushes}, nil
}

// decodeBody reads a small JSON object into v, refusing unknown fields.
func decodeBody(r *http.Request, what string, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var be *bodyError
		if errors.As(err, &be) {
			return be
		}
		return errBadRequest("%s: %s", what, clip(err.Error(), 200))
	}
	return nil
}

// syncSwitch is the body that turns stock-sync records on or off.
type syncSwitch struct {
	Sync *bool `json:"sync"`
}

func (b syncSwitch) read(r *http.Request) (bool, error) {
	if err := decodeBody(r, "stock sync", &b); err != nil {
		return false, err
	}
	if b.Sync == nil {
		return false, errBadRequest(`stock sync: "sync" (true or false) is required`)
	}
	return *b.Sync, nil
}

// shopSetStockSync turns one record on or off, making it if the product
// is mapped in the shop and the location is an internal one of Odoo.
func (s *Server) shopSetStockSync(c *shopCall) (int, any, error) {
	var ids [2]int
	for i, name := range []string{"location", "product"} {
		v := c.ps.ByName(name)
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, nil, errBadRequest("%s: %q is not an id", name, clip(v, 50))
		}
		ids[i] = n
	}
	sync, err := syncSwitch{}.read(c.r)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	r, err := c.svc.SetStockSync(c.r.Context(), c.name, ids[0], ids[1], sync)
	return http.StatusOK, r, err
}

// shopSetStockSyncs turns every record of the shop on or off.
func (s *Server) shopSetStockSyncs(c *shopCall) (int, any, error) {
	sync, err := syncSwitch{}.read(c.r)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	recs, err := c.svc.SetStockSyncs(c.name, sync)
	return http.StatusOK, map[string]any{"records": recs}, err
}

// tradeStatus is the status= of a request; default: paid, waiting to ship.
func tradeStatus(r *http.Request) string {
	if st := r.URL.Query().Get("status"); st != "" {
		return st
	}
	return "WAIT_SELLER_SEND_GOODS"
}

// shopMissingOrders checks a window for trades without a sales order. It
// reads the platform and Odoo, and writes nothing: readers may run it.
func (s *Server) shopMissingOrders(c *shopCall) (int, any, error) {
	from, to, err := shopWindow(c.r)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	rep, err := c.svc.MissingReport(c.r.Context(), c.name, tradeStatus(c.r), from, to)
	return http.StatusOK, rep, err
}

// shopTrades lists the trades imports have claimed (?failed=true: only
// those whose last import failed, with the reason).
func (s *Server) shopTrades(c *shopCall) (int, any, error) {
	onlyFailed := false
	if v := c.r.URL.Query().Get("failed"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return 0, nil, errBadRequest("failed: %q is not true or false", clip(v, 20))
		}
		onlyFailed = b
	}
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	all, err := c.svc.Store.Trades(c.name)
	if err != nil {
		return 0, nil, err
	}
	out := []store.TradeMapping{}
	for _, m := range all {
		if !onlyFailed || m.Failed {
			out = append(out, m)
		}
	}
	return http.StatusOK, out, nil
}

func (s *Server) shopItems(c *shopCall) (int, any, error) {
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	maps, err := c.svc.Store.ItemMappings(c.name)
	if maps == nil {
		maps = []store.ItemMapping{}
	}
	return http.StatusOK, maps, err
}

// shopMapItem maps an item or SKU to an existing Odoo product.
func (s *Server) shopMapItem(c *shopCall) (int, any, error) {
	var body struct {
		Product int `json:"product"`
	}
	if err := decodeBody(c.r, "mapping", &body); err != nil {
		return 0, nil, err
	}
	if body.Product <= 0 {
		return 0, nil, errBadRequest(`mapping: "product" (a product.product id) is required`)
	}
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	m, err := c.svc.MapItem(c.r.Context(), c.name, c.ps.ByName("item"), c.ps.ByName("sku"), body.Product)
	return http.StatusOK, m, err
}

// shopAuthorize gives the URL where the shop's seller authorises the app.
func (s *Server) shopAuthorize(c *shopCall) (int, any, error) {
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	a, err := c.svc.AuthorizeURL(c.name)
	return http.StatusOK, a, err
}

// shopOAuthCallback is where the platform sends the seller's browser back
// (the shop's redirect_uri): the code is exchanged and the Session Key kept.
func (s *Server) shopOAuthCallback(c *shopCall) (int, any, error) {
	q := c.r.URL.Query()
	if e := q.Get("error"); e != "" {
		return 0, nil, errBadRequest("the seller did not authorise the app: %s: %s", clip(e, 100), clip(q.Get("error_description"), 300))
	}
	return s.exchange(c, q.Get("code"), q.Get("state"))
}

// shopOAuthToken exchanges a code brought by hand ({"code", "state"}).
func (s *Server) shopOAuthToken(c *shopCall) (int, any, error) {
	var body struct {
		Code  string `json:"code"`
		State string `json:"state"`
	}
	if err := decodeBody(c.r, "oauth token", &body); err != nil {
		return 0, nil, err
	}
	return s.exchange(c, body.Code, body.State)
}

func (s *Server) exchange(c *shopCall, code, state string) (int, any, error) {
	if code == "" || state == "" {
		return 0, nil, errBadRequest("oauth: code and state are required (from the platform's redirect)")
	}
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	a, err := c.svc.ExchangeCode(c.r.Context(), c.name, code, state)
	return http.StatusOK, a, err
}

// platformReason says why a platform call got no answer, without its address.
func platformReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer in time"
	case strings.HasPrefix(err.Error(), "http "):
		return "it answered " + strings.TrimPrefix(err.Error(), "http ")
	}
	return publicReason(err)
}
