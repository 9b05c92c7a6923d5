// Package export maps Odoo records to the frePPLe XML document that the
// frePPLe Odoo addon (branch 17.0) serves on GET /frepple/xml. It reads Odoo
// through an odoo.Session and streams the document section by section, in
// the addon's order (spec §3.2), one file per section.
package export

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/plangate/plangate/mappers/odoo"
)

// Params are the request parameters of GET /frepple/xml (spec §2.2).
type Params struct {
	Mode          int    // 0 connection test, 1 full, other: reduced (§3.1.2)
	Company       string // company name; selects settings and, with SingleCompany, the scope
	Timezone      string // IANA name; invalid or empty: the user's tz, else UTC
	Language      string // lang for translated names and the short-name check
	SingleCompany bool
	Delta         float64 // days; < 999 restricts sales order lines by write_date
	Apps          string  // comma list; "freppledb.shelflife" enables shelf life
	Version       string
	// Now is the export clock (UTC). Zero means time.Now().
	Now time.Time
	// Fixes switches on corrections of addon defects that change the
	// document (spec README policy 2); all off reproduces the addon.
	Fixes Fixes
}

// Fixes are opt-in corrections of addon defects (spec §8.2) that change the
// document. Each is off by default so the output equals the addon's.
type Fixes struct {
	// Set by the sections that implement a fix, e.g. D9 bool.
}

// Stats summarise one export.
type Stats struct {
	Sections map[string]int // records written per section
	Bytes    int64
	Duration time.Duration
}

// Exporter writes frePPLe documents from one Odoo session.
type Exporter struct {
	// Session is the authenticated Odoo user whose rights scope the reads.
	Session *odoo.Session
	// Logger receives warnings about skipped records; nil means slog.Default().
	Logger *slog.Logger
	// MaxInFlight bounds concurrent Odoo calls (0: 4).
	MaxInFlight int
	// Flush, when set, is called after each section so bytes reach the client
	// while Odoo is still being read (e.g. http.Flusher.Flush).
	Flush func()
}

// Export writes the document for p to w. An error after bytes were
// written leaves the document unterminated (no </plan>), so it can never
// pass for complete.
func (x *Exporter) Export(ctx context.Context, w io.Writer, p Params) (Stats, error) {
	start := time.Now()
	r, err := x.newRun(ctx, w, p)
	if err != nil {
		return Stats{}, err
	}
	err = r.run()
	if ferr := r.w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("export: write: %w", ferr)
	}
	return Stats{Sections: r.counts, Bytes: r.w.Bytes(), Duration: time.Since(start)}, err
}

// section is one fragment of the document (spec §3.2).
type section struct {
	name  string
	mode1 bool // only in mode 1
	write func(*run) error
}

// sections lists the document in the addon's order (spec §3.2 table).
var sections = []section{
	{"header", false, (*run).writeHeader},
	{"users", false, (*run).writeUsers},
	{"calendars", true, (*run).writeCalendars},
	{"locations", false, (*run).writeLocations},
	{"customers", false, (*run).writeCustomers},
	{"suppliers", true, (*run).writeSuppliers},
	{"skills", true, (*run).writeSkills},
	{"resources", true, (*run).writeResources},
	{"resourceskills", true, (*run).writeResourceSkills},
	{"categories", false, (*run).writeCategories},
	{"items", false, (*run).writeItems},
	{"operations", true, (*run).writeOperations},
	{"demands", false, (*run).writeDemands},
	{"purchaseorders", true, (*run).writePurchaseOrders},
	{"manufacturingorders", true, (*run).writeManufacturingOrders},
	{"orderpoints", true, (*run).writeOrderpoints},
	{"onhand", true, (*run).writeOnhand},
}
