package shop

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plangate/plangate/store"
)

// OAuth endpoints of TOP (the authorization-code flow, "server-side
// flow"): the seller signs in and authorises the app at the authorize
// URL, which sends the browser to the app's registered callback with a
// code; the app exchanges the code, with its App Secret, at the token URL
// for the access token, which is the Session Key of the REST calls.
const (
	TaobaoAuthURL         = "https://oauth.taobao.com/authorize"
	TaobaoTokenURL        = "https://oauth.taobao.com/token"
	TaobaoSandboxAuthURL  = "https://oauth.tbsandbox.com/authorize"
	TaobaoSandboxTokenURL = "https://oauth.tbsandbox.com/token"
)

// StateTTL is how long an authorize URL's state is accepted back.
const StateTTL = 15 * time.Minute

// Refusals of the OAuth flow.
var (
	ErrNoOAuth  = errors.New("shop: OAuth is not set up for the shop")
	ErrBadState = errors.New("shop: the OAuth state is not one this gateway issued for the shop, or has expired")
)

// OAuthError is an error answer of the platform's token endpoint.
type OAuthError struct {
	Status      int    // HTTP status
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *OAuthError) Error() string {
	return fmt.Sprintf("oauth token: platform error %s: %s (HTTP %d)", e.Code, e.Description, e.Status)
}

// oauthURLs returns the shop's authorize and token URLs: its own, or its platform's.
func oauthURLs(sh store.Shop) (auth, token string, err error) {
	switch sh.Platform {
	case PlatformTaobao:
		auth, token = TaobaoAuthURL, TaobaoTokenURL
	case PlatformTaobaoSandbox:
		auth, token = TaobaoSandboxAuthURL, TaobaoSandboxTokenURL
	}
	if sh.AuthURL != "" {
		auth = sh.AuthURL
	}
	if sh.TokenURL != "" {
		token = sh.TokenURL
	}
	if auth == "" || token == "" {
		return "", "", fmt.Errorf("shop %s: platform %q has no default authorize/token URL; set auth_url and token_url: %w", sh.Name, sh.Platform, ErrNoOAuth)
	}
	return auth, token, nil
}

func oauthReady(sh store.Shop) error {
	var miss []string
	for _, f := range []struct{ name, v string }{{"app_key", sh.AppKey}, {"app_secret", sh.AppSecret}, {"redirect_uri", sh.RedirectURI}} {
		if f.v == "" {
			miss = append(miss, f.name)
		}
	}
	if len(miss) > 0 {
		return fmt.Errorf("shop %s: set %s first (redirect_uri: the callback registered with the app): %w", sh.Name, strings.Join(miss, ", "), ErrNoOAuth)
	}
	return nil
}

// stateMAC binds a state to the shop, its database and its expiry. The
// key derives from the App Secret: only this gateway (and the platform's
// console, which knows the secret anyway) can make a valid one.
func stateMAC(sh store.Shop, expiry, nonce string) string {
	k := hmac.New(sha256.New, []byte(sh.AppSecret))
	k.Write([]byte("plangate oauth state"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(strings.Join([]string{sh.Name, sh.Database, sh.AppKey, expiry, nonce}, "\x00")))
	return hex.EncodeToString(m.Sum(nil))
}

// Authorization is where to send the seller to authorise the app.
type Authorization struct {
	URL     string    `json:"authorize_url"`
	State   string    `json:"state"`
	Expires time.Time `json:"expires"`
}

// AuthorizeURL makes the URL that a shop's seller opens to authorise the
// app; its state, good for StateTTL, comes back to the callback.
func (s *Service) AuthorizeURL(name string) (Authorization, error) {
	sh, err := s.shop(name)
	if err != nil {
		return Authorization{}, err
	}
	auth, _, err := oauthURLs(sh)
	if err != nil {
		return Authorization{}, err
	}
	if err := oauthReady(sh); err != nil {
		return Authorization{}, err
	}
	u, err := url.Parse(auth)
	if err != nil {
		return Authorization{}, fmt.Errorf("shop %s: auth_url: %w", name, err)
	}
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return Authorization{}, fmt.Errorf("oauth state: %w", err)
	}
	exp := s.now().Add(StateTTL).Truncate(time.Second)
	expiry, n := strconv.FormatInt(exp.Unix(), 10), hex.EncodeToString(nonce)
	state := expiry + "." + n + "." + stateMAC(sh, expiry, n)
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", sh.AppKey)
	q.Set("redirect_uri", sh.RedirectURI)
	q.Set("state", state)
	q.Set("view", "web")
	u.RawQuery = q.Encode()
	return Authorization{URL: u.String(), State: state, Expires: exp}, nil
}

func (s *Service) checkState(sh store.Shop, state string) error {
	parts := strings.Split(state, ".")
	if len(parts) != 3 {
		return ErrBadState
	}
	want := stateMAC(sh, parts[0], parts[1])
	if !hmac.Equal([]byte(want), []byte(parts[2])) {
		return ErrBadState
	}
	exp, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || s.now().After(time.Unix(exp, 0)) {
		return ErrBadState
	}
	return nil
}

// Authorized is what an authorisation stored in the shop.
type Authorized struct {
	Shop       string    `json:"shop"`
	SellerNick string    `json:"seller_nick,omitempty"`
	Expires    time.Time `json:"session_expires,omitempty"`
}

// ExchangeCode checks the state the callback brought back, exchanges the
// code at the shop's token URL and stores the access token as the shop's
// Session Key (with the refresh token, its expiry and the seller's nick).
// Nothing is sent before the state checks out.
func (s *Service) ExchangeCode(ctx context.Context, name, code, state string) (Authorized, error) {
	sh, err := s.shop(name)
	if err != nil {
		return Authorized{}, err
	}
	_, token, err := oauthURLs(sh)
	if err != nil {
		return Authorized{}, err
	}
	if err := oauthReady(sh); err != nil {
		return Authorized{}, err
	}
	if err := s.checkState(sh, state); err != nil {
		return Authorized{}, err
	}
	if code == "" {
		return Authorized{}, fmt.Errorf("shop %s: the callback brought no code: %w", name, ErrNoOAuth)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {sh.AppKey},
		"client_secret": {sh.AppSecret}, "redirect_uri": {sh.RedirectURI}, "state": {state}, "view": {"web"}}
	a, err := s.requestToken(ctx, sh, token, form)
	if err != nil {
		return Authorized{}, err
	}
	s.log().Info("shop authorised by its seller", "shop", sh.Name, "seller", a.SellerNick, "expires", a.Expires)
	return a, nil
}

// refreshAhead is how long before the Session Key expires it is renewed:
// a run that starts just before the expiry must not fail half-way.
const refreshAhead = 10 * time.Minute

// freshSession renews the shop's Session Key with its refresh token when
// it expires within refreshAhead, and returns the shop as stored then.
// A failed renewal is an error only once the key has expired (the seller
// must authorise again); until then the old key is used, and the renewal
// tried again on the next call.
func (s *Service) freshSession(ctx context.Context, sh store.Shop) (store.Shop, error) {
	now := s.now()
	due := func(sh store.Shop) bool {
		return sh.RefreshToken != "" && !sh.SessionExpires.IsZero() && !now.Before(sh.SessionExpires.Add(-refreshAhead))
	}
	if !due(sh) {
		return sh, nil
	}
	// A refresh token is good for one renewal, and the platform drops the
	// old key when it grants a new one: callers sharing the store (in this
	// process or other replicas) renew one at a time, and those that
	// waited use the key the first one stored.
	unlock, err := s.Store.Locker().Lock(ctx, "shop-session/"+sh.Name)
	if err != nil {
		return sh, fmt.Errorf("shop %s: wait to renew the Session Key: %w", sh.Name, err)
	}
	defer unlock()
	if sh, err = s.shop(sh.Name); err != nil || !due(sh) {
		return sh, err
	}
	expired := !now.Before(sh.SessionExpires)
	fail := func(err error) (store.Shop, error) {
		if expired {
			return sh, fmt.Errorf("shop %s: the Session Key expired at %s and renewing it failed (the seller must authorise the app again): %w",
				sh.Name, sh.SessionExpires.Format(time.RFC3339), err)
		}
		s.log().Warn("renewing a shop's Session Key failed; the current one is used until it expires",
			"shop", sh.Name, "expires", sh.SessionExpires, "err", err)
		return sh, nil
	}
	_, token, err := oauthURLs(sh)
	if err != nil {
		return fail(err)
	}
	if sh.AppKey == "" || sh.AppSecret == "" {
		return fail(fmt.Errorf("shop %s: set app_key and app_secret: %w", sh.Name, ErrNoOAuth))
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {sh.RefreshToken}, "client_id": {sh.AppKey},
		"client_secret": {sh.AppSecret}, "view": {"web"}}
	a, err := s.requestToken(ctx, sh, token, form)
	if err != nil {
		return fail(err)
	}
	s.log().Info("shop Session Key renewed", "shop", sh.Name, "seller", a.SellerNick, "expires", a.Expires)
	return s.shop(sh.Name)
}

// requestToken posts a grant to the token URL and stores the access token
// it answers as the shop's Session Key, with its refresh token (the old
// one when the answer has none), expiry and seller.
func (s *Service) requestToken(ctx context.Context, sh store.Shop, token string, form url.Values) (Authorized, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, token, strings.NewReader(form.Encode()))
	if err != nil {
		return Authorized{}, fmt.Errorf("shop %s: token_url: %w", sh.Name, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	hc := s.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	const op = "oauth token"
	resp, err := hc.Do(req)
	if err != nil {
		return Authorized{}, &UnreachableError{Method: op, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Authorized{}, &UnreachableError{Method: op, Err: fmt.Errorf("read response: %w", err)}
	}
	var r struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    flex   `json:"expires_in"`
		Nick         string `json:"taobao_user_nick"`
		OAuthError
	}
	if err := json.Unmarshal(data, &r); err != nil {
		if resp.StatusCode >= 500 {
			return Authorized{}, &UnreachableError{Method: op, Err: fmt.Errorf("http %s", resp.Status)}
		}
		return Authorized{}, &OAuthError{Status: resp.StatusCode, Code: "bad_response", Description: clipText(err.Error(), 200)}
	}
	if r.Code != "" || r.AccessToken == "" || resp.StatusCode != http.StatusOK {
		e := r.OAuthError
		e.Status = resp.StatusCode
		if e.Code == "" {
			e.Code, e.Description = "no_access_token", "the answer has no access_token"
		}
		e.Description = clipText(e.Description, 300)
		return Authorized{}, &e
	}
	// Nicks arrive URL-encoded in callbacks; the token answer may do the same.
	if n, err := url.QueryUnescape(r.Nick); err == nil {
		r.Nick = n
	}
	if r.Nick == "" {
		r.Nick = sh.SellerNick
	}
	if r.RefreshToken == "" {
		r.RefreshToken = sh.RefreshToken
	}
	var exp time.Time
	if secs := r.ExpiresIn.int(); secs > 0 {
		exp = s.now().Add(time.Duration(secs) * time.Second).Truncate(time.Second)
	}
	if err := s.Store.SetShopSession(sh.Database, sh.Name, r.AccessToken, r.RefreshToken, exp, r.Nick, s.now()); err != nil {
		return Authorized{}, err
	}
	return Authorized{Shop: sh.Name, SellerNick: r.Nick, Expires: exp}, nil
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
