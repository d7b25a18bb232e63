package vial

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/middleware"
)

// This file is Mount: other applications served under path prefixes of
// the App, werkzeug's DispatcherMiddleware around the App's wsgi_app, as
// one more entry of the Wrap middleware (middleware.go builds the stack).

// Mount serves h under prefix, as Flask's documented way to combine
// applications does:
//
//	app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/api": api})
//
// is
//
//	app.Mount("/api", api)
//
// A request for prefix or below it ("/api", "/api/users", not "/apix")
// goes to h, the others to the App. h sees itself at the root: the prefix
// moves from PATH_INFO to SCRIPT_NAME ([middleware.Dispatcher]). h is
//
//   - a *App, served with its own Use and Wrap middleware; its routing
//     matches the path below prefix, its URLFor and redirects put prefix
//     in front ("/api/users/1");
//   - a [gateway.Application], which sees SCRIPT_NAME "/api" and
//     PATH_INFO "/users";
//   - an [net/http.Handler] (a ServeMux, a chi router), which sees
//     r.URL.Path "/users" as behind [net/http.StripPrefix], and the
//     prefix in [gateway.ScriptName]. A request for prefix itself is
//     redirected (308) to prefix + "/", where a ServeMux would send the
//     empty path StripPrefix leaves to the App's root.
//
// Mount is one more [App.Wrap], in the order of the calls: the gateway
// middleware wrapped before it serves the App alone, the middleware
// wrapped after it serves the mounted applications too, and the
// net/http middleware of [App.Use] is outside them all. Consecutive Mount
// calls make one dispatcher, in which the longest prefix wins whatever
// their order. Mount is honoured wherever Wrap is: [App.ServeHTTP],
// [App.Run], the run command of [App.Main], the test client. The routes
// command lists the App's own rules only.
//
// Mount is setup: a prefix that does not start with "/" or ends with "/",
// one already mounted, a nil h, one of another type and a call once the
// App has served a request panic, naming the culprit.
func (a *App) Mount(prefix string, h any) {
	a.checkSetup("Mount")
	what := "vial: Mount(" + strconv.Quote(prefix) + "): "
	switch {
	case !strings.HasPrefix(prefix, "/"):
		panic(what + `the prefix does not start with "/"`)
	case strings.HasSuffix(prefix, "/"):
		panic(what + `the prefix ends with "/" (mount "/api", not "/api/"; not "/": that is the App's place)`)
	case isNil(h):
		panic(what + "nil application")
	}
	switch v := h.(type) {
	case *App:
		if v == a {
			panic(what + "an App cannot mount itself")
		}
	case gateway.Application, http.Handler:
	default:
		panic(fmt.Sprintf("%scannot mount a %T: want a *vial.App, a gateway.Application or an http.Handler", what, h))
	}
	if a.mounted[prefix] {
		panic(what + "the prefix is mounted already")
	}
	// Consecutive calls share the last layer; a Wrap between them starts
	// another.
	last := a.lastMount
	if last == nil || a.lastMountAt != len(a.wraps)-1 {
		last = &mountLayer{mounts: map[string]any{}}
		a.wraps = append(a.wraps, last.wrap)
		a.lastMount, a.lastMountAt = last, len(a.wraps)-1
	}
	if a.mounted == nil {
		a.mounted = map[string]bool{}
	}
	a.mounted[prefix] = true
	last.mounts[prefix] = h
}

// isNil reports whether h is nil or a nil pointer, func, map … in an
// interface, which would panic only when a request reached it.
func isNil(h any) bool {
	if h == nil {
		return true
	}
	switch v := reflect.ValueOf(h); v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Interface, reflect.Slice:
		return v.IsNil()
	}
	return false
}

// A mountLayer is what consecutive Mount calls mounted: one entry of the
// App's Wrap middleware, its method wrap, making one Dispatcher.
type mountLayer struct {
	mounts map[string]any // prefix → a *App, gateway.Application or http.Handler
}

// wrap is the Dispatcher around next. A mounted App's stack is built
// here, when the App's is, so that the App may still be set up after it
// was mounted.
func (l *mountLayer) wrap(next gateway.Application) gateway.Application {
	apps := make(map[string]gateway.Application, len(l.mounts))
	for prefix, h := range l.mounts {
		switch v := h.(type) {
		case *App:
			apps[prefix] = v.gatewayStack(v)
		case gateway.Application:
			apps[prefix] = v
		case http.Handler:
			apps[prefix] = gateway.FromHandler(slashRoot{v})
		}
	}
	return middleware.Dispatcher(next, apps)
}

// slashRoot redirects a request for the mount point itself ("/docs"),
// whose path below it is empty, to the mount point with a slash, with a
// 308 as the App's own rules redirect: a net/http handler such as a
// ServeMux would redirect the empty path to "/", the App's root.
type slashRoot struct{ h http.Handler }

func (s slashRoot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "" {
		s.h.ServeHTTP(w, r)
		return
	}
	target := gateway.ScriptName(r) + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusPermanentRedirect)
}
