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

// scopes is the App's scopes, built on first use and again after a
// registration changed them.
type scopes struct {
	ready atomic.Bool
	mu    sync.Mutex
	root  *scope            // the App's own views, and requests that matched no rule
	named map[string]*scope // by blueprint name
	// subdomainMatching is Config SUBDOMAIN_MATCHING, read once: Flask's
	// subdomain_matching, fixed when the app is made.
	subdomainMatching bool
}

// subdomainMatching reports whether requests are matched in the subdomain
// of their host (Config SUBDOMAIN_MATCHING as the App started serving).
func (a *App) subdomainMatching() bool {
	if !a.scopes.ready.Load() {
		a.buildScopes()
	}
	return a.scopes.subdomainMatching
}

// scopeOf returns the scope of r's rule: its blueprint's, or the App's
// when r matched no rule of a blueprint (or r is nil). r keeps it, for the
// later steps of the request.
func (a *App) scopeOf(r *Request) *scope {
	if r == nil {
		return a.blueprintScope("")
	}
	if r.scope == nil {
		r.scope = a.blueprintScope("")
	}
	return r.scope
}

// blueprintScope returns the scope of the blueprint registered as name,
// or the App's for "" (or a name not registered).
func (a *App) blueprintScope(name string) *scope {
	if !a.scopes.ready.Load() {
		a.buildScopes()
	}
	if name == "" {
		return a.scopes.root
	}
	if sc := a.scopes.named[name]; sc != nil {
		return sc
	}
	return a.scopes.root
}

// buildScopes orders the hooks of the App and of each registered
// blueprint name.
func (a *App) buildScopes() {
	a.scopes.mu.Lock()
	defer a.scopes.mu.Unlock()
	if a.scopes.ready.Load() {
		return
	}
	a.scopes.subdomainMatching = a.Config.Bool("SUBDOMAIN_MATCHING")
	a.scopes.root = a.newScope(nil)
	a.scopes.named = make(map[string]*scope, len(a.blueprintHooks))
	for name := range a.blueprintHooks {
		a.scopes.named[name] = a.newScope(blueprintPath(name))
	}
	a.scopes.ready.Store(true)
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
