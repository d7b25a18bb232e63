package gatewaytest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/gatewaytest"
)

var text = gateway.Headers{{Name: "Content-Type", Value: "text/plain"}}

// closeCount is a body whose Close the tests count.
type closeCount struct {
	gateway.Body
	closed int
}

func (b *closeCount) Close() error { b.closed++; return b.Body.Close() }

func ExampleServe() {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Strings("Hello, ", env.QueryString)
	})
	resp := gatewaytest.Serve(app, gatewaytest.NewEnviron("GET", "/hello?go", nil))
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), string(resp.Body), resp.Err)
	// Output: 200 OK text/plain Hello, go <nil>
}

func TestServeRecordsWhatWasSent(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("201 Created", append(text.Clone(), gateway.Header{Name: "Set-Cookie", Value: "a=1"}, gateway.Header{Name: "Set-Cookie", Value: "b=2"}))
		return gateway.Strings("one, ", "two")
	})
	resp := gatewaytest.Serve(app, gatewaytest.NewEnviron("POST", "/x", strings.NewReader("data")))
	require.NoError(t, resp.Err)
	assert.Equal(t, 201, resp.Code)
	assert.Equal(t, "201 Created", resp.Status)
	assert.Equal(t, []string{"a=1", "b=2"}, resp.Header.Values("Set-Cookie"), "repeated fields kept, in order")
	assert.False(t, resp.Header.Has("Content-Length"), "the server adds no header")
	assert.Equal(t, "one, two", string(resp.Body))
}

// The fields are the application's, for HEAD too: a server adds the
// Content-Length the GET would have had, the in-process wire does not.
func TestServeAddsNoHeaderForHead(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", text)
		return gateway.Bytes([]byte("hello"))
	})
	for _, method := range []string{"GET", "HEAD"} {
		resp := gatewaytest.Serve(app, gatewaytest.NewEnviron(method, "/", nil))
		require.NoError(t, resp.Err, method)
		assert.Equal(t, text, resp.Header, method)
	}
}

func TestServeDropsTheBodyOfA204AndLogsIt(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("204 No Content", nil)
		return gateway.Strings("not sent")
	})
	env := gatewaytest.NewEnviron("DELETE", "/item", nil)
	var log bytes.Buffer
	env.Errors = &log
	resp := gatewaytest.Serve(app, env)
	require.NoError(t, resp.Err)
	assert.Equal(t, 204, resp.Code)
	assert.Empty(t, resp.Body)
	assert.Contains(t, log.String(), "a 204 response has no body; 8 bytes were not sent")
}

func TestServePassesAnAbortOn(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic(http.ErrAbortHandler)
	})
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		gatewaytest.Serve(app, gatewaytest.NewEnviron("GET", "/", nil))
	})
}

func TestServeHeadSendsNoBodyAndRunsNoStartedStream(t *testing.T) {
	ran := 0
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", text)
		return gateway.Stream(func(yield func([]byte) bool) { ran++; yield([]byte("body")) }, nil)
	})
	resp := gatewaytest.Serve(app, gatewaytest.NewEnviron("HEAD", "/", nil))
	require.NoError(t, resp.Err)
	assert.Equal(t, 200, resp.Code)
	assert.Empty(t, resp.Body)
	assert.Zero(t, ran, "start was called: the stream is not run for HEAD")
}

// A response broken before anything went out becomes the server's 500,
// with the error that broke it.
func TestServeAnswersABrokenResponseWith500(t *testing.T) {
	noStart := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		return gateway.Strings("no start")
	})
	resp := gatewaytest.Serve(noStart, gatewaytest.NewEnviron("GET", "/", nil))
	assert.ErrorIs(t, resp.Err, gateway.ErrNoStart)
	assert.Equal(t, 500, resp.Code)
	assert.Equal(t, "500 Internal Server Error", resp.Status)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "Internal Server Error\n", string(resp.Body))

	short := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", append(text.Clone(), gateway.Header{Name: "Content-Length", Value: "10"}))
		return gateway.Strings("short")
	})
	resp = gatewaytest.Serve(short, gatewaytest.NewEnviron("GET", "/", nil))
	assert.ErrorIs(t, resp.Err, gateway.ErrShortBody)
	assert.Equal(t, 200, resp.Code, "the status went out with the first chunk")
	assert.Equal(t, "short", string(resp.Body))
}

func TestServeCutsALongBodyAndLogsIt(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", append(text.Clone(), gateway.Header{Name: "Content-Length", Value: "3"}))
		return gateway.Strings("abcdef")
	})
	env := gatewaytest.NewEnviron("GET", "/long", nil)
	var log bytes.Buffer
	env.Errors = &log
	resp := gatewaytest.Serve(app, env)
	require.NoError(t, resp.Err, "the response is complete at its Content-Length")
	assert.Equal(t, "abc", string(resp.Body))
	assert.Contains(t, log.String(), "GET /long: the body is longer than its Content-Length 3")
}

func TestServePassesPanicsOnAfterClose(t *testing.T) {
	body := &closeCount{Body: gateway.Stream(func(yield func([]byte) bool) {
		yield([]byte("half"))
		panic("the stream broke")
	}, nil)}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", text)
		return body
	})
	env := gatewaytest.NewEnviron("GET", "/", nil)
	var log bytes.Buffer
	env.Errors = &log
	assert.PanicsWithValue(t, "the stream broke", func() { gatewaytest.Serve(app, env) })
	assert.Equal(t, 1, body.closed)
	assert.Contains(t, log.String(), "panic: the stream broke\ngoroutine ", "the stack where it panicked is logged")
}

func TestServeCancelsTheContextWhenDone(t *testing.T) {
	var ctx context.Context
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		ctx = env.Context()
		start("200 OK", text)
		return gateway.NoBody
	})
	gatewaytest.Serve(app, gatewaytest.NewEnviron("GET", "/", nil))
	require.NotNil(t, ctx)
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
}

// A producer that stops because the request's context ended has not sent a
// complete body: the response says so.
func TestServeReportsAContextThatEndedMidBody(t *testing.T) {
	base, cancel := context.WithCancel(context.Background())
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", text)
		return gateway.Stream(func(yield func([]byte) bool) {
			yield([]byte("part 1"))
			cancel()
			<-env.Context().Done()
		}, nil)
	})
	env := gatewaytest.NewEnviron("GET", "/", nil)
	env.SetContext(base)
	resp := gatewaytest.Serve(app, env)
	var gone *gateway.ClientGoneError
	require.ErrorAs(t, resp.Err, &gone)
	assert.ErrorIs(t, gone.Cause, context.Canceled, "the cause is kept")
	assert.Equal(t, "part 1", string(resp.Body))
}

func TestNewEnviron(t *testing.T) {
	env := gatewaytest.NewEnviron("", "/a%20b?x=1", bytes.NewReader([]byte("12345")))
	assert.Equal(t, "GET", env.Method)
	assert.Equal(t, "/a b", env.PathInfo)
	assert.Equal(t, "x=1", env.QueryString)
	assert.Equal(t, "/a%20b?x=1", env.RequestURI)
	assert.Equal(t, "5", env.ContentLength)
	assert.Equal(t, "http", env.URLScheme)
	assert.Equal(t, "80", env.ServerPort)
	assert.True(t, env.HasContext())
	got, err := io.ReadAll(env.Input)
	require.NoError(t, err)
	assert.Equal(t, "12345", string(got))

	env = gatewaytest.NewEnviron("PUT", "https://shop.example/cart", io.MultiReader(strings.NewReader("x")))
	assert.Equal(t, "https", env.URLScheme)
	assert.Equal(t, "shop.example", env.Host)
	assert.Equal(t, "shop.example", env.ServerName)
	assert.Equal(t, "443", env.ServerPort)
	assert.Equal(t, "", env.ContentLength, "a reader of unknown length sets none")

	env = gatewaytest.NewEnviron("GET", "http://[::1]:8080/", nil)
	assert.Equal(t, "::1", env.ServerName)
	assert.Equal(t, "8080", env.ServerPort)
	assert.Equal(t, "[::1]:8080", env.Host)
	assert.Equal(t, "127.0.0.1", env.RemoteAddr)

	assert.Panics(t, func() { gatewaytest.NewEnviron("GET", "no-slash", nil) })
}

func TestServeKeepsTheBodysCloseError(t *testing.T) {
	failing := errors.New("close failed")
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", text)
		return gateway.Stream(func(yield func([]byte) bool) { yield([]byte("ok")) }, func() error { return failing })
	})
	resp := gatewaytest.Serve(app, gatewaytest.NewEnviron("GET", "/", nil))
	assert.ErrorIs(t, resp.Err, failing)
	assert.Equal(t, "ok", string(resp.Body))
}
