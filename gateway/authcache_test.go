package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
)

// TestLoginCache: a successful Basic login is reused for AuthCacheTTL;
// failures are never cached; a negative TTL asks Odoo every time.
func TestLoginCache(t *testing.T) {
	tests := []struct {
		name      string
		ttl       time.Duration
		advance   time.Duration
		wantAfter int // status once Odoo refuses every further authenticate
	}{
		{"cached", time.Minute, 0, http.StatusOK},
		{"expired", time.Minute, 2 * time.Minute, http.StatusBadGateway},
		{"disabled", -1, 0, http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := fixedNow
			r := startRig(t, gateway.Config{AuthCacheTTL: tt.ttl, Now: func() time.Time { return now }})
			q := map[string][]string{"company": {r.company}}
			if got := r.get(t, "/frepple/state", q, basic("admin", "wrong")); got.status != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", got.status)
			}
			if got := r.get(t, "/oms/runs/X", q, basic("admin", "admin")); got.status != http.StatusNotFound {
				t.Fatalf("first login: %d %s", got.status, got.body)
			}
			r.emu.InjectFault(&odooemu.Fault{Method: "authenticate", Message: "psycopg2.OperationalError: server closed the connection"})
			now = now.Add(tt.advance)
			got := r.get(t, "/oms/runs/X", q, basic("admin", "admin"))
			if want := tt.wantAfter; (want == http.StatusOK && got.status != http.StatusNotFound) || (want != http.StatusOK && got.status != want) {
				t.Errorf("after Odoo stops authenticating: %d %s", got.status, got.body)
			}
			// A wrong password was not cached as anything: it still fails.
			if got := r.get(t, "/oms/runs/X", q, basic("admin", "wrong")); got.status == http.StatusNotFound {
				t.Errorf("wrong password accepted")
			}
		})
	}
}
