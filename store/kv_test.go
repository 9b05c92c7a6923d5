package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/plangate/plangate/fixtures/etcdtest"
)

// A cached query far larger than one etcd transaction: written cold in two
// flushes, then warm with changes and deletions, and read back whole and
// in pieces.
func TestCacheLargeSection(t *testing.T) { forEachBackend(t, testCacheLargeSection) }

func testCacheLargeSection(t *testing.T, s *Store) {
	const n = 3000
	rec := func(id, v int) map[string]any {
		return map[string]any{"id": int64(id), "name": "product " + strconv.Itoa(id), "qty": float64(v), "uom_id": []any{int64(1), "Units"}}
	}
	meta := CacheMeta{Database: "odoo17", Model: "product.product", Watermark: "2026-11-23 23:24:00"}
	first, second := map[int]map[string]any{}, map[int]map[string]any{}
	for id := 1; id <= n; id++ {
		if id <= n/2 {
			first[id] = rec(id, 1)
		} else {
			second[id] = rec(id, 1)
		}
	}
	if err := s.CacheApply("big", meta, first, nil, true); err != nil {
		t.Fatal(err)
	}
	if err := s.CacheApply("big", meta, second, nil, false); err != nil {
		t.Fatal(err)
	}
	m, ok, err := s.CacheMeta("big")
	if err != nil || !ok || m.Count != n {
		t.Fatalf("after cold run: meta %+v ok %v err %v, want count %d", m, ok, err, n)
	}
	changed := map[int]map[string]any{}
	for id := 100; id < 110; id++ {
		changed[id] = rec(id, 2)
	}
	if err := s.CacheApply("big", meta, changed, []int{1, 2, 3, 4, 5}, false); err != nil {
		t.Fatal(err)
	}
	ids, err := s.CacheIDs("big")
	if err != nil || len(ids) != n-5 || ids[0] != 6 || ids[len(ids)-1] != n {
		t.Fatalf("ids: %d (first %v) err %v, want %d from 6", len(ids), ids[:min(3, len(ids))], err, n-5)
	}
	if m, _, _ := s.CacheMeta("big"); m.Count != n-5 {
		t.Errorf("count after warm run = %d, want %d", m.Count, n-5)
	}
	cases := []struct {
		name string
		ids  []int
	}{
		{"all in Odoo's order", reversed(ids)},
		{"a few, some gone", []int{3, 105, 2999, 7, 5000}},
	}
	for _, c := range cases {
		var got []int
		err := s.CacheRecords("big", c.ids, func(id int, r map[string]any) error {
			want := 1.0
			if id >= 100 && id < 110 {
				want = 2
			}
			if r["qty"] != want || r["id"] != int64(id) {
				t.Errorf("%s: record %d = %v, want qty %v", c.name, id, r, want)
			}
			got = append(got, id)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []int
		for _, id := range c.ids {
			if id > 5 && id <= n {
				want = append(want, id)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %d records (first %v), want %d in the order asked", c.name, len(got), got[:min(5, len(got))], len(want))
		}
	}
}

func reversed(a []int) []int {
	out := make([]int, len(a))
	for i, v := range a {
		out[len(a)-1-i] = v
	}
	return out
}

// Values larger than an etcd request (a sourcing run of a large ticket, a
// plan reply with many messages) survive the round trip, and their parts
// go when the value does.
func TestLargeValues(t *testing.T) { forEachBackend(t, testLargeValues) }

func testLargeValues(t *testing.T, s *Store) {
	// Past etcd's request limit (1.5 MiB) on a default cluster; past the
	// shrunk limits on etcd-small without thousands of parts.
	big := make([]byte, min(4*s.kv.limits().value, 2<<20)+12345)
	_, _ = rand.Read(big)
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if err := s.SaveOMSRuns([]OMSRun{{ID: "big", Start: t0, Doc: big}, {ID: "small", Start: t0.Add(time.Second), Doc: []byte("{}")}}, 0, 0, t0); err != nil {
		t.Fatal(err)
	}
	doc, ok, err := s.OMSRunDoc("big")
	if err != nil || !ok || !bytes.Equal(doc, big) {
		t.Fatalf("large run: %d bytes, ok %v, err %v; want %d bytes back", len(doc), ok, err, len(big))
	}
	p := &Plan{ID: "p", Status: PlanDone, Updated: t0, Reply: strings.Repeat("Error: unknown product 1234\n", len(big)/25), Steps: map[string][]int{"po:1": {1}}}
	if err := s.SavePlan(p); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Plan("p")
	if err != nil || !ok || got.Reply != p.Reply || got.Steps["po:1"][0] != 1 {
		t.Fatalf("large plan: ok %v err %v reply %d bytes", ok, err, len(got.Reply))
	}
	// Retention and pruning take the parts with the values.
	if err := s.SaveOMSRuns([]OMSRun{{ID: "later", Start: t0.Add(time.Hour), Doc: []byte("{}")}}, 1, 0, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.OMSRunDoc("big"); ok {
		t.Error("large run survived retention")
	}
	if n, err := s.PrunePlans(time.Minute, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("pruned %d plans (%v), want 1", n, err)
	}
	if kv, ok := s.kv.(*etcdKV); ok {
		resp, err := kv.cli.Get(context.Background(), kv.prefix+"/b/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil || resp.Count != 0 {
			t.Errorf("%d parts left in etcd after the values went (%v)", resp.Count, err)
		}
	}
}

// A batch of steps larger than one etcd transaction is recorded whole, and
// saving the plan again at its end does not write its steps again.
func TestPlanStepsBatch(t *testing.T) { forEachBackend(t, testPlanStepsBatch) }

func testPlanStepsBatch(t *testing.T, s *Store) {
	p := &Plan{ID: "p", Status: PlanApplying, Steps: map[string][]int{}}
	var keys []string
	for i := 0; i < 600; i++ {
		k := fmt.Sprintf("pol:PO-PROP-%d", i)
		p.Steps[k] = []int{1000 + i}
		keys = append(keys, k)
	}
	if err := s.SavePlanSteps(p, keys); err != nil {
		t.Fatal(err)
	}
	entries := func() int {
		n := 0
		_ = s.kv.view(func(r reader) error {
			var err error
			n, err = r.count(stepsB("p"), scanSpec{}, 0)
			return err
		})
		return n
	}
	before := entries()
	p.Status = PlanDone
	if err := s.SavePlan(p); err != nil {
		t.Fatal(err)
	}
	if after := entries(); after != before {
		t.Errorf("saving the finished plan again: %d step entries, was %d", after, before)
	}
	p.Steps["cleanup"] = []int{7, 8}
	if err := s.SavePlanSteps(p, []string{"cleanup"}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Plan("p")
	if err != nil || !ok || len(got.Steps) != 601 || got.Steps["pol:PO-PROP-599"][0] != 1599 || got.Steps["cleanup"][1] != 8 || got.Status != PlanDone {
		t.Fatalf("read back %d steps, status %q (%v %v)", len(got.Steps), got.Status, ok, err)
	}
}

// replicas opens two stores on the same state: for bbolt the one store
// twice (one process holds the file), for etcd two connections under one
// prefix, as two gateways have.
func replicas(t *testing.T, b backendCase) (*Store, *Store) {
	if b.name == "bbolt" {
		s := b.open(t)
		return s, s
	}
	c := etcdConfig(t, EtcdConfig{LockTTL: 2 * time.Second})
	if b.name == "etcd-small" {
		c.MaxTxnOps, c.MaxRequestBytes = smallEtcd.MaxTxnOps, smallEtcd.MaxRequestBytes
	}
	return openEtcdTest(t, c), openEtcdTest(t, c)
}

func TestLockerSerialises(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			a, c := replicas(t, b)
			ctx := context.Background()
			held, unlock, err := Hold(ctx, a.Locker(), "import/odoo17/My Company")
			if err != nil {
				t.Fatal(err)
			}
			short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			if _, _, err := Hold(short, c.Locker(), "import/odoo17/My Company"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("second lock while held: %v, want a deadline error", err)
			}
			other, unlockOther, err := Hold(ctx, c.Locker(), "import/odoo17/Other")
			if err != nil {
				t.Fatalf("another key: %v", err)
			}
			unlockOther()
			unlock()
			if _, lossy := a.Locker().(Holder); lossy && (other.Err() == nil || held.Err() == nil) {
				t.Error("lost context of a released lock still live")
			}
			_, unlock2, err := Hold(ctx, c.Locker(), "import/odoo17/My Company")
			if err != nil {
				t.Fatalf("lock after release: %v", err)
			}
			unlock2()
		})
	}
}

// A replica whose lease is revoked (as when it dies and the lease
// expires) loses its lock: its work context ends and another replica
// gets the lock.
func TestLockLostWithLease(t *testing.T) {
	a, c := replicas(t, backends[1])
	ctx := context.Background()
	held, _, err := Hold(ctx, a.Locker(), "import/x")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, unlock, err := Hold(ctx, c.Locker(), "import/x")
		if err == nil {
			unlock()
		}
		got <- err
	}()
	RevokeLocks(t, a)
	select {
	case <-held.Done():
		if !errors.Is(context.Cause(held), ErrUnavailable) {
			t.Errorf("cause %v, want ErrUnavailable", context.Cause(held))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("held context still live after the lease was revoked")
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other replica did not get the lock")
	}
	// The replica that lost its lease locks again with a new one; the
	// lock outlives the context its wait had.
	short, cancel := context.WithCancel(ctx)
	lost, unlock, err := Hold(short, a.Locker(), "import/y")
	if err != nil {
		t.Fatalf("lock with a new session: %v", err)
	}
	cancel()
	if lost.Err() != nil {
		t.Error("the lock's context ended with the wait's")
	}
	unlock()
}

// RevokeLocks revokes the lease of s's locks, as etcd does when a replica
// stops renewing it.
func RevokeLocks(t *testing.T, s *Store) {
	t.Helper()
	kv := s.kv.(*etcdKV)
	sess, err := kv.locks.session(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.cli.Revoke(context.Background(), sess.Lease()); err != nil {
		t.Fatal(err)
	}
}

func TestElection(t *testing.T) {
	for _, b := range backends[:2] {
		t.Run(b.name, func(t *testing.T) {
			a, c := replicas(t, b)
			ctx := context.Background()
			lead, resign, err := a.Elector().Campaign(ctx, "shops", "replica-a")
			if err != nil {
				t.Fatal(err)
			}
			if id, err := c.Elector().Leader(ctx, "shops"); err != nil || id != "replica-a" {
				t.Fatalf("leader seen by the other = %q (%v), want replica-a", id, err)
			}
			won := make(chan func(), 1)
			go func() {
				_, resignB, err := c.Elector().Campaign(ctx, "shops", "replica-b")
				if err != nil {
					t.Error(err)
					close(won)
					return
				}
				won <- resignB
			}()
			select {
			case <-won:
				t.Fatal("two leaders at once")
			case <-time.After(300 * time.Millisecond):
			}
			resign()
			if lead.Err() == nil {
				t.Error("lead context live after resigning")
			}
			select {
			case resignB := <-won:
				if id, _ := a.Elector().Leader(ctx, "shops"); id != "replica-b" {
					t.Errorf("leader after hand-over = %q, want replica-b", id)
				}
				resignB()
			case <-time.After(10 * time.Second):
				t.Fatal("the other replica did not become leader")
			}
			if id, _ := a.Elector().Leader(ctx, "shops"); id != "" {
				t.Errorf("leader after both resigned = %q", id)
			}
		})
	}
}

// What one replica writes, the other reads.
func TestReplicasShareState(t *testing.T) {
	a, c := replicas(t, backends[1])
	now := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	if err := a.SaveShop(Shop{Name: "tb", AppKey: "k", AppSecret: "sec"}, now); err != nil {
		t.Fatal(err)
	}
	shops, err := c.Shops()
	if err != nil || len(shops) != 1 || shops[0].AppSecret != "sec" {
		t.Fatalf("shops on the other replica: %+v %v", shops, err)
	}
}

// State copied from a file into etcd and back reads the same.
func TestCopy(t *testing.T) {
	src := openTemp(t)
	t0 := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	big := bytes.Repeat([]byte("x"), 40<<10) // past etcd-small's value limit
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(src.SaveRun(Run{ID: NewRunID(t0), Database: "odoo17", Company: "SF", Mode: 1, Start: t0}))
	must(src.CacheApply("q", CacheMeta{Database: "odoo17", Model: "product.product"}, map[int]map[string]any{7: {"id": int64(7), "name": "chair"}}, nil, true))
	must(src.SavePlan(&Plan{ID: "p", Status: PlanDone, Reply: string(big), Steps: map[string][]int{"po:1": {11}}}))
	must(src.SaveShop(Shop{Name: "tb/1", AppSecret: "sec"}, t0))
	must(src.PutStockSync(StockSync{Shop: "tb/1", Location: 8, Product: 5, Sync: true}))
	must(src.RecordPush(StockPush{Shop: "tb/1", Location: 8, Product: 5, Time: t0, Quantity: 3, OK: true}))
	must(src.SaveOMSRuns([]OMSRun{{ID: "r1", Start: t0, Doc: big}}, 0, 0, t0))

	check := func(t *testing.T, s *Store) {
		t.Helper()
		if runs, err := s.Runs(RunFilter{}); err != nil || len(runs) != 1 {
			t.Errorf("runs %v %v", runs, err)
		}
		if last, err := s.LastRuns(); err != nil || len(last) != 1 {
			t.Errorf("last runs %v %v", last, err)
		}
		var names []any
		_ = s.CacheRecords("q", []int{7}, func(_ int, r map[string]any) error { names = append(names, r["name"]); return nil })
		if m, ok, _ := s.CacheMeta("q"); !ok || m.Count != 1 || len(names) != 1 || names[0] != "chair" {
			t.Errorf("cache: meta %+v records %v", m, names)
		}
		if p, ok, err := s.Plan("p"); err != nil || !ok || p.Reply != string(big) || p.Steps["po:1"][0] != 11 {
			t.Errorf("plan: ok %v err %v", ok, err)
		}
		if sh, err := s.Shop("tb/1"); err != nil || sh.AppSecret != "sec" {
			t.Errorf("shop %+v %v", sh, err)
		}
		if ps, err := s.StockPushes("tb/1"); err != nil || len(ps) != 1 || ps[0].Quantity != 3 {
			t.Errorf("pushes %+v %v", ps, err)
		}
		if doc, ok, err := s.OMSRunDoc("r1"); err != nil || !ok || !bytes.Equal(doc, big) {
			t.Errorf("oms run: %d bytes ok %v err %v", len(doc), ok, err)
		}
		if n, err := s.OMSRunCount(); err != nil || n != 1 {
			t.Errorf("oms run count %d %v", n, err)
		}
	}
	mid := openEtcdTest(t, smallEtcd)
	copied, skipped, err := Copy(mid, src)
	if err != nil || skipped != 0 || copied < 9 {
		t.Fatalf("copy into etcd: %d copied, %d skipped, %v", copied, skipped, err)
	}
	t.Run("etcd", func(t *testing.T) { check(t, mid) })
	back, err := Open(filepath.Join(t.TempDir(), "back.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if n, _, err := Copy(back, mid); err != nil || n != copied {
		t.Fatalf("copy back: %d copied (of %d), %v", n, copied, err)
	}
	t.Run("bbolt again", func(t *testing.T) { check(t, back) })
	if _, _, err := Copy(mid, src); err == nil || !strings.Contains(err.Error(), "already holds state") {
		t.Errorf("copy into a store with state: %v, want a refusal", err)
	}
}

// An etcd that cannot be reached gives ErrUnavailable within the request
// timeout, not a hang.
func TestEtcdUnavailable(t *testing.T) {
	srv := etcdtest.Shared(t)
	proxy, err := etcdtest.NewProxy(srv.Host())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	s := openEtcdTest(t, EtcdConfig{Endpoints: []string{proxy.Addr}, RequestTimeout: 500 * time.Millisecond})
	now := time.Now()
	if err := s.SaveShop(Shop{Name: "tb"}, now); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	ops := []struct {
		name string
		do   func() error
	}{
		{"ping", func() error { return s.Ping(context.Background()) }},
		{"read", func() error { _, err := s.Shops(); return err }},
		{"write", func() error { return s.SaveShop(Shop{Name: "tb2"}, now) }},
		{"lock", func() error { _, _, err := Hold(context.Background(), s.Locker(), "k"); return err }},
	}
	for _, op := range ops {
		start := time.Now()
		err := op.do()
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", op.name, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", op.name, d)
		}
	}
}

func TestOpenEtcdRefusesForeignPrefix(t *testing.T) {
	c := etcdConfig(t, EtcdConfig{})
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(context.Background(), c.Prefix+"/theirs", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenEtcd(context.Background(), c, false); !errors.Is(err, ErrForeign) {
		t.Fatalf("open a prefix holding other data: %v, want ErrForeign", err)
	}
}

func TestParseEtcdURL(t *testing.T) {
	cases := []struct {
		in       string
		want     EtcdConfig
		location string
		err      string
	}{
		{in: "etcd://h1:2379,h2:2379/plangate", want: EtcdConfig{Endpoints: []string{"h1:2379", "h2:2379"}, Prefix: "/plangate"}, location: "etcd://h1:2379,h2:2379/plangate"},
		{in: "etcd://h1:2379", want: EtcdConfig{Endpoints: []string{"h1:2379"}}, location: "etcd://h1:2379/plangate"},
		{in: "etcds://ops@h1:2379/a/b/", want: EtcdConfig{Endpoints: []string{"h1:2379"}, Prefix: "/a/b", Username: "ops", TLS: true}, location: "etcds://h1:2379/a/b"},
		{in: "etcd://ops:secret@h1:2379", err: "PLANGATE_ETCD_PASSWORD"},
		{in: "etcd:///plangate", err: "no etcd endpoint"},
		{in: "http://h1:2379", err: "want etcd://"},
	}
	for _, c := range cases {
		got, err := ParseEtcdURL(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: error %v, want one about %q without the password", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v %v, want %+v", c.in, got, err, c.want)
		}
		if loc := got.Location(); loc != c.location {
			t.Errorf("%s: location %q, want %q", c.in, loc, c.location)
		}
	}
}

func TestChunks(t *testing.T) {
	l := limits{ops: 10, bytes: 100, value: 50}
	cases := []struct {
		n, each, fixed int
		size           int
		want           [][2]int
	}{
		{n: 0, each: 1, want: nil},
		{n: 25, each: 1, fixed: 0, want: [][2]int{{0, 10}, {10, 20}, {20, 25}}},
		{n: 7, each: 3, fixed: 1, want: [][2]int{{0, 3}, {3, 6}, {6, 7}}},
		{n: 5, each: 1, size: 40, want: [][2]int{{0, 2}, {2, 4}, {4, 5}}},
		{n: 2, each: 20, want: [][2]int{{0, 1}, {1, 2}}}, // an item past the limit still goes, alone
	}
	for _, c := range cases {
		got := l.chunks(c.n, c.each, c.fixed, func(int) int { return c.size })
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("chunks(%d, %d, %d, size %d) = %v, want %v", c.n, c.each, c.fixed, c.size, got, c.want)
		}
	}
	if got := unlimited.chunks(1e6, 3, 2, nil); len(got) != 1 {
		t.Errorf("bbolt splits into %d updates", len(got))
	}
}

// A replica cut off from etcd (as one that died) stops renewing its
// lease: within the lease's time etcd frees its lock for another replica,
// and the cut-off one sees its work context end.
func TestLockExpiresWhenCutOff(t *testing.T) {
	proxy, err := etcdtest.NewProxy(etcdtest.Shared(t).Host())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	c := etcdConfig(t, EtcdConfig{LockTTL: 2 * time.Second, RequestTimeout: time.Second})
	viaProxy := c
	viaProxy.Endpoints = []string{proxy.Addr}
	cutOff, other := openEtcdTest(t, viaProxy), openEtcdTest(t, c)
	ctx := context.Background()
	held, _, err := Hold(ctx, cutOff.Locker(), "import/x")
	if err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, unlock, err := Hold(wait, other.Locker(), "import/x")
	if err != nil {
		t.Fatalf("the other replica never got the lock: %v", err)
	}
	unlock()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the lock came free after %v, want about the 2s lease", d)
	}
	select {
	case <-held.Done():
	case <-time.After(10 * time.Second):
		t.Error("the cut-off replica's work context still live after its lease expired")
	}
	// Closing the cut-off store gives up within its request timeout.
	closing := time.Now()
	cutOff.Close()
	if d := time.Since(closing); d > 5*time.Second {
		t.Errorf("closing a store cut off from etcd took %v", d)
	}
}

// The incremental exporter's other cache entries: Odoo's order of a
// query (kept beside its records and not counted as one), a scope's
// change marks with the fields kept when not given, and rendered
// sections. A section past the backend's value limit is not kept, so it
// is rendered again rather than served stale.
func TestCacheOrderScopeSection(t *testing.T) { forEachBackend(t, testCacheOrderScopeSection) }

func testCacheOrderScopeSection(t *testing.T, s *Store) {
	recs := map[int]map[string]any{3: {"id": int64(3)}, 1: {"id": int64(1)}, 2: {"id": int64(2)}}
	meta := CacheMeta{Database: "odoo17", Model: "sale.order", Order: []int{3, 1, 2}}
	if err := s.CacheApply("q", meta, recs, nil, true); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CacheOrder("q"); err != nil || !slices.Equal(got, []int{3, 1, 2}) {
		t.Fatalf("order %v err %v, want [3 1 2]", got, err)
	}
	meta.Order = []int{2, 3}
	if err := s.CacheApply("q", meta, nil, []int{1}, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CacheOrder("q"); !slices.Equal(got, []int{2, 3}) {
		t.Errorf("order after a delete %v, want [2 3]", got)
	}
	if m, _, _ := s.CacheMeta("q"); m.Count != 2 {
		t.Errorf("count %d, want 2 (the order is no record)", m.Count)
	}
	if got, _ := s.CacheOrder("none"); got != nil {
		t.Errorf("order of an unknown query %v, want nil", got)
	}

	sc := CacheScope{Database: "odoo17", Gen: 4, Models: map[string]ModelMark{"sale.order": {Count: 2, MaxID: 3}},
		Fields: map[string]map[string]CachedField{"sale.order": {"partner_id": {Type: "many2one", Relation: "res.partner"}}}}
	if err := s.SaveCacheScope("scope", sc); err != nil {
		t.Fatal(err)
	}
	sc.Gen, sc.Fields = 5, nil // marks change, fields kept
	if err := s.SaveCacheScope("scope", sc); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.CacheScope("scope")
	if err != nil || !ok || got.Gen != 5 || got.Models["sale.order"].MaxID != 3 || got.Fields["sale.order"]["partner_id"].Relation != "res.partner" {
		t.Fatalf("scope %+v ok %v err %v", got, ok, err)
	}

	sec := CacheSection{Database: "odoo17", Gen: 5, Models: []string{"res.partner"}, Records: 2}
	if err := s.SaveCacheSection("sec", sec, []byte("<customers/>")); err != nil {
		t.Fatal(err)
	}
	if gs, data, ok, err := s.CacheSection("sec"); err != nil || !ok || string(data) != "<customers/>" || gs.Records != 2 {
		t.Fatalf("section %+v %q ok %v err %v", gs, data, ok, err)
	}
	big := bytes.Repeat([]byte("x"), 40<<10) // past etcd-small's value limit
	if err := s.SaveCacheSection("sec", sec, big); err != nil {
		t.Fatal(err)
	}
	_, data, ok, err := s.CacheSection("sec")
	if err != nil {
		t.Fatal(err)
	}
	if s.kv.limits().value < len(big) {
		if ok {
			t.Errorf("a section past the value limit was kept (%d bytes)", len(data))
		}
	} else if !ok || !bytes.Equal(data, big) {
		t.Errorf("large section: ok %v, %d bytes, want it kept", ok, len(data))
	}
	if err := s.DropCache("odoo17"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"q", "scope", "sec"} {
		if _, ok, _ := s.CacheMeta(k); ok {
			t.Errorf("%s survived DropCache", k)
		}
	}
}
