package gateway

import (
	"fmt"
	"testing"
	"time"
)

// TestThrottleDelays: failures past the free allowance double the wait,
// up to the cap; an hour without failures forgives them; a success clears
// the login but not the source.
func TestThrottleDelays(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	th := newLoginThrottle()
	th.now = func() time.Time { return now }
	const db, login, src = "odoo17", "admin", "192.0.2.7:5555"
	var got []time.Duration
	for i := 0; i < 16; i++ {
		got = append(got, th.wait(db, login, src))
		th.failed(db, login, src)
	}
	want := []time.Duration{0, 0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("waits %v\nwant  %v", got, want)
	}
	now = now.Add(4 * time.Minute)
	if d := th.wait(db, login, src); d != time.Minute {
		t.Errorf("4 min later: wait %s, want 1m", d)
	}
	if d := th.wait(db, "someone", "198.51.100.1:1"); d != 0 {
		t.Errorf("another login from another source waits %s", d)
	}
	th.succeeded(db, login)
	if d := th.wait(db, login, "198.51.100.1:1"); d != 0 {
		t.Errorf("after a success the login still waits %s", d)
	}
	// The source keeps its 16 failures (free: 20); 5 more make it wait.
	for i := 0; i < 5; i++ {
		th.failed(db, fmt.Sprint("user", i), src)
	}
	if d := th.wait(db, "fresh", src); d != 2*time.Second {
		t.Errorf("source after 21 failures: wait %s, want 2s", d)
	}
	// An hour later the failures are forgiven: the next one counts as the first.
	now = now.Add(time.Hour)
	th.failed(db, login, src)
	if d := th.wait(db, login, src); d != 0 {
		t.Errorf("an hour later: wait %s, want 0", d)
	}
}

// TestThrottleIPv6Prefix: addresses of one IPv6 /64 count as one source.
func TestThrottleIPv6Prefix(t *testing.T) {
	th := newLoginThrottle()
	for i := 0; i < sourceFreeFailures+1; i++ {
		th.failed("db", "", fmt.Sprintf("[2001:db8:1:2::%x]:443", i))
	}
	if d := th.wait("db", "", "[2001:db8:1:2:ffff::1]:80"); d == 0 {
		t.Error("another address of the same /64 is not held back")
	}
	if d := th.wait("db", "", "[2001:db8:1:3::1]:80"); d != 0 {
		t.Errorf("the next /64 waits %s", d)
	}
}

// TestThrottleMemoryIsBounded: a flood of distinct sources and logins
// cannot grow the tables past their bound, and the entries that are
// holding someone back outlive the flood.
func TestThrottleMemoryIsBounded(t *testing.T) {
	th := newLoginThrottle()
	for i := 0; i < loginFreeFailures+3; i++ {
		th.failed("db", "target", "203.0.113.9:1")
	}
	for i := 0; i < 3*maxStrikeEntries; i++ {
		th.failed("db", fmt.Sprint("login", i), fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255))
	}
	if n, m := len(th.byLogin), len(th.bySource); n > maxStrikeEntries || m > maxStrikeEntries {
		t.Errorf("tables hold %d logins and %d sources, bound %d", n, m, maxStrikeEntries)
	}
	if d := th.wait("db", "target", "198.51.100.1:1"); d == 0 {
		t.Error("the flood evicted the login it was meant to free")
	}
}
