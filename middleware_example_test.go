package vial_test

import (
	"fmt"
	"net/http"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
)

// Use puts net/http middleware around the App: here Go's cross-origin
// protection, which refuses a browser's cross-site POST, and a handler
// that sets a header on every response. The first given is the outermost.
func ExampleApp_Use() {
	app := vial.New("forms")
	app.Post("/comment", func(r *vial.Request) any { return "saved" })
	app.Use(http.NewCrossOriginProtection().Handler, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Frame-Options", "DENY")
			next.ServeHTTP(w, r)
		})
	})

	c := app.TestClient()
	resp := c.Post("/comment", vial.WithHeader("Sec-Fetch-Site", "same-origin"))
	fmt.Println(resp.StatusCode, resp.Text(), resp.Header.Get("X-Frame-Options"))
	resp = c.Post("/comment", vial.WithHeader("Sec-Fetch-Site", "cross-site"))
	fmt.Println(resp.StatusCode)
	// Output:
	// 200 saved DENY
	// 403
}

// Wrap is Flask's app.wsgi_app = Middleware(app.wsgi_app): each call wraps
// what the previous made, so the last is the outermost.
func ExampleApp_Wrap() {
	app := vial.New("wrapped")
	app.Get("/", func(r *vial.Request) any { return r.Environ.GetString("trail") })
	for _, name := range []string{"inner", "outer"} {
		app.Wrap(func(next gateway.Application) gateway.Application {
			return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				env.Set("trail", env.GetString("trail")+name+" ")
				return next.ServeGateway(env, start)
			})
		})
	}

	fmt.Println(app.TestClient().Get("/").Text())
	// Output: outer inner
}
