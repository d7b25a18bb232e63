package serving

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/internal/ratelog"
)

// This file is the debugger: werkzeug's DebuggedApplication without its
// code console. It shows what went wrong; it never runs code sent by the
// client. The stack parsing and frame classification are in
// debugger_stack.go, the page in debugger_page.go and debugger.html.

// DebuggedApplication wraps app so that a panic answers with the debugger
// page (HTML, or text when the client does not accept HTML) instead of a
// bare 500, for local clients (see [DebuggerOptions.AllowRemote]), or
// any client when allowRemote is set. It is NewDebugger(app,
// DebuggerOptions{AllowRemote: allowRemote}).
func DebuggedApplication(app gateway.Application, allowRemote bool) gateway.Application {
	return NewDebugger(app, DebuggerOptions{AllowRemote: allowRemote})
}

// DebuggerOptions configures a [Debugger].
type DebuggerOptions struct {
	// AllowRemote shows the page to every client. By default only a local
	// client sees it; the others get a plain "500 Internal Server
	// Error". A client is local when its REMOTE_ADDR is a loopback
	// address (127.0.0.0/8, ::1) and, should the request carry
	// X-Forwarded-For, Forwarded or X-Real-IP, every client address those
	// name is loopback too: a reverse proxy on the same host connects
	// from a loopback address whoever its client is, and names the client
	// in those headers. (Anyone can send them, but they can only hide the
	// page, never show it.)
	AllowRemote bool

	// TrustLocalProxy makes a request from a loopback address local
	// whatever its forwarding headers say: for a proxy on this host whose
	// clients may all see the page, such as a development front end
	// reached from a container's network. It exposes the page to
	// everyone the proxy serves.
	TrustLocalProxy bool

	// ContextLines is how many source lines are shown on each side of a
	// frame's line: 2 if zero (five lines in all), none if negative.
	ContextLines int
}

// A Debugger is a gateway.Application that serves its application and
// answers a panic with a page that shows the error, the request and the
// stack frame by frame, with the source lines around each frame read from
// disk. Build one with [NewDebugger] or [DebuggedApplication].
//
// A panic is caught wherever the application raises it: in ServeGateway, in
// the write function, or while the Body produces its chunks (a streaming
// response). What the client gets depends on how far the response went:
//
//   - Nothing was sent yet (the status and headers are still the server's
//     to replace): the Debugger closes the application's Body, calls the
//     server's start again with the panic as excInfo and a 500 status, and
//     sends the page in place of the body. The page is HTML when the
//     Accept header names text/html (a browser), text/plain otherwise (curl,
//     whose default Accept is "*/*", scripts, a missing header), with the
//     same content. Clients that may not see it (see
//     [DebuggerOptions.AllowRemote]) get a plain "Internal Server Error".
//   - The headers went out (the first non-empty chunk was produced, or write
//     was called): no page can be sent. The Debugger closes the Body and
//     panics with [net/http.ErrAbortHandler], so the server aborts the
//     connection instead of passing a truncated response off as complete.
//
// Either way the error is written to gateway.errors, with its stack the
// first time its site (file:line) panics in a minute, as one line for the
// repeats in that minute, whose count is logged when it ends (see
// internal/ratelog): a hot panicking route does not fill the log with
// stacks. A panic
// with [net/http.ErrAbortHandler] itself is the application asking for the
// connection to be dropped: it passes through untouched.
//
// The stack shown is the one the panic value carries when it is an error
// with a *[gateway.PanicError] in its chain (vial's PanicError, recorded
// where vial or a server recovered the panic), or a StackTrace() []byte
// method, in the format of runtime/debug.Stack; otherwise it is captured
// where the Debugger recovers, which still holds the panicking frames. The
// frames of the recovery itself are dropped.
//
// An error the application returned, rather than panicked, and its
// framework handed up (vial's HandleException in debug mode panics with it
// wrapped in a value with an Endpoint() string method and an Unwrap) is
// shown as an unhandled error of that endpoint, not as a panic: with the
// stack the error carries (a StackTrace method or a *gateway.PanicError
// in its chain), where it was made, or, when it carries none, with no
// stack at all, since where the framework re-raised it says nothing. Frames in the application's own code (the main module, test
// files) are shown with their source; frames of the Go runtime and standard
// library, of vial and of other modules are folded away.
//
// A response without a panic passes through untouched: the same status,
// headers and chunks, the Body's Err, WriterTo and Len still found by the
// server (so a file still goes out through sendfile and a [gateway.Bytes]
// body with its Content-Length), and Close called exactly once.
type Debugger struct {
	app  gateway.Application
	opts DebuggerOptions

	limit *ratelog.Limiter // of the panics' log entries, by site
	// summaryTo is where the count of a site's repeats goes when its
	// window ends: the gateway.errors of the latest panic, the server's
	// log in every server of this module.
	summaryTo atomic.Pointer[io.Writer]
}

// NewDebugger returns a Debugger serving app.
func NewDebugger(app gateway.Application, opts DebuggerOptions) *Debugger {
	if opts.ContextLines == 0 {
		opts.ContextLines = 2
	}
	d := &Debugger{app: app, opts: opts}
	d.limit = ratelog.New(d.logRepeats, ratelog.Options{})
	return d
}

// ServeGateway serves the request through the application, catching its
// panics.
func (d *Debugger) ServeGateway(env *gateway.Environ, start gateway.StartResponse) (body gateway.Body) {
	x := &debugExchange{d: d, env: env, start: start}
	defer func() {
		// A nil recover is runtime.Goexit (t.FailNow in a test): let it go.
		if v := recover(); v != nil {
			body = x.handle(v, debug.Stack())
		}
	}()
	inner := d.app.ServeGateway(env, x.wrappedStart)
	if inner == nil {
		return nil // the server reports it
	}
	x.inner = inner
	db := &debugBody{x: x}
	if wt, ok := gateway.BodyWriterTo(inner); ok {
		return &debugWriterToBody{debugBody: db, wt: wt}
	}
	return db
}

// debugExchange is one request on its way through a Debugger.
type debugExchange struct {
	d     *Debugger
	env   *gateway.Environ
	start gateway.StartResponse // the server's
	write gateway.WriteFunc     // the server's, from its start
	inner gateway.Body          // the application's

	// committed is set as soon as the server may have sent the headers: a
	// non-empty chunk was handed over, or write was called. A wrong guess
	// is harmless, the contract settles it: the server aborts a response
	// whose start with excInfo came too late.
	committed bool
	closed    atomic.Bool
}

// wrappedStart is the start the application gets: the server's, with a
// write function that notes that the headers went out.
func (x *debugExchange) wrappedStart(status string, headers gateway.Headers, excInfo ...error) gateway.WriteFunc {
	x.write = x.start(status, headers, excInfo...)
	return x.wrappedWrite
}

func (x *debugExchange) wrappedWrite(p []byte) error {
	x.committed = true // even an empty write sends the headers
	return x.write(p)
}

// closeInner closes the application's Body, once, whoever asks first. A
// panic in Close is reported and swallowed only when the Debugger itself is
// closing the Body after a panic; the server's Close sees it.
func (x *debugExchange) closeInner() error {
	if x.inner == nil || !x.closed.CompareAndSwap(false, true) {
		return nil
	}
	return x.inner.Close()
}

func (x *debugExchange) closeAfterPanic() {
	defer func() {
		if v := recover(); v != nil {
			x.logf("vial debugger: closing the response body after a panic: panic: %v\n%s", v, debug.Stack())
		}
	}()
	if err := x.closeInner(); err != nil {
		x.logf("vial debugger: closing the response body after a panic: %v", err)
	}
}

// handle answers a recovered panic v, stack being debug.Stack() taken in
// the deferred function that recovered it. It returns the body to send in
// place of the application's, or panics when none can be sent. It must be
// called from that deferred function, so that a panic it raises still has
// the application's frames on its stack.
func (x *debugExchange) handle(v any, stack []byte) gateway.Body {
	x.closeAfterPanic()
	if v == http.ErrAbortHandler {
		panic(v)
	}
	rep := newPanicReport(v, stack)
	env := x.env
	refusal := x.d.refusal(env)
	switch {
	case x.committed:
		x.logPanic(rep, " (the response had started: the connection is aborted)")
		panic(http.ErrAbortHandler)
	case refusal != "":
		x.logPanic(rep, " (no page: "+refusal+")")
		x.start(gateway.StatusLine(http.StatusInternalServerError), gateway.Headers{
			{Name: "Content-Type", Value: "text/plain; charset=utf-8"},
			{Name: "Content-Length", Value: fmt.Sprint(len(plainInternalError))},
			{Name: "X-Content-Type-Options", Value: "nosniff"},
		}, rep.err)
		return gateway.Bytes([]byte(plainInternalError))
	}
	x.logPanic(rep, "")
	html := wantsHTML(headerValue(env, "Accept"))
	page, ctype := renderPage(rep, env, x.d.opts.ContextLines, html)
	x.start(gateway.StatusLine(http.StatusInternalServerError), gateway.Headers{
		{Name: "Content-Type", Value: ctype},
		{Name: "Content-Length", Value: fmt.Sprint(len(page))},
		{Name: "Cache-Control", Value: "no-store"},
		{Name: "X-Content-Type-Options", Value: "nosniff"},
		// The page needs no script: forbid any, should escaping ever fail.
		{Name: "Content-Security-Policy", Value: "default-src 'none'; style-src 'unsafe-inline'"},
		{Name: "X-Vial-Debugger", Value: "1"},
	}, rep.err)
	return gateway.Bytes(page)
}

const plainInternalError = "Internal Server Error\n"

// logPanic writes the panic and what became of the response (detail) to
// gateway.errors, with its stack the first time its site panics in a
// window of the Debugger's limiter, as one line for the repeats (their
// count comes when the window ends).
func (x *debugExchange) logPanic(rep *panicReport, detail string) {
	site := ratelog.Site(rep.raw)
	if site == "" {
		site = rep.headline()
	}
	errs := x.errors()
	x.d.summaryTo.Store(&errs)
	what := ""
	if rep.unhandled {
		what = "unhandled error of endpoint " + fmt.Sprintf("%q", rep.endpoint) + ": "
	}
	head := fmt.Sprintf("vial debugger: %s %s: %s%s%s", x.env.Method, requestTarget(x.env), what, rep.headline(), detail)
	switch x.d.limit.Note(site) {
	case ratelog.Full:
		x.logf("%s\n%s", head, rep.raw)
	case ratelog.Brief:
		x.logf("%s (again at %s: %s)", head, site, x.d.limit.BriefNote())
	}
}

// logRepeats writes the count of a panic site's repeats when its window
// ends.
func (d *Debugger) logRepeats(s ratelog.Summary) {
	if w := d.summaryTo.Load(); w != nil {
		io.WriteString(*w, "vial debugger: the panic at "+s.Site+" "+s.String()+"\n")
	}
}

// logf writes one entry to gateway.errors (stderr when the environ has
// none).
func (x *debugExchange) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) == 0 || msg[len(msg)-1] != '\n' {
		msg += "\n"
	}
	io.WriteString(x.errors(), msg)
}

func (x *debugExchange) errors() io.Writer {
	if x.env.Errors == nil {
		return os.Stderr
	}
	return x.env.Errors
}

func requestTarget(env *gateway.Environ) string {
	if env.RequestURI != "" {
		return env.RequestURI
	}
	t := env.Path()
	if env.QueryString != "" {
		t += "?" + env.QueryString
	}
	return t
}

func headerValue(env *gateway.Environ, name string) string {
	if env.Header == nil {
		return ""
	}
	return env.Header.Get(name)
}

// debugBody is the application's Body, watched: a panic while it produces
// its chunks is answered as one in ServeGateway is.
type debugBody struct {
	x        *debugExchange
	replaced bool // the page took the body's place
}

// Chunks produces the application's chunks, or the page if it panics
// before the first non-empty one.
func (b *debugBody) Chunks(yield func([]byte) bool) {
	x := b.x
	if x.closed.Load() {
		return // a faulty server: the application may serve another request by now
	}
	page := b.run(func() {
		x.inner.Chunks(func(p []byte) bool {
			if len(p) > 0 {
				x.committed = true
			}
			return yield(p)
		})
	})
	if page != nil {
		page.Chunks(yield)
	}
}

// run calls fn and returns nil, or the page that answers its panic.
func (b *debugBody) run(fn func()) (page gateway.Body) {
	defer func() {
		if v := recover(); v != nil {
			page = b.x.handle(v, debug.Stack())
			b.replaced = true
		}
	}()
	fn()
	return nil
}

// Close closes the application's Body unless the Debugger already did.
func (b *debugBody) Close() error { return b.x.closeInner() }

// Err is the application's Body's, until the page replaced it.
func (b *debugBody) Err() error {
	if b.replaced {
		return nil
	}
	return gateway.BodyErr(b.x.inner)
}

// Unwrap returns the application's Body, so that the server finds its Len.
// Its WriterTo, when it has one, is reached through debugWriterToBody.
func (b *debugBody) Unwrap() gateway.Body { return b.x.inner }

// errDebugBodyClosed answers a server that calls WriteTo after Close. The
// writer the Debugger kept belongs to the application's Body, which may
// serve another request by then (vial recycles its requests).
var errDebugBodyClosed = errors.New("vial debugger: WriteTo called after Close")

// debugWriterToBody is a debugBody whose application's Body can write
// itself to the server (a file, an in-memory body): the server calls
// WriteTo, watched like Chunks.
type debugWriterToBody struct {
	*debugBody
	wt io.WriterTo
}

func (b *debugWriterToBody) WriteTo(w io.Writer) (n int64, err error) {
	if b.x.closed.Load() {
		return 0, errDebugBodyClosed
	}
	cw := &commitWriter{w: w, x: b.x}
	var to io.Writer = cw
	if rf, ok := w.(io.ReaderFrom); ok {
		to = &commitReaderFrom{cw, rf}
	}
	page := b.run(func() { n, err = b.wt.WriteTo(to) })
	if page != nil {
		return page.(io.WriterTo).WriteTo(w)
	}
	return n, err
}

// commitWriter notes the first bytes written through it.
type commitWriter struct {
	w io.Writer
	x *debugExchange
}

func (c *commitWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		c.x.committed = true
	}
	return c.w.Write(p)
}

// commitReaderFrom keeps the server's ReadFrom (sendfile) reachable.
type commitReaderFrom struct {
	*commitWriter
	rf io.ReaderFrom
}

func (c *commitReaderFrom) ReadFrom(r io.Reader) (int64, error) {
	c.x.committed = true
	return c.rf.ReadFrom(r)
}
