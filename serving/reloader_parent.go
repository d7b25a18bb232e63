package serving

// The reloader's parent: the process that holds the socket, runs the
// program as a child, and replaces the child with a new build when the
// sources change (the protocol is in reloader.go).

import (
	"context"
	"fmt"
	"io"
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

const (
	// readyWarning is how long a new child may take to serve before the
	// parent says it is still waiting.
	readyWarning = 10 * time.Second
	// settleDelay is how long the poller waits, after a change, for the
	// files to stop changing (an editor writing a file in steps, a git
	// checkout) before building.
	settleDelay = 50 * time.Millisecond
)

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

	// run's state: the child that serves and the new build that is to
	// take over from it.
	cur     *child           // serves, or nil: the program is not running
	pending *child           // a new build not serving yet, or nil
	slow    <-chan time.Time // fires when pending is slow to serve
}

func newReloader(ln net.Listener, opts Options, mainFile string) (*reloader, error) {
	r := &reloader{
		out:      opts.Output,
		interval: opts.ReloaderInterval,
		stopWait: orDefault(opts.ShutdownTimeout, defaultShutdownTimeout) + killGrace,
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
	exe, owned, ok := r.firstExecutable(ctx)
	if !ok {
		return nil // interrupted while building
	}
	fmt.Fprintln(r.out, " * Restarting with stat")
	cur, err := r.startChild(exe, owned)
	if err != nil {
		return fmt.Errorf("serving: reloader: %w", err)
	}
	r.cur = cur
	tick := time.NewTicker(r.interval)
	defer tick.Stop()

	for {
		select {
		case <-ctx.Done():
			r.stopAsync(r.cur, false)
			r.stopAsync(r.pending, false)
			return nil
		case <-r.cur.exited():
			if r.programEnded() {
				return nil
			}
		case <-r.pending.serves():
			r.handOver()
		case <-r.pending.exited():
			r.pendingExited()
		case <-r.slow:
			fmt.Fprintf(r.out, " * The new build is not serving after %s; the previous one serves until it does\n", readyWarning)
			r.slow = nil
		case <-tick.C:
			if path, changed := r.watch.check(); changed {
				r.reload(ctx, path)
			}
		}
	}
}

// firstExecutable returns what the first child runs: the executable
// itself, unless the sources are newer (a stale binary): then a build, if
// it works. ok is false when the build was interrupted.
func (r *reloader) firstExecutable(ctx context.Context) (exe string, owned, ok bool) {
	path, stale := r.stale()
	if !stale {
		return r.exe, false, true
	}
	fmt.Fprintf(r.out, " * %s is newer than the executable, rebuilding\n", pyQuote(path))
	built, output, err := r.build(ctx)
	switch {
	case err == nil:
		return built, true, true
	case ctx.Err() != nil:
		return "", false, false
	}
	r.buildFailed(err, output, "running the executable as it is")
	return r.exe, false, true
}

// programEnded handles the exit of the child that served. It reports
// whether the reloader is done: the program ended by itself (status 0)
// and no new build is on its way. Otherwise the next change restarts it.
func (r *reloader) programEnded() bool {
	code := r.cur.exitCode()
	r.cur = nil
	if code == 0 && r.pending == nil {
		return true
	}
	fmt.Fprintf(r.out, " * The program exited with %s; it restarts when a watched file changes\n", exitStatus(code))
	return false
}

// handOver makes the new build, which serves now, the current child, and
// stops the previous one.
func (r *reloader) handOver() {
	r.stopAsync(r.cur, true)
	r.cur, r.pending, r.slow = r.pending, nil, nil
}

// pendingExited reports a new build that exited before it served.
func (r *reloader) pendingExited() {
	fmt.Fprintf(r.out, " * The new build exited with %s before serving", exitStatus(r.pending.exitCode()))
	if r.cur != nil {
		fmt.Fprint(r.out, "; the previous one keeps serving")
	}
	fmt.Fprintln(r.out)
	r.pending, r.slow = nil, nil
}

// reload answers a change to path: once the files settle, it rebuilds the
// program and starts the build as the pending child, in place of any
// pending one. A failed build leaves the children as they are.
func (r *reloader) reload(ctx context.Context, path string) {
	r.settle(ctx)
	fmt.Fprintf(r.out, " * Detected change in %s, reloading\n", pyQuote(path))
	exe, owned, ok := r.rebuild(ctx)
	if !ok {
		return
	}
	r.stopAsync(r.pending, true) // superseded
	fmt.Fprintln(r.out, " * Restarting with stat")
	next, err := r.startChild(exe, owned)
	if err != nil {
		fmt.Fprintf(r.out, " * Could not start the new build: %v\n", err)
		r.pending, r.slow = nil, nil
		return
	}
	r.pending, r.slow = next, time.After(readyWarning)
}

// rebuild returns what the next child runs: a new build, or the executable
// itself when the program cannot be rebuilt. ok is false when there is
// nothing to run: the build failed (it says so) or was interrupted (run's
// next round returns).
func (r *reloader) rebuild(ctx context.Context) (exe string, owned, ok bool) {
	if r.target == nil {
		return r.exe, false, true
	}
	exe, output, err := r.build(ctx)
	if ctx.Err() != nil {
		return "", false, false
	}
	if err != nil {
		what := "the program is not running"
		if r.cur != nil {
			what = "the last good build keeps serving"
		}
		r.buildFailed(err, output, what)
		return "", false, false
	}
	return exe, true, true
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

// exited returns c.done, or nil (a channel that never fires) for no child.
func (c *child) exited() <-chan struct{} {
	if c == nil {
		return nil
	}
	return c.done
}

// serves returns c.ready, or nil (a channel that never fires) for no child.
func (c *child) serves() <-chan struct{} {
	if c == nil {
		return nil
	}
	return c.ready
}

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
// See the protocol in reloader.go.
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
