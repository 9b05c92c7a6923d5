// Package xmlschema is the frePPLe XML vocabulary as plangate writes and
// reads it: the literal formats of dates, durations and numbers the frePPLe
// Odoo addon produces, attribute quoting, a streaming document writer and a
// streaming reader for posted plans.
package xmlschema

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// DatetimeLayout is frePPLe's datetime format: no zone, no fraction.
const DatetimeLayout = "2006-01-02T15:04:05"

// Datetime formats t as frePPLe expects (the wall clock of t's location).
func Datetime(t time.Time) string { return t.Format(DatetimeLayout) }

// DateMidnight formats a date-only value the way the addon does: the date with T00:00:00.
func DateMidnight(t time.Time) string { return t.Format("2006-01-02") + "T00:00:00" }

// Timedelta formats a duration like Python's str of an ISO-ish timedelta the
// addon builds: P<d>DT<h>H<m>M<s>S with integer parts. Negative durations
// borrow from the days as Python does (-1 minute is P-1DT23H59M0S).
func Timedelta(d time.Duration) string {
	// Integer floor: d.Seconds() is a float64 and rounds durations a
	// nanosecond short of a whole second up once they exceed ~52 days.
	secs := floorDiv(int64(d), int64(time.Second))
	days := floorDiv(secs, 86400)
	rem := secs - days*86400
	h := rem / 3600
	m := (rem % 3600) / 60
	s := rem % 60
	var b strings.Builder
	b.WriteString("P")
	b.WriteString(strconv.FormatInt(days, 10))
	b.WriteString("DT")
	b.WriteString(strconv.FormatInt(h, 10))
	b.WriteString("H")
	b.WriteString(strconv.FormatInt(m, 10))
	b.WriteString("M")
	b.WriteString(strconv.FormatInt(s, 10))
	b.WriteString("S")
	return b.String()
}

// TimedeltaDays is Timedelta of a (possibly fractional) number of days,
// rounded to the microsecond like Python's timedelta(days=x).
func TimedeltaDays(days float64) string {
	return Timedelta(time.Duration(math.Round(days*86400*1e6)) * time.Microsecond)
}

// TimedeltaMinutes is Timedelta of a (possibly fractional) number of minutes.
func TimedeltaMinutes(minutes float64) string {
	return Timedelta(time.Duration(math.Round(minutes*60*1e6)) * time.Microsecond)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Days formats an integer-day duration: P<int(days)>D, truncated toward zero like Python's int().
func Days(days float64) string { return "P" + strconv.FormatInt(int64(days), 10) + "D" }

// TimeOfDay formats hours as PT<minutes>M with Python's round (half to even).
func TimeOfDay(hours float64) string {
	return "PT" + strconv.FormatInt(int64(math.RoundToEven(hours*60)), 10) + "M"
}

// PyFloat formats f like Python's repr/str of a float: the shortest text
// that round-trips, always with a fraction or exponent ("66.0",
// "8.333333333333334", "1e-05", "1e+16").
func PyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	// Shortest digits and decimal exponent.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		// Python: mantissa without trailing ".0", exponent at least two digits.
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		return mant + "e" + sign + es
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// Fixed6 formats f like Python's "%f": six decimals; "nan", "inf", "-inf"
// (strconv would write NaN, +Inf, -Inf).
func Fixed6(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return PyFloat(f)
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// PyInt formats an integer value like Python's str(int).
func PyInt(i int) string { return strconv.Itoa(i) }

// PyRound is Python's round(x) to an integer (half to even).
func PyRound(x float64) int64 { return int64(math.RoundToEven(x)) }
