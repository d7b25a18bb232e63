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
	"fmt"
	"net/http"

	"github.com/vial-go/vial/gateway"
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
// [gateway.CheckResponse] (RuleStatus, RuleHeaderName, RuleHeaderControl, RuleHopByHop,
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
//	validate: application broke start_response rule 2: header values hold no control character but HTAB:
//	header "X-A": "a\r\nb"
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
		panic("validate: Wrap of a nil Application")
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
