package vial

import (
	"errors"
	"fmt"
	"html"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vial-go/vial/gateway"
)

// A Response is what a request gets back: a status, headers and a body,
// werkzeug's Response. Views may return one, or any value [App.MakeResponse]
// turns into one. A Response is itself a [gateway.Application].
//
// The body is one of: bytes ([Response.SetData]), a stream of chunks (an
// iter.Seq, sent chunk by chunk as it is produced), an [io.Reader] (streamed,
// closed afterwards if it is an io.Closer), or a gateway application called
// to produce the whole response.
//
// Use a Response through its pointer; a copy would share its header storage
// and its less common fields with the original. The first Response
// [App.MakeResponse] makes for a request (from what the view returned, say)
// belongs to the request and is recycled with it once the request has ended
// (see [Request]); one made with [NewResponse], [MakeResponse] or [JSON] is
// not.
type Response struct {
	// StatusCode is the HTTP status, 200 unless changed.
	StatusCode int
	// Header holds the response headers in order. It has Get, Set, Add and
	// Del like net/http's Header, and keeps repeated fields (Set-Cookie).
	Header gateway.Headers
	// Request is the request this response answers; nil for a response
	// made outside a request.
	Request *Request

	kind bodyKind
	text string // kindText: a string body, sent without a copy
	data []byte // kindBytes
	rare *rareFields

	// Header's first backing array. Most responses need no more (a
	// Content-Type, a Content-Length and one other: Location, Allow,
	// Set-Cookie).
	headerBuf [3]gateway.Header
}

// rareFields are the parts of a Response that most responses (a body in
// memory, a standard status) never set. Keeping them apart, allocated when
// first set, keeps a Request and its spare response in a 384-byte
// allocation instead of 512.
type rareFields struct {
	status  string // a custom status line ("202 ACCEPTED"); "" means the standard one
	stream  iter.Seq[[]byte]
	reader  io.Reader
	app     gateway.Application
	onClose []func()
	json    any   // kindJSON: the value to encode
	err     error // a failure to build the response (JSON encoding), reported by MakeResponse
	readErr error // a failure of the reader body
}

// more returns r's rare fields, allocating them on first use.
func (r *Response) more() *rareFields {
	if r.rare == nil {
		r.rare = new(rareFields)
	}
	return r.rare
}

// buildErr returns the error that made the response impossible to build.
func (r *Response) buildErr() error {
	if r.rare == nil {
		return nil
	}
	return r.rare.err
}

type bodyKind uint8

const (
	kindBytes bodyKind = iota
	kindText
	kindStream
	kindReader
	kindApp
	kindJSON // a value the App encodes with its JSONProvider when it sends it (see JSON)
)

func newResponse() *Response {
	r := &Response{}
	r.init()
	return r
}

// init makes a zero Response a new 200 response.
func (r *Response) init() {
	r.StatusCode = http.StatusOK
	r.Header = r.headerBuf[:0]
}

// NewResponse returns a 200 response with body and the given mimetype
// ("text/html" when empty; text types get "; charset=utf-8").
func NewResponse(body []byte, mimetype string) *Response {
	r := newResponse()
	r.SetMimetype(mimetype)
	r.data = body
	return r
}

// Status returns the status line: "200 OK", or the custom one set with
// [Response.SetStatus].
func (r *Response) Status() string {
	if r.rare != nil && r.rare.status != "" {
		return r.rare.status
	}
	return gateway.StatusLine(r.StatusCode)
}

// SetStatus sets the status from a code (404) or a status line ("404 NOT
// FOUND", "299 Custom"); a line without a reason gets the standard one. It
// returns an error for anything else.
func (r *Response) SetStatus(status any) error {
	switch s := status.(type) {
	case int:
		if s < 100 || s > 999 {
			return fmt.Errorf("vial: status code %d out of range", s)
		}
		r.StatusCode = s
		if r.rare != nil {
			r.rare.status = ""
		}
		return nil
	case string:
		s = strings.TrimSpace(s)
		if len(s) == 3 {
			s += " "
		}
		code, err := gateway.ParseStatus(s)
		if err != nil {
			return err
		}
		r.StatusCode = code
		if strings.TrimSpace(s[3:]) != "" {
			r.more().status = s
		} else if r.rare != nil {
			r.rare.status = ""
		}
		return nil
	}
	return fmt.Errorf("vial: a status is an int or a string, not %T", status)
}

// Mimetype returns the Content-Type without its parameters: "text/html".
func (r *Response) Mimetype() string {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(strings.ToLower(ct))
}

// SetMimetype sets the Content-Type; text types ("text/*", and JSON and
// XML ones) get "; charset=utf-8". An empty mimetype means "text/html".
func (r *Response) SetMimetype(mimetype string) {
	switch mimetype {
	case "", "text/html":
		r.Header.Set("Content-Type", "text/html; charset=utf-8")
		return
	}
	if strings.HasPrefix(mimetype, "text/") || strings.HasSuffix(mimetype, "+xml") ||
		mimetype == "application/xml" || mimetype == "application/javascript" {
		mimetype += "; charset=utf-8"
	}
	r.Header.Set("Content-Type", mimetype)
}

// Data returns the body as bytes. A streamed body is read to its end and
// kept, so the response can still be sent; an application body cannot be
// read and gives nil.
func (r *Response) Data() []byte {
	r.resolveJSON(r.app())
	switch r.kind {
	case kindText:
		r.data, r.kind = []byte(r.text), kindBytes
	case kindStream:
		var buf []byte
		for p := range r.rare.stream {
			buf = append(buf, p...)
		}
		r.runOnClose()
		r.data, r.kind, r.rare.stream = buf, kindBytes, nil
	case kindReader:
		buf, err := io.ReadAll(r.rare.reader)
		if c, ok := r.rare.reader.(io.Closer); ok {
			c.Close()
		}
		r.runOnClose()
		r.data, r.kind, r.rare.reader, r.rare.readErr = buf, kindBytes, nil, err
	case kindApp:
		return nil
	}
	return r.data
}

// Text returns the body as a string (see [Response.Data]).
func (r *Response) Text() string {
	if r.kind == kindText {
		return r.text
	}
	return string(r.Data())
}

// SetData replaces the body with p.
func (r *Response) SetData(p []byte) {
	r.resetBody()
	r.kind, r.data = kindBytes, p
}

// SetText replaces the body with s.
func (r *Response) SetText(s string) {
	r.resetBody()
	r.kind, r.text = kindText, s
}

// SetStream replaces the body with the chunks of seq, sent one by one as
// they are produced. onClose, if not nil, runs when the response is done
// with, whether or not seq ran to its end.
func (r *Response) SetStream(seq iter.Seq[[]byte], onClose func()) {
	r.resetBody()
	r.kind, r.more().stream = kindStream, seq
	if onClose != nil {
		r.rare.onClose = append(r.rare.onClose, onClose)
	}
}

// SetReader replaces the body with the contents of rd, streamed; rd is closed
// afterwards if it is an io.Closer.
func (r *Response) SetReader(rd io.Reader) {
	r.resetBody()
	r.kind, r.more().reader = kindReader, rd
}

// CallOnClose registers fn to run when the response has been sent (or
// abandoned), after the body is closed: werkzeug's call_on_close.
func (r *Response) CallOnClose(fn func()) {
	rare := r.more()
	rare.onClose = append(rare.onClose, fn)
}

func (r *Response) resetBody() {
	r.text, r.data = "", nil
	if r.rare != nil {
		r.rare.stream, r.rare.reader, r.rare.app, r.rare.json = nil, nil, nil, nil
	}
	r.Header.Del("Content-Length")
}

// IsStreamed reports whether the body is produced while it is sent (a
// stream, a reader or an application) rather than held in memory.
func (r *Response) IsStreamed() bool {
	return r.kind == kindStream || r.kind == kindReader || r.kind == kindApp
}

// SetCookie adds a Set-Cookie header. An invalid cookie is dropped, as
// net/http drops it.
func (r *Response) SetCookie(c *http.Cookie) {
	if v := c.String(); v != "" {
		r.Header.Add("Set-Cookie", v)
	}
}

// DeleteCookie tells the client to drop the cookie name (for path "/", or
// the given path): a Set-Cookie that expired long ago.
func (r *Response) DeleteCookie(name string, path ...string) {
	c := &http.Cookie{Name: name, Path: "/", MaxAge: -1, Expires: time.Unix(0, 0)}
	if len(path) > 0 {
		c.Path = path[0]
	}
	r.SetCookie(c)
}

// ServeGateway sends the response: a Response is a gateway application.
// A byte body gets a Content-Length; a streamed one goes out chunk by chunk;
// a wrapped application answers itself, and the Response's own headers
// (each replacing the application's fields of its name, Set-Cookie added)
// and a status other than 200 apply on top of its answer.
func (r *Response) ServeGateway(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	r.resolveJSON(r.app())
	if r.kind == kindApp {
		return r.serveApp(env, start)
	}
	if (r.kind == kindBytes || r.kind == kindText) && !r.Header.Has("Content-Length") && !noBodyStatus(r.StatusCode) {
		r.Header = append(r.Header, gateway.Header{Name: "Content-Length", Value: strconv.Itoa(r.byteLen())})
	}
	start(r.Status(), r.Header)
	if noBodyStatus(r.StatusCode) {
		// 1xx, 204 and 304 have no body whatever the view gave: it is
		// closed unsent, as werkzeug's get_app_iter drops it.
		return (*unsentBody)(r)
	}
	if r.kind == kindBytes || r.kind == kindText {
		return (*memoryBody)(r)
	}
	return (*streamedBody)(r)
}

// discard closes a response that will not be sent: its reader, and the
// functions registered to run on close.
func (r *Response) discard() {
	if r != nil {
		(*streamedBody)(r).Close()
	}
}

// unsentBody is the body of a response whose status allows none.
type unsentBody Response

func (b *unsentBody) Chunks(func([]byte) bool) {}

func (b *unsentBody) Close() error { return (*streamedBody)(b).Close() }

func noBodyStatus(code int) bool { return code < 200 || code == 204 || code == 304 }

func (r *Response) byteLen() int {
	if r.kind == kindText {
		return len(r.text)
	}
	return len(r.data)
}

// withBytes calls fn with the body's bytes: a text body's as a writable
// copy (see withTextBytes).
func (r *Response) withBytes(fn func([]byte)) {
	if r.kind == kindText {
		withTextBytes(r.text, fn)
		return
	}
	fn(r.data)
}

// A string's bytes may be read-only memory (a literal's are), where a write
// faults beyond any recover and the process dies. The gateway lets a server
// or a middleware edit a chunk in place, so a text body never goes out as
// the string itself: withTextBytes hands fn a copy, in a pooled buffer that
// is reused once fn returns (the server keeps no chunk past it).
func withTextBytes(s string, fn func([]byte)) {
	if len(s) > maxPooledText {
		fn([]byte(s))
		return
	}
	bp := textBuffers.Get().(*[]byte)
	b := append((*bp)[:0], s...)
	fn(b)
	*bp = b[:0]
	textBuffers.Put(bp)
}

// maxPooledText is the longest text body copied into a pooled buffer; a
// longer one is copied into a buffer of its own.
const maxPooledText = 64 << 10

var textBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func (r *Response) runOnClose() {
	if r.rare == nil {
		return
	}
	fns := r.rare.onClose
	r.rare.onClose = nil
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// memoryBody is a Response's body when it is held in memory.
type memoryBody Response

func (b *memoryBody) Chunks(yield func([]byte) bool) {
	(*Response)(b).withBytes(func(p []byte) {
		if len(p) > 0 {
			yield(p)
		}
	})
}

func (b *memoryBody) Len() int { return (*Response)(b).byteLen() }

func (b *memoryBody) WriteTo(w io.Writer) (n int64, err error) {
	(*Response)(b).withBytes(func(p []byte) {
		if len(p) > 0 {
			var m int
			m, err = w.Write(p)
			n = int64(m)
		}
	})
	return n, err
}

func (b *memoryBody) Close() error {
	(*Response)(b).runOnClose()
	return nil
}

// streamedBody is a Response's body when it is a stream or a reader.
type streamedBody Response

func (b *streamedBody) Chunks(yield func([]byte) bool) {
	r := (*Response)(b)
	if r.kind == kindStream {
		r.rare.stream(yield)
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := r.rare.reader.Read(buf)
		if n > 0 && !yield(buf[:n]) {
			return
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.rare.readErr = err
			}
			return
		}
	}
}

func (b *streamedBody) Err() error {
	if b.rare == nil {
		return nil
	}
	return b.rare.readErr
}

func (b *streamedBody) Close() error {
	r := (*Response)(b)
	var err error
	if r.kind == kindReader {
		if c, ok := r.rare.reader.(io.Closer); ok {
			err = c.Close()
		}
	}
	r.runOnClose()
	return err
}

// Redirect returns a response that redirects the client to location, with
// status 302 unless a code is given (301, 303, 307, 308 …), and a short HTML
// page with the link, as werkzeug's redirect does. What a URI may not hold
// (control bytes, spaces, non-ASCII characters) is percent-encoded in the
// Location, as werkzeug's iri_to_uri encodes it.
func Redirect(location string, code ...int) *Response {
	r := newResponse()
	r.StatusCode = http.StatusFound
	if len(code) > 0 {
		r.StatusCode = code[0]
	}
	location = iriToURI(location)
	r.Header = append(r.Header,
		gateway.Header{Name: "Content-Type", Value: "text/html; charset=utf-8"},
		gateway.Header{Name: "Location", Value: location})
	esc := html.EscapeString(location)
	r.SetText("<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n" +
		"<p>You should be redirected automatically to the target URL: <a href=\"" + esc + "\">" + esc +
		"</a>. If not, click the link.\n")
	return r
}
