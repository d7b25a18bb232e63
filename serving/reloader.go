package serving

// The reloader, werkzeug's run_with_reloader for a compiled program.
//
// With Options.UseReloader, RunSimple binds the socket and calls runReloader
// instead of serving: that process is the parent. It never serves. It runs
// the program as a child that serves on the parent's socket, polls the
// sources, and on a change rebuilds the program with `go build`, starts the
// new build as a second child on the same socket, waits until it serves,
// then stops the old child gracefully. Both children accept on the one
// listening socket during the overlap, so a client is never refused. A
// build that fails is reported and the old child keeps serving.
//
// The protocol between the parent and a child:
//
//   - The child's environment has VIAL_RELOADER_CHILD=1 (user code may test
//     it, as Flask users test WERKZEUG_RUN_MAIN) and the numbers of three
//     inherited descriptors (os/exec ExtraFiles):
//     VIAL_RELOADER_FD=3, the listening socket (a dup of the parent's, same
//     open file description: one accept queue for all processes);
//     VIAL_RELOADER_READY_FD=4, the write end of a pipe: the child writes
//     one byte and closes it when it serves;
//     VIAL_RELOADER_CONTROL_FD=5, the read end of a pipe whose write end only
//     the parent holds. A byte 'd' there means "drain": stop accepting (the
//     child closes its copy of the socket; its Accept then waits for the
//     server to close the listener). A byte 's' means "stop": unless the
//     server closes the listener within 250ms (it is shutting down already,
//     on the SIGINT that Ctrl+C sent to the whole process group), the child
//     sends itself SIGTERM. EOF means the parent is gone (even by SIGKILL)
//     and is handled as 's', so no orphan keeps the port.
//   - The arguments, working directory, stdin, stdout and stderr are the
//     parent's.
//   - inheritedListener (called by RunSimple in the child) opens fd 3 with
//     net.FileListener and wraps it so that the first call of Accept, which
//     is the moment http.Server.Serve starts serving, writes the ready byte.
//     reloaderChildReady does the same explicitly; either is enough and the
//     byte is written once.
//   - When a new child serves, the parent drains the old one, waits 200ms
//     so that the connections it accepted last have sent their requests
//     (net/http's Shutdown drops a connection whose first request is not
//     read yet), then sends it SIGTERM: RunSimple's graceful shutdown
//     finishes the requests in flight. On exit the parent sends 's' to a
//     child that serves (so that a child already shutting down on Ctrl+C
//     gets no second signal, which would kill it at once) and SIGTERM to
//     one that does not serve yet. A child still running
//     Options.ShutdownTimeout plus 5s later is killed. The children stay in
//     the parent's process group: they read the terminal, and a second
//     Ctrl+C kills them all.
//
// The first child is the running executable itself (os.Executable), so
// startup costs no build. The rebuilt program is the main package recorded
// in the executable's build information (debug.ReadBuildInfo), built in the
// working directory the program was started in (so a go.work or the go.mod
// there, with its replace directives, is honoured) with the build flags
// recorded there too (-race, -tags, -trimpath, -gcflags, -ldflags,
// CGO_ENABLED). A program built from files ("go run main.go": the package
// is "command-line-arguments") is rebuilt from the directory of the file
// holding func main (found from the call stack), or else the working
// directory: the whole directory, not just the files named to go run.
//
// The watched files are, under the main module's directory: the .go files
// (not _test.go), go.mod, go.sum, go.work and the templates (*.html,
// *.tmpl, *.tpl), skipping vendor, testdata, node_modules, directories
// whose name starts with "." or "_" and directories holding another
// go.mod; plus Options.ExtraFiles (a directory there stands for every file
// under it); minus Options.ExcludePatterns. The files are polled every
// Options.ReloaderInterval, comparing modification times and sizes and
// noticing files that appear or disappear, as werkzeug's StatReloader does.
//
// When the program cannot be rebuilt (no build information, a test binary,
// no main module found), the reloader says so and restarts the same
// executable when a watched file changes.
//
// The reloader needs a Unix system: runReloader fails elsewhere.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The environment of a child, see the protocol above.
const (
	envChild     = "VIAL_RELOADER_CHILD"
	envFD        = "VIAL_RELOADER_FD"
	envReadyFD   = "VIAL_RELOADER_READY_FD"
	envControlFD = "VIAL_RELOADER_CONTROL_FD"
)

// The bytes on the control pipe: stop accepting; stop.
const (
	drainByte = 'd'
	stopByte  = 's'
)

const (
	// readyWarning is how long a new child may take to serve before the
	// parent says it is still waiting.
	readyWarning = 10 * time.Second
	// killGrace is added to Options.ShutdownTimeout before a child that
	// does not stop on SIGTERM is killed.
	killGrace = 5 * time.Second
	// drainDelay is the time between draining an old child and sending it
	// SIGTERM.
	drainDelay = 200 * time.Millisecond
	// stopGrace is how long a child told to stop waits for its server to
	// be shutting down already before it sends itself SIGTERM.
	stopGrace = 250 * time.Millisecond
	// settleDelay is how long the poller waits, after a change, for the
	// files to stop changing (an editor writing a file in steps, a git
	// checkout) before building.
	settleDelay = 50 * time.Millisecond
)

// ---------------------------------------------------------------------
// The child's side.

// isReloaderChild reports whether this process is a child started by the
// reloader.
func isReloaderChild() bool { return os.Getenv(envChild) == "1" }

var inherited struct {
	once sync.Once
	ln   net.Listener
	err  error

	readyOnce sync.Once
	ready     *os.File // the write end of the ready pipe, or nil
}

// inheritedListener returns the listening socket the reloader's parent
// handed down, or nil when there is none. The first call also starts
// reading the control pipe (drain, or the parent is gone); later calls
// return the same listener.
//
// The listener reports the child ready (reloaderChildReady) the first time
// its Accept is called.
func inheritedListener() (net.Listener, error) {
	if !isReloaderChild() {
		return nil, nil
	}
	inherited.once.Do(func() {
		inherited.ln, inherited.err = openInherited()
	})
	return inherited.ln, inherited.err
}

func openInherited() (net.Listener, error) {
	fd, err := envFDNumber(envFD)
	if err != nil {
		return nil, err
	}
	if fd < 0 {
		return nil, fmt.Errorf("serving: %s=1 but %s is not set", envChild, envFD)
	}
	if fd, err := envFDNumber(envReadyFD); err == nil && fd >= 0 {
		closeOnExec(fd)
		inherited.ready = os.NewFile(uintptr(fd), "vial-reloader-ready")
	}
	f := os.NewFile(uintptr(fd), "vial-reloader-listener")
	if f == nil {
		return nil, fmt.Errorf("serving: bad %s", envFD)
	}
	ln, err := net.FileListener(f) // a close-on-exec dup
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("serving: the socket from the reloader: %w", err)
	}
	cl := newChildListener(ln)
	if fd, err := envFDNumber(envControlFD); err == nil && fd >= 0 {
		closeOnExec(fd)
		go readControl(os.NewFile(uintptr(fd), "vial-reloader-control"), cl)
	}
	return cl, nil
}

func envFDNumber(name string) (int, error) {
	s := os.Getenv(name)
	if s == "" {
		return -1, nil
	}
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return -1, fmt.Errorf("serving: bad %s=%q", name, s)
	}
	return fd, nil
}

// readControl obeys the parent's control pipe (see the protocol).
func readControl(f *os.File, ln *childListener) {
	defer f.Close()
	var b [1]byte
	for {
		n, err := f.Read(b[:])
		if n == 1 {
			switch b[0] {
			case drainByte:
				ln.drain()
			case stopByte:
				go ln.stop()
			}
		}
		if err != nil { // the parent is gone
			ln.stop()
			return
		}
	}
}

// reloaderChildReady tells the reloader's parent that this child serves, so
// that it stops the previous one. The listener from inheritedListener calls
// it on its first Accept; calling it again, or outside a reloader child,
// does nothing.
func reloaderChildReady() {
	inherited.readyOnce.Do(func() {
		if f := inherited.ready; f != nil {
			_, _ = f.Write([]byte{1})
			f.Close()
		}
	})
}

// childListener is the inherited socket. It reports the child ready when
// the server first accepts on it; once drained, its Accept waits for Close
// instead of failing, so that the server goes on with the connections it
// has until it is shut down.
type childListener struct {
	net.Listener
	drainOnce, closeOnce sync.Once
	drained, closed      chan struct{}
}

func newChildListener(ln net.Listener) *childListener {
	return &childListener{Listener: ln, drained: make(chan struct{}), closed: make(chan struct{})}
}

func (l *childListener) Accept() (net.Conn, error) {
	reloaderChildReady()
	c, err := l.Listener.Accept()
	if err != nil {
		select {
		case <-l.drained:
			<-l.closed
		default:
		}
	}
	return c, err
}

// drain stops accepting: this process's copy of the socket is closed, the
// connections wait in the socket's queue for the other processes.
func (l *childListener) drain() {
	l.drainOnce.Do(func() {
		close(l.drained)
		_ = l.Listener.Close()
	})
}

// stop sends this process SIGTERM, as the parent would, unless its server
// closes the listener (it is shutting down) within stopGrace.
func (l *childListener) stop() {
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-l.closed:
	case <-t.C:
		_ = terminateSelf()
	}
}

func (l *childListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.closed) })
	select {
	case <-l.drained:
		return nil // closed already
	default:
		return err
	}
}

// ---------------------------------------------------------------------
// The parent's side.

// runReloader is the parent's loop: it keeps ln open, runs the program as a
// child serving on ln, and rebuilds and restarts it when the sources change,
// until interrupted (SIGINT, SIGTERM), when it stops the child and returns
// nil. It also returns nil when the child exits with status 0 by itself. It
// closes ln.
func runReloader(ln net.Listener, opts Options) error {
	defer ln.Close()
	ctx, stop := signalContext()
	defer stop()
	r, err := newReloader(ln, opts, mainFile())
	if err != nil {
		return err
	}
	defer r.close()
	return r.run(ctx)
}

// mainFile returns the file holding func main, if it is on the stack.
func mainFile() string {
	pcs := make([]uintptr, 100)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	for {
		f, more := frames.Next()
		if f.Function == "main.main" {
			return f.File
		}
		if !more {
			return ""
		}
	}
}

type reloader struct {
	out      io.Writer
	interval time.Duration
	stopWait time.Duration // SIGTERM to kill

	lnFile *os.File // the socket, handed to every child

	exe    string   // what the first child runs
	args   []string // the program's arguments
	target *buildTarget
	tmpDir string
	builds int
	watch  *watcher

	stopping sync.WaitGroup // children being stopped
}

func newReloader(ln net.Listener, opts Options, mainFile string) (*reloader, error) {
	r := &reloader{
		out:      opts.Output,
		interval: opts.ReloaderInterval,
		stopWait: orDefault(opts.ShutdownTimeout, DefaultShutdownTimeout) + killGrace,
		args:     os.Args[1:],
	}
	if r.out == nil {
		r.out = os.Stderr
	}
	r.out = &lockedWriter{w: r.out}
	if r.interval <= 0 {
		r.interval = time.Second
	}

	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("serving: reloader: %w", err)
	}
	r.exe = exe
	if r.lnFile, err = listenerFile(ln); err != nil {
		return nil, fmt.Errorf("serving: reloader: %w", err)
	}

	cwd, err := os.Getwd()
	if err != nil {
		r.close()
		return nil, fmt.Errorf("serving: reloader: %w", err)
	}
	bi, _ := debug.ReadBuildInfo()
	root := ""
	r.target, err = findBuildTarget(bi, cwd, mainFile)
	if err == nil {
		root = r.target.modDir
		r.tmpDir, err = os.MkdirTemp("", "vial-reloader-")
	}
	if err != nil {
		r.target = nil
		fmt.Fprintf(r.out, " * The reloader cannot rebuild this program (%v): it restarts it unchanged when a watched file changes\n", err)
	}
	r.watch = newWatcher(root, absPaths(cwd, opts.ExtraFiles), opts.ExcludePatterns)
	return r, nil
}

func (r *reloader) close() {
	if r.lnFile != nil {
		r.lnFile.Close()
	}
	if r.tmpDir != "" {
		os.RemoveAll(r.tmpDir)
	}
}

// run is the loop, until ctx ends. runReloader's context stops catching
// the signals once one came (signalContext), so that a second Ctrl+C kills
// the parent at once (the children, which got it too, die; any other child
// sees its control pipe close and stops).
func (r *reloader) run(ctx context.Context) error {
	defer r.stopping.Wait()
	r.watch.check() // the first snapshot

	// The executable itself is the first child, unless the sources are
	// newer (a stale binary): then a build, if it works.
	exe, owned := r.exe, false
	if path, stale := r.stale(); stale {
		fmt.Fprintf(r.out, " * %s is newer than the executable, rebuilding\n", pyQuote(path))
		if built, output, err := r.build(ctx); err == nil {
			exe, owned = built, true
		} else if ctx.Err() != nil {
			return nil
		} else {
			r.buildFailed(err, output, "running the executable as it is")
		}
	}
	fmt.Fprintln(r.out, " * Restarting with stat")
	cur, err := r.startChild(exe, owned)
	if err != nil {
		return fmt.Errorf("serving: reloader: %w", err)
	}
	var pending *child
	var slow <-chan time.Time // fires when pending is slow to serve
	tick := time.NewTicker(r.interval)
	defer tick.Stop()

	for {
		var curDone, pendingReady, pendingDone <-chan struct{}
		if cur != nil {
			curDone = cur.done
		}
		if pending != nil {
			pendingReady, pendingDone = pending.ready, pending.done
		}
		select {
		case <-ctx.Done():
			r.stopAsync(cur, false)
			r.stopAsync(pending, false)
			return nil

		case <-curDone:
			code := cur.exitCode()
			cur = nil
			if code == 0 && pending == nil {
				return nil // the program ended
			}
			fmt.Fprintf(r.out, " * The program exited with %s; it restarts when a watched file changes\n", exitStatus(code))

		case <-pendingReady:
			r.stopAsync(cur, true)
			cur, pending, slow = pending, nil, nil

		case <-pendingDone:
			fmt.Fprintf(r.out, " * The new build exited with %s before serving", exitStatus(pending.exitCode()))
			if cur != nil {
				fmt.Fprint(r.out, "; the previous one keeps serving")
			}
			fmt.Fprintln(r.out)
			pending, slow = nil, nil

		case <-slow:
			fmt.Fprintf(r.out, " * The new build is not serving after %s; the previous one serves until it does\n", readyWarning)
			slow = nil

		case <-tick.C:
			path, changed := r.watch.check()
			if !changed {
				continue
			}
			r.settle(ctx)
			fmt.Fprintf(r.out, " * Detected change in %s, reloading\n", pyQuote(path))
			exe, owned := r.exe, false
			if r.target != nil {
				var err error
				var output []byte
				exe, output, err = r.build(ctx)
				if ctx.Err() != nil {
					continue // interrupted: the next round returns
				}
				if err != nil {
					what := "the program is not running"
					if cur != nil {
						what = "the last good build keeps serving"
					}
					r.buildFailed(err, output, what)
					continue
				}
				owned = true
			}
			r.stopAsync(pending, true) // superseded
			fmt.Fprintln(r.out, " * Restarting with stat")
			next, err := r.startChild(exe, owned)
			if err != nil {
				fmt.Fprintf(r.out, " * Could not start the new build: %v\n", err)
				pending, slow = nil, nil
				continue
			}
			pending, slow = next, time.After(readyWarning)
		}
	}
}

// settle waits until a check finds no change (at most 20 rounds).
func (r *reloader) settle(ctx context.Context) {
	for range 20 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(settleDelay):
		}
		if _, changed := r.watch.check(); !changed {
			return
		}
	}
}

// build runs go build; it returns the new executable, or the compiler's
// output and an error.
func (r *reloader) build(ctx context.Context) (string, []byte, error) {
	r.builds++
	t := r.target
	exe := filepath.Join(r.tmpDir, fmt.Sprintf("%s-%d%s", t.name, r.builds, exeSuffix()))
	args := append([]string{"build", "-o", exe}, t.flags...)
	args = append(args, t.pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	// Interrupted, go stops its compilers too.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Dir = t.dir
	cmd.Env = append(os.Environ(), t.env...)
	output, err := cmd.CombinedOutput()
	if err != nil {
		os.Remove(exe)
		return "", output, err
	}
	return exe, output, nil
}

func (r *reloader) buildFailed(err error, output []byte, what string) {
	fmt.Fprintf(r.out, " * Build failed (%v); %s\n", err, what)
	r.out.Write(output)
	if len(output) > 0 && output[len(output)-1] != '\n' {
		fmt.Fprintln(r.out)
	}
}

// stale returns a watched file of the module newer than the executable.
func (r *reloader) stale() (string, bool) {
	if r.target == nil {
		return "", false
	}
	fi, err := os.Stat(r.exe)
	if err != nil {
		return "", false
	}
	var newer []string
	for p, st := range r.watch.files {
		if within(r.target.modDir, p) && st.mtime.After(fi.ModTime()) {
			newer = append(newer, p)
		}
	}
	if len(newer) == 0 {
		return "", false
	}
	return slices.Min(newer), true
}

// child is one run of the program.
type child struct {
	cmd     *exec.Cmd
	control *os.File      // the write end of its control pipe
	ready   chan struct{} // closed when it serves
	done    chan struct{} // closed when it has exited
}

func (c *child) exitCode() int { return c.cmd.ProcessState.ExitCode() }

func (c *child) serving() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// startChild runs exe as a child on the socket; owned means exe is a build
// of ours, removed when the child exits.
func (r *reloader) startChild(exe string, owned bool) (*child, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	controlR, controlW, err := os.Pipe()
	if err != nil {
		readyR.Close()
		readyW.Close()
		return nil, err
	}
	cmd := exec.Command(exe, r.args...)
	if len(os.Args) > 0 {
		cmd.Args[0] = os.Args[0] // the program's name, not the build's path
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{r.lnFile, readyW, controlR} // 3, 4, 5
	cmd.Env = append(os.Environ(),
		envChild+"=1", envFD+"=3", envReadyFD+"=4", envControlFD+"=5")
	err = cmd.Start()
	readyW.Close()
	controlR.Close()
	if err != nil {
		readyR.Close()
		controlW.Close()
		if owned {
			os.Remove(exe)
		}
		return nil, err
	}
	c := &child{cmd: cmd, control: controlW, ready: make(chan struct{}), done: make(chan struct{})}
	go func() {
		var b [1]byte
		if n, _ := readyR.Read(b[:]); n == 1 {
			close(c.ready)
		}
	}()
	go func() {
		_ = cmd.Wait()
		readyR.Close()
		controlW.Close()
		if owned {
			os.Remove(exe)
		}
		close(c.done)
	}()
	return c, nil
}

// stopAsync stops c (if not nil) gracefully, killing it if it takes longer
// than r.stopWait; run waits for it before returning. handoff means that
// another child serves: c is drained first; otherwise the parent exits.
// See the protocol.
func (r *reloader) stopAsync(c *child, handoff bool) {
	if c == nil {
		return
	}
	r.stopping.Add(1)
	go func() {
		defer r.stopping.Done()
		// A failed write means that the child has exited.
		switch {
		case handoff:
			if _, err := c.control.Write([]byte{drainByte}); err == nil {
				select {
				case <-c.done:
					return
				case <-time.After(drainDelay):
				}
			}
			_ = terminate(c.cmd.Process)
		case c.serving():
			if _, err := c.control.Write([]byte{stopByte}); err != nil {
				_ = terminate(c.cmd.Process)
			}
		default:
			_ = terminate(c.cmd.Process)
		}
		t := time.NewTimer(r.stopWait)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
			fmt.Fprintf(r.out, " * Process %d did not stop within %s; killing it\n", c.cmd.Process.Pid, r.stopWait)
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}()
}

func exitStatus(code int) string {
	if code < 0 {
		return "a signal"
	}
	return fmt.Sprintf("status %d", code)
}

// pyQuote quotes s as werkzeug's messages do (Python's repr of a str).
func pyQuote(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}

func absPaths(cwd string, paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		out = append(out, filepath.Clean(p))
	}
	return out
}

// ---------------------------------------------------------------------
// What to build.

// buildTarget is how to rebuild the running program: go build -o EXE
// flags... pkg, run in dir with env added.
type buildTarget struct {
	dir    string   // where go build runs
	pkg    string   // the main package: an import path or a directory
	flags  []string // the recorded build flags
	env    []string // the recorded environment (CGO_ENABLED)
	modDir string   // the main module's directory, watched
	name   string   // the executable's base name
}

// findBuildTarget works out how to rebuild the program described by bi,
// started in cwd, whose func main is in mainFile ("" if unknown).
func findBuildTarget(bi *debug.BuildInfo, cwd, mainFile string) (*buildTarget, error) {
	if bi == nil || bi.Path == "" {
		return nil, errors.New("no build information")
	}
	if strings.HasSuffix(bi.Path, ".test") {
		return nil, errors.New("a test binary")
	}
	mainDir := ""
	if mainFile != "" && filepath.IsAbs(mainFile) {
		if _, err := os.Stat(mainFile); err == nil {
			mainDir = filepath.Dir(mainFile)
		}
	}
	t := &buildTarget{pkg: bi.Path, name: filepath.Base(bi.Path)}
	if bi.Path == "command-line-arguments" {
		dir := mainDir
		if dir == "" {
			dir = cwd
		}
		t.pkg, t.name = dir, filepath.Base(dir)
	}
	t.flags, t.env = buildFlags(bi)

	// The main module: its go.mod is above func main's file, or above the
	// working directory, or go list knows where it is.
	for _, start := range []string{mainDir, cwd} {
		if start == "" {
			continue
		}
		if dir, path := findGoMod(start); dir != "" && (bi.Main.Path == "" || path == bi.Main.Path) {
			t.modDir = dir
			break
		}
	}
	if t.modDir == "" && bi.Main.Path != "" && bi.Main.Path != "command-line-arguments" {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", bi.Main.Path)
		cmd.Dir = cwd
		if out, err := cmd.Output(); err == nil {
			t.modDir = strings.TrimSpace(string(out))
		}
	}
	if t.modDir == "" {
		return nil, fmt.Errorf("main module %q not found from %s", bi.Main.Path, cwd)
	}

	// Build where the program was started, so that its go.work or go.mod
	// (replace directives) applies, unless that is outside the module and
	// any workspace.
	t.dir = t.modDir
	if within(t.modDir, cwd) || findUp(cwd, "go.work") != "" {
		t.dir = cwd
	}
	return t, nil
}

// buildFlags returns the flags and environment of the original build that
// matter to the rebuild.
func buildFlags(bi *debug.BuildInfo) (flags, env []string) {
	for _, s := range bi.Settings {
		switch s.Key {
		case "-race", "-msan", "-asan", "-trimpath":
			if s.Value == "true" {
				flags = append(flags, s.Key)
			}
		case "-tags", "-gcflags", "-ldflags":
			if s.Value != "" {
				flags = append(flags, s.Key+"="+s.Value)
			}
		case "CGO_ENABLED":
			env = append(env, s.Key+"="+s.Value)
		}
	}
	return flags, env
}

// findGoMod returns the directory of the go.mod governing dir, and its
// module path.
func findGoMod(dir string) (modDir, modPath string) {
	gomod := findUp(dir, "go.mod")
	if gomod == "" {
		return "", ""
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", ""
	}
	return filepath.Dir(gomod), modulePath(data)
}

// findUp returns the path of name in dir or the nearest parent holding it.
func findUp(dir, name string) string {
	for {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// modulePath returns the path in a go.mod's module directive.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if s, err := strconv.Unquote(rest); err == nil {
			return s
		}
		return rest
	}
	return ""
}

// within reports whether path is dir or under it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// ---------------------------------------------------------------------
// The watcher.

// fileStat is what the poller compares: the modification time and size,
// and the file itself. A file's mtime comes from the kernel's coarse clock,
// which can give a write made milliseconds after another the same time; an
// editor that saves by writing a new file and renaming it over the old one
// is still seen, as another file (os.SameFile).
type fileStat struct {
	mtime time.Time
	size  int64
	info  os.FileInfo
}

func statOf(fi os.FileInfo) fileStat { return fileStat{fi.ModTime(), fi.Size(), fi} }

// same reports whether s and o describe the file unchanged.
func (s fileStat) same(o fileStat) bool {
	return s.mtime.Equal(o.mtime) && s.size == o.size && os.SameFile(s.info, o.info)
}

// watcher polls the files of a module directory and extra files, as
// werkzeug's StatReloader does.
type watcher struct {
	root    string   // the module directory, or ""
	extra   []string // absolute files or directories
	exclude []string // filepath.Match patterns
	files   map[string]fileStat
}

func newWatcher(root string, extra, exclude []string) *watcher {
	return &watcher{root: root, extra: extra, exclude: exclude}
}

// check takes a new snapshot and returns a path that was modified,
// created or removed since the previous one (the first in order, modified
// and created before removed), if any. The first check only takes the
// snapshot.
func (w *watcher) check() (string, bool) {
	old, cur := w.files, w.snapshot()
	w.files = cur
	if old == nil {
		return "", false
	}
	var changed []string
	for p, st := range cur {
		if o, ok := old[p]; !ok || !o.same(st) {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		for p := range old {
			if _, ok := cur[p]; !ok {
				changed = append(changed, p)
			}
		}
	}
	if len(changed) == 0 {
		return "", false
	}
	return slices.Min(changed), true
}

func (w *watcher) snapshot() map[string]fileStat {
	files := make(map[string]fileStat)
	if w.root != "" {
		w.walk(w.root, files, true)
	}
	for _, p := range w.extra {
		fi, err := os.Stat(p)
		switch {
		case err != nil || w.excluded(p):
		case fi.IsDir():
			w.walk(p, files, false)
		default:
			files[p] = statOf(fi)
		}
	}
	return files
}

// walk adds the watched files under root: with module, a module's sources
// (see the package comment), else all files.
func (w *watcher) walk(root string, files map[string]fileStat, module bool) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && (w.excluded(p) || module && skipDir(p, d.Name())) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || module && !watchedFile(d.Name()) || w.excluded(p) {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			files[p] = statOf(fi)
		}
		return nil
	})
}

// skipDir reports whether a module directory is not part of the program's
// sources.
func skipDir(path, name string) bool {
	switch {
	case name == "vendor", name == "testdata", name == "node_modules",
		strings.HasPrefix(name, "."), strings.HasPrefix(name, "_"):
		return true
	}
	_, err := os.Stat(filepath.Join(path, "go.mod"))
	return err == nil // another module
}

// watchedFile reports whether a file in the module is watched.
func watchedFile(name string) bool {
	switch name {
	case "go.mod", "go.sum", "go.work", "go.work.sum":
		return true
	}
	switch filepath.Ext(name) {
	case ".go":
		return !strings.HasSuffix(name, "_test.go")
	case ".html", ".tmpl", ".tpl":
		return true
	}
	return false
}

// excluded reports whether an exclude pattern matches the path, the path
// relative to the module directory or the base name.
func (w *watcher) excluded(path string) bool {
	if len(w.exclude) == 0 {
		return false
	}
	names := []string{path, filepath.Base(path)}
	if w.root != "" {
		if rel, err := filepath.Rel(w.root, path); err == nil && !strings.HasPrefix(rel, "..") {
			names = append(names, rel)
		}
	}
	for _, pat := range w.exclude {
		for _, n := range names {
			if ok, _ := filepath.Match(pat, n); ok {
				return true
			}
		}
	}
	return false
}
