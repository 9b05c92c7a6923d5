package gateway_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/gateway"
)

// TestLoginThrottle: repeated wrong passwords for one login are slowed
// (429 with Retry-After, Odoo not asked) but never lock out the right
// password: credentials Odoo accepted lately pass at once, and anyone
// else gets in once the bounded wait is over.
func TestLoginThrottle(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	path := "/frepple/xml?database=odoo17&mode=0"
	try := func(user, pw string) resp {
		t.Helper()
		return r.do(t, "GET", path, map[string]string{"Authorization": basicHeader(user, pw)})
	}
	// demo never logged in here: five mistakes are free, the sixth waits.
	for i := 0; i < 5; i++ {
		if got := try("demo", "wrong"); got.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, got.status)
		}
	}
	calls := r.emu.Calls()
	got := try("demo", "wrong")
	if got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") != "1" || !strings.Contains(got.body, "Too many failed logins") {
		t.Fatalf("sixth failure: %d %q Retry-After %q, want 429 after 1 s", got.status, got.body, got.header.Get("Retry-After"))
	}
	if got := try("demo", "demo"); got.status != http.StatusTooManyRequests {
		t.Errorf("unvouched right password inside the wait: %d, want 429", got.status)
	}
	if n := r.emu.Calls() - calls; n != 0 {
		t.Errorf("held-back attempts made %d Odoo calls", n)
	}
	// Another login is not held back by demo's failures.
	if got := try("admin", "admin"); got.status != http.StatusOK {
		t.Errorf("admin: %d", got.status)
	}
	// After the wait the right password gets in and clears the count.
	time.Sleep(1100 * time.Millisecond)
	if got := try("demo", "demo"); got.status != http.StatusOK {
		t.Fatalf("right password after the wait: %d %s", got.status, got.body)
	}
	if got := try("demo", "wrong"); got.status != http.StatusUnauthorized {
		t.Errorf("first failure after a success: %d, want 401", got.status)
	}
	// admin logged in: however many failures an attacker makes for admin,
	// admin's own password passes at once.
	for i := 0; i < 8; i++ {
		try("admin", "guess"+strconv.Itoa(i))
	}
	if got := try("admin", "guess-9"); got.status != http.StatusTooManyRequests {
		t.Errorf("attacker after 8 failures: %d, want 429", got.status)
	}
	if got := try("admin", "admin"); got.status != http.StatusOK {
		t.Errorf("admin's vouched password while an attacker is held back: %d %s", got.status, got.body)
	}
	if !strings.Contains(r.log.String(), "login attempt held back") {
		t.Error("held-back attempts are not logged")
	}
}

// TestLoginThrottleJSON: the JSON APIs answer a held-back login in JSON.
func TestLoginThrottleJSON(t *testing.T) {
	r := startObserved(t, gateway.Config{}, "")
	var got resp
	for i := 0; i < 6; i++ {
		got = send(t, http.MethodGet, r.gw.URL+"/oms/runs/X?database=odoo17", nil, basic("portal", "wrong"))
	}
	if got.status != http.StatusTooManyRequests || !strings.HasPrefix(got.body, `{"error":{"status":429,`) || got.header.Get("Retry-After") == "" {
		t.Errorf("%d %q", got.status, got.body)
	}
}

func basicHeader(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}
