//go:build !js && !plan9

// CGI needs a process with SIGTERM and SIGPIPE: neither js/wasm nor Plan 9.

package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RunCGI serves one request to app as an RFC 3875 CGI program, the
// analogue of PEP 3333's run_with_cgi: the environ comes from the process
// environment, the request body from standard input, and the response goes
// to standard output as a "Status:" line, the header fields and the body.
// Error text (gateway.errors, and the reasons for refused or failed
// responses) goes to standard error, which CGI servers write to their log.
//
// It is (&CGI{App: app, Context: ctx}).Run() with the process's environment
// and standard files; see [CGI] for what it guarantees. In addition,
// RunCGI handles two signals for the duration of the request:
//
//   - SIGTERM, which a web server sends when the client has gone away or
//     it shuts down, cancels gateway.context instead of killing the
//     process, so the Body stops and is closed. If the application has not
//     finished five seconds later, the signal is raised again with its
//     default action, and the process dies as it would have.
//   - SIGPIPE no longer kills the process when the server closes standard
//     output: the write fails, the response is abandoned and the Body is
//     closed.
//
// RunCGI and [CGI] are not available on js/wasm and Plan 9.
//
// RunCGI returns the error that made the response fail, already reported on
// standard error, or nil. A main function typically ends with:
//
//	if err := gateway.RunCGI(app); err != nil {
//		os.Exit(1)
//	}
func RunCGI(app Application) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	term := make(chan os.Signal, 1)
	pipe := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	signal.Notify(pipe, syscall.SIGPIPE)
	done := make(chan struct{})
	defer func() {
		close(done)
		signal.Stop(term)
		signal.Stop(pipe)
	}()
	go cgiWatchTerm(term, done, cancel)

	return (&CGI{App: app, Context: ctx}).Run()
}

// cgiTermGrace is how long RunCGI lets the application wind down after a
// SIGTERM before the signal takes its default action.
const cgiTermGrace = 5 * time.Second

func cgiWatchTerm(term <-chan os.Signal, done <-chan struct{}, cancel context.CancelFunc) {
	var sig os.Signal
	select {
	case sig = <-term:
		cancel()
	case <-done:
		return
	}
	t := time.NewTimer(cgiTermGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		signal.Reset(sig)
		if p, err := os.FindProcess(os.Getpid()); err != nil || p.Signal(sig) != nil {
			os.Exit(128 + 15)
		}
	}
}

// CGI serves one request to an [Application] over the CGI protocol (RFC
// 3875). [RunCGI] is the usual way to use it; the struct form lets the
// environment and the standard files be supplied, for tests or for a
// program that has already consumed part of its environment.
//
// The environ: REQUEST_METHOD, SCRIPT_NAME, PATH_INFO, QUERY_STRING,
// CONTENT_TYPE, CONTENT_LENGTH, SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL,
// REMOTE_ADDR, REMOTE_PORT and REQUEST_URI fill the [Environ]'s fields
// (REQUEST_URI is rebuilt from the path and query when the server does not
// set it); HTTP_HOST is Host and the other HTTP_* variables are Header
// (HTTP_USER_AGENT is "User-Agent"); gateway.url_scheme is "https" when
// HTTPS is "on" or "1", or REQUEST_SCHEME is "https". Every other variable
// (GATEWAY_INTERFACE, DOCUMENT_ROOT, SCRIPT_FILENAME, …) is an extension key
// holding its string. gateway.input reads standard input up to
// CONTENT_LENGTH bytes and never past it (a server need not close it at the
// end of the body); it is empty without CONTENT_LENGTH, and a body cut short
// reads as [io.ErrUnexpectedEOF]. A CONTENT_LENGTH of 0 is taken as absent
// (""), since some servers set it on every request without a body.
// gateway.errors is standard error. gateway.multithread is false,
// gateway.multiprocess and gateway.run_once are true.
//
// The response follows the rules of [Handler]:
//
//   - "Status: NNN Reason", the header fields in the application's order
//     (repeated names kept) and a blank line are written lazily: with the
//     first non-empty chunk, the first call of write (even an empty one),
//     or at the end of an empty body. Until then start may be called again
//     with excInfo to replace them.
//   - The header fields are the application's. The server adds none but
//     the Content-Length of a body of known length ([Bytes], [Strings]);
//     in particular no Content-Type, which RFC 3875 asks of the script when
//     there is a body: that is the application's to set.
//   - A status or header that [CheckResponse] refuses is never written: the
//     response is a plain "Status: 500", the reason on standard error, and
//     the body is not run. A panic in the application or its Body, a Body
//     that ends with an error, a missing call to start, and a body shorter
//     than its Content-Length are answered the same way while nothing has
//     gone out, the panic logged with its stack.
//   - Each chunk is written and flushed before the next is asked for.
//   - A declared Content-Length is a promise: no more is sent, and a body
//     that falls short is an error. A 1xx, 204 or 304 response sends no
//     body; what the application produced for it is dropped and reported.
//   - The Body is closed exactly once, whatever happens. When Context is
//     cancelled it stops after the chunk in progress, and the response
//     counts as failed.
//   - Once the headers are out, a failure can no longer turn into a 500:
//     it is reported on standard error and the output stops there. The
//     CGI server then ends the response; with a Content-Length the client
//     sees it is incomplete.
//   - For HEAD, no body is sent (RFC 3875 4.3.2). The Body is iterated
//     only if the application has not called start yet, and only until it
//     has and produced its first chunk; a body of known length gets its
//     Content-Length, as the GET would.
type CGI struct {
	// App is the application to run.
	App Application

	// Env holds the CGI variables, "NAME=value"; for a name given more
	// than once the first wins, as with [os.Getenv]. Nil means
	// os.Environ().
	Env []string

	// Stdin is where the request body is read from; nil means os.Stdin.
	Stdin io.Reader

	// Stdout receives the response; nil means os.Stdout.
	Stdout io.Writer

	// Stderr receives gateway.errors and the reasons for failed
	// responses; nil means os.Stderr.
	Stderr io.Writer

	// Context becomes gateway.context: when it is cancelled the Body
	// stops and is closed. Nil means context.Background().
	Context context.Context
}

// Run serves the request. It returns the error that made the response
// fail, after reporting it on Stderr, or nil.
func (c *CGI) Run() error {
	vars := c.Env
	if vars == nil {
		vars = os.Environ()
	}
	stdin, stdout, stderr := c.Stdin, c.Stdout, c.Stderr
	if stdin == nil {
		stdin = os.Stdin
	}
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}

	r := &cgiResponse{app: c.App, raw: stdout, errs: stderr, contentLength: -1}
	r.out = bufio.NewWriterSize(stdout, cgiBufferSize)
	r.startFn, r.writeFn, r.yieldFn, r.headYieldFn = r.start, r.write, r.yield, r.headYield
	if err := cgiFillEnviron(&r.env, vars, stdin); err != nil {
		fmt.Fprintln(stderr, err)
		return err
	}
	r.env.Errors = stderr
	if c.Context != nil {
		r.env.SetContext(c.Context)
	}
	r.head = r.env.Method == http.MethodHead
	return r.serve()
}

const cgiBufferSize = 8 << 10

// errCGINotCGI is returned by Run when the environment has no
// REQUEST_METHOD: the program was not started by a CGI server.
var errCGINotCGI = errors.New("gateway: cgi: no REQUEST_METHOD in the environment: not started by a CGI server")

// cgiFillEnviron builds the environ from the CGI variables.
func cgiFillEnviron(e *Environ, vars []string, stdin io.Reader) error {
	seen := make(map[string]bool, len(vars))
	e.Header = make(http.Header)
	var https, requestScheme string
	for _, kv := range vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || seen[k] {
			continue
		}
		seen[k] = true
		switch {
		case strings.HasPrefix(k, "gateway."):
			// The gateway.* keys are the server's to set, not the
			// environment's (and most are not strings).
			continue
		case k == "HTTP_CONTENT_TYPE" || k == "HTTP_CONTENT_LENGTH":
			continue // those are CONTENT_TYPE and CONTENT_LENGTH
		case k == "HTTPS":
			https = v
		case k == "REQUEST_SCHEME":
			requestScheme = v
		}
		if p := e.stringField(k); p != nil {
			*p = v
			continue
		}
		if name, ok := headerName(k); ok {
			e.Header[name] = []string{v}
			continue
		}
		e.Set(k, v)
	}
	if e.Method == "" {
		return errCGINotCGI
	}

	e.URLScheme = "http"
	if strings.EqualFold(https, "on") || https == "1" || strings.EqualFold(requestScheme, "https") {
		e.URLScheme = "https"
	}
	if strings.HasSuffix(e.ScriptName, "/") {
		// SCRIPT_NAME never ends in "/": the slash belongs to PATH_INFO.
		e.ScriptName = strings.TrimRight(e.ScriptName, "/")
		if !strings.HasPrefix(e.PathInfo, "/") {
			e.PathInfo = "/" + e.PathInfo
		}
	}
	if !seen["REQUEST_URI"] {
		e.RequestURI = (&url.URL{Path: e.Path()}).EscapedPath()
		if e.RequestURI == "" {
			e.RequestURI = "/"
		}
		if e.QueryString != "" {
			e.RequestURI += "?" + e.QueryString
		}
	}
	if e.ContentType != "" {
		e.Header["Content-Type"] = []string{e.ContentType}
	}

	if e.ContentLength == "0" {
		// lighttpd, for one, sets CONTENT_LENGTH=0 on every request
		// without a body: the environ says "" for a length the client
		// did not send. An explicit 0 reads the same, an empty body.
		e.ContentLength = ""
	}
	switch {
	case e.ContentLength == "":
		e.Input = http.NoBody
	default:
		n, err := strconv.ParseInt(e.ContentLength, 10, 64)
		if err != nil || n < 0 {
			e.Input = cgiErrReader{fmt.Errorf("gateway: cgi: invalid CONTENT_LENGTH %q", e.ContentLength)}
		} else {
			e.Input = &cgiInput{r: stdin, total: n, left: n}
		}
		e.Header["Content-Length"] = []string{e.ContentLength}
	}
	e.Multithread = false
	e.Multiprocess = true
	e.RunOnce = true
	return nil
}

// cgiInput reads the request body from standard input: CONTENT_LENGTH
// bytes and not one more, the server may keep stdin open after them.
type cgiInput struct {
	r           io.Reader
	total, left int64
}

func (in *cgiInput) Read(p []byte) (int, error) {
	if in.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > in.left {
		p = p[:in.left]
	}
	n, err := in.r.Read(p)
	in.left -= int64(n)
	if err == io.EOF {
		if in.left > 0 {
			err = fmt.Errorf("gateway: cgi: the request body ended after %d of its %d bytes: %w",
				in.total-in.left, in.total, io.ErrUnexpectedEOF)
		} else if n > 0 {
			err = nil // report EOF on the next call, as readers usually do
		}
	}
	return n, err
}

type cgiErrReader struct{ err error }

func (r cgiErrReader) Read([]byte) (int, error) { return 0, r.err }

// cgiResponse is the state of the one request a CGI process serves.
type cgiResponse struct {
	app  Application
	env  Environ
	out  *bufio.Writer // standard output, flushed after each chunk
	raw  io.Writer     // standard output itself, for a file body's fast path
	errs io.Writer
	head bool // a HEAD request

	status        string
	code          int
	headers       Headers
	contentLength int64 // declared by the application, or known from the body; -1 if none
	written       int64
	dropped       int64 // bytes of a body the status does not allow (204, 304)
	started       bool  // start has been called
	sent          bool  // the headers went out
	overflow      bool  // the body went past its Content-Length
	refused       error // the status or headers broke a rule: answer 500
	aborted       error // start with excInfo after the headers went out, or a chunk before start
	gone          error // standard output failed, or the context was cancelled

	startFn     StartResponse
	writeFn     WriteFunc
	yieldFn     func([]byte) bool
	headYieldFn func([]byte) bool
}

func (r *cgiResponse) serve() error {
	body, err := r.callApp()
	if err == nil {
		err = r.transmit(body)
	}
	if body != nil {
		if cerr := closeBody(body); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err != nil {
		r.fail(err)
	}
	return err
}

func (r *cgiResponse) callApp() (body Body, err error) {
	defer func() {
		if v := recover(); v != nil {
			body, err = nil, recovered(v)
		}
	}()
	body = r.app.ServeGateway(&r.env, r.startFn)
	if body == nil {
		return nil, errors.New("gateway: the application returned a nil Body")
	}
	return body, nil
}

// transmit sends the body, then the headers if no chunk sent them. It
// returns the error that makes the response a failure.
func (r *cgiResponse) transmit(body Body) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = recovered(v)
		}
	}()
	switch {
	case r.started && r.refused != nil:
		// Nothing of this body can be sent: do not run it.
	case r.head:
		r.transmitHead(body)
	default:
		r.setLength(body)
		if wt, ok := bodyWriterTo(body); ok && r.started {
			_, werr := wt.WriteTo(cgiBodyWriter{r})
			if werr != nil && r.gone == nil && r.aborted == nil && !r.overflow {
				return werr
			}
		} else {
			body.Chunks(r.yieldFn)
		}
	}
	switch {
	case r.aborted != nil:
		return r.aborted
	case r.gone != nil:
		return fmt.Errorf("gateway: cgi: the response was cut short: %w", r.gone)
	case !r.started:
		return ErrNoStart
	case r.refused != nil:
		return r.refused
	}
	if cerr := r.env.Context().Err(); cerr != nil {
		// The body may well have ended because of it: the server gave
		// up on the request, so the response is not known to be whole.
		return fmt.Errorf("gateway: cgi: the request was cancelled: %w", cerr)
	}
	if berr := BodyErr(body); berr != nil {
		return fmt.Errorf("gateway: the body ended early: %w", berr)
	}
	if r.contentLength > 0 && r.written < r.contentLength && !r.head && !bodyForbidden(r.code) {
		// Before the headers went out this is still a clean 500.
		return fmt.Errorf("%w: %d of %d bytes", ErrShortBody, r.written, r.contentLength)
	}
	if r.overflow {
		r.logf("the body is longer than its Content-Length %d; the rest was not sent", r.contentLength)
	}
	if r.dropped > 0 {
		r.logf("a %d response has no body; %d bytes were not sent", r.code, r.dropped)
	}
	if !r.sent {
		r.sendHeaders()
	}
	if r.flush(); r.gone != nil {
		return fmt.Errorf("gateway: cgi: the response could not be sent: %w", r.gone)
	}
	return nil
}

// setLength gives a body of known length its Content-Length, when the
// application has called start without declaring one, so that the CGI
// server need not use chunked encoding and the client can tell a complete
// response from a cut one.
func (r *cgiResponse) setLength(body Body) {
	if !r.started || r.refused != nil || r.sent || r.contentLength >= 0 || bodyForbidden(r.code) {
		return
	}
	if n := BodyLen(body); n >= 0 {
		// A copy, not an append in place: the application may share the
		// backing array of its Headers between requests.
		r.headers = append(r.headers[:len(r.headers):len(r.headers)], Header{"Content-Length", strconv.FormatInt(n, 10)})
		r.contentLength = n
	}
}

// transmitHead runs the body only as far as needed for the application to
// call start, and gives a body of known length its Content-Length, as the
// GET would have it. Nothing of the body is sent.
func (r *cgiResponse) transmitHead(body Body) {
	if !r.started {
		body.Chunks(r.headYieldFn)
	}
	r.setLength(body)
}

// headYield is the yield of a HEAD request's body: it goes on until start
// has been called, then stops at the first chunk.
func (r *cgiResponse) headYield(p []byte) bool {
	if len(p) == 0 {
		return !r.started
	}
	if !r.started {
		r.aborted = ErrNoStart
	}
	return false
}

// start is the StartResponse handed to the application.
func (r *cgiResponse) start(status string, headers Headers, excInfo ...error) WriteFunc {
	var exc error
	for _, e := range excInfo {
		if e != nil {
			exc = e
		}
	}
	if r.started && exc == nil {
		panic(ErrStartTwice)
	}
	if r.sent {
		if r.aborted == nil {
			r.aborted = fmt.Errorf("%w: %w", ErrHeadersSent, exc)
		}
		return r.writeFn
	}
	r.started = true
	r.status, r.headers = status, headers
	r.code, r.contentLength, r.refused = CheckResponse(status, headers)
	return r.writeFn
}

// sendHeaders writes the status and the header fields to the buffer; the
// next flush sends them. They are the application's: no Content-Type is
// added (RFC 3875 asks the script for one when there is a body, so that is
// the application's to set).
func (r *cgiResponse) sendHeaders() {
	r.sent = true
	w := r.out
	w.WriteString("Status: ")
	w.WriteString(r.status)
	w.WriteString("\r\n")
	for _, h := range r.headers {
		w.WriteString(h.Name)
		w.WriteString(": ")
		w.WriteString(h.Value)
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}

// write is the write callable. It sends p and flushes it; as PEP 3333 has
// it, its first call sends the headers even when p is empty.
func (r *cgiResponse) write(p []byte) error {
	if len(p) == 0 {
		if err := r.check(); err != nil {
			return err
		}
		if !r.sent {
			r.sendHeaders()
			r.flush()
		}
	} else if err := r.writeChunk(p); err != nil {
		return err
	} else {
		r.flush()
	}
	r.checkContext()
	return r.gone
}

// yield receives the body's chunks.
func (r *cgiResponse) yield(p []byte) bool {
	if len(p) == 0 {
		return r.check() == nil
	}
	if r.writeChunk(p) != nil {
		return false
	}
	r.flush()
	r.checkContext()
	return r.gone == nil
}

// check returns the error that stops the body, if any.
func (r *cgiResponse) check() error {
	switch {
	case r.aborted != nil:
		return r.aborted
	case r.gone != nil:
		return r.gone
	case !r.started:
		r.aborted = ErrNoStart
		return ErrNoStart
	case r.refused != nil:
		return r.refused
	case r.overflow:
		return errOverflow
	}
	return nil
}

// checkContext notices a cancelled request (SIGTERM, for RunCGI) even
// while writes still succeed.
func (r *cgiResponse) checkContext() {
	if r.gone == nil {
		if err := r.env.Context().Err(); err != nil {
			r.gone = err
		}
	}
}

func (r *cgiResponse) flush() {
	if r.gone != nil {
		return
	}
	if err := r.out.Flush(); err != nil {
		r.gone = err
	}
}

// writeChunk buffers p after the headers, keeping to the declared length.
func (r *cgiResponse) writeChunk(p []byte) error {
	if err := r.check(); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	if !r.sent {
		r.sendHeaders()
	}
	if r.head {
		return nil // the body of a HEAD response is not sent (RFC 3875 4.3.2)
	}
	if bodyForbidden(r.code) {
		r.dropped += int64(len(p))
		return nil
	}
	if r.contentLength >= 0 && r.written+int64(len(p)) > r.contentLength {
		p = p[:r.contentLength-r.written]
		r.overflow = true
	}
	n, err := r.out.Write(p)
	r.written += int64(n)
	if err != nil {
		r.gone = err
		return err
	}
	if r.overflow {
		return errOverflow
	}
	return nil
}

// cgiBodyWriter lets an io.WriterTo body write to standard output; each
// write is flushed before it returns.
type cgiBodyWriter struct{ r *cgiResponse }

func (w cgiBodyWriter) Write(p []byte) (int, error) {
	r := w.r
	before := r.written
	if err := r.writeChunk(p); err != nil {
		return int(r.written - before), err
	}
	r.flush()
	r.checkContext()
	if r.gone != nil {
		return int(r.written - before), r.gone
	}
	return len(p), nil
}

// ReadFrom hands a file body straight to standard output, where the
// platform can copy it in the kernel, when its length is declared: the copy
// is limited to what remains of it.
func (w cgiBodyWriter) ReadFrom(src io.Reader) (int64, error) {
	r := w.r
	if r.contentLength < 0 || r.head || bodyForbidden(r.code) || r.check() != nil {
		return io.Copy(struct{ io.Writer }{w}, src)
	}
	if !r.sent {
		r.sendHeaders()
	}
	if r.flush(); r.gone != nil {
		return 0, r.gone
	}
	n, err := io.Copy(r.raw, io.LimitReader(src, r.contentLength-r.written))
	r.written += n
	if err != nil {
		r.gone = err
	}
	return n, err
}

func (r *cgiResponse) logf(format string, args ...any) {
	fmt.Fprintf(r.errs, "gateway: cgi: %s %s: %s\n", r.env.Method, r.env.RequestURI, fmt.Sprintf(format, args...))
}

// fail reports a failed response on standard error and answers it with a
// 500 if nothing went out yet. Once the headers are out the response cannot
// be replaced: the output stops where it is.
func (r *cgiResponse) fail(err error) {
	var pe *panicError
	if errors.As(err, &pe) {
		r.logf("panic: %v\n%s", pe.value, pe.stack)
	} else {
		r.logf("%v", err)
	}
	if r.sent {
		_ = r.out.Flush() // a no-op if stdout has failed: bufio keeps the error
		return
	}
	r.sent = true
	r.gone = nil // a cancelled context does not stop the error page
	w := r.out
	w.WriteString("Status: 500 Internal Server Error\r\n")
	w.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	w.WriteString("Content-Length: " + strconv.Itoa(len(internalErrorBody)) + "\r\n")
	w.WriteString("X-Content-Type-Options: nosniff\r\n\r\n")
	if !r.head {
		w.WriteString(internalErrorBody)
	}
	if ferr := w.Flush(); ferr != nil {
		r.gone = ferr
	}
}
