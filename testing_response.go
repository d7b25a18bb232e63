package vial

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/gatewaytest"
)

// This file is what the test client hands back: the request as sent and
// the response as a client would have got it, served in process.

// A TestRequest is a request as the [Client] sent it.
type TestRequest struct {
	Method string
	// URL is the absolute URL requested, with its query string.
	URL *url.URL
	// Header holds the headers sent, with the Cookie header the client
	// made from its jar and Content-Type and Content-Length.
	Header http.Header
	// Body is the request body; nil when there was none.
	Body []byte
	// Environ is the environ the App was called with. The App may have
	// changed it while serving.
	Environ *gateway.Environ
}

// A TestResponse is what a request made with a [Client] got back.
type TestResponse struct {
	// StatusCode is the status code: 200.
	StatusCode int
	// Status is the status line the App sent: "200 OK".
	Status string
	// Header holds the response headers as the App sent them, names
	// canonicalised. The client adds none (a real server adds Date, and
	// Content-Length or Transfer-Encoding).
	Header http.Header
	// Body is the whole response body; empty for a HEAD request, as a
	// server sends none.
	Body []byte
	// Request is the request that got this response.
	Request *TestRequest
	// History holds the redirect responses the client followed to get
	// this one, oldest first; empty when it followed none.
	History []*TestResponse
	// Err is the failure a server would have reported for this response
	// instead of passing it off as a success, nil for a correct one: a
	// status or header a server refuses to send, no call to start, a body
	// shorter than its Content-Length, a body that ended early (its Err
	// method), a second start with excInfo after the body began, an error
	// from the body's Close, a context that ended mid-body. When it
	// happened before any of the body was produced, the response is the
	// 500 a server sends instead; otherwise it is what the App produced up
	// to the failure. (A body longer than its Content-Length breaks the
	// contract: the client's validator panics with a *validate.Violation.)
	Err error
}

// Text returns the body as a string.
func (r *TestResponse) Text() string { return string(r.Body) }

// Mimetype returns the Content-Type without its parameters, lower-case:
// "application/json".
func (r *TestResponse) Mimetype() string { return mimetype(r.Header.Get("Content-Type")) }

// IsJSON reports whether the Content-Type is application/json or
// application/*+json.
func (r *TestResponse) IsJSON() bool { return isJSON(r.Mimetype()) }

// JSON decodes the body into v, as encoding/json does. It fails when the
// response is not JSON (by its Content-Type) or does not decode into v.
func (r *TestResponse) JSON(v any) error {
	if !r.IsJSON() {
		return fmt.Errorf("vial: the response is %q, not JSON", r.Header.Get("Content-Type"))
	}
	return json.Unmarshal(r.Body, v)
}

// GetJSON returns the decoded JSON body: maps, slices, strings, bools, nil
// and numbers as json.Number, as [Request.GetJSON] decodes them. It returns
// nil when the response is not JSON or does not decode; [TestResponse.JSON]
// says why.
func (r *TestResponse) GetJSON() any {
	if !r.IsJSON() {
		return nil
	}
	var v any
	if decodeJSON(r.Body, &v) != nil {
		return nil // not JSON, or more than one value
	}
	return v
}

// Cookies returns the cookies the response sets (its Set-Cookie headers).
func (r *TestResponse) Cookies() []*http.Cookie {
	return (&http.Response{Header: r.Header}).Cookies()
}

// Location returns the Location header: where a redirect points.
func (r *TestResponse) Location() string { return r.Header.Get("Location") }

// serveTest runs app for env as a server does, in process, and returns the
// response.
func serveTest(app gateway.Application, env *gateway.Environ, req *TestRequest) *TestResponse {
	resp := gatewaytest.Serve(app, env)
	return &TestResponse{
		StatusCode: resp.Code,
		Status:     resp.Status,
		Header:     resp.Header.HTTPHeader(),
		Body:       resp.Body,
		Request:    req,
		Err:        resp.Err,
	}
}
