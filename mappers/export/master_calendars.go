package export

import (
	"fmt"
	"math"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
	"github.com/plangate/plangate/xmlschema"
)

// calendarEntry is one attendance or leave appended to a calendar.
type calendarEntry struct {
	leave              bool
	working            bool
	dayofweek          int
	hourFrom, hourTo   float64
	weekType           string // "", "0" or "1"
	dateFrom, dateTo   string // date-only text of attendances
	leaveFrom, leaveTo time.Time
}

type calendarDef struct {
	name    string
	tz      string
	entries []calendarEntry
}

// calendarReads are the records the calendars are built from.
type calendarReads struct {
	cals, workcenters, resourceAtts, resourceLeaves, atts, leaves []odoo.Record
}

// loadCalendars reads calendars, the workcenters using them, their
// attendances and leaves (§3.4.3), all at once.
func (r *run) loadCalendars() (func() error, error) {
	var in calendarReads
	err := parallel(
		r.readTo(&in.cals, "resource.calendar", nil, odoo.Query{Fields: []string{"name", "tz"}}),
		r.readTo(&in.workcenters, "mrp.workcenter", odoo.Domain{odoo.Term("resource_calendar_id", "!=", false)},
			odoo.Query{Fields: []string{"resource_id", "resource_calendar_id"}}),
		r.readTo(&in.resourceAtts, "resource.calendar.attendance", odoo.Domain{odoo.Term("resource_id", "!=", false)},
			odoo.Query{Fields: []string{"resource_id"}}),
		r.readTo(&in.resourceLeaves, "resource.calendar.leaves", odoo.Domain{odoo.Term("resource_id", "!=", false), odoo.Term("time_type", "=", "leave")},
			odoo.Query{Fields: []string{"resource_id"}}),
		r.readTo(&in.atts, "resource.calendar.attendance", odoo.Domain{odoo.Term("display_type", "=", false)},
			odoo.Query{Fields: []string{"dayofweek", "date_from", "date_to", "hour_from", "hour_to", "calendar_id", "week_type", "resource_id", "day_period"}}),
		r.readTo(&in.leaves, "resource.calendar.leaves", odoo.Domain{odoo.Term("time_type", "=", "leave")},
			odoo.Query{Fields: []string{"date_from", "date_to", "calendar_id", "resource_id"}}),
	)
	if err != nil {
		return nil, err
	}
	return func() error { return r.writeCalendars(in) }, nil
}

// writeCalendars builds working-hour calendars from attendances and
// leaves (§3.4.3). The addon's crashes here are fixed: two-week
// calendars with validity dates (D10) and resource leaves without base
// attendances (D11) export complete, well-formed calendars.
func (r *run) writeCalendars(in calendarReads) error {
	m := &r.master
	m.calendarTZ = map[string]string{}
	m.resourceCalendar = map[int]string{}
	calName := map[int]string{}
	calTZ := map[int]string{}
	for _, c := range in.cals {
		calName[c.ID()] = fmt.Sprintf("%s %d", c.String("name"), c.ID())
		calTZ[c.ID()] = c.String("tz")
	}
	calResources := map[int][]int{}
	for _, wc := range in.workcenters {
		if res := wc.M2OID("resource_id"); res != 0 {
			c := wc.M2OID("resource_calendar_id")
			calResources[c] = append(calResources[c], res)
		}
	}
	// The addon keeps these resources in a Python set and creates the
	// resource calendars in the set's iteration order.
	for c, res := range calResources {
		calResources[c] = pySetOrder(res)
	}
	specific := map[int]string{} // resource id → display name, for resources with own entries
	for _, recs := range [][]odoo.Record{in.resourceAtts, in.resourceLeaves} {
		for _, rec := range recs {
			id, name := rec.Many2One("resource_id")
			specific[id] = name
		}
	}

	var order []string
	defs := map[string]*calendarDef{}
	get := func(name, tz string) *calendarDef {
		d, ok := defs[name]
		if !ok {
			d = &calendarDef{name: name, tz: tz}
			defs[name] = d
			order = append(order, name)
		}
		return d
	}
	// add appends an entry to the base calendar and to the specific
	// calendars of the workcenter resources that use it.
	add := func(calID, resID int, e calendarEntry) {
		base := calName[calID]
		if resID == 0 {
			get(base, calTZ[calID]).entries = append(get(base, calTZ[calID]).entries, e)
		}
		for _, res := range calResources[calID] {
			rname, ok := specific[res]
			if !ok || (resID != 0 && resID != res) {
				continue
			}
			name := "calendar for " + rname
			m.resourceCalendar[res] = name
			d := get(name, calTZ[calID])
			d.entries = append(d.entries, e)
		}
	}

	for _, a := range in.atts {
		calID := a.M2OID("calendar_id")
		if _, ok := calName[calID]; !ok {
			continue
		}
		period := a.String("day_period")
		add(calID, a.M2OID("resource_id"), calendarEntry{
			working:   period == "morning" || period == "afternoon",
			dayofweek: atoiSafe(a.String("dayofweek")),
			hourFrom:  a.Float("hour_from"), hourTo: a.Float("hour_to"),
			weekType: a.String("week_type"), dateFrom: a.String("date_from"), dateTo: a.String("date_to"),
		})
	}
	for _, l := range in.leaves {
		calID := l.M2OID("calendar_id")
		if _, ok := calName[calID]; !ok {
			continue // global leaves without calendar are ignored, as in the addon
		}
		from, _ := l.Time("date_from")
		to, _ := l.Time("date_to")
		add(calID, l.M2OID("resource_id"), calendarEntry{leave: true, leaveFrom: from, leaveTo: to})
	}

	r.w.S("<!-- calendar -->\n<calendars>\n")
	for _, name := range order {
		d := defs[name]
		m.calendarTZ[name] = d.tz
		if d.tz != "" && d.tz != r.tz.String() {
			r.log.Warn("calendar time zone differs from the export time zone: Working hours will not be synced correctly",
				"calendar", name, "calendar_tz", d.tz, "export_tz", r.tz.String())
		}
		r.writeCalendar(d)
	}
	r.w.S("</calendars>\n")
	r.counts["calendars"] = len(order)
	return nil
}

func atoiSafe(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
		}
	}
	return n
}

// writeCalendar writes one calendar's buckets (§3.4.3 emission).
func (r *run) writeCalendar(d *calendarDef) {
	r.w.S("<calendar name=", xmlschema.QuoteAttr(d.name), ` default="0"><buckets>`, "\n")
	work, rest := 1000, 10
	loc := time.UTC
	if d.tz != "" {
		if l, err := time.LoadLocation(d.tz); err == nil {
			loc = l
		}
	}
	bucket := func(start, end, value string, days int, prio int, st, et string) {
		r.w.S(`<bucket start="`, start, `" end="`, end, `" value="`, value, `" days="`, xmlschema.PyInt(days),
			`" priority="`, xmlschema.PyInt(prio), `" starttime="`, st, `" endtime="`, et, `"/>`, "\n")
	}
	for _, e := range d.entries {
		switch {
		case e.leave:
			start, end := r.leaveBounds(e, loc)
			bucket(start, end, "0", 127, rest, "PT0M", "PT1440M")
			rest++
		case e.weekType == "":
			start, end := "2020-01-01T00:00:00", "2030-12-31T00:00:00"
			if e.dateFrom != "" {
				start = e.dateFrom + "T00:00:00"
			}
			if e.dateTo != "" {
				end = e.dateTo + "T00:00:00"
			}
			days := 1 << ((e.dayofweek + 1) % 7)
			if e.working {
				bucket(start, end, "1", days, work, xmlschema.TimeOfDay(e.hourFrom), xmlschema.TimeOfDay(e.hourTo))
				work++
			} else {
				bucket(start, end, "0", days, rest, xmlschema.TimeOfDay(e.hourFrom), xmlschema.TimeOfDay(e.hourTo))
				rest++
			}
		default:
			r.writeTwoWeekEntry(e, loc, bucket, &work, &rest)
		}
	}
	r.w.S("</buckets></calendar>\n")
}

// leaveBounds gives a leave's bucket start and end. The addon truncates
// leaves to their UTC dates (D9); Fixes.D9 keeps the time of day in the
// calendar's zone instead.
func (r *run) leaveBounds(e calendarEntry, loc *time.Location) (string, string) {
	if r.p.Fixes.D9 {
		return xmlschema.Datetime(e.leaveFrom.In(loc)), xmlschema.Datetime(e.leaveTo.In(loc))
	}
	return xmlschema.DateMidnight(e.leaveFrom), xmlschema.DateMidnight(e.leaveTo)
}

// writeTwoWeekEntry writes one bucket per week of the entry's parity from
// its start to its end. The addon uses ISO week numbers and exports lunch
// as working time (D12, reproduced unless Fixes.D12); validity dates work
// (D10 fixed).
func (r *run) writeTwoWeekEntry(e calendarEntry, loc *time.Location, bucket func(string, string, string, int, int, string, string), work, rest *int) {
	from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC)
	if t, ok := odoo.AsDate(e.dateFrom); ok {
		from = t
	}
	if t, ok := odoo.AsDate(e.dateTo); ok {
		to = t
	}
	days := 1 << ((e.dayofweek + 1) % 7)
	want := atoiSafe(e.weekType)
	for t := from; t.Before(to); {
		next := t.AddDate(0, 0, 1)
		for next.Weekday() != time.Monday {
			next = next.AddDate(0, 0, 1)
		}
		var parity int
		if r.p.Fixes.D12 {
			parity = int(math.Floor(float64(dateOrdinal(t)-1)/7)) % 2 // Odoo's own week parity
		} else {
			_, wk := t.ISOWeek()
			parity = wk % 2
		}
		if parity == want {
			end := next
			if to.Before(end) {
				end = to
			}
			value, prio := "1", work
			if r.p.Fixes.D12 && !e.working {
				value, prio = "0", rest
			}
			bucket(xmlschema.Datetime(t.In(loc)), xmlschema.Datetime(end.In(loc)), value, days, *prio,
				xmlschema.TimeOfDay(e.hourFrom), xmlschema.TimeOfDay(e.hourTo))
			*prio++
		}
		t = next
	}
}

// dateOrdinal is Python's date.toordinal(): days since 0001-01-01, plus one.
func dateOrdinal(t time.Time) int {
	base := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	return int(t.Sub(base).Hours()/24) + 1
}

// pySetOrder returns the order in which CPython iterates a set of
// non-negative ints added in the given order (setobject.c; checked against
// CPython 3.11, TestPySetOrder). An int hashes to itself; the table starts
// with 8 slots and, when three fifths full, grows to the next power of two
// above 4× the entries (2× past 50,000); a key goes to slot hash & mask,
// else to the first free one of the 9 that follow, else the probe jumps
// by i = 5i + 1 + perturb with perturb = hash shifted right 5 bits each
// time. Iteration walks the slots: ascending for ids below the table
// size, but not in general ({5, 9} iterates 9, 5).
func pySetOrder(ids []int) []int {
	const linearProbes, perturbShift = 9, 5
	table := make([]int, 8)
	for i := range table {
		table[i] = -1
	}
	insert := func(table []int, key int) bool {
		mask := uint64(len(table) - 1)
		perturb := uint64(key)
		i := uint64(key) & mask
		for {
			probes := uint64(0)
			if i+linearProbes <= mask {
				probes = linearProbes
			}
			for j := uint64(0); j <= probes; j++ {
				switch table[i+j] {
				case -1:
					table[i+j] = key
					return true
				case key:
					return false
				}
			}
			perturb >>= perturbShift
			i = (i*5 + 1 + perturb) & mask
		}
	}
	used := 0
	for _, id := range ids {
		if id < 0 || !insert(table, id) {
			continue
		}
		used++
		if used*5 < (len(table)-1)*3 {
			continue
		}
		minUsed := used * 4
		if used > 50000 {
			minUsed = used * 2
		}
		size := 8
		for size <= minUsed {
			size <<= 1
		}
		grown := make([]int, size)
		for i := range grown {
			grown[i] = -1
		}
		for _, k := range table {
			if k >= 0 {
				insert(grown, k)
			}
		}
		table = grown
	}
	out := make([]int, 0, used)
	for _, k := range table {
		if k >= 0 {
			out = append(out, k)
		}
	}
	return out
}
