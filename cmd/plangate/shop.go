package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

func init() {
	register(command{name: "shop", summary: "manage marketplace shops and sync them with Odoo (add, list, show, remove, import-products, import-orders, missing-orders, map, stock-sync, authorize, sync…)",
		args: "ACTION [NAME]", run: runShop, help: shopHelp})
}

// shopAction is one action of `plangate shop`.
type shopAction struct{ name, help string }

// shopActions are the actions of `plangate shop`, in the order of its help.
var shopActions = []shopAction{
	{"add", "add a shop NAME, or replace it (--platform, --app-key, --app-secret, --session-key, products, location)"},
	{"list", "list the shops (without secrets)"},
	{"show", "show shop NAME (without secrets)"},
	{"remove", "remove shop NAME"},
	{"import-products", "import NAME's items and SKUs changed in the window (--from, --to, --days) as Odoo products"},
	{"import-orders", "import NAME's trades of --status in the window as Odoo sales orders, checking for missing ones"},
	{"sync-stock", "push Odoo's available stock at --stock-location to NAME, where it changed"},
	{"sync", "import-products, import-orders and sync-stock in turn"},
	{"missing-orders", "list NAME's trades of --status in the window that have no Odoo sales order (reads only), with why"},
	{"trades", "list the trades NAME's imports claimed (--failed: only those whose last import failed, with the reason)"},
	{"items", "list NAME's item/SKU mappings to Odoo products"},
	{"map", "map NAME's --item (and --sku) to the existing Odoo --product (a product.product id)"},
	{"stock-syncs", "list NAME's stock-sync records (--product, --location to filter) and their pushes"},
	{"stock-sync", "turn the stock push of --product at --location (default: the shop's) --sync on or off; --all: every record"},
	{"authorize", "print the URL where NAME's seller authorises the app (needs --redirect-uri set on the shop)"},
	{"oauth-token", "exchange the --code and --state of the seller's redirect for NAME's Session Key"},
}

var shopHelp = func() string {
	var b strings.Builder
	b.WriteString("Actions:\n")
	for _, a := range shopActions {
		fmt.Fprintf(&b, "  %-16s %s\n", a.name, a.help)
	}
	b.WriteString("\nShops live in the state file (--store; by default the one `plangate serve` uses). While a\n" +
		"gateway runs it holds that file: use its HTTP API (/shops…) instead, as `plangate demo` shows.\n" +
		"Flags may come before or after NAME.")
	return b.String()
}()

// shopFlags are the settings of `plangate shop` besides the common ones.
type shopFlags struct {
	store.Shop
	Status      string
	From, To    string
	Days        int
	Item, SKU   string
	Product     int
	Location    int
	Sync        string
	All, Failed bool
	Code, State string
}

func shopOptions(sf *shopFlags) func(c *Config) []option {
	return func(c *Config) []option {
		return []option{
			{"store", "store", "state store holding the shops: a bbolt file or etcd://...; empty: the file `plangate serve` uses by default", &c.Store},
			{"user", "odoo.user", "Odoo login", &c.Odoo.User},
			{"password", "odoo.password", "Odoo password (prefer the environment variable: flags show in the process list)", &c.Odoo.Password},
			{"name", "-", "shop name (or NAME after the ACTION)", &sf.Name},
			{"platform", "-", "platform: " + fmt.Sprint(shop.Platforms()), &sf.Platform},
			{"order-prefix", "-", "put before every imported sales order name", &sf.OrderPrefix},
			{"shipping-product", "-", "product.product id of shipping-fee lines", &sf.ShippingProduct},
			{"discount-product", "-", "product.product id of discount lines", &sf.DiscountProduct},
			{"gift-product", "-", "product.product id of gift lines", &sf.GiftProduct},
			{"sales-journal", "-", "account.journal id of the shop's sales", &sf.SalesJournal},
			{"stock-location", "-", "stock.location id whose available stock is pushed", &sf.StockLocation},
			{"app-key", "-", "platform App Key", &sf.AppKey},
			{"app-secret", "-", "platform App Secret (prefer the environment variable: flags show in the process list)", &sf.AppSecret},
			{"session-key", "-", "platform Session Key (prefer the environment variable)", &sf.SessionKey},
			{"api-url", "-", "platform REST router URL; empty: the platform's", &sf.APIURL},
			{"sign-method", "-", "md5 or hmac", &sf.SignMethod},
			{"new-stock-syncs-enabled", "-", "add: stock-sync records made by imports and mappings start enabled (default: disabled, nothing pushed until turned on)", &sf.NewStockSyncsEnabled},
			{"auth-url", "-", "add: OAuth authorize URL; empty: the platform's", &sf.AuthURL},
			{"token-url", "-", "add: OAuth token URL; empty: the platform's", &sf.TokenURL},
			{"redirect-uri", "-", "add: the OAuth callback registered with the app (the gateway's /shops/NAME/oauth-callback?database=DB)", &sf.RedirectURI},
			{"item", "-", "map: the platform item id (num_iid)", &sf.Item},
			{"sku", "-", "map: the platform SKU id; empty: the item itself", &sf.SKU},
			{"product", "-", "map, stock-sync, stock-syncs: product.product id", &sf.Product},
			{"location", "-", "stock-sync, stock-syncs: stock.location id; 0: the shop's --stock-location", &sf.Location},
			{"sync", "-", "stock-sync: on or off", &sf.Sync},
			{"all", "-", "stock-sync: every record of the shop", &sf.All},
			{"failed", "-", "trades: only those whose last import failed", &sf.Failed},
			{"code", "-", "oauth-token: the code of the seller's redirect", &sf.Code},
			{"state", "-", "oauth-token: the state of the seller's redirect", &sf.State},
			{"status", "-", "trade status to import", &sf.Status},
			{"from", "-", "window start (RFC 3339 or 'YYYY-MM-DD HH:MM:SS' GMT+8); empty: --days ago", &sf.From},
			{"to", "-", "window end; empty: now", &sf.To},
			{"days", "-", "window length in days when --from is empty", &sf.Days},
		}
	}
}

func runShop(ctx context.Context, env *cliEnv, args []string) error {
	sf := &shopFlags{Status: "WAIT_SELLER_SEND_GOODS", Days: 1}
	cfg, fs, err := loadConfig(env, "shop", args, commonOptions, odooOptions, shopOptions(sf))
	if err != nil {
		return helpOK(err)
	}
	action, err := sf.parseArgs(fs)
	if err != nil {
		return err
	}
	from, to, err := sf.window()
	if err != nil {
		return usageErrorf("shop", fs, "%v", err)
	}
	if action == "add" {
		if sf.Platform == "" {
			sf.Platform = shop.PlatformTaobao
		}
		if _, err := shop.Open(sf.Shop); err != nil { // checked before any file is touched
			return err
		}
	}
	if cfg.Store == storeNone {
		return usageErrorf("shop", fs, "shops live in a state file: --store none leaves nowhere to keep them")
	}
	if cfg.Store, err = storePath(env, cfg.Store); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, false)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("state file %s is held by a running gateway: use its HTTP API (/shops…), or stop it first: %w", cfg.Store, err)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	log := newLogger(env, cfg)
	out := json.NewEncoder(env.stdout)
	out.SetIndent("", "  ")
	switch action {
	case "add":
		if err := st.SaveShop(sf.Shop, time.Now()); err != nil {
			return err
		}
		sh, err := st.Shop(sf.Name)
		if err != nil {
			return err
		}
		return out.Encode(sh.Redacted())
	case "list":
		shops, err := st.Shops()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tPLATFORM\tPREFIX\tAPP KEY\tAPI URL")
		for _, sh := range shops {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sh.Name, sh.Platform, sh.OrderPrefix, sh.AppKey, sh.APIURL)
		}
		return tw.Flush()
	case "show":
		sh, err := st.Shop(sf.Name)
		if err != nil {
			return err
		}
		return out.Encode(sh.Redacted())
	case "remove":
		return st.DeleteShop(sf.Name)
	case "trades", "items", "stock-syncs", "authorize", "oauth-token":
		return sf.runStoreOnly(ctx, action, st, log, out, env.stdout)
	}

	t, err := newTransport(cfg)
	if err != nil {
		return err
	}
	db := cfg.Odoo.Database
	if db == "" {
		dbs, err := odoo.ListDatabases(ctx, t)
		if err != nil || len(dbs) != 1 {
			return fmt.Errorf("no --database given and Odoo lists %v (%v)", dbs, err)
		}
		db = dbs[0]
	}
	sess, err := odoo.Login(ctx, t, db, cfg.Odoo.User, cfg.Odoo.Password)
	if err != nil {
		return fmt.Errorf("log in to %s as %s: %w", db, cfg.Odoo.User, err)
	}
	svc := &shop.Service{Store: st, Odoo: sess, Log: log}
	var res any
	switch action {
	case "import-products":
		res, err = svc.ImportProducts(ctx, sf.Name, from, to)
	case "import-orders":
		res, err = svc.ImportOrders(ctx, sf.Name, sf.Status, from, to)
	case "sync-stock":
		res, err = svc.SyncStock(ctx, sf.Name)
	case "sync":
		res, err = svc.Sync(ctx, sf.Name, sf.Status, from, to)
	case "missing-orders":
		res, err = svc.MissingReport(ctx, sf.Name, sf.Status, from, to)
	case "map":
		if sf.Item == "" || sf.Product == 0 {
			return usageErrorf("shop", fs, "map needs --item and --product (and --sku for a SKU)")
		}
		res, err = svc.MapItem(ctx, sf.Name, sf.Item, sf.SKU, sf.Product)
	case "stock-sync":
		var on bool
		if on, err = sf.syncSwitch(fs); err != nil {
			return err
		}
		if sf.All {
			res, err = svc.SetStockSyncs(sf.Name, on)
			break
		}
		loc, lerr := sf.location(st)
		if lerr != nil || sf.Product == 0 {
			return usageErrorf("shop", fs, "stock-sync needs --product (or --all) and a --location or a shop with a stock location")
		}
		res, err = svc.SetStockSync(ctx, sf.Name, loc, sf.Product, on)
	}
	if res != nil {
		_ = out.Encode(res)
	}
	return err
}

// runStoreOnly runs the actions that need no Odoo login.
func (sf *shopFlags) runStoreOnly(ctx context.Context, action string, st *store.Store, log *slog.Logger, out *json.Encoder, w io.Writer) error {
	if _, err := st.Shop(sf.Name); err != nil {
		return err
	}
	svc := &shop.Service{Store: st, Log: log}
	switch action {
	case "trades":
		trades, err := st.Trades(sf.Name)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TID\tORDER\tSTATE\tATTEMPTS\tERROR")
		for _, m := range trades {
			if sf.Failed && !m.Failed {
				continue
			}
			state := "importing"
			switch {
			case m.Done:
				state = "done"
			case m.Failed:
				state = "failed " + m.FailedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.TradeID, m.Name, state, m.Attempts, m.Error)
		}
		return tw.Flush()
	case "items":
		maps, err := st.ItemMappings(sf.Name)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ITEM\tSKU\tTEMPLATE\tPRODUCT\tSOURCE")
		for _, m := range maps {
			src := m.Source
			if src == "" {
				src = store.MappingCreated
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", m.ItemID, m.SKUID, m.Template, m.Product, src)
		}
		return tw.Flush()
	case "stock-syncs":
		recs, err := st.StockSyncs(sf.Name)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LOCATION\tPRODUCT\tITEM\tSKU\tSYNC\tLAST QTY\tLAST PUSHED\tPENDING\tLAST ERROR")
		for _, r := range recs {
			if (sf.Product != 0 && r.Product != sf.Product) || (sf.Location != 0 && r.Location != sf.Location) {
				continue
			}
			pushed := "never"
			if !r.LastPushed.IsZero() {
				pushed = r.LastPushed.UTC().Format(time.RFC3339)
			}
			onOff := map[bool]string{true: "on", false: "off"}[r.Sync]
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%g\t%s\t%v\t%s\n", r.Location, r.Product, r.ItemID, r.SKUID, onOff, r.LastQty, pushed, r.Pending, r.LastError)
		}
		return tw.Flush()
	case "authorize":
		a, err := svc.AuthorizeURL(sf.Name)
		if err != nil {
			return err
		}
		return out.Encode(a)
	case "oauth-token":
		if sf.Code == "" || sf.State == "" {
			return fmt.Errorf("oauth-token needs --code and --state from the seller's redirect: %w", errUsage)
		}
		a, err := svc.ExchangeCode(ctx, sf.Name, sf.Code, sf.State)
		if err != nil {
			return err
		}
		return out.Encode(a)
	}
	return nil
}

// syncSwitch reads --sync on|off.
func (sf *shopFlags) syncSwitch(fs *flag.FlagSet) (bool, error) {
	switch strings.ToLower(sf.Sync) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, usageErrorf("shop", fs, "stock-sync needs --sync on or --sync off, not %q", sf.Sync)
}

// location is --location, else the shop's stock location.
func (sf *shopFlags) location(st *store.Store) (int, error) {
	if sf.Location != 0 {
		return sf.Location, nil
	}
	sh, err := st.Shop(sf.Name)
	if err != nil {
		return 0, err
	}
	if sh.StockLocation == 0 {
		return 0, errors.New("no location")
	}
	return sh.StockLocation, nil
}

// parseArgs reads ACTION and NAME (or --name) and checks they fit together.
func (sf *shopFlags) parseArgs(fs *flag.FlagSet) (action string, err error) {
	pos := fs.Args()
	if len(pos) == 0 {
		return "", usageErrorf("shop", fs, "no ACTION given")
	}
	action = pos[0]
	if !slices.ContainsFunc(shopActions, func(a shopAction) bool { return a.name == action }) {
		return "", usageErrorf("shop", fs, "unknown action %q", action)
	}
	switch {
	case len(pos) > 2:
		return "", usageErrorf("shop", fs, "unexpected argument %q (one shop NAME at most)", pos[2])
	case len(pos) == 2 && sf.Name != "" && sf.Name != pos[1]:
		return "", usageErrorf("shop", fs, "two shop names: --name %q and %q", sf.Name, pos[1])
	case len(pos) == 2:
		sf.Name = pos[1]
	}
	if action == "list" && sf.Name != "" {
		return "", usageErrorf("shop", fs, "list takes no shop NAME")
	}
	if action != "list" && sf.Name == "" {
		return "", usageErrorf("shop", fs, "%s needs a shop NAME (an argument or --name)", action)
	}
	return action, nil
}

func (sf *shopFlags) window() (from, to time.Time, err error) {
	parse := func(v string) (time.Time, error) {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		return shop.ParseTime(v)
	}
	to = time.Now()
	if sf.To != "" {
		if to, err = parse(sf.To); err != nil {
			return from, to, fmt.Errorf("--to: %w", err)
		}
	}
	from = to.AddDate(0, 0, -sf.Days)
	if sf.From != "" {
		if from, err = parse(sf.From); err != nil {
			return from, to, fmt.Errorf("--from: %w", err)
		}
	}
	return from, to, nil
}

// printShopDemo tells how to sync the demo's fake shop into the emulator
// through the gateway's shop API (the gateway holds the state file, so
// `plangate shop` cannot open it meanwhile).
func printShopDemo(w io.Writer, base, platformURL string) {
	from, to := fakeshop.DemoWindow()
	// RFC 3339 in UTC needs no escaping in a query (no '+', no space).
	win := "from=" + from.UTC().Format(time.RFC3339) + "&to=" + to.UTC().Format(time.RFC3339)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Shop sync with the fake Taobao platform at %s (repeat the imports: nothing changes):\n", platformURL)
	fmt.Fprintf(w, "  curl -u admin:admin -H 'Content-Type: application/json' -d '%s' %s/shops\n", demoShopJSON(platformURL), base)
	for _, step := range []string{"import-products?" + win, "import-orders?" + win, "sync-stock"} {
		fmt.Fprintf(w, "  curl -u admin:admin -X POST '%s/shops/demo/%s'\n", base, step)
	}
	fmt.Fprintf(w, "  curl -u admin:admin %s/shops/demo/stock-syncs      # what was pushed, when\n", base)
}

// demoShopJSON is the body that creates the demo shop: the fields a user
// sets, without the store's timestamps.
func demoShopJSON(platformURL string) string {
	// Encoding a struct of strings and ints, then a map of what it gave, cannot fail.
	full, _ := json.Marshal(fakeshop.DemoShop(platformURL))
	var m map[string]any
	_ = json.Unmarshal(full, &m)
	delete(m, "created")
	delete(m, "updated")
	b, _ := json.Marshal(m)
	return string(b)
}
