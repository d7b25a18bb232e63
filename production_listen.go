package vial

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
)

// listen returns the listener Serve serves on: the one given, or a TCP
// socket bound to addr, with SO_REUSEPORT when asked. A given listener it
// refuses is closed, as Serve closes it when it is done.
func (c *serveConfig) listen(ctx context.Context, addr string) (net.Listener, error) {
	if c.listener != nil {
		if c.reusePort {
			c.listener.Close()
			return nil, errors.New("vial: Serve: ReusePort cannot apply to a socket given with Listener")
		}
		return c.listener, nil
	}
	addr = serveAddr(addr)
	var lc net.ListenConfig
	if c.reusePort {
		lc.Control = reusePortControl
		if lc.Control == nil {
			return nil, errors.New("vial: Serve: ReusePort: this system has no SO_REUSEPORT")
		}
	}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("vial: Serve: %w", err)
	}
	return ln, nil
}

// serveAddr is addr with gunicorn's defaults: ":$PORT" when PORT is set,
// else 127.0.0.1:8000.
func serveAddr(addr string) string {
	if addr != "" {
		return addr
	}
	if port := os.Getenv("PORT"); port != "" {
		return ":" + port
	}
	return "127.0.0.1:8000"
}
