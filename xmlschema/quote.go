package xmlschema

import (
	"strings"
	"unicode/utf8"
)

// QuoteAttr quotes an attribute value the way Python's
// xml.sax.saxutils.quoteattr does, which the addon uses for every attribute:
// &, <, > and the whitespace controls \n \r \t are escaped; the value is put
// in double quotes unless it contains " but not ', then in single quotes;
// with both, " becomes &quot;. Characters XML 1.0 forbids are dropped (the
// addon leaves them in and the planner then aborts; the spec asks us to drop them).
func QuoteAttr(s string) string {
	s = CleanText(s)
	var b strings.Builder
	b.Grow(len(s) + 2)
	hasDQ := strings.IndexByte(s, '"') >= 0
	hasSQ := strings.IndexByte(s, '\'') >= 0
	q := byte('"')
	if hasDQ && !hasSQ {
		q = '\''
	}
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\n':
			b.WriteString("&#10;")
		case '\r':
			b.WriteString("&#13;")
		case '\t':
			b.WriteString("&#9;")
		case '"':
			if q == '"' {
				b.WriteString("&quot;")
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// EscapeText escapes character data like Python's xml.sax.saxutils.escape (&, <, >).
func EscapeText(s string) string {
	s = CleanText(s)
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// CleanText removes characters that are not allowed in XML 1.0 documents
// and replaces invalid UTF-8 with U+FFFD.
func CleanText(s string) string {
	ok := utf8.ValidString(s)
	for _, r := range s {
		if !validXMLRune(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s { // invalid UTF-8 decodes as U+FFFD, which is kept
		if validXMLRune(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func validXMLRune(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}
