package schedule_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/etcdtest"
	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/mappers/shop/schedule"
	"github.com/plangate/plangate/store"
)

// rig is the emulator with the demo dataset and the fake platform over
// real HTTP, a state file with the demo shop, and its products imported
// (orders of items never imported fail, which is not what these tests
// are about).
type rig struct {
	tr   odoo.Transport
	sess *odoo.Session
	st   *store.Store
	db   string
	to   time.Time
	// open gives a replica its handle on the state: the one bbolt file,
	// or its own client of the shared etcd.
	open func(t *testing.T) *store.Store
}

// backend opens the state the replicas of a test share.
type backend struct {
	name string
	open func(t *testing.T) func(t *testing.T) *store.Store
}

var backends = []backend{
	{"bbolt", func(t *testing.T) func(*testing.T) *store.Store {
		st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return func(*testing.T) *store.Store { return st }
	}},
	{"etcd", func(t *testing.T) func(*testing.T) *store.Store {
		endpoint, prefix := etcdtest.Shared(t).Endpoint, etcdtest.Prefix(t)
		return func(t *testing.T) *store.Store {
			st, err := store.OpenEtcd(context.Background(), store.EtcdConfig{Endpoints: []string{endpoint}, Prefix: prefix, LockTTL: 2 * time.Second}, false)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	}},
}

// TestMain shares one embedded etcd server among the tests.
func TestMain(m *testing.M) { etcdtest.Main(m) }

func startRigOn(t *testing.T, b backend) *rig {
	t.Helper()
	ctx := context.Background()
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	srv := odooemu.Start(odooemu.New(ds))
	t.Cleanup(srv.Close)
	tr, err := odoo.NewTransport(odoo.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := odoo.Login(ctx, tr, ds.Database, "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	fs := fakeshop.Start(fakeshop.New())
	t.Cleanup(fs.Close)
	open := b.open(t)
	st := open(t)
	sh := fakeshop.DemoShop(fs.URL)
	sh.Database = ds.Database
	if err := st.SaveShop(sh, time.Now()); err != nil {
		t.Fatal(err)
	}
	from, to := fakeshop.DemoWindow()
	svc := &shop.Service{Store: st, Odoo: sess, Log: quiet()}
	if _, err := svc.ImportProducts(ctx, "demo", from, to); err != nil {
		t.Fatal(err)
	}
	return &rig{tr: tr, sess: sess, st: st, db: ds.Database, to: to, open: open}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// tbOrders counts the sales orders the shop's imports made.
func (r *rig) tbOrders(t *testing.T) int {
	t.Helper()
	n, err := r.sess.SearchCount(context.Background(), "sale.order", odoo.Domain{odoo.Term("name", "=like", "TB%")}, odoo.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// replica is one scheduler with its own stop and the reports it made.
type replica struct {
	s      *schedule.Scheduler
	stop   context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	orders []schedule.Report
	runs   chan schedule.Report
}

func (r *rig) replica(t *testing.T, id string) *replica {
	t.Helper()
	rp := &replica{done: make(chan struct{}), runs: make(chan schedule.Report, 16)}
	cfg := schedule.Config{Database: r.db, Login: "admin", Password: "admin",
		Orders: schedule.OrdersConfig{Every: time.Hour, Lookback: 40 * 24 * time.Hour}}
	s, err := schedule.New(schedule.Options{Config: cfg, Store: r.open(t), Odoo: r.tr, ID: id, Log: quiet(),
		Now: func() time.Time { return r.to }, Retry: 10 * time.Millisecond,
		// No ticks: each leader runs its jobs once, when it starts leading.
		Ticker: func(schedule.Job, time.Duration) (<-chan time.Time, func()) { return nil, func() {} },
		OnRun: func(rep schedule.Report) {
			rp.mu.Lock()
			rp.orders = append(rp.orders, rep)
			rp.mu.Unlock()
			rp.runs <- rep
		}})
	if err != nil {
		t.Fatal(err)
	}
	rp.s = s
	ctx, cancel := context.WithCancel(context.Background())
	rp.stop = cancel
	go func() {
		defer close(rp.done)
		_ = s.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-rp.done })
	return rp
}

func (rp *replica) reports() int {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return len(rp.orders)
}

// TestOneReplicaRunsAndTheOtherTakesOver: two schedulers sharing the
// state (one bbolt file; or etcd, each with its own client) campaign for
// the same database; only the leader imports the shop's orders, and when
// it stops the other leads and runs, creating nothing twice.
func TestOneReplicaRunsAndTheOtherTakesOver(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testTakeover(t, startRigOn(t, b)) })
	}
}

func testTakeover(t *testing.T, r *rig) {
	if n := r.tbOrders(t); n != 0 {
		t.Fatalf("%d shop orders before any run", n)
	}
	a, b := r.replica(t, "a"), r.replica(t, "b")
	var first, second *replica
	var rep schedule.Report
	select {
	case rep = <-a.runs:
		first, second = a, b
	case rep = <-b.runs:
		first, second = b, a
	case <-time.After(30 * time.Second):
		t.Fatal("no scheduled run within 30 s")
	}
	if rep.Err != nil || rep.Orders == nil || rep.Orders.Imported == 0 {
		t.Fatalf("leader's order run: err %v, result %+v; want orders imported", rep.Err, rep.Orders)
	}
	imported := r.tbOrders(t)
	if imported != rep.Orders.Imported {
		t.Errorf("Odoo has %d shop orders, the run says it imported %d", imported, rep.Orders.Imported)
	}
	leader, err := r.st.Elector().Leader(context.Background(), first.s.Election())
	if err != nil || leader != first.s.ID() {
		t.Errorf("leader %q (%v), want %q", leader, err, first.s.ID())
	}
	time.Sleep(200 * time.Millisecond) // time for a wrong second leader to run
	if n := second.reports(); n != 0 {
		t.Fatalf("the replica that does not lead ran %d times", n)
	}

	first.stop()
	<-first.done
	select {
	case rep = <-second.runs:
	case <-time.After(30 * time.Second):
		t.Fatal("the other replica did not take over within 30 s")
	}
	if rep.Err != nil || rep.Orders == nil || rep.Orders.Imported != 0 {
		t.Fatalf("second leader's run: err %v, result %+v; want nothing imported again", rep.Err, rep.Orders)
	}
	if n := r.tbOrders(t); n != imported {
		t.Errorf("after the takeover Odoo has %d shop orders, want still %d", n, imported)
	}
	mark, found, err := r.st.ScheduleMark("demo", string(schedule.Orders))
	if err != nil || !found || !mark.End.Equal(r.to.Truncate(time.Second)) {
		t.Errorf("orders mark %+v (%v), want its window's end %v", mark, err, r.to)
	}
}

// TestConfigErrors: a configuration that cannot run is refused, naming
// its key.
func TestConfigErrors(t *testing.T) {
	ok := schedule.Config{Database: "db", Login: "u", Password: "p", Orders: schedule.OrdersConfig{Every: time.Minute}}
	for _, tc := range []struct {
		name string
		edit func(*schedule.Config)
		want string
	}{
		{"no database", func(c *schedule.Config) { c.Database = "" }, "database"},
		{"no login", func(c *schedule.Config) { c.Login = "" }, "login"},
		{"no password", func(c *schedule.Config) { c.Password = "" }, "password"},
		{"nothing scheduled", func(c *schedule.Config) { c.Orders.Every = 0 }, "nothing would run"},
		{"negative interval", func(c *schedule.Config) { c.Stock.Every = -time.Second }, "stock.every"},
		{"too short", func(c *schedule.Config) { c.Orders.Every = time.Millisecond }, "orders.every"},
		{"shop twice", func(c *schedule.Config) { c.Shops = []string{"a", "a"} }, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.WithDefaults().Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want an error naming %q", err, tc.want)
			}
		})
	}
	if err := ok.WithDefaults().Validate(); err != nil {
		t.Fatalf("a good configuration is refused: %v", err)
	}
}
