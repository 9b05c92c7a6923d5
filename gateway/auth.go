package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plangate/plangate/mappers/odoo"
)

// caller is an authenticated request: the Odoo session to act with, the
// database and, when the request named one, the company.
type caller struct {
	Session  *odoo.Session
	Database string
	Login    string // the Odoo login, or the token's user for Bearer requests
	Company  *company
	Bearer   bool
	// Disclose is the company's disclose-stack-trace setting, read at
	// authentication: an error page must not wait on a failing Odoo.
	Disclose bool
}

// company is a res.company the request named.
type company struct {
	ID   int
	Name string
}

// authenticate runs the addon's request preamble (spec §2.3): database
// (with the single-database fallback), credentials checked against Odoo,
// then the company. On failure it has answered (in the addon's style) and
// returns ok=false. param reads a request parameter (query, then form).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, param func(string) string) (*caller, bool) {
	return s.authenticateIn(w, r, param, styleAddon)
}

// authenticateIn is authenticate answering failures in style st.
func (s *Server) authenticateIn(w http.ResponseWriter, r *http.Request, param func(string) string, st errorStyle) (*caller, bool) {
	ctx := r.Context()
	db := param("database")
	if db == "" {
		var err error
		if db, err = s.defaultDatabase(ctx); err != nil {
			if odoo.KindOf(err) == odoo.KindTransient || odoo.KindOf(err) == odoo.KindCanceled {
				s.fail(w, r, st, err)
				return nil, false
			}
			st.refuse(w, http.StatusUnauthorized, msgMissingDatabase)
			return nil, false
		}
	}
	companyName := param("company")

	authz := r.Header.Get("Authorization")
	scheme, cred, found := strings.Cut(authz, " ")
	if authz == "" || !found {
		s.unauthorized(w, r, st, &authError{reason: "missing or malformed Authorization header"})
		return nil, false
	}
	var c *caller
	var err error
	switch strings.ToLower(scheme) {
	case "basic":
		c, err = s.basicLogin(ctx, r.RemoteAddr, db, cred)
	case "bearer":
		c, err = s.bearerLogin(ctx, r.RemoteAddr, db, companyName, strings.TrimSpace(cred))
	default:
		s.unauthorized(w, r, st, &authError{reason: "unknown authentication method " + strconv.Quote(clip(scheme, 20))})
		return nil, false
	}
	if err != nil {
		var ae *authError
		var th *throttled
		switch {
		case errors.As(err, &th):
			s.tooManyFailures(w, r, st, th.wait)
		case errors.As(err, &ae):
			s.unauthorized(w, r, st, ae)
		case odoo.IsUnknownDatabase(err):
			// No password can help: name the mistake instead of prompting again.
			st.refuse(w, http.StatusBadRequest, fmt.Sprintf("Unknown database %q: Odoo has no database of that name", clip(db, 64)))
		default:
			// Odoo down is not the user's fault: say so instead of a login prompt.
			s.fail(w, r, st, err)
		}
		return nil, false
	}
	if companyName != "" {
		ids, err := c.Session.Search(ctx, "res.company", odoo.Domain{odoo.Term("name", "=", companyName)}, odoo.Query{Limit: 1})
		if err != nil {
			s.fail(w, r, st, err)
			return nil, false
		}
		if len(ids) == 0 {
			st.refuse(w, http.StatusUnauthorized, msgInvalidCompany)
			return nil, false
		}
		c.Company = &company{ID: ids[0], Name: companyName}
		c.Disclose = s.settings(ctx, c.Session, companyName).DiscloseStackTrace
	}
	return c, true
}

func (s *Server) defaultDatabase(ctx context.Context) (string, error) {
	if s.cfg.DefaultDatabase != "" {
		return s.cfg.DefaultDatabase, nil
	}
	dbs, err := odoo.ListDatabases(ctx, s.odoo)
	if err != nil {
		return "", err
	}
	if len(dbs) != 1 {
		return "", errBadRequest(msgMissingDatabase)
	}
	return dbs[0], nil
}

// authError is refused credentials. login is what was typed as the
// login, for the log's login tag (never logged as typed).
type authError struct {
	reason string
	login  string
}

func (e *authError) Error() string { return e.reason }

// throttled is an attempt the login throttle holds back for wait.
type throttled struct{ wait time.Duration }

func (e *throttled) Error() string { return "too many failed logins" }

func (s *Server) basicLogin(ctx context.Context, remote, db, cred string) (*caller, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil || !utf8.Valid(raw) {
		return nil, &authError{reason: "bad Basic credentials encoding"}
	}
	login, password, ok := strings.Cut(string(raw), ":") // passwords may contain ':'
	if !ok || login == "" || password == "" {
		return nil, &authError{reason: "missing login or password", login: login}
	}
	if !s.logins.vouched(db, login, password) {
		if d := s.throttle.wait(db, login, remote); d > 0 {
			return nil, &throttled{wait: d}
		}
	}
	sess, err := s.logins.login(ctx, s.odoo, db, login, password)
	if err != nil {
		if odoo.KindOf(err) == odoo.KindAuth && !odoo.IsUnknownDatabase(err) {
			s.throttle.failed(db, login, remote)
			return nil, &authError{reason: "wrong login or password", login: login}
		}
		return nil, err
	}
	s.throttle.succeeded(db, login)
	return &caller{Session: sess, Database: db, Login: login}, nil
}

// bearerLogin verifies an HS256 token with the company's webtoken key and
// runs the request as the configured service account (fixes addon defect D1).
func (s *Server) bearerLogin(ctx context.Context, remote, db, companyName, token string) (*caller, error) {
	if companyName == "" {
		return nil, &authError{reason: "bearer token without company argument"}
	}
	if s.cfg.ServiceLogin == "" || s.cfg.ServicePassword == "" {
		return nil, &authError{reason: "bearer tokens need a service account (odoo.service_login)"}
	}
	if d := s.throttle.wait(db, "", remote); d > 0 {
		return nil, &throttled{wait: d}
	}
	// The service account reads the company's webtoken key (the addon's
	// field, where it exists) before the token is trusted.
	sess, err := s.logins.login(ctx, s.odoo, db, s.cfg.ServiceLogin, s.cfg.ServicePassword)
	if err != nil {
		if odoo.KindOf(err) == odoo.KindAuth && !odoo.IsUnknownDatabase(err) {
			return nil, &authError{reason: "service account login failed"}
		}
		return nil, err
	}
	key := s.settings(ctx, sess, companyName).WebtokenKey
	if key == "" {
		return nil, &authError{reason: "no webtoken key for company " + strconv.Quote(clip(companyName, 100)) + " (in Odoo or the configuration)"}
	}
	claims, err := verifyJWT(token, []byte(key), s.now())
	if err != nil {
		s.throttle.failed(db, "", remote)
		return nil, &authError{reason: "bearer token: " + err.Error()}
	}
	user := claims.User
	if user == "" {
		user = s.cfg.ServiceLogin
	}
	return &caller{Session: sess, Database: db, Login: user, Bearer: true}, nil
}

// loginTagKey keys the login tags of this process.
var loginTagKey = func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails (crypto/rand panics instead)
	return k
}()

// loginTag names a typed login in the log without writing it: people type
// passwords into the login field. The tag is a keyed hash, the same for
// the same login within this process, and useless to test guesses against.
func loginTag(login string) string {
	mac := hmac.New(sha256.New, loginTagKey)
	mac.Write([]byte(login))
	return hex.EncodeToString(mac.Sum(nil)[:6])
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, st errorStyle, e *authError) {
	// Never log credentials: reason names the failure, not the secret.
	attrs := []any{"reason", e.reason, "remote", r.RemoteAddr, "path", r.URL.Path}
	if e.login != "" {
		attrs = append(attrs, "login_tag", loginTag(e.login))
	}
	s.logFrom(r.Context()).Warn("Failed login attempt", attrs...)
	w.Header().Set("WWW-Authenticate", `Basic realm="odoo"`)
	st.refuse(w, http.StatusUnauthorized, msgLogin)
}

// tooManyFailures answers an attempt the login throttle holds back.
func (s *Server) tooManyFailures(w http.ResponseWriter, r *http.Request, st errorStyle, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	s.logFrom(r.Context()).Warn("login attempt held back after repeated failures", "remote", r.RemoteAddr, "path", r.URL.Path, "retry_after_s", secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	st.refuse(w, http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins: try again in %d s", secs))
}

// hasGroup reports whether the session's user belongs to one of the groups
// (external ids), asking Odoo's res.users.has_group for each in turn.
func hasGroup(ctx context.Context, sess *odoo.Session, groups ...string) (bool, error) {
	for _, g := range groups {
		v, err := sess.Call(ctx, "res.users", "has_group", []any{g}, nil)
		if err != nil {
			return false, fmt.Errorf("has_group %s: %w", g, err)
		}
		if ok, _ := v.(bool); ok {
			return true, nil
		}
	}
	return false, nil
}

// disclose reports whether error bodies may carry details for this company
// (the addon's disclose_stack_trace, from Odoo or the configuration).
func (s *Server) disclose(c *caller) bool { return c != nil && c.Disclose }
