package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/etcdtest"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/gateway"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/oms"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

// The tests of this package share one embedded etcd server.
func TestMain(m *testing.M) { etcdtest.Main(m) }

// gate stands between one gateway and Odoo: it can hold the next Odoo
// call that matches until released, dropping it if the gateway gives up
// (the call then never reaches Odoo), and it counts the writes it passes.
type gate struct {
	proxy *httputil.ReverseProxy

	mu      sync.Mutex
	match   func(body string) bool
	blocked chan struct{} // closed when a matching call is held
	release chan struct{}
	let     func() // closes release once
	writes  int
}

func newGate(t *testing.T, odooURL string) (*gate, *httptest.Server) {
	u, err := url.Parse(odooURL)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{proxy: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

// hold arms the gate for the next call whose body matches; the test
// closes release (at the latest its cleanup does).
func (g *gate) hold(t *testing.T, match func(body string) bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.match, g.blocked, g.release = match, make(chan struct{}), make(chan struct{})
	var once sync.Once
	release := g.release
	g.let = func() { once.Do(func() { close(release) }) }
	t.Cleanup(g.let)
}

func (g *gate) writeCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.writes
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s := string(body)
	g.mu.Lock()
	match, blocked, release := g.match, g.blocked, g.release
	if match != nil && match(s) {
		g.match = nil
	} else {
		match = nil
	}
	g.mu.Unlock()
	if match != nil {
		close(blocked)
		select {
		case <-release:
		case <-r.Context().Done():
			return // the caller gave up: Odoo never sees the call
		}
	}
	if odooCall(s, "create") || odooCall(s, "write") || odooCall(s, "unlink") {
		g.mu.Lock()
		g.writes++
		g.mu.Unlock()
	}
	g.proxy.ServeHTTP(w, r)
}

// odooCall reports whether an XML-RPC body calls method (on model, when given).
func odooCall(body, method string, model ...string) bool {
	if !strings.Contains(body, ">"+method+"<") {
		return false
	}
	for _, m := range model {
		if !strings.Contains(body, ">"+m+"<") {
			return false
		}
	}
	return true
}

// replica is one gateway of a replicated deployment.
type replica struct {
	url  string
	st   *store.Store
	odoo *gate
}

type replicaRig struct {
	emu    *odooemu.Emulator
	odoo   string // the emulator's URL
	a, b   *replica
	prefix string
	plan   []byte
}

// startReplicas serves the demo dataset (one Odoo) to two gateways that
// share their state in the package's embedded etcd.
func startReplicas(t *testing.T) *replicaRig {
	t.Helper()
	em := emulate(t, func(_ *odooemu.Dataset, e *odooemu.Emulator) {
		e.SetClock(func() time.Time { return fixedNow })
	}, datasets.DemoExtensions...)
	plan, err := os.ReadFile(filepath.Join(goldenImport, "plan.xml"))
	if err != nil {
		t.Fatal(err)
	}
	rig := &replicaRig{emu: em.emu, odoo: em.srv.URL, prefix: etcdtest.Prefix(t), plan: plan}
	rig.a, rig.b = rig.replica(t, em.srv.URL, etcdtest.Shared(t).Endpoint), rig.replica(t, em.srv.URL, etcdtest.Shared(t).Endpoint)
	return rig
}

func (rig *replicaRig) replica(t *testing.T, odooURL, etcd string) *replica {
	t.Helper()
	g, front := newGate(t, odooURL)
	tr, err := odoo.NewTransport(odoo.Options{URL: front.URL})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenEtcd(context.Background(), store.EtcdConfig{Endpoints: []string{etcd}, Prefix: rig.prefix,
		LockTTL: 2 * time.Second, RequestTimeout: time.Second}, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := gateway.New(gateway.Config{Now: func() time.Time { return fixedNow }, MaxBodyBytes: 1 << 20}, tr, st, quiet)
	srv.SetShops(&shop.Service{Store: st, Log: quiet})
	gw := httptest.NewServer(srv)
	t.Cleanup(func() { gw.Close(); srv.Close(); st.Close() })
	return &replica{url: gw.URL, st: st, odoo: g}
}

// proposals are the draft purchase and manufacturing orders the imports
// left in Odoo: created and not removed since.
func (rig *replicaRig) proposals() (pos, mos int) {
	live := map[string]map[int]bool{"purchase.order": {}, "mrp.production": {}}
	for _, e := range rig.emu.Journal() {
		m, ok := live[e.Model]
		if !ok {
			continue
		}
		for _, id := range e.IDs {
			switch e.Method {
			case "create":
				m[id] = true
			case "unlink":
				delete(m, id)
			}
		}
	}
	return len(live["purchase.order"]), len(live["mrp.production"])
}

// onePlan is what importing the golden plan once leaves.
func onePlan(t *testing.T) (pos, mos int) {
	t.Helper()
	r := startImportRig(t)
	if status, body := r.post(t, "1", r.plan); status != 200 {
		t.Fatalf("single import: %d %s", status, body)
	}
	rig := &replicaRig{emu: r.emu}
	return rig.proposals()
}

func TestReplicasRepostIsRecognised(t *testing.T) {
	rig := startReplicas(t)
	status, first := postPlan(t, rig.a.url, "1", rig.plan)
	if status != 200 {
		t.Fatalf("post to A: %d %s", status, first)
	}
	writes := len(rig.emu.Journal())
	status, again := postPlan(t, rig.b.url, "1", rig.plan)
	if status != 200 || !strings.HasPrefix(again, first+"\n") || !strings.Contains(again, "nothing written") {
		t.Fatalf("repost to B: %d %q", status, again)
	}
	if n := len(rig.emu.Journal()); n != writes {
		t.Errorf("the repost to B wrote %d records", n-writes)
	}
}

// Two different mode-1 plans posted to two replicas at once: the second
// waits for the first, then removes its drafts, so exactly one plan's
// proposals remain. (Interleaved, B would import while A holds its first
// create, and both plans' proposals would stay.)
func TestReplicasSerialiseModeOnePlans(t *testing.T) {
	wantPOs, wantMOs := onePlan(t)
	rig := startReplicas(t)
	other := append(append([]byte(nil), rig.plan...), "\n<!-- the next planning run -->\n"...)
	rig.a.odoo.hold(t, func(b string) bool { return odooCall(b, "create", "purchase.order") })
	results := make(chan string, 2)
	post := func(base string, plan []byte) {
		status, body, err := tryPostPlan(base, "1", plan)
		if err != nil || status != 200 {
			results <- "failed: " + body
			return
		}
		results <- "ok"
	}
	go post(rig.a.url, rig.plan)
	select {
	case <-rig.a.odoo.blocked:
	case <-time.After(20 * time.Second):
		t.Fatal("A never reached its first create")
	}
	go post(rig.b.url, other)
	time.Sleep(500 * time.Millisecond)
	if n := rig.b.odoo.writeCount(); n != 0 {
		t.Errorf("B wrote %d times to Odoo while A's mode-1 import held the lock", n)
	}
	rig.a.odoo.let()
	for range 2 {
		select {
		case r := <-results:
			if r != "ok" {
				t.Fatal(r)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("imports did not finish")
		}
	}
	if pos, mos := rig.proposals(); pos != wantPOs || mos != wantMOs {
		t.Errorf("after two mode-1 plans: %d purchase and %d manufacturing proposals, want one plan's %d and %d", pos, mos, wantPOs, wantMOs)
	}
}

// A replica whose lease is revoked mid-import (as when it dies and the
// lease expires) stops before its next write; the repost to the other
// replica resumes from the journal and creates nothing twice.
func TestReplicaLeaseRevokedMidImport(t *testing.T) {
	wantPOs, wantMOs := onePlan(t)
	rig := startReplicas(t)
	rig.a.odoo.hold(t, func(b string) bool { return odooCall(b, "create", "mrp.production") })
	done := make(chan int, 1)
	go func() {
		status, _, _ := tryPostPlan(rig.a.url, "1", rig.plan)
		done <- status
	}()
	select {
	case <-rig.a.odoo.blocked:
	case <-time.After(20 * time.Second):
		t.Fatal("A never reached its manufacturing orders")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdtest.Shared(t).Endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	locks, err := cli.Get(context.Background(), rig.prefix+"/l/", clientv3.WithPrefix())
	if err != nil || len(locks.Kvs) != 1 {
		t.Fatalf("A's import lock: %v %v", locks, err)
	}
	if _, err := cli.Revoke(context.Background(), clientv3.LeaseID(locks.Kvs[0].Lease)); err != nil {
		t.Fatal(err)
	}
	select {
	case status := <-done:
		if status != http.StatusServiceUnavailable {
			t.Errorf("A answered %d after losing its lease, want 503", status)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("A kept going after losing its lease")
	}
	status, body := postPlan(t, rig.b.url, "1", rig.plan)
	if status != 200 || !strings.Contains(body, "Processed 5 uploaded procurement orders") {
		t.Fatalf("B resuming the plan: %d %q", status, body)
	}
	if pos, mos := rig.proposals(); pos != wantPOs || mos != wantMOs {
		t.Errorf("after A stopped and B resumed: %d purchase and %d manufacturing proposals, want %d and %d", pos, mos, wantPOs, wantMOs)
	}
	creates := map[string]int{}
	for _, e := range rig.emu.Journal() {
		if e.Method == "create" {
			creates[e.Model] += max(1, len(e.IDs))
		}
	}
	if creates["purchase.order"] != wantPOs || creates["mrp.production"] != wantMOs {
		t.Errorf("created over both replicas: %v, want %d purchase and %d manufacturing orders", creates, wantPOs, wantMOs)
	}
}

func TestReplicasShareShopsAndSourcingRuns(t *testing.T) {
	rig := startReplicas(t)
	admin := func(req *http.Request) {
		req.SetBasicAuth("admin", "admin")
		req.Header.Set("Content-Type", "application/json")
	}
	res := send(t, http.MethodPost, rig.a.url+"/shops?database=odoo17", strings.NewReader(`{"name":"demo","platform":"taobao-sandbox","app_key":"k","app_secret":"s"}`), admin)
	if res.status != http.StatusCreated {
		t.Fatalf("create shop on A: %d %s", res.status, res.body)
	}
	res = send(t, http.MethodGet, rig.b.url+"/shops?database=odoo17", nil, admin)
	if res.status != 200 || !strings.Contains(res.body, `"name": "demo"`) || strings.Contains(res.body, `"s"`) {
		t.Fatalf("shops listed on B: %d %s", res.status, res.body)
	}
	res = send(t, http.MethodPost, rig.a.url+"/oms/orders-proposal?database=odoo17", strings.NewReader(guideTicket), admin)
	if res.status != 200 {
		t.Fatalf("sourcing on A: %d %s", res.status, res.body)
	}
	_, p := split(t, res.body)
	// A saves its runs in batches within a fraction of a second.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := send(t, http.MethodGet, rig.b.url+"/oms/runs/"+p.OMS.RunID+"?database=odoo17", nil, admin)
		if got.status == 200 {
			var run oms.Run
			if err := json.Unmarshal([]byte(got.body), &run); err != nil || run.ID != p.OMS.RunID || run.TicketID != "XXXXXXX1" {
				t.Fatalf("run read on B: id %q ticket %q (%v)", run.ID, run.TicketID, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s of A never readable on B: %d %s", p.OMS.RunID, got.status, got.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With etcd cut off, the gateway says so (503, /readyz not ready) and
// writes nothing to Odoo: not a plan, not a shop.
func TestReplicaWithoutEtcd(t *testing.T) {
	rig := startReplicas(t)
	proxy, err := etcdtest.NewProxy(etcdtest.Shared(t).Host())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	c := rig.replica(t, rig.odoo, "http://"+proxy.Addr)
	if res := send(t, http.MethodGet, c.url+"/readyz", nil, nil); res.status != 200 {
		t.Fatalf("readyz with etcd up: %d %s", res.status, res.body)
	}
	proxy.Cut()
	admin := func(req *http.Request) {
		req.SetBasicAuth("admin", "admin")
		req.Header.Set("Content-Type", "application/json")
	}
	checks := []struct {
		name, method, path string
		body               io.Reader
		want               string
	}{
		{"readyz", http.MethodGet, "/readyz", nil, "state store"},
		{"export", http.MethodGet, "/frepple/xml?database=odoo17&company=My%20Company%20(San%20Francisco)", nil, "state store is unreachable"},
		{"shop", http.MethodPost, "/shops?database=odoo17", strings.NewReader(`{"name":"x","platform":"taobao-sandbox"}`), "state store is unreachable"},
	}
	for _, ch := range checks {
		res := send(t, ch.method, c.url+ch.path, ch.body, admin)
		if res.status != http.StatusServiceUnavailable || !strings.Contains(res.body, ch.want) {
			t.Errorf("%s: %d %q, want 503 saying %q", ch.name, res.status, res.body, ch.want)
		}
	}
	status, body := postPlan(t, c.url, "1", rig.plan)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "state store is unreachable") {
		t.Errorf("plan: %d %q, want 503", status, body)
	}
	if n := c.odoo.writeCount(); n != 0 {
		t.Errorf("%d writes reached Odoo with etcd cut off", n)
	}
}
