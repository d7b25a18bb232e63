// Package gatewaytest serves gateway applications in process, for tests, as
// net/http/httptest does for net/http handlers.
//
// [Serve] runs an application on an environ through the same response
// state machine as every server of the gateway packages
// ([gateway.Exchange]), on a wire that keeps the response in memory, so a
// test sees what a server would have sent: the 500 that replaces a
// response broken before anything went out, a body cut at its
// Content-Length, nothing for HEAD. Two things differ from a server, so
// that a test sees more: a panic is passed on to the test instead of being
// answered, and a client that went away before anything was sent (the
// environ's context ended) gets the 500 recorded, with the error, where a
// server would have closed the connection. [NewEnviron] builds the environ
// of a request, as httptest.NewRequest builds an *http.Request:
//
//	env := gatewaytest.NewEnviron("GET", "/hello?name=go", nil)
//	resp := gatewaytest.Serve(app, env)
//	fmt.Println(resp.Code, string(resp.Body))
package gatewaytest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/internal/hostport"
)

// A Response is what an application sent, as a client would have got it.
type Response struct {
	// Status is the status line: "200 OK".
	Status string
	// Code is the status code: 200.
	Code int
	// Header holds the header fields in the application's order. The
	// server adds none: a real one adds Date, and Content-Length or
	// Transfer-Encoding.
	Header gateway.Headers
	// Body is the body as sent: empty for HEAD and for the statuses that
	// have none, cut at a declared Content-Length.
	Body []byte
	// Err is the failure a server would have reported instead of passing
	// the response off as complete, nil for a correct one: the error of
	// [gateway.Exchange.Serve]. When it happened before anything went
	// out, the response is the 500 a server sends instead; otherwise it
	// is what went out up to the failure.
	Err error
}

// Serve runs app on env in process, as a server would, and returns the
// response. env's context is cancelled once the response is done, as a
// server's is. A body longer than its Content-Length, or a body for a
// status that has none, is reported on env's gateway.errors, where a server
// logs it.
//
// A panic in the application or its Body is passed on, after the Body has
// been closed, so that a test sees it as it would see one from a function
// it called; its stack goes to gateway.errors first. A server would have
// answered it with a 500 or an abort.
func Serve(app gateway.Application, env *gateway.Environ) *Response {
	ctx, cancel := context.WithCancel(env.Context())
	env.SetContext(ctx)
	defer cancel()
	w := &wire{env: env}
	w.Bind(w)
	err := w.Serve(app, env)
	if pe, ok := err.(*gateway.PanicError); ok {
		// The stack where it panicked, which the panic passed on no longer
		// shows, goes where a server would have logged it.
		w.Logf("panic: %v\n%s", pe.Value, pe.Stack)
		panic(pe.Value)
	}
	if err == http.ErrAbortHandler {
		panic(err)
	}
	if err != nil {
		w.SendInternalError()
	}
	return &Response{Status: w.status, Code: w.code, Header: w.header, Body: w.body.Bytes(), Err: err}
}

// wire keeps a response in memory.
type wire struct {
	gateway.Exchange
	env    *gateway.Environ
	status string
	code   int
	header gateway.Headers
	body   bytes.Buffer
}

// WriteHeader records the status and a copy of the header fields. It adds
// no Content-Length, not even the one a server gives a HEAD response of
// known length: the fields are the application's.
func (w *wire) WriteHeader(status string, code int, headers gateway.Headers, _ int64) {
	w.status, w.code, w.header = status, code, headers.Clone()
}

// WriteBody keeps p, except for HEAD, whose body a server does not send.
func (w *wire) WriteBody(p []byte) (int, error) {
	if w.env.Method == http.MethodHead {
		return len(p), nil
	}
	return w.body.Write(p)
}

// Flush has nothing to send.
func (w *wire) Flush() error { return nil }

// ReaderFrom is nil: a file body is copied through WriteBody.
func (w *wire) ReaderFrom() io.ReaderFrom { return nil }

// KnownLength adds no Content-Length: the response is the application's.
func (w *wire) KnownLength(gateway.Body, bool) int64 { return -1 }

// Finish has nothing to complete.
func (w *wire) Finish() error { return nil }

// Logf writes to gateway.errors, as a server writes to its log.
func (w *wire) Logf(format string, args ...any) {
	if w.env.Errors != nil {
		fmt.Fprintf(w.env.Errors, "gatewaytest: %s %s: %s\n", w.env.Method, w.env.RequestURI, fmt.Sprintf(format, args...))
	}
}

// NewEnviron returns the environ of a request for target, as a server
// would build it: method (GET when empty), target a path with an optional
// query ("/search?q=go") or an absolute URL, which sets the scheme, host and
// port. The request comes from 127.0.0.1 to example.com over HTTP/1.1,
// body is its body (nil for none; a *bytes.Reader, *bytes.Buffer or
// *strings.Reader sets CONTENT_LENGTH), gateway.errors discards, and the
// context is context.Background(). NewEnviron panics on a target it cannot
// parse: that is a mistake in the test.
func NewEnviron(method, target string, body io.Reader) *gateway.Environ {
	if method == "" {
		method = http.MethodGet
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		panic(fmt.Sprintf("gatewaytest: NewEnviron: bad target %q: %v", target, err))
	}
	env := &gateway.Environ{
		Method: method, PathInfo: u.Path, QueryString: u.RawQuery, RequestURI: u.RequestURI(),
		ServerName: "example.com", ServerPort: "80", ServerProtocol: "HTTP/1.1",
		RemoteAddr: "127.0.0.1", RemotePort: "1234", Host: "example.com", URLScheme: "http",
		Header: make(http.Header), Input: http.NoBody, Errors: io.Discard,
	}
	if u.Host != "" {
		env.URLScheme, env.Host, env.ServerName = u.Scheme, u.Host, u.Hostname()
		if env.ServerPort = u.Port(); env.ServerPort == "" {
			env.ServerPort = hostport.DefaultPort(u.Scheme)
		}
	}
	if body != nil {
		env.Input = body
		if n, ok := knownSize(body); ok {
			env.ContentLength = strconv.FormatInt(n, 10)
		}
	}
	env.SetContext(context.Background())
	return env
}

// knownSize is the length of the bodies whose size is known up front, as
// http.NewRequest finds it.
func knownSize(body io.Reader) (int64, bool) {
	switch b := body.(type) {
	case *bytes.Buffer:
		return int64(b.Len()), true
	case *bytes.Reader:
		return int64(b.Len()), true
	case *strings.Reader:
		return int64(b.Len()), true
	}
	return 0, false
}
