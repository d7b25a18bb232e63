package serving

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"
)

// ---------------------------------------------------------------------
// The watcher.

func rlWriteFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// rlReplaceFile writes path at once, as editors do (a file of another
// extension renamed over it), so that the poller never sees it half
// written: under load, a truncated file can stay visible longer than the
// reloader's settle time and make one more restart.
func rlReplaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".swp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o644))
	require.NoError(t, os.Rename(tmp, path))
}

// rlModule writes a module with files the watcher must and must not
// see, and returns its directory.
func rlModule(t *testing.T) string {
	dir := t.TempDir()
	for _, f := range []string{
		"go.mod", "go.sum", "main.go", "pkg/util.go", "templates/index.html",
		"templates/mail/a.tmpl", "b.tpl",
		// not watched:
		"main_test.go", "README.md", "vendor/x/x.go", "testdata/t.go",
		".git/hooks/h.go", "_old/o.go", "node_modules/m/m.html",
		"sub/go.mod", "sub/s.go", "static/app.js",
	} {
		rlWriteFile(t, filepath.Join(dir, f), "// "+f+"\n")
	}
	return dir
}

func rlWatched(w *watcher, root string) []string {
	var names []string
	for p := range w.files {
		rel, err := filepath.Rel(root, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = p
		}
		names = append(names, filepath.ToSlash(rel))
	}
	return names
}

func TestReloaderWatcherFiles(t *testing.T) {
	dir := rlModule(t)
	w := newWatcher(dir, nil, nil)
	_, changed := w.check()
	assert.False(t, changed, "the first check only takes a snapshot")
	assert.ElementsMatch(t, []string{
		"go.mod", "go.sum", "main.go", "pkg/util.go", "templates/index.html",
		"templates/mail/a.tmpl", "b.tpl",
	}, rlWatched(w, dir))
}

func TestReloaderWatcherDetects(t *testing.T) {
	dir := rlModule(t)
	w := newWatcher(dir, nil, nil)
	w.check()

	noChange := func(what string) {
		t.Helper()
		path, changed := w.check()
		assert.False(t, changed, "%s: reported %s", what, path)
	}
	change := func(what, want string) {
		t.Helper()
		path, changed := w.check()
		assert.True(t, changed, what)
		assert.Equal(t, filepath.Join(dir, want), path, what)
		noChange(what + ", checked again")
	}

	noChange("nothing")
	rlWriteFile(t, filepath.Join(dir, "main.go"), "package main // longer\n")
	change("modified (size)", "main.go")

	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "pkg/util.go"), later, later))
	change("modified (mtime only)", "pkg/util.go")

	// Saved as editors do, a new file renamed over the old, with the same
	// size and, as the kernel's coarse clock can give, the same mtime.
	mainGo := filepath.Join(dir, "main.go")
	fi, err := os.Stat(mainGo)
	require.NoError(t, err)
	rlWriteFile(t, mainGo+".swp", "package main // LONGER\n")
	require.NoError(t, os.Chtimes(mainGo+".swp", fi.ModTime(), fi.ModTime()))
	require.NoError(t, os.Rename(mainGo+".swp", mainGo))
	change("replaced (same size and mtime)", "main.go")

	rlWriteFile(t, filepath.Join(dir, "pkg/new.go"), "package pkg\n")
	change("created", "pkg/new.go")

	require.NoError(t, os.Remove(filepath.Join(dir, "templates/index.html")))
	change("removed", "templates/index.html")

	rlWriteFile(t, filepath.Join(dir, "newdir/deep/page.tmpl"), "x")
	change("created in a new directory", "newdir/deep/page.tmpl")

	for _, f := range []string{
		"vendor/x/x.go", "testdata/t.go", ".git/hooks/h.go", "_old/o.go",
		"node_modules/m/m.html", "sub/s.go", "main_test.go", "README.md",
		"static/app.js", ".hidden.go/x.go", "vendor/y/new.go",
	} {
		rlWriteFile(t, filepath.Join(dir, f), "package changed // "+f+"\n")
		noChange(f)
	}
}

func TestReloaderWatcherExcludePatterns(t *testing.T) {
	dir := rlModule(t)
	w := newWatcher(dir, nil, []string{
		"*_gen.go",                           // a base name
		"pkg/*.go",                           // relative to the module
		filepath.Join(dir, "templates", "*"), // an absolute path
		"mail",                               // a directory's name
	})
	w.check()
	assert.ElementsMatch(t, []string{"go.mod", "go.sum", "main.go", "b.tpl"}, rlWatched(w, dir))

	for _, f := range []string{"x_gen.go", "pkg/util.go", "pkg/new.go", "templates/index.html", "templates/mail/a.tmpl"} {
		rlWriteFile(t, filepath.Join(dir, f), "package changed // "+f+"\n")
		path, changed := w.check()
		assert.False(t, changed, "%s: reported %s", f, path)
	}
	rlWriteFile(t, filepath.Join(dir, "y.go"), "package main\n")
	path, changed := w.check()
	assert.True(t, changed)
	assert.Equal(t, filepath.Join(dir, "y.go"), path)
}

func TestReloaderWatcherExtraFiles(t *testing.T) {
	dir := rlModule(t)
	elsewhere := t.TempDir()
	conf := filepath.Join(elsewhere, "app.toml")
	missing := filepath.Join(elsewhere, "later.ini")
	confDir := filepath.Join(elsewhere, "conf.d")
	rlWriteFile(t, conf, "a = 1\n")
	rlWriteFile(t, filepath.Join(confDir, "one.conf"), "x\n")
	rlWriteFile(t, filepath.Join(confDir, "skip.bak"), "x\n")
	// A file the module walk skips is watched when named in ExtraFiles.
	vendored := filepath.Join(dir, "vendor/x/x.go")

	w := newWatcher(dir, []string{conf, missing, confDir, vendored}, []string{"*.bak"})
	w.check()
	assert.Contains(t, w.files, conf)
	assert.Contains(t, w.files, vendored)
	assert.Contains(t, w.files, filepath.Join(confDir, "one.conf"))
	assert.NotContains(t, w.files, filepath.Join(confDir, "skip.bak"))

	for _, tc := range []struct{ path, content string }{
		{conf, "a = 22\n"},
		{missing, "created\n"},
		{filepath.Join(confDir, "two.conf"), "new\n"},
		{vendored, "package x // edited\n"},
	} {
		rlWriteFile(t, tc.path, tc.content)
		path, changed := w.check()
		assert.True(t, changed, tc.path)
		assert.Equal(t, tc.path, path)
	}
	rlWriteFile(t, filepath.Join(confDir, "other.bak"), "x\n")
	_, changed := w.check()
	assert.False(t, changed, "excluded in an extra directory")

	// Without a module (the program cannot be rebuilt) only the extra
	// files are watched.
	w = newWatcher("", []string{conf}, nil)
	w.check()
	assert.Equal(t, []string{conf}, rlWatched(w, dir))
}

// ---------------------------------------------------------------------
// What to build.

func TestReloaderModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"module example.com/a\n\ngo 1.26\n":             "example.com/a",
		"// comment\nmodule   example.com/b // x\n":     "example.com/b",
		"module \"example.com/quoted\"\n":               "example.com/quoted",
		"go 1.26\nmodulex foo\nmodule\texample.com/c\n": "example.com/c",
		"go 1.26\n": "",
	} {
		assert.Equal(t, want, modulePath([]byte(in)), in)
	}
}

func TestReloaderFindBuildTarget(t *testing.T) {
	mod := t.TempDir()
	rlWriteFile(t, filepath.Join(mod, "go.mod"), "module example.com/app\n\ngo 1.26\n")
	rlWriteFile(t, filepath.Join(mod, "cmd/app/main.go"), "package main\n")
	mainGo := filepath.Join(mod, "cmd/app/main.go")
	bi := &debug.BuildInfo{
		Path: "example.com/app/cmd/app",
		Main: debug.Module{Path: "example.com/app"},
		Settings: []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "-race", Value: "true"},
			{Key: "-trimpath", Value: "false"},
			{Key: "-tags", Value: "dev,sqlite"},
			{Key: "-ldflags", Value: "-X main.v=1 -s"},
			{Key: "CGO_ENABLED", Value: "1"},
			{Key: "GOOS", Value: runtime.GOOS},
		},
	}

	t.Run("an import path, started in the module", func(t *testing.T) {
		tg, err := findBuildTarget(bi, filepath.Join(mod, "cmd"), mainGo)
		require.NoError(t, err)
		assert.Equal(t, &buildTarget{
			dir:    filepath.Join(mod, "cmd"),
			pkg:    "example.com/app/cmd/app",
			flags:  []string{"-race", "-tags=dev,sqlite", "-ldflags=-X main.v=1 -s"},
			env:    []string{"CGO_ENABLED=1"},
			modDir: mod,
			name:   "app",
		}, tg)
	})
	t.Run("started outside the module, main file unknown", func(t *testing.T) {
		_, err := findBuildTarget(bi, t.TempDir(), "")
		assert.Error(t, err, "no go.mod, and go list does not know example.com/app")
	})
	t.Run("started outside the module, main file known", func(t *testing.T) {
		tg, err := findBuildTarget(bi, t.TempDir(), mainGo)
		require.NoError(t, err)
		assert.Equal(t, mod, tg.modDir)
		assert.Equal(t, mod, tg.dir, "builds in the module")
	})
	t.Run("started in a workspace above the module", func(t *testing.T) {
		ws := filepath.Dir(mod)
		rlWriteFile(t, filepath.Join(ws, "go.work"), "go 1.26\n\nuse ./"+filepath.Base(mod)+"\n")
		defer os.Remove(filepath.Join(ws, "go.work"))
		tg, err := findBuildTarget(bi, ws, mainGo)
		require.NoError(t, err)
		assert.Equal(t, ws, tg.dir, "builds in the workspace")
	})
	t.Run("go run main.go", func(t *testing.T) {
		files := *bi
		files.Path = "command-line-arguments"
		tg, err := findBuildTarget(&files, mod, mainGo)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(mod, "cmd/app"), tg.pkg, "the directory of func main")
		assert.Equal(t, mod, tg.dir)
		assert.Equal(t, "app", tg.name)

		tg, err = findBuildTarget(&files, filepath.Join(mod, "cmd"), "")
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(mod, "cmd"), tg.pkg, "the working directory")
	})
	t.Run("another module's go.mod above the working directory", func(t *testing.T) {
		other := t.TempDir()
		rlWriteFile(t, filepath.Join(other, "go.mod"), "module example.com/other\n")
		tg, err := findBuildTarget(bi, other, mainGo)
		require.NoError(t, err)
		assert.Equal(t, mod, tg.modDir)
		assert.Equal(t, mod, tg.dir)
	})
	t.Run("cannot rebuild", func(t *testing.T) {
		_, err := findBuildTarget(nil, mod, "")
		assert.Error(t, err)
		test := *bi
		test.Path = "example.com/app/cmd/app.test"
		_, err = findBuildTarget(&test, mod, mainGo)
		assert.Error(t, err)
	})
}

func TestReloaderNotAChild(t *testing.T) {
	if isReloaderChild() {
		t.Skip("run by the reloader")
	}
	ln, err := inheritedListener()
	assert.NoError(t, err)
	assert.Nil(t, ln)
	reloaderChildReady() // does nothing
}

// ---------------------------------------------------------------------
// Helpers for the tests with processes.

// waitFor polls cond until it holds or d passes.
func rlWaitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rlGet(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return string(body), err
}

// rlHammer requests url in a loop and records every error and every body.
type rlHammer struct {
	mu     sync.Mutex
	errs   []string
	bodies map[string]int
	stop   chan struct{}
	done   chan struct{}
}

func rlStartHammer(url string, keepAlive bool) *rlHammer {
	h := &rlHammer{bodies: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	tr := &http.Transport{DisableKeepAlives: !keepAlive}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	go func() {
		defer close(h.done)
		defer tr.CloseIdleConnections()
		for {
			select {
			case <-h.stop:
				return
			default:
			}
			body, err := rlGet(client, url)
			h.mu.Lock()
			if err != nil {
				h.errs = append(h.errs, time.Now().Format("15:04:05.000")+" "+err.Error())
			} else {
				h.bodies[body]++
			}
			h.mu.Unlock()
			time.Sleep(3 * time.Millisecond)
		}
	}()
	return h
}

// saw reports whether some request got body.
func (h *rlHammer) saw(body string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bodies[body] > 0
}

// finish stops the loop and returns the errors and how many requests
// succeeded.
func (h *rlHammer) finish() ([]string, map[string]int) {
	close(h.stop)
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.errs, h.bodies
}

// rlMessages returns the output without the access log.
func rlMessages(out *testutil.SyncBuffer) string {
	var keep []string
	for _, line := range strings.SplitAfter(out.String(), "\n") {
		if !strings.HasPrefix(line, "127.0.0.1 - - [") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

// rlAssertOutput checks that the output has want, without printing it all.
func rlAssertOutput(t *testing.T, out *testutil.SyncBuffer, want string, msgAndArgs ...any) {
	t.Helper()
	if !strings.Contains(out.String(), want) {
		assert.Fail(t, fmt.Sprintf("the output lacks %q (it is logged below)", want), msgAndArgs...)
	}
}

// A program started from an executable older than its module's sources is
// rebuilt before it runs: stale names the first such file. Files outside
// the module (extra files) do not make it stale.
func TestReloaderStale(t *testing.T) {
	dir := rlModule(t)
	other := filepath.Join(t.TempDir(), "settings.toml")
	rlWriteFile(t, other, "x = 1\n")
	exe := filepath.Join(t.TempDir(), "program")
	rlWriteFile(t, exe, "")
	r := &reloader{exe: exe, target: &buildTarget{modDir: dir}, watch: newWatcher(dir, []string{other}, nil)}
	r.watch.check()

	setExeTime := func(d time.Duration) {
		when := time.Now().Add(d)
		require.NoError(t, os.Chtimes(exe, when, when))
	}
	setExeTime(time.Hour)
	_, stale := r.stale()
	assert.False(t, stale, "the executable is newer than every source")

	setExeTime(-time.Hour)
	path, stale := r.stale()
	assert.True(t, stale)
	assert.Equal(t, filepath.Join(dir, "b.tpl"), path, "the first newer file, by name")

	later := time.Now().Add(2 * time.Hour)
	require.NoError(t, os.Chtimes(other, later, later))
	setExeTime(time.Hour)
	r.watch.check()
	_, stale = r.stale()
	assert.False(t, stale, "a newer file outside the module does not count")

	r.target = nil
	setExeTime(-time.Hour)
	_, stale = r.stale()
	assert.False(t, stale, "a program the reloader cannot build is never stale")
}
