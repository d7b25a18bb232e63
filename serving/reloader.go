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
// The reloader needs a Unix system: runReloader fails elsewhere.
//
// The parent is in reloader_parent.go, what it builds in reloader_build.go
// and what it watches in reloader_watch.go; this file has the protocol's
// constants and the child's side.

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// The environment of a child (see the protocol above).
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

// The protocol's delays.
const (
	// killGrace is added to Options.ShutdownTimeout before a child that
	// does not stop on SIGTERM is killed.
	killGrace = 5 * time.Second
	// drainDelay is the time between draining an old child and sending it
	// SIGTERM.
	drainDelay = 200 * time.Millisecond
	// stopGrace is how long a child told to stop waits for its server to
	// be shutting down already before it sends itself SIGTERM.
	stopGrace = 250 * time.Millisecond
)

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
