package vial

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway/middleware"
	"github.com/vial-go/vial/internal/testutil"
)

// served is an App served by ServeContext on a loopback listener.
type served struct {
	base   string // http://127.0.0.1:port
	logs   *testutil.SyncBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when ServeContext has returned err
	err    error
}

// serveInProcess serves app with opts (and a JSON logger, a listener on a
// free loopback port) until stop or the end of the test.
func serveInProcess(t *testing.T, app *App, opts ...ServeOption) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &served{base: "http://" + ln.Addr().String(), logs: new(testutil.SyncBuffer), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	opts = append([]ServeOption{Listener(ln), ServeLogger(slog.New(slog.NewJSONHandler(s.logs, nil)))}, opts...)
	go func() { s.err = app.ServeContext(ctx, "", opts...); close(s.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(testutil.Timeout):
		}
	})
	return s
}

// stop begins the drain and returns what ServeContext returned.
func (s *served) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	return s.wait(t)
}

// wait returns what ServeContext returned.
func (s *served) wait(t *testing.T) error {
	t.Helper()
	testutil.Wait(t, s.done, "ServeContext to return")
	return s.err
}

// freshClient opens a connection for every request, so that each one
// shows whether the listener still accepts.
func freshClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: testutil.Timeout}
}

func TestServeContextServesTheAppWithItsMiddleware(t *testing.T) {
	app := New("prod")
	app.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Middleware", "yes")
			next.ServeHTTP(w, r)
		})
	})
	app.Get("/", func(r *Request) any { return "hello" })
	s := serveInProcess(t, app)
	resp, body := testutil.Fetch(t, freshClient(), "GET", s.base+"/?q=1", nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "hello", body)
	assert.Equal(t, "yes", resp.Header.Get("X-Middleware"))
	require.NoError(t, s.stop(t), "a clean drain returns nil")
	// The access log is on by default, with the dev server's record.
	assert.Regexp(t, `"msg":"127\.0\.0\.1 - - \[[^\]]+\] \\"GET /\?q=1 HTTP/1\.1\\" 200 -","remote_addr":"127\.0\.0\.1","method":"GET","uri":"/\?q=1","proto":"HTTP/1\.1","status":200,"bytes":5`, s.logs.String())
	assert.Contains(t, s.logs.String(), `"duration":`)
	assert.Contains(t, s.logs.String(), `,"endpoint":"/"}`, "the record names the endpoint")
	assert.Contains(t, s.logs.String(), `"msg":"vial: serving"`)
	assert.Contains(t, s.logs.String(), `"msg":"vial: drained"`)
}

func TestServeLogRequestsOff(t *testing.T) {
	app := New("prod")
	app.Get("/", func(r *Request) any { return "hello" })
	s := serveInProcess(t, app, LogRequests(false))
	testutil.Fetch(t, freshClient(), "GET", s.base+"/", nil)
	require.NoError(t, s.stop(t))
	assert.NotContains(t, s.logs.String(), `"status"`)
	assert.Contains(t, s.logs.String(), `"msg":"vial: serving"`)
}

// The readiness endpoint answers before the App (no hook, no access log)
// and turns 503 when the drain begins, while the App still serves during
// the drain delay.
func TestServeReadinessFailsFirst(t *testing.T) {
	app := New("prod")
	hooks := 0
	app.BeforeRequest(func(r *Request) any { hooks++; return nil })
	app.Get("/", func(r *Request) any { return "hello" })
	s := serveInProcess(t, app, Readiness("/readyz"), DrainDelay(2*time.Second))
	c := freshClient()
	resp, body := testutil.Fetch(t, c, "GET", s.base+"/readyz", nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "ok", body)
	assert.Equal(t, 0, hooks, "the probe costs the App nothing")
	assert.NotContains(t, s.logs.String(), "/readyz", "nor the access log")

	s.cancel()
	require.Eventually(t, func() bool {
		resp, _ := testutil.Fetch(t, c, "GET", s.base+"/readyz", nil)
		return resp.StatusCode == 503
	}, testutil.Timeout, 10*time.Millisecond)
	resp, body = testutil.Fetch(t, &http.Client{Transport: &http.Transport{}}, "GET", s.base+"/", nil)
	assert.Equal(t, "hello", body, "the App serves during the drain delay")
	assert.True(t, resp.Close, "keep-alives are off once draining")
	assert.NoError(t, s.wait(t))
}

func TestServeTrustProxies(t *testing.T) {
	for _, trust := range []bool{false, true} {
		app := New("prod")
		seenByMiddleware := make(chan string, 1)
		app.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seenByMiddleware <- r.RemoteAddr
				next.ServeHTTP(w, r)
			})
		})
		app.Get("/", func(r *Request) any { return r.RemoteAddr + " " + r.Scheme() + " " + r.Host() })
		var opts []ServeOption
		if trust {
			opts = append(opts, TrustProxies(middleware.ProxyFixOptions{For: 1, Proto: 1, Host: 1}))
		}
		s := serveInProcess(t, app, opts...)
		_, body := testutil.Fetch(t, freshClient(), "GET", s.base+"/", nil,
			"X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "shop.test")
		via := testutil.Wait(t, seenByMiddleware, "the middleware")
		require.NoError(t, s.stop(t))
		assert.Contains(t, s.logs.String(), `"endpoint":"/"`, "the App's note crosses the bridges")
		if trust {
			assert.Equal(t, "203.0.113.7 https shop.test", body)
			assert.True(t, strings.HasPrefix(via, "203.0.113.7"), via)
			assert.Contains(t, s.logs.String(), `"remote_addr":"203.0.113.7"`)
		} else {
			assert.Equal(t, "127.0.0.1 http "+strings.TrimPrefix(s.base, "http://"), body, "X-Forwarded-* are not trusted")
			assert.True(t, strings.HasPrefix(via, "127.0.0.1:"), via)
			assert.Contains(t, s.logs.String(), `"remote_addr":"127.0.0.1"`)
		}
	}
}

// With TRUSTED_HOSTS and TrustProxies, the host checked is the one the
// proxy forwarded.
func TestServeTrustedHostsBehindAProxy(t *testing.T) {
	app := New("prod")
	app.Config["TRUSTED_HOSTS"] = []string{"shop.test"}
	app.Get("/", func(r *Request) any { return "ok" })
	s := serveInProcess(t, app, TrustProxies(middleware.ProxyFixOptions{Host: 1}))
	resp, _ := testutil.Fetch(t, freshClient(), "GET", s.base+"/", nil, "X-Forwarded-Host", "shop.test")
	assert.Equal(t, 200, resp.StatusCode)
	resp, _ = testutil.Fetch(t, freshClient(), "GET", s.base+"/", nil, "X-Forwarded-Host", "evil.test")
	assert.Equal(t, 400, resp.StatusCode)
}

func TestServeDebugWarnsAndRunsNoDebugger(t *testing.T) {
	app := New("prod")
	app.Config["DEBUG"] = true
	app.Get("/boom", func(r *Request) any { panic("boom") })
	s := serveInProcess(t, app, LogRequests(false))
	resp, body := testutil.Fetch(t, freshClient(), "GET", s.base+"/boom", nil)
	require.NoError(t, s.stop(t))
	assert.Equal(t, 500, resp.StatusCode)
	assert.NotContains(t, strings.ToLower(body), "traceback")
	assert.NotContains(t, strings.ToLower(body), "debugger")
	assert.Contains(t, s.logs.String(), `"level":"WARN","msg":"vial: Config[\"DEBUG\"] is true, but Serve runs no debugger`)
	assert.Contains(t, s.logs.String(), "panic: boom", "the panic that escaped the App is logged to the server's logger")
}

// The defaults are net/http's server fields, as documented.
func TestServeDefaults(t *testing.T) {
	srv := newServeConfig(nil).httpServer(http.NotFoundHandler(), slog.Default())
	assert.Equal(t, 10*time.Second, srv.ReadHeaderTimeout)
	assert.Equal(t, 60*time.Second, srv.ReadTimeout)
	assert.Equal(t, 60*time.Second, srv.WriteTimeout)
	assert.Equal(t, 120*time.Second, srv.IdleTimeout)
	assert.Equal(t, 1<<20, srv.MaxHeaderBytes)
	c := newServeConfig(nil)
	assert.Equal(t, 20*time.Second, c.shutdownTimeout)
	assert.True(t, c.logRequests)
	assert.Equal(t, time.Duration(0), c.drainDelayOrDefault())
	assert.Equal(t, 5*time.Second, newServeConfig([]ServeOption{Readiness("/readyz")}).drainDelayOrDefault())

	srv = newServeConfig([]ServeOption{ReadHeaderTimeout(1), ReadTimeout(2), WriteTimeout(3), IdleTimeout(4), MaxHeaderBytes(5),
		HTTPServer(func(s *http.Server) { s.ReadTimeout = 6 })}).httpServer(http.NotFoundHandler(), slog.Default())
	assert.Equal(t, []time.Duration{1, 6, 3, 4}, []time.Duration{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout})
	assert.Equal(t, 5, srv.MaxHeaderBytes)
}

func TestServeReadHeaderTimeoutCutsASlowClient(t *testing.T) {
	s := serveInProcess(t, New("prod"), ReadHeaderTimeout(200*time.Millisecond))
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n") // never finished
	require.NoError(t, err)
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(testutil.Timeout))
	_, err = io.ReadAll(conn)
	require.NoError(t, err, "the server closed the connection before the test's deadline")
	assert.Less(t, time.Since(start), 5*time.Second)
}

// WriteTimeout cuts a response streamed for longer, as documented.
func TestServeWriteTimeoutCutsALongStream(t *testing.T) {
	app := New("prod")
	app.Get("/stream", func(r *Request) any {
		return func(yield func(string) bool) {
			for i := 0; i < 40 && yield("tick\n"); i++ {
				time.Sleep(25 * time.Millisecond)
			}
		}
	})
	s := serveInProcess(t, app, WriteTimeout(200*time.Millisecond), LogRequests(false))
	resp, err := freshClient().Get(s.base + "/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	assert.Error(t, err, "the stream is cut")
	assert.Less(t, strings.Count(string(data), "tick"), 40)
}

func TestServeTLSFiles(t *testing.T) {
	certFile, keyFile := writeTestCert(t)
	app := New("prod")
	app.Get("/", func(r *Request) any { return r.Scheme() })
	s := serveInProcess(t, app, TLSFiles(certFile, keyFile))
	c := &http.Client{Timeout: testutil.Timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, body := testutil.Fetch(t, c, "GET", strings.Replace(s.base, "http:", "https:", 1)+"/", nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "https", body)
	assert.Contains(t, s.logs.String(), `"tls":true`)
}

func TestServeReturnsAServingErrorAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = New("prod").ServeContext(context.Background(), "", Listener(ln), LogRequests(false),
		ServeLogger(slog.New(slog.DiscardHandler)), TLSFiles("/nonexistent/cert.pem", "/nonexistent/key.pem"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/cert.pem")
	// net/http's ServeTLS returns a certificate error without closing the
	// listener: Serve must, or the port stays bound.
	assert.ErrorIs(t, ln.Close(), net.ErrClosed, "Serve closed the listener")
}

// A Listener that Serve cannot use is still closed, as documented.
func TestServeClosesAListenerItRefuses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = New("prod").ServeContext(context.Background(), "", Listener(ln), ReusePort(true))
	require.Error(t, err)
	assert.ErrorIs(t, ln.Close(), net.ErrClosed, "Serve closed the listener")
}

// writeTestCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeTestCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

func TestServeAddrDefaults(t *testing.T) {
	t.Setenv("PORT", "")
	assert.Equal(t, "127.0.0.1:8000", serveAddr(""))
	t.Setenv("PORT", "9123")
	assert.Equal(t, ":9123", serveAddr(""))
	assert.Equal(t, "10.0.0.1:80", serveAddr("10.0.0.1:80"))
}

// SO_REUSEPORT: with it, two sockets bind one port (and both serve);
// without it, the second bind fails.
func TestServeReusePort(t *testing.T) {
	if reusePortControl == nil {
		t.Skip("no SO_REUSEPORT on this system")
	}
	addr := "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	reuse := &serveConfig{reusePort: true}
	first, err := reuse.listen(context.Background(), addr)
	require.NoError(t, err)
	defer first.Close()
	second, err := reuse.listen(context.Background(), addr)
	require.NoError(t, err, "a second socket binds the port with ReusePort")
	second.Close()

	_, err = (&serveConfig{}).listen(context.Background(), addr)
	require.Error(t, err, "without ReusePort the port is taken")
	assert.ErrorIs(t, err, syscall.EADDRINUSE)

	// Two Serves on one port, each answering.
	app := New("prod")
	app.Get("/", func(r *Request) any { return "hello" })
	first.Close()
	done := make(chan error, 2)
	ctx, cancel := context.WithCancel(context.Background())
	for range 2 {
		go func() {
			done <- app.ServeContext(ctx, addr, ReusePort(true), LogRequests(false), ServeLogger(slog.New(slog.DiscardHandler)))
		}()
	}
	require.Eventually(t, func() bool {
		resp, err := freshClient().Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}, testutil.Timeout, 10*time.Millisecond)
	cancel()
	assert.NoError(t, testutil.Wait(t, done, "the first Serve"))
	assert.NoError(t, testutil.Wait(t, done, "the second Serve"), "both bound the port")
}

func TestServeReusePortWithAListenerIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = New("prod").ServeContext(context.Background(), "", Listener(ln), ReusePort(true))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ReusePort")
}

// program is the test program of testdata/serve, running.
type program struct {
	addr   string
	out    *testutil.SyncBuffer
	cmd    *exec.Cmd
	exited chan error
}

func startProgram(t *testing.T, args ...string) *program {
	t.Helper()
	exe := testutil.Build(t, "./testdata/serve")
	port := testutil.FreePort(t)
	p := &program{addr: "127.0.0.1:" + strconv.Itoa(port), out: new(testutil.SyncBuffer), exited: make(chan error, 1)}
	p.cmd = exec.Command(exe, append(args, "--port", strconv.Itoa(port))...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", p.addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "the program listens; output:\n%s", p.out)
	return p
}

func (p *program) waitOutput(t *testing.T, s string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(p.out.String(), s) }, testutil.Timeout, 10*time.Millisecond, "%q in:\n%s", s, p.out)
}

// SIGTERM drains a real process: the readiness endpoint turns 503 while
// the listener still accepts, then new connections are refused, the slow
// request in flight completes, and the process exits 0 in time.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	p := startProgram(t, "--drain-delay", "2s", "--shutdown-timeout", "5s")
	c := freshClient()
	resp, body := testutil.Fetch(t, c, "GET", "http://"+p.addr+"/readyz", nil)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "ok", body)

	slow := make(chan string, 1)
	go func() {
		resp, err := c.Get("http://" + p.addr + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		slow <- strconv.Itoa(resp.StatusCode) + " " + string(data)
	}()
	p.waitOutput(t, "slow: started")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	start := time.Now()

	var saw503, refused bool
	for deadline := time.Now().Add(testutil.Timeout); time.Now().Before(deadline) && !refused; time.Sleep(20 * time.Millisecond) {
		resp, err := c.Get("http://" + p.addr + "/readyz")
		switch {
		case err == nil:
			resp.Body.Close()
			saw503 = saw503 || resp.StatusCode == 503
		case errors.Is(err, syscall.ECONNREFUSED):
			refused = true
		}
	}
	assert.True(t, saw503, "readiness answered 503 before the listener closed")
	assert.True(t, refused, "new connections are refused once drained")
	assert.Equal(t, "200 slow: done", testutil.Wait(t, slow, "the slow request"), "the request in flight completes")
	select {
	case err := <-p.exited:
		assert.NoError(t, err, "exit status 0; output:\n%s", p.out)
	case <-time.After(testutil.Timeout):
		t.Fatalf("no exit after SIGTERM; output:\n%s", p.out)
	}
	assert.Less(t, time.Since(start), 10*time.Second, "the drain delay, then the request's own time")
	assert.Contains(t, p.out.String(), "teardown: /slow")
	assert.Contains(t, p.out.String(), "serve: exited cleanly")
}

// A stream still running at the shutdown deadline has its connection
// closed; its request is still torn down (the body closed) before the
// process exits, and Serve reports the deadline.
func TestServeClosesWhatOutlivesTheShutdownTimeout(t *testing.T) {
	p := startProgram(t, "--shutdown-timeout", "300ms")
	resp, err := freshClient().Get("http://" + p.addr + "/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "tick\n", line)

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	start := time.Now()
	select {
	case err := <-p.exited:
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "output:\n%s", p.out)
		assert.Equal(t, 1, exit.ExitCode())
	case <-time.After(testutil.Timeout):
		t.Fatalf("no exit after SIGTERM; output:\n%s", p.out)
	}
	assert.Less(t, time.Since(start), 6*time.Second, "the deadline and the second the handlers get, not the stream's end")
	assert.Contains(t, p.out.String(), "teardown: /stream")
	assert.Contains(t, p.out.String(), "shutdown timeout")
	_, err = io.ReadAll(resp.Body)
	assert.Error(t, err, "the stream was cut")
}
