package gateway

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/textproto"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
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
}

// exchange is the state of one request on its way through an HTTPHandler.
// Exchanges are pooled: the Environ, and the start, write and yield
// functions bound to the exchange, cost nothing per request.
type exchange struct {
	env Environ
	h   *HTTPHandler
	w   http.ResponseWriter
	r   *http.Request

	head          bool // a HEAD request
	status        string
	code          int
	headers       Headers
	contentLength int64 // declared by the application, or known from the body; -1 if none
	autoLength    bool  // contentLength comes from the body: the server adds the header
	written       int64
	dropped       int64 // bytes of a body the status does not allow (204, 304)
	started       bool  // start has been called
	sent          bool  // the headers went out
	overflow      bool  // the body went past its Content-Length
	refused       error // the status or headers broke a rule: answer 500
	aborted       error // start with excInfo after the headers went out, or a chunk before start
	clientGone    error // a write to the client failed, or the client left

	startFn     StartResponse
	writeFn     WriteFunc
	yieldFn     func([]byte) bool
	headYieldFn func([]byte) bool
}

var exchangePool = sync.Pool{New: func() any {
	x := new(exchange)
	x.startFn = x.start
	x.writeFn = x.write
	x.yieldFn = x.yield
	x.headYieldFn = x.headYield
	return x
}}

// ServeHTTP serves one request through the application.
func (h *HTTPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := exchangePool.Get().(*exchange)
	x.init(h, w, r)
	x.serve()
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

// init prepares a pooled (zero) exchange for r.
func (x *exchange) init(h *HTTPHandler, w http.ResponseWriter, r *http.Request) {
	x.h, x.w, x.r = h, w, r
	x.head = r.Method == http.MethodHead
	x.contentLength = -1
	fillEnviron(&x.env, r, h)
}

// release drops every reference the exchange holds, so that a pooled
// exchange keeps no request alive, and leaves it zero for the next one.
func (x *exchange) release() {
	x.env = Environ{}
	x.h, x.w, x.r = nil, nil, nil
	x.head, x.status, x.code, x.headers = false, "", 0, nil
	x.contentLength, x.autoLength, x.written, x.dropped = -1, false, 0, 0
	x.started, x.sent, x.overflow = false, false, false
	x.refused, x.aborted, x.clientGone = nil, nil, nil
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
	defaultPort := "80"
	if r.TLS != nil {
		e.URLScheme, defaultPort = "https", "443"
	}
	hostport := r.Host
	if hostport == "" {
		// HTTP/1.0 without a Host header: the address the client reached.
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			hostport = a.String()
		}
	}
	var ok bool
	e.ServerName, e.ServerPort, ok = splitHostPort(hostport)
	if !ok || e.ServerPort == "" {
		e.ServerPort = defaultPort
	}
	e.RemoteAddr, e.RemotePort, _ = splitHostPort(r.RemoteAddr)
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

// splitHostPort is net.SplitHostPort without the allocation of its error:
// it splits "host:port", "[v6]:port", and returns the host alone (brackets
// removed) with ok false when there is no port.
func splitHostPort(hostport string) (host, port string, ok bool) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return hostport, "", false
	}
	if hostport[0] == '[' {
		end := strings.IndexByte(hostport, ']')
		switch {
		case end < 0:
			return hostport, "", false
		case end+1 == len(hostport):
			return hostport[1:end], "", false
		case end+1 != i:
			return hostport, "", false
		}
		return hostport[1:end], hostport[i+1:], true
	}
	if strings.IndexByte(hostport[:i], ':') >= 0 {
		return hostport, "", false // an IPv6 address without brackets or port
	}
	return hostport[:i], hostport[i+1:], true
}

func (x *exchange) serve() {
	body, err := x.callApp()
	if err == nil {
		err = x.transmit(body)
	}
	if body != nil {
		if cerr := closeBody(body); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err != nil {
		x.fail(err)
	}
}

// panicError carries a recovered panic and the stack it was raised on.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// Unwrap exposes a panic value that is an error.
func (p *panicError) Unwrap() error {
	err, _ := p.value.(error)
	return err
}

func recovered(v any) error {
	if v == http.ErrAbortHandler {
		return http.ErrAbortHandler
	}
	return &panicError{value: v, stack: debug.Stack()}
}

var errNilBody = errors.New("gateway: the application returned a nil Body")

func (x *exchange) callApp() (body Body, err error) {
	defer func() {
		if v := recover(); v != nil {
			body, err = nil, recovered(v)
		}
	}()
	body = x.h.App.ServeGateway(&x.env, x.startFn)
	if body == nil {
		return nil, errNilBody
	}
	return body, nil
}

func closeBody(body Body) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = recovered(v)
		}
	}()
	return body.Close()
}

// smallBody is the size below which net/http finds the Content-Length of a
// response itself (its buffer before chunking): a longer body of known
// length gets the header from the server, so that it is not chunked.
const smallBody = 2048

// transmit sends the response: the body's chunks, then the headers if no
// chunk sent them. It returns the error that makes the response a failure.
func (x *exchange) transmit(body Body) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = recovered(v)
		}
	}()
	switch {
	case x.started && x.refused != nil:
		// Nothing of this body can be sent: do not run it.
	case x.head:
		x.transmitHead(body)
	default:
		if wt, ok := bodyWriterTo(body); ok && x.started {
			if !x.sent && x.contentLength < 0 && !bodyForbidden(x.code) {
				if n := BodyLen(body); n >= smallBody {
					x.contentLength, x.autoLength = n, true
				}
			}
			// One call hands the whole body over, without a flush per
			// chunk: a small one goes out with its Content-Length.
			_, werr := wt.WriteTo(bodyWriter{x})
			if werr != nil && x.clientGone == nil && x.aborted == nil && !x.overflow {
				return werr
			}
		} else {
			body.Chunks(x.yieldFn)
		}
	}
	switch {
	case x.aborted != nil:
		return x.aborted
	case x.clientGone != nil:
		// The client left, or the request's context ended (a server
		// shutting down, a deadline): the body is cut short, so the
		// response must not end as though complete.
		return errGone
	case !x.started:
		return ErrNoStart
	case x.refused != nil:
		return x.refused
	}
	if berr := BodyErr(body); berr != nil {
		return fmt.Errorf("gateway: the body ended early: %w", berr)
	}
	if x.contentLength > 0 && x.written < x.contentLength && !x.head && !bodyForbidden(x.code) {
		// Before the headers went out this is still a clean 500; after,
		// fail aborts the connection.
		return fmt.Errorf("%w: %d of %d bytes", ErrShortBody, x.written, x.contentLength)
	}
	if x.overflow {
		x.h.logger().Printf("gateway: %s %s: the body is longer than its Content-Length %d; the rest was not sent",
			x.r.Method, x.r.RequestURI, x.contentLength)
	}
	if x.dropped > 0 {
		x.h.logger().Printf("gateway: %s %s: a %d response has no body; %d bytes were not sent",
			x.r.Method, x.r.RequestURI, x.code, x.dropped)
	}
	if !x.sent {
		x.sendHeaders()
	}
	return nil
}

// transmitHead runs the body only as far as needed for the application to
// call start, and gives a body of known length its Content-Length, as the
// GET would have it.
func (x *exchange) transmitHead(body Body) {
	if !x.started {
		body.Chunks(x.headYieldFn)
	}
	if x.started && x.refused == nil && !x.sent && x.contentLength < 0 && !bodyForbidden(x.code) {
		if n := BodyLen(body); n >= 0 {
			x.contentLength, x.autoLength = n, true
		}
	}
}

// headYield is the yield of a HEAD request's body: it goes on until start
// has been called, then stops at the first chunk.
func (x *exchange) headYield(p []byte) bool {
	if len(p) == 0 {
		return !x.started
	}
	if !x.started {
		x.aborted = ErrNoStart
	}
	return false
}

// start is the StartResponse handed to the application.
func (x *exchange) start(status string, headers Headers, excInfo ...error) WriteFunc {
	var exc error
	for _, e := range excInfo {
		if e != nil {
			exc = e
		}
	}
	if x.started && exc == nil {
		panic(ErrStartTwice)
	}
	if x.sent {
		if x.aborted == nil {
			x.aborted = fmt.Errorf("%w: %w", ErrHeadersSent, exc)
		}
		return x.writeFn
	}
	x.started = true
	x.status, x.headers = status, headers
	x.code, x.contentLength, x.refused = CheckResponse(status, headers)
	x.autoLength = false
	return x.writeFn
}

// sendHeaders puts the recorded status and headers on the wire.
func (x *exchange) sendHeaders() {
	x.sent = true
	hdr := x.w.Header()
	haveType := false
	// hdr.Add, with the values of the fields new to hdr sharing one
	// backing array: one allocation for the whole response, not one for
	// each field. Each slice is capped at its one value, so that appending
	// to it later copies instead of overwriting its neighbour.
	values := make([]string, len(x.headers))
	for i, f := range x.headers {
		name := canonicalName(f.Name)
		if old := hdr[name]; len(old) > 0 {
			hdr[name] = append(old, f.Value)
		} else {
			values[i] = f.Value
			hdr[name] = values[i : i+1 : i+1]
		}
		haveType = haveType || name == "Content-Type"
	}
	if !haveType {
		if _, ok := hdr["Content-Type"]; !ok {
			// The application's headers are the response's: net/http
			// must not add a sniffed Content-Type it did not choose.
			hdr["Content-Type"] = nil
		}
	}
	if x.autoLength {
		hdr.Set("Content-Length", strconv.FormatInt(x.contentLength, 10))
	}
	x.w.WriteHeader(x.code)
}

// canonicalName is textproto.CanonicalMIMEHeaderKey (what hdr.Add does to
// a name), without its scan for the names that responses carry most,
// which applications write in canonical form.
func canonicalName(name string) string {
	switch name {
	case "Content-Type", "Content-Length", "Location", "Set-Cookie", "Cache-Control", "Vary", "Allow":
		return name
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// write is the write callable. It sends p and flushes it; as PEP 3333 has
// it, its first call sends the headers even when p is empty.
func (x *exchange) write(p []byte) error {
	if len(p) == 0 {
		if err := x.check(); err != nil {
			return err
		}
		if !x.sent {
			x.sendHeaders()
			x.flush()
		}
	} else if err := x.writeChunk(p); err != nil {
		return err
	} else {
		x.flush()
	}
	x.checkContext()
	return x.clientGone
}

// yield receives the body's chunks.
func (x *exchange) yield(p []byte) bool {
	if len(p) == 0 {
		return x.check() == nil
	}
	if x.writeChunk(p) != nil {
		return false
	}
	x.flush()
	x.checkContext()
	return x.clientGone == nil
}

// check returns the error that stops the body, if any.
func (x *exchange) check() error {
	switch {
	case x.aborted != nil:
		return x.aborted
	case x.clientGone != nil:
		return x.clientGone
	case !x.started:
		x.aborted = ErrNoStart
		return ErrNoStart
	case x.refused != nil:
		return x.refused
	case x.overflow:
		return errOverflow
	}
	return nil
}

// checkContext notices a client that went away, or a server shutting down,
// even while writes still succeed (they go to buffers).
func (x *exchange) checkContext() {
	if x.clientGone == nil {
		if err := x.env.ctx.Err(); err != nil {
			x.clientGone = err
		}
	}
}

func (x *exchange) flush() {
	if x.clientGone != nil {
		return
	}
	if f, ok := x.w.(http.Flusher); ok {
		f.Flush()
	}
}

// writeChunk sends p after the headers, keeping to the declared length.
func (x *exchange) writeChunk(p []byte) error {
	if err := x.check(); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	if !x.sent {
		x.sendHeaders()
	}
	if bodyForbidden(x.code) {
		x.dropped += int64(len(p))
		return nil
	}
	if x.contentLength >= 0 && x.written+int64(len(p)) > x.contentLength {
		p = p[:x.contentLength-x.written]
		x.overflow = true
	}
	n, err := x.w.Write(p)
	x.written += int64(n)
	if err != nil {
		x.clientGone = err
		return err
	}
	if x.overflow {
		return errOverflow
	}
	return nil
}

var errOverflow = errors.New("gateway: the body is longer than its Content-Length")

// errGone ends a response whose client has gone: the connection is closed,
// and nothing is logged (a client leaving is not the application's error).
var errGone = errors.New("gateway: the client has gone")

// bodyWriter lets a WriterTo body write straight to the client.
type bodyWriter struct{ x *exchange }

func (b bodyWriter) Write(p []byte) (int, error) {
	before := b.x.written
	err := b.x.writeChunk(p)
	if err == nil {
		return len(p), nil
	}
	return int(b.x.written - before), err
}

// ReadFrom hands a file body to net/http's sendfile path when its length is
// declared: the copy is limited to what remains of it.
func (b bodyWriter) ReadFrom(r io.Reader) (int64, error) {
	x := b.x
	rf, ok := x.w.(io.ReaderFrom)
	if !ok || x.contentLength < 0 || bodyForbidden(x.code) || x.check() != nil {
		return io.Copy(struct{ io.Writer }{b}, r)
	}
	if !x.sent {
		x.sendHeaders()
	}
	n, err := rf.ReadFrom(io.LimitReader(r, x.contentLength-x.written))
	x.written += n
	if err != nil {
		x.clientGone = err
	}
	return n, err
}

// fail answers a failed request: a 500 if nothing went out yet, else an
// aborted connection. It logs the reason.
func (x *exchange) fail(err error) {
	if err == http.ErrAbortHandler || err == errGone {
		panic(http.ErrAbortHandler)
	}
	var pe *panicError
	isPanic := errors.As(err, &pe)
	if isPanic && x.h.PropagatePanics {
		panic(pe.value)
	}
	logger := x.h.logger()
	if isPanic {
		logger.Printf("gateway: %s %s: %v\n%s", x.r.Method, x.r.RequestURI, pe.value, pe.stack)
	} else {
		logger.Printf("gateway: %s %s: %v", x.r.Method, x.r.RequestURI, err)
	}
	if x.sent {
		// The status is out: a 500 is no longer possible, and ending the
		// response normally would pass a broken one off as complete.
		panic(http.ErrAbortHandler)
	}
	x.sent = true
	hdr := x.w.Header()
	clear(hdr)
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(internalErrorBody)))
	hdr.Set("X-Content-Type-Options", "nosniff")
	x.w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(x.w, internalErrorBody)
}

const internalErrorBody = "Internal Server Error\n"
