package export

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/plangate/plangate/mappers/odoo"
)

// ModeConfig says what one extraction mode writes.
type ModeConfig struct {
	// Sections lists the sections written, by name (see SectionNames); the
	// document keeps the addon's order whatever the order here.
	Sections []string `yaml:"sections" json:"sections"`
	// Cacheable lists sections whose reads are served incrementally from
	// the state file (only when the gateway keeps state).
	Cacheable []string `yaml:"cacheable" json:"cacheable,omitempty"`
	// Filters narrow a section's main read with an extra Odoo domain, given
	// as JSON, e.g. demands: '[["state","in",["sale","done"]]]' for closed
	// sales orders only.
	Filters map[string]string `yaml:"filters" json:"filters,omitempty"`
}

// Modes maps a mode number to its configuration. Mode 0 is always the
// connection test; a mode missing from the map uses mode 2's entry, as the
// addon treats every mode but 1 alike.
type Modes map[int]ModeConfig

// mode2Sections are what the addon writes for every mode but 1 (spec §3.1.2).
var mode2Sections = []string{"header", "users", "locations", "customers", "categories", "items", "demands"}

// SectionNames lists every section in document order.
func SectionNames() []string {
	out := make([]string, len(sections))
	for i, s := range sections {
		out[i] = s.name
	}
	return out
}

// DefaultModes reproduces the addon: mode 1 writes everything, mode 2 the
// slow-changing sections. With a state file both are served incrementally:
// each run asks Odoo what changed since the last one and reads only that
// (the document equals a cold run's; incremental.go).
func DefaultModes() Modes {
	return Modes{
		1: {Sections: SectionNames(), Cacheable: SectionNames()},
		2: {Sections: append([]string(nil), mode2Sections...), Cacheable: []string{"users", "locations", "customers", "categories", "items", "demands"}},
	}
}

// For returns the configuration of mode m.
func (ms Modes) For(m int) ModeConfig {
	if ms == nil {
		ms = DefaultModes()
	}
	if c, ok := ms[m]; ok {
		return c
	}
	if c, ok := ms[2]; ok {
		return c
	}
	return DefaultModes()[2]
}

// Validate reports unknown section names and malformed filters.
func (ms Modes) Validate() error {
	known := map[string]bool{}
	for _, n := range SectionNames() {
		known[n] = true
	}
	modes := make([]int, 0, len(ms))
	for m := range ms {
		modes = append(modes, m)
	}
	sort.Ints(modes)
	var problems []string
	for _, m := range modes {
		c := ms[m]
		if m == 0 {
			problems = append(problems, "mode 0 is the connection test and cannot be configured")
		}
		if len(c.Sections) == 0 {
			problems = append(problems, fmt.Sprintf("mode %d: no sections", m))
		}
		for _, list := range [][]string{c.Sections, c.Cacheable} {
			for _, s := range list {
				if !known[s] {
					problems = append(problems, fmt.Sprintf("mode %d: unknown section %q (known: %s)", m, s, strings.Join(SectionNames(), ", ")))
				}
			}
		}
		for s, f := range c.Filters {
			if !known[s] {
				problems = append(problems, fmt.Sprintf("mode %d: filter for unknown section %q", m, s))
			}
			if _, err := ParseDomain(f); err != nil {
				problems = append(problems, fmt.Sprintf("mode %d: filter for %s: %v", m, s, err))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("export modes: %s", strings.Join(problems, "; "))
	}
	return nil
}

// ParseDomain reads an Odoo domain written as JSON: a list of
// [field, operator, value] terms and "&", "|", "!" operators.
func ParseDomain(s string) (odoo.Domain, error) {
	var raw []any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("domain %s: not a JSON list: %w", s, err)
	}
	d := odoo.Domain{}
	for i, e := range raw {
		switch x := e.(type) {
		case string:
			if x != "&" && x != "|" && x != "!" {
				return nil, fmt.Errorf("domain %s: element %d: unknown operator %q", s, i, x)
			}
			d = append(d, x)
		case []any:
			if len(x) != 3 {
				return nil, fmt.Errorf("domain %s: element %d: a term has 3 parts", s, i)
			}
			if _, ok := x[0].(string); !ok {
				return nil, fmt.Errorf("domain %s: element %d: field must be a string", s, i)
			}
			if _, ok := x[1].(string); !ok {
				return nil, fmt.Errorf("domain %s: element %d: operator must be a string", s, i)
			}
			d = append(d, []any{x[0], x[1], jsonToRPC(x[2])})
		default:
			return nil, fmt.Errorf("domain %s: element %d: want a term or an operator", s, i)
		}
	}
	if !wellFormed(d) {
		return nil, fmt.Errorf("domain %s: operators lack operands", s)
	}
	return d, nil
}

// wellFormed checks a prefix domain by evaluating it backwards: terms
// push an operand, "!" needs one, "&" and "|" need two.
func wellFormed(d odoo.Domain) bool {
	depth := 0
	for i := len(d) - 1; i >= 0; i-- {
		switch d[i] {
		case "!":
			if depth < 1 {
				return false
			}
		case "&", "|":
			if depth < 2 {
				return false
			}
			depth--
		default:
			depth++
		}
	}
	return true
}

// jsonToRPC turns JSON numbers into ints where they are whole (ids).
func jsonToRPC(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonToRPC(e)
		}
	}
	return v
}

// has reports whether name is in list.
func has(list []string, name string) bool {
	for _, s := range list {
		if s == name {
			return true
		}
	}
	return false
}
