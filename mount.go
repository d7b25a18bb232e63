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
//     prefix in [gateway.ScriptName]. For prefix itself its path is "",
//     as StripPrefix gives it.
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
	for _, w := range a.wraps {
		if l := layerOf(w); l != nil && l.mounts[prefix] != nil {
			panic(what + "the prefix is mounted already")
		}
	}
	var last *mountLayer // the layer to add to: the last Wrap, if it is one
	if n := len(a.wraps); n > 0 {
		last = layerOf(a.wraps[n-1])
	}
	if last == nil {
		last = &mountLayer{mounts: map[string]any{}}
		a.wraps = append(a.wraps, last.wrap)
	}
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
// was mounted. Given a *layerProbe, it says which layer it is instead.
func (l *mountLayer) wrap(next gateway.Application) gateway.Application {
	if p, ok := next.(*layerProbe); ok {
		p.layer = l
		return p
	}
	apps := make(map[string]gateway.Application, len(l.mounts))
	for prefix, h := range l.mounts {
		switch v := h.(type) {
		case *App:
			apps[prefix] = v.gatewayStack(v)
		case gateway.Application:
			apps[prefix] = v
		case http.Handler:
			apps[prefix] = gateway.FromHandler(v)
		}
	}
	return middleware.Dispatcher(next, apps)
}

// mountWrapPC is the code of every mountLayer's wrap method value: the
// App keeps its mounts among Wrap's functions, and this tells them apart.
var mountWrapPC = reflect.ValueOf((*mountLayer)(nil).wrap).Pointer()

// layerOf returns the mountLayer w is the wrap of, or nil if w is a
// function Wrap was given.
func layerOf(w func(gateway.Application) gateway.Application) *mountLayer {
	if reflect.ValueOf(w).Pointer() != mountWrapPC {
		return nil
	}
	p := &layerProbe{}
	w(p)
	return p.layer
}

// A layerProbe asks a mountLayer's wrap which layer it is. It is never
// served.
type layerProbe struct{ layer *mountLayer }

func (*layerProbe) ServeGateway(*gateway.Environ, gateway.StartResponse) gateway.Body {
	panic("vial: a mount layer's probe was served")
}
