package odoo_test

// The client over real HTTP against the emulator, on both protocols. An
// external test package: fixtures/odooemu imports mappers/odoo.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/odoo"
)

var protocols = []odoo.Protocol{odoo.ProtocolXMLRPC, odoo.ProtocolJSONRPC}

// recorder keeps the request bodies a client sends.
type recorder struct {
	mu     sync.Mutex
	bodies []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	data, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	_ = req.Body.Close()
	r.mu.Lock()
	r.bodies = append(r.bodies, string(data))
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(data))
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[len(r.bodies)-1]
}

type client struct {
	proto odoo.Protocol
	s     *odoo.Session
	rec   *recorder
	calls *int // search_read calls seen by OnCall
}

// startEmu serves the demo dataset (plus a French name for partner 1) and
// logs admin in over each protocol.
func startEmu(t *testing.T) (*odooemu.Server, []client) {
	t.Helper()
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	ds.Translations = map[string]map[string]map[int]map[string]any{
		"fr_FR": {"res.partner": {1: {"name": "Ma Société (San Francisco)"}}},
	}
	srv := odooemu.Start(odooemu.New(ds))
	t.Cleanup(srv.Close)
	var out []client
	for _, p := range protocols {
		rec := &recorder{}
		n := new(int)
		var mu sync.Mutex
		tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL + "/", Protocol: p, HTTPClient: &http.Client{Transport: rec},
			OnCall: func(service, model, method string, d time.Duration, err error) {
				if method == "search_read" {
					mu.Lock()
					*n++
					mu.Unlock()
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := odoo.Login(context.Background(), tr, "odoo17", "admin", "admin")
		if err != nil {
			t.Fatalf("%s login: %v", p, err)
		}
		out = append(out, client{p, s, rec, n})
	}
	return srv, out
}

func ids(recs []odoo.Record) []int {
	out := make([]int, len(recs))
	for i, r := range recs {
		out[i] = r.ID()
	}
	return out
}

func TestClientSearchReadPaging(t *testing.T) {
	_, clients := startEmu(t)
	ctx := context.Background()
	for _, c := range clients {
		t.Run(string(c.proto), func(t *testing.T) {
			all, err := c.s.SearchRead(ctx, "res.partner", nil, odoo.Query{Fields: []string{"name"}, Order: "id"})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) < 10 {
				t.Fatalf("only %d partners", len(all))
			}
			paged := *c.s
			paged.PageSize = 3
			*c.calls = 0
			got, err := paged.SearchRead(ctx, "res.partner", nil, odoo.Query{Fields: []string{"name"}, Order: "id"})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), ids(all)) {
				t.Errorf("paged ids %v, unpaged %v", ids(got), ids(all))
			}
			if want := len(all)/3 + 1; *c.calls != want {
				t.Errorf("%d search_read calls for %d records in pages of 3, want %d", *c.calls, len(all), want)
			}
			win, err := paged.SearchRead(ctx, "res.partner", nil, odoo.Query{Fields: []string{"name"}, Order: "id", Offset: 2, Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(win), ids(all[2:7])) {
				t.Errorf("offset 2 limit 5: %v, want %v", ids(win), ids(all[2:7]))
			}
			n, err := c.s.SearchCount(ctx, "res.partner", nil, odoo.Query{})
			if err != nil || n != len(all) {
				t.Errorf("search_count = %d, %v; search_read found %d", n, err, len(all))
			}
			var streamed int
			stop := errors.New("enough")
			err = paged.SearchReadEach(ctx, "res.partner", nil, odoo.Query{Order: "id"}, func(odoo.Record) error {
				streamed++
				if streamed == 4 {
					return stop
				}
				return nil
			})
			if err != stop || streamed != 4 {
				t.Errorf("SearchReadEach stopped with %v after %d", err, streamed)
			}
		})
	}
}

func TestClientFieldsGet(t *testing.T) {
	_, clients := startEmu(t)
	ctx := context.Background()
	for _, c := range clients {
		fields, err := c.s.FieldsGet(ctx, "res.partner")
		if err != nil {
			t.Fatalf("%s: %v", c.proto, err)
		}
		if f := fields["name"]; f.Type != "char" || !f.Store || f.String != "Name" {
			t.Errorf("%s name = %+v", c.proto, f)
		}
		if f := fields["parent_id"]; f.Type != "many2one" || f.Relation != "res.partner" {
			t.Errorf("%s parent_id = %+v", c.proto, f)
		}
		if _, err := c.s.FieldsGet(ctx, "no.such.model"); err == nil {
			t.Errorf("%s fields_get of an unknown model succeeded", c.proto)
		} else if oe := (*odoo.Error)(nil); !errors.As(err, &oe) || oe.Model != "no.such.model" || oe.Fault == "" {
			t.Errorf("%s unknown model: %#v", c.proto, err)
		}
	}
}

func TestClientContext(t *testing.T) {
	_, clients := startEmu(t)
	ctx := context.Background()
	for _, c := range clients {
		t.Run(string(c.proto), func(t *testing.T) {
			fr := c.s.WithContext(odoo.Context{"lang": "fr_FR", "tz": "Europe/Brussels"})
			recs, err := fr.Read(ctx, "res.partner", []int{1}, odoo.Query{Fields: []string{"name"}})
			if err != nil || len(recs) != 1 || recs[0].String("name") != "Ma Société (San Francisco)" {
				t.Fatalf("lang fr_FR: %v, %v", recs, err)
			}
			body := c.rec.last()
			for _, want := range []string{"fr_FR", "Europe/Brussels", "lang", "tz"} {
				if !strings.Contains(body, want) {
					t.Errorf("request lacks %q: %.300s", want, body)
				}
			}
			recs, err = c.s.Read(ctx, "res.partner", []int{1}, odoo.Query{Fields: []string{"name"}})
			if err != nil || recs[0].String("name") != "My Company (San Francisco)" {
				t.Errorf("the session's own language changed: %v, %v", recs, err)
			}
			// Multi-company record rules follow allowed_company_ids.
			all, err := c.s.SearchRead(ctx, "stock.warehouse", nil, odoo.Query{Fields: []string{"code"}, Order: "id"})
			if err != nil {
				t.Fatal(err)
			}
			one, err := c.s.SearchRead(ctx, "stock.warehouse", nil, odoo.Query{Fields: []string{"code"}, Order: "id",
				Context: odoo.Context{"allowed_company_ids": []int{1}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 || len(one) != 1 || one[0].String("code") != "WH" {
				t.Errorf("warehouses: all %v, company 1 %v", all, one)
			}
			// active_test=False shows archived records.
			active, _ := c.s.SearchCount(ctx, "res.partner", nil, odoo.Query{})
			every, err := c.s.SearchCount(ctx, "res.partner", nil, odoo.Query{Context: odoo.Context{"active_test": false}})
			if err != nil || every <= active {
				t.Errorf("active_test=False counts %d (%v), active %d", every, err, active)
			}
		})
	}
}

func TestClientTypedErrors(t *testing.T) {
	srv, clients := startEmu(t)
	ctx := context.Background()

	// Odoo down: nothing listens on the port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + l.Addr().String()
	_ = l.Close()

	for _, c := range clients {
		t.Run(string(c.proto), func(t *testing.T) {
			down, _ := odoo.NewTransport(odoo.Options{URL: downURL, Protocol: c.proto})
			if _, err := odoo.ServerVersion(ctx, down); !odoo.IsKind(err, odoo.KindTransient) {
				t.Errorf("Odoo down: %v, want a transient error", err)
			}
			if _, err := odoo.Login(ctx, down, "odoo17", "admin", "admin"); !odoo.IsKind(err, odoo.KindTransient) || !strings.Contains(err.Error(), "authenticate") {
				t.Errorf("login with Odoo down: %v", err)
			}

			tr, _ := odoo.NewTransport(odoo.Options{URL: srv.URL, Protocol: c.proto})
			if _, err := odoo.Login(ctx, tr, "odoo17", "admin", "wrong"); !odoo.IsKind(err, odoo.KindAuth) {
				t.Errorf("wrong password: %v", err)
			}
			if _, err := odoo.Login(ctx, tr, "odoo17", "", "admin"); !odoo.IsKind(err, odoo.KindAuth) {
				t.Errorf("empty login: %v", err)
			}
			bad := *c.s
			bad.Password = "stale"
			if _, err := bad.SearchRead(ctx, "res.partner", nil, odoo.Query{Limit: 1}); !odoo.IsKind(err, odoo.KindAuth) {
				t.Errorf("stale password on an object call: %v", err)
			}
			if _, err := c.s.SearchRead(ctx, "res.partner", nil, odoo.Query{Fields: []string{"nope"}}); !odoo.IsKind(err, odoo.KindNotFound) {
				t.Errorf("unknown field: %v", err)
			}
			if _, err := c.s.Search(ctx, "res.partner", odoo.Domain{"|", odoo.Term("id", "=", 1)}, odoo.Query{}); !odoo.IsKind(err, odoo.KindInvalid) {
				t.Errorf("malformed domain: %v", err)
			}
			if _, err := c.s.Call(ctx, "res.partner", "_private", []any{[]int{1}}, nil); !odoo.IsKind(err, odoo.KindAccess) {
				t.Errorf("private method: %v", err)
			}

			// Slow Odoo: a call slower than the client's timeout, then one
			// slower than the caller's deadline.
			srv.InjectFault(&odooemu.Fault{Model: "res.partner", Method: "search_count", Times: 2, Delay: 400 * time.Millisecond})
			t.Cleanup(srv.ClearFaults)
			slowTr, _ := odoo.NewTransport(odoo.Options{URL: srv.URL, Protocol: c.proto, Timeout: 100 * time.Millisecond})
			slow := *c.s
			slow.T = slowTr
			start := time.Now()
			_, err := slow.SearchCount(ctx, "res.partner", nil, odoo.Query{})
			if !odoo.IsKind(err, odoo.KindTransient) || time.Since(start) > 300*time.Millisecond {
				t.Errorf("client timeout: %v after %v, want a transient error after ~100ms", err, time.Since(start))
			}
			dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			_, err = c.s.SearchCount(dctx, "res.partner", nil, odoo.Query{})
			if !odoo.IsKind(err, odoo.KindCanceled) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("caller deadline: %v, want canceled", err)
			}
			srv.ClearFaults()

			srv.InjectFault(&odooemu.Fault{Model: "res.partner", Method: "search_read", Times: 1, Status: http.StatusBadGateway})
			if _, err := c.s.SearchRead(ctx, "res.partner", nil, odoo.Query{Limit: 1}); !odoo.IsKind(err, odoo.KindTransient) || !strings.Contains(err.Error(), "502") {
				t.Errorf("HTTP 502: %v", err)
			}
			srv.InjectFault(&odooemu.Fault{Model: "res.partner", Method: "search_read", Times: 1,
				Message: "psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update"})
			if _, err := c.s.SearchRead(ctx, "res.partner", nil, odoo.Query{Limit: 1}); !odoo.IsKind(err, odoo.KindTransient) {
				t.Errorf("serialization failure: %v", err)
			}
			if _, err := c.s.SearchRead(ctx, "res.partner", nil, odoo.Query{Limit: 1}); err != nil {
				t.Errorf("after the faults: %v", err)
			}
		})
	}
}
