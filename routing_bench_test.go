package vial

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"
	"github.com/vial-go/vial/internal/githubroutes"
)

// githubAPI is a table shaped like GitHub's REST API (v3), in Flask rule
// syntax (internal/githubroutes, shared with the bench module). It is
// converted for both routers: toMuxTemplate gives gorilla/mux's syntax,
// samplePath a request path.
var githubAPI = githubroutes.All

// samplePath fills a rule's variables with sample values.
var samplePath = githubroutes.SamplePath

var benchVarRe = regexp.MustCompile(`<(?:(\w+):)?(\w+)>`)

// toMuxTemplate converts a rule to gorilla/mux syntax, with the same
// patterns as vial's converters: <owner> → {owner}, <int:id> → {id:[0-9]+},
// <path:ref> → {ref:.+}.
func toMuxTemplate(rule string) string {
	return benchVarRe.ReplaceAllStringFunc(rule, func(v string) string {
		m := benchVarRe.FindStringSubmatch(v)
		switch m[1] {
		case "int":
			return "{" + m[2] + ":[0-9]+}"
		case "path":
			return "{" + m[2] + ":.+}"
		}
		return "{" + m[2] + "}"
	})
}

type benchRequest struct {
	method, path string
	req          *http.Request
}

// githubRouters builds the table on both routers, and one request per
// route.
func githubRouters(tb testing.TB) (*URLMap, []*Rule, *mux.Router, []*mux.Route, []benchRequest) {
	m := NewURLMap()
	router := mux.NewRouter()
	var rules []*Rule
	var routes []*mux.Route
	var reqs []benchRequest
	for _, e := range githubAPI {
		r := &Rule{Rule: e.Rule, Endpoint: e.Method + " " + e.Rule, Methods: []string{e.Method}, StrictSlashes: true}
		m.Add(r)
		rules = append(rules, r)
		route := router.NewRoute().Path(toMuxTemplate(e.Rule)).Methods(e.Method)
		require.NoError(tb, route.GetError())
		routes = append(routes, route)
		path := samplePath(e.Rule)
		req, err := http.NewRequest(e.Method, path, nil)
		require.NoError(tb, err)
		reqs = append(reqs, benchRequest{e.Method, path, req})
	}
	return m, rules, router, routes, reqs
}

// Both routers must agree on every route of the table, or the comparison
// means nothing.
func TestGitHubTableAgrees(t *testing.T) {
	m, rules, router, routes, reqs := githubRouters(t)
	require.GreaterOrEqual(t, len(rules), 200)
	for i, br := range reqs {
		r, args, err := m.Match(br.path, br.method)
		require.NoError(t, err, br.path)
		require.Same(t, rules[i], r, br.path)
		var match mux.RouteMatch
		require.True(t, router.Match(br.req, &match), br.path)
		require.Same(t, routes[i], match.Route, br.path)
		require.Len(t, args, len(match.Vars), br.path)
		for name, s := range match.Vars {
			switch v := args[name].(type) {
			case int:
				require.Equal(t, "42", s)
			case string:
				require.Equal(t, s, v)
			default:
				t.Fatalf("%s: unexpected %T", br.path, v)
			}
		}
	}
}

func matchMux(b *testing.B, router *mux.Router, req *http.Request, match *mux.RouteMatch) {
	*match = mux.RouteMatch{}
	if !router.Match(req, match) {
		b.Fatal("no match for", req.URL.Path)
	}
}

func matchVial(b *testing.B, m *URLMap, path, method string) {
	if _, _, err := m.Match(path, method); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMatch compares URLMap.Match with a plain mux.Router.Match (a
// reused request and RouteMatch) on the same routes.
func BenchmarkMatch(b *testing.B) {
	b.Run("static/vial", func(b *testing.B) {
		m := NewURLMap()
		m.Add(&Rule{Rule: "/about", Endpoint: "about"})
		b.ReportAllocs()
		for b.Loop() {
			matchVial(b, m, "/about", "GET")
		}
	})
	b.Run("static/mux", func(b *testing.B) {
		router := mux.NewRouter()
		router.NewRoute().Path("/about").Methods("GET")
		req, _ := http.NewRequest("GET", "/about", nil)
		var match mux.RouteMatch
		b.ReportAllocs()
		for b.Loop() {
			matchMux(b, router, req, &match)
		}
	})
	b.Run("param/vial", func(b *testing.B) {
		m := NewURLMap()
		m.Add(&Rule{Rule: "/user/<int:id>", Endpoint: "user"})
		b.ReportAllocs()
		for b.Loop() {
			matchVial(b, m, "/user/42", "GET")
		}
	})
	b.Run("param/mux", func(b *testing.B) {
		router := mux.NewRouter()
		router.NewRoute().Path("/user/{id:[0-9]+}").Methods("GET")
		req, _ := http.NewRequest("GET", "/user/42", nil)
		var match mux.RouteMatch
		b.ReportAllocs()
		for b.Loop() {
			matchMux(b, router, req, &match)
		}
	})

	m, _, router, _, reqs := githubRouters(b)
	b.Run("github-all/vial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, br := range reqs {
				matchVial(b, m, br.path, br.method)
			}
		}
	})
	b.Run("github-all/mux", func(b *testing.B) {
		var match mux.RouteMatch
		b.ReportAllocs()
		for b.Loop() {
			for _, br := range reqs {
				matchMux(b, router, br.req, &match)
			}
		}
	})
	late := reqs[len(reqs)-1]
	if !strings.Contains(late.path, "42") {
		b.Fatal("the last route of the table should be a param route")
	}
	b.Run("github-late/vial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			matchVial(b, m, late.path, late.method)
		}
	})
	b.Run("github-late/mux", func(b *testing.B) {
		var match mux.RouteMatch
		b.ReportAllocs()
		for b.Loop() {
			matchMux(b, router, late.req, &match)
		}
	})
}
