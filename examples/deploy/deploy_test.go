package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vial-go/vial/internal/testutil"
)

// TestBehindNginx runs the app on the production server (newServer, serve)
// behind nginx configured with nginx.conf, and checks through nginx, over
// http and https, what ProxyFix makes of nginx's headers.
func TestBehindNginx(t *testing.T) {
	nginx := findNginx(t)
	dir := t.TempDir()

	// The app, on the production server, on a free loopback port.
	pace := newStepper()
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, appLn, newServer(newApp(pace.wait)), 5*time.Second) }()
	t.Cleanup(func() {
		stop()
		assert.NoError(t, <-served, "a graceful shutdown")
	})

	// nginx in front, with the shipped configuration.
	cert, key, roots := selfSignedCert(t, dir)
	httpAddr, httpsAddr := freeAddr(t), freeAddr(t)
	conf := fillTemplate(t, "nginx.conf", map[string]string{
		"APP":   appLn.Addr().String(),
		"HTTP":  httpAddr,
		"HTTPS": httpsAddr,
		"CERT":  cert,
		"KEY":   key,
	})
	confFile := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(confFile, []byte(conf), 0o644))
	startNginx(t, nginx, dir, confFile, httpAddr, httpsAddr)

	// The client connects from 127.0.0.2 where it can, so that its address
	// differs from nginx's (127.0.0.1) and the test sees that the app gets
	// the client's, not its proxy's.
	clientIP := loopbackClientIP()
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:     (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(clientIP)}}).DialContext,
			TLSClientConfig: &tls.Config{RootCAs: roots},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(client.CloseIdleConnections)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	_, httpsPort, _ := net.SplitHostPort(httpsAddr)

	type view struct {
		RemoteAddr string `json:"remote_addr"`
		Scheme     string `json:"scheme"`
		Host       string `json:"host"`
		ScriptRoot string `json:"script_root"`
		URL        string `json:"url"`
		Self       string `json:"self"`
		Events     string `json:"events"`
		Proxy      struct {
			RemoteAddr string `json:"remote_addr"`
			Scheme     string `json:"scheme"`
			Host       string `json:"host"`
			ScriptRoot string `json:"script_root"`
		} `json:"proxy"`
	}
	whoami := func(t *testing.T, url string, header ...string) view {
		t.Helper()
		resp, body := testutil.Fetch(t, client, "GET", url, nil, header...)
		require.Equal(t, 200, resp.StatusCode, "%s", body)
		var v view
		require.NoError(t, json.Unmarshal([]byte(body), &v), "%s", body)
		return v
	}

	t.Run("http", func(t *testing.T) {
		host := "127.0.0.1:" + httpPort
		v := whoami(t, "http://"+host+"/app/whoami?x=1")
		assert.Equal(t, clientIP, v.RemoteAddr, "the client's address, as nginx saw it")
		assert.Equal(t, "http", v.Scheme)
		assert.Equal(t, host, v.Host, "the host and port the client asked nginx for")
		assert.Equal(t, "/app", v.ScriptRoot, "the prefix nginx serves the app under")
		assert.Equal(t, "http://"+host+"/app/whoami?x=1", v.URL)
		assert.Equal(t, "http://"+host+"/app/whoami", v.Self, "URLFor builds the proxy's URL")
		assert.Equal(t, "http://"+host+"/app/stream/events", v.Events)

		// What the connection from nginx said, before ProxyFix.
		assert.Equal(t, "127.0.0.1", v.Proxy.RemoteAddr, "nginx")
		assert.Equal(t, "vial", v.Proxy.Host, "nginx's Host: the upstream's name")
		assert.Equal(t, "", v.Proxy.ScriptRoot)
	})

	t.Run("https", func(t *testing.T) {
		host := "localhost:" + httpsPort
		v := whoami(t, "https://"+host+"/app/whoami")
		assert.Equal(t, clientIP, v.RemoteAddr)
		assert.Equal(t, "https", v.Scheme, "nginx's $scheme, though nginx talks plain http to the app")
		assert.Equal(t, "http", v.Proxy.Scheme)
		assert.Equal(t, host, v.Host)
		assert.Equal(t, "https://"+host+"/app/whoami", v.Self)
		assert.Equal(t, "https://"+host+"/app/stream/events", v.Events)
	})

	t.Run("forged headers", func(t *testing.T) {
		// A client's own X-Forwarded-* headers: nginx replaces Proto, Host
		// and Prefix, and appends its view of the client to For; the app
		// trusts one value, nginx's.
		host := "127.0.0.1:" + httpPort
		v := whoami(t, "http://"+host+"/app/whoami",
			"X-Forwarded-For", "203.0.113.9",
			"X-Forwarded-Proto", "https",
			"X-Forwarded-Host", "evil.example",
			"X-Forwarded-Prefix", "/phish")
		assert.Equal(t, clientIP, v.RemoteAddr)
		assert.Equal(t, "http", v.Scheme)
		assert.Equal(t, host, v.Host)
		assert.Equal(t, "http://"+host+"/app/whoami", v.Self)
	})

	t.Run("redirect", func(t *testing.T) {
		resp, err := client.Get("https://localhost:" + httpsPort + "/app/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 302, resp.StatusCode)
		assert.Equal(t, "/app/whoami", resp.Header.Get("Location"), "under the prefix")
	})

	// The app makes the second and third chunks of a stream only when the
	// test lets it, and the test lets it only once it has read the first:
	// if nginx held the response back, the first would never come.
	for _, tc := range []struct {
		path, contentType string
		chunks            []string
	}{
		{"/app/stream/events", "text/event-stream", []string{"data: 1\n\n", "data: 2\n\n", "data: 3\n\n"}},
		{"/app/stream/download", "text/plain; charset=utf-8", downloadParts},
	} {
		t.Run("stream "+tc.path, func(t *testing.T) {
			reqCtx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(reqCtx, "GET", "http://127.0.0.1:"+httpPort+tc.path, nil)
			require.NoError(t, err)
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, tc.contentType, resp.Header.Get("Content-Type"))

			body := bufio.NewReader(resp.Body)
			for i, want := range tc.chunks {
				if i > 0 {
					pace.step(t)
				}
				what := fmt.Sprintf("chunk %d of %s", i+1, tc.path)
				if i == 0 {
					what += " did not come through nginx while the app waited: is proxy_buffering off?"
				}
				assert.Equal(t, want, readChunk(t, body, len(want), what))
			}
			rest, err := io.ReadAll(body)
			assert.NoError(t, err)
			assert.Empty(t, rest)
		})
	}

	t.Run("access log", func(t *testing.T) {
		logged, err := os.ReadFile(filepath.Join(dir, "logs", "access.log"))
		require.NoError(t, err)
		assert.Contains(t, string(logged), clientIP+" - - [")
		assert.Contains(t, string(logged), `"GET /app/stream/events HTTP/1.1" 200`)
	})
}

// TestServeShutsDownGracefully checks serve's shutdown: a request in
// flight finishes, new connections are refused, and a request that outlasts
// the grace period is cancelled.
func TestServeShutsDownGracefully(t *testing.T) {
	start := func(t *testing.T, grace time.Duration) (base string, pace *stepper, shutdown func() error) {
		pace = newStepper()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ctx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- serve(ctx, ln, newServer(newApp(pace.wait)), grace) }()
		var once sync.Once
		var err2 error
		shutdown = func() error { // SIGTERM
			once.Do(func() { stop(); err2 = <-served })
			return err2
		}
		t.Cleanup(func() { shutdown() })
		return "http://" + ln.Addr().String(), pace, shutdown
	}
	openStream := func(t *testing.T, base string) io.Reader {
		resp, err := http.Get(base + "/stream/events")
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		require.Equal(t, "data: 1\n\n", readChunk(t, resp.Body, 9, "the first event"))
		return resp.Body
	}

	t.Run("in flight", func(t *testing.T) {
		base, pace, shutdown := start(t, 10*time.Second)
		events := openStream(t, base)
		done := make(chan error, 1)
		go func() { done <- shutdown() }()

		addr := strings.TrimPrefix(base, "http://")
		require.Eventually(t, func() bool {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return err != nil
		}, 5*time.Second, 10*time.Millisecond, "the listener closes as the shutdown begins")

		pace.step(t)
		pace.step(t)
		rest, err := io.ReadAll(events)
		require.NoError(t, err)
		assert.Equal(t, "data: 2\n\ndata: 3\n\n", string(rest), "the stream in flight ran to its end")
		assert.NoError(t, <-done)
	})

	t.Run("past the grace period", func(t *testing.T) {
		base, _, shutdown := start(t, 100*time.Millisecond)
		events := openStream(t, base)
		began := time.Now()
		err := shutdown() // the stream waits for a step that never comes
		assert.ErrorContains(t, err, "requests still running 100ms after the shutdown began were cut off")
		assert.Less(t, time.Since(began), 5*time.Second)
		rest, _ := io.ReadAll(events)
		assert.Empty(t, string(rest), "the stream ended where it was")
	})
}

// TestMain lets TestMainProcess run main in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("DEPLOY_TEST_MAIN") == "1" {
		os.Args = append([]string{"deploy"}, strings.Fields(os.Getenv("DEPLOY_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMainProcess runs the command as a process and stops it with SIGTERM,
// as a service manager does: it exits 0 after a clean shutdown.
func TestMainProcess(t *testing.T) {
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "DEPLOY_TEST_MAIN=1", "DEPLOY_TEST_ARGS=-addr "+addr+" -shutdown-timeout 5s")
	out := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	output := out.String
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})

	var resp *http.Response
	require.Eventually(t, func() bool {
		var err error
		resp, err = http.Get("http://" + addr + "/whoami")
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "the server did not come up; output:\n%s", output)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), `"self":"http://`+addr+`/whoami"`, "without a proxy, the request's own host")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10s after SIGTERM; output:\n%s", output())
	}
	require.NoError(t, waitErr, "output:\n%s", output())
	assert.Contains(t, output(), "serving on http://"+addr)
	assert.Contains(t, output(), "stopped")
}

// findNginx returns the nginx binary. Without one the test is skipped,
// except under CI ($CI set), where nginx is part of the setup and its
// absence a failure.
func findNginx(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr == nil {
			return "/usr/sbin/nginx" // not on a non-root user's PATH on Debian
		}
		if os.Getenv("CI") != "" {
			t.Fatal("nginx is not installed, and $CI is set: the deployment test must run in CI (apt-get install nginx)")
		}
		t.Skip("nginx is not installed (apt-get install nginx)")
	}
	return path
}

// startNginx runs nginx in the foreground with its prefix in dir, waits
// until it listens on addrs, and stops it when the test ends.
func startNginx(t *testing.T, nginx, dir, conf string, addrs ...string) {
	t.Helper()
	for _, sub := range []string{"logs", "temp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o755))
	}
	globals := "daemon off; pid " + filepath.Join(dir, "nginx.pid") + ";"
	if os.Geteuid() == 0 {
		// As root, nginx runs its workers as nobody, who cannot reach the
		// test's private temporary directory.
		globals += " user root;"
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", conf, "-g", globals)
	out := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	output := func() string {
		logged, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
		return out.String() + string(logged)
	}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT) // graceful: finish the requests in flight
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("nginx's output and error log:\n%s", output())
		}
	})
	for _, addr := range addrs {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				t.Fatalf("nginx exited; its output and error log:\n%s", output())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("nginx is not listening on %s after 10s; its output and error log:\n%s", addr, output())
			}
		}
	}
}

// fillTemplate returns the file with each {{NAME}} replaced by values[NAME],
// failing the test if the file has a placeholder values does not fill.
func fillTemplate(t *testing.T, file string, values map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	filled := regexp.MustCompile(`\{\{([A-Z]+)\}\}`).ReplaceAllStringFunc(string(data), func(m string) string {
		v, ok := values[m[2:len(m)-2]]
		if !ok {
			t.Errorf("%s: no value for the placeholder %s", file, m)
		}
		return v
	})
	return filled
}

// selfSignedCert writes a certificate for localhost and 127.0.0.1, and its
// key, into dir, and returns their paths and a pool that trusts it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)

	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	return "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
}

// loopbackClientIP returns 127.0.0.2 where the system lets a client use it
// (Linux routes all of 127.0.0.0/8 to the loopback interface), else
// 127.0.0.1.
func loopbackClientIP() string {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		return "127.0.0.1"
	}
	ln.Close()
	return "127.0.0.2"
}

// readChunk reads n bytes, failing the test with what if they do not come
// within 10 seconds.
func readChunk(t *testing.T, r io.Reader, n int, what string) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, n)
		k, _ := io.ReadFull(r, buf)
		got <- string(buf[:k])
	}()
	select {
	case chunk := <-got:
		return chunk
	case <-time.After(10 * time.Second):
		t.Fatalf("nothing within 10s: %s", what)
		return ""
	}
}

// A stepper paces the app's stream in a test: wait, the app's side, returns
// once step, the test's side, has let it go on (or false when the request
// is cancelled).
type stepper struct{ ch chan struct{} }

func newStepper() *stepper { return &stepper{ch: make(chan struct{})} }

func (s *stepper) wait(ctx context.Context) bool {
	select {
	case <-s.ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// step lets the stream make its next event, waiting until it is ready to.
func (s *stepper) step(t *testing.T) {
	t.Helper()
	select {
	case s.ch <- struct{}{}:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not wait for its next step within 10s")
	}
}
