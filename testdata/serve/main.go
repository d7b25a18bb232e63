// Command serve is the program production_test.go drains with SIGTERM: an
// App on app.Serve with a readiness endpoint, a slow view and an endless
// stream, whose teardown prints the path it tore down.
package main

import (
	"flag"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"time"

	"github.com/vial-go/vial"
)

func main() {
	port := flag.Int("port", 0, "the port to listen on")
	drainDelay := flag.Duration("drain-delay", 0, "vial.DrainDelay")
	shutdown := flag.Duration("shutdown-timeout", 5*time.Second, "vial.ShutdownTimeout")
	flag.Parse()

	app := vial.New("serve")
	app.Get("/slow", func(r *vial.Request) any {
		fmt.Fprintln(os.Stderr, "slow: started")
		time.Sleep(1500 * time.Millisecond)
		return "slow: done"
	})
	app.Get("/stream", func(r *vial.Request) any {
		fmt.Fprintln(os.Stderr, "stream: started")
		return iter.Seq[string](func(yield func(string) bool) {
			for i := 0; i < 400 && yield("tick\n"); i++ { // at most 20 s
				time.Sleep(50 * time.Millisecond)
			}
		})
	})
	app.TeardownRequest(func(r *vial.Request, err error) {
		fmt.Fprintln(os.Stderr, "teardown:", r.Path)
	})
	err := app.Serve(fmt.Sprintf("127.0.0.1:%d", *port),
		vial.Readiness("/readyz"), vial.DrainDelay(*drainDelay), vial.ShutdownTimeout(*shutdown),
		vial.ServeLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "serve: exited cleanly")
}
