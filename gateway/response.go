package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
)

// A response is one request's response on its way from the application to
// the client: the state machine of start, write and the Body that every
// server in this package shares ([HTTPHandler], [CGI]). It records what the
// application does and keeps the contract on its behalf (headers sent
// lazily, start again with excInfo, the declared Content-Length, HEAD, the
// statuses that allow no body, the Body closed exactly once), and leaves to
// its wire what is the server's own: how the status, the headers and the
// bytes reach the client.
//
// A server embeds a response, binds it to its wire once, and for each
// request fills env and calls serve; it answers the error serve returns in
// its own way (a 500 while nothing has gone out, else an abort).
type response struct {
	wire wire
	env  Environ
	head bool // a HEAD request

	// chunkWrites makes each Write of an io.WriterTo body a chunk of its
	// own: flushed, and the context checked, before it returns. Without
	// it the writes follow one another unflushed, and the server sees the
	// body whole (net/http measures a short one for its Content-Length).
	chunkWrites bool

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

// A wire is the connection a response goes out on, as the server that
// carries it sees it: an http.ResponseWriter for an HTTPHandler (exchange),
// standard output for CGI (cgiResponse).
type wire interface {
	// writeHeader writes the status and the header fields, in the
	// application's order. A length that is not negative is a
	// Content-Length to add: the application declared none, and the
	// server knows the body's (knownLength).
	writeHeader(status string, code int, headers Headers, length int64)

	// writeBody writes bytes of the body, after the header, perhaps to a
	// buffer.
	writeBody(p []byte) (int, error)

	// flushOut sends what is buffered to the client. An error means the
	// client cannot be reached any more.
	flushOut() error

	// readerFrom returns where a file body of declared length is copied in
	// one call, with sendfile where the platform has it, or nil.
	readerFrom() io.ReaderFrom

	// knownLength returns the Content-Length the server gives a body that
	// is about to go out when the application declared none: the body's
	// length if the server wants it and knows it, else -1. whole reports
	// that the body goes out in one call (it is an io.WriterTo).
	knownLength(body Body, whole bool) int64

	// finish completes a response that has gone out whole. An error means
	// it could not be sent after all.
	finish() error

	// logf reports a flaw of a response that was sent all the same.
	logf(format string, args ...any)
}

// bind ties x to its wire and makes the functions handed to the
// application: once, not for each request.
func (x *response) bind(w wire) {
	x.wire = w
	x.startFn, x.writeFn, x.yieldFn, x.headYieldFn = x.start, x.write, x.yield, x.headYield
}

// reset leaves x as bind left it, holding nothing of the last request.
func (x *response) reset() {
	x.env = Environ{}
	x.head, x.status, x.code, x.headers = false, "", 0, nil
	x.contentLength, x.addedLength, x.written, x.dropped = 0, 0, 0, 0
	x.started, x.sent, x.overflow = false, false, false
	x.refused, x.aborted, x.gone = nil, nil, nil
}

// serve runs app on x.env and transmits its response, then closes the
// Body. It returns the error that makes the response a failure, for the
// server to answer; errGone when the client has gone.
func (x *response) serve(app Application) error {
	x.head = x.env.Method == http.MethodHead
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
	return err
}

func (x *response) callApp(app Application) (body Body, err error) {
	defer func() {
		if v := recover(); v != nil {
			body, err = nil, recovered(v)
		}
	}()
	body = app.ServeGateway(&x.env, x.startFn)
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
func (x *response) transmit(body Body) (err error) {
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
		wt, whole := BodyWriterTo(body)
		whole = whole && x.started
		if x.lengthMissing() {
			x.setLength(x.wire.knownLength(body, whole))
		}
		if whole {
			// One call hands the whole body over; a file goes through
			// bodyWriter.ReadFrom, the wire's fast path.
			_, werr := wt.WriteTo(bodyWriter{x})
			if werr != nil && x.gone == nil && x.aborted == nil && !x.overflow {
				return werr
			}
		} else {
			body.Chunks(x.yieldFn)
		}
	}
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
	if x.contentLength > 0 && x.written < x.contentLength && !x.head && !bodyForbidden(x.code) {
		// Before the headers went out this is still a clean 500; after,
		// the server aborts the response.
		return fmt.Errorf("%w: %d of %d bytes", ErrShortBody, x.written, x.contentLength)
	}
	if x.overflow {
		x.wire.logf("the body is longer than its Content-Length %d; the rest was not sent", x.contentLength)
	}
	if x.dropped > 0 {
		x.wire.logf("a %d response has no body; %d bytes were not sent", x.code, x.dropped)
	}
	if !x.sent {
		x.sendHeaders()
	}
	return x.wire.finish()
}

// lengthMissing reports whether the response is about to go out without a
// Content-Length that it could have: start was called and declared none,
// and the status allows a body.
func (x *response) lengthMissing() bool {
	return x.started && x.refused == nil && !x.sent && x.contentLength < 0 && !bodyForbidden(x.code)
}

// setLength makes n, if not negative, the response's Content-Length, which
// the server adds to the headers.
func (x *response) setLength(n int64) {
	if n >= 0 {
		x.contentLength, x.addedLength = n, n
	}
}

// transmitHead runs the body only as far as needed for the application to
// call start, and gives a body of known length its Content-Length, as the
// GET would have it. Nothing of the body is sent.
func (x *response) transmitHead(body Body) {
	if !x.started {
		body.Chunks(x.headYieldFn)
	}
	if x.lengthMissing() {
		x.setLength(BodyLen(body))
	}
}

// headYield is the yield of a HEAD request's body: it goes on until start
// has been called, then stops at the first chunk.
func (x *response) headYield(p []byte) bool {
	if len(p) == 0 {
		return !x.started
	}
	if !x.started {
		x.aborted = ErrNoStart
	}
	return false
}

// bodyWriter lets an io.WriterTo body write straight to the client.
type bodyWriter struct{ x *response }

func (b bodyWriter) Write(p []byte) (int, error) {
	x := b.x
	before := x.written
	err := x.writeChunk(p)
	if err == nil && x.chunkWrites {
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
	rf := x.wire.readerFrom()
	if rf == nil || x.contentLength < 0 || bodyForbidden(x.code) || x.check() != nil {
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
func (x *response) start(status string, headers Headers, excInfo ...error) WriteFunc {
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
func (x *response) sendHeaders() {
	x.sent = true
	x.wire.writeHeader(x.status, x.code, x.headers, x.addedLength)
}

// write is the write callable. It sends p and flushes it; as PEP 3333 has
// it, its first call sends the headers even when p is empty.
func (x *response) write(p []byte) error {
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
func (x *response) yield(p []byte) bool {
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
func (x *response) check() error {
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
func (x *response) checkContext() {
	if x.gone == nil {
		if err := x.env.Context().Err(); err != nil {
			x.gone = err
		}
	}
}

func (x *response) flush() {
	if x.gone != nil {
		return
	}
	if err := x.wire.flushOut(); err != nil {
		x.gone = err
	}
}

// writeChunk sends p after the headers, keeping to the declared length.
func (x *response) writeChunk(p []byte) error {
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
	n, err := x.wire.writeBody(p)
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

// internalErrorBody is the body of the 500 a server answers a failed
// response with while nothing has gone out.
const internalErrorBody = "Internal Server Error\n"

var errNilBody = errors.New("gateway: the application returned a nil Body")

var errOverflow = errors.New("gateway: the body is longer than its Content-Length")

// errGone ends a response whose client has gone: x.gone says why. An
// HTTPHandler closes the connection and logs nothing (a client leaving is
// not the application's error).
var errGone = errors.New("gateway: the client has gone")

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
