package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProcess builds the program, runs it as a user does (`todo run --port
// N`, the database in $TODO_DB), and talks to it over HTTP with a real
// client; then interrupts it, as Ctrl+C does, and expects a clean exit.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program; -short skips it")
	}
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command (go test puts it on PATH)")
	dir := t.TempDir()
	exe := filepath.Join(dir, "todo")
	build := exec.Command(goTool, append(append([]string{"build"}, testBuildFlags()...), "-o", exe, ".")...)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)

	port := freePort(t)
	db := filepath.Join(dir, "data", "todo.db")
	require.NoError(t, os.Mkdir(filepath.Dir(db), 0o755))
	cmd := exec.Command(exe, "run", "--port", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "TODO_DB="+db, "VIAL_DEBUG=")
	var output syncBuffer
	cmd.Stdout, cmd.Stderr = &output, &output
	require.NoError(t, cmd.Start())
	var waitErr error
	exited := make(chan struct{}) // closed when the process has exited, with waitErr set
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})

	base := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitForPort(t, base[len("http://"):], exited, &output)

	client := &http.Client{Timeout: 10 * time.Second}
	do := func(method, url, body string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, data
	}

	resp, body := do("POST", base+"/todos", `{"title": "try the real thing"}`)
	require.Equal(t, 201, resp.StatusCode, string(body))
	assert.JSONEq(t, `{"id": 1, "title": "try the real thing", "done": false}`, string(body))
	location := resp.Header.Get("Location")
	assert.Equal(t, base+"/todos/1", location, "the host and port the client used")
	assert.NotEmpty(t, resp.Header.Get("X-Request-ID"))

	resp, body = do("GET", location, "")
	require.Equal(t, 200, resp.StatusCode, string(body))
	assert.JSONEq(t, `{"id": 1, "title": "try the real thing", "done": false}`, string(body))

	do("POST", base+"/todos", `{"title": "and another", "done": true}`)
	resp, body = do("GET", base+"/todos?done=false", "")
	require.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `[{"id": 1, "title": "try the real thing", "done": false}]`, string(body))

	resp, body = do("DELETE", location, "")
	assert.Equal(t, 204, resp.StatusCode)
	assert.Empty(t, body)

	resp, body = do("GET", location, "")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var e errorBody
	require.NoError(t, json.Unmarshal(body, &e))
	assert.Equal(t, "todo 1 does not exist", e.Description)

	// Ctrl+C: a graceful shutdown, exit status 0.
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case <-exited:
		require.NoError(t, waitErr, "the program's output:\n%s", output.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15s after SIGINT; output:\n%s", output.String())
	}
	assert.Zero(t, cmd.ProcessState.ExitCode())
	assert.Contains(t, output.String(), `"POST /todos HTTP/1.1" 201`, "the access log")

	// What the program stored is in the file.
	a := newApp(map[string]any{"DATABASE": db})
	defer a.Close()
	assert.JSONEq(t, `[{"id": 2, "title": "and another", "done": true}]`, a.TestClient().Get("/todos").Text())
}

// testBuildFlags returns the flags of the test binary's own build that
// change how every package is compiled (-race), so that building the
// program reuses the packages go test compiled: compiling modernc.org/sqlite
// again, differently, takes minutes.
func testBuildFlags() []string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	var flags []string
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			flags = append(flags, "-race")
		}
	}
	return flags
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitForPort waits until addr accepts connections, failing the test if
// the process exits first or it takes too long.
func waitForPort(t *testing.T, addr string, exited <-chan struct{}, output fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("the program exited before listening on %s; output:\n%s", addr, output)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s after 30s; output:\n%s", addr, output)
		}
	}
}

// syncBuffer is a bytes.Buffer that the process's output goroutine and the
// test can use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
