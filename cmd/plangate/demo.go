package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/fixtures/odooemu"
)

func init() {
	register(command{name: "demo", summary: "the built-in Odoo emulator with demo data plus the gateway, in one process", run: runDemo})
	register(command{name: "emulator", summary: "the Odoo emulator alone (XML-RPC and JSON-RPC), to try a planner or script without an Odoo", run: runEmulator})
}

// loadDataset reads --dataset, or the embedded demo.
func loadDataset(cfg *Config) (*odooemu.Dataset, error) {
	if cfg.Emulator.Dataset != "" {
		ds, err := odooemu.LoadDir(cfg.Emulator.Dataset)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", cfg.Emulator.Dataset, err)
		}
		return ds, nil
	}
	ds, err := odooemu.Load(datasets.Demo(), ".")
	if err != nil {
		return nil, err
	}
	// The demo adds what the dump lacks: skills, an archived unit still in
	// use, names with &, <, quotes and non-ASCII letters (extension.json);
	// two more warehouses with stock and coordinates for order sourcing
	// (oms.json).
	for _, ext := range datasets.DemoExtensions {
		if err := odooemu.ApplyExtension(ds, datasets.Demo(), ext); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// newEmulator serves ds with the --cost model.
func newEmulator(cfg *Config, ds *odooemu.Dataset) (*odooemu.Emulator, error) {
	cost, err := odooemu.ParseCost(cfg.Emulator.Cost)
	if err != nil {
		return nil, fmt.Errorf("--cost: %w", err)
	}
	emu := odooemu.New(ds)
	emu.SetCost(cost)
	return emu, nil
}

func companyNames(ds *odooemu.Dataset) []string {
	var out []string
	if m := ds.Model("res.company"); m != nil {
		for _, r := range m.Records {
			if s, ok := r["name"].(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func runDemo(ctx context.Context, env *cliEnv, args []string) error {
	cfg, _, err := loadConfig(env, "demo", args, commonOptions, serverOptions, datasetOptions)
	if err != nil {
		return helpOK(err)
	}
	log := newLogger(env, cfg)
	ds, err := loadDataset(cfg)
	if err != nil {
		return err
	}
	emu, err := newEmulator(cfg, ds)
	if err != nil {
		return err
	}
	if now, err := parseNow(cfg.Now); err == nil && cfg.Now != "" {
		emu.SetClock(now)
	}
	esrv := odooemu.Start(emu)
	defer esrv.Close()
	cfg.Odoo.URL = esrv.URL
	cfg.Odoo.Database = ds.Database
	companies := companyNames(ds)
	fake := fakeshop.Start(fakeshop.New())
	defer fake.Close()
	return serveGateway(ctx, env, cfg, log, func(base string) {
		w := env.stdout
		fmt.Fprintln(w, "plangate demo is running.")
		fmt.Fprintf(w, "  Odoo emulator:  %s  (database %q, login admin / password admin)\n", esrv.URL, ds.Database)
		fmt.Fprintf(w, "  Gateway:        %s/  (its page: a form that opens documents, links to the rest)\n", base)
		for _, c := range companies {
			q := url.Values{"database": {ds.Database}, "company": {c}, "mode": {"1"}}
			fmt.Fprintf(w, "  Company %q:\n    open %s/frepple/xml?%s\n", c, base, q.Encode())
		}
		fmt.Fprintln(w, "  Log in as admin / admin when the browser asks. Ctrl-C stops.")
		fmt.Fprintf(w, "  Order sourcing (which warehouse ships which lines):\n    curl -u admin:admin -d '%s' %s/oms/orders-proposal\n", demoTicket, base)
		printShopDemo(w, fake.URL, esrv.URL, ds.Database)
	})
}

// demoTicket is an order of Deco Addict that no single demo warehouse can
// ship: the answer splits it between Oakland and Los Angeles.
const demoTicket = `{"ticket":{"id":"T1","organization":{"id":"1"},"businessPartner":{"id":"10"},"lines":[` +
	`{"id":"1","product":{"id":"30"},"qty":30,"uom":"1"},{"id":"2","product":{"id":"20"},"qty":25,"uom":"1"},` +
	`{"id":"3","product":{"id":"18"},"qty":10,"uom":"1"},{"id":"4","product":{"id":"25"},"qty":15,"uom":"1"}]}}`

func runEmulator(ctx context.Context, env *cliEnv, args []string) error {
	cfg, _, err := loadConfig(env, "emulator", args, commonOptions, datasetOptions, func(c *Config) []option {
		return []option{
			{"listen", "listen", "address to listen on (host:port; port 0 picks a free one)", &c.Listen},
			{"now", "now", "fix the emulator clock (YYYY-MM-DDTHH:MM:SS, UTC) for write dates", &c.Now},
		}
	})
	if err != nil {
		return helpOK(err)
	}
	log := newLogger(env, cfg)
	ds, err := loadDataset(cfg)
	if err != nil {
		return err
	}
	emu, err := newEmulator(cfg, ds)
	if err != nil {
		return err
	}
	if cfg.Now != "" {
		now, err := parseNow(cfg.Now)
		if err != nil {
			return err
		}
		emu.SetClock(now)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{Handler: emu, ReadHeaderTimeout: 30 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(env.stdout, "Odoo emulator at %s: database %q, login admin / password admin, companies %q\n", base, ds.Database, companyNames(ds))
	fmt.Fprintf(env.stdout, "  XML-RPC: %s/xmlrpc/2/common, %s/xmlrpc/2/object   JSON-RPC: %s/jsonrpc\n", base, base, base)
	log.Info("emulator listening", "url", base)
	if env.ready != nil {
		env.ready(ln.Addr().String())
	}
	return serveUntil(ctx, hs, ln, 5*time.Second, log)
}
