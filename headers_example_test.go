package vial_test

import (
	"fmt"
	"time"

	"github.com/vial-go/vial"
)

// A view picks the representation the client prefers, as Flask's
// request.accept_mimetypes.best_match does.
func ExampleAccept_BestMatch() {
	app := vial.New("negotiate")
	app.Get("/report", func(r *vial.Request) any {
		switch r.AcceptMimetypes().BestMatch("application/json", "text/html") {
		case "application/json":
			return map[string]string{"report": "ok"}
		case "text/html":
			return "<p>ok</p>"
		}
		return vial.Abort(406)
	})

	client := app.TestClient()
	for _, accept := range []string{"text/html;q=0.9, */*;q=0.8", "application/*", "image/png"} {
		resp := client.Get("/report", vial.WithHeader("Accept", accept))
		fmt.Println(resp.StatusCode, resp.Mimetype())
	}
	// Output:
	// 200 text/html
	// 200 application/json
	// 406 text/html
}

// MakeConditional answers a request whose validators match with 304 Not
// Modified, and a Range request with 206 Partial Content.
func ExampleResponse_MakeConditional() {
	app := vial.New("files")
	app.Get("/notes.txt", func(r *vial.Request) any {
		resp := vial.NewResponse([]byte("remember the milk"), "text/plain")
		resp.SetETag("v1", false)
		resp.SetLastModified(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		resp.CacheControl().SetPublic(true).SetMaxAge(60)
		return resp.MakeConditional(r)
	})

	client := app.TestClient()
	resp := client.Get("/notes.txt")
	fmt.Println(resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"), resp.Text())

	resp = client.Get("/notes.txt", vial.WithHeader("If-None-Match", `"v1"`))
	fmt.Printf("%d %q\n", resp.StatusCode, resp.Text())

	resp = client.Get("/notes.txt", vial.WithHeader("Range", "bytes=13-"))
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Range"), resp.Text())
	// Output:
	// 200 "v1" public, max-age=60 remember the milk
	// 304 ""
	// 206 bytes 13-16/17 milk
}
