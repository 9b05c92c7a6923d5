package gateway_test

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/shop"
)

// TestClientAbortWhileSendingIs499: a client that closes its connection
// halfway through the body it announced is logged as a client abort (499,
// info) by every endpoint that reads a body, never as an error.
func TestClientAbortWhileSendingIs499(t *testing.T) {
	buf := &syncBuffer{}
	e := emulate(t, nil, "xmlids.json")
	st := tempStore(t)
	srv := gateway.New(gateway.Config{}, e.tr, st, jsonLog(buf))
	srv.SetShops(&shop.Service{Store: st, Log: quiet})
	gw := httptest.NewServer(srv)
	t.Cleanup(gw.Close)
	r := &observedRig{gw: gw, log: buf}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:admin"))
	for _, tc := range []struct{ path, ctype, start string }{
		{"/oms/orders-proposal", "application/json", `{"ticket": {"id": "T1", "lines": [`},
		{"/shops", "application/json", `{"name": "half`},
		{"/frepple/xml", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n1\r\n--XX\r\nContent-Disposition: file; name=\"frePPLe plan\"; filename=\"p.xml\"\r\n\r\n<plan><operationplans>"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(gw.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST %s?database=odoo17 HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n%s",
				tc.path, auth, tc.ctype, tc.start)
			conn.Close()
			waitForLog(t, r, `"path":"`+tc.path+`","status":499`)
			var lines []map[string]any
			for _, l := range r.logLines(t) {
				if l["path"] == tc.path {
					lines = append(lines, l)
				}
			}
			assertClientAbortLogged(t, lines, tc.path)
		})
	}
}

// TestClientAbortWhileReceivingIs499: a client that stops reading a
// streamed export is a client abort too.
func TestClientAbortWhileReceivingIs499(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	conn, err := net.Dial("tcp", strings.TrimPrefix(r.gw.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:admin"))
	fmt.Fprintf(conn, "GET /frepple/xml?database=odoo17&company=My%%20Company%%20(San%%20Francisco)&mode=1 HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n", auth)
	b := make([]byte, 512)
	if _, err := conn.Read(b); err != nil || !strings.HasPrefix(string(b), "HTTP/1.1 200") {
		t.Fatalf("first bytes %q, %v", b, err)
	}
	conn.Close()
	waitForLog(t, r, `"status":499`)
	assertClientAbortLogged(t, r.logLines(t), "/frepple/xml")
}

// jsonLog logs every level as JSON into buf.
func jsonLog(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
