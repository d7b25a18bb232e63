package vial

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/vial-go/vial/gateway/middleware"
)

// A ServeOption configures [App.Serve] and [App.ServeContext].
type ServeOption func(*serveConfig)

type serveConfig struct {
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	maxHeaderBytes    int
	shutdownTimeout   time.Duration
	drainDelay        *time.Duration // nil: the default, which depends on readiness
	readiness         string
	reusePort         bool
	listener          net.Listener
	logRequests       bool
	logger            *slog.Logger
	certFile, keyFile string
	tlsConfig         *tls.Config
	proxies           *middleware.ProxyFixOptions
	tweaks            []func(*http.Server)
}

func newServeConfig(opts []ServeOption) *serveConfig {
	c := &serveConfig{
		readHeaderTimeout: defaultReadHeaderTimeout,
		readTimeout:       defaultReadTimeout,
		writeTimeout:      defaultWriteTimeout,
		idleTimeout:       defaultIdleTimeout,
		maxHeaderBytes:    defaultMaxHeaderBytes,
		shutdownTimeout:   defaultShutdownTimeout,
		logRequests:       true,
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// drainDelayOrDefault is the drain delay: as set, else 5 s with a
// readiness endpoint (for it to be seen failing) and none without.
func (c *serveConfig) drainDelayOrDefault() time.Duration {
	switch {
	case c.drainDelay != nil:
		return max(*c.drainDelay, 0)
	case c.readiness != "":
		return defaultDrainDelay
	}
	return 0
}

// ReadHeaderTimeout bounds the reading of a request's headers (default
// 10 s), the defence against clients that send them a byte at a time.
func ReadHeaderTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.readHeaderTimeout = d }
}

// ReadTimeout bounds the reading of a whole request, body included
// (default 60 s): an upload slower than that is cut. 0 turns it off.
func ReadTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.readTimeout = d }
}

// WriteTimeout bounds the time from the end of a request's headers to the
// end of its response (default 60 s). It cuts a response streamed for
// longer, server-sent events or a slow download: turn it off with 0 for an
// App that streams, or lift it for one request with
// http.NewResponseController(w).SetWriteDeadline in a net/http middleware.
func WriteTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.writeTimeout = d }
}

// IdleTimeout bounds how long a keep-alive connection waits for its next
// request (default 120 s, above the 60 s of the usual load balancers, so
// that they close first).
func IdleTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.idleTimeout = d }
}

// MaxHeaderBytes bounds the size of a request's headers (default 1 MiB,
// net/http's own); a request over it gets a 431.
func MaxHeaderBytes(n int) ServeOption {
	return func(c *serveConfig) { c.maxHeaderBytes = n }
}

// ShutdownTimeout is how long the requests in flight get to finish once
// the drain has closed the listener (default 20 s, which with the drain
// delay fits in the 30 s Kubernetes and systemd wait before SIGKILL); 0
// closes their connections at once.
func ShutdownTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.shutdownTimeout = d }
}

// DrainDelay is how long the drain waits, the readiness endpoint failing
// and the App still serving, before it closes the listener: time for load
// balancers to stop sending requests. The default is 5 s with [Readiness],
// none without.
func DrainDelay(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.drainDelay = &d }
}

// Readiness serves a readiness endpoint at path (say "/readyz"): 200 "ok"
// while serving, 503 from the moment the drain begins. It is answered
// before the App, its middleware and the access log, for any method, so
// probes cost the App nothing (and a route of the App at that path is
// never reached).
func Readiness(path string) ServeOption {
	return func(c *serveConfig) { c.readiness = path }
}

// ReusePort sets SO_REUSEPORT on the listening socket, so that a second
// process can bind the same port while the first still serves (a
// zero-downtime restart: start the new one, then SIGTERM the old), or N
// processes share it with the kernel balancing connections between them.
// It is available where the system has SO_REUSEPORT (Linux, the BSDs,
// macOS); elsewhere Serve returns an error saying so.
func ReusePort(on bool) ServeOption {
	return func(c *serveConfig) { c.reusePort = on }
}

// Listener serves on ln instead of listening on addr: a socket systemd
// passed (net.FileListener(os.NewFile(3, "socket"))), or a test's. Serve
// closes it when it is done.
func Listener(ln net.Listener) ServeOption {
	return func(c *serveConfig) { c.listener = ln }
}

// LogRequests turns the access log on (the default) or off. On, each
// request gets the development server's record ([serving.AccessLog]) on the
// [ServeLogger] logger: as Flask's server and uWSGI log every request, so
// that a service's requests, statuses and times are seen without a proxy
// in front. Off, when the proxy's log is enough or the App logs requests
// itself.
func LogRequests(on bool) ServeOption {
	return func(c *serveConfig) { c.logRequests = on }
}

// ServeLogger is where Serve logs: the access log and the server's
// messages. The default is the App's Logger.
func ServeLogger(l *slog.Logger) ServeOption {
	return func(c *serveConfig) { c.logger = l }
}

// TLSFiles serves HTTPS (and HTTP/2) with the certificate and key in these
// PEM files.
func TLSFiles(certFile, keyFile string) ServeOption {
	return func(c *serveConfig) { c.certFile, c.keyFile = certFile, keyFile }
}

// TLSConfig serves HTTPS with cfg (a copy of it): certificates from its
// Certificates or GetCertificate (for rotation), with [TLSFiles]' added
// when both are given.
func TLSConfig(cfg *tls.Config) ServeOption {
	return func(c *serveConfig) { c.tlsConfig = cfg }
}

// TrustProxies trusts the X-Forwarded-* headers of that many proxies in
// front, applying [middleware.ProxyFix] around the App (its middleware,
// and the access log, included): the App and the log then see the
// client's address, scheme and host. Without it no X-Forwarded-* header is
// trusted. Behind one nginx:
//
//	app.Serve(":8000", vial.TrustProxies(middleware.ProxyFixOptions{For: 1, Proto: 1, Host: 1}))
func TrustProxies(opts middleware.ProxyFixOptions) ServeOption {
	return func(c *serveConfig) { c.proxies = &opts }
}

// HTTPServer calls fn with the net/http server before it serves, for what
// the other options do not reach (ConnState, Protocols, ErrorLog …).
func HTTPServer(fn func(*http.Server)) ServeOption {
	return func(c *serveConfig) { c.tweaks = append(c.tweaks, fn) }
}
