package vial

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/internal/ratelog"
	"github.com/vial-go/vial/internal/stack"
)

// This file is the request pipeline, Flask's wsgi_app and
// full_dispatch_request, one public method per step, in the order a
// request goes through them:
//
//	ServeGateway
//	  FullDispatchRequest
//	    before-first-request functions, RequestStarted
//	    PreprocessRequest → DispatchRequest → (error) HandleUserException
//	    FinalizeRequest: MakeResponse → ProcessResponse → RequestFinished
//	  (unhandled error or panic) HandleException → FinalizeRequest
//	  Response.ServeGateway … body sent … Close:
//	    teardown-request functions, RequestTearingDown,
//	    teardown-appcontext functions, AppContextTearingDown, AppContextPopped
//
// Making the Request and tearing it down are in context.go.

// ServeGateway is the App's gateway application callable, Flask's
// wsgi_app: it builds the Request (matching its URL), runs
// [App.FullDispatchRequest], turns an unhandled error into a response with
// [App.HandleException], and returns the response's body. The request is
// torn down when the server closes that body, so a streaming view keeps its
// request until the last chunk is out.
func (a *App) ServeGateway(env *gateway.Environ, start gateway.StartResponse) (body gateway.Body) {
	if !a.serving.Load() {
		// Loaded first: a store on every request would keep the App's
		// cache line bouncing between the cores serving requests.
		a.serving.Store(true)
	}
	r := a.newRequest(env)
	var resp *Response
	defer func() {
		if body == nil {
			// Something panicked past the pipeline's own recovery (start
			// refusing the response, say): the server will answer it, but
			// the request must still be torn down.
			v := recover()
			if r.err == nil {
				if v != nil {
					r.err = &PanicError{Value: v, Stack: debug.Stack()}
				} else {
					r.err = errGoexit
				}
			}
			if r.inner == nil {
				// start refused the response before its body was made:
				// close what the response holds (a reader, on-close
				// functions) all the same.
				a.guard("discarding the response", func() error { resp.discard(); return nil })
			}
			r.escaped = true
			r.tearDown()
			if v != nil {
				panic(v)
			}
			// v is nil after runtime.Goexit (t.Fatal in a view under test),
			// which carries on unwinding by itself.
		}
	}()
	err := AppContextPushed.emit(a, r)
	if err == nil {
		resp, err = a.FullDispatchRequest(r)
	}
	if err != nil {
		r.err = err
		resp = a.HandleException(r, err)
	}
	r.inner = a.startResponse(r, resp, env, start)
	return &requestBody{r}
}

// startResponse runs the response as a gateway application. Only a
// response that wraps an application can fail here; its failure is handled
// like any other unhandled error.
func (a *App) startResponse(r *Request, resp *Response, env *gateway.Environ, start gateway.StartResponse) (body gateway.Body) {
	if resp.kind != kindApp {
		return resp.ServeGateway(env, start)
	}
	defer func() {
		if v := recover(); v != nil {
			err := panicked(v)
			r.err = err
			// The wrapped application may have called start already: the
			// error page replaces its response, as excInfo allows.
			restart := func(status string, headers gateway.Headers, _ ...error) gateway.WriteFunc {
				return start(status, headers, err)
			}
			body = a.HandleException(r, err).ServeGateway(env, restart)
		}
	}()
	return resp.ServeGateway(env, start)
}

// errGoexit is the error a request ends with when its goroutine exits
// under it (t.Fatal in a view under test), so that teardown sees a failure.
var errGoexit = errors.New("vial: the request's goroutine exited (runtime.Goexit)")

// FullDispatchRequest dispatches the request and, around it, runs the
// before-first-request functions, sends RequestStarted, runs the
// before-request functions, handles errors with the error handlers, and
// finalizes the response. A non-nil error is one nothing handled: the caller
// passes it to [App.HandleException].
func (a *App) FullDispatchRequest(r *Request) (*Response, error) {
	if err := a.tryTriggerBeforeFirstRequest(); err != nil {
		return nil, err
	}
	rv, err := a.runRequest(r)
	if err != nil {
		rv, err = a.HandleUserException(r, err)
		if err != nil {
			return nil, err
		}
	}
	return a.FinalizeRequest(r, rv, false)
}

// runRequest is the part of FullDispatchRequest inside Flask's try block:
// a returned error and a panic both come back as the error.
func (a *App) runRequest(r *Request) (rv any, err error) {
	defer func() {
		if v := recover(); v != nil {
			rv, err = nil, panicked(v)
		}
	}()
	if err := RequestStarted.emit(a, r); err != nil {
		return nil, err
	}
	rv = a.PreprocessRequest(r)
	if rv == nil {
		rv = a.DispatchRequest(r)
	}
	if e, ok := rv.(error); ok {
		return nil, e
	}
	return rv, nil
}

func (a *App) tryTriggerBeforeFirstRequest() (err error) {
	if a.gotFirst.Load() {
		return nil
	}
	a.firstLock.Lock()
	defer a.firstLock.Unlock()
	if a.gotFirst.Load() {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = panicked(v)
		}
	}()
	for _, fn := range a.beforeFirstRequest {
		fn()
	}
	a.gotFirst.Store(true)
	return nil
}

// PreprocessRequest runs the URL value preprocessors, then the
// before-request functions in registration order. The first non-nil value a
// function returns ends the request's processing: it becomes the response
// (or, if it is an error, goes to the error handlers) and the view is not
// called.
func (a *App) PreprocessRequest(r *Request) any {
	sc := a.scopeOf(r)
	for _, fn := range sc.urlValues {
		if r.ViewArgs == nil && r.URLRule != nil {
			r.ViewArgs = map[string]any{}
		}
		fn(r, r.Endpoint, r.ViewArgs)
	}
	for _, fn := range sc.before {
		if rv := fn(r); rv != nil {
			return rv
		}
	}
	return nil
}

// DispatchRequest calls the view of the matched rule and returns what it
// returns. A routing failure comes back as its HTTP error (404, 405 with
// Allow, a 308 redirect); an OPTIONS request to a rule with automatic
// options gets the default answer.
func (a *App) DispatchRequest(r *Request) any {
	if r.routingErr != nil {
		return r.routingErr
	}
	rule := r.URLRule // nil if a before-request function dropped it
	if r.Method == http.MethodOptions && rule != nil && rule.ProvideAutomaticOptions {
		return a.defaultOptionsResponse(r)
	}
	var view View
	if rule != nil && rule.viewApp == a && rule.Endpoint == r.Endpoint {
		view = rule.view
	} else {
		// A rule added to the URLMap directly or shared with another App,
		// or a rule or endpoint changed by a before-request function.
		view = a.viewFunctions[r.Endpoint]
	}
	if view == nil {
		if rule == nil {
			return fmt.Errorf("vial: no view function is registered for endpoint %q", r.Endpoint)
		}
		return fmt.Errorf("vial: no view function is registered for endpoint %q (rule %q)", r.Endpoint, rule.Rule)
	}
	return view(r)
}

// defaultOptionsResponse answers OPTIONS with the methods the URL allows.
func (a *App) defaultOptionsResponse(r *Request) *Response {
	resp := newResponse()
	allow := "OPTIONS"
	if methods := a.URLMap.AllowedMethodsSubdomain(a.requestSubdomain(r), r.Path); len(methods) > 0 {
		allow = strings.Join(methods, ", ")
	}
	resp.Header = append(resp.Header, gateway.Header{Name: "Allow", Value: allow})
	resp.SetMimetype("text/html")
	resp.SetText("")
	return resp
}

// HandleUserException handles an error that a view or hook returned or
// panicked with, Flask's handle_user_exception. An HTTP error is answered by
// the handler for its code, or else its own response; a routing redirect
// always by its own response. Other errors go to the first handler that
// matches them. It returns the handler's value, or the error itself when no
// handler takes it: that error is unhandled.
func (a *App) HandleUserException(r *Request, err error) (any, error) {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		if he.Code >= 300 && he.Code < 400 {
			return he, nil
		}
		if fn := a.findErrorHandler(r, err); fn != nil {
			return a.callErrorHandler(fn, r, err)
		}
		return he, nil
	}
	if fn := a.findErrorHandler(r, err); fn != nil {
		return a.callErrorHandler(fn, r, err)
	}
	return nil, err
}

// callErrorHandler runs an error handler; an error it returns or panics with
// is unhandled.
func (a *App) callErrorHandler(fn ErrorHandlerFunc, r *Request, err error) (rv any, herr error) {
	defer func() {
		if v := recover(); v != nil {
			rv, herr = nil, panicked(v)
		}
	}()
	rv = fn(r, err)
	if e, ok := rv.(error); ok {
		if he, isHTTP := errors.AsType[*HTTPError](e); isHTTP {
			return he, nil
		}
		return nil, e
	}
	return rv, nil
}

// HandleException answers an error that nothing handled, or a panic,
// Flask's handle_exception: it sends GotRequestException, logs the error
// with its stack, and makes a 500 response, from the handler registered for
// 500 if there is one (given a 500 *HTTPError whose Err is the original),
// finalized as usual so after-request functions still apply.
//
// When exceptions propagate (Config PROPAGATE_EXCEPTIONS, or by default
// DEBUG or TESTING, as in Flask) it panics with the error instead, after
// GotRequestException, so that the development server's debugger shows it;
// the request is still torn down. A panic goes up as its *PanicError, and
// a returned error as itself; in debug mode (Config DEBUG) either goes up
// wrapped in a value that names the request's endpoint (its Endpoint
// method), which the debugger shows, and a returned error as an unhandled
// error rather than a panic. The wrapper's Error is the error's, and
// errors.Is and errors.As see through it; a test (TESTING) gets the error
// itself.
func (a *App) HandleException(r *Request, err error) *Response {
	GotRequestException.Send(a, &RequestError{Request: r, Err: err})
	if a.propagateExceptions() {
		// Debug mode: the dev server's debugger shows the error instead.
		// ServeGateway tears the request down on the way out.
		if !a.Config.Bool("DEBUG") {
			panic(err)
		}
		panic(&unhandledError{err: err, endpoint: r.Endpoint})
	}
	a.logException(r, err)
	serverError := &HTTPError{Code: http.StatusInternalServerError, Err: err}
	var rv any = serverError
	if fn := a.findErrorHandler(r, serverError); fn != nil {
		hv, herr := a.callErrorHandler(fn, r, serverError)
		if herr != nil {
			a.logger().Error("vial: the 500 error handler failed", "path", r.Path, "error", herr)
		} else {
			rv = hv
		}
	}
	resp, ferr := a.FinalizeRequest(r, rv, true)
	if ferr != nil {
		resp = serverError.GetResponse()
		resp.Request = r
	}
	return resp
}

// unhandledError is what HandleException panics with in debug mode: the
// development server's debugger recognises it by its Endpoint method (the
// serving package cannot import vial), names the endpoint, and shows a
// returned error (not a *PanicError) as an unhandled error, with the stack
// the error carries, if any.
type unhandledError struct {
	err      error
	endpoint string
}

func (e *unhandledError) Error() string    { return e.err.Error() }
func (e *unhandledError) Unwrap() error    { return e.err }
func (e *unhandledError) Endpoint() string { return e.endpoint }

// logException logs an error the App answered with a 500, as Flask's
// log_exception does.
//
// A panic's stack is logged the first time its site panics within a
// minute; the repeats are logged without it, with their count at the end of
// the minute, so that a hot panicking route cannot fill a disk.
func (a *App) logException(r *Request, err error) {
	attrs := []any{"method", r.Method, "path", r.Path, "error", err}
	if pe, ok := errors.AsType[*PanicError](err); ok {
		site := ratelog.Site(pe.Stack)
		if site == "" {
			site = fmt.Sprint(pe.Value)
		}
		if a.panicLog.Note(site) == ratelog.Full {
			attrs = append(attrs, "stack", string(stack.FromPanic(pe.Stack)))
		} else {
			attrs = append(attrs, "again_at", site, "stack_note", a.panicLog.BriefNote())
		}
	}
	a.logger().Error("Exception on "+r.Path+" ["+r.Method+"]", attrs...)
}

// logPanicRepeats logs how often a panic site repeated in its minute.
func (a *App) logPanicRepeats(s ratelog.Summary) {
	a.logger().Error("Exception repeated", "site", s.Site, "count", s.Repeats, "summary", s.String())
}

// FinalizeRequest turns a view's (or handler's) value into the response
// and finishes it: [App.MakeResponse], then [App.ProcessResponse], then
// RequestFinished. When it is finalizing an error response
// (fromErrorHandler), a failure of the after-request functions is logged and
// the response sent as it is, since there is nothing left to fall back on.
func (a *App) FinalizeRequest(r *Request, rv any, fromErrorHandler bool) (*Response, error) {
	resp, err := a.MakeResponse(r, rv)
	if err != nil {
		return nil, err
	}
	processed, err := a.ProcessResponse(r, resp)
	if err == nil {
		err = RequestFinished.emit(a, processed)
	}
	if err != nil {
		if !fromErrorHandler {
			processed.discard() // another response will be sent: close this one's body
			return nil, err
		}
		a.logger().Error("vial: request finalizing failed with an error while handling an error",
			"path", r.Path, "error", err)
	}
	return processed, nil
}

// MakeResponse converts what a view returned into a *Response, Flask's
// make_response:
//
//   - string, []byte: 200, text/html; charset=utf-8
//   - a map, a struct or a non-nil pointer to one, a slice or an array: 200,
//     application/json, as [JSON] encodes it
//   - *Response: as it is; [MakeResponse] (the function) gives Flask's
//     (body, status, headers) tuples
//   - iter.Seq[string], iter.Seq[[]byte] (or plain functions of those
//     shapes), io.Reader: streamed, chunk by chunk
//   - a [gateway.Application] or an [net/http.Handler]: called to produce
//     the response; its status and headers stand, and what the Response
//     is given afterwards (by after-request functions) applies on top, as
//     [Response.ServeGateway] says
//   - an *HTTPError: its response
//
// nil is an error that names the endpoint, as is a value of another type.
func (a *App) MakeResponse(r *Request, rv any) (*Response, error) {
	if rv == nil {
		return nil, fmt.Errorf("vial: the view function for %q did not return a valid response: "+
			"it returned nil. Return a string, bytes, a map, a *Response, an error or another valid value", r.Endpoint)
	}
	resp, err := toResponse(r, rv)
	if err != nil {
		return nil, fmt.Errorf("%w (endpoint %q)", err, r.Endpoint)
	}
	resp.Request = r
	return resp, nil
}

// ProcessResponse runs the after-request functions on resp, newest
// registration first, each getting the response the previous one returned;
// a response one of them replaces is closed unsent. A panic in one, or a nil
// response, is an error (a 500 for the client); the response it returns
// then is the last one a function gave.
func (a *App) ProcessResponse(r *Request, resp *Response) (out *Response, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = resp, panicked(v)
		}
	}()
	for _, fn := range a.scopeOf(r).after {
		next := fn(r, resp)
		if next == nil {
			return resp, fmt.Errorf("vial: an after-request function returned a nil response for %q", r.Path)
		}
		if next.Request == nil {
			next.Request = r
		}
		if next != resp {
			resp.discard()
		}
		resp = next
	}
	if err := a.saveSession(r, resp); err != nil {
		return resp, err
	}
	return resp, nil
}

// A PanicError is a panic recovered by the App, handled like a returned
// error: error handlers registered for its value's type see it through
// errors.As (Unwrap returns the value when it is an error). It is
// [gateway.PanicError], the type every server of the gateway packages
// recovers a panic as, so that a server, the dev server's debugger and the
// App's own handlers all see one type, with the value in Value and the
// stack, in the format of runtime/debug.Stack, in Stack.
type PanicError = gateway.PanicError

// panicked turns a recovered value into the error the pipeline handles. A
// panic with an *HTTPError (panic(vial.Abort(400))) is that HTTP error, as
// Flask's abort raises it; anything else is a *PanicError with its stack.
func panicked(v any) error {
	if he, ok := v.(*HTTPError); ok {
		return he
	}
	if v == http.ErrAbortHandler {
		panic(v) // the server's own signal to drop the connection
	}
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// propagateExceptions reports whether unhandled errors go up to the server
// (its debugger) instead of becoming a 500 here.
func (a *App) propagateExceptions() bool {
	if v, ok := a.Config["PROPAGATE_EXCEPTIONS"].(bool); ok {
		return v
	}
	return a.Config.Bool("DEBUG") || a.Config.Bool("TESTING")
}
