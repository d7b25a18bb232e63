package serving

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"

	"github.com/vial-go/vial/gateway"
)

// waitFor waits until out matches re, and returns the match.
func waitFor(t *testing.T, out *testutil.SyncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	require.Eventually(t, func() bool {
		m = re.FindStringSubmatch(out.String())
		return m != nil
	}, 5*time.Second, 5*time.Millisecond, "no %s in output:\n%s", re, out)
	return m
}

func helloApp(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return gateway.Strings("Hello, World!")
}

// routes is a test application dispatching on PATH_INFO; "/" and unknown
// paths have defaults.
type routes map[string]gateway.AppFunc

func (rs routes) ServeGateway(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	if app, ok := rs[env.PathInfo]; ok {
		return app(env, start)
	}
	if env.PathInfo == "/" {
		return helloApp(env, start)
	}
	start("404 Not Found", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return gateway.Strings("not found")
}

// echoApp answers with the request body, and tells what CONTENT_LENGTH was.
func echoApp(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	body, err := io.ReadAll(env.Input)
	if err != nil {
		start("400 Bad Request", nil)
		return gateway.Strings(err.Error())
	}
	start("200 OK", gateway.Headers{
		{Name: "Content-Type", Value: "application/octet-stream"},
		{Name: "X-Content-Length", Value: env.ContentLength},
	})
	return gateway.Bytes(body)
}

// startServer makes a server for app on 127.0.0.1 with a free port and
// serves it until the test ends. setup runs before serving. Output goes to
// the returned buffer unless opts sets it.
func startServer(t *testing.T, app gateway.Application, opts Options, setup ...func(*Server)) (*Server, *testutil.SyncBuffer) {
	t.Helper()
	out := new(testutil.SyncBuffer)
	if opts.Output == nil {
		opts.Output = out
	}
	s, err := MakeServer("127.0.0.1", 0, app, opts)
	require.NoError(t, err)
	for _, f := range setup {
		f(s)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		assert.NoError(t, <-done)
	})
	return s, out
}

// newClient returns a client with a transport of its own.
func newClient(t *testing.T) (*http.Client, *http.Transport) {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, tr
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// ---------------------------------------------------------------------
// The banner.

var runningOn = regexp.MustCompile(` \* Running on (https?://127\.0\.0\.1:(\d+))\n`)

func TestBannerShowsTheRealPort(t *testing.T) {
	s, out := startServer(t, gateway.AppFunc(helloApp), Options{AppName: "hello", DebugMode: true})
	s.PrintBanner()
	port := strconv.Itoa(s.Port())
	assert.NotEqual(t, "0", port)
	assert.Equal(t, " * Serving vial app 'hello'\n"+
		" * Debug mode: on\n"+
		"WARNING: This is a development server. Do not use it in a production deployment. Use a production server instead.\n"+
		" * Running on http://127.0.0.1:"+port+"\n"+
		"Press CTRL+C to quit\n", out.String())
	assert.Equal(t, "127.0.0.1:"+port, s.Addr())
	assert.Equal(t, "http://127.0.0.1:"+port, s.URL())

	c, _ := newClient(t)
	_, body := get(t, c, s.URL())
	assert.Equal(t, "Hello, World!", body)
}

func TestBannerWithoutAppName(t *testing.T) {
	s, out := startServer(t, gateway.AppFunc(helloApp), Options{})
	s.PrintBanner()
	assert.True(t, strings.HasPrefix(out.String(), " * Debug mode: off\nWARNING: "), out.String())
}

func TestBannerOnAllAddresses(t *testing.T) {
	s, err := MakeServer("0.0.0.0", 0, gateway.AppFunc(helloApp), Options{Output: io.Discard})
	require.NoError(t, err)
	defer s.Close()
	out := new(testutil.SyncBuffer)
	s.out = out
	s.PrintBanner()
	port := strconv.Itoa(s.Port())
	assert.Contains(t, out.String(), " * Running on all addresses (0.0.0.0)\n * Running on http://127.0.0.1:"+port+"\n")
	for _, ip := range interfaceAddrs(true, false) {
		assert.Contains(t, out.String(), " * Running on http://"+ip+":"+port+"\n")
	}
	assert.Len(t, s.URLs(), 1+len(interfaceAddrs(true, false)))
	assert.NotContains(t, out.String(), "[", "0.0.0.0 lists IPv4 addresses only")

	// Reachable on an interface address too.
	if ips := interfaceAddrs(true, false); len(ips) > 0 {
		go s.Serve()
		c, _ := newClient(t)
		_, body := get(t, c, "http://"+net.JoinHostPort(ips[0], port)+"/")
		assert.Equal(t, "Hello, World!", body)
	}
}

func TestBannerIPv6AndDebugger(t *testing.T) {
	s, err := MakeServer("::1", 0, gateway.AppFunc(helloApp), Options{Output: io.Discard, UseDebugger: true})
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer s.Close()
	out := new(testutil.SyncBuffer)
	s.out = out
	s.PrintBanner()
	port := strconv.Itoa(s.Port())
	assert.Contains(t, out.String(), " * Running on http://[::1]:"+port+"\nPress CTRL+C to quit\n * Debugger is active!\n")
	assert.Equal(t, " * Debugger is active!\n", s.childLines())
	go s.Serve()
	c, _ := newClient(t)
	_, body := get(t, c, "http://[::1]:"+port+"/")
	assert.Equal(t, "Hello, World!", body)
}

func TestBannerColours(t *testing.T) {
	var b bytes.Buffer
	writeBanner(&b, true, bannerInfo{debugMode: true, host: "127.0.0.1", urls: []string{"http://127.0.0.1:5000"}})
	assert.Contains(t, b.String(), "\x1b[31m\x1b[1mWARNING: This is a development server.")
	assert.Contains(t, b.String(), "Use a production server instead.\x1b[0m\n")
	assert.Contains(t, b.String(), "\x1b[33mPress CTRL+C to quit\x1b[0m\n")
}

func TestRunSimpleContextServesAndStops(t *testing.T) {
	out := new(testutil.SyncBuffer)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunSimpleContext(ctx, "127.0.0.1", 0, gateway.AppFunc(helloApp), Options{AppName: "hello", Output: out})
	}()
	m := waitFor(t, out, runningOn)
	assert.NotEqual(t, "0", m[2])
	assert.True(t, strings.HasPrefix(out.String(), " * Serving vial app 'hello'\n * Debug mode: off\nWARNING: "))
	assert.Contains(t, out.String(), "Press CTRL+C to quit\n")

	c, _ := newClient(t)
	_, body := get(t, c, m[1]+"/")
	assert.Equal(t, "Hello, World!", body)
	waitFor(t, out, regexp.MustCompile(`"GET / HTTP/1.1" 200 -\n`))

	cancel()
	waitReturned(t, done, "RunSimpleContext did not return")
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = MakeServer("127.0.0.1", port, gateway.AppFunc(helloApp), Options{Output: io.Discard})
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("Port %d is in use by another program", port))
}

func TestMakeServerRefusesBadArguments(t *testing.T) {
	_, err := MakeServer("127.0.0.1", 0, nil, Options{})
	assert.Error(t, err)
	_, err = MakeServer("127.0.0.1", 70000, gateway.AppFunc(helloApp), Options{})
	assert.Error(t, err)
	_, err = MakeServer("127.0.0.1", 0, gateway.AppFunc(helloApp), Options{
		RequestHandler: func(*Server) http.Handler { return nil },
	})
	assert.Error(t, err)
}

// ---------------------------------------------------------------------
// Connections: keep-alive, HTTP/1.0, 100-continue, chunked bodies.

func TestKeepAliveReusesTheConnection(t *testing.T) {
	var accepted atomic.Int32
	s, _ := startServer(t, gateway.AppFunc(helloApp), Options{}, func(s *Server) {
		s.HTTPServer().ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				accepted.Add(1)
			}
		}
	})
	c, _ := newClient(t)
	var reused []bool
	for range 3 {
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", s.URL()+"/", nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.False(t, resp.Close)
	}
	assert.Equal(t, []bool{false, true, true}, reused)
	assert.Equal(t, int32(1), accepted.Load())
}

func TestHTTP10ClosesTheConnection(t *testing.T) {
	s, _ := startServer(t, gateway.AppFunc(helloApp), Options{})
	conn, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n")
	require.NoError(t, err)
	all, err := io.ReadAll(conn) // to EOF: the server closes the connection
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(all)), nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "HTTP/1.0", resp.Proto, "an HTTP/1.0 client gets an HTTP/1.0 response")
	assert.True(t, resp.Close, "the response must not promise keep-alive")
	assert.Equal(t, "close", resp.Header.Get("Connection"))
	assert.Equal(t, "Hello, World!", string(body))

	// HTTP/1.1 on the same kind of raw connection stays open for a second
	// request.
	conn2, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer conn2.Close()
	conn2.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn2)
	for range 2 {
		_, err = io.WriteString(conn2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		assert.False(t, resp.Close)
	}
}

func TestExpectContinueRaw(t *testing.T) {
	s, _ := startServer(t, routes{"/echo": echoApp}, Options{})
	conn, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = io.WriteString(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	// The body is held back until the server asks for it.
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
	blank, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "\r\n", blank)
	_, err = io.WriteString(conn, "hello")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "hello", string(body))
	assert.Equal(t, "5", resp.Header.Get("X-Content-Length"))
}

func TestExpectContinueCurl(t *testing.T) {
	curl := needCurl(t)
	s, _ := startServer(t, routes{"/echo": echoApp}, Options{})
	var stderr bytes.Buffer
	out, err := runCmd(curl, &stderr, "-sS", "-v", "-H", "Expect: 100-continue", "--data-binary", "hello, curl", s.URL()+"/echo")
	require.NoError(t, err, stderr.String())
	assert.Equal(t, "hello, curl", out)
	assert.Contains(t, stderr.String(), "< HTTP/1.1 100 Continue")
	assert.Contains(t, stderr.String(), "< HTTP/1.1 200 OK")
}

func TestChunkedUploadRaw(t *testing.T) {
	s, _ := startServer(t, routes{"/echo": echoApp}, Options{})
	conn, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = io.WriteString(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "hello world", string(body))
	assert.Equal(t, "", resp.Header.Get("X-Content-Length"), "CONTENT_LENGTH is empty for a chunked body")
}

func TestChunkedUploadClient(t *testing.T) {
	s, _ := startServer(t, routes{"/echo": echoApp}, Options{})
	c, _ := newClient(t)
	pr, pw := io.Pipe()
	go func() {
		for i := range 100 {
			fmt.Fprintf(pw, "line %d\n", i)
		}
		pw.Close()
	}()
	req, err := http.NewRequest("POST", s.URL()+"/echo", pr) // unknown length: chunked
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 100, strings.Count(string(body), "\n"))
	assert.True(t, strings.HasSuffix(string(body), "line 99\n"))
}

// ---------------------------------------------------------------------
// Threaded and single-threaded.

func TestSingleThreadedSerialisesRequests(t *testing.T) {
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	entered := make(chan string, 2)
	release := make(chan struct{})
	var multithread atomic.Bool
	multithread.Store(true)
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		name := env.QueryString
		multithread.Store(env.Multithread)
		record(name + " start")
		entered <- name
		if name == "a" {
			<-release
		}
		record(name + " end")
		start("200 OK", nil)
		return gateway.Strings(name)
	})
	s, _ := startServer(t, app, Options{SingleThreaded: true})
	c, _ := newClient(t)

	results := make(chan string, 2)
	fetch := func(name string) {
		resp, err := c.Get(s.URL() + "/?" + name)
		if err != nil {
			results <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		results <- string(b)
	}
	go fetch("a")
	require.Equal(t, "a", <-entered)
	go fetch("b")
	// b has reached the server and waits for its turn.
	require.Eventually(t, func() bool { return s.waiting.Load() == 1 }, 5*time.Second, time.Millisecond)
	select {
	case n := <-entered:
		t.Fatalf("%s started while a was running", n)
	default:
	}
	close(release)
	require.Equal(t, "b", <-entered)
	got := []string{<-results, <-results}
	assert.ElementsMatch(t, []string{"a", "b"}, got)
	assert.Equal(t, []string{"a start", "a end", "b start", "b end"}, events)
	assert.False(t, multithread.Load(), "gateway.multithread is false")
}

func TestThreadedOverlapsRequests(t *testing.T) {
	bEntered := make(chan struct{})
	var multithread atomic.Bool
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		multithread.Store(env.Multithread)
		switch env.QueryString {
		case "a":
			// a finishes only once b has started: they overlap.
			select {
			case <-bEntered:
			case <-time.After(5 * time.Second):
				start("500 Internal Server Error", nil)
				return gateway.Strings("b never started while a ran")
			}
		case "b":
			close(bEntered)
		}
		start("200 OK", nil)
		return gateway.Strings(env.QueryString)
	})
	s, _ := startServer(t, app, Options{})
	c, _ := newClient(t)
	results := make(chan string, 2)
	for _, name := range []string{"a", "b"} {
		go func() {
			resp, err := c.Get(s.URL() + "/?" + name)
			if err != nil {
				results <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- string(b)
		}()
	}
	assert.ElementsMatch(t, []string{"a", "b"}, []string{<-results, <-results})
	assert.True(t, multithread.Load(), "gateway.multithread is true")
}

// ---------------------------------------------------------------------
// Graceful shutdown.

func TestGracefulShutdownFinishesRequestsInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	app := routes{"/slow": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		close(entered)
		<-release
		start("200 OK", nil)
		return gateway.Strings("finished")
	}}
	out := new(testutil.SyncBuffer)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunSimpleContext(ctx, "127.0.0.1", 0, app, Options{Output: out}) }()
	m := waitFor(t, out, runningOn)
	addr := strings.TrimPrefix(m[1], "http://")

	c, _ := newClient(t)
	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := c.Get(m[1] + "/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{resp.StatusCode, string(b), err}
	}()
	<-entered
	cancel() // as SIGINT would

	// The listener closes at once: new connections are refused.
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return true
		}
		conn.Close()
		return false
	}, 5*time.Second, 5*time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("RunSimpleContext returned (%v) with a request in flight", err)
	default:
	}

	close(release)
	r := <-res
	require.NoError(t, r.err)
	assert.Equal(t, 200, r.code)
	assert.Equal(t, "finished", r.body)
	waitReturned(t, done, "RunSimpleContext did not return after the last request")
}

func TestShutdownTimeoutCutsStreamsOff(t *testing.T) {
	streaming := make(chan struct{})
	closed := make(chan struct{})
	app := routes{"/stream": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Stream(func(yield func([]byte) bool) {
			once := sync.OnceFunc(func() { close(streaming) })
			for {
				if !yield([]byte("tick\n")) {
					return
				}
				once()
				select {
				case <-env.Context().Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}, func() error { close(closed); return nil })
	}}
	out := new(testutil.SyncBuffer)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunSimpleContext(ctx, "127.0.0.1", 0, app, Options{Output: out, ShutdownTimeout: 100 * time.Millisecond})
	}()
	m := waitFor(t, out, runningOn)
	c, _ := newClient(t)
	resp, err := c.Get(m[1] + "/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	readErr := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); readErr <- err }()
	<-streaming

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, "shutdown timeout (100ms)")
	case <-time.After(5 * time.Second):
		t.Fatal("RunSimpleContext did not return")
	}
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the streaming body was not closed")
	}
	select {
	case err := <-readErr:
		assert.Error(t, err, "a stream cut off must not look complete")
	case <-time.After(5 * time.Second):
		t.Fatal("the client's stream did not end")
	}
}

// ---------------------------------------------------------------------
// Panics.

func TestPanicAnswers500AndServingGoesOn(t *testing.T) {
	app := routes{"/panic": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic("boom in the app")
	}}
	s, out := startServer(t, app, Options{})
	c, _ := newClient(t)
	resp, body := get(t, c, s.URL()+"/panic")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, "Internal Server Error\n", body)

	resp, body = get(t, c, s.URL()+"/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "Hello, World!", body)

	waitFor(t, out, regexp.MustCompile(`"GET / HTTP/1.1" 200 -\n`))
	log := out.String()
	assert.Contains(t, log, "gateway: GET /panic: boom in the app")
	assert.Contains(t, log, "goroutine ")
	assert.Contains(t, log, "serving.TestPanicAnswers500AndServingGoesOn", "the stack reaches the panicking function")
	assert.Regexp(t, `"GET /panic HTTP/1.1" 500 -\n`, log)
}

func TestPassthroughErrorsPropagatesPanics(t *testing.T) {
	app := routes{"/panic": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic("boom passed through")
	}}
	s, out := startServer(t, app, Options{PassthroughErrors: true})
	c, tr := newClient(t)
	tr.DisableKeepAlives = true
	_, err := c.Get(s.URL() + "/panic")
	require.Error(t, err, "the connection is dropped, no 500")

	resp, body := get(t, c, s.URL()+"/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "Hello, World!", body)

	waitFor(t, out, regexp.MustCompile(`http: panic serving 127\.0\.0\.1:\d+: boom passed through`))
	assert.Regexp(t, `"GET /panic HTTP/1.1" - -\n`, out.String(), "logged with no status")
}

func TestPassthroughErrorsReachAnOuterHandler(t *testing.T) {
	app := routes{"/panic": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic("caught outside")
	}}
	var caught atomic.Value
	s, _ := startServer(t, app, Options{
		PassthroughErrors: true,
		RequestHandler: func(s *Server) http.Handler {
			inner := DefaultRequestHandler(s)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer func() {
					if v := recover(); v != nil {
						caught.Store(v)
						http.Error(w, "handled outside", http.StatusTeapot)
					}
				}()
				inner.ServeHTTP(w, r)
			})
		},
	})
	c, _ := newClient(t)
	resp, body := get(t, c, s.URL()+"/panic")
	assert.Equal(t, http.StatusTeapot, resp.StatusCode)
	assert.Equal(t, "handled outside\n", body)
	assert.Equal(t, "caught outside", caught.Load())
}

func TestDebuggerAnswersPanics(t *testing.T) {
	app := routes{"/panic": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic("shown by the debugger")
	}}
	s, _ := startServer(t, app, Options{UseDebugger: true, PassthroughErrors: true})
	_, isDebugger := s.App().(*Debugger)
	assert.True(t, isDebugger, "the app is wrapped")
	c, _ := newClient(t)
	req, _ := http.NewRequest("GET", s.URL()+"/panic", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := c.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, string(body), "shown by the debugger")

	resp, got := get(t, c, s.URL()+"/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "Hello, World!", got)
}

// ---------------------------------------------------------------------
// Streaming, files, custom request handlers.

func TestStreamedChunksAreFlushed(t *testing.T) {
	next := make(chan struct{})
	app := routes{"/stream": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Stream(func(yield func([]byte) bool) {
			if !yield([]byte("first;")) {
				return
			}
			select {
			case <-next:
			case <-time.After(5 * time.Second):
			}
			yield([]byte("second"))
		}, nil)
	}}
	s, out := startServer(t, app, Options{})
	c, _ := newClient(t)
	resp, err := c.Get(s.URL() + "/stream")
	require.NoError(t, err) // the headers came before the body ended
	defer resp.Body.Close()
	first := make([]byte, len("first;"))
	got := make(chan error, 1)
	go func() { _, err := io.ReadFull(resp.Body, first); got <- err }()
	select {
	case err := <-got:
		require.NoError(t, err)
		assert.Equal(t, "first;", string(first))
	case <-time.After(4 * time.Second):
		t.Fatal("the first chunk was not flushed")
	}
	close(next)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "second", string(rest))
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	waitFor(t, out, regexp.MustCompile(`"GET /stream HTTP/1.1" 200 -\n`))
}

func TestFileBody(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB
	path := t.TempDir() + "/data.bin"
	require.NoError(t, os.WriteFile(path, content, 0o644))
	app := routes{"/file": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		f, err := os.Open(path)
		if err != nil {
			panic(err)
		}
		start("200 OK", gateway.Headers{
			{Name: "Content-Type", Value: "application/octet-stream"},
			{Name: "Content-Length", Value: strconv.Itoa(len(content))},
		})
		return gateway.File(f)
	}}
	logs := new(testutil.SyncBuffer)
	s, _ := startServer(t, app, Options{AccessLog: newJSONLogger(logs)})
	c, _ := newClient(t)
	resp, body := get(t, c, s.URL()+"/file")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, string(content), body)
	waitFor(t, logs, regexp.MustCompile(`"bytes":131072`))
}

func TestCustomRequestHandler(t *testing.T) {
	// Wrapping the default.
	s, out := startServer(t, gateway.AppFunc(helloApp), Options{
		RequestHandler: func(s *Server) http.Handler {
			def := DefaultRequestHandler(s)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Served-By", "custom")
				def.ServeHTTP(w, r)
			})
		},
	})
	c, _ := newClient(t)
	resp, body := get(t, c, s.URL()+"/wrapped")
	assert.Equal(t, "custom", resp.Header.Get("X-Served-By"))
	assert.Equal(t, "Hello, World!", body)
	waitFor(t, out, regexp.MustCompile(`"GET /wrapped HTTP/1.1" 200 -\n`))

	// Replacing it, with the pieces the server exposes.
	var seen atomic.Value
	s2, out2 := startServer(t, gateway.AppFunc(helloApp), Options{
		RequestHandler: func(s *Server) http.Handler {
			bridge := s.GatewayHandler()
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen.Store(s.App() != nil && bridge.ErrorLog == s.ErrorLog() && !bridge.SingleThreaded)
				bridge.ServeHTTP(w, r)
				s.LogRequest(r, 299, 13, time.Millisecond)
			})
		},
	})
	_, body = get(t, c, s2.URL()+"/replaced")
	assert.Equal(t, "Hello, World!", body)
	assert.Equal(t, true, seen.Load())
	waitFor(t, out2, regexp.MustCompile(`"GET /replaced HTTP/1.1" 299 -\n`))
}

func TestSingleThreadedAbortsAWaitingRequestOnClose(t *testing.T) {
	entered := make(chan struct{})
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		if env.QueryString == "block" {
			close(entered)
			<-env.Context().Done()
		}
		start("200 OK", nil)
		return gateway.NoBody
	})
	s, _ := startServer(t, app, Options{SingleThreaded: true})
	c, _ := newClient(t)
	errs := make(chan error, 2)
	go func() { _, err := c.Get(s.URL() + "/?block"); errs <- err }()
	<-entered
	go func() { _, err := c.Get(s.URL() + "/?wait"); errs <- err }()
	require.Eventually(t, func() bool { return s.waiting.Load() == 1 }, 5*time.Second, time.Millisecond)
	s.Close()
	for range 2 {
		select {
		case <-errs:
		case <-time.After(5 * time.Second):
			t.Fatal("a request outlived Close")
		}
	}
	assert.Equal(t, int32(0), s.waiting.Load())
}

// needCurl returns curl's path, or skips the test.
func needCurl(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	return path
}

// runCmd runs a command and returns its standard output.
func runCmd(name string, stderr io.Writer, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = stderr
	out, err := cmd.Output()
	return string(out), err
}

// TestServeAfterClose makes sure Serve after Close returns nil, as after
// Shutdown.
func TestServeAfterClose(t *testing.T) {
	s, err := MakeServer("127.0.0.1", 0, gateway.AppFunc(helloApp), Options{Output: io.Discard})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	err = s.Serve()
	assert.True(t, err == nil || errors.Is(err, net.ErrClosed), "%v", err)
}

// TestSignalHelper is the program run by TestRunSimpleStopsOnSIGINT.
func TestSignalHelper(t *testing.T) {
	if os.Getenv("VIAL_SERVING_SIGNAL_HELPER") != "1" {
		t.Skip("the child of TestRunSimpleStopsOnSIGINT")
	}
	app := routes{"/slow": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		fmt.Println("slow request entered")
		time.Sleep(300 * time.Millisecond)
		start("200 OK", nil)
		return gateway.Strings("finished after the signal")
	}}
	err := RunSimple("127.0.0.1", 0, app, Options{Output: os.Stdout})
	fmt.Println("RunSimple returned:", err)
	os.Exit(0)
}

func TestRunSimpleStopsOnSIGINT(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs SIGINT")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalHelper$")
	cmd.Env = append(os.Environ(), "VIAL_SERVING_SIGNAL_HELPER=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(re *regexp.Regexp) []string {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "the child's output ended before %s", re)
				if m := re.FindStringSubmatch(l); m != nil {
					return m
				}
			case <-timeout:
				t.Fatalf("no %s from the child", re)
			}
		}
	}
	url := next(regexp.MustCompile(` \* Running on (http://127\.0\.0\.1:\d+)$`))[1]
	next(regexp.MustCompile(`^Press CTRL\+C to quit$`))

	c, _ := newClient(t)
	res := make(chan string, 1)
	go func() {
		resp, err := c.Get(url + "/slow")
		if err != nil {
			res <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- resp.Status + ": " + string(b)
	}()
	next(regexp.MustCompile(`^slow request entered$`))
	require.NoError(t, cmd.Process.Signal(os.Interrupt))

	assert.Equal(t, "200 OK: finished after the signal", <-res)
	next(regexp.MustCompile(`^RunSimple returned: <nil>$`))
	require.NoError(t, cmd.Wait())
	_, err = net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	assert.Error(t, err, "the port is released")
}

// waitReturned expects a nil error on done within 5s, failing with msg
// otherwise.
func waitReturned(t *testing.T, done <-chan error, msg string) {
	t.Helper()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal(msg)
	}
}
