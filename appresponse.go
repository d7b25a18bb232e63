package vial

import (
	"net/http"
	"strings"

	"github.com/vial-go/vial/gateway"
)

// This file serves a Response that wraps a gateway application (a view
// returned one, or an http.Handler): the application answers, and what the
// Response itself was given on the way (by the after-request functions, by
// MakeResponse's status and headers) applies on top of its answer.

// serveApp runs the application r wraps, as werkzeug's Response.force_type
// makes a response of a WSGI application before Flask's after-request
// functions change it: the application's status and headers stand, and
// what r holds applies on top of them:
//
//   - a status other than 200 (or a custom status line) replaces the
//     application's;
//   - each header r holds replaces the application's fields of that name,
//     as a header set on the response would;
//   - Set-Cookie fields are added to the application's own.
//
// A response that holds neither costs nothing more: the application gets
// the server's start as it is.
func (r *Response) serveApp(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	if len(r.Header) > 0 || r.hasOwnStatus() {
		start = r.overlay(start)
	}
	return gateway.OnClose(r.rare.app.ServeGateway(env, start), r.runOnClose)
}

// hasOwnStatus reports whether r's status was changed from the 200 a new
// response has.
func (r *Response) hasOwnStatus() bool {
	return r.StatusCode != http.StatusOK || (r.rare != nil && r.rare.status != "")
}

// overlay returns the start the wrapped application calls: start, with r's
// status and headers applied on top of the application's, each time it is
// called (a call with excInfo that replaces the headers too).
func (r *Response) overlay(start gateway.StartResponse) gateway.StartResponse {
	return func(status string, headers gateway.Headers, excInfo ...error) gateway.WriteFunc {
		if r.hasOwnStatus() {
			status = r.Status()
		}
		return start(status, overlayHeaders(headers, r.Header), excInfo...)
	}
}

// overlayHeaders returns the application's headers without the fields top
// replaces, then top's fields. Neither slice is changed: the application
// may keep its own.
func overlayHeaders(app, top gateway.Headers) gateway.Headers {
	out := make(gateway.Headers, 0, len(app)+len(top))
	for _, f := range app {
		if top.Has(f.Name) && !strings.EqualFold(f.Name, "Set-Cookie") {
			continue
		}
		out = append(out, f)
	}
	return append(out, top...)
}
