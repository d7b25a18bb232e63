package vial

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/validate"
	"github.com/vial-go/vial/serving"
)

// A RunOption configures [App.Run].
type RunOption func(*runConfig)

type runConfig struct {
	debug    *bool
	reload   *bool
	opts     serving.Options
	tweakers []func(*serving.Options)
}

// Debug turns debug mode on or off, as Flask's debug=True does: the
// debugger page for unhandled errors (loopback clients only), the reloader
// that rebuilds and restarts the program when its sources change, and
// validate.Wrap around the App to catch contract violations. It sets
// Config["DEBUG"], which makes unhandled errors propagate to the debugger
// instead of becoming a plain 500. The environment variable VIAL_DEBUG=1
// turns debug mode on when no Debug option is given.
func Debug(on bool) RunOption { return func(c *runConfig) { c.debug = &on } }

// Reload turns the reloader on or off, whatever the debug mode.
func Reload(on bool) RunOption { return func(c *runConfig) { c.reload = &on } }

// TLS serves HTTPS (and HTTP/2) with the certificate and key in these
// files. TLS("adhoc", "") serves with a self-signed certificate made at
// start, as Flask's ssl_context="adhoc" does.
func TLS(certFile, keyFile string) RunOption {
	return func(c *runConfig) {
		if certFile == "adhoc" {
			c.opts.AdhocTLS = true
			return
		}
		c.opts.CertFile, c.opts.KeyFile = certFile, keyFile
	}
}

// Threaded sets whether requests are served concurrently (true, the
// default) or one at a time.
func Threaded(on bool) RunOption { return func(c *runConfig) { c.opts.SingleThreaded = !on } }

// ServerOptions gives direct access to the development server's options
// (access log, timeouts, extra files for the reloader …).
func ServerOptions(fn func(*serving.Options)) RunOption {
	return func(c *runConfig) { c.tweakers = append(c.tweakers, fn) }
}

// Run serves the App on the development server at addr ("127.0.0.1:5000"
// when empty; ":5000" listens on every interface) until the process is
// interrupted, then shuts down gracefully: Flask's app.run.
//
//	log.Fatal(app.Run("127.0.0.1:5000", vial.Debug(true)))
//
// The middleware of [App.Use] and [App.Wrap] runs around the App (and
// around validate.Wrap's check of it, in debug mode). The development
// server is for development; in production, serve the App (an
// http.Handler) with any net/http server.
func (a *App) Run(addr string, opts ...RunOption) error {
	host, port, err := splitAddr(addr)
	if err != nil {
		return err
	}
	var c runConfig
	for _, opt := range opts {
		opt(&c)
	}
	debug := envDebug()
	if c.debug != nil {
		debug = *c.debug
	}
	reload := debug
	if c.reload != nil {
		reload = *c.reload
	}
	so := c.opts
	so.AppName = a.Name
	so.DebugMode = debug
	so.UseDebugger = debug
	so.UseReloader = reload
	for _, fn := range c.tweakers {
		fn(&so)
	}
	var app gateway.Application = a
	if debug {
		a.Config["DEBUG"] = true
		app = validate.Wrap(a)
	}
	return serving.RunSimple(host, port, a.gatewayStack(app), so)
}

// envDebug reads VIAL_DEBUG.
func envDebug() bool {
	on, _ := strconv.ParseBool(os.Getenv("VIAL_DEBUG"))
	return on
}

// splitAddr splits "host:port" with Flask's defaults, 127.0.0.1 and 5000.
func splitAddr(addr string) (string, int, error) {
	if addr == "" {
		return "127.0.0.1", 5000, nil
	}
	if !strings.Contains(addr, ":") {
		return addr, 5000, nil
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("vial: Run(%q): %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("vial: Run(%q): %q is not a port number", addr, p)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}
