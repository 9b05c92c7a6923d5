package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/fixtures/odooemu"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

// TestServeRunsTheShopSchedule: serve with a schedule block imports the
// shop's paid orders on its own, with no request to /shops, and a
// password written into the file itself is refused at start.
func TestServeRunsTheShopSchedule(t *testing.T) {
	ctx := context.Background()
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		t.Fatal(err)
	}
	esrv := odooemu.Start(odooemu.New(ds))
	defer esrv.Close()
	fs := fakeshop.Start(fakeshop.New())
	defer fs.Close()
	tr, err := odoo.NewTransport(odoo.Options{URL: esrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := odoo.Login(ctx, tr, ds.Database, "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}

	// A state file with the demo shop and its products, as an operator
	// would have set it up before scheduling the orders.
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	st, err := store.Open(statePath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sh := fakeshop.DemoShop(fs.URL)
	sh.Database = ds.Database
	if err := st.SaveShop(sh, time.Now()); err != nil {
		t.Fatal(err)
	}
	from, to := fakeshop.DemoWindow()
	svc := &shop.Service{Store: st, Odoo: sess, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := svc.ImportProducts(ctx, "demo", from, to); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	orders := func() int {
		n, err := sess.SearchCount(ctx, "sale.order", odoo.Domain{odoo.Term("name", "=like", "TB%")}, odoo.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := orders(); n != 0 {
		t.Fatalf("%d shop orders before serve", n)
	}

	// The look-back reaches the demo's trades from today's clock.
	lookback := time.Since(from).Round(time.Hour) + 24*time.Hour
	config := filepath.Join(dir, "plangate.yaml")
	writeConfig := func(extra string) {
		t.Helper()
		yaml := "schedule:\n  login: admin\n" + extra + "  orders:\n    every: 1h\n    lookback: " + lookback.String() + "\n"
		if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"serve", "--listen", "127.0.0.1:0", "--odoo-url", esrv.URL, "--database", ds.Database,
		"--store", statePath, "--config", config, "--log-level", "error"}

	writeConfig("  password: admin\n")
	env, _, _ := testEnv(map[string]string{"PLANGATE_SCHEDULE_PASSWORD": "admin"})
	if err := run(ctx, args, env); err == nil || !strings.Contains(err.Error(), "schedule.password") {
		t.Fatalf("a password in the file: %v, want a refusal naming schedule.password", err)
	}

	writeConfig("")
	s := startCommand(t, args, map[string]string{"PLANGATE_SCHEDULE_PASSWORD": "admin"})
	deadline := time.Now().Add(30 * time.Second)
	for orders() == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	n := orders()
	if n == 0 {
		t.Fatal("serve's schedule imported no order within 30 s")
	}
	// The run and its Odoo calls are in the gateway's metrics.
	var metrics string
	for time.Now().Before(deadline) {
		var status int
		status, metrics = curl(t, "curl "+s.base+"/metrics")
		if status != http.StatusOK {
			t.Fatalf("GET /metrics: %d", status)
		}
		if strings.Contains(metrics, `plangate_schedule_runs_total{job="orders",result="ok",shop="demo"} 1`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{
		`plangate_schedule_runs_total{job="orders",result="ok",shop="demo"} 1`,
		`plangate_odoo_calls_total{method="create",model="sale.order",service="object"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics without %s:\n%s", want, grepLines(metrics, "plangate_schedule", "plangate_odoo_calls_total"))
		}
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

// grepLines keeps the lines holding any of the words.
func grepLines(text string, words ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
