package gateway

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
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
// then the company. On failure it has answered and returns ok=false.
// param reads a request parameter (query, then form).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, param func(string) string) (*caller, bool) {
	ctx := r.Context()
	db := param("database")
	if db == "" {
		var err error
		if db, err = s.defaultDatabase(ctx); err != nil {
			if odoo.KindOf(err) == odoo.KindTransient || odoo.KindOf(err) == odoo.KindCanceled {
				s.writeError(w, r, markerExport, err, false)
				return nil, false
			}
			writeText(w, http.StatusUnauthorized, msgMissingDatabase)
			return nil, false
		}
	}
	companyName := param("company")

	authz := r.Header.Get("Authorization")
	scheme, cred, found := strings.Cut(authz, " ")
	if authz == "" || !found {
		s.unauthorized(w, r, "missing or malformed Authorization header")
		return nil, false
	}
	var c *caller
	var err error
	switch strings.ToLower(scheme) {
	case "basic":
		c, err = s.basicLogin(ctx, db, cred)
	case "bearer":
		c, err = s.bearerLogin(ctx, db, companyName, strings.TrimSpace(cred))
	default:
		s.unauthorized(w, r, "unknown authentication method "+scheme)
		return nil, false
	}
	if err != nil {
		if k := odoo.KindOf(err); k == odoo.KindTransient || k == odoo.KindCanceled {
			// Odoo down is not the user's fault: say so instead of a login prompt.
			s.writeError(w, r, markerExport, err, false)
			return nil, false
		}
		if odoo.IsUnknownDatabase(err) {
			// No password can help: name the mistake instead of prompting again.
			s.writeError(w, r, markerExport, errBadRequest("Unknown database %q: Odoo has no database of that name", db), false)
			return nil, false
		}
		s.unauthorized(w, r, err.Error())
		return nil, false
	}
	if companyName != "" {
		ids, err := c.Session.Search(ctx, "res.company", odoo.Domain{odoo.Term("name", "=", companyName)}, odoo.Query{Limit: 1})
		if err != nil {
			s.writeError(w, r, markerExport, err, false)
			return nil, false
		}
		if len(ids) == 0 {
			writeText(w, http.StatusUnauthorized, msgInvalidCompany)
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

type authError string

func (e authError) Error() string { return string(e) }

func (s *Server) basicLogin(ctx context.Context, db, cred string) (*caller, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil || !utf8.Valid(raw) {
		return nil, authError("bad Basic credentials encoding")
	}
	login, password, ok := strings.Cut(string(raw), ":") // passwords may contain ':'
	if !ok || login == "" || password == "" {
		return nil, authError("missing login or password")
	}
	sess, err := s.logins.login(ctx, s.odoo, db, login, password)
	if err != nil {
		if odoo.KindOf(err) == odoo.KindAuth && !odoo.IsUnknownDatabase(err) {
			return nil, authError("wrong login or password for " + login)
		}
		return nil, err
	}
	return &caller{Session: sess, Database: db, Login: login}, nil
}

// bearerLogin verifies an HS256 token with the company's webtoken key and
// runs the request as the configured service account (fixes addon defect D1).
func (s *Server) bearerLogin(ctx context.Context, db, companyName, token string) (*caller, error) {
	if companyName == "" {
		return nil, authError("bearer token without company argument")
	}
	if s.cfg.ServiceLogin == "" || s.cfg.ServicePassword == "" {
		return nil, authError("bearer tokens need a service account (odoo.service_login)")
	}
	// The service account reads the company's webtoken key (the addon's
	// field, where it exists) before the token is trusted.
	sess, err := s.logins.login(ctx, s.odoo, db, s.cfg.ServiceLogin, s.cfg.ServicePassword)
	if err != nil {
		if odoo.KindOf(err) == odoo.KindAuth && !odoo.IsUnknownDatabase(err) {
			return nil, authError("service account login failed")
		}
		return nil, err
	}
	key := s.settings(ctx, sess, companyName).WebtokenKey
	if key == "" {
		return nil, authError("no webtoken key for company " + companyName + " (in Odoo or the configuration)")
	}
	claims, err := verifyJWT(token, []byte(key), s.now())
	if err != nil {
		return nil, authError("bearer token: " + err.Error())
	}
	user := claims.User
	if user == "" {
		user = s.cfg.ServiceLogin
	}
	return &caller{Session: sess, Database: db, Login: user, Bearer: true}, nil
}

// disclose reports whether error bodies may carry details for this company
// (the addon's disclose_stack_trace, from Odoo or the configuration).
func (s *Server) disclose(c *caller) bool { return c != nil && c.Disclose }
