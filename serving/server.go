package serving

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vial-go/vial/gateway"
)

// Defaults of the protections and of the graceful shutdown, used when the
// corresponding [Options] field is zero (its comment gives the value).
// There is no overall read or write timeout, which would cut off long
// uploads and streamed responses: a slow client is bounded by the header
// timeout, an idle connection by the idle one.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultIdleTimeout       = 2 * time.Minute
	defaultMaxHeaderBytes    = 1 << 20
	defaultShutdownTimeout   = 10 * time.Second
)

// A RequestHandlerFactory builds the http.Handler that serves each request
// for s, as werkzeug's request_handler class does: it is called once, by
// [MakeServer], when s is otherwise ready. [DefaultRequestHandler] is the
// usual one; a factory may wrap it or replace it, using what s exposes
// ([Server.App], [Server.GatewayHandler], [Server.LogRequests],
// [Server.LogRequest], [Server.ErrorLog]).
//
// Whatever handler it returns, the server still serialises requests when
// [Options.SingleThreaded] is set.
type RequestHandlerFactory func(s *Server) http.Handler

// DefaultRequestHandler is the request handler of a [Server] whose
// [Options.RequestHandler] is nil: the access log around the gateway bridge,
// s.LogRequests(s.GatewayHandler()).
func DefaultRequestHandler(s *Server) http.Handler {
	return s.LogRequests(s.GatewayHandler())
}

// Server is the development server: a [net/http.Server] serving one
// [gateway.Application] with an access log, optional TLS (HTTP/2 included),
// optional single-threaded handling, a debugger and graceful shutdown. Make
// one with [MakeServer], or let [RunSimple] make, announce and serve it.
type Server struct {
	served gateway.Application // the app, wrapped by the debugger if asked
	opts   Options

	ln  net.Listener // the TCP listener; TLS is layered on by ServeTLS
	srv *http.Server

	host string // as given to MakeServer

	out       io.Writer // opts.Output (or os.Stderr), serialised
	color     bool      // out is a terminal
	errorLog  *log.Logger
	accessLog *slog.Logger

	bridge  *gateway.HTTPHandler
	handler http.Handler // from the RequestHandlerFactory

	// sem serialises requests when SingleThreaded: a channel, so that
	// waiting requests go in arrival order. waiting counts them.
	sem     chan struct{}
	waiting atomic.Int32

	proxyWarned atomic.Bool // the warning of a request through a proxy is out

	tlsConfig   *tls.Config
	cert        *x509.Certificate
	fingerprint string

	cancel context.CancelFunc // ends the requests' contexts
}

// MakeServer returns a development server for app listening on host:port,
// as werkzeug's make_server does. It binds at once, so that the address is
// taken (or the error reported) before it returns; port 0 picks a free
// port, which [Server.Addr] then reports. An IPv4 literal binds IPv4 only,
// an IPv6 literal IPv6 only; host "" listens on every interface. In a child
// started by the reloader it serves the socket the parent handed down
// instead of binding.
//
// The server does not serve until [Server.Serve] (or ServeContext,
// ServeForever) is called; nothing is printed until [Server.PrintBanner].
//
// How opts shape it:
//
//   - The request handler is opts.RequestHandler(s), or
//     [DefaultRequestHandler]: the access log around a [gateway.HTTPHandler]
//     whose ErrorLog is the server's (so a panic's stack lands on Output,
//     or on AccessLog when one is given).
//   - SingleThreaded lets one request run at a time, in arrival order, and
//     tells the application so (gateway.multithread false).
//   - UseDebugger serves a [Debugger] with DebuggerAllowRemote and
//     DebuggerTrustLocalProxy: it recovers the panics of ServeGateway and
//     of the Body itself. The first request from a loopback address that
//     carries X-Forwarded-For, Forwarded or X-Real-IP (a proxy on this
//     host) makes the server print a warning saying who sees the page.
//   - PassthroughErrors sets the bridge's PropagatePanics: a panic that the
//     debugger (if any) did not handle is not answered with a 500 but
//     re-panicked, after the Body is closed, out of the request handler. An
//     outer handler (a RequestHandler factory's wrapper) may recover it;
//     otherwise net/http's own recovery sees it, logs it ("http: panic
//     serving …") to the server's error log and drops the connection (HTTP/1)
//     or resets the stream (HTTP/2). The process goes on serving: in Go a
//     panic in a request goroutine cannot crash "the request thread" alone,
//     and crashing the whole server would help nobody.
//   - CertFile/KeyFile or AdhocTLS serve HTTPS, with HTTP/2 offered by ALPN.
func MakeServer(host string, port int, app gateway.Application, opts Options) (*Server, error) {
	if app == nil {
		return nil, errors.New("serving: MakeServer with a nil Application")
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("serving: port %d out of range", port)
	}
	s := &Server{served: app, opts: opts, host: host}
	s.initOutput()

	tlsConfig, err := s.makeTLSConfig(host)
	if err != nil {
		return nil, err
	}
	s.tlsConfig = tlsConfig
	if s.ln, err = serverListener(host, port); err != nil {
		return nil, err
	}
	if err := s.initHandler(); err != nil {
		s.ln.Close()
		return nil, err
	}
	s.initHTTPServer()
	return s, nil
}

// serverListener returns the socket a server serves: in a reloader child
// the one the parent handed down, else host:port, bound now.
func serverListener(host string, port int) (net.Listener, error) {
	if isReloaderChild() {
		ln, err := inheritedListener()
		if err != nil {
			return nil, fmt.Errorf("serving: the reloader's socket: %w", err)
		}
		if ln != nil {
			return ln, nil
		}
	}
	return listen(host, port)
}

// initHandler wraps the application in the debugger if asked, sets up the
// bridge to it and the single-threaded turnstile, and then calls the
// request handler factory, which sees all of that.
func (s *Server) initHandler() error {
	if s.opts.UseDebugger {
		s.served = NewDebugger(s.served, DebuggerOptions{
			AllowRemote:     s.opts.DebuggerAllowRemote,
			TrustLocalProxy: s.opts.DebuggerTrustLocalProxy,
		})
	}
	s.bridge = &gateway.HTTPHandler{
		App:             s.served,
		ErrorLog:        s.errorLog,
		SingleThreaded:  s.opts.SingleThreaded,
		PropagatePanics: s.opts.PassthroughErrors,
	}
	if s.opts.SingleThreaded {
		s.sem = make(chan struct{}, 1)
	}
	factory := s.opts.RequestHandler
	if factory == nil {
		factory = DefaultRequestHandler
	}
	s.handler = factory(s)
	if s.handler == nil {
		return errors.New("serving: the RequestHandler factory returned a nil handler")
	}
	return nil
}

// initHTTPServer makes the net/http server, whose requests' contexts
// [Server.Close] and a cut-off [Server.Shutdown] cancel.
func (s *Server) initHTTPServer() {
	base, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		TLSConfig:         s.tlsConfig,
		ReadHeaderTimeout: orDefault(s.opts.ReadHeaderTimeout, defaultReadHeaderTimeout),
		IdleTimeout:       orDefault(s.opts.IdleTimeout, defaultIdleTimeout),
		MaxHeaderBytes:    orDefault(s.opts.MaxHeaderBytes, defaultMaxHeaderBytes),
		ErrorLog:          s.errorLog,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// listen binds host:port. An IP literal binds its own family only (Go's
// "tcp" would make 0.0.0.0 dual-stack, which is not what the banner says);
// a name or "" is left to Go.
func listen(host string, port int) (net.Listener, error) {
	network := "tcp"
	if ip := net.ParseIP(trimBrackets(host)); ip != nil {
		if ip.To4() != nil {
			network = "tcp4"
		} else {
			network = "tcp6"
		}
	}
	ln, err := net.Listen(network, net.JoinHostPort(trimBrackets(host), strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("serving: %w\nPort %d is in use by another program. "+
				"Either identify and stop that program, or start the server with a different port", err, port)
		}
		return nil, fmt.Errorf("serving: %w", err)
	}
	return ln, nil
}

func trimBrackets(host string) string {
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		return host[1 : len(host)-1]
	}
	return host
}

// initOutput sets up where the server writes: Output (serialised, since the
// access log, the error log and net/http write to it from many goroutines)
// and the loggers.
func (s *Server) initOutput() {
	raw := s.opts.Output
	if raw == nil {
		raw = os.Stderr
	}
	s.color = isTerminal(raw)
	s.out = &lockedWriter{w: raw}
	if s.opts.AccessLog != nil {
		s.accessLog = s.opts.AccessLog
		s.errorLog = slog.NewLogLogger(s.opts.AccessLog.Handler(), slog.LevelError)
	} else {
		s.accessLog = slog.New(newLineHandler(s.out, s.color))
		s.errorLog = log.New(s.out, "", log.LstdFlags)
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// isTerminal reports whether w is a terminal (a character device), where
// colours are welcome; NO_COLOR set to anything turns them off, as the
// common convention of command-line tools has it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// serveHTTP is the server's http.Handler: the request handler, one request
// at a time when SingleThreaded.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.sem != nil {
		select {
		case s.sem <- struct{}{}:
		default:
			s.waiting.Add(1)
			select {
			case s.sem <- struct{}{}:
				s.waiting.Add(-1)
			case <-r.Context().Done():
				// The client left, or the server is closing, while
				// the request waited its turn: nothing to answer.
				s.waiting.Add(-1)
				panic(http.ErrAbortHandler)
			}
		}
		defer func() { <-s.sem }()
	}
	s.warnProxy(r)
	if r.Close && r.ProtoMajor == 1 && r.ProtoMinor == 0 {
		// HTTP/1.0 without keep-alive: net/http closes the connection
		// after the response and leaves the header implicit; say it, as
		// werkzeug does.
		w.Header().Set("Connection", "close")
	}
	s.handler.ServeHTTP(w, r)
}

// App returns the application the server serves: the one given to
// MakeServer, wrapped by the debugger when [Options.UseDebugger] is set.
func (s *Server) App() gateway.Application { return s.served }

// GatewayHandler returns the bridge from net/http to [Server.App],
// configured from the options: its ErrorLog is the server's,
// SingleThreaded and PropagatePanics (PassthroughErrors) are set. It is
// shared by every request; a request handler factory may use it as is.
func (s *Server) GatewayHandler() *gateway.HTTPHandler { return s.bridge }

// ErrorLog returns the logger for the server's error messages (panics,
// refused responses, net/http's errors): a log on Output, or on the
// handler of [Options.AccessLog] at level Error when that is set.
func (s *Server) ErrorLog() *log.Logger { return s.errorLog }

// HTTPServer returns the underlying [net/http.Server], for settings the
// options do not cover (ConnState, extra timeouts). Change it only before
// serving.
func (s *Server) HTTPServer() *http.Server { return s.srv }

// Addr returns the address the server listens on, "host:port", with the
// real port when MakeServer was given port 0.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port returns the port the server listens on.
func (s *Server) Port() int {
	if a, ok := s.ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// scheme is "https" when the server serves TLS, else "http".
func (s *Server) scheme() string {
	if s.tlsConfig != nil {
		return "https"
	}
	return "http"
}

// URL returns a URL a client on this machine can reach the server at, such
// as "http://127.0.0.1:5000": the first of [Server.URLs].
func (s *Server) URL() string { return s.URLs()[0] }

// Serve accepts connections and serves requests until the server is shut
// down or closed, and then returns nil; any other error ends it too and is
// returned. It does not print the banner and does not handle signals (see
// [Server.ServeForever]). It is meant to be called once.
func (s *Server) Serve() error {
	var err error
	if s.tlsConfig != nil {
		// ServeTLS, unlike Serve on a tls.Listener, sets net/http's
		// HTTP/2 server up; the certificate is in TLSConfig already.
		err = s.srv.ServeTLS(s.ln, "", "")
	} else {
		err = s.srv.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServeContext serves until ctx is done, then shuts down gracefully: the
// listener is closed at once, the requests in flight get up to
// [Options.ShutdownTimeout] to finish, and those still running then are cut
// off ([Server.Shutdown]). It returns nil after a graceful shutdown, the
// Shutdown error when requests had to be cut off, or the error that ended
// Serve.
func (s *Server) ServeContext(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case err := <-errc:
		s.closeListener()
		return err
	case <-ctx.Done():
	}
	timeout := orDefault(s.opts.ShutdownTimeout, defaultShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.Shutdown(sctx)
	if err != nil {
		err = fmt.Errorf("serving: requests still running after the shutdown timeout (%v) were cut off: %w", timeout, err)
	}
	if serr := <-errc; serr != nil && err == nil {
		err = serr
	}
	return err
}

// ServeForever serves until the process receives SIGINT (Ctrl+C) or
// SIGTERM, then shuts down gracefully as [Server.ServeContext] does. A
// second signal during the shutdown ends the process at once.
func (s *Server) ServeForever() error {
	ctx, stop := signalContext()
	defer stop()
	return s.ServeContext(ctx)
}

// signalContext is done at the first SIGINT or SIGTERM; from then on the
// signals have their default effect again, so a second Ctrl+C kills.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

// Shutdown stops the server gracefully: it closes the listener at once (new
// connections are refused, Serve returns nil), closes idle connections, and
// waits for the requests in flight to finish. If ctx ends first, it cancels
// the gateway.context of the requests still running (a streaming body
// stops), closes every connection, and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.cancel()
		s.srv.Close()
	}
	s.closeListener()
	return err
}

// Close stops the server at once: it closes the listener and every
// connection, and cancels the gateway.context of the requests in flight.
func (s *Server) Close() error {
	s.cancel()
	err := s.srv.Close()
	s.closeListener()
	return err
}

// closeListener releases the port even when Serve was never called
// (net/http closes only the listeners it serves).
func (s *Server) closeListener() { _ = s.ln.Close() }

// RunSimple runs app on host:port until the process is interrupted, as
// werkzeug's run_simple does: the one call a program needs. SIGINT (Ctrl+C)
// or SIGTERM starts a graceful shutdown (see [Server.ServeContext]); a
// second one ends the process at once. See [RunSimpleContext].
func RunSimple(host string, port int, app gateway.Application, opts Options) error {
	ctx, stop := signalContext()
	defer stop()
	return RunSimpleContext(ctx, host, port, app, opts)
}

// RunSimpleContext is [RunSimple] with the end of serving in the caller's
// hands: it serves until ctx is done, then shuts down gracefully, and
// returns what [Server.ServeContext] returns.
//
// With [Options.UseReloader], the first process only binds the socket,
// prints the banner and hands the socket to the reloader, which builds and
// runs the program as a child and restarts it when its sources change; the
// parent never serves, and runs until it is interrupted (ctx does not stop
// it). The child, finding itself a reloader child, serves the inherited
// socket and does not print the banner again, only what changes with each
// child: an ad-hoc certificate's fingerprint, " * Debugger is active!".
func RunSimpleContext(ctx context.Context, host string, port int, app gateway.Application, opts Options) error {
	if app == nil {
		return errors.New("serving: RunSimple with a nil Application")
	}
	if opts.UseReloader && !isReloaderChild() {
		if err := checkTLSOptions(opts); err != nil {
			return err
		}
		ln, err := listen(host, port)
		if err != nil {
			return err
		}
		scheme := "http"
		if opts.CertFile != "" || opts.AdhocTLS {
			scheme = "https"
		}
		out := opts.Output
		if out == nil {
			out = os.Stderr
		}
		writeBanner(out, isTerminal(out), bannerInfo{
			appName:   opts.AppName,
			debugMode: opts.DebugMode,
			host:      host,
			urls:      reachableURLs(scheme, host, ln.Addr()),
		})
		return runReloader(ln, opts)
	}
	s, err := MakeServer(host, port, app, opts)
	if err != nil {
		return err
	}
	if isReloaderChild() {
		// The parent printed the banner; what changes with each child
		// is printed by the child, as werkzeug's does.
		io.WriteString(s.out, s.childLines())
	} else {
		s.PrintBanner()
	}
	return s.ServeContext(ctx)
}
