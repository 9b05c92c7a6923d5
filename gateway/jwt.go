package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Claims are the JWT claims plangate reads. The planner's tokens carry
// exp and user (spec §2.4.4); no password is ever expected in a token.
type Claims struct {
	Exp  *float64 `json:"exp"`
	User string   `json:"user"`
}

var (
	errTokenMalformed = errors.New("malformed token")
	errTokenAlg       = errors.New("unsupported token algorithm (want HS256)")
	errTokenSignature = errors.New("bad token signature")
	errTokenExpired   = errors.New("token has expired")
	errTokenNoExp     = errors.New("token without exp claim")
)

// verifyJWT checks a compact HS256 JWS against key at time now and returns
// its claims. Unlike the addon, the header's alg must be HS256 (so "none"
// or RS256 tokens are refused) and exp is required.
func verifyJWT(token string, key []byte, now time.Time) (Claims, error) {
	var c Claims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, errTokenMalformed
	}
	hdrJSON, err := b64url(parts[0])
	if err != nil {
		return c, fmt.Errorf("%w: header: %v", errTokenMalformed, err)
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		return c, fmt.Errorf("%w: header: %v", errTokenMalformed, err)
	}
	if hdr.Alg != "HS256" {
		return c, errTokenAlg
	}
	sig, err := b64url(parts[2])
	if err != nil {
		return c, fmt.Errorf("%w: signature: %v", errTokenMalformed, err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) { // constant time
		return c, errTokenSignature
	}
	payload, err := b64url(parts[1])
	if err != nil {
		return c, fmt.Errorf("%w: payload: %v", errTokenMalformed, err)
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, fmt.Errorf("%w: payload: %v", errTokenMalformed, err)
	}
	if c.Exp == nil {
		return c, errTokenNoExp
	}
	if float64(now.Unix()) > *c.Exp {
		return c, errTokenExpired
	}
	return c, nil
}

// b64url decodes base64url with or without padding (the addon re-pads).
func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// SignJWT makes an HS256 token with the given claims; for tests and for
// operators who mint tokens for the planner (`plangate token`).
func SignJWT(claims map[string]any, key []byte) (string, error) {
	hdr, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}
