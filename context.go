package vial

import (
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/vial-go/vial/gateway"
)

// This file is the request's context, as Flask's request context is
// apart from its app: what ServeGateway does around the pipeline of
// dispatch.go. The Request is made and its URL matched when a request
// comes in (newRequest); it is torn down when the server closes the body
// ServeGateway returned (requestBody.Close), which runs the teardown
// functions and sends the teardown signals, and then it goes back to the
// pool for a later request (release).

// newRequest builds the Request for env and matches its URL, as Flask's
// request context does when it is pushed. A routing failure (an untrusted
// host, a 404, 405 or redirect) is kept, to be raised by DispatchRequest
// after the before-request functions have run.
func (a *App) newRequest(env *gateway.Environ) *Request {
	r := requestPool.Get().(*Request)
	r.Environ = env
	r.Method = env.Method
	r.Path = env.PathInfo
	r.ScriptRoot = env.ScriptName
	r.Header = env.Header
	r.RemoteAddr = env.RemoteAddr
	r.app = a
	t := a.scopeTable()
	r.scope = t.root // the App's, unless a blueprint's rule matches
	if r.Path == "" {
		r.Path = "/"
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if err := a.checkHost(r); err != nil { // TRUSTED_HOSTS, before matching as in Flask
		r.routingErr = err
		return r
	}
	rule, args, err := a.match(r, t)
	if args != nil {
		r.argsBuf = args
	}
	if err != nil {
		r.routingErr = a.absoluteRedirect(r, err)
		return r
	}
	r.URLRule, r.Endpoint, r.ViewArgs = rule, rule.Endpoint, args
	env.Note("endpoint", rule.Endpoint) // for the access log
	if rule.blueprint != "" {
		if sc := t.named[rule.blueprint]; sc != nil {
			r.scope = sc
		}
		r.Blueprint, r.Blueprints = rule.blueprint, r.scope.blueprints
	}
	return r
}

// match matches the request's URL. A panic there (in a custom converter)
// is kept as the routing error, so that it is handled like any panic in the
// request: error handlers, then a 500.
func (a *App) match(r *Request, t *scopeTable) (rule *Rule, args map[string]any, err error) {
	defer func() {
		if v := recover(); v != nil {
			rule, args, err = nil, nil, panicked(v)
		}
	}()
	sub := "" // the default subdomain, unless SUBDOMAIN_MATCHING (read once, as the App starts serving)
	if t.subdomainMatching {
		sub = a.requestSubdomain(r)
	}
	return a.URLMap.matchIn(sub, r.Path, r.Method, r.argsBuf)
}

// requestSubdomain is r's subdomain, as Flask's create_url_adapter binds
// the URL map: with SUBDOMAIN_MATCHING set and SERVER_NAME
// ("example.com"), the host minus "."+SERVER_NAME ("api" for
// api.example.com, "" for example.com), both lower-cased and without the
// scheme's default port, as werkzeug's bind_to_environ compares them; a
// host not under SERVER_NAME is werkzeug's "<invalid>", whose requests
// match no rule (a 404). Otherwise the default subdomain, "".
func (a *App) requestSubdomain(r *Request) string {
	if !a.subdomainMatching() {
		return ""
	}
	server := a.Config.String("SERVER_NAME")
	if server == "" {
		return ""
	}
	scheme := r.Environ.URLScheme
	host := r.Environ.HostURL()
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	host = withoutDefaultPort(strings.ToLower(host), scheme)
	server = withoutDefaultPort(strings.ToLower(server), scheme)
	switch {
	case host == server:
		return ""
	case strings.HasSuffix(host, "."+server):
		return host[:len(host)-len(server)-1]
	}
	return invalidSubdomain
}

// withoutDefaultPort strips ":80" from an http (or ws) host, ":443" from
// an https (or wss) one.
func withoutDefaultPort(host, scheme string) string {
	switch scheme {
	case "", "http", "ws":
		return strings.TrimSuffix(host, ":80")
	case "https", "wss":
		return strings.TrimSuffix(host, ":443")
	}
	return host
}

// absoluteRedirect makes a routing redirect's Location absolute and keeps
// the query string, as werkzeug does.
func (a *App) absoluteRedirect(r *Request, err error) error {
	he, ok := err.(*HTTPError)
	if !ok || he.Code < 300 || he.Code > 399 {
		return err
	}
	loc := he.Header.Get("Location")
	if strings.HasPrefix(loc, "/") {
		loc = r.HostURL() + (&url.URL{Path: r.ScriptRoot + loc}).EscapedPath()
		if q := r.Environ.QueryString; q != "" {
			// The raw query may hold what a Location must not (a request
			// built in code, CGI's QUERY_STRING): a NUL, a line break.
			loc += "?" + iriToURI(q)
		}
	}
	redirect := *he
	redirect.Header = gateway.Headers{{Name: "Location", Value: loc}}
	return &redirect
}

// requestBody is the body ServeGateway returns: the response's body, with
// the request's teardown run when the server closes it. It is made for
// each request, not recycled with the Request: a second Close, from a
// server that breaks the gateway contract, finds it spent instead of
// tearing down the request the Request serves by then.
type requestBody struct {
	r *Request // nil once closed
}

// Chunks produces the response's chunks. A panic while producing them (a
// streaming view failing halfway) is recorded as the request's error,
// reported through GotRequestException, and passed on to the server, which
// aborts the response.
func (b *requestBody) Chunks(yield func([]byte) bool) {
	r := b.r
	if r == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			err := panicked(v)
			r.err = err
			r.escaped = true
			GotRequestException.Send(r.app, &RequestError{Request: r, Err: err})
			panic(v)
		}
	}()
	r.inner.Chunks(yield)
}

// Err reports a body that ended early.
func (b *requestBody) Err() error {
	if b.r == nil {
		return nil
	}
	return gateway.BodyErr(b.r.inner)
}

// Unwrap returns the response's own body, so the server can use its
// WriterTo and Len.
func (b *requestBody) Unwrap() gateway.Body {
	if b.r == nil || b.r.inner == nil {
		return spentBody{}
	}
	return b.r.inner
}

// Close closes the response body, then tears the request down: the
// teardown-request functions newest first, RequestTearingDown, then the
// application context: teardown-appcontext functions, AppContextTearingDown
// and AppContextPopped. A panic in any of them is logged and the rest still
// run. Closing again does nothing.
func (b *requestBody) Close() error {
	r := b.r
	if r == nil {
		return nil
	}
	b.r = nil
	return r.tearDown()
}

// spentBody is what a closed requestBody unwraps to: empty.
type spentBody struct{}

func (spentBody) Chunks(func([]byte) bool) {}
func (spentBody) Close() error             { return nil }

// tearDown closes r's response body and runs what ends a request (see
// requestBody.Close), then recycles r.
func (r *Request) tearDown() error {
	a := r.app
	var err error
	if r.inner != nil { // nil when the request failed before it had a body
		err = a.guard("closing the response body", func() error { return r.inner.Close() })
	}
	a.doTeardownRequest(r, r.err)
	a.doTeardownAppContext(r, r.err)
	r.cleanup()
	r.release()
	return err
}

// doTeardownRequest runs the teardown-request functions, newest first, and
// sends RequestTearingDown. err is the unhandled error that ended the
// request, or nil.
func (a *App) doTeardownRequest(r *Request, err error) {
	for _, fn := range a.scopeOf(r).teardown {
		a.guard("a teardown-request function", func() error { fn(r, err); return nil })
	}
	if RequestTearingDown.HasReceiversFor(a) { // the payload escapes: make it only for a listener
		RequestTearingDown.Send(a, &Teardown{Request: r, Err: err})
	}
}

// doTeardownAppContext runs the teardown-appcontext functions, newest
// first, and sends AppContextTearingDown, then AppContextPopped.
func (a *App) doTeardownAppContext(r *Request, err error) {
	for i := len(a.teardownAppContext) - 1; i >= 0; i-- {
		fn := a.teardownAppContext[i]
		a.guard("a teardown-appcontext function", func() error { fn(r, err); return nil })
	}
	if AppContextTearingDown.HasReceiversFor(a) {
		AppContextTearingDown.Send(a, &Teardown{Request: r, Err: err})
	}
	AppContextPopped.Send(a, r)
}

// guard runs fn, logging its error or panic instead of letting it escape.
func (a *App) guard(what string, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			// Not panicked(v): an *HTTPError (an accessor's 400) has no
			// stack of its own to log.
			pe := &PanicError{Value: v, Stack: debug.Stack()}
			err = pe
			a.logger().Error("vial: panic in "+what, "error", err, "stack", string(pe.Stack))
		}
	}()
	return fn()
}

// requestPool holds the Requests ServeGateway has finished with. A
// Request is documented as valid until its teardown, as the Environ under
// it is: recycling it, with its view-arguments map, saves the two largest
// allocations of a request, as gin, echo and chi recycle their contexts.
var requestPool = sync.Pool{New: func() any { return new(Request) }}

// maxRecycledArgs bounds the view-arguments map a recycled Request keeps:
// up to 8 entries a map is a single group, past that a table not worth
// keeping.
const maxRecycledArgs = 8

// preserveRequestKey is the environ key that keeps the App from recycling
// the request once it is torn down: the test client sets it, so that tests
// may look at a request (caught by a signal or a hook) after its response,
// as Flask's test client preserves its contexts
// (werkzeug.debug.preserve_context).
const preserveRequestKey = "vial.preserve_request"

// release readies r for another request and puts it in the pool, unless
// a panic went up with it or the environ asks to preserve it. It runs last in the teardown: nothing of
// vial's uses r afterwards.
func (r *Request) release() {
	if r.escaped {
		return
	}
	if _, ok := r.Environ.Lookup(preserveRequestKey); ok {
		return
	}
	args := r.argsBuf
	if len(args) > maxRecycledArgs {
		args = nil
	}
	clear(args) // so that the pooled map keeps none of the values alive
	*r = Request{argsBuf: args}
	requestPool.Put(r)
}
