package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// An Exchange is one request's response on its way from an application to
// a client: the one state machine of start, write and the Body that every
// server of the gateway packages runs ([HTTPHandler], the CGI server, the
// in-process server of package gatewaytest). It records what the
// application does and keeps the contract on its behalf (headers sent
// lazily, start again with excInfo, the declared Content-Length, HEAD, the
// statuses that allow no body, the Body closed exactly once), and leaves to
// its [Wire] what is the server's own: how the status, the headers and the
// bytes reach the client.
//
// A server binds an Exchange to its wire once, then for each request calls
// [Exchange.Serve] and answers the error it returns in its own way: the
// 500 of [Exchange.SendInternalError] while nothing has gone out
// ([Exchange.Sent] is false), else an aborted response. Serve starts each
// request afresh, and [Exchange.Reset] drops what the last one left, so a
// server can pool its exchanges, holding no request's data, and the start,
// write and yield functions handed to applications cost nothing per
// request. An Exchange serves one request at a time.
type Exchange struct {
	// ChunkWrites makes each Write of an io.WriterTo body a chunk of its
	// own: flushed, and the context checked, before it returns. Without
	// it the writes follow one another unflushed, and the server sees the
	// body whole (net/http measures a short one for its Content-Length).
	ChunkWrites bool

	wire Wire
	env  *Environ
	head bool // a HEAD request

	status        string
	code          int
	headers       Headers
	contentLength int64 // declared by the application, or known from the body; -1 if none
	addedLength   int64 // contentLength when known from the body: the server adds the header; -1 if not
	written       int64
	dropped       int64 // bytes of a body the status does not allow (204, 304)
	started       bool  // start has been called
	sent          bool  // the headers went out
	overflow      bool  // the body went past its Content-Length
	refused       error // the status or headers broke a rule: answer 500
	aborted       error // start with excInfo after the headers went out, or a chunk before start
	gone          error // a write to the client failed, or the request's context ended

	startFn     StartResponse
	writeFn     WriteFunc
	yieldFn     func([]byte) bool
	headYieldFn func([]byte) bool
}

// A Wire is the connection an [Exchange] puts a response on, as the server
// that carries it sees it: an http.ResponseWriter for an [HTTPHandler],
// standard output for the CGI server, memory for package gatewaytest. The
// Exchange calls it only from the goroutine that runs [Exchange.Serve].
type Wire interface {
	// WriteHeader writes the status and the header fields, in the
	// application's order. A length that is not negative is a
	// Content-Length to add: the application declared none, and the
	// server knows the body's (KnownLength). It is called once per
	// response, before any WriteBody.
	WriteHeader(status string, code int, headers Headers, length int64)

	// WriteBody writes bytes of the body, after the header, perhaps to a
	// buffer. The Wire must not keep p after it returns.
	WriteBody(p []byte) (int, error)

	// Flush sends what is buffered to the client. An error means the
	// client cannot be reached any more.
	Flush() error

	// ReaderFrom returns where a file body of declared length is copied in
	// one call, with sendfile where the platform has it, or nil.
	ReaderFrom() io.ReaderFrom

	// KnownLength returns the Content-Length the server gives a body that
	// is about to go out when the application declared none: the body's
	// length if the server wants it and knows it, else -1. whole reports
	// that the body goes out in one call (it is an io.WriterTo).
	KnownLength(body Body, whole bool) int64

	// Finish completes a response that has gone out whole. An error means
	// it could not be sent after all.
	Finish() error

	// Logf reports a flaw of a response that was sent all the same: a
	// body longer than its Content-Length, a body for a status that has
	// none.
	Logf(format string, args ...any)
}

// Bind ties x to its wire and makes the functions handed to the
// application: once, not for each request.
func (x *Exchange) Bind(w Wire) {
	x.wire = w
	x.startFn, x.writeFn, x.yieldFn, x.headYieldFn = x.start, x.write, x.yield, x.headYield
}

// Reset leaves x as Bind left it, holding nothing of the last request:
// what a pooled exchange should be between requests.
func (x *Exchange) Reset() {
	x.env, x.head, x.status, x.code, x.headers = nil, false, "", 0, nil
	x.contentLength, x.addedLength, x.written, x.dropped = 0, 0, 0, 0
	x.started, x.sent, x.overflow = false, false, false
	x.refused, x.aborted, x.gone = nil, nil, nil
}

// Sent reports whether the status and headers have gone to the wire: once
// they have, a failure can no longer be answered with a 500.
func (x *Exchange) Sent() bool { return x.sent }

// Serve runs app on env and transmits its response, then closes the Body,
// whatever happens. A panic in the application or its Body is recovered.
// Serve returns the error that makes the response a failure, for the
// server to answer: nil for a complete response; a *[ClientGoneError] when
// the client went away or env's context ended before the body was
// complete; a *[PanicError] for a panic; else what broke the contract
// ([ErrNoStart], [ErrShortBody], a *[HeaderError] …) or the Body's own
// error. Each call starts afresh, as [Exchange.Reset] leaves x; x must
// have been bound to its wire ([Exchange.Bind]).
func (x *Exchange) Serve(app Application, env *Environ) error {
	if x.wire == nil {
		panic("gateway: Exchange.Serve before Bind")
	}
	x.Reset()
	x.env = env
	x.head = env.Method == http.MethodHead
	x.contentLength, x.addedLength = -1, -1
	body, err := x.callApp(app)
	if err == nil {
		err = x.transmit(body)
	}
	if body != nil {
		if cerr := closeBody(body); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err == errGone {
		err = &ClientGoneError{Cause: x.gone}
	}
	return err
}

// SendInternalError answers a failed response that nothing of has gone out
// with the plain 500 every server sends: text/plain, "Internal Server
// Error", no body for HEAD. It does nothing once [Exchange.Sent] is true.
func (x *Exchange) SendInternalError() {
	if x.sent {
		return
	}
	x.sent = true
	x.wire.WriteHeader(internalErrorStatus, http.StatusInternalServerError, Headers{
		{Name: "Content-Type", Value: "text/plain; charset=utf-8"},
		{Name: "Content-Length", Value: strconv.Itoa(len(internalErrorBody))},
		{Name: "X-Content-Type-Options", Value: "nosniff"},
	}, -1)
	if !x.head {
		_, _ = x.wire.WriteBody([]byte(internalErrorBody))
	}
	_ = x.wire.Finish() // the server reports the error that failed the response
}

func (x *Exchange) callApp(app Application) (body Body, err error) {
	defer func() {
		if v := recover(); v != nil {
			body, err = nil, recovered(v)
		}
	}()
	body = app.ServeGateway(x.env, x.startFn)
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

// transmit sends the response: the body's chunks, then the headers if no
// chunk sent them. It returns the error that makes the response a failure.
func (x *Exchange) transmit(body Body) (err error) {
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
		if err := x.transmitBody(body); err != nil {
			return err
		}
	}
	if err := x.verdict(body); err != nil {
		return err
	}
	if x.overflow {
		x.wire.Logf("the body is longer than its Content-Length %d; the rest was not sent", x.contentLength)
	}
	if x.dropped > 0 {
		x.wire.Logf("a %d response has no body; %d bytes were not sent", x.code, x.dropped)
	}
	if !x.sent {
		x.sendHeaders()
	}
	return x.wire.Finish()
}

// transmitBody sends the body of a request other than HEAD: in one call
// when it can write itself, else chunk by chunk. It returns an error only
// from a WriteTo that failed on its own.
func (x *Exchange) transmitBody(body Body) error {
	wt, whole := BodyWriterTo(body)
	whole = whole && x.started
	if x.lengthMissing() {
		x.setLength(x.wire.KnownLength(body, whole))
	}
	if !whole {
		body.Chunks(x.yieldFn)
		return nil
	}
	// One call hands the whole body over; a file goes through
	// bodyWriter.ReadFrom, the wire's fast path.
	_, err := wt.WriteTo(bodyWriter{x})
	if err != nil && x.gone == nil && x.aborted == nil && !x.overflow {
		return err
	}
	return nil
}

// verdict returns the error that makes a transmitted response a failure,
// or nil for a complete one.
func (x *Exchange) verdict(body Body) error {
	// A body that reached its declared length is complete, even if the
	// request's context ended meanwhile (a CGI server stops the program as
	// soon as it has every byte).
	complete := x.started && x.contentLength >= 0 && x.written >= x.contentLength
	switch {
	case x.aborted != nil:
		return x.aborted
	case x.gone != nil && !complete:
		// The client left, or the request's context ended (a server
		// shutting down, a deadline): the body is cut short, so the
		// response must not end as though complete.
		return errGone
	case !x.started:
		return ErrNoStart
	case x.refused != nil:
		return x.refused
	}
	if !complete {
		// A producer that watches the context stops without yielding
		// again: its body ended because the request did.
		if x.checkContext(); x.gone != nil {
			return errGone
		}
	}
	if berr := BodyErr(body); berr != nil {
		return fmt.Errorf("gateway: the body ended early: %w", berr)
	}
	if x.contentLength > 0 && x.written < x.contentLength && !x.head && !httpsyntax.BodyForbidden(x.code) {
		// Before the headers went out this is still a clean 500; after,
		// the server aborts the response.
		return fmt.Errorf("%w: %d of %d bytes", ErrShortBody, x.written, x.contentLength)
	}
	return nil
}

// lengthMissing reports whether the response is about to go out without a
// Content-Length that it could have: start was called and declared none,
// and the status allows a body.
func (x *Exchange) lengthMissing() bool {
	return x.started && x.refused == nil && !x.sent && x.contentLength < 0 && !httpsyntax.BodyForbidden(x.code)
}

// setLength makes n, if not negative, the response's Content-Length, which
// the server adds to the headers.
func (x *Exchange) setLength(n int64) {
	if n >= 0 {
		x.contentLength, x.addedLength = n, n
	}
}

// transmitHead runs the body only as far as needed for the application to
// call start, and gives a body of known length its Content-Length, as the
// GET would have it. Nothing of the body is sent.
func (x *Exchange) transmitHead(body Body) {
	if !x.started {
		body.Chunks(x.headYieldFn)
	}
	if x.lengthMissing() {
		x.setLength(BodyLen(body))
	}
}

// headYield is the yield of a HEAD request's body: it goes on until start
// has been called, then stops at the first chunk.
func (x *Exchange) headYield(p []byte) bool {
	if len(p) == 0 {
		return !x.started
	}
	if !x.started {
		x.aborted = ErrNoStart
	}
	return false
}

// bodyWriter lets an io.WriterTo body write straight to the client.
type bodyWriter struct{ x *Exchange }

func (b bodyWriter) Write(p []byte) (int, error) {
	x := b.x
	before := x.written
	err := x.writeChunk(p)
	if err == nil && x.ChunkWrites {
		x.flush()
		x.checkContext()
		err = x.gone
	}
	if err != nil {
		return int(x.written - before), err
	}
	return len(p), nil
}

// ReadFrom hands a file body to the wire's fast path when its length is
// declared: the copy is limited to what remains of it.
func (b bodyWriter) ReadFrom(src io.Reader) (int64, error) {
	x := b.x
	rf := x.wire.ReaderFrom()
	if rf == nil || x.contentLength < 0 || httpsyntax.BodyForbidden(x.code) || x.check() != nil {
		return io.Copy(struct{ io.Writer }{b}, src)
	}
	if !x.sent {
		x.sendHeaders()
	}
	n, err := rf.ReadFrom(io.LimitReader(src, x.contentLength-x.written))
	x.written += n
	if err != nil {
		x.gone = err
	}
	return n, err
}

// start is the StartResponse handed to the application.
func (x *Exchange) start(status string, headers Headers, excInfo ...error) WriteFunc {
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
	x.addedLength = -1
	return x.writeFn
}

// sendHeaders puts the recorded status and headers on the wire.
func (x *Exchange) sendHeaders() {
	x.sent = true
	x.wire.WriteHeader(x.status, x.code, x.headers, x.addedLength)
}

// write is the write callable. It sends p and flushes it; as PEP 3333 has
// it, its first call sends the headers even when p is empty.
func (x *Exchange) write(p []byte) error {
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
	return x.gone
}

// yield receives the body's chunks.
func (x *Exchange) yield(p []byte) bool {
	if len(p) == 0 {
		return x.check() == nil
	}
	if x.writeChunk(p) != nil {
		return false
	}
	x.flush()
	x.checkContext()
	return x.gone == nil
}

// check returns the error that stops the body, if any.
func (x *Exchange) check() error {
	switch {
	case x.aborted != nil:
		return x.aborted
	case x.gone != nil:
		return x.gone
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

// checkContext notices a client that went away, or a server giving up on
// the request, even while writes still succeed (they go to buffers).
func (x *Exchange) checkContext() {
	if x.gone == nil {
		if err := x.env.Context().Err(); err != nil {
			x.gone = err
		}
	}
}

func (x *Exchange) flush() {
	if x.gone != nil {
		return
	}
	if err := x.wire.Flush(); err != nil {
		x.gone = err
	}
}

// writeChunk sends p after the headers, keeping to the declared length.
func (x *Exchange) writeChunk(p []byte) error {
	if err := x.check(); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	if !x.sent {
		x.sendHeaders()
	}
	if httpsyntax.BodyForbidden(x.code) {
		x.dropped += int64(len(p))
		return nil
	}
	if x.contentLength >= 0 && x.written+int64(len(p)) > x.contentLength {
		p = p[:x.contentLength-x.written]
		x.overflow = true
	}
	n, err := x.wire.WriteBody(p)
	x.written += int64(n)
	if err != nil {
		x.gone = err
		return err
	}
	if x.overflow {
		return errOverflow
	}
	return nil
}

// internalErrorStatus and internalErrorBody are the status and body of the
// 500 a server answers a failed response with while nothing has gone out.
const (
	internalErrorStatus = "500 Internal Server Error"
	internalErrorBody   = "Internal Server Error\n"
)

var errNilBody = errors.New("gateway: the application returned a nil Body")

var errOverflow = errors.New("gateway: the body is longer than its Content-Length")

// A ClientGoneError is what [Exchange.Serve] returns when the client went
// away, or the request's context ended, before the body was complete. The
// response must not end as though it were: an [HTTPHandler] closes the
// connection and logs nothing, as a client leaving is not the
// application's error. Servers look for it in Serve's result itself, not
// in what it wraps, so that an application's error that happens to wrap
// one is not taken for it.
type ClientGoneError struct {
	Cause error // the write that failed, or the context's error
}

// Error says that the client has gone, and why.
func (e *ClientGoneError) Error() string {
	if e.Cause == nil {
		return errGone.Error()
	}
	return errGone.Error() + ": " + e.Cause.Error()
}

// Unwrap returns the cause.
func (e *ClientGoneError) Unwrap() error { return e.Cause }

// errGone ends a transmission whose client has gone: x.gone says why, and
// Serve returns the two as a *ClientGoneError.
var errGone = errors.New("gateway: the client has gone")

// A PanicError carries a panic that [Exchange.Serve] recovered from an
// application or its Body, and the stack it was raised on. A server logs
// it with its stack, or panics again with Value to pass it on.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack where it panicked, as runtime/debug.Stack formats it
}

// Error returns "panic: " and the value.
func (p *PanicError) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Unwrap exposes a panic value that is an error.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// recovered makes the error of a recovered panic. http.ErrAbortHandler
// stays itself: it is how a handler asks net/http to abort the response.
func recovered(v any) error {
	if v == http.ErrAbortHandler {
		return http.ErrAbortHandler
	}
	return &PanicError{Value: v, Stack: debug.Stack()}
}
