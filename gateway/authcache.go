package gateway

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
)

// loginCache remembers successful Odoo logins, for two uses. For ttl a
// login is reused, so that hot endpoints (order sourcing) do not cost
// Odoo an authenticate call per request. It is safe: Odoo checks the
// password again on every execute_kw a session makes, so a password
// changed in Odoo fails at the next call whatever the cache says. For
// vouchFor the credentials are known good: they pass the login throttle,
// so an attacker failing logins on purpose never locks out the owner of
// the right password. Keys are hashes; passwords are not kept.
type loginCache struct {
	ttl time.Duration // <= 0: no reuse (still vouched)
	now func() time.Time

	mu sync.Mutex
	m  map[[32]byte]loginEntry
}

type loginEntry struct {
	uid      int
	verified time.Time // when Odoo last accepted the credentials
}

// maxCachedLogins bounds the cache; past it, old entries go, then all.
const maxCachedLogins = 10000

// vouchFor is how long credentials Odoo accepted pass the login throttle.
const vouchFor = 24 * time.Hour

func newLoginCache(ttl time.Duration, now func() time.Time) *loginCache {
	return &loginCache{ttl: ttl, now: now, m: map[[32]byte]loginEntry{}}
}

func loginKey(db, login, password string) [32]byte {
	h := sha256.New()
	for _, s := range []string{db, login, password} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

func (c *loginCache) entry(k [32]byte) (loginEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e, ok
}

// vouched reports whether Odoo accepted exactly these credentials lately.
func (c *loginCache) vouched(db, login, password string) bool {
	e, ok := c.entry(loginKey(db, login, password))
	return ok && c.now().Before(e.verified.Add(vouchFor))
}

// login returns a session for the credentials, from the cache or Odoo.
func (c *loginCache) login(ctx context.Context, t odoo.Transport, db, login, password string) (*odoo.Session, error) {
	k := loginKey(db, login, password)
	now := c.now()
	if e, ok := c.entry(k); ok && c.ttl > 0 && now.Before(e.verified.Add(c.ttl)) {
		return &odoo.Session{T: t, DB: db, UID: e.uid, Password: password, Context: odoo.Context{}}, nil
	}
	sess, err := odoo.Login(ctx, t, db, login, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if odoo.KindOf(err) == odoo.KindAuth {
			delete(c.m, k) // the password was changed: no longer vouched for
		}
		return nil, err
	}
	if len(c.m) >= maxCachedLogins {
		for key, old := range c.m {
			if !now.Before(old.verified.Add(vouchFor)) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= maxCachedLogins {
			clear(c.m)
		}
	}
	c.m[k] = loginEntry{uid: sess.UID, verified: now}
	return sess, nil
}
