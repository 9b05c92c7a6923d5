package export

import "sync"

// onceMap computes a value once per key, however many goroutines ask at
// the same time (the others wait for the first): fields_get per model,
// a model's first change check.
type onceMap[V any] struct {
	mu sync.Mutex
	m  map[string]*onceEntry[V]
}

type onceEntry[V any] struct {
	once sync.Once
	v    V
	err  error
	done bool // under onceMap.mu: v and err are set
}

// get returns key's value, computing it with fn the first time.
func (o *onceMap[V]) get(key string, fn func() (V, error)) (V, error) {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[string]*onceEntry[V]{}
	}
	e, ok := o.m[key]
	if !ok {
		e = &onceEntry[V]{}
		o.m[key] = e
	}
	o.mu.Unlock()
	e.once.Do(func() {
		v, err := fn()
		o.mu.Lock()
		e.v, e.err, e.done = v, err, true
		o.mu.Unlock()
	})
	return e.v, e.err
}

// each calls fn, under the lock, for every key computed without error.
func (o *onceMap[V]) each(fn func(key string, v V)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, e := range o.m {
		if e.done && e.err == nil {
			fn(k, e.v)
		}
	}
}
