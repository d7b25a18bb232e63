package vial_test

import (
	"errors"
	"fmt"

	"github.com/vial-go/vial"
)

// Routes are registered as Flask's decorators register them; converters
// turn URL parts into Go values.
func ExampleApp_Route() {
	app := vial.New("shop")
	app.Route("/")(func(r *vial.Request) any {
		return "Welcome"
	})
	app.Route("/item/<int:id>", vial.Methods("GET", "DELETE"), vial.Endpoint("item"))(func(r *vial.Request) any {
		id := r.ViewArgs["id"].(int) // an int, converted by the rule
		if r.Method == "DELETE" {
			return vial.MakeResponse("", 204)
		}
		return map[string]any{"id": id, "url": r.URLFor("item", "id", id)}
	})
	app.Get("/files/<path:name>", func(r *vial.Request) any {
		return "file " + r.ViewArgs["name"].(string)
	})

	c := app.TestClient()
	fmt.Println(c.Get("/").Text())
	fmt.Print(c.Get("/item/42").Text())
	fmt.Println(c.Delete("/item/42").StatusCode)
	fmt.Println(c.Get("/files/docs/a.txt").Text())
	fmt.Println(c.Get("/item/x").StatusCode)
	fmt.Println(c.Post("/item/42").StatusCode, c.Post("/item/42").Header.Get("Allow"))
	fmt.Println(app.URLFor("item", "id", 7, "sort", "price"))
	// Output:
	// Welcome
	// {"id":42,"url":"/item/42"}
	// 204
	// file docs/a.txt
	// 404
	// 405 DELETE, GET, HEAD, OPTIONS
	// /item/7?sort=price
}

// Hooks run around every view: before-request functions may answer in the
// view's place, after-request functions change the response, teardown
// functions run once the response is sent.
func ExampleApp_BeforeRequest() {
	app := vial.New("api")
	app.BeforeRequest(func(r *vial.Request) any {
		if r.Header.Get("X-Token") != "secret" {
			return vial.Abort(401)
		}
		r.G.Set("user", "ann")
		return nil
	})
	app.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		resp.Header.Set("X-Served-By", "vial")
		return resp
	})
	app.TeardownRequest(func(r *vial.Request, err error) {
		fmt.Println("teardown", r.Path)
	})
	app.Get("/me", func(r *vial.Request) any {
		return "hello " + r.G.Get("user").(string)
	})

	c := app.TestClient()
	resp := c.Get("/me")
	fmt.Println(resp.StatusCode, resp.Header.Get("X-Served-By"))
	resp = c.Get("/me", vial.WithHeader("X-Token", "secret"))
	fmt.Println(resp.StatusCode, resp.Text())
	// Output:
	// teardown /me
	// 401 vial
	// teardown /me
	// 200 hello ann
}

var errNoSuchUser = errors.New("no such user")

// Error handlers turn errors into responses: by status code, by error
// value (errors.Is) or by error type (errors.As).
func ExampleApp_ErrorHandler() {
	app := vial.New("users")
	app.ErrorHandler(404, func(r *vial.Request, err error) any {
		return vial.MakeResponse("nothing at "+r.Path, 404)
	})
	app.ErrorHandler(errNoSuchUser, func(r *vial.Request, err error) any {
		return vial.MakeResponse(map[string]any{"error": err.Error()}, 404)
	})
	app.Get("/user/<name>", func(r *vial.Request) any {
		return fmt.Errorf("looking up %s: %w", r.ViewArgs["name"], errNoSuchUser)
	})

	c := app.TestClient()
	fmt.Println(c.Get("/nowhere").Text())
	fmt.Print(c.Get("/user/bob").Text())
	// Output:
	// nothing at /nowhere
	// {"error":"looking up bob: no such user"}
}

// A subscriber to the request signals sees every request without being
// part of the application.
func ExampleRequestFinished() {
	app := vial.New("watched")
	app.Get("/", func(r *vial.Request) any { return "ok" })

	conn := vial.RequestFinished.ConnectVia(app, func(sender *vial.App, resp *vial.Response) {
		fmt.Printf("%s %s -> %d\n", resp.Request.Method, resp.Request.Path, resp.StatusCode)
	})
	defer vial.RequestFinished.Disconnect(conn)

	c := app.TestClient()
	c.Get("/")
	c.Get("/missing")
	// Output:
	// GET / -> 200
	// GET /missing -> 404
}

// A Request is valid until its response has been sent: the App then
// recycles it. Work that goes on after the response (a goroutine the view
// starts) takes a copy.
func ExampleRequest_Copy() {
	app := vial.New("jobs")
	done := make(chan string)
	app.Post("/report/<int:year>", func(r *vial.Request) any {
		r.G.Set("user", r.Form().Get("user")) // read the body before copying
		c := r.Copy()
		go func() {
			// Runs after the response: under a server, r may be serving
			// another request by then (the test client keeps its own).
			done <- fmt.Sprintf("report %d for %s", c.ViewArgs["year"], c.G.Get("user"))
		}()
		return vial.MakeResponse("started", 202)
	})

	resp := app.TestClient().Post("/report/2026", vial.WithFormValue("user", "ann"))
	fmt.Println(resp.StatusCode, resp.Text())
	fmt.Println(<-done)
	// Output:
	// 202 started
	// report 2026 for ann
}
