package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// requestIDHeader carries the request id in and out.
const requestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestID returns the id the middleware gave the request of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// logFrom returns the server's logger with the request id of ctx, so
// handlers' lines can be matched with the access log line.
func (s *Server) logFrom(ctx context.Context) *slog.Logger {
	if id := RequestID(ctx); id != "" {
		return s.log.With("request_id", id)
	}
	return s.log
}

// requestIDHandler adds the request id of the context to every record
// logged with a context (InfoContext, Log…), once: not when the logger
// already carries it (logFrom) or the record names it.
type requestIDHandler struct {
	next  slog.Handler
	bound bool // a request_id attribute is already attached via With
}

func (h *requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" && !h.bound {
		has := false
		r.Attrs(func(a slog.Attr) bool {
			has = a.Key == "request_id"
			return !has
		})
		if !has {
			r = r.Clone()
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	bound := h.bound
	for _, a := range as {
		bound = bound || a.Key == "request_id"
	}
	return &requestIDHandler{next: h.next.WithAttrs(as), bound: bound}
}

func (h *requestIDHandler) WithGroup(name string) slog.Handler {
	return &requestIDHandler{next: h.next.WithGroup(name), bound: h.bound}
}

// withRequestIDs makes log's context-taking methods add request ids.
func withRequestIDs(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(*requestIDHandler); ok {
		return log
	}
	return slog.New(&requestIDHandler{next: log.Handler()})
}

// saneRequestID accepts an incoming id only when it is short and made of
// characters that cannot forge log fields or headers.
func saneRequestID(v string) bool {
	if v == "" || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '=', c == '/':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

// middleware wraps the router: request id, access log, HTTP metrics, the
// refusal of cross-site browser requests, and a body whose read errors say
// when the client went away.
func (s *Server) middleware(next http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(requestIDHeader)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(requestIDHeader, id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = clientBody{r.Body}
		}
		rec := &statusRecorder{ResponseWriter: w}
		route := s.routeOf(r)
		s.metrics.inFlight.Inc()
		aborted := true
		defer func() {
			s.metrics.inFlight.Dec()
			status := rec.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http answers 200
			}
			// The answer never reached the client whole: a failed write,
			// or the client closed the connection before the handler ended.
			gone := rec.writeErr != nil || errors.Is(r.Context().Err(), context.Canceled)
			if gone {
				status = statusClientClosed
			}
			d := time.Since(start)
			s.metrics.observeRequest(route, r.Method, status, d)
			attrs := []any{
				"request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", status, "bytes", rec.bytes, "duration", d.Round(time.Microsecond),
				"remote", r.RemoteAddr,
			}
			if q := redactQuery(r.URL.RawQuery); q != "" {
				attrs = append(attrs, "query", q)
			}
			if gone {
				attrs = append(attrs, "client_abort", true)
			}
			level := slog.LevelInfo
			if aborted {
				// The handler panicked (http.ErrAbortHandler ends a broken
				// stream): say so, then let net/http deal with the panic.
				attrs = append(attrs, "aborted", true)
				if !gone {
					level = slog.LevelWarn
				}
			} else if status >= 500 && !gone {
				level = slog.LevelWarn
			}
			s.log.Log(r.Context(), level, "request", attrs...)
		}()
		if err := checkBrowserRequest(csrf, r); err != nil {
			s.logFrom(r.Context()).Info("request refused", "path", r.URL.Path, "status", err.Status, "err", err.Msg,
				"origin", clip(r.Header.Get("Origin"), 200), "sec_fetch_site", clip(r.Header.Get("Sec-Fetch-Site"), 50))
			if jsonAPI(r.URL.Path) {
				writeJSONMessage(rec, err.Status, err.Msg)
			} else {
				writeText(rec, err.Status, err.Msg)
			}
			aborted = false
			return
		}
		next.ServeHTTP(rec, r)
		aborted = false
	})
}

// jsonAPI reports the paths of the JSON APIs: their answers, errors
// included, are JSON, and their state-changing requests must say they
// send JSON.
func jsonAPI(path string) bool {
	for _, p := range []string{"/oms/", "/openbravo/", "/shops/"} {
		if strings.HasPrefix(path+"/", p) {
			return true
		}
	}
	return false
}

// checkBrowserRequest refuses what a hostile page could make a logged-in
// browser send. State-changing requests (any method but GET, HEAD and
// OPTIONS) from a browser must come from the gateway's own origin: the
// browser says so in Sec-Fetch-Site, or in Origin (net/http's
// CrossOriginProtection). Requests with neither header are not a
// browser's (the planner's multipart POST, curl, scripts) and pass. The
// JSON APIs also take only JSON (or no body): every content type an HTML
// form can send, however old the browser, is refused.
func checkBrowserRequest(csrf *http.CrossOriginProtection, r *http.Request) *badRequest {
	if err := csrf.Check(r); err != nil {
		return &badRequest{Status: http.StatusForbidden, Msg: "cross-site request refused: state-changing requests must come from this gateway's own pages or from a non-browser client"}
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if !jsonAPI(r.URL.Path) {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return &badRequest{Status: http.StatusUnsupportedMediaType, Msg: "the request body must be JSON: send Content-Type: application/json"}
}

// secretParam reports query keys whose values must not reach the log.
func secretParam(k string) bool {
	k = strings.ToLower(k)
	for _, s := range secretParamParts {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// secretParamParts are the parts of query parameter names whose values
// are logged as REDACTED (README, "Request ids and logging").
var secretParamParts = []string{"pass", "pwd", "pw", "token", "jwt", "secret", "key", "auth", "cred", "session", "signature", "sign"}

// redactQuery returns the query string with secret-looking values replaced.
// An unparsable query is left out entirely rather than logged raw.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "(unparsable)"
	}
	for k, vs := range q {
		if secretParam(k) {
			for i := range vs {
				vs[i] = "REDACTED"
			}
		}
	}
	return q.Encode()
}

// routeOf names the route a request matches, with parameters as
// ":name", so metric labels stay few whatever the paths requested.
func (s *Server) routeOf(r *http.Request) string {
	path := r.URL.Path
	h, ps, _ := s.router.Lookup(r.Method, path)
	if h == nil {
		return "unmatched"
	}
	if len(ps) == 0 {
		return path
	}
	segs := strings.Split(path, "/")
	i := 0
	for _, p := range ps {
		if strings.HasPrefix(p.Value, "/") && strings.HasSuffix(path, p.Value) {
			// A catch-all parameter: the rest of the path.
			n := strings.Count(path[:len(path)-len(p.Value)], "/") + 1
			return strings.Join(segs[:n], "/") + "/*" + p.Key
		}
		// The parameter is the first later segment with its value whose
		// change moves the parameter (a static segment may look the same).
		for ; i < len(segs); i++ {
			if segs[i] != p.Value {
				continue
			}
			const probe = "~probe~"
			orig := segs[i]
			segs[i] = probe
			_, ps2, _ := s.router.Lookup(r.Method, strings.Join(segs, "/"))
			if ps2.ByName(p.Key) == probe {
				segs[i] = ":" + p.Key
				i++
				break
			}
			segs[i] = orig
		}
	}
	return strings.Join(segs, "/")
}

// statusRecorder remembers the status and size of a response, and the
// first failed write (the client went away). It keeps streaming working:
// Flush and Unwrap reach the real writer.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	bytes    int64
	writeErr error
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	if err != nil && w.writeErr == nil {
		w.writeErr = err
	}
	return n, err
}

// Flush implements http.Flusher (the export streams).
func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController find the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
