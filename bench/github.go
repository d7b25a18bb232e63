package bench

import "regexp"

// route is one route of a table: a method and a rule in Flask's syntax.
type route struct{ method, rule string }

// body is the text a route of the GitHub table answers with, the same on
// every router: "GET /repos/<owner>/<repo>", so that the check can tell
// that each request reached its own handler.
func (r route) body() string { return r.method + " " + r.rule }

// githubAPI is the GitHub API (v3) table of go-http-routing-benchmark, its
// 203 routes in Flask's rule syntax. It is the table of vial's own
// routing_bench_test.go without the 37 routes go-http-routing-benchmark
// leaves out (the ones httprouter cannot hold beside their siblings), in
// that file's order, so the last route is the late-registered param route
// GET /user/keys/<int:id>. vial reads ids and numbers with the int
// converter, as its users would write them; the other routers take every
// variable as a plain segment parameter, as in go-http-routing-benchmark.
var githubAPI = []route{
	// OAuth authorizations
	{"GET", "/authorizations"},
	{"GET", "/authorizations/<int:id>"},
	{"POST", "/authorizations"},
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
	{"GET", "/gists/<id>"},
	{"POST", "/gists"},
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
	{"POST", "/repos/<owner>/<repo>/git/refs"},
	{"GET", "/repos/<owner>/<repo>/git/tags/<sha>"},
	{"POST", "/repos/<owner>/<repo>/git/tags"},
	{"GET", "/repos/<owner>/<repo>/git/trees/<sha>"},
	{"POST", "/repos/<owner>/<repo>/git/trees"},
	// Issues
	{"GET", "/issues"},
	{"GET", "/user/issues"},
	{"GET", "/orgs/<org>/issues"},
	{"GET", "/repos/<owner>/<repo>/issues"},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>"},
	{"POST", "/repos/<owner>/<repo>/issues"},
	{"GET", "/repos/<owner>/<repo>/assignees"},
	{"GET", "/repos/<owner>/<repo>/assignees/<assignee>"},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>/comments"},
	{"POST", "/repos/<owner>/<repo>/issues/<int:number>/comments"},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>/events"},
	{"GET", "/repos/<owner>/<repo>/labels"},
	{"GET", "/repos/<owner>/<repo>/labels/<name>"},
	{"POST", "/repos/<owner>/<repo>/labels"},
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
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>"},
	{"POST", "/repos/<owner>/<repo>/pulls"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/commits"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/files"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/merge"},
	{"PUT", "/repos/<owner>/<repo>/pulls/<int:number>/merge"},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/comments"},
	{"PUT", "/repos/<owner>/<repo>/pulls/<int:number>/comments"},
	// Repositories
	{"GET", "/user/repos"},
	{"GET", "/users/<user>/repos"},
	{"GET", "/orgs/<org>/repos"},
	{"GET", "/repositories"},
	{"POST", "/user/repos"},
	{"POST", "/orgs/<org>/repos"},
	{"GET", "/repos/<owner>/<repo>"},
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
	{"DELETE", "/repos/<owner>/<repo>/comments/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/commits"},
	{"GET", "/repos/<owner>/<repo>/commits/<sha>"},
	{"GET", "/repos/<owner>/<repo>/readme"},
	{"GET", "/repos/<owner>/<repo>/keys"},
	{"GET", "/repos/<owner>/<repo>/keys/<int:id>"},
	{"POST", "/repos/<owner>/<repo>/keys"},
	{"DELETE", "/repos/<owner>/<repo>/keys/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/downloads"},
	{"GET", "/repos/<owner>/<repo>/downloads/<int:id>"},
	{"DELETE", "/repos/<owner>/<repo>/downloads/<int:id>"},
	{"GET", "/repos/<owner>/<repo>/forks"},
	{"POST", "/repos/<owner>/<repo>/forks"},
	{"GET", "/repos/<owner>/<repo>/hooks"},
	{"GET", "/repos/<owner>/<repo>/hooks/<int:id>"},
	{"POST", "/repos/<owner>/<repo>/hooks"},
	{"POST", "/repos/<owner>/<repo>/hooks/<int:id>/tests"},
	{"DELETE", "/repos/<owner>/<repo>/hooks/<int:id>"},
	{"POST", "/repos/<owner>/<repo>/merges"},
	{"GET", "/repos/<owner>/<repo>/releases"},
	{"GET", "/repos/<owner>/<repo>/releases/<int:id>"},
	{"POST", "/repos/<owner>/<repo>/releases"},
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
	{"DELETE", "/user/keys/<int:id>"},
	{"GET", "/user/keys/<int:id>"}, // the late-registered param route
}

// githubLate is the index of the table's one-param-route case: its last
// route, GET /user/keys/<int:id>, registered after every other.
var githubLate = len(githubAPI) - 1

var ruleVar = regexp.MustCompile(`<(?:(\w+):)?(\w+)>`)

// convertRule rewrites a rule's variables with conv, which gets each
// variable's converter ("" for the default) and name.
func convertRule(rule string, conv func(converter, name string) string) string {
	return ruleVar.ReplaceAllStringFunc(rule, func(v string) string {
		m := ruleVar.FindStringSubmatch(v)
		return conv(m[1], m[2])
	})
}

// colonRule is the rule in the syntax of gin, echo and httprouter:
// <int:id> → :id.
func colonRule(rule string) string {
	return convertRule(rule, func(_, name string) string { return ":" + name })
}

// braceRule is the rule in the syntax of chi, ServeMux and gorilla/mux:
// <int:id> → {id}.
func braceRule(rule string) string {
	return convertRule(rule, func(_, name string) string { return "{" + name + "}" })
}

// samplePath is a request path for the rule: 42 for an int, x-name for a
// plain variable (the table has no path variables).
func samplePath(rule string) string {
	return convertRule(rule, func(converter, name string) string {
		if converter == "int" {
			return "42"
		}
		return "x-" + name
	})
}
