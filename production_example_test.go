package vial_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway/middleware"
)

// Serving in production: timeouts, a readiness endpoint that fails first
// when the drain begins, the client's address from one trusted proxy.
// app.Serve(addr, opts...) drains on SIGTERM; ServeContext drains when its
// context is done, here at once.
func ExampleApp_ServeContext() {
	app := vial.New("shop")
	app.Get("/", func(r *vial.Request) any { return "hello from " + r.RemoteAddr })

	ln, err := net.Listen("tcp", "127.0.0.1:0") // a test's socket; Serve takes "host:port"
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- app.ServeContext(ctx, "", vial.Listener(ln),
			vial.Readiness("/readyz"), vial.DrainDelay(0), vial.ShutdownTimeout(10*time.Second),
			vial.WriteTimeout(0), // this App streams
			vial.TrustProxies(middleware.ProxyFixOptions{For: 1, Proto: 1}),
			vial.ServeLogger(slog.New(slog.DiscardHandler)))
	}()

	get := func(path string) {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+path, nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.7") // what nginx adds
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s\n", resp.StatusCode, body)
	}
	get("/readyz")
	get("/")
	cancel() // SIGTERM, for Serve
	fmt.Println("drained:", <-done)
	// Output:
	// 200 ok
	// 200 hello from 203.0.113.7
	// drained: <nil>
}
