// Package validate checks the gateway contract on both of its sides, as
// Python's wsgiref.validate does for WSGI: [Wrap] puts a checker between a
// server and an application, and a broken rule is a *[Violation] that names
// the rule (a [gateway.Rule], worded and numbered as package gateway's doc
// states the contract), the side that broke it and the offending value.
//
//	http.ListenAndServe(addr, gateway.Handler(validate.Wrap(app)))
//
// vial's debug mode and its test client wrap every App in it.
package validate

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// A Side is a party to the contract: who broke the rule a [Violation]
// reports.
type Side string

// The two sides of the contract.
const (
	SideApplication Side = "application" // the wrapped application, or its Body
	SideServer      Side = "server"      // whatever called the validated application
)

// Rules [Wrap] checks on the server's side, beyond those of
// [gateway.CheckResponse]. Each names the part of the contract (package
// gateway's doc) it comes from.
const (
	RuleServerCall       gateway.Rule = "Application: the server calls ServeGateway with an Environ and a start function"
	RuleEnvMethod        gateway.Rule = "environ: REQUEST_METHOD is a token"
	RuleEnvScriptName    gateway.Rule = `environ: SCRIPT_NAME is "" or starts with "/" and does not end in "/"`
	RuleEnvPathInfo      gateway.Rule = `environ: PATH_INFO is "" or starts with "/"`
	RuleEnvQueryString   gateway.Rule = `environ: QUERY_STRING is raw, without "?"`
	RuleEnvContentLength gateway.Rule = `environ: CONTENT_LENGTH is "" or decimal digits`
	RuleEnvServer        gateway.Rule = "environ: SERVER_NAME is set and SERVER_PORT is decimal digits"
	RuleEnvProtocol      gateway.Rule = `environ: SERVER_PROTOCOL is "HTTP/x.y"`
	RuleEnvScheme        gateway.Rule = `environ: gateway.url_scheme is "http" or "https"`
	RuleEnvStreams       gateway.Rule = "environ: gateway.input and gateway.errors are set"
	RuleEnvContext       gateway.Rule = "environ: gateway.context is set by the server"
	RuleEnvContentHeader gateway.Rule = "environ: HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH do not exist"
	RuleInputPastEnd     gateway.Rule = "environ: gateway.input never reads past the end of the request body"
	RuleInputEOF         gateway.Rule = "environ: gateway.input returns io.EOF at the end of the body, not before, and keeps returning it"
	RuleInputCount       gateway.Rule = "environ: gateway.input is an io.Reader: 0 <= n <= len(p)"
	RuleServerWrite      gateway.Rule = "start_response: start returns a write function"
	RuleIterateOnce      gateway.Rule = "Body: the server iterates a body at most once, with Chunks or WriteTo"
	RuleCloseOnce        gateway.Rule = "Body rule 2: Close is called exactly once"
)

// RuleAfterClose binds both sides: once the server has closed the Body the
// response is over, so the server asks nothing more of the Body and the
// application calls neither start nor write.
const RuleAfterClose gateway.Rule = "Body rule 2: Close ends the response: nothing is used after it"

// Rules [Wrap] checks on the application's side, beyond those of
// [gateway.CheckResponse] (RuleStatus, RuleHeaderName, RuleHeaderCRLF, RuleHopByHop,
// RuleStatusHdr, RuleLength), which it reports under their own names.
const (
	RuleNilBody      gateway.Rule = "Application: ServeGateway returns a non-nil Body"
	RuleStartTwice   gateway.Rule = "start_response rule 3: a second call to start needs excInfo"
	RuleNoStart      gateway.Rule = "start_response rule 3: start is called before the first non-empty chunk or write"
	RuleContentType  gateway.Rule = "start_response (as wsgiref.validate): a response with a body has a Content-Type"
	RuleNoBodyStatus gateway.Rule = "HTTP: a 1xx, 204 or 304 response has no body"
	RuleLengthOver   gateway.Rule = "start_response rule 4: the body is no longer than its Content-Length"
	RuleLengthShort  gateway.Rule = "start_response rule 4: a body that ends normally is as long as its Content-Length"
	RuleYield        gateway.Rule = "Body: Chunks is an iter.Seq: no chunk after yield returned false or after Chunks returned"
	RuleBodyLen      gateway.Rule = "Body: Len reports the number of bytes the chunks hold"
)

// A Violation is a rule of the gateway contract broken by an application or
// by a server, as [Wrap] found it. It is the panic value of a validated
// application, or what [WrapWith] hands its report function.
type Violation struct {
	Rule   gateway.Rule // the rule broken: one of the Rule* constants here or in package gateway
	Side   Side         // who broke it: SideApplication or SideServer
	Detail string       // what happened, with the offending value quoted
	Err    error        // the package's error for the same fault, if any (ErrStartTwice, a *HeaderError, …)
}

// Error names the side, the rule and the offending value, as in
//
//	Wrap: application broke start_response rule 2: header values must hold no CR or LF: header "X-A": "a\r\nb"
func (v *Violation) Error() string {
	return "validate: " + string(v.Side) + " broke " + string(v.Rule) + ": " + v.Detail
}

// Unwrap returns Err, so that errors.Is(v, ErrStartTwice) and the like hold.
func (v *Violation) Unwrap() error { return v.Err }

// Wrap returns an Application that runs app and checks both app and the
// server that calls it against the gateway contract (package gateway's
// doc), the analogue of Python's wsgiref.validate. vial's debug mode wraps
// every application in it.
//
// A broken rule panics with a *[Violation] that names the rule, the side
// that broke it and the offending value. The panic happens where the rule is
// broken, in the caller that broke it: an application's bad start call panics
// out of start, a chunk before start out of yield, a server's second Close
// out of Close. A server turns an application panic into a 500 (or an
// aborted response) and logs it, as [gateway.HTTPHandler] does. Use [WrapWith] to
// collect violations instead, for instance where a panic would find no one to
// recover it (an application that reads gateway.input or calls write from
// another goroutine).
//
// On the server's side Wrap checks the environ (REQUEST_METHOD,
// SCRIPT_NAME, PATH_INFO, QUERY_STRING, CONTENT_LENGTH, SERVER_NAME,
// SERVER_PORT, SERVER_PROTOCOL, gateway.url_scheme, gateway.input,
// gateway.errors and gateway.context: see the RuleEnv* constants), wraps
// gateway.input to check that it never reads past CONTENT_LENGTH, ends in
// io.EOF only at its end and keeps returning it, and watches the Body: it is
// iterated at most once, nothing is asked of it after Close, and Close is
// called exactly once. A Body the server drops without closing is found
// when the garbage collector reclaims it; as no one can recover a panic
// there, that violation goes to gateway.errors (or to WrapWith's
// report).
//
// On the application's side it checks every call of start (the status and
// headers, with [gateway.CheckResponse]; a second call only with excInfo), that no
// body byte comes before start, that a body has a Content-Type and is not
// sent for a 1xx, 204 or 304 status, that the body is no longer than its
// Content-Length and, when it ends normally, no shorter; that Chunks stops
// when yield returns false, that a Len method tells the truth, and that
// start and write are not used once the Body is closed. A body may end
// short without a violation when its Err method reports why: that is how a
// body says it failed. The write callable may be used until the Body is
// closed, during iteration as PEP 3333 allows, not only before the
// application returns. A short body is not held against a HEAD response,
// which may declare the length of the GET without sending it.
//
// Wrap changes nothing a correct pair sees: it buffers nothing, passes
// every chunk and write through as it comes, keeps the request's
// gateway.input a [io.ReadCloser] when it was one (and http.NoBody as is),
// and keeps the Body's optional methods: Err, Len when the Body has one (or
// an Unwrap chain to one), and io.WriterTo when the Body has one, so that a
// server still writes a one-chunk body in one go or hands a file to
// sendfile. The WriteTo it exposes checks every byte the body writes, and
// passes an io.ReaderFrom through once the response is known to be allowed a
// body. The wrapper does not unwrap to the application's Body, so a server
// cannot reach past the checks.
//
// Some rules cannot be checked from between the two sides: that a server
// does not keep a chunk after asking for the next (checking would mean
// copying or poisoning each chunk), that headers go out lazily, and
// anything about concurrency. A write before start cannot happen, as write
// is returned by start.
func Wrap(app gateway.Application) gateway.Application {
	return WrapWith(app, nil)
}

// WrapWith is [Wrap] that hands each violation to report instead of
// panicking (a nil report panics, as Wrap does). After reporting, the
// wrapper passes the call on as though it were not there, so the server and
// the application enforce what they enforce themselves (a server still
// answers bad headers with a 500, start still panics when called twice).
// The exception is a call that would reach a response that has ended: start,
// write, Chunks, WriteTo or a chunk after Close, or a chunk after Chunks
// returned or after yield returned false; the application may be serving
// another request by then, so such a call goes no further (write and WriteTo
// report an error, yield false, Chunks yields nothing). A report function
// may panic itself, to stop at the first violation.
//
// report is called on the goroutine that broke the rule, except for a Body
// the server never closed, which is reported from a garbage collector
// cleanup; it must be safe for concurrent use.
func WrapWith(app gateway.Application, report func(*Violation)) gateway.Application {
	if app == nil {
		panic("gateway: Wrap of a nil Application")
	}
	return &vApp{app: app, report: report}
}

type vApp struct {
	app    gateway.Application
	report func(*Violation)
}

// raise reports a violation where it happened: a panic, or a call to report.
func (v *vApp) raise(viol *Violation) {
	if v.report != nil {
		v.report(viol)
		return
	}
	panic(viol)
}

func (v *vApp) server(rule gateway.Rule, format string, args ...any) {
	v.raise(&Violation{Rule: rule, Side: SideServer, Detail: fmt.Sprintf(format, args...)})
}

func (v *vApp) application(rule gateway.Rule, err error, format string, args ...any) {
	v.raise(&Violation{Rule: rule, Side: SideApplication, Detail: fmt.Sprintf(format, args...), Err: err})
}

// ServeGateway checks env, calls the wrapped application with a checking
// start and returns its Body wrapped in checks.
func (v *vApp) ServeGateway(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	if env == nil || start == nil {
		v.server(RuleServerCall, "ServeGateway called with environ %p and start %p", env, start)
		return v.app.ServeGateway(env, start)
	}
	v.checkEnviron(env)
	st := &vState{v: v, method: env.Method, serverStart: start, cl: -1}
	st.startFn, st.writeFn, st.yieldFn = st.start, st.write, st.yield
	st.watch = &vCloseWatch{v: v, errors: env.Errors}
	if env.Input != nil && env.Input != http.NoBody {
		env.Input = vWrapInput(v, env.Input, env.ContentLength)
	}
	body := v.app.ServeGateway(env, st.startFn)
	if body == nil {
		v.application(RuleNilBody, nil, "ServeGateway returned a nil Body")
		return nil
	}
	return st.wrap(body)
}

// checkEnviron checks what the server put in env.
func (v *vApp) checkEnviron(env *gateway.Environ) {
	bad := func(rule gateway.Rule, key, value string) {
		v.server(rule, "%s = %q", key, value)
	}
	if !httpsyntax.IsToken(env.Method) {
		bad(RuleEnvMethod, "REQUEST_METHOD", env.Method)
	}
	if s := env.ScriptName; s != "" && (s[0] != '/' || s[len(s)-1] == '/') {
		bad(RuleEnvScriptName, "SCRIPT_NAME", s)
	}
	// "OPTIONS *" is the one request whose path is not absolute.
	if p := env.PathInfo; p != "" && p[0] != '/' && !(p == "*" && env.Method == http.MethodOptions && env.ScriptName == "") {
		bad(RuleEnvPathInfo, "PATH_INFO", p)
	}
	if strings.HasPrefix(env.QueryString, "?") {
		bad(RuleEnvQueryString, "QUERY_STRING", env.QueryString)
	}
	if env.ContentLength != "" && !httpsyntax.IsDigits(env.ContentLength) {
		bad(RuleEnvContentLength, "CONTENT_LENGTH", env.ContentLength)
	}
	if env.Input == http.NoBody && httpsyntax.IsDigits(strings.TrimLeft(env.ContentLength, "0")) {
		v.server(RuleInputEOF, "%s is http.NoBody, CONTENT_LENGTH = %q", gateway.KeyInput, env.ContentLength)
	}
	if env.ServerName == "" {
		bad(RuleEnvServer, "SERVER_NAME", env.ServerName)
	}
	if !httpsyntax.IsDigits(env.ServerPort) {
		bad(RuleEnvServer, "SERVER_PORT", env.ServerPort)
	}
	if !vIsProtocol(env.ServerProtocol) {
		bad(RuleEnvProtocol, "SERVER_PROTOCOL", env.ServerProtocol)
	}
	if env.URLScheme != "http" && env.URLScheme != "https" {
		bad(RuleEnvScheme, gateway.KeyURLScheme, env.URLScheme)
	}
	if env.Input == nil {
		v.server(RuleEnvStreams, "%s is nil", gateway.KeyInput)
	}
	if env.Errors == nil {
		v.server(RuleEnvStreams, "%s is nil", gateway.KeyErrors)
	}
	if !env.HasContext() {
		v.server(RuleEnvContext, "%s was never set (Environ.SetContext)", gateway.KeyContext)
	}
	for _, key := range [...]string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		if value, ok := env.Lookup(key); ok {
			v.server(RuleEnvContentHeader, "%s = %#v", key, value)
		}
	}
}

// vIsProtocol reports whether s is "HTTP/" 1*digit "." 1*digit (RFC 3875).
func vIsProtocol(s string) bool {
	rest, ok := strings.CutPrefix(s, "HTTP/")
	if !ok {
		return false
	}
	major, minor, ok := strings.Cut(rest, ".")
	return ok && httpsyntax.IsDigits(major) && httpsyntax.IsDigits(minor)
}

// vInput checks gateway.input as the application reads it.
type vInput struct {
	v     *vApp
	r     io.Reader
	limit int64 // CONTENT_LENGTH, or -1
	read  int64
	eof   bool
}

// vInputCloser is a vInput over an io.ReadCloser, which stays one.
type vInputCloser struct {
	*vInput
	c io.Closer
}

func (in vInputCloser) Close() error { return in.c.Close() }

func vWrapInput(v *vApp, r io.Reader, contentLength string) io.Reader {
	in := &vInput{v: v, r: r, limit: -1}
	if n, err := strconv.ParseInt(contentLength, 10, 64); err == nil {
		in.limit = n
	}
	if c, ok := r.(io.Closer); ok {
		return vInputCloser{in, c}
	}
	return in
}

func (in *vInput) Read(p []byte) (int, error) {
	n, err := in.r.Read(p)
	v := in.v
	if n < 0 || n > len(p) {
		v.server(RuleInputCount, "Read into %d bytes returned n = %d", len(p), n)
		return n, err
	}
	if in.eof && (n > 0 || err == nil && len(p) > 0) {
		v.server(RuleInputEOF, "Read returned %d bytes and error %v after io.EOF", n, err)
	}
	before := in.read
	in.read += int64(n)
	if in.limit >= 0 && before <= in.limit && in.read > in.limit {
		v.server(RuleInputPastEnd, "%d bytes read of a body whose CONTENT_LENGTH is %d", in.read, in.limit)
	}
	if err == io.EOF && !in.eof {
		in.eof = true
		if in.limit >= 0 && in.read < in.limit {
			v.server(RuleInputEOF, "io.EOF after %d bytes of a body whose CONTENT_LENGTH is %d (a truncated body is an error, such as io.ErrUnexpectedEOF)", in.read, in.limit)
		}
	}
	return n, err
}

// vState is one request's state as Wrap sees it from between the server
// and the application.
type vState struct {
	v           *vApp
	method      string
	serverStart gateway.StartResponse
	serverWrite gateway.WriteFunc
	serverYield func([]byte) bool
	startFn     gateway.StartResponse
	writeFn     gateway.WriteFunc
	yieldFn     func([]byte) bool
	watch       *vCloseWatch

	started  bool   // start has been called
	status   string // as last recorded
	code     int
	cl       int64 // the declared Content-Length, or -1
	hasType  bool  // the headers have a Content-Type
	refused  bool  // the status or headers broke a rule (the server answers 500)
	aborted  bool  // start with excInfo after the body began: the server aborts
	bodySent bool  // a non-empty chunk or write went out
	hdrsSent bool  // the headers went out: with the body, or an empty write

	total      int64 // body bytes, through chunks, WriteTo and write
	chunkBytes int64 // body bytes through chunks and WriteTo only

	iterated   bool // Chunks or WriteTo has been called
	returned   bool // and has returned
	yieldFalse bool // yield returned false
	stopped    bool // the server stopped the body early: yield said false, a write failed
	closed     atomic.Bool
}

// vCloseWatch is what the garbage collector cleanup of a Body sees: it
// holds nothing that could keep the Body alive.
type vCloseWatch struct {
	calls  atomic.Int32
	v      *vApp
	errors io.Writer
}

// vNeverClosed runs when the server dropped the Body.
func vNeverClosed(w *vCloseWatch) {
	if w.calls.Load() != 0 {
		return
	}
	viol := &Violation{Rule: RuleCloseOnce, Side: SideServer, Detail: "the Body was dropped without a call to Close"}
	if w.v.report != nil {
		w.v.report(viol)
		return
	}
	out := w.errors
	if out == nil {
		out = os.Stderr
	}
	fmt.Fprintln(out, viol.Error())
}

// start is the StartResponse the application gets.
func (st *vState) start(status string, headers gateway.Headers, excInfo ...error) gateway.WriteFunc {
	v := st.v
	exc := false
	for _, e := range excInfo {
		exc = exc || e != nil
	}
	if st.closed.Load() {
		v.application(RuleAfterClose, nil, "start(%q) called after the Body was closed", status)
		return st.writeFn // the server's start may serve another request by now
	}
	if st.started && !exc {
		v.application(RuleStartTwice, gateway.ErrStartTwice, "start(%q) called after start(%q), without excInfo", status, st.status)
	}
	code, cl, err := gateway.CheckResponse(status, headers)
	var he *gateway.HeaderError
	if errors.As(err, &he) {
		detail := fmt.Sprintf("header %q: %q", he.Name, he.Value)
		if he.Name == "" {
			detail = fmt.Sprintf("status %q", he.Value)
		}
		v.raise(&Violation{Rule: he.Rule, Side: SideApplication, Detail: detail, Err: he})
	}
	if !st.hdrsSent {
		st.started, st.status, st.code, st.cl = true, status, code, cl
		st.refused = err != nil
		st.hasType = headers.Has("Content-Type")
	} else if exc {
		st.aborted = true
	}
	w := st.serverStart(status, headers, excInfo...)
	if w == nil {
		v.server(RuleServerWrite, "start(%q) returned a nil WriteFunc", status)
	}
	st.serverWrite = w
	return st.writeFn
}

// errVEnded is what write returns, after WrapWith's report, when the
// response is over.
var errVEnded = errors.New("validate: the response has ended")

// write is the write callable the application gets.
func (st *vState) write(p []byte) error {
	if st.closed.Load() {
		st.v.application(RuleAfterClose, nil, "write of %d bytes after the Body was closed", len(p))
		return errVEnded
	}
	st.checkOut(p, "write")
	if st.started {
		st.hdrsSent = true // as PEP 3333 has it, even an empty write sends them
	}
	if st.serverWrite == nil {
		return errors.New("validate: the server's start returned no write function")
	}
	err := st.serverWrite(p)
	if err != nil {
		st.stopped = true
	}
	return err
}

// checkOut checks body bytes on their way to the server, through yield,
// write or WriteTo, and counts them.
func (st *vState) checkOut(p []byte, via string) {
	v := st.v
	if len(p) == 0 {
		return
	}
	n := int64(len(p))
	switch {
	case !st.started:
		v.application(RuleNoStart, gateway.ErrNoStart, "%s of %d bytes before start", via, len(p))
	case st.refused || st.aborted:
	default:
		if !st.bodySent {
			st.bodySent, st.hdrsSent = true, true
			if httpsyntax.BodyForbidden(st.code) {
				v.application(RuleNoBodyStatus, nil, "%s of %d bytes for status %q", via, len(p), st.status)
			} else if !st.hasType {
				v.application(RuleContentType, nil, "%s of %d bytes for status %q, whose headers have no Content-Type", via, len(p), st.status)
			}
		}
		if st.cl >= 0 && st.total <= st.cl && st.total+n > st.cl {
			v.application(RuleLengthOver, nil, "%s of %d bytes after %d takes the body past its Content-Length %d", via, len(p), st.total, st.cl)
		}
	}
	st.total += n
}

// yield is the yield function the application's Chunks gets.
func (st *vState) yield(p []byte) bool {
	switch {
	case st.closed.Load():
		st.v.application(RuleAfterClose, nil, "yield of %d bytes after the Body was closed", len(p))
		return false
	case st.returned:
		st.v.application(RuleYield, nil, "yield of %d bytes after Chunks returned", len(p))
		return false
	case st.yieldFalse:
		st.v.application(RuleYield, nil, "yield of %d bytes after yield returned false", len(p))
		return false
	}
	st.checkOut(p, "yield")
	st.chunkBytes += int64(len(p))
	ok := st.serverYield(p)
	if !ok {
		st.yieldFalse, st.stopped = true, true
	}
	return ok
}

// beginIteration checks a server's call to Chunks or WriteTo.
// It returns false for a call after Close, which must go no further: the
// application's Body may serve another request by then.
func (st *vState) beginIteration(method string) bool {
	switch {
	case st.watch.calls.Load() > 0:
		st.v.server(RuleAfterClose, "%s called after Close", method)
		return false
	case st.iterated:
		st.v.server(RuleIterateOnce, "%s called on a body already iterated", method)
	}
	st.iterated, st.returned, st.yieldFalse = true, false, false
	return true
}

// endOfBody checks a body whose Chunks or WriteTo has returned normally;
// lenBefore is what its Len said before, or -1.
func (st *vState) endOfBody(body gateway.Body, lenBefore int64) {
	st.returned = true
	if st.stopped || gateway.BodyErr(body) != nil {
		return // stopped by the server, or failed and says so
	}
	v := st.v
	if !st.started {
		v.application(RuleNoStart, gateway.ErrNoStart, "the body ended without a call to start")
		return
	}
	if lenBefore >= 0 && st.chunkBytes != lenBefore {
		v.application(RuleBodyLen, nil, "Len() was %d, the chunks held %d bytes", lenBefore, st.chunkBytes)
	}
	if !st.refused && !st.aborted && st.cl >= 0 && st.total < st.cl &&
		st.method != http.MethodHead && !httpsyntax.BodyForbidden(st.code) {
		v.application(RuleLengthShort, gateway.ErrShortBody, "the body ended after %d bytes of its Content-Length %d", st.total, st.cl)
	}
}

// wrap returns the checking Body for body, with the optional methods body
// has.
func (st *vState) wrap(body gateway.Body) gateway.Body {
	b := &vBody{inner: body, st: st}
	runtime.AddCleanup(b, vNeverClosed, st.watch)
	_, hasWT := gateway.BodyWriterTo(body)
	switch hasLen := gateway.BodyLen(body) >= 0; {
	case hasLen && hasWT:
		return vBodyLenWriterTo{b}
	case hasLen:
		return vBodyLen{b}
	case hasWT:
		return vBodyWriterTo{b}
	}
	return b
}

// vBody is the Body a validated application returns.
type vBody struct {
	inner gateway.Body
	st    *vState
}

// Chunks checks the server's call and passes the application's chunks
// through a checking yield.
func (b *vBody) Chunks(yield func([]byte) bool) {
	st := b.st
	if !st.beginIteration("Chunks") {
		return
	}
	st.serverYield = yield
	n := gateway.BodyLen(b.inner)
	b.inner.Chunks(st.yieldFn)
	st.endOfBody(b.inner, n)
}

// Close checks that it is called once and closes the application's Body.
func (b *vBody) Close() error {
	st := b.st
	if st.watch.calls.Add(1) > 1 {
		st.v.server(RuleCloseOnce, "Close called a second time")
	}
	defer st.closed.Store(true)
	return b.inner.Close()
}

// Err is the application's Body's Err, if it has one.
func (b *vBody) Err() error { return gateway.BodyErr(b.inner) }

func (b *vBody) vLen() int { return int(gateway.BodyLen(b.inner)) }

func (b *vBody) vWriteTo(w io.Writer) (int64, error) {
	st := b.st
	if !st.beginIteration("WriteTo") {
		return 0, errVEnded
	}
	wt, _ := gateway.BodyWriterTo(b.inner)
	n := gateway.BodyLen(b.inner)
	var vw io.Writer = &vBodyWriter{st: st, w: w}
	if rf, ok := w.(io.ReaderFrom); ok {
		vw = &vBodyReaderFrom{vBodyWriter{st: st, w: w}, rf}
	}
	written, err := wt.WriteTo(vw)
	if err != nil {
		st.returned = true
		return written, err
	}
	st.endOfBody(b.inner, n)
	return written, nil
}

type vBodyLen struct{ *vBody }

// Len is the application's Body's length.
func (b vBodyLen) Len() int { return b.vLen() }

type vBodyWriterTo struct{ *vBody }

// WriteTo runs the application's Body's WriteTo, checking what it writes.
func (b vBodyWriterTo) WriteTo(w io.Writer) (int64, error) { return b.vWriteTo(w) }

type vBodyLenWriterTo struct{ *vBody }

// Len is the application's Body's length.
func (b vBodyLenWriterTo) Len() int { return b.vLen() }

// WriteTo runs the application's Body's WriteTo, checking what it writes.
func (b vBodyLenWriterTo) WriteTo(w io.Writer) (int64, error) { return b.vWriteTo(w) }

// vBodyWriter is the writer a WriterTo body writes to.
type vBodyWriter struct {
	st *vState
	w  io.Writer
}

func (w *vBodyWriter) Write(p []byte) (int, error) {
	st := w.st
	if st.returned || st.closed.Load() {
		st.v.application(RuleYield, nil, "Write of %d bytes after WriteTo returned", len(p))
		return 0, errVEnded
	}
	st.checkOut(p, "WriteTo's Write")
	st.chunkBytes += int64(len(p))
	n, err := w.w.Write(p)
	if err != nil {
		st.stopped = true
	}
	return n, err
}

// vBodyReaderFrom keeps the server's io.ReaderFrom (sendfile) for a body
// the response is allowed to have.
type vBodyReaderFrom struct {
	vBodyWriter
	rf io.ReaderFrom
}

func (w *vBodyReaderFrom) ReadFrom(r io.Reader) (int64, error) {
	st := w.st
	if !st.started || st.refused || st.aborted || st.returned || st.closed.Load() ||
		httpsyntax.BodyForbidden(st.code) || !st.hasType {
		// Let Write find what is wrong, if a byte comes.
		return io.Copy(&w.vBodyWriter, r)
	}
	before := st.total
	n, err := w.rf.ReadFrom(r)
	if n > 0 {
		st.bodySent, st.hdrsSent = true, true
	}
	st.total += n
	st.chunkBytes += n
	if err != nil {
		st.stopped = true
		return n, err
	}
	if st.cl >= 0 && before <= st.cl {
		over := st.total > st.cl
		if !over && st.total == st.cl {
			// The server stopped at the Content-Length: is there more?
			var one [1]byte
			k, _ := io.ReadFull(r, one[:])
			over = k > 0
		}
		if over {
			st.v.application(RuleLengthOver, nil, "WriteTo's ReadFrom has more than the body's Content-Length %d", st.cl)
		}
	}
	return n, nil
}
