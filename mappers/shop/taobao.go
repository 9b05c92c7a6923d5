package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plangate/plangate/store"
)

// Platform names of TOP; the sandbox is the same protocol at another URL.
const (
	PlatformTaobao        = "taobao"
	PlatformTaobaoSandbox = "taobao-sandbox"
)

// Default REST router URLs of TOP.
const (
	TaobaoURL        = "https://eco.taobao.com/router/rest"
	TaobaoSandboxURL = "https://gw.api.tbsandbox.com/router/rest"
)

func init() {
	Register(PlatformTaobao, func(sh store.Shop) (Platform, error) { return NewTaobao(sh, TaobaoURL), nil })
	Register(PlatformTaobaoSandbox, func(sh store.Shop) (Platform, error) { return NewTaobao(sh, TaobaoSandboxURL), nil })
}

// TOPError is an error_response of TOP.
type TOPError struct {
	Method  string
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"sub_code"`
	SubMsg  string `json:"sub_msg"`
}

func (e *TOPError) Error() string {
	return fmt.Sprintf("%s: top error %d %s (%s: %s)", e.Method, e.Code, e.Msg, e.SubCode, e.SubMsg)
}

// UnreachableError is a platform call that got no usable answer: no
// connection, no answer in time, a broken or 5xx response.
type UnreachableError struct {
	Method string
	Err    error
}

func (e *UnreachableError) Error() string {
	return e.Method + ": platform unreachable: " + e.Err.Error()
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// Temporary reports whether a retry may succeed: call limits (code 7,
// accesscontrol.limited) and the platform's own isp.* failures.
func (e *TOPError) Temporary() bool {
	return e.Code == 7 || strings.HasPrefix(e.SubCode, "isp.") || strings.Contains(e.SubCode, "limited")
}

// Taobao is a TOP client. Its fields may be set before first use.
type Taobao struct {
	URL        string
	AppKey     string
	AppSecret  string
	Session    string
	SignMethod string
	// HTTP is the client (nil: http.DefaultClient).
	HTTP *http.Client
	// Retries is how many times a temporary failure is retried (default 4).
	Retries int
	// Backoff is the first retry's wait, doubled each time (default 500ms).
	Backoff time.Duration
	// PageSize is the page size of list calls (default 100).
	PageSize int
	// Now gives the request timestamp (nil: time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// NewTaobao makes a client for a shop; the shop's API URL wins over def.
func NewTaobao(sh store.Shop, def string) *Taobao {
	u := sh.APIURL
	if u == "" {
		u = def
	}
	return &Taobao{URL: u, AppKey: sh.AppKey, AppSecret: sh.AppSecret, Session: sh.SessionKey, SignMethod: sh.SignMethod,
		Retries: 4, Backoff: 500 * time.Millisecond, PageSize: 100}
}

// Call invokes a TOP method and returns the body of its
// <method_with_underscores>_response envelope, retrying temporary failures.
func (t *Taobao) Call(ctx context.Context, method string, params map[string]string) (json.RawMessage, error) {
	wait := t.Backoff
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	retries := t.Retries
	for attempt := 0; ; attempt++ {
		body, err := t.call(ctx, method, params)
		if err == nil {
			return body, nil
		}
		var te *TOPError
		temporary := !errors.As(err, &te) || te.Temporary()
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || !temporary || attempt >= retries {
			return nil, err
		}
		t.logger().Warn("top call failed, retrying", "method", method, "attempt", attempt+1, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w", method, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (t *Taobao) logger() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.Default()
}

func (t *Taobao) call(ctx context.Context, method string, params map[string]string) (json.RawMessage, error) {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	sm := t.SignMethod
	if sm == "" {
		sm = SignMD5
	}
	p := map[string]string{
		"method": method, "app_key": t.AppKey, "session": t.Session,
		"timestamp": FormatTime(now()), "format": "json", "v": "2.0", "sign_method": sm,
	}
	for k, v := range params {
		p[k] = v
	}
	form := url.Values{}
	for k, v := range p {
		if v != "" {
			form.Set(k, v)
		}
	}
	form.Set("sign", Sign(p, t.AppSecret, sm))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	hc := t.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &UnreachableError{Method: method, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &UnreachableError{Method: method, Err: fmt.Errorf("read response: %w", err)}
	}
	if resp.StatusCode >= 500 {
		return nil, &UnreachableError{Method: method, Err: fmt.Errorf("http %s", resp.Status)}
	}
	var env map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return nil, &TOPError{Method: method, Code: -1, Msg: "bad response", SubCode: "isp.bad-response", SubMsg: err.Error()}
	}
	if raw, ok := env["error_response"]; ok {
		e := &TOPError{Method: method}
		if err := json.Unmarshal(raw, e); err != nil {
			return nil, fmt.Errorf("%s: decode error_response: %w", method, err)
		}
		return nil, e
	}
	name := strings.ReplaceAll(strings.TrimPrefix(method, "taobao."), ".", "_") + "_response"
	raw, ok := env[name]
	if !ok {
		return nil, fmt.Errorf("%s: response has no %s", method, name)
	}
	return raw, nil
}

// flex reads a JSON string or number as text (TOP sends ids as numbers and
// money as strings).
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flex(s)
		return nil
	}
	*f = flex(strings.TrimSpace(string(b)))
	return nil
}

func (f flex) float() float64 { v, _ := strconv.ParseFloat(string(f), 64); return v }
func (f flex) int() int       { v, _ := strconv.Atoi(string(f)); return v }
func (f flex) time() time.Time {
	t, _ := ParseTime(string(f))
	return t
}

type topSKU struct {
	SkuID          flex `json:"sku_id"`
	NumIID         flex `json:"num_iid"`
	OuterID        flex `json:"outer_id"`
	PropertiesName flex `json:"properties_name"`
	Price          flex `json:"price"`
	Quantity       flex `json:"quantity"`
}

type topItem struct {
	NumIID   flex `json:"num_iid"`
	Title    flex `json:"title"`
	OuterID  flex `json:"outer_id"`
	Price    flex `json:"price"`
	Num      flex `json:"num"`
	Modified flex `json:"modified"`
	Skus     struct {
		Sku []topSKU `json:"sku"`
	} `json:"skus"`
}

const itemFields = "num_iid,title,outer_id,price,num,modified"

// Items pages through taobao.items.onsale.get and reads each page's SKUs
// with taobao.item.skus.get.
func (t *Taobao) Items(ctx context.Context, from, to time.Time) ([]Item, error) {
	var out []Item
	size := t.pageSize()
	for page := 1; ; page++ {
		raw, err := t.Call(ctx, "taobao.items.onsale.get", map[string]string{
			"fields": itemFields, "start_modified": FormatTime(from), "end_modified": FormatTime(to),
			"page_no": strconv.Itoa(page), "page_size": strconv.Itoa(size), "order_by": "modified:asc",
		})
		if err != nil {
			return nil, err
		}
		var r struct {
			Total flex `json:"total_results"`
			Items struct {
				Item []topItem `json:"item"`
			} `json:"items"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("taobao.items.onsale.get: decode: %w", err)
		}
		ids := make([]string, 0, len(r.Items.Item))
		for _, it := range r.Items.Item {
			ids = append(ids, string(it.NumIID))
		}
		skus := map[string][]SKU{}
		if len(ids) > 0 {
			raw, err := t.Call(ctx, "taobao.item.skus.get", map[string]string{
				"fields": "sku_id,num_iid,outer_id,properties_name,price,quantity", "num_iids": strings.Join(ids, ","),
			})
			if err != nil {
				return nil, err
			}
			var sr struct {
				Skus struct {
					Sku []topSKU `json:"sku"`
				} `json:"skus"`
			}
			if err := json.Unmarshal(raw, &sr); err != nil {
				return nil, fmt.Errorf("taobao.item.skus.get: decode: %w", err)
			}
			for _, s := range sr.Skus.Sku {
				skus[string(s.NumIID)] = append(skus[string(s.NumIID)], SKU{SKUID: string(s.SkuID), OuterID: string(s.OuterID),
					PropertiesName: string(s.PropertiesName), Price: s.Price.float(), Quantity: s.Quantity.int()})
			}
		}
		for _, it := range r.Items.Item {
			out = append(out, Item{NumIID: string(it.NumIID), Title: string(it.Title), OuterID: string(it.OuterID),
				Price: it.Price.float(), Quantity: it.Num.int(), Modified: it.Modified.time(), SKUs: skus[string(it.NumIID)]})
		}
		if len(r.Items.Item) < size || page*size >= r.Total.int() {
			return out, nil
		}
	}
}

func (t *Taobao) pageSize() int {
	if t.PageSize > 0 {
		return t.PageSize
	}
	return 100
}

// Trades pages through taobao.trades.sold.get (created time window).
func (t *Taobao) Trades(ctx context.Context, status string, from, to time.Time) ([]string, error) {
	var out []string
	size := t.pageSize()
	for page := 1; ; page++ {
		raw, err := t.Call(ctx, "taobao.trades.sold.get", map[string]string{
			"fields": "tid,status,modified", "status": status,
			"start_created": FormatTime(from), "end_created": FormatTime(to),
			"page_no": strconv.Itoa(page), "page_size": strconv.Itoa(size), "use_has_next": "true",
		})
		if err != nil {
			return nil, err
		}
		var r struct {
			HasNext bool `json:"has_next"`
			Trades  struct {
				Trade []struct {
					TID flex `json:"tid"`
				} `json:"trade"`
			} `json:"trades"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("taobao.trades.sold.get: decode: %w", err)
		}
		for _, tr := range r.Trades.Trade {
			out = append(out, string(tr.TID))
		}
		if !r.HasNext {
			return out, nil
		}
	}
}

const tradeFields = "tid,status,buyer_nick,receiver_name,receiver_state,receiver_city,receiver_district,receiver_address," +
	"receiver_zip,receiver_mobile,receiver_phone,buyer_message,seller_memo,post_fee,discount_fee,payment,created,pay_time,modified," +
	"orders.oid,orders.num_iid,orders.sku_id,orders.title,orders.num,orders.price,orders.discount_fee,orders.is_gift"

// Trade reads a trade with taobao.trade.fullinfo.get.
func (t *Taobao) Trade(ctx context.Context, tid string) (Trade, error) {
	raw, err := t.Call(ctx, "taobao.trade.fullinfo.get", map[string]string{"fields": tradeFields, "tid": tid})
	if err != nil {
		return Trade{}, err
	}
	var r struct {
		Trade struct {
			TID          flex `json:"tid"`
			Status       flex `json:"status"`
			BuyerNick    flex `json:"buyer_nick"`
			Name         flex `json:"receiver_name"`
			State        flex `json:"receiver_state"`
			City         flex `json:"receiver_city"`
			District     flex `json:"receiver_district"`
			Address      flex `json:"receiver_address"`
			Zip          flex `json:"receiver_zip"`
			Mobile       flex `json:"receiver_mobile"`
			Phone        flex `json:"receiver_phone"`
			BuyerMessage flex `json:"buyer_message"`
			SellerMemo   flex `json:"seller_memo"`
			PostFee      flex `json:"post_fee"`
			DiscountFee  flex `json:"discount_fee"`
			Payment      flex `json:"payment"`
			Created      flex `json:"created"`
			PayTime      flex `json:"pay_time"`
			Modified     flex `json:"modified"`
			Orders       struct {
				Order []struct {
					OID         flex `json:"oid"`
					NumIID      flex `json:"num_iid"`
					SkuID       flex `json:"sku_id"`
					Title       flex `json:"title"`
					Num         flex `json:"num"`
					Price       flex `json:"price"`
					DiscountFee flex `json:"discount_fee"`
					IsGift      bool `json:"is_gift"`
				} `json:"order"`
			} `json:"orders"`
		} `json:"trade"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return Trade{}, fmt.Errorf("taobao.trade.fullinfo.get %s: decode: %w", tid, err)
	}
	x := r.Trade
	tr := Trade{TID: string(x.TID), Status: string(x.Status), BuyerNick: string(x.BuyerNick),
		Receiver: Address{Name: string(x.Name), State: string(x.State), City: string(x.City), District: string(x.District),
			Address: string(x.Address), Zip: string(x.Zip), Mobile: string(x.Mobile), Phone: string(x.Phone)},
		BuyerMessage: string(x.BuyerMessage), SellerMemo: string(x.SellerMemo),
		PostFee: x.PostFee.float(), DiscountFee: x.DiscountFee.float(), Payment: x.Payment.float(),
		Created: x.Created.time(), PayTime: x.PayTime.time(), Modified: x.Modified.time()}
	for _, o := range x.Orders.Order {
		tr.Orders = append(tr.Orders, OrderLine{OID: string(o.OID), NumIID: string(o.NumIID), SKUID: string(o.SkuID),
			Title: string(o.Title), Num: o.Num.int(), Price: o.Price.float(), DiscountFee: o.DiscountFee.float(), Gift: o.IsGift})
	}
	return tr, nil
}

// UpdateQuantity sets a quantity with taobao.item.quantity.update (type 1: full).
func (t *Taobao) UpdateQuantity(ctx context.Context, item, sku string, qty int) error {
	_, err := t.Call(ctx, "taobao.item.quantity.update", map[string]string{
		"num_iid": item, "sku_id": sku, "quantity": strconv.Itoa(qty), "type": "1",
	})
	return err
}
