package vial

import (
	"errors"
	"fmt"
	"reflect"
)

// BeforeFirstRequest registers fn to run once, before the first request is
// handled. Concurrent first requests wait until it has run; if it panics,
// the request gets a 500 and the next request tries again.
func (a *App) BeforeFirstRequest(fn func()) {
	a.checkSetup("BeforeFirstRequest")
	a.beforeFirstRequest = append(a.beforeFirstRequest, fn)
}

// BeforeRequest registers fn to run before each request's view, in
// registration order: the App's functions first, then each blueprint's,
// outermost first, for a request to a blueprint's view. When fn returns a
// non-nil value, the remaining functions and the view are skipped and that
// value is the response (an error, such as [Abort], goes to the error
// handlers). On a Blueprint, fn runs for the requests of its views (and
// of the blueprints nested in it) only.
func (s *Scaffold) BeforeRequest(fn func(r *Request) any) {
	s.check("BeforeRequest")
	s.hooks.beforeRequest = append(s.hooks.beforeRequest, fn)
}

// AfterRequest registers fn to run after each request's response is made,
// newest registration first: for a request to a blueprint's view, the
// innermost blueprint's functions first, then the outer ones', then the
// App's. It must return the response to send: resp itself, changed or not,
// or another. It also runs for error responses (404, 405, 500 …). A panic
// in fn is an unhandled error: a 500.
func (s *Scaffold) AfterRequest(fn func(r *Request, resp *Response) *Response) {
	s.check("AfterRequest")
	s.hooks.afterRequest = append(s.hooks.afterRequest, fn)
}

// TeardownRequest registers fn to run when the request is over, newest
// registration first (blueprints inner to outer, then the App, as
// [Scaffold.AfterRequest]), whether it succeeded or not: after the
// response body has been sent (so a streaming view keeps its request until
// its last chunk). err is the unhandled error that ended the request, nil
// if none. A panic in fn is logged and does not stop the other teardown
// functions.
func (s *Scaffold) TeardownRequest(fn func(r *Request, err error)) {
	s.check("TeardownRequest")
	s.hooks.teardownRequest = append(s.hooks.teardownRequest, fn)
}

// TeardownAppContext registers fn to run when the application context is
// popped, after the teardown-request functions, newest registration first.
func (a *App) TeardownAppContext(fn func(r *Request, err error)) {
	a.checkSetup("TeardownAppContext")
	a.teardownAppContext = append(a.teardownAppContext, fn)
}

// A URLValueFunc sees or changes the values of a URL: the view arguments
// a request matched, for a [Scaffold.URLValuePreprocessor], or the values
// a URL is built from, for [Scaffold.URLDefaults]. r is the request being
// served; for URLDefaults it is nil when the URL is built outside a
// request ([App.URLFor]).
type URLValueFunc func(r *Request, endpoint string, values map[string]any)

// URLValuePreprocessor registers fn to run before the before-request
// functions with the matched endpoint and view arguments, which it may
// change: Flask's url_value_preprocessor. A blueprint under
// "/<lang_code>" pulls the language out of the values into r.G:
//
//	bp.URLValuePreprocessor(func(r *vial.Request, endpoint string, values map[string]any) {
//		r.G.Set("lang_code", values["lang_code"])
//		delete(values, "lang_code")
//	})
//
// The App's functions run first, then each blueprint's, outermost first.
func (s *Scaffold) URLValuePreprocessor(fn URLValueFunc) {
	s.check("URLValuePreprocessor")
	s.hooks.urlValuePreproc = append(s.hooks.urlValuePreproc, fn)
}

// URLDefaults registers fn to fill in values when a URL is built, before
// the endpoint's rule is chosen: Flask's url_defaults. On a Blueprint, fn
// runs for the URLs of its endpoints only, after the App's functions and
// those of the blueprints around it; it puts back what a
// URLValuePreprocessor took out:
//
//	bp.URLDefaults(func(r *vial.Request, endpoint string, values map[string]any) {
//		if _, ok := values["lang_code"]; !ok && r != nil {
//			values["lang_code"] = r.G.Get("lang_code")
//		}
//	})
func (s *Scaffold) URLDefaults(fn URLValueFunc) {
	s.check("URLDefaults")
	s.hooks.urlDefaults = append(s.hooks.urlDefaults, fn)
}

// An ErrorHandlerFunc turns an error into a response value, as a view does.
type ErrorHandlerFunc func(r *Request, err error) any

type errorHandlerEntry struct {
	match func(error) bool
	fn    ErrorHandlerFunc
}

// hookSet holds the hooks of one scope: the App's own, or one
// blueprint's. scopes.go orders them for a request.
type hookSet struct {
	beforeRequest   []func(*Request) any
	afterRequest    []func(*Request, *Response) *Response
	teardownRequest []func(*Request, error)
	urlValuePreproc []URLValueFunc
	urlDefaults     []URLValueFunc
	codeHandlers    map[int]ErrorHandlerFunc
	errorHandlers   []errorHandlerEntry
}

// ErrorHandler registers fn for the errors that key selects, Flask's
// errorhandler:
//
//   - an int: the HTTP errors with that status code (404, 500 …);
//   - an error value, such as sql.ErrNoRows or vial.ErrNotFound: errors
//     that match it under errors.Is;
//   - a typed nil pointer of an error type, such as (*MyError)(nil), or
//     (*vial.HTTPError)(nil) for every HTTP error: errors that match the type
//     under errors.As.
//
// A handler for 500 also receives unhandled errors and panics, wrapped in a
// 500 *HTTPError whose Err is the original. HTTP errors look for a code
// handler first; then handlers for values and types are tried in
// registration order. For an error in a blueprint's view, the blueprint's
// handler for the code comes first (the innermost blueprint's first), then
// the App's, then the blueprints' handlers for values and types, then the
// App's, as in Flask. A blueprint's 404 and 405 handlers see only what its
// views abort with: a URL that matched no rule belongs to no blueprint.
func (s *Scaffold) ErrorHandler(key any, fn ErrorHandlerFunc) {
	s.check("ErrorHandler")
	s.hooks.addErrorHandler(key, fn)
}

func (h *hookSet) addErrorHandler(key any, fn ErrorHandlerFunc) {
	switch k := key.(type) {
	case int:
		if k < 400 || k > 599 {
			panic(fmt.Sprintf("vial: ErrorHandler(%d): %d is not an error status code", k, k))
		}
		h.setCodeHandler(k, fn)
		return
	case error:
		v := reflect.ValueOf(k)
		if v.Kind() == reflect.Pointer && v.IsNil() {
			typ := v.Type()
			h.errorHandlers = append(h.errorHandlers, errorHandlerEntry{fn: fn, match: func(err error) bool {
				target := reflect.New(typ)
				return errors.As(err, target.Interface())
			}})
			return
		}
		if he, ok := k.(*HTTPError); ok {
			h.setCodeHandler(he.Code, fn)
			return
		}
		h.errorHandlers = append(h.errorHandlers, errorHandlerEntry{fn: fn, match: func(err error) bool {
			return errors.Is(err, k)
		}})
		return
	}
	panic(fmt.Sprintf("vial: ErrorHandler(%v): the key is a status code, an error value or a typed nil error pointer, not %T", key, key))
}

func (h *hookSet) setCodeHandler(code int, fn ErrorHandlerFunc) {
	if h.codeHandlers == nil {
		h.codeHandlers = map[int]ErrorHandlerFunc{}
	}
	h.codeHandlers[code] = fn
}

// findErrorHandler returns the handler for err in the request's scopes,
// or nil: the handlers for an HTTP error's code first, innermost
// blueprint to App, then those for values and types in the same order.
func (a *App) findErrorHandler(r *Request, err error) ErrorHandlerFunc {
	chain := a.scopeOf(r).handlers
	if he, ok := errors.AsType[*HTTPError](err); ok {
		for _, h := range chain {
			if fn := h.codeHandlers[he.Code]; fn != nil {
				return fn
			}
		}
	}
	for _, h := range chain {
		for _, e := range h.errorHandlers {
			if e.match(err) {
				return e.fn
			}
		}
	}
	return nil
}
