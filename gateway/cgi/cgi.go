//go:build !js && !plan9

// CGI needs a process with SIGTERM and SIGPIPE: neither js/wasm nor Plan 9.

package cgi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/vial-go/vial/gateway"
)

// Serve serves one request to app as an RFC 3875 CGI program, the
// analogue of PEP 3333's run_with_cgi: the environ comes from the process
// environment, the request body from standard input, and the response goes
// to standard output as a "Status:" line, the header fields and the body.
// Error text (gateway.errors, and the reasons for refused or failed
// responses) goes to standard error, which CGI servers write to their log.
//
// It is (&Server{App: app, Context: ctx}).Serve() with the process's environment
// and standard files; see [Server] for what it guarantees. In addition,
// Serve handles two signals for the duration of the request:
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
// Serve and [Server] are not available on js/wasm and Plan 9.
//
// Serve returns the error that made the response fail, already reported on
// standard error, or nil. A main function typically ends with:
//
//	if err := cgi.Serve(app); err != nil {
//		os.Exit(1)
//	}
func Serve(app gateway.Application) error {
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
	go watchTerm(term, done, cancel)

	return (&Server{App: app, Context: ctx}).Serve()
}

// termGrace is how long Serve lets the application wind down after a
// SIGTERM before the signal takes its default action.
const termGrace = 5 * time.Second

func watchTerm(term <-chan os.Signal, done <-chan struct{}, cancel context.CancelFunc) {
	var sig os.Signal
	select {
	case sig = <-term:
		cancel()
	case <-done:
		return
	}
	t := time.NewTimer(termGrace)
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

// A Server serves one request to an [gateway.Application] over the CGI
// protocol (RFC 3875). [Serve] is the usual way to use it; the struct form lets the
// environment and the standard files be supplied, for tests or for a
// program that has already consumed part of its environment.
//
// The environ: REQUEST_METHOD, SCRIPT_NAME, PATH_INFO, QUERY_STRING,
// CONTENT_TYPE, CONTENT_LENGTH, SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL,
// REMOTE_ADDR, REMOTE_PORT and REQUEST_URI fill the [gateway.Environ]'s fields
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
// The response follows the rules of [gateway.Handler]:
//
//   - "Status: NNN Reason", the header fields in the application's order
//     (repeated names kept) and a blank line are written lazily: with the
//     first non-empty chunk, the first call of write (even an empty one),
//     or at the end of an empty body. Until then start may be called again
//     with excInfo to replace them.
//   - The header fields are the application's. The server adds none but
//     the Content-Length of a body of known length ([gateway.Bytes], [gateway.Strings]);
//     in particular no Content-Type, which RFC 3875 asks of the script when
//     there is a body: that is the application's to set.
//   - A status or header that [gateway.CheckResponse] refuses is never written: the
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
type Server struct {
	// App is the application to run.
	App gateway.Application

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

// Serve serves the request. It returns the error that made the response
// fail, after reporting it on Stderr, or nil.
func (s *Server) Serve() error {
	vars := s.Env
	if vars == nil {
		vars = os.Environ()
	}
	stdin, stdout, stderr := s.Stdin, s.Stdout, s.Stderr
	if stdin == nil {
		stdin = os.Stdin
	}
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}

	r := &response{out: bufio.NewWriterSize(stdout, bufferSize), raw: stdout, errs: stderr}
	r.Bind(r)
	r.ChunkWrites = true
	if err := fillEnviron(&r.environ, vars, stdin); err != nil {
		fmt.Fprintln(stderr, err)
		return err
	}
	r.environ.Errors = stderr
	ctx := s.Context
	if ctx == nil {
		ctx = context.Background()
	}
	r.environ.SetContext(ctx)
	err := r.Serve(s.App, &r.environ)
	if gone, ok := err.(*gateway.ClientGoneError); ok {
		// Standard output failed, or the context was cancelled: say which.
		err = fmt.Errorf("gateway: cgi: the response was cut short: %w", gone.Cause)
	}
	if err != nil {
		r.fail(err)
	}
	return err
}

const bufferSize = 8 << 10

// response is the one request a CGI process serves: the gateway's
// Exchange, on the wire of standard output. Each write of the body is a
// chunk, flushed before the next (ChunkWrites).
type response struct {
	gateway.Exchange
	environ gateway.Environ
	out     *bufio.Writer // standard output, flushed after each chunk
	raw     io.Writer     // standard output itself, for a file body's fast path
	errs    io.Writer
}

// WriteHeader writes the status and the header fields to the buffer; the
// next flush sends them. They are the application's: no Content-Type is
// added (RFC 3875 asks the script for one when there is a body, so that is
// the application's to set).
func (r *response) WriteHeader(status string, _ int, headers gateway.Headers, length int64) {
	w := r.out
	w.WriteString("Status: ")
	w.WriteString(status)
	w.WriteString("\r\n")
	for _, h := range headers {
		w.WriteString(h.Name)
		w.WriteString(": ")
		w.WriteString(h.Value)
		w.WriteString("\r\n")
	}
	if length >= 0 {
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.FormatInt(length, 10))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}

// WriteBody writes p to the buffer. The body of a HEAD response is not
// sent (RFC 3875 4.3.2): it is dropped here, as net/http drops it for an
// HTTPHandler.
func (r *response) WriteBody(p []byte) (int, error) {
	if r.environ.Method == http.MethodHead {
		return len(p), nil
	}
	return r.out.Write(p)
}

// Flush sends the buffer to standard output.
func (r *response) Flush() error { return r.out.Flush() }

// ReaderFrom returns standard output past its buffer, where the platform
// can copy a file in the kernel.
func (r *response) ReaderFrom() io.ReaderFrom { return stdout{r} }

// stdout is standard output past its buffer.
type stdout struct{ r *response }

// ReadFrom flushes what is buffered, then copies src to standard output.
func (o stdout) ReadFrom(src io.Reader) (int64, error) {
	if err := o.r.out.Flush(); err != nil {
		return 0, err
	}
	return io.Copy(o.r.raw, src)
}

// KnownLength gives every body of known length its Content-Length, so that
// the CGI server need not use chunked encoding and the client can tell a
// complete response from a cut one.
func (r *response) KnownLength(body gateway.Body, _ bool) int64 { return gateway.BodyLen(body) }

// Finish flushes standard output: the headers of an empty body, or the
// end of a body cut at its Content-Length, may still be in the buffer.
func (r *response) Finish() error {
	// Flush even when the context has ended: a complete body still goes
	// out whole. A failed write sticks to the buffer and shows here.
	if err := r.out.Flush(); err != nil {
		return fmt.Errorf("gateway: cgi: the response could not be sent: %w", err)
	}
	return nil
}

// Logf writes one line to standard error, naming the request.
func (r *response) Logf(format string, args ...any) {
	fmt.Fprintf(r.errs, "gateway: cgi: %s %s: %s\n", r.environ.Method, r.environ.RequestURI, fmt.Sprintf(format, args...))
}

// fail reports a failed response on standard error and answers it with a
// 500 if nothing went out yet. Once the headers are out the response cannot
// be replaced: the output stops where it is.
func (r *response) fail(err error) {
	if pe, ok := err.(*gateway.PanicError); ok {
		r.Logf("panic: %v\n%s", pe.Value, pe.Stack)
	} else {
		r.Logf("%v", err)
	}
	if r.Sent() {
		_ = r.out.Flush() // a no-op if stdout has failed: bufio keeps the error
		return
	}
	r.SendInternalError()
}
