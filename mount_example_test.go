package vial_test

import (
	"fmt"
	"net/http"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
)

// Mount is Flask's app.wsgi_app = DispatcherMiddleware(app.wsgi_app,
// {...}): a vial App and a net/http router served under prefixes of the
// App, each seeing itself at the root, the App keeping every other path.
func ExampleApp_Mount() {
	api := vial.New("api")
	api.Get("/users/<int:id>", func(r *vial.Request) any {
		return "user at " + r.URLFor("user", "id", r.ViewArgs["id"])
	}, vial.Endpoint("user"))

	legacy := http.NewServeMux()
	legacy.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "report: path %s, mounted at %s", r.URL.Path, gateway.ScriptName(r))
	})

	app := vial.New("site")
	app.Get("/", func(r *vial.Request) any { return "home" })
	app.Mount("/api", api)
	app.Mount("/legacy", legacy)

	c := app.TestClient()
	fmt.Println(c.Get("/api/users/7").Text())
	fmt.Println(c.Get("/legacy/report").Text())
	fmt.Println(c.Get("/").Text())
	// Output:
	// user at /api/users/7
	// report: path /report, mounted at /legacy
	// home
}
