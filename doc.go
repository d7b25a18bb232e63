// Package vial is Flask's design in Go: an [App] maps URL rules to views,
// runs Flask's request pipeline with its hooks and signals, and is served by
// anything that speaks the [gateway] contract (PEP 3333 for Go) or
// net/http.
//
//	app := vial.New("hello")
//	app.Route("/")(func(r *vial.Request) any {
//		return "Hello, World!"
//	})
//	app.Get("/user/<int:id>", func(r *vial.Request) any {
//		return map[string]any{"id": r.ViewArgs["id"]} // a map is sent as JSON
//	})
//	http.ListenAndServe("127.0.0.1:5000", app)
//
// # Routing
//
// Rules use Flask's syntax, with werkzeug's converters: <name> (a string
// without "/"), <int:id>, <float:x>, <path:p>, <uuid:u>, <any(a,b):kind>,
// with options such as <int(min=1):page> or <string(length=2):code>.
// [URLMap].Converters takes custom ones. Matching follows werkzeug: the most
// specific rule wins whatever the registration order; a missing trailing
// slash redirects (308), a wrong method is a 405 with Allow, HEAD and
// OPTIONS are automatic. Each rule is a gorilla/mux route behind an index of
// static segments, so a request only tries the rules that can match.
// [App.URLFor] builds URLs back.
//
// # Blueprints
//
// A [Blueprint] groups views and hooks under a name and a URL prefix, as
// Flask's blueprints do: its endpoints are "auth.login", its
// before-request functions run for its requests only, and blueprints nest
// ("api.v1.users"). App and Blueprint share their registration methods
// through [Scaffold]. [MethodView] makes a view of a type with one method
// per HTTP verb, and [Decorate] wraps views as Flask's view decorators do.
//
// # The request pipeline
//
// [App.ServeGateway] runs, for each request, what Flask's
// full_dispatch_request runs, each step a public method: the
// before-first-request functions, [RequestStarted], [App.PreprocessRequest]
// (before-request hooks, the first non-nil result wins),
// [App.DispatchRequest] (the view), [App.HandleUserException] (error
// handlers), [App.FinalizeRequest] ([App.MakeResponse],
// [App.ProcessResponse] with the after-request hooks, [RequestFinished]),
// and for errors nothing handled, [App.HandleException] (a 500). The
// request is torn down when the server closes the response body, so a
// streaming view keeps its request until the last chunk. The App then
// recycles the [Request]; work that outlives it takes a [Request.Copy].
//
// A view returns a value: a string or []byte (HTML), a map, a struct (or a
// pointer to one) or a slice (JSON), a *[Response], an iterator or io.Reader
// (streamed), an http.Handler or a gateway.Application (called to answer,
// the headers the after-request hooks set applied on top), an error (an
// HTTP error from [Abort], or one for the error handlers). A panic anywhere in a
// view, hook or receiver becomes a 500; the server keeps serving.
//
// # Testing
//
// [App.TestClient] calls the App in-process, checked against the gateway
// contract by [validate.Wrap].
package vial

// Where each concern lives, in the order a request meets them:
//
//	app.go              App, New, route registration and its options
//	scaffold.go         Scaffold, what App and Blueprint share: Route, Get, AddURLRule …
//	blueprint.go        Blueprint, its options and its registration on an App
//	endpoint.go         endpoint names derived from view functions
//	methodview.go       MethodView, a view with one method per HTTP verb; decorate.go Decorate
//	config.go           Config, its loaders (FromFile, FromPrefixedEnv) and typed getters
//	logblock.go         NewLogHandler: a logged stack as a block of lines
//	middleware.go       Use (net/http middleware) and Wrap (gateway middleware), the stacks
//	mount.go            Mount: other applications under a prefix
//	serve.go            app.Run on the dev server
//	production.go       app.Serve, the production server: the drain and readiness;
//	                    production_options.go its options, production_listen.go and
//	                    production_{unix,linux,bsd,other}.go the listener, SO_REUSEPORT
//	cli.go              app.Main (Flask's command line); cli_command.go CLI, Command,
//	                    the click-style help and errors
//	trustedhosts.go     TRUSTED_HOSTS and HostIsTrusted, checked before the URL is matched
//	dispatch.go         ServeGateway and the pipeline, one method per step, top to bottom
//	context.go          the request's context: made, matched, torn down, recycled
//	routing.go          the URL map and its rules, matching (werkzeug's map)
//	rules.go            parsing and compiling a rule string (werkzeug's rules.py)
//	matcher.go          the index that picks the rule for a path (werkzeug's matcher)
//	converters.go       the converter interface and registry; converter_types.go the
//	                    built-in converters; uuid.go the UUID value
//	urlbuild.go         URLFor, Build and BuildError
//	hooks.go            the registries of the before, after, teardown and error hooks;
//	                    scopes.go orders them for a blueprint's requests
//	errors.go           HTTPError, Abort, the default error pages
//	session.go          Session, SessionInterface; session_cookie.go Flask's signed cookie
//	                    (internal/itsdangerous signs it, taggedjson.go its values); flash.go
//	request.go, g.go    Request and its per-request storage; request_headers.go the
//	                    headers werkzeug parses (Accept, Authorization, Range, ETags …)
//	makeresponse.go     what a view returns, made a Response; json.go the JSON
//	                    provider (Flask's app.json) and JSON
//	response.go         Response and how it is sent; appresponse.go a Response
//	                    that wraps an application, the hooks' headers on top;
//	                    response_headers.go ETags, Cache-Control, MakeConditional
//	signals.go          Signal and the request signals
//	testing.go          the test client; testing_request.go its requests,
//	                    testing_response.go what it hands back
