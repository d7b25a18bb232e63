// Command hello is vial's hello world: a page, a route with a converter,
// and a JSON endpoint.
//
//	go run ./examples/hello             # http://127.0.0.1:5000
//	go run ./examples/hello -addr :8080
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/vial-go/vial"
)

// newApp builds the application; main serves it, the tests call it
// in-process.
func newApp() *vial.App {
	app := vial.New("hello")

	app.Route("/")(func(r *vial.Request) any {
		return "Hello, World!"
	})
	app.Get("/hello/<name>", func(r *vial.Request) any {
		return "Hello, " + r.ViewArgs["name"].(string) + "!"
	})
	app.Get("/user/<int(min=1):id>", func(r *vial.Request) any {
		return map[string]any{
			"id":   r.ViewArgs["id"],
			"self": r.URLFor("user", "id", r.ViewArgs["id"], vial.External(true)),
		}
	}, vial.Endpoint("user"))
	return app
}

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "address to listen on")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: newApp(), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("serving hello on http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}
