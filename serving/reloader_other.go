//go:build !unix

package serving

import (
	"errors"
	"net"
	"os"
)

// The reloader hands its socket to its children, which needs a Unix system.

func listenerFile(net.Listener) (*os.File, error) {
	return nil, errors.New("the reloader needs a Unix system")
}

func terminate(p *os.Process) error { return p.Kill() }

func terminateSelf() error {
	os.Exit(1)
	return nil
}

func closeOnExec(int) {}
