package vial

import (
	"net/http"
	"testing"

	"github.com/vial-go/vial/internal/benchwriter"
)

// BenchmarkJSONMap serves a view returning a map, and one returning a
// struct, through the App: the cost of the JSON provider on a request.
func BenchmarkJSONMap(b *testing.B) {
	type user struct {
		ID    int    `json:"id"`
		Name  string `json:"name"`
		Admin bool   `json:"admin"`
	}
	for _, c := range []struct {
		name string
		view View
	}{
		{"map", func(r *Request) any {
			return map[string]any{"id": 42, "name": "gopher", "admin": false, "tags": []string{"a", "b"}}
		}},
		{"struct", func(r *Request) any { return user{42, "gopher", false} }},
	} {
		b.Run(c.name, func(b *testing.B) {
			app := New("bench")
			app.Get("/u", c.view)
			req := newBenchRequest("GET", "/u")
			w := benchwriter.New()
			b.ReportAllocs()
			for b.Loop() {
				serveAll(b, app, w, []*http.Request{req})
			}
		})
	}
}
