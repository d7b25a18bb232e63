package vial

import (
	"fmt"
	"html"
	"net/http"

	"github.com/vial-go/vial/gateway"
)

// An HTTPError is an error that is also an HTTP response: werkzeug's
// HTTPException. A view, hook or error handler that returns one (or panics
// with one) gets its response: the status, a short HTML page, and any
// headers it carries (Allow for 405, Location for redirects).
//
// Compare with errors.Is against the Err* values: errors.Is(err,
// vial.ErrNotFound) holds for every 404, whatever its description.
type HTTPError struct {
	Code        int             // the status code
	Description string          // shown on the error page; the standard one if empty
	Header      gateway.Headers // extra response headers
	Response    *Response       // when set, sent instead of the generated page
	Err         error           // the error behind it, if any (Unwrap returns it)
}

// Name is the status's reason phrase: "Not Found".
func (e *HTTPError) Name() string {
	if t := http.StatusText(e.Code); t != "" {
		return t
	}
	return "Unknown Error"
}

// Error returns "404 Not Found: description".
func (e *HTTPError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, e.Name(), e.GetDescription())
}

// Is reports whether target is an *HTTPError with the same code, so that
// errors.Is(err, ErrNotFound) matches any 404.
func (e *HTTPError) Is(target error) bool {
	t, ok := target.(*HTTPError)
	return ok && t.Code == e.Code
}

// Unwrap returns the error behind this one.
func (e *HTTPError) Unwrap() error { return e.Err }

// GetDescription returns the description the error page shows: e's own,
// else the standard one for its code (werkzeug's get_description), else
// the reason phrase.
func (e *HTTPError) GetDescription() string {
	if e.Description != "" {
		return e.Description
	}
	if d := defaultDescriptions[e.Code]; d != "" {
		return d
	}
	return e.Name()
}

// GetResponse returns the response for this error: e.Response when set,
// else werkzeug's short HTML page with e's headers.
func (e *HTTPError) GetResponse() *Response {
	if e.Response != nil {
		return e.Response
	}
	resp := newResponse()
	resp.StatusCode = e.Code
	if e.Code < 100 || e.Code > 999 {
		resp.StatusCode = http.StatusInternalServerError
	}
	resp.Header = append(resp.Header, gateway.Header{Name: "Content-Type", Value: "text/html; charset=utf-8"})
	resp.Header = append(resp.Header, e.Header...)
	resp.SetText(fmt.Sprintf("<!doctype html>\n<html lang=en>\n<title>%d %s</title>\n<h1>%s</h1>\n<p>%s</p>\n",
		e.Code, html.EscapeString(e.Name()), html.EscapeString(e.Name()), html.EscapeString(e.GetDescription())))
	return resp
}

// Abort returns the HTTPError for code, with an optional description: the
// value a view or hook returns to stop with that status, as Flask's abort
// raises it.
//
//	if r.Header.Get("X-Token") == "" {
//		return vial.Abort(401)
//	}
//
// From code that cannot return it, panic(vial.Abort(code)) works the same
// way.
func Abort(code int, description ...string) error {
	e := &HTTPError{Code: code}
	if len(description) > 0 {
		e.Description = description[0]
	}
	return e
}

// The standard HTTP errors, for errors.Is and for error handlers.
var (
	ErrBadRequest            = &HTTPError{Code: http.StatusBadRequest}
	ErrUnauthorized          = &HTTPError{Code: http.StatusUnauthorized}
	ErrForbidden             = &HTTPError{Code: http.StatusForbidden}
	ErrNotFound              = &HTTPError{Code: http.StatusNotFound}
	ErrMethodNotAllowed      = &HTTPError{Code: http.StatusMethodNotAllowed}
	ErrNotAcceptable         = &HTTPError{Code: http.StatusNotAcceptable}
	ErrConflict              = &HTTPError{Code: http.StatusConflict}
	ErrGone                  = &HTTPError{Code: http.StatusGone}
	ErrRequestEntityTooLarge = &HTTPError{Code: http.StatusRequestEntityTooLarge}
	ErrUnsupportedMediaType  = &HTTPError{Code: http.StatusUnsupportedMediaType}
	ErrUnprocessableEntity   = &HTTPError{Code: http.StatusUnprocessableEntity}
	ErrTooManyRequests       = &HTTPError{Code: http.StatusTooManyRequests}
	ErrInternalServerError   = &HTTPError{Code: http.StatusInternalServerError}
	ErrNotImplemented        = &HTTPError{Code: http.StatusNotImplemented}
	ErrServiceUnavailable    = &HTTPError{Code: http.StatusServiceUnavailable}
)

// werkzeug's descriptions, so a Flask user sees the pages they know.
var defaultDescriptions = map[int]string{
	400: "The browser (or proxy) sent a request that this server could not understand.",
	401: "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.",
	403: "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.",
	404: "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
	405: "The method is not allowed for the requested URL.",
	406: "The resource identified by the request is only capable of generating response entities which have content characteristics not acceptable according to the accept headers sent in the request.",
	409: "A conflict happened while processing the request. The resource might have been modified while the request was being processed.",
	410: "The requested URL is no longer available on this server and there is no forwarding address. If you followed a link from a foreign page, please contact the author of this page.",
	413: "The data value transmitted exceeds the capacity limit.",
	415: "The server does not support the media type transmitted in the request.",
	422: "The request was well-formed but was unable to be followed due to semantic errors.",
	429: "This user has exceeded an allotted request count. Try again later.",
	500: "The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.",
	501: "The server does not support the action requested by the browser.",
	503: "The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.",
}
