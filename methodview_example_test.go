package vial_test

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/vial-go/vial"
)

// ItemAPI answers GET and POST on one URL, a method each: Flask's
// MethodView.
type ItemAPI struct {
	mu    sync.Mutex // one ItemAPI serves every request
	items []string
}

func (api *ItemAPI) Get(r *vial.Request) any {
	api.mu.Lock()
	defer api.mu.Unlock()
	return map[string]any{"items": api.items}
}

func (api *ItemAPI) Post(r *vial.Request) any {
	api.mu.Lock()
	defer api.mu.Unlock()
	api.items = append(api.items, r.Form().Get("name"))
	return vial.MakeResponse("added "+strconv.Itoa(len(api.items)), 201)
}

// The rule answers the methods ItemAPI has; the endpoint is its name.
func ExampleMethodView() {
	app := vial.New("shop")
	app.AddURLRule("/items", "", vial.MethodView(&ItemAPI{}))

	c := app.TestClient()
	resp := c.Post("/items", vial.WithFormValue("name", "tea"))
	fmt.Println(resp.StatusCode, resp.Text())
	fmt.Print(c.Get("/items").Text()) // JSON ends with a newline
	resp = c.Delete("/items")
	fmt.Println(resp.StatusCode, resp.Header.Get("Allow"))
	fmt.Println(app.URLFor("ItemAPI"))
	// Output:
	// 201 added 1
	// {"items":["tea"]}
	// 405 GET, HEAD, OPTIONS, POST
	// /items
}

// Counter keeps the state of one request: MethodViewFunc makes one for each.
type Counter struct{ n int }

func (c *Counter) Get(r *vial.Request) any {
	c.n++
	return "count " + strconv.Itoa(c.n)
}

func ExampleMethodViewFunc() {
	app := vial.New("count")
	app.Get("/count", vial.MethodViewFunc(func() *Counter { return &Counter{} }))

	c := app.TestClient()
	fmt.Println(c.Get("/count").Text())
	fmt.Println(c.Get("/count").Text())
	// Output:
	// count 1
	// count 1
}

// A decorator is a func(vial.View) vial.View, Flask's @login_required.
func ExampleDecorate() {
	loginRequired := func(next vial.View) vial.View {
		return func(r *vial.Request) any {
			if r.Cookie("user") == "" {
				return vial.Abort(401)
			}
			return next(r)
		}
	}
	logged := func(next vial.View) vial.View {
		return func(r *vial.Request) any {
			fmt.Println("request for", r.Endpoint)
			return next(r)
		}
	}
	app := vial.New("site")
	app.Get("/settings", vial.Decorate(settings, logged, loginRequired))

	c := app.TestClient()
	fmt.Println(c.Get("/settings").StatusCode)
	c.SetCookie("user", "ann")
	fmt.Println(c.Get("/settings").Text())
	fmt.Println(app.URLFor("settings"))
	// Output:
	// request for settings
	// 401
	// request for settings
	// settings of ann
	// /settings
}

func settings(r *vial.Request) any { return "settings of " + r.Cookie("user") }
