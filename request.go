package vial

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway"
)

// A Request is one incoming request as a view sees it: Flask's request,
// built on the gateway [gateway.Environ]. The App makes one for each request
// and it is valid until the response has been sent and torn down, as the
// Environ under it is: the App then recycles it for a later request, as
// gin, echo and chi recycle their contexts. That includes its ViewArgs map
// and the first Response [App.MakeResponse] makes for it (from what the view
// returned, say); one made with [NewResponse], [MakeResponse] or [JSON] is
// not recycled. Code that outlives
// the request (a goroutine the view starts, a receiver that keeps what a
// signal sent) must keep a [Request.Copy] instead, or the values it needs.
// Requests made by the test client are never recycled, so tests may look at
// them afterwards.
//
// The query string, form, files, JSON body and cookies are parsed the first
// time they are asked for, and kept. Accessors that Flask exposes as
// properties ([Request.Args], [Request.Form], [Request.Files],
// [Request.Data]) answer malformed input the way Flask does, by raising an
// HTTP error: they panic with a *[HTTPError] (400, or 413 over
// MAX_CONTENT_LENGTH), which the App turns into that response, exactly as if
// the view had returned it. [Request.ParseForm] and [Request.JSON] return the
// same error instead, for code that prefers to handle it.
type Request struct {
	// Environ is the gateway environment the request was built from.
	Environ *gateway.Environ
	// Method is the request method, upper-case: "GET".
	Method string
	// Path is the path below the application's root (PATH_INFO), decoded;
	// "/" at the root.
	Path string
	// ScriptRoot is the path the application is mounted at (SCRIPT_NAME),
	// "" at the server's root.
	ScriptRoot string
	// Header holds the request headers.
	Header http.Header
	// RemoteAddr is the client's address (REMOTE_ADDR).
	RemoteAddr string

	// ViewArgs are the values the URL rule captured, converted: for
	// "/user/<int:id>", ViewArgs["id"] is an int.
	ViewArgs map[string]any
	// Endpoint is the endpoint of the matched rule; "" when routing failed.
	Endpoint string
	// URLRule is the matched rule; nil when routing failed.
	URLRule *Rule
	// Blueprint is the name of the blueprint the matched rule belongs to,
	// as registered ("auth"; "api.v1" for one nested in "api"); "" for a
	// rule of the App's, and when routing failed.
	Blueprint string
	// Blueprints is Blueprint and the blueprints it is nested in,
	// innermost first: "api.v1", "api". It is shared: do not modify it.
	Blueprints []string

	// G is storage for the duration of the request: Flask's g.
	G G

	app        *App
	routingErr error
	scope      *scope // the hooks of the rule's blueprint, or the App's; set on first use (scopes.go)

	lazy *lazyState // what is parsed on first use; nil until then

	session *Session // the session, opened on first use (Session); nil until then

	inner     gateway.Body // the response body, wrapped by requestBody
	err       error        // the unhandled error that ended the request, for teardown
	spareUsed bool         // spare has been handed out
	// escaped is set when a panic has gone up to the server (debug mode, a
	// streamed body failing): its value, shown by a debugger, may hold
	// the request, so the request is left to the garbage collector.
	escaped bool

	// argsBuf is the map the URL match filled, kept when the Request is
	// recycled so that the next match fills it again.
	argsBuf map[string]any

	// spare is the first response made for the request (by MakeResponse,
	// from what a view returned, unless it is a *Response), allocated with
	// it: see newResponse.
	spare Response
}

// lazyState is what a Request parses on first use: the query string, the
// body, the form and the cookies. Most requests need none of it, so it is
// allocated apart, when first asked for, keeping the Request itself small.
type lazyState struct {
	args       url.Values
	argsErr    error
	argsDone   bool
	form       url.Values
	files      map[string][]*multipart.FileHeader
	multipart  *multipart.Form
	formErr    error
	formDone   bool
	data       []byte
	dataErr    error
	dataDone   bool
	cookies    map[string]string
	cookieDone bool
}

// parsed returns r's lazily parsed state, allocating it on first use.
func (r *Request) parsed() *lazyState {
	if r.lazy == nil {
		r.lazy = new(lazyState)
	}
	return r.lazy
}

// newResponse returns a new 200 response for r: the first time, r's
// spare one, which costs no allocation of its own; a nil r (outside a
// request) gets a response of its own.
func (r *Request) newResponse() *Response {
	if r == nil || r.spareUsed {
		return newResponse()
	}
	r.spareUsed = true
	r.spare.init()
	return &r.spare
}

// App returns the application handling the request (Flask's current_app).
func (r *Request) App() *App { return r.app }

// Context returns the request's context, cancelled when the client goes
// away or the server shuts down.
func (r *Request) Context() context.Context { return r.Environ.Context() }

// Copy returns a copy of r that stays valid after the request has ended,
// for a goroutine the view starts: what Flask's copy_current_request_context
// is for. The copy has its own Environ (a clone), Header, ViewArgs and G,
// and what r has parsed so far (args, form and files, the body's bytes,
// cookies), shared: read it, do not change it. Its Context is r's, which ends with the request; use
// context.WithoutCancel for work that must outlive it.
//
// The body is not copied, as it cannot be read once the request has ended:
// read what the copy needs first (r.Form, r.Data, r.JSON), and save uploaded
// files, which are removed at teardown. The copy's body reads as empty.
func (r *Request) Copy() *Request {
	c := &Request{
		Environ:    r.Environ.Clone(),
		Method:     r.Method,
		Path:       r.Path,
		ScriptRoot: r.ScriptRoot,
		Header:     r.Header.Clone(),
		RemoteAddr: r.RemoteAddr,
		ViewArgs:   maps.Clone(r.ViewArgs),
		Endpoint:   r.Endpoint,
		URLRule:    r.URLRule,
		G:          G{m: maps.Clone(r.G.m)},
		app:        r.app,
		routingErr: r.routingErr,
	}
	c.Environ.Header = c.Header
	c.Environ.Input = http.NoBody
	if r.lazy != nil {
		l := *r.lazy // its own flags, so that parsing more races with nothing
		c.lazy = &l
	}
	return c
}

// FullPath returns the path and query string: "/search?q=go".
func (r *Request) FullPath() string {
	if r.Environ.QueryString == "" {
		return r.Path
	}
	return r.Path + "?" + r.Environ.QueryString
}

// URL returns the full URL the client asked for, reconstructed from the
// environ (host, script root, path, query string).
func (r *Request) URL() string { return r.Environ.RequestURL() }

// HostURL returns "scheme://host" of the request.
func (r *Request) HostURL() string { return r.Environ.HostURL() }

// Scheme returns "http" or "https".
func (r *Request) Scheme() string { return r.Environ.URLScheme }

// IsSecure reports whether the request came over https.
func (r *Request) IsSecure() bool { return r.Environ.URLScheme == "https" }

// Host returns the host the client asked for, with its port if it sent one.
func (r *Request) Host() string {
	if r.Environ.Host != "" {
		return r.Environ.Host
	}
	return r.Environ.ServerName
}

// Args returns the query string's values (Flask's request.args). A query
// string that is not valid percent-encoding is answered with a 400.
func (r *Request) Args() url.Values {
	p := r.parsed()
	if !p.argsDone {
		p.argsDone = true
		p.args, p.argsErr = parseQuery(r.Environ.QueryString, maxQueryFields)
		if p.argsErr != nil {
			p.argsErr = &HTTPError{Code: http.StatusBadRequest, Description: "The query string is not valid: " + p.argsErr.Error(), Err: p.argsErr}
		}
	}
	if p.argsErr != nil {
		panic(p.argsErr)
	}
	return p.args
}

// Mimetype returns the request's Content-Type without parameters.
func (r *Request) Mimetype() string { return mimetype(r.Environ.ContentType) }

// mimetype returns a Content-Type without its parameters, lower-case.
func mimetype(contentType string) string {
	// As werkzeug reads it: the part before the parameters, whether or not
	// they parse, so a form with a broken boundary is still a form (and
	// its parser answers 400).
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// isJSON reports whether mimetype is JSON's, as werkzeug's is_json:
// application/json or application/*+json.
func isJSON(mimetype string) bool {
	return mimetype == "application/json" ||
		strings.HasPrefix(mimetype, "application/") && strings.HasSuffix(mimetype, "+json")
}

// ContentLength returns the declared body length, or -1.
func (r *Request) ContentLength() int64 {
	if r.Environ.ContentLength == "" {
		return -1
	}
	n, err := strconv.ParseInt(r.Environ.ContentLength, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// Stream returns the request body as a reader, limited to MAX_CONTENT_LENGTH
// when the App's config sets it: reading past the limit fails with a 413
// *HTTPError. Reading the stream consumes the body, so [Request.Data],
// [Request.Form] and [Request.JSON] see what is left.
func (r *Request) Stream() io.Reader {
	in := r.Environ.Input
	if in == nil {
		return http.NoBody
	}
	max := r.app.maxContentLength()
	if max < 0 {
		return in
	}
	if r.ContentLength() > max {
		return errReader{tooLarge(max)}
	}
	return &limitedBody{r: in, left: max, max: max}
}

func tooLarge(max int64) error {
	return &HTTPError{Code: http.StatusRequestEntityTooLarge,
		Description: fmt.Sprintf("The request body exceeds the limit of %d bytes.", max)}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// limitedBody fails with a 413 once the body goes past max bytes.
type limitedBody struct {
	r         io.Reader
	left, max int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, tooLarge(l.max)
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n + int(l.left), tooLarge(l.max)
	}
	return n, err
}

// ReadData reads and returns the whole body, once; later calls return the
// same bytes. Its error is a 413 *HTTPError past MAX_CONTENT_LENGTH, or a 400
// when the body could not be read.
func (r *Request) ReadData() ([]byte, error) { return r.readData(-1) }

// readData is ReadData, reading at most max+1 bytes when max is not
// negative: a body longer than max is a 413 (MAX_FORM_MEMORY_SIZE, the one
// limit that reads this way), before it is read when its declared length
// says so, and is not kept.
func (r *Request) readData(max int64) ([]byte, error) {
	p := r.parsed()
	if p.dataDone {
		// Read whole already (Data before Form): the limit still holds,
		// but the body stays what Data returned.
		if p.dataErr == nil && max >= 0 && int64(len(p.data)) > max {
			return nil, formTooLarge(max)
		}
		return p.data, p.dataErr
	}
	p.dataDone = true
	in := r.Stream()
	if max >= 0 {
		if r.ContentLength() > max {
			p.dataErr = formTooLarge(max)
			return nil, p.dataErr
		}
		in = io.LimitReader(in, max+1)
	}
	p.data, p.dataErr = io.ReadAll(in)
	switch {
	case p.dataErr != nil:
		if _, ok := errors.AsType[*HTTPError](p.dataErr); !ok {
			p.dataErr = &HTTPError{Code: http.StatusBadRequest, Description: "The request body could not be read.", Err: p.dataErr}
		}
	case max >= 0 && int64(len(p.data)) > max:
		// Cut at the limit: what was read is not the body.
		p.data, p.dataErr = nil, formTooLarge(max)
	}
	return p.data, p.dataErr
}

// Data returns the whole body (Flask's get_data), answering a body over
// MAX_CONTENT_LENGTH with a 413 and an unreadable one with a 400.
func (r *Request) Data() []byte {
	data, err := r.ReadData()
	if err != nil {
		panic(err)
	}
	return data
}

// IsJSON reports whether the Content-Type is application/json or
// application/*+json.
func (r *Request) IsJSON() bool { return isJSON(r.Mimetype()) }

// JSON decodes the JSON body into v. The error, suitable for returning
// from a view, is a 400 *HTTPError saying what is wrong: the Content-Type is
// not JSON, the body is malformed, or it does not fit v; a 413 past
// MAX_CONTENT_LENGTH.
func (r *Request) JSON(v any) error {
	if !r.IsJSON() {
		return &HTTPError{Code: http.StatusBadRequest,
			Description: "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."}
	}
	data, err := r.ReadData()
	if err != nil {
		return err
	}
	if err := r.app.JSONProvider().Loads(data, v); err != nil {
		return &HTTPError{Code: http.StatusBadRequest, Description: "Failed to decode JSON object: " + jsonProblem(err), Err: err}
	}
	return nil
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q: expected %s, got a JSON %s", typ.Field, typ.Type, typ.Value)
		}
		return fmt.Sprintf("expected %s, got a JSON %s", typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of JSON input"
	}
	return err.Error()
}

// GetJSON returns the decoded JSON body (maps, slices, json.Number,
// strings, bools, nil), Flask's get_json. When the body is not JSON or is
// malformed, it returns nil if silent, and otherwise answers with a 400
// (panicking with the *HTTPError, as Flask raises it).
func (r *Request) GetJSON(silent bool) any {
	var v any
	if err := r.JSON(&v); err != nil {
		if silent {
			return nil
		}
		panic(err)
	}
	return v
}

// Cookie returns the value of the cookie name, or "". Malformed cookies in
// the header are skipped, as browsers and werkzeug skip them.
func (r *Request) Cookie(name string) string {
	return r.Cookies()[name]
}

// Cookies returns every cookie the client sent, by name (the first of a
// repeated name wins).
func (r *Request) Cookies() map[string]string {
	p := r.parsed()
	if !p.cookieDone {
		p.cookieDone = true
		p.cookies = map[string]string{}
		if len(r.Header["Cookie"]) > 0 {
			for _, c := range (&http.Request{Header: r.Header}).Cookies() {
				if _, seen := p.cookies[c.Name]; !seen {
					p.cookies[c.Name] = c.Value
				}
			}
		}
	}
	return p.cookies
}

// URLFor builds a URL for endpoint within this request: relative to the
// application's root, or absolute on the request's host with
// External(true). An endpoint starting with "." is relative to the
// request's blueprint: ".login" in a view of "auth" is "auth.login" (and
// "login" outside a blueprint). See [App.URLFor].
func (r *Request) URLFor(endpoint string, args ...any) string {
	u, err := r.app.buildURL(r, endpoint, args)
	if err != nil {
		panic(err)
	}
	return u
}

// cleanup releases what parsing the request left behind (multipart
// temporary files).
func (r *Request) cleanup() {
	if r.lazy != nil && r.lazy.multipart != nil {
		r.lazy.multipart.RemoveAll()
	}
}
