package vial

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"
)

// githubAPI is a table shaped like GitHub's REST API (v3), in Flask rule
// syntax. It is written once and converted for both routers: toMuxTemplate
// gives gorilla/mux's syntax, samplePath a request path.
var githubAPI = []struct{ method, rule string }{
	// OAuth authorizations
	{"GET", "/authorizations"},
	{"GET", "/authorizations/<int:id>"},
	{"POST", "/authorizations"},
	{"PATCH", "/authorizations/<int:id>"},
	{"DELETE", "/authorizations/<int:id>"},
	{"GET", "/applications/<client_id>/tokens/<access_token>"},
	{"DELETE", "/applications/<client_id>/tokens"},
	{"DELETE", "/applications/<client_id>/tokens/<access_token>"},
	// Activity
	{"GET", "/events"},
	{"GET", "/repos/<owner>/<repo>/events"},
	{"GET", "/networks/<owner>/<repo>/events"},
	{"GET", "/orgs/<org>/events"},
	{"GET", "/users/<user>/received_events"},
	{"GET", "/users/<user>/received_events/public"},
	{"GET", "/users/<user>/events"},
	{"GET", "/users/<user>/events/public"},
	{"GET", "/users/<user>/events/orgs/<org>"},
	{"GET", "/feeds"},
	{"GET", "/notifications"},
	{"GET", "/repos/<owner>/<repo>/notifications"},
	{"PUT", "/notifications"},
	{"PUT", "/repos/<owner>/<repo>/notifications"},
	{"GET", "/notifications/threads/<int:id>"},
	{"PATCH", "/notifications/threads/<int:id>"},
	{"GET", "/notifications/threads/<int:id>/subscription"},
	{"PUT", "/notifications/threads/<int:id>/subscription"},
	{"DELETE", "/notifications/threads/<int:id>/subscription"},
	{"GET", "/repos/<owner>/<repo>/stargazers"},
	{"GET", "/users/<user>/starred"},
	{"GET", "/user/starred"},
	{"GET", "/user/starred/<owner>/<repo>"},
	{"PUT", "/user/starred/<owner>/<repo>"},
	{"DELETE", "/user/starred/<owner>/<repo>"},
	{"GET", "/repos/<owner>/<repo>/subscribers"},
	{"GET", "/users/<user>/subscriptions"},
	{"GET", "/user/subscriptions"},
	{"GET", "/repos/<owner>/<repo>/subscription"},
	{"PUT", "/repos/<owner>/<repo>/subscription"},
	{"DELETE", "/repos/<owner>/<repo>/subscription"},
	{"GET", "/user/subscriptions/<owner>/<repo>"},
	{"PUT", "/user/subscriptions/<owner>/<repo>"},
	{"DELETE", "/user/subscriptions/<owner>/<repo>"},
	// Gists
	{"GET", "/users/<user>/gists"},
	{"GET", "/gists"},
	{"GET", "/gists/public"},
	{"GET", "/gists/starred"},
	{"GET", "/gists/<id>"},
	{"POST", "/gists"},
	{"PATCH", "/gists/<id>"},
	{"PUT", "/gists/<id>/star"},
	{"DELETE", "/gists/<id>/star"},
	{"GET", "/gists/<id>/star"},
	{"POST", "/gists/<id>/forks"},
	{"DELETE", "/gists/<id>"},
	// Git data
	{"GET", "/repos/<owner>/<repo>/git/blobs/<sha>"},
	{"POST", "/repos/<owner>/<repo>/git/blobs"},
	{"GET", "/repos/<owner>/<repo>/git/commits/<sha>"},
	{"POST", "/repos/<owner>/<repo>/git/commits"},
	{"GET", "/repos/<owner>/<repo>/git/refs"},
	{"GET", "/repos/<owner>/<repo>/git/refs/<path:ref>"},
	{"POST", "/repos/<owner>/<repo>/git/refs"},
	{"PATCH", "/repos/<owner>/<repo>/git/refs/<path:ref>"},
	{"DELETE", "/repos/<owner>/<repo>/git/refs/<path:ref>"},
	{"GET", "/repos/<owner>/<repo>/git/tags/<sha>"},
	{"POST", "/repos/<owner>/<repo>/git/tags"},
	{"GET", "/repos/<owner>/<repo>/git/trees/<sha>"},
	{"POST", "/repos/<owner>/<repo>/git/trees"},
	// Issues
	{"GET", "/issues"},
	{"GET", "/user/issues"},
	{"GET", "/orgs/<org>/issues"},
	{"GET", "/repos/<owner>/<repo>/issues"},
	{"GET", "/repos/<owner>/<repo>/issues/comments"},
	{"GET", "/repos/<owner>/<repo>/issues/comments/<int:id>"},
	{"PATCH", "/repos/<owner>/<repo>/issues/comments/<int:id>"},
	{"DELETE", "/repos/<owner>/<repo>/issues/comments/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/issues/events"},
	{"GET", "/repos/<owner>/<repo>/issues/events/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>"},
	{"POST", "/repos/<owner>/<repo>/issues"},
	{"PATCH", "/repos/<owner>/<repo>/issues/<int:number>"},
	{"GET", "/repos/<owner>/<repo>/assignees"},
	{"GET", "/repos/<owner>/<repo>/assignees/<assignee>"},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>/comments"},
	{"POST", "/repos/<owner>/<repo>/issues/<int:number>/comments"},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>/events"},
	{"GET", "/repos/<owner>/<repo>/labels"},
	{"GET", "/repos/<owner>/<repo>/labels/<name>"},
	{"POST", "/repos/<owner>/<repo>/labels"},
	{"PATCH", "/repos/<owner>/<repo>/labels/<name>"},
	{"DELETE", "/repos/<owner>/<repo>/labels/<name>"},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>/labels"},
	{"POST", "/repos/<owner>/<repo>/issues/<int:number>/labels"},
	{"DELETE", "/repos/<owner>/<repo>/issues/<int:number>/labels/<name>"},
	{"PUT", "/repos/<owner>/<repo>/issues/<int:number>/labels"},
	{"DELETE", "/repos/<owner>/<repo>/issues/<int:number>/labels"},
	{"GET", "/repos/<owner>/<repo>/milestones/<int:number>/labels"},
	{"GET", "/repos/<owner>/<repo>/milestones"},
	{"GET", "/repos/<owner>/<repo>/milestones/<int:number>"},
	{"POST", "/repos/<owner>/<repo>/milestones"},
	{"PATCH", "/repos/<owner>/<repo>/milestones/<int:number>"},
	{"DELETE", "/repos/<owner>/<repo>/milestones/<int:number>"},
	// Miscellaneous
	{"GET", "/emojis"},
	{"GET", "/gitignore/templates"},
	{"GET", "/gitignore/templates/<name>"},
	{"POST", "/markdown"},
	{"POST", "/markdown/raw"},
	{"GET", "/meta"},
	{"GET", "/rate_limit"},
	// Organizations
	{"GET", "/users/<user>/orgs"},
	{"GET", "/user/orgs"},
	{"GET", "/orgs/<org>"},
	{"PATCH", "/orgs/<org>"},
	{"GET", "/orgs/<org>/members"},
	{"GET", "/orgs/<org>/members/<user>"},
	{"DELETE", "/orgs/<org>/members/<user>"},
	{"GET", "/orgs/<org>/public_members"},
	{"GET", "/orgs/<org>/public_members/<user>"},
	{"PUT", "/orgs/<org>/public_members/<user>"},
	{"DELETE", "/orgs/<org>/public_members/<user>"},
	{"GET", "/orgs/<org>/teams"},
	{"GET", "/teams/<int:id>"},
	{"POST", "/orgs/<org>/teams"},
	{"PATCH", "/teams/<int:id>"},
	{"DELETE", "/teams/<int:id>"},
	{"GET", "/teams/<int:id>/members"},
	{"GET", "/teams/<int:id>/members/<user>"},
	{"PUT", "/teams/<int:id>/members/<user>"},
	{"DELETE", "/teams/<int:id>/members/<user>"},
	{"GET", "/teams/<int:id>/repos"},
	{"GET", "/teams/<int:id>/repos/<owner>/<repo>"},
	{"PUT", "/teams/<int:id>/repos/<owner>/<repo>"},
	{"DELETE", "/teams/<int:id>/repos/<owner>/<repo>"},
	{"GET", "/user/teams"},
	// Pull requests
	{"GET", "/repos/<owner>/<repo>/pulls"},
	{"GET", "/repos/<owner>/<repo>/pulls/comments"},
	{"GET", "/repos/<owner>/<repo>/pulls/comments/<int:id>"},
	{"PATCH", "/repos/<owner>/<repo>/pulls/comments/<int:id>"},
	{"DELETE", "/repos/<owner>/<repo>/pulls/comments/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>"},
	{"POST", "/repos/<owner>/<repo>/pulls"},
	{"PATCH", "/repos/<owner>/<repo>/pulls/<int:number>"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/commits"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/files"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/merge"},
	{"PUT", "/repos/<owner>/<repo>/pulls/<int:number>/merge"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/comments"},
	{"PUT", "/repos/<owner>/<repo>/pulls/<int:number>/comments"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/reviews"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/reviews/<int:review_id>"},
	{"POST", "/repos/<owner>/<repo>/pulls/<int:number>/reviews/<int:review_id>/events"},
	// Repositories
	{"GET", "/user/repos"},
	{"GET", "/users/<user>/repos"},
	{"GET", "/orgs/<org>/repos"},
	{"GET", "/repositories"},
	{"POST", "/user/repos"},
	{"POST", "/orgs/<org>/repos"},
	{"GET", "/repos/<owner>/<repo>"},
	{"PATCH", "/repos/<owner>/<repo>"},
	{"GET", "/repos/<owner>/<repo>/contributors"},
	{"GET", "/repos/<owner>/<repo>/languages"},
	{"GET", "/repos/<owner>/<repo>/teams"},
	{"GET", "/repos/<owner>/<repo>/tags"},
	{"GET", "/repos/<owner>/<repo>/branches"},
	{"GET", "/repos/<owner>/<repo>/branches/<branch>"},
	{"DELETE", "/repos/<owner>/<repo>"},
	{"GET", "/repos/<owner>/<repo>/collaborators"},
	{"GET", "/repos/<owner>/<repo>/collaborators/<user>"},
	{"PUT", "/repos/<owner>/<repo>/collaborators/<user>"},
	{"DELETE", "/repos/<owner>/<repo>/collaborators/<user>"},
	{"GET", "/repos/<owner>/<repo>/comments"},
	{"GET", "/repos/<owner>/<repo>/commits/<sha>/comments"},
	{"POST", "/repos/<owner>/<repo>/commits/<sha>/comments"},
	{"GET", "/repos/<owner>/<repo>/comments/<int:id>"},
	{"PATCH", "/repos/<owner>/<repo>/comments/<int:id>"},
	{"DELETE", "/repos/<owner>/<repo>/comments/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/commits"},
	{"GET", "/repos/<owner>/<repo>/commits/<sha>"},
	{"GET", "/repos/<owner>/<repo>/readme"},
	{"GET", "/repos/<owner>/<repo>/contents/<path:path>"},
	{"PUT", "/repos/<owner>/<repo>/contents/<path:path>"},
	{"DELETE", "/repos/<owner>/<repo>/contents/<path:path>"},
	{"GET", "/repos/<owner>/<repo>/keys"},
	{"GET", "/repos/<owner>/<repo>/keys/<int:id>"},
	{"POST", "/repos/<owner>/<repo>/keys"},
	{"PATCH", "/repos/<owner>/<repo>/keys/<int:id>"},
	{"DELETE", "/repos/<owner>/<repo>/keys/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/downloads"},
	{"GET", "/repos/<owner>/<repo>/downloads/<int:id>"},
	{"DELETE", "/repos/<owner>/<repo>/downloads/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/forks"},
	{"POST", "/repos/<owner>/<repo>/forks"},
	{"GET", "/repos/<owner>/<repo>/hooks"},
	{"GET", "/repos/<owner>/<repo>/hooks/<int:id>"},
	{"POST", "/repos/<owner>/<repo>/hooks"},
	{"PATCH", "/repos/<owner>/<repo>/hooks/<int:id>"},
	{"POST", "/repos/<owner>/<repo>/hooks/<int:id>/tests"},
	{"DELETE", "/repos/<owner>/<repo>/hooks/<int:id>"},
	{"POST", "/repos/<owner>/<repo>/merges"},
	{"GET", "/repos/<owner>/<repo>/releases"},
	{"GET", "/repos/<owner>/<repo>/releases/<int:id>"},
	{"POST", "/repos/<owner>/<repo>/releases"},
	{"PATCH", "/repos/<owner>/<repo>/releases/<int:id>"},
	{"DELETE", "/repos/<owner>/<repo>/releases/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/releases/<int:id>/assets"},
	{"GET", "/repos/<owner>/<repo>/stats/contributors"},
	{"GET", "/repos/<owner>/<repo>/stats/commit_activity"},
	{"GET", "/repos/<owner>/<repo>/stats/code_frequency"},
	{"GET", "/repos/<owner>/<repo>/stats/participation"},
	{"GET", "/repos/<owner>/<repo>/stats/punch_card"},
	{"GET", "/repos/<owner>/<repo>/statuses/<ref>"},
	{"POST", "/repos/<owner>/<repo>/statuses/<ref>"},
	// Search
	{"GET", "/search/repositories"},
	{"GET", "/search/code"},
	{"GET", "/search/issues"},
	{"GET", "/search/users"},
	{"GET", "/legacy/issues/search/<owner>/<repository>/<state>/<keyword>"},
	{"GET", "/legacy/repos/search/<keyword>"},
	{"GET", "/legacy/user/search/<keyword>"},
	{"GET", "/legacy/user/email/<email>"},
	// Users
	{"GET", "/users/<user>"},
	{"GET", "/user"},
	{"PATCH", "/user"},
	{"GET", "/users"},
	{"GET", "/user/emails"},
	{"POST", "/user/emails"},
	{"DELETE", "/user/emails"},
	{"GET", "/users/<user>/followers"},
	{"GET", "/user/followers"},
	{"GET", "/users/<user>/following"},
	{"GET", "/user/following"},
	{"GET", "/user/following/<user>"},
	{"GET", "/users/<user>/following/<target_user>"},
	{"PUT", "/user/following/<user>"},
	{"DELETE", "/user/following/<user>"},
	{"GET", "/users/<user>/keys"},
	{"GET", "/user/keys"},
	{"POST", "/user/keys"},
	{"PATCH", "/user/keys/<int:id>"},
	{"DELETE", "/user/keys/<int:id>"},
	{"GET", "/user/keys/<int:id>"}, // the late-registered param route
}

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

// samplePath fills a rule's variables with sample values: 42 for ints,
// "a/b.txt" for paths, "x-name" for strings.
func samplePath(rule string) string {
	return benchVarRe.ReplaceAllStringFunc(rule, func(v string) string {
		m := benchVarRe.FindStringSubmatch(v)
		switch m[1] {
		case "int":
			return "42"
		case "path":
			return "a/b.txt"
		}
		return "x-" + m[2]
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
		r := &Rule{Rule: e.rule, Endpoint: e.method + " " + e.rule, Methods: []string{e.method}, StrictSlashes: true}
		m.Add(r)
		rules = append(rules, r)
		route := router.NewRoute().Path(toMuxTemplate(e.rule)).Methods(e.method)
		require.NoError(tb, route.GetError())
		routes = append(routes, route)
		path := samplePath(e.rule)
		req, err := http.NewRequest(e.method, path, nil)
		require.NoError(tb, err)
		reqs = append(reqs, benchRequest{e.method, path, req})
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
