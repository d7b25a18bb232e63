// Package testutil holds helpers the project's tests share: running an
// example program as a user does (build it, start it on a free port, wait
// until it listens, stop it as Ctrl+C does) and a buffer that a server and
// a test can use at once.
package testutil

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A Process is a running example program.
type Process struct {
	// Addr is "127.0.0.1:port", where the program listens.
	Addr string
	// Output holds what the program wrote to stdout and stderr.
	Output *SyncBuffer

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// Build compiles the main package in dir (the test's own directory when
// ".") into a temporary file and returns its path. It passes on the test
// binary's -race, so the packages go test compiled are reused.
func Build(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command (go test puts it on PATH)")
	exe := filepath.Join(t.TempDir(), "program")
	args := append(append([]string{"build"}, BuildFlags()...), "-o", exe, dir)
	out, err := exec.Command(goTool, args...).CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	return exe
}

// BuildFlags returns the flags of the test binary's own build that change
// how every package is compiled (-race).
func BuildFlags() []string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return []string{"-race"}
		}
	}
	return nil
}

// Start runs exe with args followed by "--port N" on a free port, with env
// added to the environment, and waits until it accepts connections. The
// process is killed at the end of the test if it is still running.
func Start(t *testing.T, exe string, env []string, args ...string) *Process {
	t.Helper()
	port := FreePort(t)
	cmd := exec.Command(exe, append(args, "--port", strconv.Itoa(port))...)
	cmd.Env = append(append(os.Environ(), "VIAL_DEBUG="), env...)
	p := &Process{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Output: &SyncBuffer{}, cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Output, p.Output
	require.NoError(t, cmd.Start())
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	p.waitForPort(t)
	return p
}

// Interrupt sends SIGINT, as Ctrl+C does, and returns the program's exit
// error (nil for status 0), failing the test if it does not exit in time.
func (p *Process) Interrupt(t *testing.T) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(20 * time.Second):
		t.Fatalf("the program did not exit after SIGINT; output:\n%s", p.Output)
		return nil
	}
}

func (p *Process) waitForPort(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("the program exited before listening on %s; output:\n%s", p.Addr, p.Output)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s after 30s; output:\n%s", p.Addr, p.Output)
		}
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// SyncBuffer is a bytes.Buffer that a process's output and a test can use
// at once.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WriterToBody is an application's response body (a gateway.Body) that
// can also write itself (io.WriterTo), as an in-memory body can. Its
// content is "ok"; Calls counts how often it was asked for it, by Chunks
// or WriteTo.
type WriterToBody struct {
	Calls int
}

// Chunks yields the content.
func (b *WriterToBody) Chunks(yield func([]byte) bool) {
	b.Calls++
	yield([]byte("ok"))
}

// WriteTo writes the content to w.
func (b *WriterToBody) WriteTo(w io.Writer) (int64, error) {
	b.Calls++
	n, err := io.WriteString(w, "ok")
	return int64(n), err
}

// Close does nothing.
func (b *WriterToBody) Close() error { return nil }

// Fetch sends a request with client (http.DefaultClient when nil), header
// holding name and value pairs, and returns the response with its body
// read and closed. Any failure to get one fails the test.
func Fetch(t testing.TB, client *http.Client, method, url string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(data)
}

// Timeout bounds how long a test waits for a server or a goroutine to do
// what it must: long enough for a loaded machine, short enough that a hang
// fails the test instead of the run.
const Timeout = 10 * time.Second

// Wait returns the next value from ch, or fails the test after [Timeout],
// naming what it waited for.
func Wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Timeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
