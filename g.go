package vial

import (
	"maps"
	"slices"
)

// G is per-request storage, Flask's g: a place for views and hooks to share
// values (a database connection opened in a before-request hook, the current
// user) for the duration of one request. The zero value is ready to use.
type G struct {
	m map[string]any
}

// Set stores value under key.
func (g *G) Set(key string, value any) {
	if g.m == nil {
		g.m = make(map[string]any)
	}
	g.m[key] = value
}

// Get returns the value stored under key, or nil.
func (g *G) Get(key string) any { return g.m[key] }

// Lookup returns the value stored under key and whether there is one.
func (g *G) Lookup(key string) (any, bool) {
	v, ok := g.m[key]
	return v, ok
}

// Has reports whether key has a value.
func (g *G) Has(key string) bool {
	_, ok := g.m[key]
	return ok
}

// Pop removes key and returns its value, or nil.
func (g *G) Pop(key string) any {
	v := g.m[key]
	delete(g.m, key)
	return v
}

// SetDefault returns the value under key, storing value there first if
// there is none.
func (g *G) SetDefault(key string, value any) any {
	if v, ok := g.m[key]; ok {
		return v
	}
	g.Set(key, value)
	return value
}

// Keys returns the stored keys, sorted.
func (g *G) Keys() []string { return slices.Sorted(maps.Keys(g.m)) }
