package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway/internal/hostport"
)

// Version returns the gateway.version key's value: the revision of the
// contract this package implements, PEP 3333's wsgi.version (1, 0). It is
// a function, not a variable, so that no one can change it.
func Version() [2]int { return [2]int{1, 0} }

// An Environ is one request's environment, PEP 3333's environ.
//
// Every key can be read by its CGI or PEP 3333 name through [Environ.Get]
// and written through [Environ.Set], so code can read like the spec. The keys
// every request has are also struct fields, so the common path neither
// allocates nor looks anything up:
//
//	REQUEST_METHOD     Method          HTTP_HOST           Host
//	SCRIPT_NAME        ScriptName      HTTP_*              Header
//	PATH_INFO          PathInfo        REMOTE_ADDR         RemoteAddr
//	QUERY_STRING       QueryString     REMOTE_PORT         RemotePort
//	CONTENT_TYPE       ContentType     REQUEST_URI         RequestURI
//	CONTENT_LENGTH     ContentLength   gateway.url_scheme  URLScheme
//	SERVER_NAME        ServerName      gateway.input       Input
//	SERVER_PORT        ServerPort      gateway.errors      Errors
//	SERVER_PROTOCOL    ServerProtocol  gateway.multithread Multithread
//	gateway.multiprocess Multiprocess  gateway.run_once    RunOnce
//	gateway.context    Context() / SetContext
//	gateway.version    Version() (read-only)
//
// HTTP_* keys are read from and written to Header: HTTP_USER_AGENT is
// Header's "User-Agent", repeated headers joined with ", " (Cookie with
// "; "). HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH never exist: those are
// CONTENT_TYPE and CONTENT_LENGTH. Any other key is an extension, stored as
// given: servers and middleware use them (vial's test client sets
// "vial.preserve_request").
//
// An Environ belongs to the request: servers may reuse it once the response
// Body has been closed, so an application must not keep it, or anything it
// holds, past that point.
type Environ struct {
	Method         string // REQUEST_METHOD: "GET", "POST", …
	ScriptName     string // SCRIPT_NAME: the mount point, "" or "/app"; never ends in "/"
	PathInfo       string // PATH_INFO: the rest of the path, percent-decoded, "" or "/…"
	QueryString    string // QUERY_STRING: raw, without "?"
	ContentType    string // CONTENT_TYPE: "" when absent
	ContentLength  string // CONTENT_LENGTH: "" when absent (chunked or no body)
	ServerName     string // SERVER_NAME
	ServerPort     string // SERVER_PORT
	ServerProtocol string // SERVER_PROTOCOL: "HTTP/1.1", "HTTP/2.0", …
	RemoteAddr     string // REMOTE_ADDR: the client's IP address
	RemotePort     string // REMOTE_PORT
	RequestURI     string // REQUEST_URI: the raw request target, still encoded
	Host           string // HTTP_HOST: the Host header (net/http keeps it out of Header)
	URLScheme      string // gateway.url_scheme: "http" or "https"

	// Header holds the request headers, the source of the HTTP_* keys.
	// It may also hold Content-Type and Content-Length, which the
	// ContentType and ContentLength fields override.
	Header http.Header

	Input  io.Reader // gateway.input: the request body only, EOF at its end
	Errors io.Writer // gateway.errors: where error text goes (the server's log)

	Multithread  bool // gateway.multithread: other requests may run at the same time
	Multiprocess bool // gateway.multiprocess: other processes may serve the same app
	RunOnce      bool // gateway.run_once: the process serves this one request (CGI)

	ctx   context.Context
	extra map[string]any
	noter Noter
	// The writer whose Noter HTTPHandler finds when a note is first made,
	// so that a request nobody notes about costs nothing.
	noteW http.ResponseWriter
	noteH *HTTPHandler
}

// A Noter keeps the notes an application makes about a request with
// [Environ.Note], for the server's access log. A ResponseWriter that is
// one (serving's access log), or that a middleware's writer wraps and
// returns from its Unwrap method, gets the notes of the requests
// [HTTPHandler] serves through it.
type Noter interface {
	Note(key, value string)
}

// Note hands the server a note about the request, such as the endpoint
// that answered it, which the server may add to the request's access log
// record. Without a [Noter] (see [Environ.SetNoter]) it does nothing.
func (e *Environ) Note(key, value string) {
	if n := e.Noter(); n != nil {
		n.Note(key, value)
	}
}

// SetNoter makes n the receiver of the request's notes; a middleware that
// builds a new Environ passes the server's on with it.
func (e *Environ) SetNoter(n Noter) { e.noter, e.noteW, e.noteH = n, nil, nil }

// Noter returns the receiver of the request's notes, or nil.
func (e *Environ) Noter() Noter {
	if e.noter == nil && e.noteW != nil {
		e.noter = e.noteH.noterOf(e.noteW)
		e.noteW, e.noteH = nil, nil
	}
	return e.noter
}

// Keys of the environ that are not CGI variables.
const (
	KeyVersion      = "gateway.version"
	KeyURLScheme    = "gateway.url_scheme"
	KeyInput        = "gateway.input"
	KeyErrors       = "gateway.errors"
	KeyMultithread  = "gateway.multithread"
	KeyMultiprocess = "gateway.multiprocess"
	KeyRunOnce      = "gateway.run_once"
	KeyContext      = "gateway.context"
)

// Context returns the request's context: cancelled when the client goes
// away or the server shuts down. It is never nil.
func (e *Environ) Context() context.Context {
	if e.ctx == nil {
		return context.Background()
	}
	return e.ctx
}

// HasContext reports whether the server set the request's context with
// [Environ.SetContext]; without it [Environ.Context] is
// context.Background(), which no client leaving ever cancels.
func (e *Environ) HasContext() bool { return e.ctx != nil }

// SetContext replaces the request's context (gateway.context).
func (e *Environ) SetContext(ctx context.Context) {
	if ctx == nil {
		panic("gateway: SetContext with a nil context")
	}
	e.ctx = ctx
}

// stringField returns a pointer to the typed string field for a CGI key.
func (e *Environ) stringField(key string) *string {
	switch key {
	case "REQUEST_METHOD":
		return &e.Method
	case "SCRIPT_NAME":
		return &e.ScriptName
	case "PATH_INFO":
		return &e.PathInfo
	case "QUERY_STRING":
		return &e.QueryString
	case "CONTENT_TYPE":
		return &e.ContentType
	case "CONTENT_LENGTH":
		return &e.ContentLength
	case "SERVER_NAME":
		return &e.ServerName
	case "SERVER_PORT":
		return &e.ServerPort
	case "SERVER_PROTOCOL":
		return &e.ServerProtocol
	case "REMOTE_ADDR":
		return &e.RemoteAddr
	case "REMOTE_PORT":
		return &e.RemotePort
	case "REQUEST_URI":
		return &e.RequestURI
	case "HTTP_HOST":
		return &e.Host
	case KeyURLScheme:
		return &e.URLScheme
	}
	return nil
}

var typedKeys = []string{
	"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
	"CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
	"REMOTE_PORT", "REQUEST_URI", "HTTP_HOST", KeyURLScheme, KeyVersion, KeyInput,
	KeyErrors, KeyMultithread, KeyMultiprocess, KeyRunOnce, KeyContext,
}

// Lookup returns the value of key and whether it is present. CGI keys are
// strings (the always-present ones may be ""); gateway.input is an
// [io.Reader], gateway.errors an [io.Writer], the gateway.multi*/run_once
// keys bools, gateway.context a [context.Context], gateway.version [2]int.
func (e *Environ) Lookup(key string) (any, bool) {
	if p := e.stringField(key); p != nil {
		if key == "HTTP_HOST" && e.Host == "" {
			return nil, false
		}
		return *p, true
	}
	switch key {
	case KeyVersion:
		return Version(), true
	case KeyInput:
		return e.Input, e.Input != nil
	case KeyErrors:
		return e.Errors, e.Errors != nil
	case KeyMultithread:
		return e.Multithread, true
	case KeyMultiprocess:
		return e.Multiprocess, true
	case KeyRunOnce:
		return e.RunOnce, true
	case KeyContext:
		return e.Context(), true
	}
	if name, ok := headerName(key); ok {
		vs := e.Header.Values(name)
		if len(vs) == 0 {
			return nil, false
		}
		if len(vs) == 1 {
			return vs[0], true
		}
		sep := ", "
		if name == "Cookie" {
			sep = "; "
		}
		return strings.Join(vs, sep), true
	}
	v, ok := e.extra[key]
	return v, ok
}

// Get returns the value of key, or nil when it is absent. See
// [Environ.Lookup] for the types.
func (e *Environ) Get(key string) any {
	v, _ := e.Lookup(key)
	return v
}

// GetString returns the value of key if it is a string, else "".
func (e *Environ) GetString(key string) string {
	s, _ := e.Get(key).(string)
	return s
}

// Set stores value under key. Typed keys require their type (a string for a
// CGI key, an io.Reader for gateway.input, …) and panic on a value of another
// type, as that is a programming error; gateway.version is read-only. Setting
// an HTTP_* key replaces that header; a nil value deletes an HTTP_* key or an
// extension.
func (e *Environ) Set(key string, value any) {
	if p := e.stringField(key); p != nil {
		*p = mustType[string](key, value)
		return
	}
	switch key {
	case KeyVersion:
		panic("gateway: " + KeyVersion + " is read-only")
	case KeyInput:
		e.Input = mustType[io.Reader](key, value)
		return
	case KeyErrors:
		e.Errors = mustType[io.Writer](key, value)
		return
	case KeyMultithread:
		e.Multithread = mustType[bool](key, value)
		return
	case KeyMultiprocess:
		e.Multiprocess = mustType[bool](key, value)
		return
	case KeyRunOnce:
		e.RunOnce = mustType[bool](key, value)
		return
	case KeyContext:
		e.SetContext(mustType[context.Context](key, value))
		return
	}
	if name, ok := headerName(key); ok {
		if value == nil {
			e.Header.Del(name)
			return
		}
		if e.Header == nil {
			e.Header = make(http.Header)
		}
		e.Header.Set(name, mustType[string](key, value))
		return
	}
	if value == nil {
		delete(e.extra, key)
		return
	}
	if e.extra == nil {
		e.extra = make(map[string]any)
	}
	e.extra[key] = value
}

func mustType[T any](key string, value any) T {
	v, ok := value.(T)
	if !ok {
		var zero T
		panic(fmt.Sprintf("gateway: environ key %s takes a %T, not %T", key, &zero, value))
	}
	return v
}

// headerName maps an HTTP_* key to its header name: HTTP_USER_AGENT to
// "User-Agent". HTTP_HOST, HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH are not
// header keys (the first is a field, the others do not exist).
func headerName(key string) (string, bool) {
	if !strings.HasPrefix(key, "HTTP_") || len(key) == len("HTTP_") {
		return "", false
	}
	switch key {
	case "HTTP_HOST", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH":
		return "", false
	}
	return textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(key[len("HTTP_"):], "_", "-")), true
}

// HeaderKey returns the environ key of a request header: "User-Agent" is
// HTTP_USER_AGENT.
func HeaderKey(name string) string {
	return "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Keys returns every key present, sorted.
func (e *Environ) Keys() []string {
	keys := make([]string, 0, len(typedKeys)+len(e.Header)+len(e.extra))
	for _, k := range typedKeys {
		if _, ok := e.Lookup(k); ok {
			keys = append(keys, k)
		}
	}
	for name := range e.Header {
		switch textproto.CanonicalMIMEHeaderKey(name) {
		case "Content-Type", "Content-Length", "Host":
			continue
		}
		keys = append(keys, HeaderKey(name))
	}
	for k := range e.extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Clone returns a copy of e whose Header and extensions can be changed
// without affecting e. Input, Errors and the context are shared.
func (e *Environ) Clone() *Environ {
	c := *e
	c.Header = e.Header.Clone()
	c.extra = maps.Clone(e.extra)
	// Notes belong to the request being served, not to a copy that may
	// outlive it (and a pooled access-log recorder).
	c.noter, c.noteW, c.noteH = nil, nil, nil
	return &c
}

// Path returns SCRIPT_NAME + PATH_INFO: the decoded path the client asked for.
func (e *Environ) Path() string {
	if e.ScriptName == "" {
		return e.PathInfo
	}
	return e.ScriptName + e.PathInfo
}

// HostURL returns scheme://host of the request, following PEP 3333's URL
// reconstruction: HTTP_HOST when present, else SERVER_NAME with SERVER_PORT
// unless it is the scheme's default.
func (e *Environ) HostURL() string {
	host := e.Host
	if host == "" {
		host = hostport.Bracket(e.ServerName)
		if p := e.ServerPort; p != "" && p != hostport.DefaultPort(e.URLScheme) {
			host += ":" + p
		}
	}
	scheme := e.URLScheme
	if scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + host
}

// RequestURL reconstructs the full URL of the request, as PEP 3333 shows:
// scheme, host, the quoted SCRIPT_NAME and PATH_INFO, and the query string.
func (e *Environ) RequestURL() string {
	u := e.HostURL() + (&url.URL{Path: e.Path()}).EscapedPath()
	if e.QueryString != "" {
		u += "?" + e.QueryString
	}
	return u
}

// HTTPRequest builds a [net/http.Request] from the environ, for running
// net/http code inside a gateway application ([FromHandler] uses it).
//
// The request is the one a net/http handler mounted at SCRIPT_NAME sees,
// as behind [net/http.StripPrefix]: its URL path is PATH_INFO alone ("" for
// the mount point itself), with no RawPath, and its RequestURI is the raw
// target the client sent, SCRIPT_NAME included. [ScriptName] gives the
// mount point back, for a handler that builds links. Without SCRIPT_NAME
// (a server's request, no mount) the path is the whole path.
//
// Its body reads gateway.input, its context is gateway.context (with the
// mount point added when there is one). As a server request has, it has a
// nil URL scheme and host; an https request gets a non-nil, empty TLS
// state so that code testing r.TLS sees the scheme.
func (e *Environ) HTTPRequest() *http.Request {
	r := &http.Request{
		Method:     e.Method,
		URL:        &url.URL{Path: e.PathInfo, RawQuery: e.QueryString},
		Header:     e.Header,
		Host:       e.Host,
		RequestURI: e.RequestURI,
		RemoteAddr: e.RemoteAddr,
	}
	if e.RemotePort != "" {
		r.RemoteAddr = net.JoinHostPort(e.RemoteAddr, e.RemotePort)
	}
	if r.Host == "" {
		r.Host = strings.TrimPrefix(e.HostURL(), e.URLScheme+"://")
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	if e.ContentType != r.Header.Get("Content-Type") || e.ContentLength != r.Header.Get("Content-Length") {
		r.Header = r.Header.Clone()
		setOrDel(r.Header, "Content-Type", e.ContentType)
		setOrDel(r.Header, "Content-Length", e.ContentLength)
	}
	if major, minor, ok := http.ParseHTTPVersion(e.ServerProtocol); ok {
		r.Proto, r.ProtoMajor, r.ProtoMinor = e.ServerProtocol, major, minor
	} else {
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	}
	r.ContentLength = -1
	if e.ContentLength != "" {
		if n, err := strconv.ParseInt(e.ContentLength, 10, 64); err == nil {
			r.ContentLength = n
		}
	}
	switch body := e.Input.(type) {
	case nil:
		r.Body = http.NoBody
		if r.ContentLength < 0 {
			r.ContentLength = 0
		}
	case io.ReadCloser:
		r.Body = body
	default:
		r.Body = io.NopCloser(body)
	}
	if e.URLScheme == "https" {
		r.TLS = &tls.ConnectionState{}
	}
	if e.ScriptName != "" {
		return r.WithContext(&scriptNameCtx{e.Context(), e.ScriptName})
	}
	return r.WithContext(e.Context())
}

// scriptNameKey is the context key under which HTTPRequest records
// SCRIPT_NAME.
type scriptNameKey struct{}

// scriptNameCtx is context.WithValue(ctx, scriptNameKey{}, name) in one
// allocation instead of two (the string is not boxed until asked for).
type scriptNameCtx struct {
	context.Context
	name string
}

func (c *scriptNameCtx) Value(key any) any {
	if key == (scriptNameKey{}) {
		return c.name
	}
	return c.Context.Value(key)
}

// ScriptName returns the mount point of a request built by
// [Environ.HTTPRequest] (a net/http handler run by [FromHandler]): the
// SCRIPT_NAME that its URL path does not include, "" or "/api", never
// ending in "/". It is "" for a request no mount point was recorded on:
// one from a net/http server, or built from an environ whose SCRIPT_NAME
// was "" (which keeps the mount point its context already carried).
// A handler builds its links on it, ScriptName(r) + "/users/7", as a
// gateway application does on SCRIPT_NAME.
//
// The mount point travels in the request's context, so it survives
// r.WithContext and net/http middleware. [net/http.StripPrefix] does not
// add to it.
func ScriptName(r *http.Request) string {
	s, _ := r.Context().Value(scriptNameKey{}).(string)
	return s
}

func setOrDel(h http.Header, name, value string) {
	if value == "" {
		h.Del(name)
	} else {
		h.Set(name, value)
	}
}
