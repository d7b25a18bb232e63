//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package vial

import "syscall"

// reusePortControl is nil where the system has no SO_REUSEPORT: Serve
// with ReusePort(true) then returns an error saying so.
var reusePortControl func(network, address string, c syscall.RawConn) error
