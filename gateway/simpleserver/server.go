package simpleserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/vial-go/vial/gateway"
)

// Server is a small HTTP server for one [gateway.Application], the analogue
// of wsgiref.simple_server's WSGIServer: enough to run an application or an
// example, with none of the dev server's reloading or debugging (that is
// package serving). Make one with [MakeServer].
//
// It serves through [gateway.Handler] on a [net/http.Server], so requests run
// concurrently (gateway.multithread is true) and every guarantee of
// [gateway.HTTPHandler] holds.
type Server struct {
	ln     net.Listener
	srv    *http.Server
	cancel context.CancelFunc // ends the requests' contexts
}

// Timeouts of a [Server]. There is no overall read or write timeout,
// which would cut off long uploads and streamed responses; a slow client is
// bounded by the header timeout, and an idle connection by the idle one.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// MakeServer returns a server for app listening on host:port, as
// wsgiref.simple_server.make_server does. It binds the listener at once, so
// the address is taken (or the error reported) before MakeServer returns;
// port 0 picks a free port, which [Server.Addr] then reports. host ""
// listens on every interface. The server does not serve until
// [Server.ServeForever] is called.
func MakeServer(host string, port int, app gateway.Application) (*Server, error) {
	if app == nil {
		return nil, errors.New("gateway: MakeServer with a nil Application")
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("gateway: MakeServer: port %d out of range", port)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	return &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           gateway.Handler(app),
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			BaseContext:       func(net.Listener) context.Context { return base },
		},
		cancel: cancel,
	}, nil
}

// Addr returns the address the server listens on, "host:port", with the
// real port when MakeServer was given port 0.
func (s *Server) Addr() string {
	return s.ln.Addr().String()
}

// ServeForever accepts connections and serves requests until the server is
// shut down or closed, and then returns nil; any other error ends it too and
// is returned. It is meant to be called once.
func (s *Server) ServeForever() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server gracefully: it closes the listener at once
// (ServeForever returns nil), lets the requests in flight finish, and
// returns when they have. If ctx ends first, the requests still running see
// their gateway.context cancelled, so that a streaming body stops and its
// response is aborted, and Shutdown returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.cancel()
	}
	s.closeListener()
	return err
}

// Close stops the server at once: it closes the listener and every
// connection, and cancels the gateway.context of the requests in flight.
// ServeForever returns nil.
func (s *Server) Close() error {
	s.cancel()
	err := s.srv.Close()
	s.closeListener()
	return err
}

// closeListener releases the port even when ServeForever was never called
// (net/http closes only the listeners it serves).
func (s *Server) closeListener() {
	_ = s.ln.Close()
}
