package vial_test

import (
	"fmt"

	"github.com/vial-go/vial"
)

// A blueprint "api" under /api with "v1" nested in it under /v1: v1's
// endpoint "user" is "api.v1.user" at /api/v1/users/<int:id>, ".user" in
// its views is relative to their blueprint, and api's before-request
// function runs for the requests of v1's views, not for the App's nor for
// a URL under /api that matches no rule.
func ExampleNewBlueprint() {
	app := vial.New("shop")
	api := vial.NewBlueprint("api", vial.URLPrefix("/api"))
	v1 := vial.NewBlueprint("v1", vial.URLPrefix("/v1"))

	api.BeforeRequest(func(r *vial.Request) any {
		fmt.Println("api's before-request, for", r.Endpoint)
		return nil
	})
	v1.Get("/users/<int:id>", func(r *vial.Request) any {
		next := r.URLFor(".user", "id", r.ViewArgs["id"].(int)+1)
		return fmt.Sprintf("%s in %s %v; next %s", r.Endpoint, r.Blueprint, r.Blueprints, next)
	}, vial.Endpoint("user"))
	app.Get("/", func(r *vial.Request) any {
		return fmt.Sprintf("index, blueprint %q", r.Blueprint)
	}, vial.Endpoint("index"))

	api.RegisterBlueprint(v1) // set a blueprint up completely, then register it
	app.RegisterBlueprint(api)

	c := app.TestClient()
	fmt.Println(c.Get("/api/v1/users/7").Text())
	fmt.Println(c.Get("/").Text())
	fmt.Println(app.URLFor("api.v1.user", "id", 1))
	fmt.Println(c.Get("/api/v1/nothing").StatusCode) // matched no rule: no blueprint's, api's hook does not run
	// Output:
	// api's before-request, for api.v1.user
	// api.v1.user in api.v1 [api.v1 api]; next /api/v1/users/8
	// index, blueprint ""
	// /api/v1/users/1
	// 404
}
