package vial

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/middleware"
	"github.com/vial-go/vial/serving"
)

// This file is the production entry point: App.Serve runs the App on
// net/http's server with production timeouts and drains it on SIGTERM, as
// gunicorn runs a Flask app. The options are in production_options.go,
// the listener in production_listen.go.

// The defaults of Serve, each overridable by its option.
const (
	// Slow-header clients (slowloris) are cut after this.
	defaultReadHeaderTimeout = 10 * time.Second
	// The whole request, body included: an upload slower than this is cut.
	defaultReadTimeout = 60 * time.Second
	// From the end of the headers to the end of the response: a stream
	// (server-sent events, a long download) longer than this is cut.
	defaultWriteTimeout = 60 * time.Second
	// Longer than the idle timeout of the usual load balancers (60 s), so
	// that they, not the server, close a keep-alive connection, and never
	// send a request on one the server is closing.
	defaultIdleTimeout = 120 * time.Second
	// net/http's own default, stated: room for large cookies and tokens,
	// a bound on what one connection's headers may hold in memory.
	defaultMaxHeaderBytes = 1 << 20
	// With the drain delay, within the 30 s Kubernetes and systemd give a
	// process between SIGTERM and SIGKILL.
	defaultShutdownTimeout = 20 * time.Second
	// When a readiness endpoint is set: a few probe periods, for the load
	// balancers to see it fail before the listener closes.
	defaultDrainDelay = 5 * time.Second
	// After the shutdown deadline, how long the handlers still running get
	// to return once their connections are closed, so that their
	// requests' teardown (and their bodies' Close) runs before Serve does.
	closeGrace = time.Second
)

// Serve serves the App in production on net/http's server at addr until
// the process gets SIGTERM or SIGINT, then drains it: a production WSGI
// server's job (gunicorn's, say) for a Flask app. addr is "host:port"; ""
// is ":$PORT" when the PORT environment variable is set, else
// "127.0.0.1:8000", as gunicorn's default bind. A second signal during the
// drain ends the process at once. See [App.ServeContext] for the rest.
//
//	if err := app.Serve(":8000", vial.Readiness("/readyz")); err != nil {
//		log.Fatal(err)
//	}
func (a *App) Serve(addr string, opts ...ServeOption) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// Once the drain has begun, a second signal gets Go's default: exit.
	context.AfterFunc(ctx, stop)
	return a.ServeContext(ctx, addr, opts...)
}

// ServeContext is [App.Serve] draining when ctx is done instead of on a
// signal. It serves the App as [App.ServeHTTP] does, the middleware of
// [App.Use] and [App.Wrap] included, on an [net/http.Server] with these
// defaults, each changed by its option (0 turns a timeout off):
//
//	ReadHeaderTimeout  10s    slow-header clients are cut
//	ReadTimeout        60s    the whole request, body included
//	WriteTimeout       60s    the response; cuts longer streams (0 for SSE)
//	IdleTimeout        120s   keep-alive; above load balancers' 60s
//	MaxHeaderBytes     1 MiB  net/http's default, stated
//	ShutdownTimeout    20s    the in-flight requests' deadline when draining
//	DrainDelay         5s     with Readiness only, else 0
//	LogRequests        on     serving.AccessLog's record, to the logger
//
// The drain, when ctx is done: the [Readiness] endpoint (if any) answers
// 503, keep-alives stop, and after [DrainDelay] the listener closes and
// the requests in flight get [ShutdownTimeout] to finish; then their
// connections are closed, the handlers get a second more to return (a
// vial request's teardown runs when its body is closed), and ServeContext
// returns an error saying the deadline passed. A clean drain returns nil.
// An error listening or serving is returned at once.
//
// ServeContext never runs the development server's debugger or reloader.
// With Config["DEBUG"] true it logs a warning and serves all the same:
// unhandled errors then propagate past the App, and the gateway bridge
// logs them and answers 500, as gunicorn does for a Flask app in debug
// mode; turn DEBUG off in production. The server's own messages (serving,
// draining, TLS handshake errors) and the access log go to [ServeLogger],
// by default the App's Logger.
func (a *App) ServeContext(ctx context.Context, addr string, opts ...ServeOption) error {
	c := newServeConfig(opts)
	log := c.logger
	if log == nil {
		log = a.logger()
	}
	if a.Config.Bool("DEBUG") {
		log.Warn(`vial: Config["DEBUG"] is true, but Serve runs no debugger: unhandled errors are logged and answered 500; turn DEBUG off in production`)
	}
	ln, err := c.listen(ctx, addr)
	if err != nil {
		return err
	}
	// Shutdown closes ln, but net/http's ServeTLS returns a certificate
	// error before serving, leaving it open: Serve owns it and closes it.
	defer ln.Close()
	g := &gate{readiness: c.readiness, next: a.productionHandler(c, log)}
	srv := c.httpServer(g, log)
	served := make(chan error, 1)
	go func() { served <- c.serve(srv, ln) }()
	log.Info("vial: serving", "app", a.Name, "addr", ln.Addr().String(), "tls", c.usesTLS())
	select {
	case err := <-served:
		return fmt.Errorf("vial: Serve: %w", err)
	case <-ctx.Done():
	}
	return c.drain(srv, g, served, log)
}

// serve runs srv on ln until it is shut down.
func (c *serveConfig) serve(srv *http.Server, ln net.Listener) error {
	var err error
	if c.usesTLS() {
		err = srv.ServeTLS(ln, c.certFile, c.keyFile)
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// drain fails the readiness endpoint, waits the drain delay, then shuts
// srv down within the shutdown timeout, closing what is left after it.
func (c *serveConfig) drain(srv *http.Server, g *gate, served <-chan error, log *slog.Logger) error {
	g.draining.Store(true)
	srv.SetKeepAlivesEnabled(false) // clients reconnect elsewhere
	delay := c.drainDelayOrDefault()
	log.Info("vial: draining", "delay", delay, "timeout", c.shutdownTimeout)
	time.Sleep(delay)
	ctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
		g.waitIdle(closeGrace)
		err = fmt.Errorf("vial: Serve: requests were still running after the %v shutdown timeout; their connections were closed: %w", c.shutdownTimeout, err)
		log.Error(err.Error())
	} else {
		log.Info("vial: drained")
	}
	if serr := <-served; serr != nil && err == nil {
		err = fmt.Errorf("vial: Serve: %w", serr)
	}
	return err
}

// httpServer is the net/http server of the options.
func (c *serveConfig) httpServer(h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.readHeaderTimeout,
		ReadTimeout:       c.readTimeout,
		WriteTimeout:      c.writeTimeout,
		IdleTimeout:       c.idleTimeout,
		MaxHeaderBytes:    c.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if c.tlsConfig != nil {
		srv.TLSConfig = c.tlsConfig.Clone()
	}
	for _, fn := range c.tweaks {
		fn(srv)
	}
	return srv
}

// productionHandler is the App with the access log around it, and behind
// ProxyFix when proxies are trusted. The bridge's own messages (a panic
// past the App, a refused response) go to log, as the server's do.
func (a *App) productionHandler(c *serveConfig, log *slog.Logger) http.Handler {
	var outer []func(http.Handler) http.Handler
	if c.logRequests {
		outer = append(outer, serving.AccessLog(log))
	}
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelError)
	if c.proxies != nil {
		// ProxyFix corrects the environ of the outer bridge; the net/http
		// middleware inside it (the access log, the App's Use) get a
		// request made from the corrected environ, which gatewayStack
		// carries across to the App, so all of them see the client.
		stack := a.gatewayStack(a, outer...)
		return &gateway.HTTPHandler{App: middleware.ProxyFix(stack, *c.proxies), ErrorLog: errLog}
	}
	a.endSetup()
	h := a.chain(&gateway.HTTPHandler{App: a.wrapped(a), ErrorLog: errLog})
	for _, mw := range slices.Backward(outer) {
		h = mw(h)
	}
	return h
}

// usesTLS reports whether the options ask for HTTPS.
func (c *serveConfig) usesTLS() bool { return c.certFile != "" || c.tlsConfig != nil }

// gate is the outermost handler: the readiness endpoint, answered before
// the App so that it costs the App nothing, and the count of requests in
// flight, which the drain waits on once their connections are closed.
type gate struct {
	readiness string // the endpoint's path, or ""
	next      http.Handler
	draining  atomic.Bool
	active    atomic.Int64
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.readiness != "" && r.URL.Path == g.readiness {
		g.ready(w)
		return
	}
	g.active.Add(1)
	defer g.active.Add(-1)
	g.next.ServeHTTP(w, r)
}

// ready answers the readiness endpoint: 200 "ok" while serving, 503
// "draining" once the drain has begun.
func (g *gate) ready(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if g.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("draining"))
		return
	}
	w.Write([]byte("ok"))
}

// waitIdle waits, up to d, until no request is in flight.
func (g *gate) waitIdle(d time.Duration) {
	deadline := time.Now().Add(d)
	for g.active.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}
