package xmlschema

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// readAttr parses `<a x=` + quoted + `/>` and returns the value of x.
func readAttr(quoted string) (string, error) {
	d := xml.NewDecoder(strings.NewReader("<a x=" + quoted + "/>"))
	d.Strict = true
	tok, err := d.Token()
	if err != nil {
		return "", err
	}
	se, ok := tok.(xml.StartElement)
	if !ok || len(se.Attr) != 1 || se.Attr[0].Name.Local != "x" {
		return "", fmt.Errorf("unexpected token %#v", tok)
	}
	return se.Attr[0].Value, nil
}

// readText parses `<a>` + text + `</a>` and returns the character data.
func readText(text string) (string, error) {
	d := xml.NewDecoder(strings.NewReader("<a>" + text + "</a>"))
	d.Strict = true
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			if t.Name.Local != "a" {
				return "", fmt.Errorf("element <%s> in escaped text", t.Name.Local)
			}
		case xml.EndElement:
		default:
			return "", fmt.Errorf("unexpected token %#v", tok)
		}
	}
}

func checkClean(t *testing.T, s, c string) {
	t.Helper()
	if !utf8.ValidString(c) {
		t.Fatalf("CleanText(%q) = %q is not UTF-8", s, c)
	}
	for _, r := range c {
		if !validXMLRune(r) {
			t.Fatalf("CleanText(%q) = %q keeps %U", s, c, r)
		}
	}
	if CleanText(c) != c {
		t.Fatalf("CleanText is not idempotent on %q", s)
	}
	if utf8.ValidString(s) && utf8.RuneCountInString(c) > utf8.RuneCountInString(s) {
		t.Fatalf("CleanText(%q) = %q grew", s, c)
	}
}

// FuzzQuoteAttr: whatever the input, QuoteAttr's output is one well-formed
// XML attribute value (a strict parser reads it back as CleanText of the
// input: the controls it escapes survive attribute-value normalisation),
// quoted like Python's quoteattr (single quotes only when the value holds
// " and no ').
func FuzzQuoteAttr(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b`, `a'b`, `a"b'c`, "x\ny\rz\tw", "<&>", "\x00\x1f\ufffe\xff", "木头 – ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := CleanText(s)
		checkClean(t, s, want)
		q := QuoteAttr(s)
		if len(q) < 2 || q[0] != q[len(q)-1] || (q[0] != '"' && q[0] != '\'') {
			t.Fatalf("QuoteAttr(%q) = %q is not quoted", s, q)
		}
		wantQ := byte('"')
		if strings.Contains(want, `"`) && !strings.Contains(want, "'") {
			wantQ = '\''
		}
		if q[0] != wantQ {
			t.Fatalf("QuoteAttr(%q) = %q, want quote %c", s, q, wantQ)
		}
		if strings.ContainsAny(q[1:len(q)-1], "<\n\r\t"+string(q[0])) {
			t.Fatalf("QuoteAttr(%q) = %q leaves a raw special character", s, q)
		}
		got, err := readAttr(q)
		if err != nil {
			t.Fatalf("QuoteAttr(%q) = %q does not parse: %v", s, q, err)
		}
		if got != want {
			t.Fatalf("QuoteAttr(%q) = %q reads back as %q, want %q", s, q, got, want)
		}
	})
}

// FuzzEscapeText: EscapeText's output is well-formed character data that
// reads back as CleanText of the input, up to XML's line-end normalisation
// (a raw \r is read as \n, as the addon's saxutils.escape leaves it raw).
func FuzzEscapeText(f *testing.F) {
	for _, s := range []string{"", "plain", "a<b>&c", "]]>", "x\r\ny\rz", "\x00\x08\ufffe", "&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CleanText(s)
		e := EscapeText(s)
		if strings.ContainsAny(e, "<>") {
			t.Fatalf("EscapeText(%q) = %q has a raw < or >", s, e)
		}
		got, err := readText(e)
		if err != nil {
			t.Fatalf("EscapeText(%q) = %q does not parse: %v", s, e, err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(c, "\r\n", "\n"), "\r", "\n")
		if got != want {
			t.Fatalf("EscapeText(%q) = %q reads back as %q, want %q", s, e, got, want)
		}
	})
}

// FuzzPyFloat: PyFloat's text parses back to the same float (sign of zero
// included) and has Python's shape: a fraction or an exponent, the exponent
// signed with at least two digits, no trailing ".0" on an exponent form.
func FuzzPyFloat(f *testing.F) {
	for _, x := range []float64{0, math.Copysign(0, -1), 66, 8.333333333333334, 1e-5, 1e16, 1.5e16, 1e-4, 0.0001234, 9999999999999998, 1e22, 5e-324, math.MaxFloat64, -2.5, math.Inf(1), math.NaN()} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		s := PyFloat(x)
		switch {
		case math.IsNaN(x):
			if s != "nan" {
				t.Fatalf("PyFloat(NaN) = %q", s)
			}
			return
		case math.IsInf(x, 0):
			if s != "inf" && s != "-inf" {
				t.Fatalf("PyFloat(%v) = %q", x, s)
			}
			return
		}
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(back) != math.Float64bits(x) {
			t.Fatalf("PyFloat(%v) = %q reads back as %v (%v)", x, s, back, err)
		}
		mant, exp, hasExp := strings.Cut(s, "e")
		if hasExp {
			if len(exp) < 3 || (exp[0] != '+' && exp[0] != '-') || strings.HasSuffix(mant, ".0") {
				t.Fatalf("PyFloat(%v) = %q: not Python's exponent form", x, s)
			}
			e, _ := strconv.Atoi(exp)
			if e >= -4 && e < 16 {
				t.Fatalf("PyFloat(%v) = %q: exponent form for a decimal exponent %d", x, s, e)
			}
		} else if !strings.Contains(s, ".") || strings.HasSuffix(s, ".") {
			t.Fatalf("PyFloat(%v) = %q has no fraction", x, s)
		}
	})
}

// FuzzTimedelta: Timedelta's P<d>DT<h>H<m>M<s>S has 0 ≤ h < 24, 0 ≤ m, s < 60
// and adds up to the duration floored to the second, as Python's timedelta does.
func FuzzTimedelta(f *testing.F) {
	for _, d := range []int64{0, 1, -1, int64(time.Minute), -int64(time.Minute), 100*86400e9 - 1, math.MaxInt64, math.MinInt64, 86399999999999} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, ns int64) {
		d := time.Duration(ns)
		s := Timedelta(d)
		var days, h, m, sec int64
		if n, err := fmt.Sscanf(s, "P%dDT%dH%dM%dS", &days, &h, &m, &sec); n != 4 || err != nil {
			t.Fatalf("Timedelta(%d) = %q does not parse: %v", ns, s, err)
		}
		if h < 0 || h >= 24 || m < 0 || m >= 60 || sec < 0 || sec >= 60 {
			t.Fatalf("Timedelta(%d) = %q: a part out of range", ns, s)
		}
		wantSecs := ns / int64(time.Second)
		if ns%int64(time.Second) < 0 {
			wantSecs--
		}
		if got := days*86400 + h*3600 + m*60 + sec; got != wantSecs {
			t.Fatalf("Timedelta(%d) = %q is %d s, want %d s", ns, s, got, wantSecs)
		}
	})
}

// FuzzFixed6: Fixed6 is Python's "%f": exactly six decimals, within half a
// unit of the sixth decimal of the value, and "nan", "inf", "-inf" as Python
// writes them.
func FuzzFixed6(f *testing.F) {
	for _, x := range []float64{0, math.Copysign(0, -1), 4, 2.5e-7, -1e-9, 1e22, math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1)} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		s := Fixed6(x)
		switch {
		case math.IsNaN(x):
			if s != "nan" {
				t.Fatalf("Fixed6(NaN) = %q, Python writes nan", s)
			}
			return
		case math.IsInf(x, 1):
			if s != "inf" {
				t.Fatalf("Fixed6(+Inf) = %q, Python writes inf", s)
			}
			return
		case math.IsInf(x, -1):
			if s != "-inf" {
				t.Fatalf("Fixed6(-Inf) = %q, Python writes -inf", s)
			}
			return
		}
		i := strings.IndexByte(s, '.')
		if i < 0 || len(s)-i-1 != 6 {
			t.Fatalf("Fixed6(%v) = %q: not six decimals", x, s)
		}
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Abs(back-x) > 5e-7*(1+1e-9)+math.Abs(x)*1e-15 {
			t.Fatalf("Fixed6(%v) = %q reads back as %v", x, s, back)
		}
	})
}
