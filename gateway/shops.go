package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
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
}

// shopCall is one authorised shop request: the service bound to the
// caller's session, the caller's database and the shop named in the path.
type shopCall struct {
	r    *http.Request
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
		status, body, err := fn(&shopCall{r: r, svc: &svc, db: c.Database, name: ps.ByName("name")})
		if err != nil {
			s.writeJSONError(w, r, "shop request failed", shopError(err), true)
			return
		}
		writeJSON(w, status, body)
	}
}

// shopError gives the store's refusals their statuses.
func shopError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrOtherDatabase):
		return &badRequest{Status: http.StatusNotFound, Msg: "not found: " + err.Error()}
	case errors.Is(err, store.ErrShopExists):
		return &badRequest{Status: http.StatusConflict, Msg: err.Error()}
	case errors.Is(err, store.ErrSecretsRequired):
		return &badRequest{Status: http.StatusBadRequest, Msg: err.Error() + ": send app_secret and session_key with the new platform or api_url"}
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
	status := c.r.URL.Query().Get("status")
	if status == "" {
		status = "WAIT_SELLER_SEND_GOODS"
	}
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	res, err := c.svc.ImportOrders(c.r.Context(), c.name, status, from, to)
	return http.StatusOK, res, err
}

func (s *Server) shopSyncStock(c *shopCall) (int, any, error) {
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	res, err := c.svc.SyncStock(c.r.Context(), c.name)
	return http.StatusOK, res, err
}

func (s *Server) shopStockSyncs(c *shopCall) (int, any, error) {
	if _, err := c.shop(); err != nil {
		return 0, nil, err
	}
	recs, err := c.svc.Store.StockSyncs(c.name)
	if err != nil {
		return 0, nil, err
	}
	pushes, err := c.svc.Store.StockPushes(c.name)
	if err != nil {
		return 0, nil, err
	}
	if recs == nil {
		recs = []store.StockSync{}
	}
	if pushes == nil {
		pushes = []store.StockPush{}
	}
	return http.StatusOK, map[string]any{"records": recs, "pushes": pushes}, nil
}
