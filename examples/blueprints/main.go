// Command blueprints is an application structured in blueprints, as a
// Flask user structures one: the App keeps its own index page and error
// pages, and each part of the site is a blueprint in a file of its own.
//
//	/                          the App's index, linking to the blueprints with URLFor
//	/api/                      api (api.go): the versions, with URLFor(".v1.list")
//	/api/v1/notes              api.v1, nested in api: GET the list, POST {"text": "…"} → 201
//	/api/v1/notes/<int:id>     one note; an unknown id is a JSON 404
//	/admin/                    admin (admin.go): a token checked before each of its requests
//	/admin/notes/<int:id>      DELETE a note
//
// What it shows:
//
//   - Endpoints are named after their blueprints ("api.v1.get",
//     "admin.dashboard"), rules get the joined prefixes ("/api" + "/v1"),
//     and r.URLFor(".get") is relative to the request's blueprint.
//   - An error handler of api serves the views of api and of v1 nested in
//     it: vial.Abort(404) in a view is answered in JSON. A URL under /api
//     that matches no rule is not api's (no blueprint's view was found), so
//     it gets the App's HTML 404, as Flask documents.
//   - admin's before-request check runs for admin's views only, and
//     admin.Decorate wraps each of them (a Server-Timing header); the api
//     and the index need no token.
//
// Run it:
//
//	ADMIN_TOKEN=s3cret go run ./examples/blueprints run
//	go run ./examples/blueprints routes
//	curl -i -H 'Content-Type: application/json' -d '{"text": "buy milk"}' http://127.0.0.1:5000/api/v1/notes
//	curl -i http://127.0.0.1:5000/api/v1/notes/42       # JSON 404, api's handler
//	curl -i http://127.0.0.1:5000/api/nothing           # HTML 404, the App's
//	curl -i -H 'Authorization: Bearer s3cret' http://127.0.0.1:5000/admin/
//
// Without $ADMIN_TOKEN every admin request is refused. The notes live in
// memory and are lost when the program stops.
package main

import (
	"fmt"
	"html"
	"os"

	"github.com/vial-go/vial"
)

// newApp builds the application, Flask's create_app: the App's own views
// and error page, then the blueprints. main serves it; the tests call it
// in-process.
func newApp() *vial.App {
	app := vial.New("blueprints")
	app.Config["ADMIN_TOKEN"] = os.Getenv("ADMIN_TOKEN")
	store := newNotes()

	app.Get("/", index, vial.Endpoint("index"))
	app.ErrorHandler(404, notFound)

	app.RegisterBlueprint(newAPI(store))
	app.RegisterBlueprint(newAdmin(store))
	return app
}

// index is the App's home page. Its links are built from the blueprints'
// endpoints, so moving a blueprint to another prefix moves them too.
func index(r *vial.Request) any {
	return fmt.Sprintf(`<!doctype html>
<title>Notes</title>
<h1>Notes</h1>
<ul>
<li><a href="%s">the API</a> (<a href="%s">the notes</a>)
<li><a href="%s">admin</a> (needs a token)
</ul>
`, r.URLFor("api.index"), r.URLFor("api.v1.list"), r.URLFor("admin.dashboard"))
}

// notFound is the App's 404 page, for its own views and for every URL that
// matched no rule, under a blueprint's prefix or not.
func notFound(r *vial.Request, err error) any {
	page := fmt.Sprintf(`<!doctype html>
<title>Not Found</title>
<h1>Not Found</h1>
<p>Nothing at %s. <a href="%s">Back to the index</a>.</p>
`, html.EscapeString(r.Path), r.URLFor("index"))
	return vial.MakeResponse(page, 404)
}

func main() {
	newApp().Main()
}
