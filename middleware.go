package vial

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/vial-go/vial/gateway"
)

// This file is the App's middleware: net/http middleware registered with
// Use, gateway middleware with Wrap (and Mount, mount.go), and the stacks
// they make, built once for ServeHTTP, the dev server and the test client.

// Use adds net/http middleware around the App, outermost first: Use(a, b)
// serves a(b(app)), and a later call goes inside the earlier ones, so
// Use(a) then Use(b) is the same. It is honoured by [App.ServeHTTP],
// [App.Run], the run command of [App.Main] and the test client, and the
// middleware sits outside what [App.Wrap] adds:
//
//	app.Use(http.NewCrossOriginProtection().Handler)
//
// Below a mount point (SCRIPT_NAME: the App mounted with [App.Mount] or
// [middleware.Dispatcher], APPLICATION_ROOT in the test client) the
// middleware sees the App's path below it, as behind
// [net/http.StripPrefix], and [gateway.ScriptName] the mount point; a path
// it rewrites stays below the mount point.
//
// Use is setup: it panics once the App has served a request.
func (a *App) Use(mw ...func(http.Handler) http.Handler) {
	a.checkSetup("Use")
	for _, m := range mw {
		if m == nil {
			panic("vial: Use: nil middleware")
		}
	}
	a.use = append(a.use, mw...)
}

// Wrap wraps the App's gateway application in mw, as Flask's
// app.wsgi_app = Middleware(app.wsgi_app) does: each call wraps what the
// previous ones made, so the last call's middleware is the outermost of
// those Wrap adds. All of them sit inside the net/http middleware of
// [App.Use]. It is honoured wherever Use is. [App.Mount] is one more Wrap,
// in the same order.
//
//	app.Wrap(func(next gateway.Application) gateway.Application {
//		return middleware.ProxyFix(next, middleware.ProxyFixOptions{For: 1})
//	})
//
// Wrap is setup: it panics once the App has served a request.
func (a *App) Wrap(mw func(gateway.Application) gateway.Application) {
	a.checkSetup("Wrap")
	if mw == nil {
		panic("vial: Wrap: nil middleware")
	}
	a.wraps = append(a.wraps, mw)
}

// hasMiddleware reports whether Use or Wrap added any middleware.
func (a *App) hasMiddleware() bool { return len(a.use) > 0 || len(a.wraps) > 0 }

// endSetup marks the setup over: once a stack is built, middleware added
// later would be left out of it, so Use and Wrap must panic, whether or
// not a request has reached the App itself.
func (a *App) endSetup() {
	if !a.serving.Load() {
		a.serving.Store(true)
	}
}

// httpStack is what ServeHTTP serves when there is middleware, built on
// the first request.
func (a *App) httpStack() http.Handler {
	a.stackOnce.Do(func() {
		a.endSetup()
		a.stack = a.chain(gateway.Handler(a.wrapped(a)))
	})
	return a.stack
}

// wrapped is inner in the middleware of Wrap, the last call's outermost.
func (a *App) wrapped(inner gateway.Application) gateway.Application {
	for _, mw := range a.wraps {
		inner = mw(inner)
	}
	return inner
}

// chain is h in the middleware of Use, the first outermost.
func (a *App) chain(h http.Handler) http.Handler {
	for i := len(a.use) - 1; i >= 0; i-- {
		h = a.use[i](h)
	}
	return h
}

// gatewayStack is the whole stack around inner (the App, or the App
// checked by validate.Wrap) as a gateway application, for the servers that
// take one: the dev server and the test client. The net/http middleware
// runs on the bridges, gateway.FromHandler(chain(gateway.Handler(…))); the
// Environ the server made is carried across them, so that what net/http's
// request cannot hold (SCRIPT_NAME, gateway.errors, the server's flags and
// extension keys) still reaches the App. A panic goes on to the server, as
// it would without the middleware. outer is net/http middleware to put
// outside Use's, outermost first (App.Serve's access log).
func (a *App) gatewayStack(inner gateway.Application, outer ...func(http.Handler) http.Handler) gateway.Application {
	a.endSetup()
	app := a.wrapped(inner)
	if len(a.use) == 0 && len(outer) == 0 {
		return app
	}
	h := a.chain(&gateway.HTTPHandler{App: restoreEnviron{app}, PropagatePanics: true})
	for _, mw := range slices.Backward(outer) {
		h = mw(h)
	}
	return carryEnviron{gateway.FromHandler(h)}
}

// environKey is the context key under which carryEnviron puts the
// server's Environ.
type environKey struct{}

// carryEnviron puts the server's Environ into its context, where the
// request FromHandler makes keeps it, for restoreEnviron to find.
type carryEnviron struct{ app gateway.Application }

func (c carryEnviron) ServeGateway(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	env.SetContext(context.WithValue(env.Context(), environKey{}, env))
	return c.app.ServeGateway(env, start)
}

// restoreEnviron gives the Environ the bridge made back what the server's
// had and net/http's request could not carry. The net/http middleware saw
// the path below SCRIPT_NAME (as behind http.StripPrefix), so PATH_INFO is
// what it left, a rewrite included, and SCRIPT_NAME the server's.
type restoreEnviron struct{ app gateway.Application }

func (r restoreEnviron) ServeGateway(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	if orig, ok := env.Context().Value(environKey{}).(*gateway.Environ); ok {
		env.ScriptName = orig.ScriptName
		env.Errors = orig.Errors
		if env.Noter() == nil {
			env.SetNoter(orig.Noter())
		}
		env.Multithread, env.Multiprocess, env.RunOnce = orig.Multithread, orig.Multiprocess, orig.RunOnce
		for _, key := range orig.Keys() {
			// The HTTP_* keys are the request's headers, which a
			// middleware may have changed: those of the request stand.
			if _, set := env.Lookup(key); !set && !strings.HasPrefix(key, "HTTP_") {
				if v := orig.Get(key); v != "" {
					env.Set(key, v)
				}
			}
		}
	}
	return r.app.ServeGateway(env, start)
}
