package shop

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strings"
	"time"
)

// Sign methods of the Taobao Open Platform.
const (
	SignMD5  = "md5"
	SignHMAC = "hmac"
)

// TimeLayout is TOP's timestamp format; its times are Beijing time (GMT+8).
const TimeLayout = "2006-01-02 15:04:05"

// Beijing is the fixed GMT+8 zone TOP uses (China has no daylight saving).
var Beijing = time.FixedZone("GMT+8", 8*3600)

// FormatTime renders t as a TOP timestamp in GMT+8.
func FormatTime(t time.Time) string { return t.In(Beijing).Format(TimeLayout) }

// ParseTime reads a TOP timestamp (GMT+8).
func ParseTime(s string) (time.Time, error) { return time.ParseInLocation(TimeLayout, s, Beijing) }

// Sign computes the TOP signature of params (without "sign"): the keys
// sorted, each key followed by its value, concatenated; md5 wraps that in
// the secret on both sides and hashes with MD5, hmac uses HMAC-MD5 keyed
// by the secret. Both are upper-case hex. Empty values are skipped, as
// the platform does.
func Sign(params map[string]string, secret, method string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || v == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params[k])
	}
	var sum []byte
	if method == SignHMAC {
		h := hmac.New(md5.New, []byte(secret))
		h.Write([]byte(b.String()))
		sum = h.Sum(nil)
	} else {
		s := md5.Sum([]byte(secret + b.String() + secret))
		sum = s[:]
	}
	return strings.ToUpper(hex.EncodeToString(sum))
}
