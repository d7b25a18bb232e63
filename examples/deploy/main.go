// Command deploy runs a vial app as it runs in production: behind nginx,
// on a plain net/http server with timeouts, shutting down gracefully on
// SIGTERM.
//
//	go run ./examples/deploy -addr 127.0.0.1:8000
//
// # The server
//
// The development server (app.Run, `run`) is for development. In
// production an App is a [gateway.Application]; [gateway.Handler] makes it
// an http.Handler for any net/http server, and [middleware.ProxyFix] in
// between corrects each request for the proxy in front:
//
//	srv := &http.Server{
//		Handler: gateway.Handler(middleware.ProxyFix(app, middleware.ProxyFixOptions{For: 1, Proto: 1, Host: 1, Prefix: 1})),
//		ReadHeaderTimeout: 10 * time.Second,
//		…
//	}
//
// Behind nginx, the connection comes from nginx: without ProxyFix the app
// would see nginx's address as the client's, "http" as the scheme of an
// https request, the upstream's name as the host and no path prefix, and
// every URL it builds (r.URLFor(…, vial.External(true)), redirects) would
// be wrong. ProxyFix takes those from the X-Forwarded-* headers nginx sets,
// trusting one value of each: the one nginx set. Trust only as many proxies
// as there are, or clients choose their own address.
//
// On SIGTERM (or Ctrl+C) the server stops accepting connections and lets
// the requests in flight finish, for up to -shutdown-timeout; then it
// cancels those left (their r.Context() is done: a stream ends) and closes
// their connections. See [newServer] for the timeouts and [serve] for the
// shutdown.
//
// # nginx
//
// nginx.conf, next to this file, is the configuration that the test runs
// nginx with, copied from a template whose placeholders the test fills in:
// {{APP}} (this server's address), {{HTTP}} and {{HTTPS}} (where nginx
// listens), {{CERT}} and {{KEY}} (the https certificate). Copy it, fill in
// your values and run it standalone,
//
//	mkdir -p /srv/nginx/logs /srv/nginx/temp
//	nginx -p /srv/nginx -c /srv/nginx/nginx.conf
//
// or take its upstream and server blocks into a system nginx. What matters
// to the app:
//
//	proxy_set_header X-Forwarded-For    $proxy_add_x_forwarded_for;  # ProxyFixOptions.For
//	proxy_set_header X-Forwarded-Proto  $scheme;                     # .Proto
//	proxy_set_header X-Forwarded-Host   $http_host;                  # .Host
//	proxy_set_header X-Forwarded-Prefix /app;                        # .Prefix
//	location /app/ { proxy_pass http://vial/; }                      # strip /app
//	location /app/stream/ { proxy_pass http://vial/stream/; proxy_buffering off; }  # streams
//
// The test (go test ./examples/deploy) starts this server and nginx on
// free loopback ports and checks, through nginx over http and https, the
// client's address, the scheme, the host, URLs built by the app, a
// redirect, and that a stream arrives chunk by chunk. It needs nginx
// (apt-get install nginx); without it the test is skipped, unless $CI is
// set, where it fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/middleware"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "the address to listen on; nginx's upstream")
	grace := flag.Duration("shutdown-timeout", 20*time.Second, "how long requests in flight may run on after SIGTERM")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on http://%s", ln.Addr())
	if err := serve(ctx, ln, newServer(newApp(everySecond)), *grace); err != nil {
		log.Fatal(err)
	}
	log.Print("stopped")
}

// proxies is what ProxyFix trusts: one proxy, nginx, sets each of these
// headers. Port is left out: nginx's X-Forwarded-Host carries the port.
var proxies = middleware.ProxyFixOptions{For: 1, Proto: 1, Host: 1, Prefix: 1}

// newServer returns the server for app, behind ProxyFix.
//
// The timeouts keep slow or idle clients from holding connections: the
// request headers must arrive within 10s and the whole request within 30s.
// Idle keep-alive connections are closed after 2 minutes, longer than
// nginx keeps its idle upstream connections (60s), so that nginx, not the
// app, closes them and never sends a request on a connection the app is
// closing. There is no WriteTimeout: it would cut off a stream that lasts
// as long as its client listens (/stream/events); nginx's proxy_read_timeout
// bounds the wait between chunks instead.
func newServer(app gateway.Application) *http.Server {
	return &http.Server{
		Handler:           gateway.Handler(middleware.ProxyFix(app, proxies)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// serve serves srv on ln until ctx is done, then shuts down gracefully:
// the listener is closed at once and idle connections with it, and the
// requests in flight may finish for up to grace. Those still running then
// are cancelled (the context of every request derives from one that serve
// cancels) and their connections closed, and serve says so in its error.
// It returns nil after a clean shutdown, and Serve's error if serving
// fails.
func serve(ctx context.Context, ln net.Listener, srv *http.Server, grace time.Duration) error {
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv.BaseContext = func(net.Listener) context.Context { return base }

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	sctx, stop := context.WithTimeout(context.Background(), grace)
	defer stop()
	err := srv.Shutdown(sctx)
	if err != nil {
		cancel() // the streams still running see r.Context() done
		srv.Close()
		err = fmt.Errorf("requests still running %v after the shutdown began were cut off: %w", grace, err)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
