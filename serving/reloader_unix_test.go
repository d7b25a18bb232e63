//go:build unix

package serving

// The tests with processes: the reloader needs a Unix system.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"

	"github.com/vial-go/vial/gateway"
)

func rlGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// ---------------------------------------------------------------------
// The parent's loop and the child's side, with this test binary as the
// program (it cannot be rebuilt, so the reloader restarts it unchanged).

const (
	envTestHelper = "VIAL_RELOADER_TEST_HELPER"
	envTestCrash  = "VIAL_RELOADER_TEST_CRASH"
)

// TestReloaderHelperChild is the program run by TestReloaderRestarts: it
// serves its pid with RunSimple on the socket the reloader hands down.
func TestReloaderHelperChild(t *testing.T) {
	if os.Getenv(envTestHelper) != "1" {
		t.Skip("the child of TestReloaderRestarts")
	}
	if _, err := os.Stat(os.Getenv(envTestCrash)); err == nil {
		os.Exit(3) // crash before serving
	}
	pid := strconv.Itoa(os.Getpid())
	app := gateway.FromHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, pid)
	}))
	err := RunSimple("127.0.0.1", 0, app, Options{Output: io.Discard, ShutdownTimeout: 2 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestReloaderRestarts(t *testing.T) {
	dir := t.TempDir()
	trigger := filepath.Join(dir, "trigger.txt")
	crash := filepath.Join(dir, "crash")
	rlWriteFile(t, trigger, "0")
	t.Setenv(envTestHelper, "1")
	t.Setenv(envTestCrash, crash)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	out := &testutil.SyncBuffer{}
	r, err := newReloader(ln, Options{
		ReloaderInterval: 50 * time.Millisecond,
		ExtraFiles:       []string{trigger},
		Output:           out,
		ShutdownTimeout:  2 * time.Second,
	}, "")
	require.NoError(t, err)
	defer r.close()
	require.Nil(t, r.target, "a test binary is restarted, not rebuilt")
	r.args = []string{"-test.run=^TestReloaderHelperChild$"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- r.run(ctx) }()
	defer func() {
		if t.Failed() {
			t.Logf("reloader output:\n%s", out.String())
		}
	}()

	url := "http://" + ln.Addr().String() + "/"
	client := &http.Client{Timeout: 10 * time.Second}
	serving := func() string {
		body, err := rlGet(client, url)
		require.NoError(t, err)
		return body
	}
	touch := func(content string) { rlReplaceFile(t, trigger, content) }

	pid1 := serving()
	hammers := []*rlHammer{rlStartHammer(url, true), rlStartHammer(url, false)}

	// A change: the new child serves, the old one stops.
	touch("1")
	var pid2 string
	rlWaitFor(t, 15*time.Second, "a new child", func() bool { pid2 = serving(); return pid2 != pid1 })
	n1, _ := strconv.Atoi(pid1)
	rlWaitFor(t, 10*time.Second, "the old child to exit", func() bool { return rlGone(n1) })

	// A new child that exits before serving: the old one keeps serving.
	rlWriteFile(t, crash, "")
	touch("2")
	rlWaitFor(t, 15*time.Second, "the crash report", func() bool {
		return strings.Contains(out.String(), " * The new build exited with status 3 before serving; the previous one keeps serving\n")
	})
	assert.Equal(t, pid2, serving())

	// The crash fixed.
	require.NoError(t, os.Remove(crash))
	touch("3")
	var pid3 string
	rlWaitFor(t, 15*time.Second, "a third child", func() bool { pid3 = serving(); return pid3 != pid2 })

	for i, h := range hammers {
		errs, bodies := h.finish()
		assert.Empty(t, errs, "rlHammer %d: errors during the restarts", i)
		assert.Contains(t, bodies, pid1)
		assert.Contains(t, bodies, pid2)
		t.Logf("rlHammer %d (keep-alive %v): %v", i, i == 0, bodies)
	}

	// The child dies by itself: the parent waits for a change, requests
	// wait in the socket's queue meanwhile.
	n3, _ := strconv.Atoi(pid3)
	require.NoError(t, syscall.Kill(n3, syscall.SIGKILL))
	rlWaitFor(t, 10*time.Second, "the exit report", func() bool {
		return strings.Contains(out.String(), " * The program exited with a signal; it restarts when a watched file changes\n")
	})
	queued := make(chan string, 1)
	go func() {
		body, err := rlGet(client, url)
		if err != nil {
			body = err.Error()
		}
		queued <- body
	}()
	time.Sleep(200 * time.Millisecond)
	touch("4")
	var pid4 string
	select {
	case pid4 = <-queued:
	case <-time.After(15 * time.Second):
		t.Fatal("the queued request was not served")
	}
	assert.NotEqual(t, pid3, pid4)
	n4, err := strconv.Atoi(pid4)
	require.NoError(t, err, pid4)

	// Interrupted: the child stops, run returns nil.
	cancel()
	select {
	case err := <-runErr:
		assert.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return")
	}
	assert.True(t, rlGone(n4), "the last child has exited")

	assert.Equal(t, 5, strings.Count(out.String(), " * Restarting with stat\n"), "the start and 4 changes")
	assert.Equal(t, 4, strings.Count(out.String(), " * Detected change in "+pyQuote(trigger)+", reloading\n"))
}

// ---------------------------------------------------------------------
// End to end: a program of its own module, run as users run it, edited.

func TestReloaderEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program (-short)")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the go command is not on PATH")
		}
		t.Skip("the go command is not on PATH")
	}
	start := time.Now()
	defer func() { t.Logf("took %s", time.Since(start).Round(time.Millisecond)) }()

	// The program's module: testdata/reloadapp, requiring this repository.
	wd, err := os.Getwd()
	require.NoError(t, err)
	repo, _ := findGoMod(wd)
	require.NotEmpty(t, repo)
	app := t.TempDir()
	source, err := os.ReadFile(filepath.Join("testdata", "reloadapp", "main.go"))
	require.NoError(t, err)
	mainGo := filepath.Join(app, "main.go")
	rlWriteFile(t, mainGo, string(source))
	rlWriteFile(t, filepath.Join(app, "go.mod"), fmt.Sprintf(
		"module example.com/reloadapp\n\ngo 1.26\n\nrequire github.com/vial-go/vial v0.0.0\n\nreplace github.com/vial-go/vial => %s\n",
		strconv.Quote(repo)))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	require.NoError(t, err)
	rlWriteFile(t, filepath.Join(app, "go.sum"), string(sum))
	env := append(os.Environ(), "GOFLAGS=-mod=mod")

	exe := filepath.Join(t.TempDir(), "reloadapp")
	build := exec.Command(goTool, "build", "-o", exe, ".")
	build.Dir, build.Env = app, env
	output, err := build.CombinedOutput()
	require.NoError(t, err, "building the program:\n%s", output)
	t.Logf("built in %s", time.Since(start).Round(time.Millisecond))

	out := &testutil.SyncBuffer{}
	parent := exec.Command(exe)
	parent.Dir, parent.Env = app, env
	parent.Stdout, parent.Stderr = out, out
	parent.WaitDelay = 5 * time.Second // the children share the output pipe
	// A process group of its own, for a terminal's Ctrl+C.
	parent.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, parent.Start())
	exited := make(chan error, 1)
	go func() { exited <- parent.Wait() }()
	childPids := func() []int {
		var pids []int
		for _, m := range regexp.MustCompile(`reloadapp: child (\d+) serves`).FindAllStringSubmatch(out.String(), -1) {
			pid, _ := strconv.Atoi(m[1])
			pids = append(pids, pid)
		}
		return pids
	}
	defer func() {
		if t.Failed() {
			t.Logf("program output, without the access log:\n%s", rlMessages(out))
		}
		if parent.ProcessState == nil {
			_ = parent.Process.Kill() // the children follow (parent pipe)
			<-exited
		}
	}()

	// The parent binds port 0; the banner says which port it got.
	var url string
	rlWaitFor(t, 10*time.Second, "the banner", func() bool {
		m := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(out.String())
		url = m + "/"
		return m != ""
	})
	client := &http.Client{Timeout: 10 * time.Second}
	serves := func(want string) func() bool {
		return func() bool {
			body, err := rlGet(client, url)
			return err == nil && body == want
		}
	}
	rlWaitFor(t, 10*time.Second, `"v1"`, serves("v1"))
	hammers := []*rlHammer{rlStartHammer(url, true), rlStartHammer(url, false)}

	edit := func(from, to string) {
		t.Helper()
		src, err := os.ReadFile(mainGo)
		require.NoError(t, err)
		require.Contains(t, string(src), from)
		rlReplaceFile(t, mainGo, strings.Replace(string(src), from, to, 1))
	}

	// v2, while a slow request is in flight: the old child finishes it.
	slow := make(chan string, 1)
	go func() {
		body, err := rlGet(client, url+"slow")
		if err != nil {
			body = err.Error()
		}
		slow <- body
	}()
	time.Sleep(100 * time.Millisecond)
	edit(`version = "v1"`, `version = "v2"`)
	rlWaitFor(t, 30*time.Second, `"v2"`, serves("v2"))
	select {
	case body := <-slow:
		assert.Equal(t, "v1", body, "the request in flight during the restart")
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request did not finish")
	}
	rlAssertOutput(t, out, " * Detected change in "+pyQuote(mainGo)+", reloading\n")

	// A syntax error: reported, v2 keeps serving.
	edit(`version = "v2"`, `version = "v3" +`)
	rlWaitFor(t, 30*time.Second, "the build error", func() bool {
		return strings.Contains(out.String(), " * Build failed (exit status 1); the last good build keeps serving\n")
	})
	assert.Regexp(t, `main\.go:\d+:\d+: syntax error`, rlMessages(out))
	for range 5 {
		assert.True(t, serves("v2")(), "v2 after the failed build")
		time.Sleep(50 * time.Millisecond)
	}

	// Fixed: v3.
	edit(`version = "v3" +`, `version = "v3"`)
	rlWaitFor(t, 30*time.Second, `"v3"`, serves("v3"))
	// A keep-alive connection stays with the old child until it has
	// stopped, which may be a moment after the new one serves.
	for _, h := range hammers {
		rlWaitFor(t, 15*time.Second, `a hammer's "v3"`, func() bool { return h.saw("v3") })
	}

	for i, h := range hammers {
		errs, bodies := h.finish()
		assert.Empty(t, errs, "rlHammer %d: errors during the reloads", i)
		assert.Contains(t, bodies, "v1")
		assert.Contains(t, bodies, "v3")
		t.Logf("rlHammer %d (keep-alive %v): %v", i, i == 0, bodies)
	}
	pids := childPids()
	assert.Len(t, pids, 3, "v1, v2 and v3")

	// Ctrl+C, as a terminal sends it: SIGINT to the process group, parent
	// and child, during a request. The child finishes it and stops (with no
	// second signal from the parent, which would kill it); the parent exits
	// 0.
	go func() {
		body, err := rlGet(client, url+"slow")
		if err != nil {
			body = err.Error()
		}
		slow <- body
	}()
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, syscall.Kill(-parent.Process.Pid, syscall.SIGINT))
	select {
	case body := <-slow:
		assert.Equal(t, "v3", body, "the request in flight at Ctrl+C")
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request did not finish")
	}
	select {
	case err := <-exited:
		assert.NoError(t, err, "the parent's exit")
	case <-time.After(20 * time.Second):
		t.Fatal("the parent did not exit")
	}
	for _, pid := range pids {
		assert.True(t, rlGone(pid), "child %d has exited", pid)
	}
	rlAssertOutput(t, out, fmt.Sprintf("reloadapp: child %d stopped\n", pids[len(pids)-1]), "the last child returned from RunSimple")
	_, err = net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"), time.Second)
	assert.Error(t, err, "the port is closed")
	assert.Equal(t, 3, strings.Count(out.String(), " * Restarting with stat\n"))
}
