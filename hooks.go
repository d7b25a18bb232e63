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
// registration order. When fn returns a non-nil value, the remaining
// functions and the view are skipped and that value is the response (an
// error, such as [Abort], goes to the error handlers).
func (a *App) BeforeRequest(fn func(r *Request) any) {
	a.checkSetup("BeforeRequest")
	a.beforeRequest = append(a.beforeRequest, fn)
}

// AfterRequest registers fn to run after each request's response is made,
// newest registration first. It must return the response to send: resp
// itself, changed or not, or another. It also runs for error responses
// (404, 405, 500 …). A panic in fn is an unhandled error: a 500.
func (a *App) AfterRequest(fn func(r *Request, resp *Response) *Response) {
	a.checkSetup("AfterRequest")
	a.afterRequest = append(a.afterRequest, fn)
}

// TeardownRequest registers fn to run when the request is over, newest
// registration first, whether it succeeded or not: after the response body
// has been sent (so a streaming view keeps its request until its last
// chunk). err is the unhandled error that ended the request, nil if none. A
// panic in fn is logged and does not stop the other teardown functions.
func (a *App) TeardownRequest(fn func(r *Request, err error)) {
	a.checkSetup("TeardownRequest")
	a.teardownRequest = append(a.teardownRequest, fn)
}

// TeardownAppContext registers fn to run when the application context is
// popped, after the teardown-request functions, newest registration first.
func (a *App) TeardownAppContext(fn func(r *Request, err error)) {
	a.checkSetup("TeardownAppContext")
	a.teardownAppContext = append(a.teardownAppContext, fn)
}

// URLValuePreprocessor registers fn to run before the before-request
// functions with the matched endpoint and view arguments, which it may
// change (pull a language code out of the URL, say).
func (a *App) URLValuePreprocessor(fn func(endpoint string, values map[string]any)) {
	a.checkSetup("URLValuePreprocessor")
	a.urlValuePreproc = append(a.urlValuePreproc, fn)
}

// URLDefaults registers fn to fill in values when a URL is built, before the
// endpoint's rule is chosen.
func (a *App) URLDefaults(fn func(endpoint string, values map[string]any)) {
	a.checkSetup("URLDefaults")
	a.urlDefaults = append(a.urlDefaults, fn)
}

// An ErrorHandlerFunc turns an error into a response value, as a view does.
type ErrorHandlerFunc func(r *Request, err error) any

type errorHandlerEntry struct {
	match func(error) bool
	fn    ErrorHandlerFunc
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
// registration order.
func (a *App) ErrorHandler(key any, fn ErrorHandlerFunc) {
	a.checkSetup("ErrorHandler")
	switch k := key.(type) {
	case int:
		if k < 400 || k > 599 {
			panic(fmt.Sprintf("vial: ErrorHandler(%d): %d is not an error status code", k, k))
		}
		a.codeHandlers[k] = fn
		return
	case error:
		v := reflect.ValueOf(k)
		if v.Kind() == reflect.Pointer && v.IsNil() {
			typ := v.Type()
			a.errorHandlers = append(a.errorHandlers, errorHandlerEntry{fn: fn, match: func(err error) bool {
				target := reflect.New(typ)
				return errors.As(err, target.Interface())
			}})
			return
		}
		if he, ok := k.(*HTTPError); ok {
			a.codeHandlers[he.Code] = fn
			return
		}
		a.errorHandlers = append(a.errorHandlers, errorHandlerEntry{fn: fn, match: func(err error) bool {
			return errors.Is(err, k)
		}})
		return
	}
	panic(fmt.Sprintf("vial: ErrorHandler(%v): the key is a status code, an error value or a typed nil error pointer, not %T", key, key))
}

// findErrorHandler returns the handler for err, or nil.
func (a *App) findErrorHandler(err error) ErrorHandlerFunc {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		if fn := a.codeHandlers[he.Code]; fn != nil {
			return fn
		}
	}
	for _, h := range a.errorHandlers {
		if h.match(err) {
			return h.fn
		}
	}
	return nil
}
