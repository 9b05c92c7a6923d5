package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestContextLogLinesCarryTheRequestID: every way a handler may log with
// the request's context yields exactly one request_id; without a
// context, none.
func TestContextLogLinesCarryTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	s := New(Config{}, nil, nil, slog.New(slog.NewJSONHandler(&buf, nil)))
	var ctx context.Context
	s.router.HandlerFunc(http.MethodGet, "/probe", func(w http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
		s.log.InfoContext(r.Context(), "context")
		s.logFrom(r.Context()).Info("logFrom")
		s.logFrom(r.Context()).InfoContext(r.Context(), "both")
		s.log.With("section", "x").WithGroup("g").InfoContext(r.Context(), "grouped", "k", 1)
		s.log.InfoContext(r.Context(), "explicit", "request_id", "mine")
		s.log.Info("no context")
	})
	req := httptest.NewRequest(http.MethodGet, "/probe", nil)
	req.Header.Set("X-Request-Id", "rid-1")
	s.ServeHTTP(httptest.NewRecorder(), req)
	if RequestID(ctx) != "rid-1" {
		t.Fatalf("RequestID = %q", RequestID(ctx))
	}
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		n := strings.Count(l, `"request_id"`)
		switch m["msg"] {
		case "no context":
			if n != 0 {
				t.Errorf("%s: request id without a context", l)
			}
		case "explicit":
			if n != 1 || m["request_id"] != "mine" {
				t.Errorf("%s: want the handler's own request_id only", l)
			}
		default:
			if n != 1 || !strings.Contains(l, `"request_id":"rid-1"`) {
				t.Errorf("%s: want request_id rid-1 exactly once", l)
			}
		}
	}
	if !strings.Contains(buf.String(), `"msg":"request"`) {
		t.Error("no access log line")
	}
}
