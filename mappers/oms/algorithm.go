package oms

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Algorithm is one sourcing criterion's logic: it reads the input group and
// returns the output group, a filtered and/or re-prioritized copy. It must
// not change in.Group's backing array, and it must be safe to call from
// many goroutines (configuration is shared by all requests).
type Algorithm interface {
	Apply(in *Input) Group
}

// Factory builds an algorithm from its configured parameters; it reports
// bad or unknown parameters (see Params.Done).
type Factory func(p Params) (Algorithm, error)

type registration struct {
	doc     string
	factory Factory
}

var (
	registryMu sync.RWMutex
	registry   = map[string]registration{}
)

// Register makes an algorithm available to the configuration under name.
// It panics on a duplicate name: two algorithms cannot share one.
func Register(name, doc string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("oms: algorithm registered twice: " + name)
	}
	registry[name] = registration{doc: doc, factory: f}
}

// Algorithms lists the registered algorithms: name → one-line description.
func Algorithms() map[string]string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make(map[string]string, len(registry))
	for n, r := range registry {
		out[n] = r.doc
	}
	return out
}

func newAlgorithm(name string, params map[string]any) (Algorithm, error) {
	registryMu.RLock()
	r, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		names := slices.Sorted(maps.Keys(Algorithms()))
		return nil, fmt.Errorf("unknown algorithm %q (known: %s)", name, strings.Join(names, ", "))
	}
	p := Params{values: params, used: map[string]bool{}}
	a, err := r.factory(p)
	if err != nil {
		return nil, fmt.Errorf("algorithm %s: %w", name, err)
	}
	return a, nil
}

// Params are a criterion's configured parameters. Getters record what
// they read so that Done can reject parameters nobody reads (typos).
type Params struct {
	values map[string]any
	used   map[string]bool
}

func (p Params) get(name string) (any, bool) {
	p.used[name] = true
	v, ok := p.values[name]
	return v, ok && v != nil
}

// Float reads a number parameter.
func (p Params) Float(name string, def float64) (float64, error) {
	v, ok := p.get(name)
	if !ok {
		return def, nil
	}
	switch n := v.(type) {
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, fmt.Errorf("parameter %s: not a finite number", name)
		}
		return n, nil
	}
	return 0, fmt.Errorf("parameter %s: want a number, got %v", name, v)
}

// Int reads a whole-number parameter.
func (p Params) Int(name string, def int) (int, error) {
	f, err := p.Float(name, float64(def))
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("parameter %s: want a whole number, got %v", name, f)
	}
	return int(f), nil
}

// Bool reads a true/false parameter.
func (p Params) Bool(name string, def bool) (bool, error) {
	v, ok := p.get(name)
	if !ok {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, fmt.Errorf("parameter %s: want true or false, got %v", name, v)
	}
	return b, nil
}

// String reads a text parameter.
func (p Params) String(name, def string) (string, error) {
	v, ok := p.get(name)
	if !ok {
		return def, nil
	}
	s, isString := v.(string)
	if !isString {
		return "", fmt.Errorf("parameter %s: want text, got %v", name, v)
	}
	return s, nil
}

// Strings reads a list of texts (warehouse codes, say).
func (p Params) Strings(name string) ([]string, error) {
	v, ok := p.get(name)
	if !ok {
		return nil, nil
	}
	l, isList := v.([]any)
	if !isList {
		return nil, fmt.Errorf("parameter %s: want a list, got %v", name, v)
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, isString := e.(string)
		if !isString {
			return nil, fmt.Errorf("parameter %s: want texts, got %v", name, e)
		}
		out = append(out, s)
	}
	return out, nil
}

// Done reports parameters that were given but never read.
func (p Params) Done() error {
	var unknown []string
	for k := range p.values {
		if !p.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown parameter(s) %s", strings.Join(unknown, ", "))
	}
	return nil
}
