//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package vial

import "syscall"

const soReusePort = syscall.SO_REUSEPORT
