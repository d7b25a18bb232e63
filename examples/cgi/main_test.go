//go:build !js && !plan9

package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
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

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway/cgi"
)

// The app in-process, with the test client: no CGI, no script root.
func TestApp(t *testing.T) {
	c := newApp().TestClient()

	resp := c.Get("/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, resp.Text(), `<form method="post" action="/echo">`)

	resp = c.Post("/echo", vial.WithFormValue("message", "<b>hi</b> & bye"))
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "You said: &lt;b&gt;hi&lt;/b&gt; &amp; bye\n", resp.Text())
	assert.Equal(t, 400, c.Post("/echo").StatusCode, "no message")
	assert.Equal(t, 405, c.Get("/echo").StatusCode)

	assert.Equal(t, "Hello, gopher!\n", c.Get("/hello?name=gopher").Text())
	assert.Equal(t, "Hello, World!\n", c.Get("/hello").Text())

	resp = c.Get("/api/info")
	assert.Equal(t, "application/json", resp.Mimetype())
	assert.JSONEq(t, `{"script_root": "", "path": "/api/info", "self": "http://localhost/api/info",
		"run_once": false, "server": ""}`, resp.Text())

	assert.Equal(t, 404, c.Get("/nope").StatusCode)
}

// The app as a CGI program, in-process: what cgi.Serve prints for lighttpd.
func TestCGIOutput(t *testing.T) {
	var stdout, stderr strings.Builder
	err := (&cgi.Server{
		App: newApp(),
		Env: []string{
			"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET",
			"SCRIPT_NAME=/app.cgi", "PATH_INFO=/hello", "QUERY_STRING=name=cgi",
			"SERVER_NAME=localhost", "SERVER_PORT=80", "SERVER_PROTOCOL=HTTP/1.1",
		},
		Stdin:  strings.NewReader(""),
		Stdout: &stdout,
		Stderr: &stderr,
	}).Serve()
	require.NoError(t, err, stderr.String())
	assert.Equal(t, "Status: 200 OK\r\n"+
		"Content-Type: text/html; charset=utf-8\r\n"+
		"Content-Length: 12\r\n"+
		"\r\n"+
		"Hello, cgi!\n", stdout.String())
}

// The program built and served by lighttpd with the lighttpd.conf that
// the example ships, over real HTTP.
func TestUnderLighttpd(t *testing.T) {
	base := startLighttpd(t)
	client := &http.Client{Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	// get and post send a request to the program and return the response
	// with its body read.
	get := func(t *testing.T, path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		return readAll(t, resp, err)
	}
	post := func(t *testing.T, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := client.PostForm(base+path, form)
		return readAll(t, resp, err)
	}

	t.Run("GET with a query", func(t *testing.T) {
		resp, body := get(t, "/app.cgi/hello?name=Go%20pher")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Equal(t, "Hello, Go pher!\n", body)
	})

	t.Run("the form's URL has the script root", func(t *testing.T) {
		resp, body := get(t, "/app.cgi/")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Contains(t, body, `<form method="post" action="/app.cgi/echo">`)
	})

	t.Run("POST a form", func(t *testing.T) {
		resp, body := post(t, "/app.cgi/echo", url.Values{"message": {"<b>hi</b> & bye"}})
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "You said: &lt;b&gt;hi&lt;/b&gt; &amp; bye\n", body)

		resp, _ = post(t, "/app.cgi/echo", url.Values{})
		assert.Equal(t, 400, resp.StatusCode)
	})

	t.Run("JSON", func(t *testing.T) {
		resp, body := get(t, "/app.cgi/api/info")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var info map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &info), body)
		assert.Equal(t, "/app.cgi", info["script_root"])
		assert.Equal(t, "/api/info", info["path"])
		assert.Equal(t, base+"/app.cgi/api/info", info["self"])
		assert.Equal(t, true, info["run_once"])
		assert.Regexp(t, `^lighttpd/`, info["server"])
	})

	t.Run("404", func(t *testing.T) {
		resp, body := get(t, "/app.cgi/nope")
		assert.Equal(t, 404, resp.StatusCode)
		assert.Contains(t, body, "Not Found")
	})
}

// readAll checks that a request got a response and reads its body.
func readAll(t *testing.T, resp *http.Response, err error) (*http.Response, string) {
	t.Helper()
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// startLighttpd builds the program into a temporary directory as app.cgi,
// starts lighttpd on it with ./lighttpd.conf on a free loopback port, and
// returns the server's URL. lighttpd is stopped when the test ends.
func startLighttpd(t *testing.T) string {
	lighttpd, err := exec.LookPath("lighttpd")
	if err != nil {
		lighttpd, err = exec.LookPath("/usr/sbin/lighttpd")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("lighttpd is not installed (Debian package lighttpd), and CI is set: this test must run")
		}
		t.Skip("lighttpd is not installed (Debian package lighttpd)")
	}
	conf, err := filepath.Abs("lighttpd.conf")
	require.NoError(t, err)

	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "app.cgi"), ".").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	require.NoError(t, l.Close())

	// lighttpd's error log, with the program's stderr: shown if the test fails.
	logPath := filepath.Join(t.TempDir(), "lighttpd.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	defer logFile.Close() // lighttpd has its own descriptor
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }

	cmd := exec.Command(lighttpd, "-D", "-f", conf)
	cmd.Env = append(os.Environ(), "VIAL_CGI_DIR="+dir, "VIAL_CGI_PORT="+port)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("lighttpd's log:\n%s", logs())
		}
	})

	addr := net.JoinHostPort("127.0.0.1", port)
	require.Eventually(t, func() bool {
		select {
		case <-exited:
			return true // reported below
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 15*time.Second, 20*time.Millisecond, "lighttpd does not accept on %s", addr)
	select {
	case <-exited:
		t.Fatalf("lighttpd exited at start:\n%s", logs())
	default:
	}
	return "http://" + addr
}
