package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
)

// These tests run gateway.Handler behind a net/http middleware that puts
// fields in the header map before it calls the handler, on a real server.
// The application's headers must be to that map what a plain http.Handler's
// w.Header().Set would be: a name the application sends replaces the
// middleware's fields of that name, its own repeated fields stay repeated
// and in order, Set-Cookie adds to the middleware's, and the fields it does
// not send are left alone.

// hBehind serves app behind a middleware that calls set on the header map,
// then the gateway handler.
func hBehind(t *testing.T, set func(http.Header), headers gateway.Headers) string {
	t.Helper()
	app := gateway.Handler(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", headers)
		return gateway.Strings("ok")
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set(w.Header())
		app.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// hBehindGet is hBehind and one GET: the response's header.
func hBehindGet(t *testing.T, set func(http.Header), headers gateway.Headers) http.Header {
	t.Helper()
	resp, body, err := hGet(t, hBehind(t, set, headers))
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "ok", string(body))
	return resp.Header
}

func TestHandlerBehindMiddlewareCORSOriginReplaced(t *testing.T) {
	got := hBehindGet(t, func(h http.Header) {
		h.Set("Access-Control-Allow-Origin", "*")
	}, gateway.Headers{
		{Name: "Content-Type", Value: "text/plain"},
		{Name: "Access-Control-Allow-Origin", Value: "https://app.example"},
	})
	assert.Equal(t, []string{"https://app.example"}, got.Values("Access-Control-Allow-Origin"))
}

func TestHandlerBehindMiddlewareContentTypeReplaced(t *testing.T) {
	got := hBehindGet(t, func(h http.Header) {
		h.Set("Content-Type", "application/json")
	}, gateway.Headers{{Name: "content-type", Value: "text/html; charset=utf-8"}})
	assert.Equal(t, []string{"text/html; charset=utf-8"}, got.Values("Content-Type"))
}

func TestHandlerBehindMiddlewareSetCookieAdded(t *testing.T) {
	got := hBehindGet(t, func(h http.Header) {
		h.Add("Set-Cookie", "session=mw")
	}, gateway.Headers{
		{Name: "Set-Cookie", Value: "a=1"},
		{Name: "Content-Type", Value: "text/plain"},
		{Name: "set-cookie", Value: "b=2"},
	})
	assert.Equal(t, []string{"session=mw", "a=1", "b=2"}, got.Values("Set-Cookie"))
}

func TestHandlerBehindMiddlewareRepeatedVaryKept(t *testing.T) {
	got := hBehindGet(t, func(h http.Header) {
		h.Set("Vary", "Origin")
	}, gateway.Headers{
		{Name: "Vary", Value: "Accept-Encoding"},
		{Name: "Content-Type", Value: "text/plain"},
		{Name: "vary", Value: "Cookie"},
	})
	assert.Equal(t, []string{"Accept-Encoding", "Cookie"}, got.Values("Vary"))
}

func TestHandlerBehindMiddlewareUntouchedFieldKept(t *testing.T) {
	got := hBehindGet(t, func(h http.Header) {
		h.Set("X-Request-Id", "42")
		h.Add("X-Frame-Options", "DENY")
		h.Add("X-Frame-Options", "SAMEORIGIN")
		h.Set("Content-Type", "application/json")
	}, gateway.Headers{{Name: "Access-Control-Allow-Origin", Value: "*"}})
	assert.Equal(t, []string{"42"}, got.Values("X-Request-Id"))
	assert.Equal(t, []string{"DENY", "SAMEORIGIN"}, got.Values("X-Frame-Options"))
	assert.Equal(t, []string{"application/json"}, got.Values("Content-Type"),
		"an application without a Content-Type leaves the middleware's")
	assert.Equal(t, []string{"*"}, got.Values("Access-Control-Allow-Origin"))
}

// BenchmarkHandlerBehindMiddleware is gateway-static of BenchmarkHandler
// with a header map that holds a middleware's field before the response:
// the path that replaces fields instead of only adding them.
func BenchmarkHandlerBehindMiddleware(b *testing.B) {
	h := gateway.Handler(gateway.AppFunc(hGatewayHelloStatic))
	r := hBenchRequest()
	w := &hDiscardWriter{header: make(http.Header)}
	mw := []string{"*"}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		w.header["Access-Control-Allow-Origin"] = mw
		h.ServeHTTP(w, r)
	}
	if w.n != len(hBenchBody) || w.header.Get("Content-Type") != "text/plain" {
		b.Fatalf("wrong response: %d bytes, header %v", w.n, w.header)
	}
}
