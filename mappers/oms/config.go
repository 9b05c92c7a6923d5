package oms

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is the order-sourcing section of plangate's configuration file.
type Config struct {
	// StockFreshness is how long stock read from Odoo is reused (0: 30s).
	StockFreshness time.Duration `yaml:"stock_freshness"`
	// KeepRuns and KeepFor bound the run history (0: 10000 runs, 30 days).
	KeepRuns int           `yaml:"keep_runs"`
	KeepFor  time.Duration `yaml:"keep_for"`
	// Organizations maps a company name (or id) to its rules; "*" applies
	// to companies not listed. Empty: DefaultRules for every company.
	Organizations map[string]OrgConfig `yaml:"organizations"`
}

// OrgConfig is one organization's sourcing setup.
type OrgConfig struct {
	// AllCompanies lets every company's warehouses ship this
	// organization's orders; by default only its own warehouses do.
	AllCompanies bool         `yaml:"all_companies"`
	Rules        []RuleConfig `yaml:"rules"`
}

// RuleConfig is one rule: criteria run in order, then allocation.
type RuleConfig struct {
	Name     string            `yaml:"name"`
	Partial  bool              `yaml:"partial"`
	Criteria []CriterionConfig `yaml:"criteria"`
}

// CriterionConfig runs one algorithm with its parameters.
type CriterionConfig struct {
	Algorithm string         `yaml:"algorithm"`
	Params    map[string]any `yaml:"params"`
	// Final marks the rule's last criterion; criteria after it are a
	// configuration error.
	Final bool `yaml:"final"`
}

// DefaultRules are used when the configuration names none: the whole order
// from the nearest warehouse that has everything; else split over at most
// three warehouses, keeping what can be placed.
func DefaultRules() OrgConfig {
	return OrgConfig{Rules: []RuleConfig{
		{Name: "single warehouse", Criteria: []CriterionConfig{
			{Algorithm: "stock"},
			{Algorithm: "one_warehouse", Params: map[string]any{"strict": true}},
			{Algorithm: "distance"},
		}},
		{Name: "fewest splits", Partial: true, Criteria: []CriterionConfig{
			{Algorithm: "stock"},
			{Algorithm: "max_splits", Params: map[string]any{"max": 2}},
			{Algorithm: "distance"},
		}},
	}}
}

func (c Config) withDefaults() Config {
	if c.StockFreshness <= 0 {
		c.StockFreshness = 30 * time.Second
	}
	if c.KeepRuns <= 0 {
		c.KeepRuns = 10000
	}
	if c.KeepFor <= 0 {
		c.KeepFor = 30 * 24 * time.Hour
	}
	return c
}

// Engine is a validated configuration, ready to run tickets. It is
// immutable and shared by all requests.
type Engine struct {
	cfg  Config
	orgs map[string]*orgRules
	def  *orgRules
}

type orgRules struct {
	allCompanies bool
	rules        []*rule
}

type rule struct {
	name     string
	partial  bool
	criteria []*criterion
}

type criterion struct {
	name  string // "<algorithm>" or "<algorithm>#n" when repeated
	final bool
	alg   Algorithm
}

// NewEngine validates a configuration: every algorithm known, every
// parameter valid, no criterion after a final one; errors name the
// organization, rule and criterion.
func NewEngine(c Config) (*Engine, error) {
	c = c.withDefaults()
	e := &Engine{cfg: c, orgs: map[string]*orgRules{}}
	orgs := c.Organizations
	if len(orgs) == 0 {
		orgs = map[string]OrgConfig{"*": DefaultRules()}
	}
	var errs []error
	for name, oc := range orgs {
		or, err := compileOrg(oc)
		if err != nil {
			errs = append(errs, fmt.Errorf("oms.organizations[%q]: %w", name, err))
			continue
		}
		if name == "*" {
			e.def = or
		} else {
			e.orgs[strings.ToLower(name)] = or
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return e, nil
}

// Config returns the configuration with defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

func compileOrg(oc OrgConfig) (*orgRules, error) {
	if len(oc.Rules) == 0 {
		return nil, errors.New("no rules")
	}
	or := &orgRules{allCompanies: oc.AllCompanies}
	var errs []error
	for i, rc := range oc.Rules {
		name := rc.Name
		if name == "" {
			name = fmt.Sprintf("rule %d", i+1)
		}
		r := &rule{name: name, partial: rc.Partial}
		if len(rc.Criteria) == 0 {
			errs = append(errs, fmt.Errorf("rule %q: no criteria", name))
		}
		seen := map[string]int{}
		finalAt := 0 // 1-based: the criterion marked final
		for j, cc := range rc.Criteria {
			if finalAt > 0 {
				// Final ends the criteria: one after it would never run.
				errs = append(errs, fmt.Errorf("rule %q, criterion %d (%s): comes after criterion %d (%s), which is final; remove it or the final mark",
					name, j+1, cc.Algorithm, finalAt, rc.Criteria[finalAt-1].Algorithm))
				break
			}
			if cc.Final {
				finalAt = j + 1
			}
			alg, err := newAlgorithm(cc.Algorithm, cc.Params)
			if err != nil {
				errs = append(errs, fmt.Errorf("rule %q, criterion %d: %w", name, j+1, err))
				continue
			}
			seen[cc.Algorithm]++
			cn := cc.Algorithm
			if seen[cc.Algorithm] > 1 {
				cn = fmt.Sprintf("%s#%d", cc.Algorithm, seen[cc.Algorithm])
			}
			r.criteria = append(r.criteria, &criterion{name: cn, final: cc.Final, alg: alg})
		}
		or.rules = append(or.rules, r)
	}
	return or, errors.Join(errs...)
}

// rulesFor finds a company's rules: by name, by id, else the "*" entry.
func (e *Engine) rulesFor(c *Company) *orgRules {
	if r := e.orgs[strings.ToLower(c.Name)]; r != nil {
		return r
	}
	if r := e.orgs[fmt.Sprint(c.ID)]; r != nil {
		return r
	}
	return e.def
}
