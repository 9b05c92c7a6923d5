// Package export maps Odoo records to the frePPLe XML document that the
// frePPLe Odoo addon (branch 17.0) serves on GET /frepple/xml. It reads Odoo
// through an odoo.Session, every section's reads at once (run.go), and
// streams the document section by section, in the addon's order (spec
// §3.2), one file per section. With a RecordCache it asks Odoo only what
// changed since the last run (incremental.go) and reuses whole sections
// (reuse.go).
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
	// D9 exports leaves with their time of day in the calendar's zone
	// instead of truncating them to UTC dates.
	D9 bool `yaml:"d9" json:"d9"`
	// D12 exports lunch in two-week calendars as non-working time and uses
	// Odoo's own week parity instead of ISO week numbers.
	D12 bool `yaml:"d12" json:"d12"`
	// D14 keeps every subcontractor of a product, not only the last one.
	D14 bool `yaml:"d14" json:"d14"`
	// D27 (plan import) converts the merged quantity of mode-2 purchase
	// lines to the purchase unit instead of adding unconverted quantities.
	D27 bool `yaml:"d27" json:"d27"`
}

// CompanyDefaults stand in for the frePPLe addon's res.company fields when
// Odoo lacks them (an Odoo without the addon); where the fields exist,
// Odoo's values are used.
type CompanyDefaults struct {
	// Calendar names the resource.calendar of the company's locations.
	Calendar string `yaml:"calendar"`
	// ManufacturingWarehouse names the stock.warehouse that manufactures.
	ManufacturingWarehouse string `yaml:"manufacturing_warehouse"`
	// RespectReservations: nil means the addon's default, true.
	RespectReservations *bool `yaml:"respect_reservations"`
}

// Stats summarise one export.
type Stats struct {
	Sections map[string]int // records written per section
	Bytes    int64
	Duration time.Duration
	// Calls counts Odoo calls; CacheHits/CacheMisses records served from /
	// read into the cache; Watermarks the highest write_date per cached model.
	Calls       int
	CacheHits   int
	CacheMisses int
	Watermarks  map[string]string
	// SectionsReused counts sections served whole from the cache;
	// ModelsChecked the models whose changes were looked for.
	SectionsReused int
	ModelsChecked  int
}

// Exporter writes frePPLe documents from one Odoo session.
type Exporter struct {
	// Session is the authenticated Odoo user whose rights scope the reads.
	Session *odoo.Session
	// Logger receives warnings about skipped records; nil means slog.Default().
	Logger *slog.Logger
	// MaxInFlight bounds the Odoo calls one export runs at once (0: 4):
	// independent reads overlap, since Odoo's time dominates an export.
	MaxInFlight int
	// Flush, when set, is called after each section so bytes reach the client
	// while Odoo is still being read (e.g. http.Flusher.Flush).
	Flush func()
	// Modes says what each mode writes; nil means DefaultModes (the addon's).
	Modes Modes
	// Cache, when set, serves the reads of cacheable sections incrementally.
	Cache RecordCache
	// CacheMargin is subtracted from write_date watermarks for clock skew.
	CacheMargin time.Duration
	// Refresh forces a cold read of cacheable sections (and refills the cache).
	Refresh bool
	// Fixes are applied to every export unless Params.Fixes sets its own.
	Fixes Fixes
	// Defaults are the company settings used when Odoo lacks the addon's fields.
	Defaults CompanyDefaults
	// Extensions add sections the addon does not write; nil: none.
	Extensions Extensions
}

// Export writes the document for p to w. An error after bytes were
// written leaves the document unterminated (no </plan>), so it can never
// pass for complete.
func (x *Exporter) Export(ctx context.Context, w io.Writer, p Params) (Stats, error) {
	start := time.Now()
	if p.Fixes == (Fixes{}) {
		p.Fixes = x.Fixes
	}
	r := x.newRun(ctx, w, p)
	err := r.run()
	if ferr := r.w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("export: write: %w", ferr)
	}
	st := Stats{Sections: r.counts, Bytes: r.w.Bytes(), Duration: time.Since(start), Calls: int(r.gate.Calls())}
	if r.inc != nil {
		st.CacheHits = int(r.inc.hits.Load())
		st.CacheMisses = int(r.inc.misses.Load())
		st.SectionsReused = int(r.inc.reused.Load())
		st.ModelsChecked = len(r.inc.prev.Models)
		st.Watermarks = r.inc.watermarks()
	}
	return st, err
}

// section is one fragment of the document (spec §3.2). load reads what
// the section needs from Odoo and returns the function that writes it;
// loads run concurrently, writes in document order (run.go).
type section struct {
	name string
	load func(*run) (write func() error, err error)
	// needs are the earlier sections whose state the load or the write
	// joins against (reuse.go serves a section whole only when no written
	// section needs it).
	needs []string
}

// sections lists the document in the addon's order (spec §3.2 table).
var sections = []section{
	{"header", (*run).loadHeader, nil},
	{"users", (*run).loadUsers, nil},
	{"calendars", (*run).loadCalendars, nil},
	{"locations", (*run).loadLocations, nil},
	{"customers", (*run).loadCustomers, nil},
	{"suppliers", (*run).loadSuppliers, []string{"customers"}},
	{"skills", (*run).loadSkills, nil},
	{"resources", (*run).loadResources, []string{"calendars", "locations"}},
	{"resourceskills", (*run).loadResourceSkills, []string{"resources"}},
	{"categories", (*run).loadCategories, nil},
	{"items", (*run).loadItems, []string{"customers", "categories"}},
	{"itemdistributions", (*run).loadItemDistributions, []string{"items", "locations"}}, // extension, off by default
	{"operations", (*run).loadOperations, []string{"items", "resources", "locations"}},
	{"demands", (*run).loadDemands, []string{"items", "customers", "locations"}},
	{"purchaseorders", (*run).loadPurchaseOrders, []string{"items", "customers", "locations"}},
	{"manufacturingorders", (*run).loadManufacturingOrders, []string{"items", "locations", "resources", "purchaseorders"}},
	{"orderpoints", (*run).loadOrderpoints, []string{"items"}},
	{"onhand", (*run).loadOnhand, []string{"items", "locations"}},
}
