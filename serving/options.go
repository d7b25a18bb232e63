package serving

import (
	"io"
	"log/slog"
	"time"
)

// Options configures the development server, as werkzeug's run_simple
// arguments do. The zero value serves plain HTTP, threaded, with no
// reloader and no debugger.
type Options struct {
	// AppName is shown on the banner ("Serving vial app 'hello'").
	AppName string
	// DebugMode is shown on the banner ("Debug mode: on").
	DebugMode bool

	// SingleThreaded handles one request at a time, in arrival order;
	// gateway.multithread is false. The default serves requests
	// concurrently.
	SingleThreaded bool
	// PassthroughErrors lets a panic from the application propagate
	// instead of answering it with a 500, for a debugger or a crash dump.
	PassthroughErrors bool

	// CertFile and KeyFile serve HTTPS (and HTTP/2) with that certificate.
	CertFile, KeyFile string
	// AdhocTLS serves HTTPS with a self-signed certificate made in memory;
	// its SHA-256 fingerprint is printed on the banner.
	AdhocTLS bool

	// RequestHandler replaces the per-request handler (access log, panic
	// handling, the gateway bridge). Nil means DefaultRequestHandler.
	RequestHandler RequestHandlerFactory

	// UseReloader restarts the program when its sources change: a parent
	// process holds the socket, rebuilds the program and runs it as a
	// child.
	UseReloader bool
	// ReloaderInterval is how often the sources are polled (1s if zero).
	ReloaderInterval time.Duration
	// ExtraFiles are watched besides the main module's .go files and
	// templates.
	ExtraFiles []string
	// ExcludePatterns are glob patterns (filepath.Match, matched against
	// the path and the base name) of files not to watch.
	ExcludePatterns []string

	// UseDebugger answers panics with a page showing the error and the
	// stack, with source lines. Only local clients get it unless
	// DebuggerAllowRemote is set; others get a plain 500. A client is
	// local when it connects from a loopback address and, if a proxy on
	// this host forwarded its request, the proxy names a loopback client
	// too, unless DebuggerTrustLocalProxy is set (see [DebuggerOptions]).
	UseDebugger             bool
	DebuggerAllowRemote     bool
	DebuggerTrustLocalProxy bool

	// AccessLog receives one record per request; nil means werkzeug's
	// line format on Output, coloured by status class when Output is a
	// terminal.
	AccessLog *slog.Logger
	// Output receives the banner and the server's messages; nil means
	// os.Stderr.
	Output io.Writer

	// ShutdownTimeout is how long a graceful shutdown (SIGINT, SIGTERM)
	// waits for requests in flight (10s if zero).
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout, IdleTimeout and MaxHeaderBytes protect the server
	// (10s, 2min and 1 MiB if zero).
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
}
