package serving

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/validate"
)

const dbgBrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// dbgDebugServer serves app through the debugger on an httptest server; the
// returned buffer collects the server's log (gateway.errors).
func dbgDebugServer(t *testing.T, app gateway.Application, allowRemote bool) (*httptest.Server, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	srv := httptest.NewServer(&gateway.HTTPHandler{
		App:      DebuggedApplication(app, allowRemote),
		ErrorLog: log.New(logs, "", 0),
	})
	t.Cleanup(srv.Close)
	return srv, logs
}

// dbgBeforeRaw is the HTML page without its raw stack.
func dbgBeforeRaw(page string) string {
	if i := strings.Index(page, `<details class="raw">`); i >= 0 {
		return page[:i]
	}
	return page
}

func dbgGet(t *testing.T, url, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// dbgPanickingApp panics in ServeGateway, after calling start (the page must
// replace those headers), and stores the line it panics on.
func dbgPanickingApp(line *atomic.Int64) gateway.Application {
	return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "X-App", Value: "yes"}})
		_, _, l, _ := runtime.Caller(0)
		line.Store(int64(l + 2))
		panic("boom <script>alert(1)</script>") // debugger-test-marker: panic in ServeGateway
	})
}

func TestDebuggerPanicInServeGatewayHTML(t *testing.T) {
	var line atomic.Int64
	srv, logs := dbgDebugServer(t, dbgPanickingApp(&line), false)

	resp, body := dbgGet(t, srv.URL+"/shop/cart?id=7", dbgBrowserAccept)

	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "1", resp.Header.Get("X-Vial-Debugger"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Empty(t, resp.Header.Get("X-App"), "the page replaces the unsent headers")
	assert.Equal(t, strconv.Itoa(len(body)), resp.Header.Get("Content-Length"))

	// The error, escaped.
	assert.Contains(t, body, "boom &lt;script&gt;alert(1)&lt;/script&gt;")
	assert.NotContains(t, body, "<script")
	assert.Contains(t, body, "<h1>string</h1>")
	// The request.
	assert.Contains(t, body, "<b>GET</b>")
	assert.Contains(t, body, "/shop/cart?id=7")
	// The panicking frame: function, file:line, and its source line,
	// highlighted.
	loc := "debugger_test.go:" + strconv.Itoa(int(line.Load()))
	assert.Contains(t, body, loc)
	assert.Contains(t, body, "dbgPanickingApp.func1")
	assert.Contains(t, body, "// debugger-test-marker: panic in ServeGateway")
	assert.Regexp(t, `<span class="line cur"><span class="ln">`+strconv.Itoa(int(line.Load()))+`</span>\s*panic\(&#34;boom &lt;script&gt;`, body)
	// The application's frame comes first and unfolded; the runtime's and
	// net/http's are folded below it; the recovery's are gone.
	first := strings.Index(body, `<details class="lib"`)
	require.Positive(t, first)
	assert.Less(t, strings.Index(body, loc), first)
	assert.Greater(t, strings.Index(body, "net/http."), first)
	shown := dbgBeforeRaw(body)
	assert.NotContains(t, shown, "runtime/debug.Stack")
	assert.NotContains(t, shown, "ServeGateway.func1")
	assert.Contains(t, body, `<details class="raw">`, "the raw stack is there too, folded")

	// The server's log has the error and the stack.
	assert.Contains(t, logs.String(), "vial debugger: GET /shop/cart?id=7: string: boom <script>alert(1)</script>")
	assert.Contains(t, logs.String(), loc)
}

func TestDebuggerPanicTextPage(t *testing.T) {
	var line atomic.Int64
	srv, _ := dbgDebugServer(t, dbgPanickingApp(&line), false)

	for _, accept := range []string{"text/plain", "*/*", "", "application/json", "text/html;q=0.5, text/plain"} {
		t.Run(accept, func(t *testing.T) {
			resp, body := dbgGet(t, srv.URL+"/x", accept)
			assert.Equal(t, 500, resp.StatusCode)
			assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
			assert.Contains(t, body, "string: boom <script>alert(1)</script>")
			assert.Contains(t, body, "Request: GET http://"+srv.Listener.Addr().String()+"/x")
			n := strconv.Itoa(int(line.Load()))
			assert.Contains(t, body, "debugger_test.go:"+n)
			assert.Regexp(t, `> +`+n+` \| +panic\("boom <script>alert\(1\)</script>"\) // debugger-test-marker: panic in ServeGateway`, body)
			assert.Regexp(t, `\[std\] net/http\.`, body)
			assert.NotContains(t, body, "<html")
		})
	}
}

// dbgCountingBody counts its Close calls.
type dbgCountingBody struct {
	gateway.Body
	closes atomic.Int32
}

func (b *dbgCountingBody) Close() error {
	b.closes.Add(1)
	return b.Body.Close()
}

func TestDebuggerPanicInBodyBeforeFirstChunk(t *testing.T) {
	body := &dbgCountingBody{}
	body.Body = gateway.Stream(func(yield func([]byte) bool) {
		if !yield(nil) { // an empty chunk sends nothing
			return
		}
		panic(errors.New("stream failed")) // debugger-test-marker: panic in Chunks
	}, nil)
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "X-App", Value: "yes"}})
		return body
	})
	srv, logs := dbgDebugServer(t, app, false)

	resp, page := dbgGet(t, srv.URL+"/stream", dbgBrowserAccept)

	assert.Equal(t, 500, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("X-App"))
	assert.Contains(t, page, "<h1>*errors.errorString</h1>")
	assert.Contains(t, page, "stream failed")
	assert.Contains(t, page, "// debugger-test-marker: panic in Chunks")
	assert.Equal(t, int32(1), body.closes.Load())
	assert.Contains(t, logs.String(), "stream failed")
}

func TestDebuggerPanicAfterFirstChunkAbortsConnection(t *testing.T) {
	body := &dbgCountingBody{}
	body.Body = gateway.Stream(func(yield func([]byte) bool) {
		if !yield([]byte("first chunk\n")) {
			return
		}
		panic("too late") // debugger-test-marker: panic after the first chunk
	}, nil)
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return body
	})
	srv, logs := dbgDebugServer(t, app, false)

	req, _ := http.NewRequest("GET", srv.URL+"/late", nil)
	req.Header.Set("Accept", dbgBrowserAccept)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	got, err := io.ReadAll(resp.Body)
	assert.Error(t, err, "the response must not end as though complete")
	assert.Equal(t, "first chunk\n", string(got))
	assert.Equal(t, int32(1), body.closes.Load())
	assert.Contains(t, logs.String(), "too late")
	assert.Contains(t, logs.String(), "the connection is aborted")
}

func TestDebuggerPanicAfterWriteAbortsConnection(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		write := start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		write([]byte("written\n"))
		panic("after write")
	})
	srv, _ := dbgDebugServer(t, app, false)

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	_, err = io.ReadAll(resp.Body)
	assert.Error(t, err)
}

func TestDebuggerErrAbortHandlerPassesThrough(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic(http.ErrAbortHandler)
	})
	srv, logs := dbgDebugServer(t, app, false)
	_, err := http.Get(srv.URL)
	assert.Error(t, err)
	assert.NotContains(t, logs.String(), "vial debugger")
}

// dbgRecorder is a StartResponse that records the last call.
type dbgRecorder struct {
	calls   int
	status  string
	headers gateway.Headers
	exc     error
	written bytes.Buffer
}

func (r *dbgRecorder) start(status string, headers gateway.Headers, excInfo ...error) gateway.WriteFunc {
	r.calls++
	r.status, r.headers, r.exc = status, headers, nil
	for _, e := range excInfo {
		if e != nil {
			r.exc = e
		}
	}
	return func(p []byte) error { r.written.Write(p); return nil }
}

func dbgCollect(b gateway.Body) string {
	var buf bytes.Buffer
	b.Chunks(func(p []byte) bool { buf.Write(p); return true })
	return buf.String()
}

func dbgRemoteEnviron(addr string, errs io.Writer) *gateway.Environ {
	return &gateway.Environ{
		Method: "GET", PathInfo: "/secret", RequestURI: "/secret",
		ServerName: "example.com", ServerPort: "80", ServerProtocol: "HTTP/1.1",
		URLScheme: "http", RemoteAddr: addr, RemotePort: "51515",
		Header: http.Header{"Accept": {dbgBrowserAccept}},
		Input:  http.NoBody, Errors: errs,
	}
}

func TestDebuggerRemoteClientGetsPlain500(t *testing.T) {
	var line atomic.Int64
	var errs bytes.Buffer
	rec := &dbgRecorder{}

	body := DebuggedApplication(dbgPanickingApp(&line), false).ServeGateway(dbgRemoteEnviron("10.1.2.3", &errs), rec.start)
	page := dbgCollect(body)
	require.NoError(t, body.Close())

	assert.Equal(t, "500 Internal Server Error", rec.status)
	assert.Equal(t, "text/plain; charset=utf-8", rec.headers.Get("Content-Type"))
	assert.Equal(t, "Internal Server Error\n", page)
	assert.False(t, rec.headers.Has("X-Vial-Debugger"))
	require.Error(t, rec.exc, "start is called again with excInfo")
	assert.Equal(t, "panic: boom <script>alert(1)</script>", rec.exc.Error())
	// The error still goes to gateway.errors, with the stack.
	assert.Contains(t, errs.String(), "boom <script>")
	assert.Contains(t, errs.String(), "not a loopback address")
	assert.Contains(t, errs.String(), "debugger_test.go:"+strconv.Itoa(int(line.Load())))
}

func TestDebuggerAllowRemote(t *testing.T) {
	var line atomic.Int64
	var errs bytes.Buffer
	rec := &dbgRecorder{}

	body := DebuggedApplication(dbgPanickingApp(&line), true).ServeGateway(dbgRemoteEnviron("10.1.2.3", &errs), rec.start)
	page := dbgCollect(body)
	require.NoError(t, body.Close())

	assert.Equal(t, "500 Internal Server Error", rec.status)
	assert.Equal(t, "text/html; charset=utf-8", rec.headers.Get("Content-Type"))
	assert.Contains(t, page, "boom &lt;script&gt;")
	assert.Contains(t, page, "debugger_test.go:"+strconv.Itoa(int(line.Load())))
	assert.Contains(t, page, "http://example.com/secret")
	assert.Contains(t, page, "client 10.1.2.3")
}

func TestDebuggerLoopbackAddresses(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "[::1]": true,
		"::ffff:127.0.0.1": true, "127.0.0.1:8080": true, "[::1]:8080": true,
		"10.1.2.3": false, "192.168.0.1": false, "::2": false, "fe80::1%eth0": false,
		"": false, "@": false, "localhost": false,
	} {
		assert.Equal(t, want, isLoopback(addr), addr)
	}
}

func TestDebuggerWantsHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		dbgBrowserAccept:               true,
		"text/html":                    true,
		"application/xhtml+xml":        true,
		"TEXT/HTML; q=0.9, */*; q=0.8": true,
		"*/*":                          false,
		"":                             false,
		"text/plain":                   false,
		"text/*":                       false,
		"text/html;q=0":                false,
		"text/html;q=0.5, text/plain":  false,
		"text/plain;q=0.5, text/html":  true,
		"application/json":             false,
	} {
		assert.Equal(t, want, wantsHTML(accept), accept)
	}
}

// dbgStackErr is an error of another library that carries its stack.
type dbgStackErr struct {
	msg   string
	stack []byte
}

func (e *dbgStackErr) Error() string      { return e.msg }
func (e *dbgStackErr) StackTrace() []byte { return e.stack }

const dbgFakeStack = `goroutine 42 [running]:
runtime/debug.Stack()
	/usr/local/go/src/runtime/debug/stack.go:26 +0x5e
example.com/shop.recoverer.func1()
	/home/dev/shop/recover.go:10 +0x59
panic({0x4bc840?, 0x9bc98d3e0a8?})
	/usr/local/go/src/runtime/panic.go:860 +0x13a
example.com/shop.(*Cart).Checkout(0xc000010000, {0x1, 0x2})
	/home/dev/shop/cart.go:42 +0x18
example.com/shop.handler(...)
	/home/dev/shop/handler.go:7
created by example.com/shop.main in goroutine 1
	/home/dev/shop/main.go:3 +0x25
`

func TestDebuggerUsesTheErrorsStackTrace(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic(fmt.Errorf("checkout: %w", &dbgStackErr{msg: "card <declined>", stack: []byte(dbgFakeStack)}))
	})
	var errs bytes.Buffer
	rec := &dbgRecorder{}
	env := dbgRemoteEnviron("127.0.0.1", &errs)

	body := DebuggedApplication(app, false).ServeGateway(env, rec.start)
	page := dbgCollect(body)

	assert.Equal(t, "500 Internal Server Error", rec.status)
	assert.Contains(t, page, "<h1>*fmt.wrapError</h1>")
	assert.Contains(t, page, "checkout: card &lt;declined&gt;")
	assert.Contains(t, page, "wraps <code>*serving.dbgStackErr</code>: card &lt;declined&gt;")
	assert.Contains(t, page, `<span class="pkg">example.com/shop.</span><b>(*Cart).Checkout</b><span class="site">panic site</span>`)
	assert.Contains(t, page, "/home/dev/shop/cart.go:42")
	assert.Contains(t, page, "/home/dev/shop/handler.go:7")
	assert.Contains(t, page, `<span class="created">created by</span>`)
	assert.NotContains(t, dbgBeforeRaw(page), "recoverer.func1", "the recovery's frames are dropped")
	assert.Contains(t, page, "the stack recorded by the error")
	assert.NotContains(t, page, "debugger_test.go", "the error's stack, not the debugger's")
	assert.Contains(t, errs.String(), "example.com/shop.(*Cart).Checkout")
}

// dbgRecoverLikeVial recovers a panic as vial and the gateway servers do:
// a *gateway.PanicError, with the value and the stack where it was raised.
func dbgRecoverLikeVial(fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &gateway.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	fn()
	return nil
}

func TestDebuggerShowsAPanicErrorsValue(t *testing.T) {
	var line atomic.Int64
	err := dbgRecoverLikeVial(func() {
		_, _, l, _ := runtime.Caller(0)
		line.Store(int64(l + 2))
		panic("kaboom") // debugger-test-marker: recovered like vial
	})
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic(err) // the app re-raises what it recovered
	})
	rec := &dbgRecorder{}
	env := dbgRemoteEnviron("::1", io.Discard)
	env.Header.Set("Accept", "text/plain")

	page := dbgCollect(DebuggedApplication(app, false).ServeGateway(env, rec.start))

	assert.Same(t, err, rec.exc, "excInfo is the panic value itself when it is an error")
	assert.Contains(t, page, "string: kaboom\n")
	n := strconv.Itoa(int(line.Load()))
	assert.Contains(t, page, "debugger_test.go:"+n)
	assert.Regexp(t, `> +`+n+` \| .*debugger-test-marker: recovered like vial`, page)
	assert.NotContains(t, page, "dbgRecoverLikeVial.func1", "the recovery's frames are dropped")
}

func TestDebuggerRuntimeErrorSite(t *testing.T) {
	var line atomic.Int64
	var m map[string]int // nil, so that the app's assignment panics
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		_, _, l, _ := runtime.Caller(0)
		line.Store(int64(l + 2))
		m["x"]++ // debugger-test-marker: a runtime error
		return gateway.NoBody
	})
	rec := &dbgRecorder{}
	env := dbgRemoteEnviron("127.0.0.1", io.Discard)
	env.Header.Set("Accept", "text/plain")

	page := dbgCollect(DebuggedApplication(app, false).ServeGateway(env, rec.start))

	assert.Contains(t, page, "assignment to entry in nil map")
	frames := page[strings.Index(page, "Frames marked"):]
	// The first frame shown is the application's line, not the runtime's.
	assert.Regexp(t, `^Frames marked[^\n]*\n\n {6}github.com/vial-go/vial/serving\.TestDebuggerRuntimeErrorSite\.func1   <- panic site\n\s+\S*debugger_test.go:`+strconv.Itoa(int(line.Load())), frames)
}

// dbgPanickyWriterTo is a body that writes itself, and panics doing so.
type dbgPanickyWriterTo struct{ closes atomic.Int32 }

func (b *dbgPanickyWriterTo) Chunks(func([]byte) bool) { panic("not iterated") }
func (b *dbgPanickyWriterTo) Close() error             { b.closes.Add(1); return nil }
func (b *dbgPanickyWriterTo) WriteTo(io.Writer) (int64, error) {
	panic("writer-to failed")
}

func TestDebuggerPanicInWriteTo(t *testing.T) {
	body := &dbgPanickyWriterTo{}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "application/octet-stream"}})
		return body
	})
	srv, _ := dbgDebugServer(t, app, false)

	resp, page := dbgGet(t, srv.URL, "text/plain")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, page, "string: writer-to failed")
	assert.Equal(t, int32(1), body.closes.Load())
}

func TestDebuggerPassesNormalResponsesThrough(t *testing.T) {
	release := make(chan struct{})
	body := &dbgCountingBody{}
	body.Body = gateway.Stream(func(yield func([]byte) bool) {
		if !yield([]byte("one\n")) {
			return
		}
		<-release // the client has read "one": chunks are not held back
		if !yield(nil) {
			return
		}
		yield([]byte("two\n"))
	}, nil)
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("201 Created", gateway.Headers{
			{Name: "Content-Type", Value: "text/plain"},
			{Name: "Set-Cookie", Value: "a=1"},
			{Name: "Set-Cookie", Value: "b=2"},
		})
		return body
	})
	srv, logs := dbgDebugServer(t, app, false)

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
	assert.Equal(t, []string{"a=1", "b=2"}, resp.Header.Values("Set-Cookie"))
	assert.Empty(t, resp.Header.Get("X-Vial-Debugger"))
	first := make([]byte, 4)
	_, err = io.ReadFull(resp.Body, first)
	require.NoError(t, err)
	assert.Equal(t, "one\n", string(first))
	close(release)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "two\n", string(rest))
	assert.Equal(t, int32(1), body.closes.Load())
	assert.Empty(t, logs.String())
}

func TestDebuggerKeepsWriterToAndLen(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 5000)
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		if env.PathInfo == "/stream" {
			return gateway.Stream(func(yield func([]byte) bool) { yield(big) }, nil)
		}
		return gateway.OnClose(gateway.Bytes(big), func() {})
	})

	rec := &dbgRecorder{}
	b := DebuggedApplication(app, false).ServeGateway(dbgRemoteEnviron("127.0.0.1", io.Discard), rec.start)
	_, isWT := b.(io.WriterTo)
	assert.True(t, isWT, "an in-memory body still writes itself")
	assert.Equal(t, int64(5000), gateway.BodyLen(b))

	env := dbgRemoteEnviron("127.0.0.1", io.Discard)
	env.PathInfo = "/stream"
	b = DebuggedApplication(app, false).ServeGateway(env, rec.start)
	_, isWT = b.(io.WriterTo)
	assert.False(t, isWT, "a stream is still iterated chunk by chunk")
	assert.Equal(t, int64(-1), gateway.BodyLen(b))

	// Over HTTP, the in-memory body goes out with its Content-Length.
	srv, _ := dbgDebugServer(t, app, false)
	resp, got := dbgGet(t, srv.URL, "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, int64(5000), resp.ContentLength)
	assert.Equal(t, string(big), got)
}

func TestDebuggerNormalDirectCallClosesOnce(t *testing.T) {
	body := &dbgCountingBody{Body: gateway.Strings("a", "", "b")}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", nil)
		return body
	})
	rec := &dbgRecorder{}
	b := DebuggedApplication(app, false).ServeGateway(dbgRemoteEnviron("127.0.0.1", io.Discard), rec.start)
	assert.Equal(t, "ab", dbgCollect(b))
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	assert.Equal(t, int32(1), body.closes.Load())
	assert.Equal(t, 1, rec.calls)
	assert.Equal(t, "200 OK", rec.status)
}

// The Debugger keeps the application's WriterTo; a server that calls
// WriteTo or Chunks after Close must not reach the application's body,
// which may be serving another request by then.
func TestDebuggerGoesNoFurtherAfterClose(t *testing.T) {
	body := &testutil.WriterToBody{}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", nil)
		return body
	})
	rec := &dbgRecorder{}
	b := DebuggedApplication(app, false).ServeGateway(dbgRemoteEnviron("127.0.0.1", io.Discard), rec.start)
	wt, ok := b.(io.WriterTo)
	require.True(t, ok)
	require.NoError(t, b.Close())
	n, err := wt.WriteTo(io.Discard)
	assert.Zero(t, n)
	assert.Error(t, err)
	b.Chunks(func([]byte) bool { return true })
	assert.Zero(t, body.Calls, "the closed body was asked for its content")
}

func TestDebuggerParseStack(t *testing.T) {
	text := dbgFakeStack + "...additional frames elided...\n\ngoroutine 7 [chan receive]:\nmain.other()\n\t/x.go:1 +0x1\n"
	frames, elided := parseStack([]byte(text))
	assert.True(t, elided)
	require.Len(t, frames, 6)
	assert.Equal(t, frame{Func: "example.com/shop.(*Cart).Checkout", File: "/home/dev/shop/cart.go", Line: 42}, frames[3])
	assert.Equal(t, frame{Func: "example.com/shop.handler", File: "/home/dev/shop/handler.go", Line: 7}, frames[4])
	assert.Equal(t, frame{Func: "example.com/shop.main", File: "/home/dev/shop/main.go", Line: 3, CreatedBy: true}, frames[5])
	assert.Equal(t, "panic", frames[2].Func)

	pkg, name := frames[3].Package()
	assert.Equal(t, "example.com/shop", pkg)
	assert.Equal(t, "(*Cart).Checkout", name)

	trimmed, focus := trimRecovery(frames)
	require.Len(t, trimmed, 3)
	assert.Equal(t, 0, focus)
	assert.Equal(t, "example.com/shop.(*Cart).Checkout", trimmed[0].Func)

}

func TestDebuggerFrameKinds(t *testing.T) {
	c := classifier()
	std := frame{Func: "net/http.HandlerFunc.ServeHTTP", File: c.goroot + "net/http/server.go"}
	assert.Equal(t, frameStd, c.kind(std))
	assert.Equal(t, frameStd, c.kind(frame{Func: "panic", File: c.goroot + "runtime/panic.go"}))
	assert.Equal(t, frameLibrary, c.kind(frame{Func: "github.com/vial-go/vial.(*App).ServeGateway", File: "/src/vial/dispatch.go"}))
	assert.Equal(t, frameLibrary, c.kind(frame{Func: "github.com/vial-go/vial/gateway.(*exchange).serve", File: "/src/vial/gateway/handler.go"}))
	assert.Equal(t, frameApp, c.kind(frame{Func: "github.com/vial-go/vial/serving.TestX", File: "/src/vial/serving/x_test.go"}))
	assert.Equal(t, frameLibrary, c.kind(frame{Func: "github.com/gorilla/mux.(*Router).ServeHTTP", File: "/root/go/pkg/mod/github.com/gorilla/mux@v1.8.1/mux.go"}))
	assert.Equal(t, frameLibrary, c.kind(frame{Func: "github.com/gorilla/mux.(*Router).ServeHTTP", File: "github.com/gorilla/mux@v1.8.1/mux.go"}))
	assert.Equal(t, frameApp, c.kind(frame{Func: "main.index", File: "/home/dev/shop/main.go"}))
	assert.Equal(t, frameApp, c.kind(frame{Func: "example.com/shop.(*Cart).Checkout", File: "/home/dev/shop/cart.go"}))
}

func TestDebuggerKeepsTheContract(t *testing.T) {
	apps := map[string]func() gateway.Application{
		"panic in ServeGateway": func() gateway.Application {
			var line atomic.Int64
			return dbgPanickingApp(&line)
		},
		"panic in Chunks": func() gateway.Application {
			return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
				return gateway.Stream(func(yield func([]byte) bool) { panic("in chunks") }, nil)
			})
		},
		"normal": func() gateway.Application {
			return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
				return gateway.Strings("a", "b")
			})
		},
	}
	for name, app := range apps {
		for _, order := range []string{"Validate(Debugger(app))", "Debugger(Validate(app))"} {
			t.Run(name+"/"+order, func(t *testing.T) {
				var mu sync.Mutex
				var violations []string
				report := func(v *validate.Violation) {
					mu.Lock()
					defer mu.Unlock()
					violations = append(violations, v.Error())
				}
				var h gateway.Application
				if order == "Validate(Debugger(app))" {
					h = validate.WrapWith(DebuggedApplication(app(), false), report)
				} else {
					h = DebuggedApplication(validate.WrapWith(app(), report), false)
				}
				srv := httptest.NewServer(&gateway.HTTPHandler{App: h, ErrorLog: log.New(io.Discard, "", 0)})
				defer srv.Close()
				resp, _ := dbgGet(t, srv.URL, "text/plain")
				if name == "normal" {
					assert.Equal(t, 200, resp.StatusCode)
				} else {
					assert.Equal(t, 500, resp.StatusCode)
				}
				mu.Lock()
				defer mu.Unlock()
				assert.Empty(t, violations)
			})
		}
	}
}

// dbgBadCloseBody panics producing its chunks, and again when closed.
type dbgBadCloseBody struct{ closes atomic.Int32 }

func (b *dbgBadCloseBody) Chunks(func([]byte) bool) { panic("chunks failed") }
func (b *dbgBadCloseBody) Close() error {
	b.closes.Add(1)
	panic("close failed too")
}

func TestDebuggerPanicInCloseAfterPanic(t *testing.T) {
	body := &dbgBadCloseBody{}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", nil)
		return body
	})
	var errs bytes.Buffer
	rec := &dbgRecorder{}
	env := dbgRemoteEnviron("127.0.0.1", &errs)
	env.Header = nil // no Accept: text

	b := DebuggedApplication(app, false).ServeGateway(env, rec.start)
	page := dbgCollect(b)
	require.NoError(t, b.Close(), "the Debugger closed the body already")

	assert.Equal(t, "500 Internal Server Error", rec.status)
	assert.Contains(t, page, "string: chunks failed")
	assert.Equal(t, int32(1), body.closes.Load())
	assert.Contains(t, errs.String(), "closing the response body after a panic: panic: close failed too")
	assert.Nil(t, gateway.BodyErr(b))
}

// A program built with -trimpath names its main module's files by module
// path; the debugger finds them in the module around the working
// directory, where the development server runs.
func TestDebuggerSourcePathUnderTrimpath(t *testing.T) {
	wd, err := os.Getwd() // the package directory, in module github.com/vial-go/vial
	require.NoError(t, err)
	got := sourcePath("github.com/vial-go/vial/serving/debugger.go")
	assert.Equal(t, filepath.Join(wd, "debugger.go"), got)
	assert.FileExists(t, got)

	abs := filepath.Join(wd, "debugger.go")
	assert.Equal(t, abs, sourcePath(abs), "an absolute path is where the file is")
	assert.Equal(t, "example.com/other/x.go", sourcePath("example.com/other/x.go"), "another module's file stays as it is")
}
