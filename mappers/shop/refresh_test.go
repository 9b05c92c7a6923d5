package shop_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/mappers/shop"
)

// authorise runs the seller's OAuth flow against the fake platform (its
// authorize page, then the code exchange) and returns when it was done.
func (f *flow) authorise(t *testing.T, now time.Time) {
	t.Helper()
	sh, err := f.st.Shop("demo")
	if err != nil {
		t.Fatal(err)
	}
	sh.AuthURL, sh.TokenURL, sh.RedirectURI = sh.APIURL+"/authorize", sh.APIURL+"/token", "https://gateway.example/shops/demo/oauth-callback"
	if err := f.st.SaveShop(sh, now); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.AuthorizeURL("demo")
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, err := f.svc.ExchangeCode(context.Background(), "demo", back.Query().Get("code"), back.Query().Get("state")); err != nil {
		t.Fatal(err)
	}
}

// TestSessionRenewedBeforeItExpires: the Session Key an authorisation
// gave is renewed with its refresh token when it is about to expire, once;
// a refused renewal keeps the valid key, and is an error naming what to
// do once the key has expired.
func TestSessionRenewedBeforeItExpires(t *testing.T) {
	f := startFlow(t)
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now().Truncate(time.Second)
	f.svc.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	at := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f.authorise(t, now)
	first, _ := f.st.Shop("demo")
	if first.SessionKey != f.fp.CurrentSession() || first.RefreshToken == "" || first.SessionExpires.IsZero() {
		t.Fatalf("after authorising: session %q (platform %q), refresh %q, expires %v", first.SessionKey, f.fp.CurrentSession(), first.RefreshToken, first.SessionExpires)
	}
	steps := []struct {
		name        string
		advance     time.Duration
		refuse      bool // the token endpoint refuses the renewal
		wantRenewed int  // renewals the platform has granted so far
		wantErr     string
	}{
		{name: "valid for long: used as is", advance: time.Hour},
		{name: "five minutes left: renewed first", advance: 22*time.Hour + 55*time.Minute, wantRenewed: 1},
		{name: "renewed key valid for a day: used as is", advance: time.Hour, wantRenewed: 1},
		{name: "renewal refused while the key is valid: the key is used", advance: 22*time.Hour + 55*time.Minute, refuse: true, wantRenewed: 1},
		{name: "renewal refused after expiry: an error, nothing sent", advance: 10 * time.Minute, refuse: true, wantRenewed: 1, wantErr: "authorise the app again"},
		{name: "renewal granted again after expiry", wantRenewed: 2},
	}
	for _, s := range steps {
		at(s.advance)
		if s.refuse {
			f.fp.Fail("oauth.token", 1, fakeshop.Fault{SubCode: "invalid_grant", SubMsg: "refresh token revoked"})
		}
		before, _ := f.st.Shop("demo")
		tokenCalls, pushes := f.fp.Calls("oauth.token"), f.fp.Calls("taobao.items.onsale.get")
		_, err := f.svc.ImportProducts(ctx, "demo", winFrom, winTo)
		after, _ := f.st.Shop("demo")
		switch {
		case s.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), s.wantErr) || !strings.Contains(err.Error(), "refresh token revoked") {
				t.Errorf("%s: err %v, want one saying %q and the platform's reason", s.name, err, s.wantErr)
			}
			if got := f.fp.Calls("taobao.items.onsale.get"); got != pushes {
				t.Errorf("%s: %d platform calls with an expired key", s.name, got-pushes)
			}
		case err != nil:
			t.Errorf("%s: %v", s.name, err)
		}
		if got := f.fp.Calls("oauth.refresh"); got != s.wantRenewed {
			t.Errorf("%s: %d renewals, want %d", s.name, got, s.wantRenewed)
		}
		renewedNow := f.fp.Calls("oauth.token") > tokenCalls && !s.refuse
		if renewedNow != (after.SessionKey != before.SessionKey) || after.SessionKey != f.fp.CurrentSession() && s.wantErr == "" {
			t.Errorf("%s: stored session %q (was %q), platform's %q", s.name, after.SessionKey, before.SessionKey, f.fp.CurrentSession())
		}
		if renewedNow && (after.RefreshToken == before.RefreshToken || !after.SessionExpires.After(before.SessionExpires) || after.SellerNick != fakeshop.SellerNick) {
			t.Errorf("%s: renewal stored refresh %q (was %q), expiry %v (was %v), seller %q", s.name, after.RefreshToken, before.RefreshToken, after.SessionExpires, before.SessionExpires, after.SellerNick)
		}
	}
}

// TestConcurrentRenewalsRenewOnce: two services sharing the state (as
// two replicas, or two requests of one) that find the key about to expire
// at the same moment renew it once; the one that waited uses the new key
// instead of spending the refresh token again, which the platform would
// refuse, leaving it with a key the platform has dropped.
func TestConcurrentRenewalsRenewOnce(t *testing.T) {
	f := startFlow(t)
	var mu sync.Mutex
	now := time.Now().Truncate(time.Second)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f.svc.Now = clock
	f.authorise(t, now)
	other := *f.svc // its own service over the same store and platform
	for round := 1; round <= 3; round++ {
		mu.Lock()
		now = now.Add(23*time.Hour + 55*time.Minute) // five minutes left on the current key
		mu.Unlock()
		start := make(chan struct{})
		errs := make(chan error, 2)
		for _, svc := range []*shop.Service{f.svc, &other} {
			go func() {
				<-start
				_, err := svc.ImportProducts(context.Background(), "demo", winFrom, winTo)
				errs <- err
			}()
		}
		close(start)
		for i := 0; i < 2; i++ {
			if err := <-errs; err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
		if got := f.fp.Calls("oauth.refresh"); got != round {
			t.Fatalf("round %d: %d renewals granted in all, want %d (one per round)", round, got, round)
		}
		if sh, _ := f.st.Shop("demo"); sh.SessionKey != f.fp.CurrentSession() {
			t.Fatalf("round %d: stored key %q, the platform's %q", round, sh.SessionKey, f.fp.CurrentSession())
		}
	}
}
