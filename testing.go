package vial

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/gatewaytest"
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
// server runs, the App wrapped in [validate.Wrap]. The App is therefore
// checked against the gateway contract on every request: a broken rule
// panics with a *[validate.Violation] naming it.
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

	app  *App
	gw   gateway.Application
	base *url.URL // scheme://host/ of the App: where SetCookie puts cookies

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
		gw:   validate.Wrap(a),
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

// A RequestOption adds to or changes a test request: headers, query values,
// a body, cookies, the environ. Options apply in order; for the body, the
// last of [WithJSON], [WithBody] and [WithBodyReader] wins, and form fields
// ([WithForm], [WithFormValue], [WithFile]) make the body a form.
type RequestOption func(*testRequest)

// WithHeader adds a request header. A Host header sets the host the request
// is for (HTTP_HOST, SERVER_NAME and SERVER_PORT); a Content-Type header
// overrides the one a body option chose.
func WithHeader(name, value string) RequestOption {
	return func(t *testRequest) { t.header.Add(name, value) }
}

// WithQuery adds key=value to the query string, after any query the target
// already has (WithQuery("page", "2") on "/search?q=go" requests
// "/search?q=go&page=2").
func WithQuery(key, value string) RequestOption {
	return func(t *testRequest) { t.query = append(t.query, [2]string{key, value}) }
}

// WithQueryValues adds every value of values to the query string, keys in
// sorted order, as [WithQuery] adds one.
func WithQueryValues(values url.Values) RequestOption {
	return func(t *testRequest) {
		for _, k := range slices.Sorted(maps.Keys(values)) {
			for _, v := range values[k] {
				t.query = append(t.query, [2]string{k, v})
			}
		}
	}
}

// WithJSON makes v, encoded as JSON, the request body, with Content-Type
// application/json. A value that cannot be encoded panics when the request
// is made.
func WithJSON(v any) RequestOption {
	return func(t *testRequest) {
		data, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("vial: WithJSON(%T): %v", v, err))
		}
		t.setBody("application/json", data)
	}
}

// WithBody makes body the request body, sent with the given Content-Type
// ("" for none).
func WithBody(contentType string, body []byte) RequestOption {
	return func(t *testRequest) { t.setBody(contentType, body) }
}

// WithBodyReader makes what r holds the request body, sent with the given
// Content-Type ("" for none). r is read to its end when the request is
// made, so the request has a Content-Length and a 307 or 308 redirect can
// send it again; a read error panics. For a body of unknown length, set
// Input and ContentLength with [WithEnviron].
func WithBodyReader(contentType string, r io.Reader) RequestOption {
	return func(t *testRequest) {
		data, err := io.ReadAll(r)
		if err != nil {
			panic("vial: WithBodyReader: " + err.Error())
		}
		t.setBody(contentType, data)
	}
}

// WithForm adds the fields of values to the request's form. Without files
// the body is application/x-www-form-urlencoded; with [WithFile] it is
// multipart/form-data.
func WithForm(values url.Values) RequestOption {
	return func(t *testRequest) {
		for k, vs := range values {
			t.form[k] = append(t.form[k], vs...)
		}
	}
}

// WithFormValue adds the field key=value to the request's form; see
// [WithForm].
func WithFormValue(key, value string) RequestOption {
	return func(t *testRequest) { t.form.Add(key, value) }
}

// WithFile adds a file upload to the request's form, which makes the body
// multipart/form-data: the file's part is named field, with the given file
// name and content, and a Content-Type guessed from the name's extension
// (application/octet-stream when unknown). A view reads it with
// [Request.File] or [Request.Files].
func WithFile(field, filename string, content []byte) RequestOption {
	return func(t *testRequest) {
		t.files = append(t.files, testFile{field, filename, content})
	}
}

// WithCookie sends the cookie name=value with this request only, besides
// those of the client's jar (and in front of them, so that it wins over a
// jar cookie of the same name).
func WithCookie(name, value string) RequestOption {
	return func(t *testRequest) { t.cookies = append(t.cookies, &http.Cookie{Name: name, Value: value}) }
}

// WithEnviron calls fn on the environ once the request's environ is built,
// just before the App is called, to set what no other option sets:
// REMOTE_ADDR, SCRIPT_NAME, an extension key, a context, a streaming Input ….
// The environ must still keep the gateway contract: the client checks it.
func WithEnviron(fn func(env *gateway.Environ)) RequestOption {
	return func(t *testRequest) { t.environFns = append(t.environFns, fn) }
}

// WithFollowRedirects overrides [Client.FollowRedirects] for one request.
func WithFollowRedirects(follow bool) RequestOption {
	return func(t *testRequest) { t.follow = &follow }
}

// testRequest is a test request being described by its options, and then
// sent, possibly several times over redirects.
type testRequest struct {
	method     string
	scheme     string
	host       string // with the port, if any
	scriptRoot string
	rawPath    string // below scriptRoot, still percent-encoded
	rawQuery   string

	header      http.Header
	query       [][2]string
	form        url.Values
	files       []testFile
	bodySet     bool
	body        []byte
	contentType string
	cookies     []*http.Cookie
	environFns  []func(*gateway.Environ)
	follow      *bool
}

type testFile struct {
	field, filename string
	content         []byte
}

// newTestRequest describes the request for method and target with opts
// applied, its body encoded.
func (a *App) newTestRequest(method, target string, opts []RequestOption) *testRequest {
	t := &testRequest{method: strings.ToUpper(method), header: http.Header{}, form: url.Values{}}
	t.scheme, t.host, t.scriptRoot = a.testBase()
	t.setTarget(target)
	for _, opt := range opts {
		opt(t)
	}
	if len(t.query) > 0 {
		var b strings.Builder
		b.WriteString(t.rawQuery)
		for _, kv := range t.query {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(kv[0]))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(kv[1]))
		}
		t.rawQuery, t.query = b.String(), nil
	}
	if len(t.form) > 0 || len(t.files) > 0 {
		if t.bodySet {
			panic(fmt.Sprintf("vial: test request %s %s: a body (WithJSON, WithBody) cannot go with form fields (WithForm, WithFile)", method, target))
		}
		t.encodeForm()
	}
	if h := t.header.Get("Host"); h != "" {
		t.host = h
	}
	t.header.Del("Host")
	if ct := t.header.Get("Content-Type"); ct != "" {
		t.contentType = ct
	}
	return t
}

// setTarget takes the scheme, host, path and query of target.
func (t *testRequest) setTarget(target string) {
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	lower := strings.ToLower(target)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		u, err := url.Parse(target)
		if err != nil {
			panic(fmt.Sprintf("vial: test request for %q: %v", target, err))
		}
		t.scheme = u.Scheme
		if u.Host != "" {
			t.host = u.Host
		}
		t.rawPath, t.rawQuery = u.EscapedPath(), u.RawQuery
	} else {
		t.rawPath, t.rawQuery, _ = strings.Cut(target, "?")
	}
	if !strings.HasPrefix(t.rawPath, "/") {
		t.rawPath = "/" + t.rawPath
	}
	if _, err := url.PathUnescape(t.rawPath); err != nil {
		panic(fmt.Sprintf("vial: test request for %q: the path is not valid percent-encoding: %v", target, err))
	}
}

func (t *testRequest) setBody(contentType string, body []byte) {
	t.bodySet, t.body, t.contentType = true, body, contentType
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// encodeForm makes the form fields and files the body.
func (t *testRequest) encodeForm() {
	if len(t.files) == 0 {
		t.setBody("application/x-www-form-urlencoded", []byte(t.form.Encode()))
		return
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, k := range slices.Sorted(maps.Keys(t.form)) {
		for _, v := range t.form[k] {
			w.WriteField(k, v) // writes to a bytes.Buffer do not fail
		}
	}
	for _, f := range t.files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`,
			quoteEscaper.Replace(f.field), quoteEscaper.Replace(f.filename)))
		ct := mime.TypeByExtension(path.Ext(f.filename))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		part, _ := w.CreatePart(h)
		part.Write(f.content)
	}
	w.Close()
	t.setBody(w.FormDataContentType(), buf.Bytes())
	t.form, t.files = url.Values{}, nil
}

// url is the absolute URL of the request, for the cookie jar and for
// resolving redirects.
func (t *testRequest) url() *url.URL {
	u := &url.URL{Scheme: t.scheme, Host: t.host, RawQuery: t.rawQuery}
	raw := t.scriptRoot + t.rawPath
	u.Path, _ = url.PathUnescape(raw)
	if u.EscapedPath() != raw {
		u.RawPath = raw
	}
	return u
}

// environ builds the request's environ, with jarCookies in its Cookie
// header, and records what was sent.
func (t *testRequest) environ(jarCookies []*http.Cookie, errs io.Writer) (*gateway.Environ, *TestRequest) {
	header := t.header.Clone()
	if cookies := append(slices.Clip(t.cookies), jarCookies...); len(cookies) > 0 {
		parts := make([]string, 0, len(cookies)+1)
		parts = append(parts, header.Values("Cookie")...)
		for _, c := range cookies {
			parts = append(parts, (&http.Cookie{Name: c.Name, Value: c.Value}).String())
		}
		header.Set("Cookie", strings.Join(parts, "; "))
	}
	pathInfo, _ := url.PathUnescape(t.rawPath) // checked by setTarget
	u := t.url()
	env := &gateway.Environ{
		Method:         t.method,
		ScriptName:     t.scriptRoot,
		PathInfo:       pathInfo,
		QueryString:    t.rawQuery,
		ServerProtocol: "HTTP/1.1",
		RemoteAddr:     "127.0.0.1",
		RequestURI:     u.RequestURI(),
		Host:           t.host,
		URLScheme:      t.scheme,
		Header:         header,
		Input:          bytes.NewReader(t.body),
		Errors:         errs,
	}
	env.ServerName, env.ServerPort = u.Hostname(), u.Port()
	if env.ServerPort == "" {
		env.ServerPort = "80"
		if t.scheme == "https" {
			env.ServerPort = "443"
		}
	}
	if t.bodySet {
		env.ContentLength = strconv.Itoa(len(t.body))
		header.Set("Content-Length", env.ContentLength)
	}
	if t.contentType != "" {
		env.ContentType = t.contentType
		header.Set("Content-Type", t.contentType)
	}
	env.SetContext(context.Background())
	env.Set(preserveRequestKey, true)
	for _, fn := range t.environFns {
		fn(env)
	}
	return env, &TestRequest{Method: t.method, URL: u, Header: header, Body: t.body, Environ: env}
}

// redirect returns the request that follows resp, or nil when resp is not
// a redirect the client follows. It panics on a redirect to another host,
// which an in-process client cannot reach.
func (t *testRequest) redirect(resp *TestResponse) *testRequest {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil
	}
	location := resp.Header.Get("Location")
	if location == "" {
		return nil
	}
	cur := t.url()
	to, err := cur.Parse(location)
	if err != nil {
		panic(fmt.Sprintf("vial: test client: the redirect from %s to %q: %v", cur, location, err))
	}
	if !strings.EqualFold(to.Host, cur.Host) {
		panic(fmt.Sprintf("vial: test client: cannot follow the redirect from %s to %s on another host", cur, to))
	}
	next := *t
	next.scheme, next.rawQuery = to.Scheme, to.RawQuery
	// As werkzeug does: a path under the script root stays under it, any
	// other leaves the application's root.
	p := to.EscapedPath()
	if rest, ok := strings.CutPrefix(p, t.scriptRoot); ok && (rest == "" || rest[0] == '/') {
		next.rawPath = rest
	} else {
		next.scriptRoot, next.rawPath = "", p
	}
	if next.rawPath == "" {
		next.rawPath = "/"
	}
	// As werkzeug's client and net/http's do: only 307 and 308 repeat the
	// method and body; the others become a GET (HEAD stays HEAD).
	if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect &&
		t.method != http.MethodHead {
		next.method = http.MethodGet
		next.bodySet, next.body, next.contentType = false, nil, ""
		next.header = t.header.Clone()
		next.header.Del("Content-Type")
		next.header.Del("Content-Length")
	}
	return &next
}

// A TestRequest is a request as the [Client] sent it.
type TestRequest struct {
	Method string
	// URL is the absolute URL requested, with its query string.
	URL *url.URL
	// Header holds the headers sent, with the Cookie header the client
	// made from its jar and Content-Type and Content-Length.
	Header http.Header
	// Body is the request body; nil when there was none.
	Body []byte
	// Environ is the environ the App was called with. The App may have
	// changed it while serving.
	Environ *gateway.Environ
}

// A TestResponse is what a request made with a [Client] got back.
type TestResponse struct {
	// StatusCode is the status code: 200.
	StatusCode int
	// Status is the status line the App sent: "200 OK".
	Status string
	// Header holds the response headers as the App sent them, names
	// canonicalised. The client adds none (a real server adds Date, and
	// Content-Length or Transfer-Encoding).
	Header http.Header
	// Body is the whole response body; empty for a HEAD request, as a
	// server sends none.
	Body []byte
	// Request is the request that got this response.
	Request *TestRequest
	// History holds the redirect responses the client followed to get
	// this one, oldest first; empty when it followed none.
	History []*TestResponse
	// Err is the failure a server would have reported for this response
	// instead of passing it off as a success, nil for a correct one: a
	// status or header a server refuses to send, no call to start, a body
	// shorter than its Content-Length, a body that ended early (its Err
	// method), a second start with excInfo after the body began, an error
	// from the body's Close, a context that ended mid-body. When it
	// happened before any of the body was produced, the response is the
	// 500 a server sends instead; otherwise it is what the App produced up
	// to the failure. A body longer than its Content-Length is cut there
	// and reported on [Client.Errors], as a server logs it.
	Err error
}

// Text returns the body as a string.
func (r *TestResponse) Text() string { return string(r.Body) }

// Mimetype returns the Content-Type without its parameters, lower-case:
// "application/json".
func (r *TestResponse) Mimetype() string { return mimetype(r.Header.Get("Content-Type")) }

// IsJSON reports whether the Content-Type is application/json or
// application/*+json.
func (r *TestResponse) IsJSON() bool { return isJSON(r.Mimetype()) }

// JSON decodes the body into v, as encoding/json does. It fails when the
// response is not JSON (by its Content-Type) or does not decode into v.
func (r *TestResponse) JSON(v any) error {
	if !r.IsJSON() {
		return fmt.Errorf("vial: the response is %q, not JSON", r.Header.Get("Content-Type"))
	}
	return json.Unmarshal(r.Body, v)
}

// GetJSON returns the decoded JSON body: maps, slices, strings, bools, nil
// and numbers as json.Number, as [Request.GetJSON] decodes them. It returns
// nil when the response is not JSON or does not decode; [TestResponse.JSON]
// says why.
func (r *TestResponse) GetJSON() any {
	if !r.IsJSON() {
		return nil
	}
	var v any
	if decodeJSON(r.Body, &v) != nil {
		return nil // not JSON, or more than one value
	}
	return v
}

// Cookies returns the cookies the response sets (its Set-Cookie headers).
func (r *TestResponse) Cookies() []*http.Cookie {
	return (&http.Response{Header: r.Header}).Cookies()
}

// Location returns the Location header: where a redirect points.
func (r *TestResponse) Location() string { return r.Header.Get("Location") }

// serveTest runs app for env as a server does, in process, and returns the
// response.
func serveTest(app gateway.Application, env *gateway.Environ, req *TestRequest) *TestResponse {
	resp := gatewaytest.Serve(app, env)
	return &TestResponse{
		StatusCode: resp.Code,
		Status:     resp.Status,
		Header:     resp.Header.HTTPHeader(),
		Body:       resp.Body,
		Request:    req,
		Err:        resp.Err,
	}
}
