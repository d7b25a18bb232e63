//go:build linux

package vial

import "runtime"

// soReusePort is Linux's SO_REUSEPORT, which the frozen syscall package
// lacks on amd64 and 386: 15, or 0x200 on MIPS (asm-generic/socket.h and
// arch/mips/include/uapi/asm/socket.h).
var soReusePort = func() int {
	switch runtime.GOARCH {
	case "mips", "mipsle", "mips64", "mips64le":
		return 0x200
	}
	return 0xf
}()
