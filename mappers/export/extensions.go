package export

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Extensions name opt-in additions to the document that the frePPLe
// addon does not make (config export.extensions). With none, the document
// is the addon's.
type Extensions []string

// ItemDistributions adds <itemdistributions> from Odoo's resupply routes
// (itemdistributions.go) and makes the plan import turn distribution
// orders into the pickings of those routes.
const ItemDistributions = "itemdistributions"

// extensionSections maps each extension to the sections it adds.
var extensionSections = map[string][]string{ItemDistributions: {"itemdistributions"}}

// Has reports whether the extension is on.
func (e Extensions) Has(name string) bool { return slices.Contains(e, name) }

// writes reports whether a section is written under these extensions:
// sections of no extension always are.
func (e Extensions) writes(section string) bool {
	ext := extensionOf(section)
	return ext == "" || e.Has(ext)
}

// extensionOf names the extension that adds a section, "" for the addon's.
func extensionOf(section string) string {
	for ext, secs := range extensionSections {
		if slices.Contains(secs, section) {
			return ext
		}
	}
	return ""
}

// Validate reports unknown extensions, and sections of extensions that
// are off listed in configured modes (they would never be written).
func (e Extensions) Validate(ms Modes) error {
	var known []string
	for n := range extensionSections {
		known = append(known, n)
	}
	sort.Strings(known)
	var problems []string
	for _, n := range e {
		if _, ok := extensionSections[n]; !ok {
			problems = append(problems, fmt.Sprintf("unknown extension %q (known: %s)", n, strings.Join(known, ", ")))
		}
	}
	modes := make([]int, 0, len(ms))
	for m := range ms {
		modes = append(modes, m)
	}
	sort.Ints(modes)
	for _, m := range modes {
		for _, s := range ms[m].Sections {
			if !e.writes(s) {
				problems = append(problems, fmt.Sprintf("mode %d: section %s needs export.extensions: [%s]", m, s, extensionOf(s)))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("export extensions: %s", strings.Join(problems, "; "))
	}
	return nil
}
