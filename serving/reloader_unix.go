//go:build unix

package serving

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// listenerFile returns a close-on-exec duplicate of ln's socket for the
// children.
//
// Not ln.File(): the Fd method of that file, which os/exec calls, puts the
// socket in blocking mode, and O_NONBLOCK belongs to the open file
// description that the parent and every child share. A child accepting on
// a blocking socket cannot close it (its graceful shutdown would wait for
// the next connection). os.NewFile leaves the mode alone.
func listenerFile(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, errors.New("the listener has no file descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var dupErr error
	err = rc.Control(func(fd uintptr) {
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		nfd, dupErr = syscall.Dup(int(fd))
		if dupErr == nil {
			syscall.CloseOnExec(nfd)
		}
	})
	if err == nil {
		err = dupErr
	}
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(nfd), "vial-reloader-listener"), nil
}

// terminate asks a child to stop gracefully.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// terminateSelf stops this process as the parent would.
func terminateSelf() error { return syscall.Kill(os.Getpid(), syscall.SIGTERM) }

// closeOnExec keeps an inherited descriptor from the program's own
// children.
func closeOnExec(fd int) { syscall.CloseOnExec(fd) }
