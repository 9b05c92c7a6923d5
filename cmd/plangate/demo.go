package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/plangate/plangate/fixtures/datasets"
	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/fixtures/odooemu"
)

func init() {
	register(command{name: "demo", summary: "the built-in Odoo emulator with demo data plus the gateway, in one process", run: runDemo,
		help: "Starts an Odoo 17 emulator loaded with the embedded demo dataset, a fake Taobao shop platform and the\n" +
			"gateway in front of them, then prints the URLs and commands to try: exports, a plan import, order\n" +
			"sourcing, a shop sync. Without --store the state (plan journal, shops, runs) is kept in a new\n" +
			"temporary file that is removed when the demo stops; --store FILE keeps it, --store none keeps none.\n" +
			"Nothing is written to the current directory."})
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
	cfg, flags, err := loadConfig(env, "demo", args, commonOptions, serverOptions, datasetOptions)
	if err != nil {
		return helpOK(err)
	}
	if err := noArgs("demo", flags); err != nil {
		return err
	}
	log := newLogger(env, cfg)
	w := env.stdout
	// `go run` compiles before anything shows: say at once what comes next.
	fmt.Fprintln(w, "plangate demo: loading the demo dataset (a few seconds)…")
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
	fmt.Fprintln(w, "plangate demo: starting the Odoo emulator, a fake Taobao shop platform and the gateway…")
	esrv := odooemu.Start(emu)
	defer esrv.Close()
	cfg.Odoo.URL = esrv.URL
	cfg.Odoo.Database = ds.Database
	companies := companyNames(ds)
	cfg.pageCompanies = companies
	fake := fakeshop.Start(fakeshop.New())
	defer fake.Close()

	// The demo's files (the example plan, by default the state file) live
	// in a temporary directory, never in the current one.
	dir, err := os.MkdirTemp("", "plangate-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir) // runs after serveGateway has closed the store
	planFile := ""
	if cfg.Emulator.Dataset == "" { // the example plan is made for the embedded data
		planFile = filepath.Join(dir, "plan.xml")
		if err := writeDemoPlan(planFile); err != nil {
			return err
		}
	}
	tempStore := false
	switch cfg.Store {
	case "":
		// The emulator starts afresh each time, so must the journal: a
		// journal that outlived it would take a first post for a repost.
		cfg.Store, tempStore = filepath.Join(dir, "state.db"), true
	case storeNone:
		cfg.Store = ""
	}
	return serveGateway(ctx, env, cfg, log, func(base string) {
		printDemo(w, demoInfo{base: base, emulator: esrv.URL, database: ds.Database, companies: companies,
			store: cfg.Store, tempStore: tempStore, planFile: planFile, platform: fake.URL})
	})
}

// demoPlanCompany is the company the example plan was made for.
const demoPlanCompany = "My Company (San Francisco)"

// writeDemoPlan writes the dataset's example plan to path.
func writeDemoPlan(path string) error {
	plan, err := fs.ReadFile(datasets.Demo(), datasets.DemoPlan)
	if err != nil {
		return fmt.Errorf("demo plan: %w", err)
	}
	if err := os.WriteFile(path, plan, 0o600); err != nil {
		return fmt.Errorf("demo plan: %w", err)
	}
	return nil
}

// demoInfo is what the demo tells its user once everything listens.
type demoInfo struct {
	base, emulator, database string
	companies                []string
	store                    string // "": no state file
	tempStore                bool
	planFile                 string // the example plan; "": none (another dataset)
	platform                 string // the fake Taobao platform
}

// printDemo prints the demo's instructions: each one a command that works
// as printed against this demo (a test runs them).
func printDemo(w io.Writer, d demoInfo) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "plangate demo is running. Ctrl-C stops it.")
	fmt.Fprintf(w, "  Gateway:        %s/  (open it in a browser: a form that opens documents, links to the rest)\n", d.base)
	fmt.Fprintf(w, "  Odoo emulator:  %s  (database %q, login admin, password admin)\n", d.emulator, d.database)
	switch {
	case d.store == "":
		fmt.Fprintln(w, "  State file:     none (--store none): no plan journal, no shops")
	case d.tempStore:
		fmt.Fprintf(w, "  State file:     %s  (removed when the demo stops; --store FILE keeps one)\n", d.store)
	default:
		fmt.Fprintf(w, "  State file:     %s\n", d.store)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The frePPLe document of each company (a browser asks for the login admin / admin):")
	for _, c := range d.companies {
		q := url.Values{"database": {d.database}, "company": {c}, "mode": {"1"}}
		fmt.Fprintf(w, "  curl -u admin:admin '%s/frepple/xml?%s'\n", d.base, q.Encode())
	}
	if d.store != "" {
		fmt.Fprintf(w, "  curl -u admin:admin '%s/frepple/state'        # the extraction history\n", d.base)
	}
	if d.planFile != "" {
		q := url.Values{"database": {d.database}, "company": {demoPlanCompany}}
		fmt.Fprintln(w)
		if d.store != "" {
			fmt.Fprintln(w, "Import a plan as the planner posts it (post it again: nothing is written twice):")
		} else {
			fmt.Fprintln(w, "Import a plan as the planner posts it (without a state file, each post writes it again):")
		}
		fmt.Fprintf(w, "  curl -u admin:admin -F mode=1 -F 'frePPLe plan=@%s' '%s/frepple/xml/?%s'\n", d.planFile, d.base, q.Encode())
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Order sourcing (which warehouse ships which lines of an order):")
	fmt.Fprintf(w, "  curl -u admin:admin -H 'Content-Type: application/json' -d '%s' %s/oms/orders-proposal\n", demoTicket, d.base)
	if d.store != "" {
		printShopDemo(w, d.base, d.platform)
	}
}

// demoTicket is an order of Deco Addict that no single demo warehouse can
// ship: the answer splits it between Oakland and Los Angeles.
const demoTicket = `{"ticket":{"id":"T1","organization":{"id":"1"},"businessPartner":{"id":"10"},"lines":[` +
	`{"id":"1","product":{"id":"30"},"qty":30,"uom":"1"},{"id":"2","product":{"id":"20"},"qty":25,"uom":"1"},` +
	`{"id":"3","product":{"id":"18"},"qty":10,"uom":"1"},{"id":"4","product":{"id":"25"},"qty":15,"uom":"1"}]}}`

func runEmulator(ctx context.Context, env *cliEnv, args []string) error {
	cfg, flags, err := loadConfig(env, "emulator", args, commonOptions, datasetOptions, func(c *Config) []option {
		return []option{
			{"listen", "listen", "address to listen on (host:port; port 0 picks a free one)", &c.Listen},
			{"now", "now", "fix the emulator clock (YYYY-MM-DDTHH:MM:SS, UTC) for write dates", &c.Now},
		}
	})
	if err != nil {
		return helpOK(err)
	}
	if err := noArgs("emulator", flags); err != nil {
		return err
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
