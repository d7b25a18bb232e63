//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package vial

import "syscall"

// reusePortControl sets SO_REUSEPORT on a socket before it is bound. (A
// variable, nil on the systems without it.)
var reusePortControl = func(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
