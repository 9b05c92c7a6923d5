package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

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

// shopRoutes adds the shop API to rt.
func (s *Server) shopRoutes(rt *httprouter.Router) {
	rt.GET("/shops", s.shopHandler(s.listShops))
	rt.POST("/shops", s.shopHandler(s.createShop))
	rt.GET("/shops/:name", s.shopHandler(s.getShop))
	rt.PUT("/shops/:name", s.shopHandler(s.putShop))
	rt.DELETE("/shops/:name", s.shopHandler(s.deleteShop))
	rt.POST("/shops/:name/import-products", s.shopHandler(s.shopImportProducts))
	rt.POST("/shops/:name/import-orders", s.shopHandler(s.shopImportOrders))
	rt.POST("/shops/:name/sync-stock", s.shopHandler(s.shopSyncStock))
	rt.GET("/shops/:name/stock-syncs", s.shopHandler(s.shopStockSyncs))
}

type shopFunc func(r *http.Request, svc *shop.Service, name string) (int, any, error)

// shopHandler authenticates against Odoo, binds the caller's session to
// the service and encodes the answer as JSON.
func (s *Server) shopHandler(fn shopFunc) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		base := s.shops()
		if base == nil || base.Store == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "shop sync is not enabled (no state file)"})
			return
		}
		c, ok := s.authenticate(w, r, r.URL.Query().Get)
		if !ok {
			return
		}
		svc := *base
		svc.Odoo = c.Session
		status, body, err := fn(r, &svc, ps.ByName("name"))
		if err != nil {
			status = http.StatusInternalServerError
			var br *badRequest
			switch {
			case errors.As(err, &br):
				status = br.Status
			case errors.Is(err, store.ErrNotFound):
				status = http.StatusNotFound
			default:
				if st := statusFor(err); st != http.StatusInternalServerError {
					status = st
				}
			}
			if status >= 500 {
				s.logFrom(r.Context()).Error("shop request failed", "path", r.URL.Path, "err", err)
			}
			writeJSON(w, status, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, status, body)
	}
}

func (s *Server) listShops(r *http.Request, svc *shop.Service, _ string) (int, any, error) {
	shops, err := svc.Store.Shops()
	if err != nil {
		return 0, nil, err
	}
	out := make([]store.Shop, 0, len(shops))
	for _, sh := range shops {
		out = append(out, sh.Redacted())
	}
	return http.StatusOK, out, nil
}

func (s *Server) getShop(r *http.Request, svc *shop.Service, name string) (int, any, error) {
	sh, err := svc.Store.Shop(name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sh.Redacted(), nil
}

func (s *Server) decodeShop(r *http.Request) (store.Shop, error) {
	var sh store.Shop
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sh); err != nil {
		return sh, errBadRequest("shop: %v", err)
	}
	if sh.Platform == "" {
		sh.Platform = shop.PlatformTaobao
	}
	known := false
	for _, p := range shop.Platforms() {
		known = known || p == sh.Platform
	}
	if !known {
		return sh, errBadRequest("shop: unknown platform %q (known: %v)", sh.Platform, shop.Platforms())
	}
	return sh, nil
}

func (s *Server) createShop(r *http.Request, svc *shop.Service, _ string) (int, any, error) {
	sh, err := s.decodeShop(r)
	if err != nil {
		return 0, nil, err
	}
	if sh.Name == "" {
		return 0, nil, errBadRequest("shop: name is required")
	}
	if _, err := svc.Store.Shop(sh.Name); err == nil {
		return 0, nil, &badRequest{Status: http.StatusConflict, Msg: fmt.Sprintf("shop %q exists", sh.Name)}
	}
	return s.saveShop(svc, sh, http.StatusCreated)
}

func (s *Server) putShop(r *http.Request, svc *shop.Service, name string) (int, any, error) {
	sh, err := s.decodeShop(r)
	if err != nil {
		return 0, nil, err
	}
	if sh.Name != "" && sh.Name != name {
		return 0, nil, errBadRequest("shop: name %q in body differs from %q in path", sh.Name, name)
	}
	sh.Name = name
	return s.saveShop(svc, sh, http.StatusOK)
}

func (s *Server) saveShop(svc *shop.Service, sh store.Shop, status int) (int, any, error) {
	if err := svc.Store.SaveShop(sh, time.Now()); err != nil {
		return 0, nil, err
	}
	saved, err := svc.Store.Shop(sh.Name)
	if err != nil {
		return 0, nil, err
	}
	return status, saved.Redacted(), nil
}

func (s *Server) deleteShop(r *http.Request, svc *shop.Service, name string) (int, any, error) {
	if err := svc.Store.DeleteShop(name); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]string{"deleted": name}, nil
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

func (s *Server) shopImportProducts(r *http.Request, svc *shop.Service, name string) (int, any, error) {
	from, to, err := shopWindow(r)
	if err != nil {
		return 0, nil, err
	}
	res, err := svc.ImportProducts(r.Context(), name, from, to)
	return http.StatusOK, res, err
}

func (s *Server) shopImportOrders(r *http.Request, svc *shop.Service, name string) (int, any, error) {
	from, to, err := shopWindow(r)
	if err != nil {
		return 0, nil, err
	}
	status := r.URL.Query().Get("status")
	if status == "" {
		status = "WAIT_SELLER_SEND_GOODS"
	}
	res, err := svc.ImportOrders(r.Context(), name, status, from, to)
	return http.StatusOK, res, err
}

func (s *Server) shopSyncStock(r *http.Request, svc *shop.Service, name string) (int, any, error) {
	res, err := svc.SyncStock(r.Context(), name)
	return http.StatusOK, res, err
}

func (s *Server) shopStockSyncs(r *http.Request, svc *shop.Service, name string) (int, any, error) {
	if _, err := svc.Store.Shop(name); err != nil {
		return 0, nil, err
	}
	recs, err := svc.Store.StockSyncs(name)
	if err != nil {
		return 0, nil, err
	}
	pushes, err := svc.Store.StockPushes(name)
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
