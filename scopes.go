package vial

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// This file orders the hooks for a request. Flask looks up, on every
// request, the functions of the App and of each blueprint the endpoint is
// in; vial orders them once, when the App starts serving, into a scope per
// blueprint, so a request to a nested blueprint's view ranges over one
// slice per hook, as a request to the App's own views does.

// A scope is the hooks that apply to the requests of one blueprint's
// views (or of the App's), in the order they run.
type scope struct {
	blueprints  []string                              // innermost first: "api.v1", "api"; nil for the App's
	before      []func(*Request) any                  // the App's, then outer to inner blueprint
	urlValues   []URLValueFunc                        // as before
	after       []func(*Request, *Response) *Response // inner blueprint to App, each newest first
	teardown    []func(*Request, error)               // as after
	urlDefaults []URLValueFunc                        // as before
	handlers    []*hookSet                            // inner blueprint to App: where error handlers are looked up
}

// scopes is the App's scopes, built when first used once the App has
// started serving. Before that, registrations and the config may still
// change them: a URL built during setup gets a table built for it alone.
type scopes struct {
	mu    sync.Mutex
	table atomic.Pointer[scopeTable] // nil until built while serving
}

// A scopeTable is the scopes of the App and of each registered blueprint
// name; it does not change once built.
type scopeTable struct {
	root  *scope            // the App's own views, and requests that matched no rule
	named map[string]*scope // by blueprint name
	// subdomainMatching is Config SUBDOMAIN_MATCHING, read once: Flask's
	// subdomain_matching, fixed when the app is made.
	subdomainMatching bool
}

// subdomainMatching reports whether requests are matched in the subdomain
// of their host (Config SUBDOMAIN_MATCHING as the App started serving).
func (a *App) subdomainMatching() bool {
	if a.scopes.table.Load() == nil && !a.serving.Load() {
		return a.Config.Bool("SUBDOMAIN_MATCHING") // setup is not over
	}
	return a.scopeTable().subdomainMatching
}

// scopeOf returns the scope of r's rule: its blueprint's, or the App's
// when r matched no rule of a blueprint (or r is nil). r keeps it, for the
// later steps of the request.
func (a *App) scopeOf(r *Request) *scope {
	if r != nil && r.scope != nil {
		return r.scope // newRequest sets it: kept short to be inlined
	}
	return a.rootScope(r)
}

// rootScope is scopeOf for a request that has no scope yet (or none).
// Not inlined, so that scopeOf is.
//
//go:noinline
func (a *App) rootScope(r *Request) *scope {
	sc := a.blueprintScope("")
	if r != nil {
		r.scope = sc
	}
	return sc
}

// blueprintScope returns the scope of the blueprint registered as name,
// or the App's for "" (or a name not registered).
func (a *App) blueprintScope(name string) *scope {
	t := a.scopeTable()
	if name == "" {
		return t.root
	}
	if sc := t.named[name]; sc != nil {
		return sc
	}
	return t.root
}

// scopeTable returns the App's scopes: those built on the first request,
// or, before the App serves, scopes of its setup so far, kept for no one
// else.
func (a *App) scopeTable() *scopeTable {
	if t := a.scopes.table.Load(); t != nil {
		return t
	}
	a.scopes.mu.Lock()
	defer a.scopes.mu.Unlock()
	if t := a.scopes.table.Load(); t != nil {
		return t
	}
	t := a.buildScopes()
	if a.serving.Load() { // setup is over: nothing it reads changes any more
		a.scopes.table.Store(t)
	}
	return t
}

// buildScopes orders the hooks of the App and of each registered
// blueprint name.
func (a *App) buildScopes() *scopeTable {
	t := &scopeTable{
		subdomainMatching: a.Config.Bool("SUBDOMAIN_MATCHING"),
		root:              a.newScope(nil),
		named:             make(map[string]*scope, len(a.blueprintHooks)),
	}
	for name := range a.blueprintHooks {
		t.named[name] = a.newScope(blueprintPath(name))
	}
	return t
}

// blueprintPath is the names of a blueprint and of those it is nested in,
// innermost first: "api.v1" gives "api.v1", "api" (Flask's
// _split_blueprint_path).
func blueprintPath(name string) []string {
	var path []string
	for name != "" {
		path = append(path, name)
		i := strings.LastIndexByte(name, '.')
		if i < 0 {
			break
		}
		name = name[:i]
	}
	return path
}

// newScope orders the hooks of the App and of the blueprints of path
// (innermost first) as Flask runs them.
func (a *App) newScope(path []string) *scope {
	sets := []*hookSet{&a.hooks} // the App, then outer to inner
	for _, name := range slices.Backward(path) {
		if h := a.blueprintHooks[name]; h != nil {
			sets = append(sets, h)
		}
	}
	sc := &scope{blueprints: path}
	for _, h := range sets {
		sc.before = append(sc.before, h.beforeRequest...)
		sc.urlValues = append(sc.urlValues, h.urlValuePreproc...)
		sc.urlDefaults = append(sc.urlDefaults, h.urlDefaults...)
	}
	for _, h := range slices.Backward(sets) { // inner to outer to the App
		sc.after = appendNewestFirst(sc.after, h.afterRequest)
		sc.teardown = appendNewestFirst(sc.teardown, h.teardownRequest)
		sc.handlers = append(sc.handlers, h)
	}
	return sc
}

func appendNewestFirst[T any](dst, fns []T) []T {
	for _, fn := range slices.Backward(fns) {
		dst = append(dst, fn)
	}
	return dst
}
