package vial

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/validate"
)

// This file is Flask's test client: a gateway server that calls the App
// in-process, without sockets, so that tests see what a client would.

// maxRedirects is how many redirects a [Client] follows for one request.
const maxRedirects = 10

// A Client calls an App the way a server would, in-process, and hands back
// what a client would get: Flask's test client. Make one with
// [App.TestClient].
//
//	client := app.TestClient()
//	resp := client.Get("/search?q=go", vial.WithHeader("Accept", "application/json"))
//	if resp.StatusCode != 200 { … }
//
// For each request the client builds a [gateway.Environ] (host "localhost",
// or the App's SERVER_NAME; scheme "http", or PREFERRED_URL_SCHEME;
// SCRIPT_NAME from APPLICATION_ROOT; REMOTE_ADDR 127.0.0.1; HTTP/1.1), and
// serves it with [gatewaytest.Serve], on the response state machine every
// server runs, the App wrapped in [validate.Wrap], inside the middleware
// of [App.Use] and [App.Wrap], so a test runs the whole stack. The App is
// therefore checked against the gateway contract on every request: a
// broken rule panics with a *[validate.Violation] naming it.
//
// A panic that comes out of the App (a contract violation, a streaming body
// failing halfway, a bug in vial) is passed on to the test once the body
// has been closed, with its original value, so that the test fails on it. Panics in views and hooks get that far only when the
// App propagates errors (Config TESTING or DEBUG set, or
// PROPAGATE_EXCEPTIONS, as in Flask); otherwise the App turns them into 500
// responses, as it does in production. A failure
// that a server reports without a panic, such as a body shorter than its
// Content-Length, is recorded in [TestResponse.Err].
//
// The client keeps cookies: Set-Cookie headers of the responses go into a
// cookie jar, and later requests send them back. It follows redirects when
// FollowRedirects is set.
//
// The App does not recycle the Requests the client makes (see [Request]): a
// test may look at one, caught by a hook or a signal receiver, after its
// response has come back.
//
// A Client may be used by several goroutines at once, provided its fields
// are not changed meanwhile.
type Client struct {
	// FollowRedirects makes the client follow redirects (301, 302, 303,
	// 307, 308) instead of returning them; [WithFollowRedirects] decides
	// for one request. The redirects followed are in [TestResponse.History].
	FollowRedirects bool

	// DefaultOptions apply to every request, before the request's own:
	// a header or cookie all requests send, say.
	DefaultOptions []RequestOption

	// Errors receives what the App writes to gateway.errors; nil means
	// os.Stderr.
	Errors io.Writer

	app    *App
	gwOnce sync.Once
	gw     gateway.Application // the App's whole stack, built on the first request
	base   *url.URL            // scheme://host/ of the App: where SetCookie puts cookies

	mu  sync.Mutex // guards jar, which ClearCookies replaces
	jar *cookiejar.Jar
}

// TestClient returns a test client for the App: Flask's app.test_client().
// Each client has its own cookie jar.
func (a *App) TestClient() *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic("vial: TestClient: " + err.Error()) // cookiejar.New(nil) does not fail
	}
	scheme, host, _ := a.testBase()
	return &Client{
		app:  a,
		jar:  jar,
		base: &url.URL{Scheme: scheme, Host: host, Path: "/"},
	}
}

// Get sends a GET request for target: a path ("/search?q=go") or an
// absolute URL ("https://localhost/x", whose scheme and host the request
// takes).
func (c *Client) Get(target string, opts ...RequestOption) *TestResponse {
	return c.Open(http.MethodGet, target, opts...)
}

// Post sends a POST request for target; see [Client.Get].
func (c *Client) Post(target string, opts ...RequestOption) *TestResponse {
	return c.Open(http.MethodPost, target, opts...)
}

// Put sends a PUT request for target; see [Client.Get].
func (c *Client) Put(target string, opts ...RequestOption) *TestResponse {
	return c.Open(http.MethodPut, target, opts...)
}

// Patch sends a PATCH request for target; see [Client.Get].
func (c *Client) Patch(target string, opts ...RequestOption) *TestResponse {
	return c.Open(http.MethodPatch, target, opts...)
}

// Delete sends a DELETE request for target; see [Client.Get].
func (c *Client) Delete(target string, opts ...RequestOption) *TestResponse {
	return c.Open(http.MethodDelete, target, opts...)
}

// Head sends a HEAD request for target; see [Client.Get]. As a server does,
// the client runs the body only until the App has started the response,
// then closes it: the response has the headers and no body.
func (c *Client) Head(target string, opts ...RequestOption) *TestResponse {
	return c.Open(http.MethodHead, target, opts...)
}

// Options sends an OPTIONS request for target; see [Client.Get].
func (c *Client) Options(target string, opts ...RequestOption) *TestResponse {
	return c.Open(http.MethodOptions, target, opts...)
}

// Open sends a request with the given method for target (a path with an
// optional query string, or an absolute URL) and returns the response,
// after following redirects if asked to. The options add headers, query
// values, a body, cookies, or change the environ (see [RequestOption]).
//
// Open panics on options it cannot honour (a JSON value that does not
// encode, a body combined with form fields), a target it cannot parse, and
// a redirect to another host, which it cannot follow; these are mistakes in
// the test. It passes on panics from the App, as [Client] describes.
func (c *Client) Open(method, target string, opts ...RequestOption) *TestResponse {
	all := opts
	if len(c.DefaultOptions) > 0 {
		all = append(slices.Clip(c.DefaultOptions), opts...)
	}
	spec := c.app.newTestRequest(method, target, all)
	follow := c.FollowRedirects
	if spec.follow != nil {
		follow = *spec.follow
	}
	var history []*TestResponse
	for {
		resp := c.do(spec)
		var next *testRequest
		if follow && len(history) < maxRedirects {
			next = spec.redirect(resp)
		}
		if next == nil {
			resp.History = history
			return resp
		}
		history = append(history, resp)
		spec = next
	}
}

// do sends one request: cookies from the jar in, Set-Cookie back into it.
func (c *Client) do(spec *testRequest) *TestResponse {
	u := spec.url()
	env, req := spec.environ(c.cookieJar().Cookies(u), c.errors())
	c.gwOnce.Do(func() { c.gw = c.app.gatewayStack(validate.Wrap(c.app)) })
	resp := serveTest(c.gw, env, req)
	if cookies := resp.Cookies(); len(cookies) > 0 {
		c.cookieJar().SetCookies(u, cookies)
	}
	return resp
}

func (c *Client) cookieJar() *cookiejar.Jar {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jar
}

func (c *Client) errors() io.Writer {
	if c.Errors != nil {
		return c.Errors
	}
	return os.Stderr
}

// SetCookie stores a cookie in the client's jar, as though the App had set
// it for the whole site (path "/"): later requests send it.
func (c *Client) SetCookie(name, value string) {
	c.cookieJar().SetCookies(c.base, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Cookie returns the value of the cookie name that the client would send
// with a request for the root of the site ("/"), or "" when it has none.
// Use [Client.Cookies] for other paths.
func (c *Client) Cookie(name string) string {
	for _, ck := range c.cookieJar().Cookies(c.base) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// Cookies returns the cookies the client would send with a request for
// target (a path or an absolute URL).
func (c *Client) Cookies(target string) []*http.Cookie {
	return c.cookieJar().Cookies(c.app.newTestRequest(http.MethodGet, target, nil).url())
}

// ClearCookies empties the client's cookie jar.
func (c *Client) ClearCookies() {
	jar, _ := cookiejar.New(nil)
	c.mu.Lock()
	c.jar = jar
	c.mu.Unlock()
}

// TestRequestContext returns the Request the App would make for a request
// (matched against the URL map, with its endpoint and view arguments) and a
// function that tears it down: Flask's app.test_request_context(). Use it to
// test code that needs a request without dispatching one: r.URLFor, r.Args,
// r.Form, r.JSON ….
//
//	r, done := app.TestRequestContext("GET", "/user/42?tab=posts")
//	defer done()
//	fmt.Println(r.Endpoint, r.ViewArgs["id"], r.Args().Get("tab"))
//
// The request is built exactly as [App.TestClient] builds one, from the same
// options (without a cookie jar: use [WithCookie]). Making it sends
// AppContextPushed, as pushing Flask's context does, and runs no hook; the
// teardown function runs what the end of a real request runs (the
// teardown-request and teardown-appcontext functions and their signals),
// once however often it is called.
func (a *App) TestRequestContext(method, target string, opts ...RequestOption) (*Request, func()) {
	spec := a.newTestRequest(method, target, opts)
	env, _ := spec.environ(nil, os.Stderr)
	ctx, cancel := context.WithCancel(env.Context())
	env.SetContext(ctx)
	r := a.newRequest(env)
	AppContextPushed.Send(a, r)
	var once sync.Once
	return r, func() {
		once.Do(func() {
			defer cancel()
			_ = r.tearDown() // kept, not recycled: the environ says preserve
		})
	}
}

// testBase returns the scheme, host and script root test requests use by
// default, from the config as Flask's test client takes them:
// PREFERRED_URL_SCHEME, SERVER_NAME ("localhost" when empty) and
// APPLICATION_ROOT.
func (a *App) testBase() (scheme, host, scriptRoot string) {
	scheme = a.Config.String("PREFERRED_URL_SCHEME")
	if scheme == "" {
		scheme = "http"
	}
	host = a.Config.String("SERVER_NAME")
	if host == "" {
		host = "localhost"
	}
	return scheme, host, strings.TrimRight(a.Config.String("APPLICATION_ROOT"), "/")
}
