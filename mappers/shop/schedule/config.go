package schedule

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Job names a scheduled job; it is also the key of its mark in the store
// and the job label of its metrics.
type Job string

// The jobs.
const (
	Orders        Job = "orders"         // order import over a time window
	Stock         Job = "stock"          // stock push
	MissingOrders Job = "missing_orders" // the check for orders not in Odoo
)

// Jobs lists every job, in the order their runs start.
var Jobs = []Job{Orders, Stock, MissingOrders}

// DefaultStatus is the trade status imported and checked by default:
// paid, waiting to be shipped.
const DefaultStatus = "WAIT_SELLER_SEND_GOODS"

// MinInterval is the shortest interval a job may be given: shorter ones
// would keep the platform and Odoo busy for nothing.
const MinInterval = time.Second

// Config says which shops the scheduler syncs, as whom, and how often.
// The YAML keys are those of plangate's configuration file (schedule:).
type Config struct {
	// Database is the Odoo database whose shops are synced.
	Database string `yaml:"database"`
	// Login is the Odoo user the jobs run as: it needs the rights of the
	// shop API's managers (sales orders, partners, stock).
	Login string `yaml:"login"`
	// Password is the login's. It is never read from the configuration
	// file itself (plangate takes it from an environment variable or
	// PasswordFile) and never logged.
	Password string `yaml:"password"`
	// PasswordFile holds the password (a trailing newline is dropped).
	PasswordFile string `yaml:"password_file"`
	// Shops are the shops synced; empty: every shop of Database, as
	// found at each run.
	Shops []string `yaml:"shops"`

	Orders        OrdersConfig  `yaml:"orders"`
	Stock         StockConfig   `yaml:"stock"`
	MissingOrders MissingConfig `yaml:"missing_orders"`
}

// OrdersConfig schedules the order import. Each run imports the trades
// created in [end of the last completed window − Overlap, now); a shop's
// first run starts Lookback before now.
type OrdersConfig struct {
	Every    time.Duration `yaml:"every"`    // 0: not scheduled
	Status   string        `yaml:"status"`   // default DefaultStatus
	Lookback time.Duration `yaml:"lookback"` // default 24h
	// Overlap covers trades that reach the platform's listing late; the
	// import skips those already imported (default 10m).
	Overlap time.Duration `yaml:"overlap"`
}

// StockConfig schedules the stock push.
type StockConfig struct {
	Every time.Duration `yaml:"every"` // 0: not scheduled
}

// MissingConfig schedules the missing-order check: the trades created
// in [now − Lookback, now − Delay) that have no sales order in Odoo.
type MissingConfig struct {
	Every    time.Duration `yaml:"every"`    // 0: not scheduled
	Status   string        `yaml:"status"`   // default: the order import's
	Lookback time.Duration `yaml:"lookback"` // default 24h
	// Delay leaves the newest trades to the order import, so that a
	// trade it is about to import is not reported (default 30m).
	Delay time.Duration `yaml:"delay"`
}

// IsZero reports a configuration with nothing set: no scheduler.
func (c Config) IsZero() bool {
	return c.Database == "" && c.Login == "" && c.Password == "" && c.PasswordFile == "" && len(c.Shops) == 0 &&
		c.Orders == (OrdersConfig{}) && c.Stock == (StockConfig{}) && c.MissingOrders == (MissingConfig{})
}

// WithDefaults fills what is unset with its default.
func (c Config) WithDefaults() Config {
	if c.Orders.Status == "" {
		c.Orders.Status = DefaultStatus
	}
	if c.Orders.Lookback == 0 {
		c.Orders.Lookback = 24 * time.Hour
	}
	if c.Orders.Overlap == 0 {
		c.Orders.Overlap = 10 * time.Minute
	}
	if c.MissingOrders.Status == "" {
		c.MissingOrders.Status = c.Orders.Status
	}
	if c.MissingOrders.Lookback == 0 {
		c.MissingOrders.Lookback = 24 * time.Hour
	}
	if c.MissingOrders.Delay == 0 {
		c.MissingOrders.Delay = 30 * time.Minute
	}
	c.Shops = append([]string(nil), c.Shops...)
	return c
}

// Every is the interval of job (0: not scheduled).
func (c Config) Every(job Job) time.Duration {
	switch job {
	case Orders:
		return c.Orders.Every
	case Stock:
		return c.Stock.Every
	case MissingOrders:
		return c.MissingOrders.Every
	}
	return 0
}

// Validate checks a configuration after WithDefaults and the password
// were filled in. Errors name the keys under schedule.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("schedule."+format, a...)) }
	if c.Database == "" {
		bad("database: required (or odoo.database): the shops of which Odoo database")
	}
	if c.Login == "" {
		bad("login: required: the Odoo user the scheduled jobs run as")
	}
	if c.Password == "" {
		bad("password: none given (PLANGATE_SCHEDULE_PASSWORD or schedule.password_file)")
	}
	seen := map[string]bool{}
	for i, s := range c.Shops {
		switch {
		case s == "":
			bad("shops[%d]: empty name", i)
		case seen[s]:
			bad("shops[%d]: %q listed twice", i, s)
		}
		seen[s] = true
	}
	some := false
	for _, job := range Jobs {
		d := c.Every(job)
		switch {
		case d < 0:
			bad("%s.every: %v is negative (leave it out, or 0, to not schedule the job)", job, d)
		case d > 0 && d < MinInterval:
			bad("%s.every: %v is shorter than %v", job, d, MinInterval)
		}
		some = some || d > 0
	}
	if !some {
		bad("orders.every, stock.every, missing_orders.every: none is set, so nothing would run")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"orders.lookback", c.Orders.Lookback}, {"orders.overlap", c.Orders.Overlap},
		{"missing_orders.lookback", c.MissingOrders.Lookback}, {"missing_orders.delay", c.MissingOrders.Delay},
	} {
		if d.v < 0 {
			bad("%s: %v is negative", d.key, d.v)
		}
	}
	if c.MissingOrders.Every > 0 && c.MissingOrders.Delay >= c.MissingOrders.Lookback {
		bad("missing_orders.delay: %v is not shorter than missing_orders.lookback %v: the window would be empty",
			c.MissingOrders.Delay, c.MissingOrders.Lookback)
	}
	return errors.Join(errs...)
}

// LogValue shows the configuration without its password.
func (c Config) LogValue() slog.Value {
	shops := any("all of the database")
	if len(c.Shops) > 0 {
		shops = c.Shops
	}
	return slog.GroupValue(
		slog.String("database", c.Database), slog.String("login", c.Login), slog.Any("shops", shops),
		slog.Duration("orders", c.Orders.Every), slog.Duration("stock", c.Stock.Every),
		slog.Duration("missing_orders", c.MissingOrders.Every))
}
