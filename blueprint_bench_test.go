package vial

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/vial-go/vial/internal/benchwriter"
)

// userView answers the benchmarks' requests.
func userView(r *Request) any { return "user " + strconv.Itoa(r.ViewArgs["id"].(int)) }

// blueprintBenchApps returns two Apps serving userView at
// /api/v1/users/<int:id>: one registers the rule itself, the other from a
// blueprint v1 nested in api (prefixes /api and /v1); with hooks, each
// scope has a before-request function.
func blueprintBenchApps(hooks bool) (onApp, nested *App) {
	none := func(*Request) any { return nil }
	onApp = New("app")
	onApp.Get("/api/v1/users/<int:id>", userView)
	nested = New("nested")
	api := NewBlueprint("api", URLPrefix("/api"))
	v1 := NewBlueprint("v1", URLPrefix("/v1"))
	v1.Get("/users/<int:id>", userView)
	if hooks {
		onApp.BeforeRequest(none)
		nested.BeforeRequest(none)
		api.BeforeRequest(none)
		v1.BeforeRequest(none)
	}
	api.RegisterBlueprint(v1)
	nested.RegisterBlueprint(api)
	return onApp, nested
}

// BenchmarkBlueprint compares a request to a nested blueprint's view with
// the same view on the App.
func BenchmarkBlueprint(b *testing.B) {
	for _, hooks := range []bool{false, true} {
		onApp, nested := blueprintBenchApps(hooks)
		suffix := ""
		if hooks {
			suffix = "+hooks"
		}
		for _, side := range []struct {
			name string
			h    http.Handler
			path string
		}{{"app" + suffix, onApp, "/api/v1/users/42"}, {"nested" + suffix, nested, "/api/v1/users/42"}} {
			b.Run(side.name, func(b *testing.B) {
				w := benchwriter.New()
				reqs := []*http.Request{httptest.NewRequest("GET", side.path, nil)}
				b.ReportAllocs()
				for b.Loop() {
					serveAll(b, side.h, w, reqs)
				}
			})
		}
	}
}
