package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/plangate/plangate/fixtures/fakeshop"
	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/mappers/shop"
	"github.com/plangate/plangate/store"
)

func init() {
	register(command{name: "shop", summary: "manage marketplace shops and sync them with Odoo: " +
		"shop add|list|show|remove|import-products|import-orders|sync-stock|sync [flags] [NAME]", run: runShop})
}

// shopFlags are the settings of `plangate shop` besides the common ones.
type shopFlags struct {
	store.Shop
	Status   string
	From, To string
	Days     int
}

func shopOptions(sf *shopFlags) func(c *Config) []option {
	return func(c *Config) []option {
		return []option{
			{"store", "store", "state store holding the shops: a bbolt file or etcd://... (required)", &c.Store},
			{"user", "odoo.user", "Odoo login", &c.Odoo.User},
			{"password", "odoo.password", "Odoo password (prefer PLANGATE_ODOO_PASSWORD)", &c.Odoo.Password},
			{"name", "-", "shop name (or the first argument)", &sf.Name},
			{"platform", "-", "platform: " + fmt.Sprint(shop.Platforms()), &sf.Platform},
			{"order-prefix", "-", "put before every imported sales order name", &sf.OrderPrefix},
			{"shipping-product", "-", "product.product id of shipping-fee lines", &sf.ShippingProduct},
			{"discount-product", "-", "product.product id of discount lines", &sf.DiscountProduct},
			{"gift-product", "-", "product.product id of gift lines", &sf.GiftProduct},
			{"sales-journal", "-", "account.journal id of the shop's sales", &sf.SalesJournal},
			{"stock-location", "-", "stock.location id whose available stock is pushed", &sf.StockLocation},
			{"app-key", "-", "platform App Key", &sf.AppKey},
			{"app-secret", "-", "platform App Secret (prefer PLANGATE_APP_SECRET)", &sf.AppSecret},
			{"session-key", "-", "platform Session Key (prefer PLANGATE_SESSION_KEY)", &sf.SessionKey},
			{"api-url", "-", "platform REST router URL; empty: the platform's", &sf.APIURL},
			{"sign-method", "-", "md5 or hmac", &sf.SignMethod},
			{"status", "-", "trade status to import", &sf.Status},
			{"from", "-", "window start (RFC 3339 or 'YYYY-MM-DD HH:MM:SS' GMT+8); empty: --days ago", &sf.From},
			{"to", "-", "window end; empty: now", &sf.To},
			{"days", "-", "window length in days when --from is empty", &sf.Days},
		}
	}
}

func runShop(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(env.stderr, "Usage: plangate shop add|list|show|remove|import-products|import-orders|sync-stock|sync [flags] [NAME]\n")
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	action := args[0]
	sf := &shopFlags{Status: "WAIT_SELLER_SEND_GOODS", Days: 1}
	cfg, fs, err := loadConfig(env, "shop", args[1:], commonOptions, odooOptions, shopOptions(sf))
	if err != nil {
		return helpOK(err)
	}
	if sf.Name == "" && fs.NArg() > 0 {
		sf.Name = fs.Arg(0)
	}
	if cfg.Store == "" {
		return fmt.Errorf("shop: --store is required: %w", errUsage)
	}
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	log := newLogger(env, cfg)
	out := json.NewEncoder(env.stdout)
	out.SetIndent("", "  ")
	needName := func() error {
		if sf.Name == "" {
			return fmt.Errorf("shop %s: a shop name is required: %w", action, errUsage)
		}
		return nil
	}
	switch action {
	case "add":
		if err := needName(); err != nil {
			return err
		}
		if sf.Platform == "" {
			sf.Platform = shop.PlatformTaobao
		}
		if _, err := shop.Open(sf.Shop); err != nil {
			return err
		}
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
		if err := needName(); err != nil {
			return err
		}
		sh, err := st.Shop(sf.Name)
		if err != nil {
			return err
		}
		return out.Encode(sh.Redacted())
	case "remove":
		if err := needName(); err != nil {
			return err
		}
		return st.DeleteShop(sf.Name)
	case "import-products", "import-orders", "sync-stock", "sync":
		if err := needName(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("shop: unknown action %q: %w", action, errUsage)
	}

	from, to, err := sf.window()
	if err != nil {
		return err
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
	}
	if res != nil {
		_ = out.Encode(res)
	}
	return err
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

// printShopDemo tells how to sync the demo's fake shop into the emulator.
func printShopDemo(w io.Writer, platformURL, odooURL, db string) {
	fmt.Fprintf(w, "  Fake Taobao platform: %s\n", platformURL)
	fmt.Fprintln(w, "  Sync its demo shop into the emulator (repeat the second command: nothing changes):")
	fmt.Fprintf(w, "    plangate shop add --store shops.db --name demo --platform %s --api-url %s --app-key %s --app-secret %s --session-key %s "+
		"--order-prefix TB --shipping-product 1 --discount-product 2 --gift-product 3 --stock-location 8\n",
		shop.PlatformTaobaoSandbox, platformURL, fakeshop.DemoAppKey, fakeshop.DemoSecret, fakeshop.DemoSession)
	fmt.Fprintf(w, "    plangate shop sync --store shops.db --name demo --odoo-url %s --database %s --password admin --from '%s' --to '%s'\n",
		odooURL, db, shop.FormatTime(fakeshop.DemoEpoch.AddDate(0, 0, -20)), shop.FormatTime(fakeshop.DemoEpoch.AddDate(0, 0, 10)))
}
