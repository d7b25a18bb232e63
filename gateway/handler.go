package gateway

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
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
//   - Headers go out lazily, with the first non-empty chunk or write, or at
//     the end of an empty body; until then start may be called again with
//     excInfo to replace them.
//   - A status or header that would corrupt the wire (see [CheckResponse])
//     is never written: the request is answered with a 500 and the reason
//     logged.
//   - A declared Content-Length is a promise: no more than that is sent, and
//     a body that falls short aborts the connection instead of ending as
//     though complete.
//   - The Body is closed exactly once, whatever happens, and its producer
//     stops as soon as the client goes away (gateway.context is cancelled).
//   - A panic in the application or its Body is logged with its stack and
//     answered with a 500 if the headers have not gone out, or by aborting
//     the connection if they have; the server goes on serving. With
//     PropagatePanics the panic continues up the stack instead, after Close.
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

	status        string
	code          int
	headers       Headers
	contentLength int64 // declared by the application; -1 if none
	written       int64
	started       bool  // start has been called
	sent          bool  // the headers went out
	refused       error // the status or headers broke a rule: answer 500
	aborted       error // start with excInfo after the headers went out
	clientGone    error // a write to the client failed, or the client left
	overflow      bool  // the body went past its Content-Length

	startFn StartResponse
	writeFn WriteFunc
	yieldFn func([]byte) bool
}

var exchangePool = sync.Pool{New: func() any {
	x := new(exchange)
	x.startFn = x.start
	x.writeFn = x.write
	x.yieldFn = x.yield
	return x
}}

// ServeHTTP serves one request through the application.
func (h *HTTPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := exchangePool.Get().(*exchange)
	x.reset(h, w, r)
	x.serve()
	x.reset(nil, nil, nil)
	exchangePool.Put(x)
}

func (h *HTTPHandler) logger() *log.Logger {
	if h.ErrorLog != nil {
		return h.ErrorLog
	}
	return log.Default()
}

func (x *exchange) reset(h *HTTPHandler, w http.ResponseWriter, r *http.Request) {
	x.env = Environ{}
	x.h, x.w, x.r = h, w, r
	x.status, x.code, x.headers = "", 0, nil
	x.contentLength, x.written = -1, 0
	x.started, x.sent, x.overflow = false, false, false
	x.refused, x.aborted, x.clientGone = nil, nil, nil
	if r != nil {
		fillEnviron(&x.env, r, h)
	}
}

// fillEnviron builds the environ of r without copying its headers.
func fillEnviron(e *Environ, r *http.Request, h *HTTPHandler) {
	e.Method = r.Method
	e.PathInfo = r.URL.Path
	e.QueryString = r.URL.RawQuery
	e.RequestURI = r.RequestURI
	e.Header = r.Header
	e.ContentType = r.Header.Get("Content-Type")
	e.ContentLength = r.Header.Get("Content-Length")
	e.ServerProtocol = r.Proto
	e.Host = r.Host
	e.URLScheme = "http"
	if r.TLS != nil {
		e.URLScheme = "https"
	}
	if host, port, err := net.SplitHostPort(r.Host); err == nil {
		e.ServerName, e.ServerPort = host, port
	} else {
		e.ServerName, e.ServerPort = r.Host, "80"
		if r.TLS != nil {
			e.ServerPort = "443"
		}
	}
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		e.RemoteAddr, e.RemotePort = host, port
	} else {
		e.RemoteAddr = r.RemoteAddr
	}
	e.Input = r.Body
	if e.Input == nil {
		e.Input = http.NoBody
	}
	e.Errors = h.logger().Writer()
	e.Multithread = !h.SingleThreaded
	e.Multiprocess = h.Multiprocess
	e.ctx = r.Context()
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

func (x *exchange) callApp() (body Body, err error) {
	defer func() {
		if v := recover(); v != nil {
			body, err = nil, recovered(v)
		}
	}()
	body = x.h.App.ServeGateway(&x.env, x.startFn)
	if body == nil {
		return nil, errors.New("gateway: the application returned a nil Body")
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

// transmit sends the response: the body's chunks, then the headers if no
// chunk sent them. It returns the error that makes the response a failure.
func (x *exchange) transmit(body Body) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = recovered(v)
		}
	}()
	if x.r.Method == http.MethodHead {
		x.transmitHead(body)
	} else if wt, ok := bodyWriterTo(body); ok && x.started && x.refused == nil {
		_, werr := wt.WriteTo(bodyWriter{x})
		if werr != nil && x.clientGone == nil && !x.overflow {
			return werr
		}
	} else {
		body.Chunks(x.yieldFn)
	}
	switch {
	case x.aborted != nil:
		return x.aborted
	case x.clientGone != nil:
		return nil // nobody to answer
	case !x.started:
		return ErrNoStart
	case x.refused != nil:
		return x.refused
	}
	if berr := BodyErr(body); berr != nil {
		return fmt.Errorf("gateway: the body ended early: %w", berr)
	}
	if x.overflow {
		x.h.logger().Printf("gateway: %s %s: the body is longer than its Content-Length %d; the rest was not sent",
			x.r.Method, x.r.RequestURI, x.contentLength)
	}
	if !x.sent {
		x.sendHeaders()
	}
	if x.contentLength > 0 && x.written < x.contentLength && x.r.Method != http.MethodHead && !bodyForbidden(x.code) {
		return fmt.Errorf("%w: %d of %d bytes", ErrShortBody, x.written, x.contentLength)
	}
	return nil
}

// transmitHead runs the body far enough for the application to have called
// start, and gives a body of known length its Content-Length.
func (x *exchange) transmitHead(body Body) {
	if !x.started {
		body.Chunks(func(p []byte) bool { return !x.started || len(p) == 0 })
	}
	if x.started && x.refused == nil && x.contentLength < 0 {
		if n := BodyLen(body); n >= 0 {
			x.headers = append(x.headers, Header{"Content-Length", strconv.FormatInt(n, 10)})
			x.contentLength = n
		}
	}
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
		x.aborted = fmt.Errorf("%w: %w", ErrHeadersSent, exc)
		return x.writeFn
	}
	x.started = true
	x.status, x.headers = status, headers
	x.code, x.contentLength, x.refused = CheckResponse(status, headers)
	return x.writeFn
}

// sendHeaders puts the recorded status and headers on the wire.
func (x *exchange) sendHeaders() {
	x.sent = true
	hdr := x.w.Header()
	for _, f := range x.headers {
		hdr.Add(f.Name, f.Value)
	}
	x.w.WriteHeader(x.code)
}

// write is the write callable: it sends p, and flushes it.
func (x *exchange) write(p []byte) error {
	if err := x.writeChunk(p); err != nil {
		return err
	}
	x.flush()
	return x.clientGone
}

func (x *exchange) yield(p []byte) bool {
	if len(p) == 0 {
		return x.aborted == nil && x.refused == nil && x.clientGone == nil
	}
	if x.writeChunk(p) != nil {
		return false
	}
	x.flush()
	if x.clientGone == nil {
		if err := x.env.ctx.Err(); err != nil {
			x.clientGone = err
		}
	}
	return x.clientGone == nil && !x.overflow
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
	case len(p) == 0:
		return nil
	}
	if !x.sent {
		x.sendHeaders()
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

// bodyWriter lets a WriterTo body write straight to the client.
type bodyWriter struct{ x *exchange }

func (b bodyWriter) Write(p []byte) (int, error) {
	before := b.x.written
	err := b.x.writeChunk(p)
	return int(b.x.written - before), err
}

// ReadFrom hands a file body to net/http's sendfile path when the whole of
// it fits the declared length.
func (b bodyWriter) ReadFrom(r io.Reader) (int64, error) {
	x := b.x
	rf, ok := x.w.(io.ReaderFrom)
	if !ok || x.contentLength < 0 || x.aborted != nil || x.refused != nil || x.clientGone != nil {
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
	if err == http.ErrAbortHandler {
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
	x.w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(x.w, internalErrorBody)
}

const internalErrorBody = "Internal Server Error\n"
