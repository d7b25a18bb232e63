package gateway

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vial-go/vial/gateway/internal/hostport"
)

// Handler returns an [net/http.Handler] that serves app: the bridge every
// net/http-based server uses. It is &HTTPHandler{App: app}; see
// [HTTPHandler] for what it guarantees and how to configure it.
func Handler(app Application) http.Handler {
	return &HTTPHandler{App: app}
}

// HTTPHandler serves an [Application] to net/http.
//
// For each request it builds an [Environ] from the *http.Request without
// copying the headers, calls the application, and transmits the Body chunk
// by chunk, flushing each before asking for the next. It enforces the
// contract on the application's behalf:
//
//   - Headers go out lazily: with the first non-empty chunk, the first call
//     of write (even an empty one, as PEP 3333 has it), or at the end of an
//     empty body; until then start may be called again with excInfo to
//     replace them.
//   - A status or header that would corrupt the wire (see [CheckResponse])
//     is never written: the request is answered with a 500 and the reason
//     logged.
//   - A declared Content-Length is a promise: no more than that is sent, and
//     a body that falls short aborts the connection instead of ending as
//     though complete (or is answered with a 500 if nothing went out).
//     Without one, net/http uses chunked encoding for HTTP/1.1 and closes
//     the connection after an HTTP/1.0 response.
//   - The Body is closed exactly once, whatever happens, and its producer
//     stops as soon as the client goes away (gateway.context is cancelled).
//   - A panic in the application or its Body is logged with its stack and
//     answered with a 500 if the headers have not gone out, or by aborting
//     the connection if they have; the server goes on serving. With
//     PropagatePanics the panic continues up the stack instead, after Close.
//   - The response carries the application's headers and no others of
//     the handler's choosing: no Content-Type is sniffed for a body that
//     has none. A [Bytes] body goes out in one piece with its
//     Content-Length, not chunked; other bodies are flushed chunk by chunk.
//   - Behind a middleware that put fields in the ResponseWriter's header
//     map, the application's headers are what a plain handler's
//     w.Header().Set would be: a name the application sends replaces the
//     map's fields of that name, its own repeated fields all go out in its
//     order, Set-Cookie adds to the cookies already there, and the fields
//     it does not send stay.
//   - gateway.errors writes to ErrorLog, each Write one log entry.
//   - For HEAD, the Body is iterated only until the application has called
//     start and produced its first chunk, then closed; nothing is sent. A
//     body of known length gets a Content-Length, as the GET would.
type HTTPHandler struct {
	App Application

	// ErrorLog receives gateway.errors and the reasons for refused or
	// aborted responses. Nil means log.Default().
	ErrorLog *log.Logger

	// SingleThreaded tells the application (gateway.multithread false) that
	// the server runs one request at a time.
	SingleThreaded bool

	// Multiprocess sets gateway.multiprocess.
	Multiprocess bool

	// PropagatePanics re-panics a panic from the application after the Body
	// is closed, instead of answering it with a 500 (werkzeug's
	// passthrough_errors). A debugger or an outer recovery handles it.
	PropagatePanics bool

	noNoter atomic.Uintptr // the type word of a ResponseWriter with no Noter (see noterOf)
}

// exchange is one request on its way through an HTTPHandler: the one
// response state machine, on the wire of an http.ResponseWriter. Exchanges
// are pooled: the Environ, and the start, write and yield functions bound
// to the exchange, cost nothing per request.
type exchange struct {
	Exchange
	environ Environ
	h       *HTTPHandler
	w       http.ResponseWriter
	r       *http.Request
}

var exchangePool = sync.Pool{New: func() any {
	x := new(exchange)
	x.Bind(x)
	return x
}}

// ServeHTTP serves one request through the application.
func (h *HTTPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := exchangePool.Get().(*exchange)
	x.init(h, w, r)
	if err := x.Serve(h.App, &x.environ); err != nil {
		x.fail(err)
	}
	// A panic (an aborted response, PropagatePanics) leaves the exchange
	// to the garbage collector; the normal path recycles it.
	x.release()
	exchangePool.Put(x)
}

func (h *HTTPHandler) logger() *log.Logger {
	if h.ErrorLog != nil {
		return h.ErrorLog
	}
	return log.Default()
}

// errorsWriter is gateway.errors for an HTTPHandler: each Write is one entry
// of the handler's ErrorLog, serialised with the log's other output, so
// concurrent requests can write to it safely.
type errorsWriter struct{ h *HTTPHandler }

func (w errorsWriter) Write(p []byte) (int, error) {
	if err := w.h.logger().Output(2, string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// init prepares a pooled (reset) exchange for r.
func (x *exchange) init(h *HTTPHandler, w http.ResponseWriter, r *http.Request) {
	x.h, x.w, x.r = h, w, r
	fillEnviron(&x.environ, r, h)
	x.environ.noteW, x.environ.noteH = w, h // its Noter is looked for when a note is made
}

// noterOf finds the Noter among w and the writers it wraps (their Unwrap
// methods, as http.ResponseController follows them), or nil. A server
// gives one type of ResponseWriter, most often net/http's own, which is no
// Noter and wraps nothing: that answer is kept for the type, so the type
// assertions are not made on every request. (A type that wraps another
// writer may wrap a Noter one time and not the next: it is asked each
// time.)
func (h *HTTPHandler) noterOf(w http.ResponseWriter) Noter {
	if typ := typeWord(w); typ == h.noNoter.Load() {
		return nil
	}
	return h.findNoterAndKeep(w)
}

// typeWord is the first word of the interface value w: its itab, which
// is one for each concrete type and lives as long as the program, so it
// tells types apart as cheaply as a pointer comparison.
func typeWord(w http.ResponseWriter) uintptr {
	return uintptr((*[2]unsafe.Pointer)(unsafe.Pointer(&w))[0])
}

// findNoterAndKeep is noterOf's slow path.
func (h *HTTPHandler) findNoterAndKeep(w http.ResponseWriter) Noter {
	if n := findNoter(w); n != nil {
		return n
	}
	if _, wraps := w.(interface{ Unwrap() http.ResponseWriter }); !wraps {
		h.noNoter.Store(typeWord(w))
	}
	return nil
}

func findNoter(w http.ResponseWriter) Noter {
	for {
		if n, ok := w.(Noter); ok {
			return n
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// release drops every reference the exchange holds, so that a pooled
// exchange keeps no request alive, and leaves it ready for the next one.
func (x *exchange) release() {
	x.Reset()
	x.environ = Environ{}
	x.h, x.w, x.r = nil, nil, nil
}

// fillEnviron builds the environ of r without copying its headers. e must
// be zero or have every field fillEnviron sets overwritten.
func fillEnviron(e *Environ, r *http.Request, h *HTTPHandler) {
	e.Method = r.Method
	e.ScriptName = ""
	e.PathInfo = r.URL.Path
	e.QueryString = r.URL.RawQuery
	e.RequestURI = r.RequestURI
	e.Header = r.Header
	// net/http canonicalises the names of request headers: a map lookup
	// is Header.Get without canonicalising the key again.
	e.ContentType = firstValue(r.Header, "Content-Type")
	e.ContentLength = firstValue(r.Header, "Content-Length")
	if e.ContentLength == "" && r.ContentLength > 0 {
		// A request built in code (httptest.NewRequest) or by a server
		// that keeps the length out of the headers.
		e.ContentLength = strconv.FormatInt(r.ContentLength, 10)
	}
	e.ServerProtocol = r.Proto
	e.Host = r.Host
	e.URLScheme = "http"
	if r.TLS != nil {
		e.URLScheme = "https"
	}
	authority := r.Host
	if authority == "" {
		// HTTP/1.0 without a Host header: the address the client reached.
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			authority = a.String()
		}
	}
	var ok bool
	e.ServerName, e.ServerPort, ok = hostport.Split(authority)
	if !ok || e.ServerPort == "" {
		e.ServerPort = hostport.DefaultPort(e.URLScheme)
	}
	e.RemoteAddr, e.RemotePort, _ = hostport.Split(r.RemoteAddr)
	e.Input = r.Body
	if e.Input == nil {
		e.Input = http.NoBody
	}
	e.Errors = errorsWriter{h}
	e.Multithread = !h.SingleThreaded
	e.Multiprocess = h.Multiprocess
	e.RunOnce = false
	e.ctx = r.Context()
	e.extra = nil
}

func firstValue(h http.Header, canonicalName string) string {
	if vs := h[canonicalName]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// WriteHeader puts the status and the headers in the ResponseWriter's
// header map and writes the status code (net/http supplies the reason).
// What the map held before (a middleware's fields) is to the application's
// headers what it is to a plain handler's w.Header().Set: see
// dropReplaced.
func (x *exchange) WriteHeader(_ string, code int, headers Headers, length int64) {
	hdr := x.w.Header()
	// While hdr held nothing before this response, a name not among the
	// first fields before it is new to it: no need to look it up. (The
	// names are tokens, which have the same canonical form when they are
	// the same but for ASCII case.) Past a few fields, the lookup is
	// cheaper than the comparisons.
	fresh := len(hdr) == 0
	if !fresh {
		dropReplaced(hdr, headers)
	}
	haveType := false
	// hdr.Add, with the values of the fields new to hdr sharing one
	// backing array: one allocation for the whole response, not one for
	// each field. Each slice is capped at its one value, so that appending
	// to it later copies instead of overwriting its neighbour.
	values := make([]string, len(headers))
	for i, f := range headers {
		name := canonicalName(f.Name)
		known := !fresh || i >= maxCompared ||
			slices.ContainsFunc(headers[:i], func(g Header) bool { return sameName(g.Name, f.Name) })
		haveType = haveType || name == "Content-Type"
		if known {
			if old := hdr[name]; len(old) > 0 {
				hdr[name] = append(old, f.Value)
				continue
			}
		}
		values[i] = f.Value
		hdr[name] = values[i : i+1 : i+1]
	}
	if !haveType {
		if _, ok := hdr["Content-Type"]; !ok {
			// The application's headers are the response's: net/http
			// must not add a sniffed Content-Type it did not choose.
			hdr["Content-Type"] = nil
		}
	}
	if length >= 0 {
		hdr.Set("Content-Length", strconv.FormatInt(length, 10))
	}
	x.w.WriteHeader(code)
}

// dropReplaced removes from hdr, which holds fields from before the
// response (a middleware's), every name that headers send but Set-Cookie:
// the application's fields of a name replace the fields hdr had, as
// w.Header().Set would, and its cookies add to those already set. The
// fields the application does not send stay. WriteHeader then adds the
// application's fields, all of them in order, repeated names included.
func dropReplaced(hdr http.Header, headers Headers) {
	for _, f := range headers {
		if name := canonicalName(f.Name); name != "Set-Cookie" {
			delete(hdr, name)
		}
	}
}

// maxCompared is how many fields WriteHeader compares a name with before
// it looks the name up in the header map instead.
const maxCompared = 8

// canonicalName is textproto.CanonicalMIMEHeaderKey (what hdr.Add does to
// a name), without its scan for the names that responses carry most,
// which applications write in canonical form.
func canonicalName(name string) string {
	if commonField(name) || name == "Content-Length" {
		return name
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// WriteBody writes to the ResponseWriter. For a HEAD request net/http
// drops the bytes.
func (x *exchange) WriteBody(p []byte) (int, error) { return x.w.Write(p) }

// Flush flushes the ResponseWriter, if it can be. A client that has gone
// shows in the next write, or in the request's context.
func (x *exchange) Flush() error {
	if f, ok := x.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// ReaderFrom is the ResponseWriter's ReadFrom, net/http's sendfile path.
func (x *exchange) ReaderFrom() io.ReaderFrom {
	rf, _ := x.w.(io.ReaderFrom)
	return rf
}

// smallBody is the size below which net/http finds the Content-Length of a
// response itself (its buffer before chunking): a longer body of known
// length gets the header from the server, so that it is not chunked.
const smallBody = 2048

// KnownLength gives a Content-Length to a body that goes out in one piece
// (an io.WriterTo, written without a flush per chunk) and is too long for
// net/http to measure. Other bodies are flushed chunk by chunk and chunked.
func (x *exchange) KnownLength(body Body, whole bool) int64 {
	if whole {
		if n := BodyLen(body); n >= smallBody {
			return n
		}
	}
	return -1
}

// Finish has nothing to do: net/http completes the response (flushing it,
// ending a chunked body) when ServeHTTP returns.
func (x *exchange) Finish() error { return nil }

// Logf writes one entry to the handler's ErrorLog, naming the request.
func (x *exchange) Logf(format string, args ...any) {
	x.h.logger().Output(2, fmt.Sprintf("gateway: %s %s: ", x.r.Method, x.r.RequestURI)+fmt.Sprintf(format, args...))
}

// fail answers a failed request: a 500 if nothing went out yet, else an
// aborted connection. It logs the reason.
func (x *exchange) fail(err error) {
	if _, gone := err.(*ClientGoneError); gone || err == http.ErrAbortHandler {
		panic(http.ErrAbortHandler)
	}
	pe, isPanic := err.(*PanicError)
	if isPanic && x.h.PropagatePanics {
		panic(pe.Value)
	}
	logger := x.h.logger()
	if isPanic {
		logger.Printf("gateway: %s %s: %v\n%s", x.r.Method, x.r.RequestURI, pe.Value, pe.Stack)
	} else {
		logger.Printf("gateway: %s %s: %v", x.r.Method, x.r.RequestURI, err)
	}
	if x.Sent() {
		// The status is out: a 500 is no longer possible, and ending the
		// response normally would pass a broken one off as complete.
		panic(http.ErrAbortHandler)
	}
	// The 500 is the server's, not the application's: drop what the
	// handlers around this one put in the header map.
	clear(x.w.Header())
	x.SendInternalError()
}
