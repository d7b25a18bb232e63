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
	"net/textproto"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/gatewaytest"
)

// This file builds the test client's requests: the options a test gives,
// the environ they make, and the request a redirect leads to.

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
	u := t.url()
	env := gatewaytest.NewEnviron(t.method, u.String(), bytes.NewReader(t.body))
	env.ScriptName, env.Host, env.RemotePort = t.scriptRoot, t.host, ""
	env.PathInfo, _ = url.PathUnescape(t.rawPath) // checked by setTarget
	env.QueryString = t.rawQuery
	env.Header, env.Errors = header, errs
	env.ContentLength = ""
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
