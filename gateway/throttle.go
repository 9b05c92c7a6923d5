package gateway

import (
	"crypto/sha256"
	"net"
	"net/netip"
	"sync"
	"time"
)

// loginThrottle slows password guessing. After a few failed logins of one
// login (in one database), or from one source address, each further
// attempt must wait a delay that doubles with every failure, up to
// maxLoginDelay; an attempt inside the delay is answered 429 with
// Retry-After, without asking Odoo. Nobody is locked out for good: the
// delay is bounded, a success clears the login's count, and credentials
// that succeeded lately pass at once (loginCache.vouched), so an attacker
// hammering a login slows the attacker, not the login's owner. Keys are
// hashes (no logins kept in memory) and each table is bounded.
type loginThrottle struct {
	now func() time.Time

	mu       sync.Mutex
	byLogin  map[[32]byte]*strikes
	bySource map[[32]byte]*strikes
}

// strikes counts failures since the last success (of a login) or since
// the entry was forgotten (of a source).
type strikes struct {
	n    int
	last time.Time
}

const (
	// loginFreeFailures and sourceFreeFailures are the failures allowed
	// without delay: a person mistyping, or (for a source) a proxy in front
	// of several people.
	loginFreeFailures  = 5
	sourceFreeFailures = 20
	firstLoginDelay    = time.Second
	maxLoginDelay      = 5 * time.Minute
	// forgetStrikes: an entry without a failure this long is dropped.
	forgetStrikes = time.Hour
	// maxStrikeEntries bounds each table (about 100 bytes an entry).
	maxStrikeEntries = 10000
)

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{now: time.Now, byLogin: map[[32]byte]*strikes{}, bySource: map[[32]byte]*strikes{}}
}

func loginStrikeKey(db, login string) [32]byte {
	return sha256.Sum256([]byte("login\x00" + db + "\x00" + login))
}

// sourceStrikeKey is the remote host; an IPv6 host counts as its /64,
// which one client usually has whole.
func sourceStrikeKey(remoteAddr string) [32]byte {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if a.Is6() {
			if p, err := a.Prefix(64); err == nil {
				host = p.String()
			}
		}
	}
	return sha256.Sum256([]byte("source\x00" + host))
}

// delayAfter is the wait after n failures when free of them cost nothing.
func delayAfter(n, free int) time.Duration {
	over := n - free
	if over < 0 {
		return 0
	}
	if over >= 20 { // 2^20 s is far past the cap; avoid shifting further
		return maxLoginDelay
	}
	return min(firstLoginDelay<<over, maxLoginDelay)
}

// wait returns how long an attempt of login (empty: none named, a token)
// from remoteAddr must still wait; 0 lets it through.
func (t *loginThrottle) wait(db, login, remoteAddr string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	if e := t.bySource[sourceStrikeKey(remoteAddr)]; e != nil {
		d = max(d, e.last.Add(delayAfter(e.n, sourceFreeFailures)).Sub(now))
	}
	if login != "" {
		if e := t.byLogin[loginStrikeKey(db, login)]; e != nil {
			d = max(d, e.last.Add(delayAfter(e.n, loginFreeFailures)).Sub(now))
		}
	}
	return max(d, 0)
}

// failed counts a refused login (or token) against the login and the source.
func (t *loginThrottle) failed(db, login, remoteAddr string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	strike(t.bySource, sourceStrikeKey(remoteAddr), now, sourceFreeFailures)
	if login != "" {
		strike(t.byLogin, loginStrikeKey(db, login), now, loginFreeFailures)
	}
}

// succeeded clears the login's failures. The source keeps its count: one
// valid account must not buy an address unlimited guesses at others.
func (t *loginThrottle) succeeded(db, login string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byLogin, loginStrikeKey(db, login))
}

// strike counts one failure in table m, whose entries delay nobody below free.
func strike(m map[[32]byte]*strikes, k [32]byte, now time.Time, free int) {
	e := m[k]
	if e == nil {
		if len(m) >= maxStrikeEntries {
			evictStrikes(m, now, free)
		}
		e = &strikes{}
		m[k] = e
	}
	if now.Sub(e.last) >= forgetStrikes {
		e.n = 0 // old failures are forgiven
	}
	e.n++
	e.last = now
}

// evictStrikes makes room in a full table: entries idle past
// forgetStrikes go first, then those below the table's free allowance
// (they delay nobody yet); if every entry is delaying someone, half at random.
func evictStrikes(m map[[32]byte]*strikes, now time.Time, free int) {
	for k, e := range m {
		if now.Sub(e.last) >= forgetStrikes {
			delete(m, k)
		}
	}
	if len(m) < maxStrikeEntries {
		return
	}
	for k, e := range m {
		if e.n < free {
			delete(m, k)
		}
	}
	if len(m) < maxStrikeEntries {
		return
	}
	n := 0
	for k := range m { // map order is random
		if n%2 == 0 {
			delete(m, k)
		}
		n++
	}
}
