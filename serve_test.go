package vial_test

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/internal/testutil"
	"github.com/vial-go/vial/serving"
)

// debugApp has a page and a view that panics.
func debugApp() *vial.App {
	app := vial.New("debugged")
	app.Get("/", func(r *vial.Request) any { return "fine" })
	app.Get("/boom", func(r *vial.Request) any {
		panic("kaboom in the view") // the debugger shows this line
	})
	return app
}

func TestDebugModeHandsUnhandledErrorsToTheDebugger(t *testing.T) {
	app := debugApp()
	app.Config["DEBUG"] = true
	var logs bytes.Buffer
	app.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	var failed atomic.Int32
	app.TeardownRequest(func(r *vial.Request, err error) {
		if err != nil {
			failed.Add(1)
		}
	})
	srv := httptest.NewServer(gateway.Handler(serving.DebuggedApplication(app, false)))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/boom", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, string(body), "kaboom in the view")
	assert.Contains(t, string(body), "serve_test.go", "the page shows the view's own frame")
	assert.Contains(t, string(body), "the debugger shows this line")
	assert.Equal(t, int32(1), failed.Load(), "the request is torn down with its error")
	assert.NotContains(t, logs.String(), "panic", "tearing down logs no second failure")

	// Without debug mode the same panic is a plain 500.
	app2 := debugApp()
	app2.Logger = quietLogger()
	rec := httptest.NewRecorder()
	app2.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	assert.Equal(t, 500, rec.Code)
	assert.NotContains(t, rec.Body.String(), "kaboom")
}

// TestRunHelperProcess is the program TestMainRunServesOnTheDevServer
// starts: app.Main's command line, run in a child process.
func TestRunHelperProcess(t *testing.T) {
	args := os.Getenv("VIAL_TEST_CLI_ARGS")
	if args == "" {
		t.Skip("run by TestMainRunServesOnTheDevServer")
	}
	os.Exit(debugApp().RunCLI(strings.Fields(args), os.Stdout, os.Stderr))
}

// lineLog collects a child process's output lines as they come.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func TestMainRunServesOnTheDevServer(t *testing.T) {
	base, out, stop := startHelperServer(t, "TestRunHelperProcess", "VIAL_TEST_CLI_ARGS=run --port 0 --debug --reload=false")
	banner := out.text()
	assert.Contains(t, banner, "debugged")
	assert.Contains(t, banner, "Debug mode: on")

	get := func(path string) (int, string) {
		resp, body := testutil.Fetch(t, nil, "GET", base+path, nil)
		return resp.StatusCode, body
	}
	code, body := get("/")
	assert.Equal(t, 200, code)
	assert.Equal(t, "fine", body)
	code, body = get("/boom")
	assert.Equal(t, 500, code)
	assert.Contains(t, body, "kaboom in the view", "debug mode shows the debugger")
	code, _ = get("/")
	assert.Equal(t, 200, code, "the server keeps serving after a panic")

	stop()
	log := out.text()
	assert.Regexp(t, `127\.0\.0\.1 - - \[[^]]+\] "GET / HTTP/1\.1" 200 -`, log)
	assert.Regexp(t, `"GET /boom HTTP/1\.1" 500 -`, log)
}

// startHelperServer runs the test binary's helper test (a dev server) with
// env added to its environment, waits for its banner, and returns the
// server's URL, what it writes to stderr, and a function that stops it as
// Ctrl+C does and checks that it exits 0.
func startHelperServer(t *testing.T, helper, env string) (string, *lineLog, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$")
	cmd.Env = append(os.Environ(), env)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	out := &lineLog{}
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			out.mu.Lock()
			out.lines = append(out.lines, sc.Text())
			out.mu.Unlock()
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	running := regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)
	var base string
	require.Eventually(t, func() bool {
		if m := running.FindStringSubmatch(out.text()); m != nil {
			base = m[1]
			return true
		}
		return false
	}, 20*time.Second, 10*time.Millisecond, "no banner")
	return base, out, func() {
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		select {
		case err := <-exited:
			assert.NoError(t, err, "a graceful shutdown exits 0")
		case <-time.After(15 * time.Second):
			t.Fatal("the server did not stop on SIGINT")
		}
	}
}
