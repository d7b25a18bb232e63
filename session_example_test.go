package vial_test

import (
	"fmt"

	"github.com/vial-go/vial"
)

// The session keeps a client's data between requests in a signed cookie,
// the one Flask writes: a Flask app with the same SECRET_KEY reads it.
func ExampleRequest_Session() {
	app := vial.New("shop")
	app.Config["SECRET_KEY"] = "change me: a long random string"
	app.Post("/login", func(r *vial.Request) any {
		s := r.Session()
		s.Set("user_id", 42)
		s.SetPermanent(true) // the cookie lasts PERMANENT_SESSION_LIFETIME (31 days)
		return "logged in"
	})
	app.Get("/me", func(r *vial.Request) any {
		id, ok := r.Session().Int("user_id")
		if !ok {
			return vial.Abort(401)
		}
		return map[string]any{"user_id": id}
	})
	app.Post("/logout", func(r *vial.Request) any {
		r.Session().Clear() // the cookie is deleted
		return "bye"
	})

	client := app.TestClient()
	client.Post("/login")
	fmt.Print(client.Get("/me").Text())
	client.Post("/logout")
	fmt.Println(client.Get("/me").StatusCode)
	// Output:
	// {"user_id":42}
	// 401
}

// Flash keeps a message for the next request, Flask's flash and
// get_flashed_messages(with_categories=True).
func ExampleFlash() {
	app := vial.New("notes")
	app.Config["SECRET_KEY"] = "change me: a long random string"
	app.Post("/notes", func(r *vial.Request) any {
		vial.Flash(r, "Note saved.")
		vial.Flash(r, "The title is long.", "warning")
		return vial.Redirect("/notes", 303)
	})
	app.Get("/notes", func(r *vial.Request) any {
		for _, m := range r.FlashedMessages() {
			fmt.Printf("%s: %s\n", m.Category, m.Message)
		}
		return "the notes"
	})

	client := app.TestClient()
	client.FollowRedirects = true
	client.Post("/notes")
	client.Get("/notes") // shown once: nothing the second time
	// Output:
	// message: Note saved.
	// warning: The title is long.
}
