// Command hello is vial's hello world: a page, a route with a converter,
// and a JSON endpoint, with Flask's command line.
//
//	go run ./examples/hello run            # http://127.0.0.1:5000
//	go run ./examples/hello run --debug    # with the debugger and the reloader
//	go run ./examples/hello routes
package main

import (
	"github.com/vial-go/vial"
)

// newApp builds the application; main serves it, the tests call it
// in-process.
func newApp() *vial.App {
	app := vial.New("hello")
	app.Route("/")(index) // the endpoint is the function's name: "index"
	app.Get("/hello/<name>", hello)
	app.Get("/user/<int(min=1):id>", user)
	return app
}

func index(r *vial.Request) any {
	return "Hello, World!"
}

func hello(r *vial.Request) any {
	return "Hello, " + r.ViewArgs["name"].(string) + "!"
}

func user(r *vial.Request) any {
	id := r.ViewArgs["id"].(int)
	return map[string]any{ // a map is sent as JSON
		"id":   id,
		"self": r.URLFor("user", "id", id, vial.External(true)),
	}
}

func main() {
	newApp().Main()
}
