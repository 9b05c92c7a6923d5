package store

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Buckets of the e-commerce shop sync.
const (
	bucketShops      = "shops"       // shop name → Shop (with secrets)
	bucketShopItems  = "shop_items"  // shop\x00item\x00sku → ItemMapping
	bucketShopTrades = "shop_trades" // shop\x00tid → TradeMapping
	bucketShopStock  = "shop_stock"  // shop\x00location\x00product → StockSync
	bucketShopPushes = "shop_pushes" // shop\x00location\x00product\x00time → StockPush
)

var (
	shopsB      = top(bucketShops)
	shopItemsB  = top(bucketShopItems)
	shopTradesB = top(bucketShopTrades)
	shopStockB  = top(bucketShopStock)
	shopPushesB = top(bucketShopPushes)
)

func init() {
	registerBuckets(bucketShops, bucketShopItems, bucketShopTrades, bucketShopStock, bucketShopPushes)
}

// ErrNotFound is returned when a named shop or record does not exist.
var ErrNotFound = errors.New("store: not found")

// Errors of saving a shop.
var (
	// ErrShopExists: a create found a shop of that name (of any database:
	// names are unique in the file, records are keyed by them).
	ErrShopExists = errors.New("store: a shop of that name exists")
	// ErrOtherDatabase: the shop of that name belongs to another database.
	ErrOtherDatabase = errors.New("store: the shop belongs to another database")
	// ErrSecretsRequired: an update moves the shop to another platform,
	// API URL or token URL without sending its secrets again. Keeping them would let
	// whoever may edit a shop, without knowing its secrets, have them
	// signed and sent to a host of their choosing.
	ErrSecretsRequired = errors.New("store: changing platform, api_url or token_url needs the secrets again")
)

// Shop is a configured marketplace shop. The credentials are kept here;
// callers that show a shop (API, CLI) must use Redacted.
type Shop struct {
	Name string `json:"name"`
	// Database is the Odoo database the shop belongs to: only its users
	// see and manage it through the API. Empty: saved before shops had an
	// owner (see AdoptShops); on save, empty keeps the stored owner.
	Database string `json:"database,omitempty"`
	Platform string `json:"platform"`
	// OrderPrefix is put before every imported sales order name.
	OrderPrefix string `json:"order_prefix"`
	// Odoo products (product.product ids) used for the extra order lines.
	ShippingProduct int `json:"shipping_product,omitempty"`
	DiscountProduct int `json:"discount_product,omitempty"`
	GiftProduct     int `json:"gift_product,omitempty"`
	// SalesJournal is the account.journal id of the shop's sales.
	SalesJournal int `json:"sales_journal,omitempty"`
	// StockLocation is the Odoo stock.location whose available quantity
	// (children included) is pushed; imported products get a stock-sync
	// record there (0: none made automatically).
	StockLocation int `json:"stock_location,omitempty"`
	// Credentials of the platform API.
	AppKey     string `json:"app_key"`
	AppSecret  string `json:"app_secret,omitempty"`
	SessionKey string `json:"session_key,omitempty"`
	APIURL     string `json:"api_url"`
	// SignMethod is "md5" (default) or "hmac".
	SignMethod string `json:"sign_method,omitempty"`
	// NewStockSyncsEnabled is the policy for the stock-sync records that
	// product imports and mappings create: false (the default) makes them
	// disabled, so nothing is pushed to the platform before someone turns
	// them on; true makes them enabled at once.
	NewStockSyncsEnabled bool `json:"new_stock_syncs_enabled,omitempty"`
	// OAuth of live sellers (the authorization-code flow): where the
	// seller authorises the app (AuthURL) and where the code is exchanged
	// for the Session Key (TokenURL); empty: the platform's. RedirectURI
	// is the callback registered with the app, normally this gateway's
	// /shops/{name}/oauth-callback?database=….
	AuthURL     string `json:"auth_url,omitempty"`
	TokenURL    string `json:"token_url,omitempty"`
	RedirectURI string `json:"redirect_uri,omitempty"`
	// RefreshToken renews the Session Key (a secret, like it).
	RefreshToken string `json:"refresh_token,omitempty"`
	// SessionExpires is when the Session Key from the last authorisation
	// expires; SellerNick is the seller who granted it.
	SessionExpires time.Time `json:"session_expires,omitzero"`
	SellerNick     string    `json:"seller_nick,omitempty"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
}

// Redacted returns the shop without its secrets (App Secret, Session Key,
// Refresh Token).
func (s Shop) Redacted() Shop {
	s.AppSecret, s.SessionKey, s.RefreshToken = "", "", ""
	return s
}

// ItemMapping links a platform item or SKU of a shop to Odoo records.
type ItemMapping struct {
	Shop     string    `json:"shop"`
	ItemID   string    `json:"item_id"`
	SKUID    string    `json:"sku_id,omitempty"` // "" for an item without SKUs
	Template int       `json:"template"`
	Product  int       `json:"product"`
	Modified string    `json:"modified,omitempty"` // platform modified time last imported
	Updated  time.Time `json:"updated"`
	// Source says where the Odoo records came from: MappingCreated (or
	// empty, before sources were kept), MappingMatched or MappingManual.
	// Imports rewrite only the records they created.
	Source string `json:"source,omitempty"`
}

// Sources of an item mapping.
const (
	MappingCreated = "created" // the import created the template/product
	MappingMatched = "matched" // an existing product with the SKU's outer id as internal reference
	MappingManual  = "manual"  // mapped explicitly (plangate shop map, PUT /shops/{name}/items/…)
)

// Ours reports whether the import created the mapped records (and may rewrite them).
func (m ItemMapping) Ours() bool { return m.Source == "" || m.Source == MappingCreated }

// TradeMapping is the claim of one platform trade by one sales order.
// A trade is reserved (Order 0) before the order is created, so two
// overlapping imports never create it twice.
type TradeMapping struct {
	Shop     string    `json:"shop"`
	TradeID  string    `json:"tid"`
	Order    int       `json:"order,omitempty"`
	Name     string    `json:"name"`
	Reserved time.Time `json:"reserved"`
	Done     bool      `json:"done"`
	// Attempts counts the reservations; a takeover names the attempt it
	// replaces, so two imports never both take over one trade.
	Attempts int `json:"attempts,omitempty"`
	// Failed: the last attempt failed before creating the order (Error
	// says why, at FailedAt); the next import retries it at once.
	Failed   bool      `json:"failed,omitempty"`
	Error    string    `json:"error,omitempty"`
	FailedAt time.Time `json:"failed_at,omitzero"`
}

// StockSync says that product's available quantity at an Odoo location is
// pushed to a shop's item/SKU.
type StockSync struct {
	Shop     string `json:"shop"`
	Location int    `json:"location"`
	Product  int    `json:"product"`
	ItemID   string `json:"item_id,omitempty"`
	SKUID    string `json:"sku_id,omitempty"`
	Sync     bool   `json:"sync"`
	// Changed is when Sync was last set by hand (zero: never).
	Changed time.Time `json:"changed,omitzero"`
	// LastQty is the quantity last pushed successfully (LastPushed zero: never).
	LastQty    float64   `json:"last_qty"`
	LastPushed time.Time `json:"last_pushed,omitzero"`
	// Pending is set while the last attempt failed; it is retried next run.
	Pending   bool   `json:"pending,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// StockPush records one push attempt.
type StockPush struct {
	Shop     string    `json:"shop"`
	Location int       `json:"location"`
	Product  int       `json:"product"`
	Time     time.Time `json:"time"`
	Quantity float64   `json:"quantity"`
	OK       bool      `json:"ok"`
	Error    string    `json:"error,omitempty"`
}

func key(parts ...string) []byte {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p)
	}
	return b.Bytes()
}

// SaveShop creates or replaces a shop. Empty secrets keep the stored ones,
// so an update need not resend them, except when it changes the platform
// or the API URL (ErrSecretsRequired). A shop of another database is not
// replaced (ErrOtherDatabase).
func (s *Store) SaveShop(sh Shop, now time.Time) error { return s.saveShop(sh, now, false) }

// CreateShop saves a new shop; ErrShopExists when the name is taken.
func (s *Store) CreateShop(sh Shop, now time.Time) error { return s.saveShop(sh, now, true) }

func (s *Store) saveShop(sh Shop, now time.Time, create bool) error {
	if sh.Name == "" {
		return fmt.Errorf("save shop: empty name")
	}
	if strings.ContainsRune(sh.Name, 0) {
		// NUL separates the parts of record keys: such a name would reach
		// into another shop's records.
		return fmt.Errorf("save shop %q: the name contains a NUL byte", sh.Name)
	}
	in := sh
	return s.kv.update(func(tx txn) error {
		sh := in // the update may run again
		var old Shop
		found, err := getJSON(tx, shopsB, []byte(sh.Name), &old)
		if err != nil {
			return fmt.Errorf("save shop %s: %w", sh.Name, err)
		}
		if !found {
			sh.Created, sh.Updated = now, now
			return putJSON(tx, shopsB, []byte(sh.Name), sh)
		}
		switch {
		case create:
			return fmt.Errorf("create shop %q: %w", sh.Name, ErrShopExists)
		case sh.Database == "":
			sh.Database = old.Database
		case sh.Database != old.Database:
			return fmt.Errorf("save shop %q: %w", sh.Name, ErrOtherDatabase)
		}
		// The token URL receives the App Secret too.
		moved := sh.Platform != old.Platform || sh.APIURL != old.APIURL || sh.TokenURL != old.TokenURL
		if sh.RefreshToken == "" && !moved {
			// A refresh token is the platform's: moving drops it.
			sh.RefreshToken = old.RefreshToken
		}
		for _, sec := range []struct {
			name, old string
			cur       *string
		}{
			{"app_secret", old.AppSecret, &sh.AppSecret},
			{"session_key", old.SessionKey, &sh.SessionKey},
		} {
			if *sec.cur != "" || sec.old == "" {
				continue
			}
			if moved {
				return fmt.Errorf("save shop %q: %s missing: %w", sh.Name, sec.name, ErrSecretsRequired)
			}
			*sec.cur = sec.old
		}
		sh.Created, sh.Updated = old.Created, now
		return putJSON(tx, shopsB, []byte(sh.Name), sh)
	})
}

// AdoptShops gives the shops saved without a database (before shops had
// owners) to db, in one transaction, and returns their names.
func (s *Store) AdoptShops(db string) ([]string, error) {
	if db == "" {
		return nil, fmt.Errorf("adopt shops: empty database")
	}
	var adopted []string
	err := s.kv.update(func(tx txn) error {
		adopted = adopted[:0]
		var orphans []Shop
		err := tx.scan(shopsB, scanSpec{}, func(k, v []byte) error {
			var sh Shop
			if err := jsonUnmarshal(v, &sh); err != nil {
				return fmt.Errorf("decode shop %s: %w", k, err)
			}
			if sh.Database == "" {
				orphans = append(orphans, sh)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, sh := range orphans { // not inside the scan: bbolt forbids changing a bucket it iterates
			sh.Database = db
			if err := putJSON(tx, shopsB, []byte(sh.Name), sh); err != nil {
				return err
			}
			adopted = append(adopted, sh.Name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("adopt shops into %s: %w", db, err)
	}
	return adopted, nil
}

// Shop returns a shop with its secrets.
func (s *Store) Shop(name string) (Shop, error) {
	var sh Shop
	err := s.kv.view(func(r reader) error {
		found, err := getJSON(r, shopsB, []byte(name), &sh)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return Shop{}, fmt.Errorf("shop %q: %w", name, err)
	}
	return sh, nil
}

// Shops lists every shop (with secrets) by name.
func (s *Store) Shops() ([]Shop, error) {
	var out []Shop
	err := s.kv.view(func(r reader) error {
		out = out[:0]
		return r.scan(shopsB, scanSpec{}, func(k, v []byte) error {
			var sh Shop
			if err := jsonUnmarshal(v, &sh); err != nil {
				return fmt.Errorf("decode shop %s: %w", k, err)
			}
			out = append(out, sh)
			return nil
		})
	})
	return out, err
}

// DeleteShop removes a shop and every record kept for it.
func (s *Store) DeleteShop(name string) error { return s.deleteShop(name, nil) }

// DeleteShopOf removes a shop of database db and every record kept for
// it; a shop of another database is ErrNotFound, checked in the same
// transaction as the delete.
func (s *Store) DeleteShopOf(db, name string) error { return s.deleteShop(name, &db) }

func (s *Store) deleteShop(name string, db *string) error {
	return s.kv.update(func(tx txn) error {
		var sh Shop
		found, err := getJSON(tx, shopsB, []byte(name), &sh)
		if err != nil {
			return fmt.Errorf("delete shop %q: %w", name, err)
		}
		if !found || (db != nil && sh.Database != *db) {
			return fmt.Errorf("delete shop %q: %w", name, ErrNotFound)
		}
		if err := tx.del(shopsB, []byte(name)); err != nil {
			return err
		}
		prefix := append([]byte(name), 0)
		for _, b := range []bucket{shopItemsB, shopTradesB, shopStockB, shopPushesB, shopScheduleB} {
			if err := tx.delPrefix(b, prefix); err != nil {
				return fmt.Errorf("delete shop %q from %s: %w", name, b[0], err)
			}
		}
		return nil
	})
}

// PutItemMapping records where an item/SKU went in Odoo.
func (s *Store) PutItemMapping(m ItemMapping) error {
	return s.kv.update(func(tx txn) error {
		return putJSON(tx, shopItemsB, key(m.Shop, m.ItemID, m.SKUID), m)
	})
}

// ItemMapping returns the mapping of an item/SKU (sku "" for the item itself).
func (s *Store) ItemMapping(shop, item, sku string) (ItemMapping, bool, error) {
	var m ItemMapping
	var found bool
	err := s.kv.view(func(r reader) error {
		var err error
		found, err = getJSON(r, shopItemsB, key(shop, item, sku), &m)
		return err
	})
	return m, found, err
}

// ItemMappings lists a shop's item/SKU mappings in key order.
func (s *Store) ItemMappings(shop string) ([]ItemMapping, error) {
	var out []ItemMapping
	err := s.scan(bucketShopItems, shop, func(v []byte) error {
		var m ItemMapping
		if err := jsonUnmarshal(v, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

func (s *Store) scan(bucketName, shop string, fn func(v []byte) error) error {
	prefix := append([]byte(shop), 0)
	return s.kv.view(func(r reader) error {
		return r.scan(top(bucketName), scanSpec{prefix: prefix}, func(k, v []byte) error {
			if err := fn(v); err != nil {
				return fmt.Errorf("decode %s %q: %w", bucketName, k, err)
			}
			return nil
		})
	})
}

// ReserveTrade claims a trade for import in one transaction. It returns
// the existing mapping and false when the trade was already claimed (by a
// finished import or one still running or crashed: the caller then looks
// the order up in Odoo by name), or the new reservation and true.
func (s *Store) ReserveTrade(shop, tid, name string, now time.Time) (TradeMapping, bool, error) {
	var m TradeMapping
	var fresh bool
	err := s.kv.update(func(tx txn) error {
		m, fresh = TradeMapping{}, false
		found, err := getJSON(tx, shopTradesB, key(shop, tid), &m)
		if err != nil || found {
			return err
		}
		m = TradeMapping{Shop: shop, TradeID: tid, Name: name, Reserved: now, Attempts: 1}
		fresh = true
		return putJSON(tx, shopTradesB, key(shop, tid), m)
	})
	if err != nil {
		return TradeMapping{}, false, fmt.Errorf("reserve trade %s/%s: %w", shop, tid, err)
	}
	return m, fresh, nil
}

// CompleteTrade records the sales order created for a reserved trade
// (and forgets an earlier attempt's failure).
func (s *Store) CompleteTrade(shop, tid string, order int) error {
	return s.CompleteTradeNote(shop, tid, order, "")
}

// CompleteTradeNote is CompleteTrade keeping note as the trade's Error:
// the order exists, but something after its creation failed (its
// confirmation, say). The trade is done: it is not imported again.
func (s *Store) CompleteTradeNote(shop, tid string, order int, note string) error {
	return s.kv.update(func(tx txn) error {
		var m TradeMapping
		found, err := getJSON(tx, shopTradesB, key(shop, tid), &m)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("complete trade %s/%s: %w", shop, tid, ErrNotFound)
		}
		m.Order, m.Done, m.Failed, m.Error = order, true, false, note
		return putJSON(tx, shopTradesB, key(shop, tid), m)
	})
}

// TakeOverTrade reserves a trade again for a new attempt, in one
// transaction, if it is still as seen: not done and at the same attempt
// (a failed one, or a stale reservation). It returns the new reservation
// and true, or the stored mapping and false when another import moved it
// on first.
func (s *Store) TakeOverTrade(seen TradeMapping, now time.Time) (TradeMapping, bool, error) {
	var m TradeMapping
	var won bool
	err := s.kv.update(func(tx txn) error {
		m, won = TradeMapping{}, false
		found, err := getJSON(tx, shopTradesB, key(seen.Shop, seen.TradeID), &m)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if m.Done || m.Attempts != seen.Attempts {
			return nil
		}
		// The failure stays readable until the new attempt ends.
		m.Reserved, m.Attempts, m.Failed, won = now, m.Attempts+1, false, true
		return putJSON(tx, shopTradesB, key(seen.Shop, seen.TradeID), m)
	})
	if err != nil {
		return TradeMapping{}, false, fmt.Errorf("take over trade %s/%s: %w", seen.Shop, seen.TradeID, err)
	}
	return m, won, nil
}

// FailTrade releases the reservation of attempt m (as ReserveTrade or
// TakeOverTrade returned it) with the reason it failed, so that the next
// import retries the trade at once. An attempt that another import has
// taken over meanwhile is left alone.
func (s *Store) FailTrade(m TradeMapping, reason string, now time.Time) error {
	err := s.kv.update(func(tx txn) error {
		var cur TradeMapping
		found, err := getJSON(tx, shopTradesB, key(m.Shop, m.TradeID), &cur)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if cur.Done || cur.Attempts != m.Attempts {
			return nil
		}
		cur.Failed, cur.Error, cur.FailedAt = true, reason, now
		return putJSON(tx, shopTradesB, key(m.Shop, m.TradeID), cur)
	})
	if err != nil {
		return fmt.Errorf("record failed trade %s/%s: %w", m.Shop, m.TradeID, err)
	}
	return nil
}

// SetShopSession stores what an authorisation of the seller gave: the
// Session Key, its refresh token and expiry, the seller's nick. Only the
// shop of database db is changed (ErrNotFound otherwise).
func (s *Store) SetShopSession(db, name, session, refresh string, expires time.Time, nick string, now time.Time) error {
	if session == "" {
		return fmt.Errorf("set session of shop %q: empty session key", name)
	}
	err := s.kv.update(func(tx txn) error {
		var sh Shop
		found, err := getJSON(tx, shopsB, []byte(name), &sh)
		if err != nil {
			return err
		}
		if !found || sh.Database != db {
			return ErrNotFound
		}
		sh.SessionKey, sh.RefreshToken, sh.SessionExpires, sh.SellerNick, sh.Updated = session, refresh, expires, nick, now
		return putJSON(tx, shopsB, []byte(name), sh)
	})
	if err != nil {
		return fmt.Errorf("set session of shop %q: %w", name, err)
	}
	return nil
}

// Trade returns the mapping of a trade.
func (s *Store) Trade(shop, tid string) (TradeMapping, bool, error) {
	var m TradeMapping
	var found bool
	err := s.kv.view(func(r reader) error {
		var err error
		found, err = getJSON(r, shopTradesB, key(shop, tid), &m)
		return err
	})
	return m, found, err
}

// Trades lists a shop's trade mappings.
func (s *Store) Trades(shop string) ([]TradeMapping, error) {
	var out []TradeMapping
	err := s.scan(bucketShopTrades, shop, func(v []byte) error {
		var m TradeMapping
		if err := jsonUnmarshal(v, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

func stockKey(shop string, location, product int) []byte {
	return key(shop, fmt.Sprintf("%010d", location), fmt.Sprintf("%010d", product))
}

// PutStockSync creates or replaces a stock-sync record.
func (s *Store) PutStockSync(r StockSync) error {
	return s.kv.update(func(tx txn) error {
		return putJSON(tx, shopStockB, stockKey(r.Shop, r.Location, r.Product), r)
	})
}

// StockSync returns one stock-sync record.
func (s *Store) StockSync(shop string, location, product int) (StockSync, bool, error) {
	var r StockSync
	var found bool
	err := s.kv.view(func(rd reader) error {
		var err error
		found, err = getJSON(rd, shopStockB, stockKey(shop, location, product), &r)
		return err
	})
	return r, found, err
}

// SetStockSync turns the push of a stock-sync record on or off
// (ErrNotFound: no such record). Turning it on marks it pending, so the
// next run pushes the current quantity even if it equals the last one
// pushed: the platform's may have moved while it was off.
func (s *Store) SetStockSync(shop string, location, product int, sync bool, now time.Time) (StockSync, error) {
	var r StockSync
	err := s.kv.update(func(tx txn) error {
		r = StockSync{}
		k := stockKey(shop, location, product)
		found, err := getJSON(tx, shopStockB, k, &r)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if sync && !r.Sync {
			r.Pending = true
		}
		r.Sync, r.Changed = sync, now
		return putJSON(tx, shopStockB, k, r)
	})
	if err != nil {
		return StockSync{}, fmt.Errorf("set stock sync %s/%d/%d: %w", shop, location, product, err)
	}
	return r, nil
}

// DeleteStockSync removes a stock-sync record (its push history stays).
func (s *Store) DeleteStockSync(shop string, location, product int) error {
	return s.kv.update(func(tx txn) error {
		return tx.del(shopStockB, stockKey(shop, location, product))
	})
}

// StockSyncs lists a shop's stock-sync records.
func (s *Store) StockSyncs(shop string) ([]StockSync, error) {
	var out []StockSync
	err := s.scan(bucketShopStock, shop, func(v []byte) error {
		var r StockSync
		if err := jsonUnmarshal(v, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// RecordPush stores a push attempt and updates its stock-sync record in one
// transaction: on success the pushed quantity becomes the last one, on
// failure the record stays pending so the next run retries it.
func (s *Store) RecordPush(p StockPush) error {
	return s.kv.update(func(tx txn) error {
		k := stockKey(p.Shop, p.Location, p.Product)
		var r StockSync
		found, err := getJSON(tx, shopStockB, k, &r)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("record push %s/%d/%d: %w", p.Shop, p.Location, p.Product, ErrNotFound)
		}
		if p.OK {
			r.LastQty, r.LastPushed, r.Pending, r.LastError = p.Quantity, p.Time, false, ""
		} else {
			r.Pending, r.LastError = true, p.Error
		}
		if err := putJSON(tx, shopStockB, k, r); err != nil {
			return err
		}
		pk := append(append([]byte(nil), k...), 0)
		pk = append(pk, []byte(p.Time.UTC().Format("20060102T150405.000000000"))...)
		return putJSON(tx, shopPushesB, pk, p)
	})
}

// StockPushes lists a shop's push history, oldest first.
func (s *Store) StockPushes(shop string) ([]StockPush, error) {
	var out []StockPush
	err := s.scan(bucketShopPushes, shop, func(v []byte) error {
		var p StockPush
		if err := jsonUnmarshal(v, &p); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, err
}
