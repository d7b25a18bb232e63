package vial_test

import (
	"fmt"
	"net/http"

	"github.com/vial-go/vial"
)

// The test client calls the App in-process, as a server would, keeps the
// cookies the App sets and, when asked, follows redirects.
func ExampleApp_TestClient() {
	app := vial.New("shop")
	app.Post("/login", func(r *vial.Request) any {
		resp := vial.Redirect("/cart", 303)
		resp.SetCookie(&http.Cookie{Name: "user", Value: r.Form().Get("user"), Path: "/"})
		return resp
	})
	app.Get("/cart", func(r *vial.Request) any {
		return map[string]any{"user": r.Cookie("user"), "page": r.Args().Get("page")}
	})

	client := app.TestClient()
	client.FollowRedirects = true

	resp := client.Post("/login", vial.WithFormValue("user", "ann"))
	fmt.Println(resp.Status, resp.Mimetype(), len(resp.History), resp.History[0].StatusCode)
	fmt.Print(resp.Text())

	resp = client.Get("/cart", vial.WithQuery("page", "2"))
	var cart struct{ User, Page string }
	if err := resp.JSON(&cart); err != nil {
		panic(err)
	}
	fmt.Println(cart.User, cart.Page, client.Cookie("user"))
	// Output:
	// 200 OK application/json 1 303
	// {"page":"","user":"ann"}
	// ann 2 ann
}

// TestRequestContext gives the Request a URL would get, to test code that
// needs one without serving a request.
func ExampleApp_TestRequestContext() {
	app := vial.New("blog")
	app.Get("/post/<int:id>", func(r *vial.Request) any { return "a post" }, vial.Endpoint("post"))

	r, done := app.TestRequestContext("GET", "/post/7?lang=fr")
	defer done()
	fmt.Println(r.Endpoint, r.ViewArgs["id"], r.Args().Get("lang"))
	fmt.Println(r.URLFor("post", "id", 8, vial.External(true)))
	// Output:
	// post 7 fr
	// http://localhost/post/8
}
