package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// TestMiddlewareKeepsStreamingAndLogsAbortedStreams: Flush reaches the
// connection through the recorder, and a stream cut with
// http.ErrAbortHandler is still logged and counted.
func TestMiddlewareKeepsStreamingAndLogsAbortedStreams(t *testing.T) {
	var buf syncBuf
	s := New(Config{}, nil, nil, slog.New(slog.NewJSONHandler(&buf, nil)))
	s.router.HandlerFunc(http.MethodGet, "/stream", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<plan>"))
		w.(http.Flusher).Flush()
		if r.URL.Query().Get("cut") != "" {
			panic(http.ErrAbortHandler)
		}
		_, _ = w.Write([]byte("</plan>"))
	})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/stream", nil))
	if !rec.Flushed || rec.Body.String() != "<plan></plan>" {
		t.Errorf("flushed %v, body %q", rec.Flushed, rec.Body.String())
	}

	srv := httptest.NewServer(s)
	defer srv.Close()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	res, err := http.Get(srv.URL + "/stream?cut=1")
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil {
		t.Error("a cut stream read as complete")
	}
	var aborted map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		_ = json.Unmarshal([]byte(l), &m)
		if m["msg"] == "request" && m["aborted"] == true {
			aborted = m
		}
	}
	if aborted == nil || aborted["bytes"] != float64(len("<plan>")) || aborted["path"] != "/stream" {
		t.Fatalf("no access line for the cut stream in\n%s", buf.String())
	}
	body := httptest.NewRecorder()
	s.ServeHTTP(body, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(body.Body.String(), `plangate_http_requests_total{method="GET",route="/stream",status="200"} 2`) {
		t.Error("the cut stream was not counted")
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
