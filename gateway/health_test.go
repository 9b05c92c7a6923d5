package gateway_test

import (
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/odoo"
)

func TestReadyzWhenOdooAnswers(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	got := r.do(t, "GET", "/readyz", nil)
	if got.status != 200 || !strings.HasPrefix(got.body, "ready: Odoo 17.0") {
		t.Fatalf("readyz = %d %q, want 200 ready: Odoo 17.0…", got.status, got.body)
	}
	if got := r.do(t, "GET", "/healthz", nil); got.status != 200 || got.body != "ok\n" {
		t.Errorf("healthz = %d %q", got.status, got.body)
	}
}

func TestReadyzWhenOdooFails(t *testing.T) {
	t.Run("closed port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there any more
		tr, err := odoo.NewTransport(odoo.Options{URL: "http://" + addr})
		if err != nil {
			t.Fatal(err)
		}
		gw := httptest.NewServer(gateway.New(gateway.Config{}, tr, nil, quiet))
		defer gw.Close()
		r := &observedRig{gw: gw}
		got := r.do(t, "GET", "/readyz", nil)
		if got.status != 503 || !strings.HasPrefix(got.body, "not ready: Odoo does not answer") || !strings.Contains(got.body, "refused") {
			t.Fatalf("readyz = %d %q, want 503 naming the refused connection", got.status, got.body)
		}
		if got := r.do(t, "GET", "/healthz", nil); got.status != 200 {
			t.Errorf("healthz = %d while Odoo is down; the process is still up", got.status)
		}
	})
	t.Run("Odoo answers 503", func(t *testing.T) {
		r := startObserved(t, gateway.Config{}, "")
		r.emu.InjectFault(&odooemu.Fault{Status: 503})
		got := r.do(t, "GET", "/readyz", nil)
		if got.status != 503 || !strings.HasPrefix(got.body, "not ready:") {
			t.Fatalf("readyz = %d %q, want 503", got.status, got.body)
		}
		if !strings.Contains(r.log.String(), `"request_id"`) || !strings.Contains(r.log.String(), "not ready") {
			t.Errorf("the handler's log line should carry the request id:\n%s", r.log)
		}
	})
	t.Run("Odoo too slow", func(t *testing.T) {
		r := startObserved(t, gateway.Config{}, "")
		r.emu.InjectFault(&odooemu.Fault{Method: "version", Delay: 3500 * time.Millisecond, Times: 1})
		start := time.Now()
		got := r.do(t, "GET", "/readyz", nil)
		if got.status != 503 || !strings.Contains(got.body, "no answer within 3s") {
			t.Fatalf("readyz = %d %q, want 503 no answer within 3s", got.status, got.body)
		}
		if d := time.Since(start); d > 3400*time.Millisecond {
			t.Errorf("readyz took %s; the probe must give up after 3s", d)
		}
	})
}
