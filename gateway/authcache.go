package gateway

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
)

// loginCache remembers successful Odoo logins for a short while, so that
// hot endpoints (order sourcing) do not cost Odoo an authenticate call per
// request. It is safe: Odoo checks the password again on every execute_kw
// a session makes, so a password changed in Odoo fails at the next call
// whatever the cache says. Keys are hashes; passwords are not kept.
type loginCache struct {
	ttl time.Duration // <= 0: no caching
	now func() time.Time

	mu sync.Mutex
	m  map[[32]byte]loginEntry
}

type loginEntry struct {
	uid     int
	expires time.Time
}

// maxCachedLogins bounds the cache; past it, expired entries go, then all.
const maxCachedLogins = 10000

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

// login returns a session for the credentials, from the cache or Odoo.
func (c *loginCache) login(ctx context.Context, t odoo.Transport, db, login, password string) (*odoo.Session, error) {
	if c.ttl <= 0 {
		return odoo.Login(ctx, t, db, login, password)
	}
	k := loginKey(db, login, password)
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return &odoo.Session{T: t, DB: db, UID: e.uid, Password: password, Context: odoo.Context{}}, nil
	}
	sess, err := odoo.Login(ctx, t, db, login, password)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedLogins {
		for key, old := range c.m {
			if !now.Before(old.expires) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= maxCachedLogins {
			clear(c.m)
		}
	}
	c.m[k] = loginEntry{uid: sess.UID, expires: now.Add(c.ttl)}
	return sess, nil
}
