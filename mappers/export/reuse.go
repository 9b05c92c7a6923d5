package export

import (
	"bytes"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"sync"

	"github.com/plangate/plangate/store"
)

// Whole sections are reused when none of the models their content depends
// on changed: their own reads' and those of the sections whose state they
// join against (section.needs), plus the initialisation's. A reused
// section is neither read nor rendered, so nothing it builds exists in the
// run: a section is served whole only when no section written in this run
// needs it. Sections that show the export clock are always rendered.

// initModels are what the initialisation reads (company settings with the
// calendar and warehouse they name, units, the user's zone, modules), and
// accessModels.
var initModels = append([]string{"ir.model", "ir.module.module", "res.company", "resource.calendar", "stock.warehouse", "uom.category", "uom.uom"}, accessModels...)

// accessModels decide which records the export user sees (groups, record
// rules): when they change, every cached read is read again.
var accessModels = []string{"ir.rule", "res.groups", "res.users"}

// sectionModels records, per section, the models its reads depend on; a
// section with a read the cache could not follow is opaque (never reused).
type sectionModels struct {
	mu     sync.Mutex
	models map[string]map[string]bool
	opaque map[string]bool
}

// note adds models to a section's; nil marks it opaque.
func (sm *sectionModels) note(section string, models []string) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if sm.models == nil {
		sm.models = map[string]map[string]bool{}
		sm.opaque = map[string]bool{}
	}
	if models == nil {
		sm.opaque[section] = true
		return
	}
	set := sm.models[section]
	if set == nil {
		set = map[string]bool{}
		sm.models[section] = set
	}
	for _, m := range models {
		set[m] = true
	}
}

// closure is the section and every section it needs, transitively.
func closure(name string) []string {
	byName := map[string]section{}
	for _, s := range sections {
		byName[s.name] = s
	}
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, d := range byName[n].needs {
			walk(d)
		}
	}
	walk(name)
	return sortedKeys(seen)
}

// showsClock reports whether a section's content depends on the export
// clock (then it is rendered every time).
func (r *run) showsClock(name string) bool {
	switch name {
	case "header", "manufacturingorders", "orderpoints":
		return true
	case "onhand":
		return r.init.hasExpiry // stock orders end now
	}
	return false
}

// buildID keeps sections rendered by another build of plangate from being
// reused: the rendering may differ.
var buildID = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		id := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				id += " " + s.Value
			}
		}
		return id
	}
	return ""
}()

// sectionKey names a section's rendering: everything besides Odoo's data
// that its content depends on.
func (r *run) sectionKey(name string) string {
	p := r.p
	parts := []any{cacheFormat, buildID, r.inc.scope, name, p.Timezone, p.Delta, p.Apps, p.Company, p.SingleCompany, p.Fixes,
		r.mode.Sections, r.mode.Filters[name], r.x.Defaults}
	if r.showsClock(name) {
		parts = append(parts, r.now)
	}
	return "section:" + digest(parts...)
}

// planReuse decides, once the change checks are done, which sections of
// the run are served whole from the cache (returned with their bytes), and
// which others still have a valid rendering kept (unchanged: rendered
// again only because a later section needs them, and not stored again).
func (r *run) planReuse(active []section) (reused map[string]reusedSection, kept map[string]bool, err error) {
	reused, kept = map[string]reusedSection{}, map[string]bool{}
	if r.inc == nil {
		return reused, kept, nil
	}
	live := map[string]bool{}
	for i := len(active) - 1; i >= 0; i-- {
		name := active[i].name
		if r.reusable(name) {
			entry, data, ok, err := r.x.Cache.CacheSection(r.sectionKey(name))
			if err != nil {
				return nil, nil, fmt.Errorf("incremental: section %s: %w", name, err)
			}
			if ok && r.inc.state(true, entry.Gen, entry.Models, nil) == stateFresh {
				kept[name] = true
				if !live[name] { // no later live section needs it
					reused[name] = reusedSection{data: data, records: entry.Records}
					continue
				}
			}
		}
		for _, n := range closure(name) {
			live[n] = true
		}
	}
	return reused, kept, nil
}

// reusable reports whether a section could be served whole: it and every
// section it needs are read through the cache (so their models are
// known), and it does not show the clock.
func (r *run) reusable(name string) bool {
	if r.inc.refresh || r.showsClock(name) {
		return false
	}
	for _, n := range closure(name) {
		if !r.cacheable[n] {
			return false
		}
	}
	return true
}

// reusedSection is a section served from the cache.
type reusedSection struct {
	data    []byte
	records int
}

// keepSection stores a section just rendered, with the models it depends on.
func (r *run) keepSection(name string, data []byte) error {
	models := map[string]bool{}
	for _, m := range initModels {
		models[m] = true
	}
	r.models.mu.Lock()
	opaque := false
	for _, n := range closure(name) {
		opaque = opaque || r.models.opaque[n]
		for m := range r.models.models[n] {
			models[m] = true
		}
	}
	r.models.mu.Unlock()
	if opaque {
		return nil
	}
	list := sortedKeys(models)
	sort.Strings(list)
	sec := store.CacheSection{Database: r.inc.database, Gen: r.inc.gen, Models: list, Records: r.counts[name]}
	if err := r.x.Cache.SaveCacheSection(r.sectionKey(name), sec, data); err != nil {
		return fmt.Errorf("incremental: save section %s: %w", name, err)
	}
	return nil
}

// memoBool is a value computed from reads (the short-name check reads
// every product) as the last run found it while none of models changed;
// else it is computed and kept.
func (r *run) memoBool(name string, models []string, compute func() (bool, error)) (bool, error) {
	if r.inc == nil || !r.cacheable[r.section] {
		return compute()
	}
	deps := sortedKeys(setOf(append(append([]string(nil), models...), accessModels...)))
	r.noteModels(deps)
	key := "memo:" + digest(cacheFormat, r.inc.scope, name, r.p.Language)
	entry, data, ok, err := r.x.Cache.CacheSection(key)
	if err != nil {
		return false, fmt.Errorf("incremental: %s: %w", name, err)
	}
	if ok && !r.inc.refresh && r.inc.state(true, entry.Gen, entry.Models, nil) == stateFresh {
		return string(data) == "true", nil
	}
	v, err := compute()
	if err != nil {
		return false, err
	}
	sec := store.CacheSection{Database: r.inc.database, Gen: r.inc.gen, Models: deps}
	if err := r.x.Cache.SaveCacheSection(key, sec, []byte(fmt.Sprint(v))); err != nil {
		return false, fmt.Errorf("incremental: save %s: %w", name, err)
	}
	return v, nil
}

func setOf(l []string) map[string]bool {
	m := make(map[string]bool, len(l))
	for _, s := range l {
		m[s] = true
	}
	return m
}

// captureWriter copies what passes while capturing (a section being
// rendered for the cache).
type captureWriter struct {
	w   io.Writer
	buf *bytes.Buffer
}

func (c *captureWriter) Write(p []byte) (int, error) {
	if c.buf != nil {
		c.buf.Write(p)
	}
	return c.w.Write(p)
}
