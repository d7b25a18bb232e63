// Package githubroutes is the GitHub API (v3) route table vial's
// benchmarks route, in Flask's rule syntax: the root package's routing
// benchmarks take every route, the bench module the routes of
// go-http-routing-benchmark's table.
package githubroutes

import "regexp"

// A Route is a method and a rule. Extra marks the 37 routes
// go-http-routing-benchmark leaves out of its table (httprouter cannot
// hold them beside their siblings).
type Route struct {
	Method, Rule string
	Extra        bool
}

// All is the table, 240 routes; its last is the late-registered param
// route GET /user/keys/<int:id>.
var All = []Route{
	// OAuth authorizations
	{"GET", "/authorizations", false},
	{"GET", "/authorizations/<int:id>", false},
	{"POST", "/authorizations", false},
	{"PATCH", "/authorizations/<int:id>", true},
	{"DELETE", "/authorizations/<int:id>", false},
	{"GET", "/applications/<client_id>/tokens/<access_token>", false},
	{"DELETE", "/applications/<client_id>/tokens", false},
	{"DELETE", "/applications/<client_id>/tokens/<access_token>", false},
	// Activity
	{"GET", "/events", false},
	{"GET", "/repos/<owner>/<repo>/events", false},
	{"GET", "/networks/<owner>/<repo>/events", false},
	{"GET", "/orgs/<org>/events", false},
	{"GET", "/users/<user>/received_events", false},
	{"GET", "/users/<user>/received_events/public", false},
	{"GET", "/users/<user>/events", false},
	{"GET", "/users/<user>/events/public", false},
	{"GET", "/users/<user>/events/orgs/<org>", false},
	{"GET", "/feeds", false},
	{"GET", "/notifications", false},
	{"GET", "/repos/<owner>/<repo>/notifications", false},
	{"PUT", "/notifications", false},
	{"PUT", "/repos/<owner>/<repo>/notifications", false},
	{"GET", "/notifications/threads/<int:id>", false},
	{"PATCH", "/notifications/threads/<int:id>", true},
	{"GET", "/notifications/threads/<int:id>/subscription", false},
	{"PUT", "/notifications/threads/<int:id>/subscription", false},
	{"DELETE", "/notifications/threads/<int:id>/subscription", false},
	{"GET", "/repos/<owner>/<repo>/stargazers", false},
	{"GET", "/users/<user>/starred", false},
	{"GET", "/user/starred", false},
	{"GET", "/user/starred/<owner>/<repo>", false},
	{"PUT", "/user/starred/<owner>/<repo>", false},
	{"DELETE", "/user/starred/<owner>/<repo>", false},
	{"GET", "/repos/<owner>/<repo>/subscribers", false},
	{"GET", "/users/<user>/subscriptions", false},
	{"GET", "/user/subscriptions", false},
	{"GET", "/repos/<owner>/<repo>/subscription", false},
	{"PUT", "/repos/<owner>/<repo>/subscription", false},
	{"DELETE", "/repos/<owner>/<repo>/subscription", false},
	{"GET", "/user/subscriptions/<owner>/<repo>", false},
	{"PUT", "/user/subscriptions/<owner>/<repo>", false},
	{"DELETE", "/user/subscriptions/<owner>/<repo>", false},
	// Gists
	{"GET", "/users/<user>/gists", false},
	{"GET", "/gists", false},
	{"GET", "/gists/public", true},
	{"GET", "/gists/starred", true},
	{"GET", "/gists/<id>", false},
	{"POST", "/gists", false},
	{"PATCH", "/gists/<id>", true},
	{"PUT", "/gists/<id>/star", false},
	{"DELETE", "/gists/<id>/star", false},
	{"GET", "/gists/<id>/star", false},
	{"POST", "/gists/<id>/forks", false},
	{"DELETE", "/gists/<id>", false},
	// Git data
	{"GET", "/repos/<owner>/<repo>/git/blobs/<sha>", false},
	{"POST", "/repos/<owner>/<repo>/git/blobs", false},
	{"GET", "/repos/<owner>/<repo>/git/commits/<sha>", false},
	{"POST", "/repos/<owner>/<repo>/git/commits", false},
	{"GET", "/repos/<owner>/<repo>/git/refs", false},
	{"GET", "/repos/<owner>/<repo>/git/refs/<path:ref>", true},
	{"POST", "/repos/<owner>/<repo>/git/refs", false},
	{"PATCH", "/repos/<owner>/<repo>/git/refs/<path:ref>", true},
	{"DELETE", "/repos/<owner>/<repo>/git/refs/<path:ref>", true},
	{"GET", "/repos/<owner>/<repo>/git/tags/<sha>", false},
	{"POST", "/repos/<owner>/<repo>/git/tags", false},
	{"GET", "/repos/<owner>/<repo>/git/trees/<sha>", false},
	{"POST", "/repos/<owner>/<repo>/git/trees", false},
	// Issues
	{"GET", "/issues", false},
	{"GET", "/user/issues", false},
	{"GET", "/orgs/<org>/issues", false},
	{"GET", "/repos/<owner>/<repo>/issues", false},
	{"GET", "/repos/<owner>/<repo>/issues/comments", true},
	{"GET", "/repos/<owner>/<repo>/issues/comments/<int:id>", true},
	{"PATCH", "/repos/<owner>/<repo>/issues/comments/<int:id>", true},
	{"DELETE", "/repos/<owner>/<repo>/issues/comments/<int:id>", true},
	{"GET", "/repos/<owner>/<repo>/issues/events", true},
	{"GET", "/repos/<owner>/<repo>/issues/events/<int:id>", true},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>", false},
	{"POST", "/repos/<owner>/<repo>/issues", false},
	{"PATCH", "/repos/<owner>/<repo>/issues/<int:number>", true},
	{"GET", "/repos/<owner>/<repo>/assignees", false},
	{"GET", "/repos/<owner>/<repo>/assignees/<assignee>", false},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>/comments", false},
	{"POST", "/repos/<owner>/<repo>/issues/<int:number>/comments", false},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>/events", false},
	{"GET", "/repos/<owner>/<repo>/labels", false},
	{"GET", "/repos/<owner>/<repo>/labels/<name>", false},
	{"POST", "/repos/<owner>/<repo>/labels", false},
	{"PATCH", "/repos/<owner>/<repo>/labels/<name>", true},
	{"DELETE", "/repos/<owner>/<repo>/labels/<name>", false},
	{"GET", "/repos/<owner>/<repo>/issues/<int:number>/labels", false},
	{"POST", "/repos/<owner>/<repo>/issues/<int:number>/labels", false},
	{"DELETE", "/repos/<owner>/<repo>/issues/<int:number>/labels/<name>", false},
	{"PUT", "/repos/<owner>/<repo>/issues/<int:number>/labels", false},
	{"DELETE", "/repos/<owner>/<repo>/issues/<int:number>/labels", false},
	{"GET", "/repos/<owner>/<repo>/milestones/<int:number>/labels", false},
	{"GET", "/repos/<owner>/<repo>/milestones", false},
	{"GET", "/repos/<owner>/<repo>/milestones/<int:number>", false},
	{"POST", "/repos/<owner>/<repo>/milestones", false},
	{"PATCH", "/repos/<owner>/<repo>/milestones/<int:number>", true},
	{"DELETE", "/repos/<owner>/<repo>/milestones/<int:number>", false},
	// Miscellaneous
	{"GET", "/emojis", false},
	{"GET", "/gitignore/templates", false},
	{"GET", "/gitignore/templates/<name>", false},
	{"POST", "/markdown", false},
	{"POST", "/markdown/raw", false},
	{"GET", "/meta", false},
	{"GET", "/rate_limit", false},
	// Organizations
	{"GET", "/users/<user>/orgs", false},
	{"GET", "/user/orgs", false},
	{"GET", "/orgs/<org>", false},
	{"PATCH", "/orgs/<org>", true},
	{"GET", "/orgs/<org>/members", false},
	{"GET", "/orgs/<org>/members/<user>", false},
	{"DELETE", "/orgs/<org>/members/<user>", false},
	{"GET", "/orgs/<org>/public_members", false},
	{"GET", "/orgs/<org>/public_members/<user>", false},
	{"PUT", "/orgs/<org>/public_members/<user>", false},
	{"DELETE", "/orgs/<org>/public_members/<user>", false},
	{"GET", "/orgs/<org>/teams", false},
	{"GET", "/teams/<int:id>", false},
	{"POST", "/orgs/<org>/teams", false},
	{"PATCH", "/teams/<int:id>", true},
	{"DELETE", "/teams/<int:id>", false},
	{"GET", "/teams/<int:id>/members", false},
	{"GET", "/teams/<int:id>/members/<user>", false},
	{"PUT", "/teams/<int:id>/members/<user>", false},
	{"DELETE", "/teams/<int:id>/members/<user>", false},
	{"GET", "/teams/<int:id>/repos", false},
	{"GET", "/teams/<int:id>/repos/<owner>/<repo>", false},
	{"PUT", "/teams/<int:id>/repos/<owner>/<repo>", false},
	{"DELETE", "/teams/<int:id>/repos/<owner>/<repo>", false},
	{"GET", "/user/teams", false},
	// Pull requests
	{"GET", "/repos/<owner>/<repo>/pulls", false},
	{"GET", "/repos/<owner>/<repo>/pulls/comments", true},
	{"GET", "/repos/<owner>/<repo>/pulls/comments/<int:id>", true},
	{"PATCH", "/repos/<owner>/<repo>/pulls/comments/<int:id>", true},
	{"DELETE", "/repos/<owner>/<repo>/pulls/comments/<int:id>", true},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>", false},
	{"POST", "/repos/<owner>/<repo>/pulls", false},
	{"PATCH", "/repos/<owner>/<repo>/pulls/<int:number>", true},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/commits", false},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/files", false},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/merge", false},
	{"PUT", "/repos/<owner>/<repo>/pulls/<int:number>/merge", false},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/comments", false},
	{"PUT", "/repos/<owner>/<repo>/pulls/<int:number>/comments", false},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/reviews", true},
	{"GET", "/repos/<owner>/<repo>/pulls/<int:number>/reviews/<int:review_id>", true},
	{"POST", "/repos/<owner>/<repo>/pulls/<int:number>/reviews/<int:review_id>/events", true},
	// Repositories
	{"GET", "/user/repos", false},
	{"GET", "/users/<user>/repos", false},
	{"GET", "/orgs/<org>/repos", false},
	{"GET", "/repositories", false},
	{"POST", "/user/repos", false},
	{"POST", "/orgs/<org>/repos", false},
	{"GET", "/repos/<owner>/<repo>", false},
	{"PATCH", "/repos/<owner>/<repo>", true},
	{"GET", "/repos/<owner>/<repo>/contributors", false},
	{"GET", "/repos/<owner>/<repo>/languages", false},
	{"GET", "/repos/<owner>/<repo>/teams", false},
	{"GET", "/repos/<owner>/<repo>/tags", false},
	{"GET", "/repos/<owner>/<repo>/branches", false},
	{"GET", "/repos/<owner>/<repo>/branches/<branch>", false},
	{"DELETE", "/repos/<owner>/<repo>", false},
	{"GET", "/repos/<owner>/<repo>/collaborators", false},
	{"GET", "/repos/<owner>/<repo>/collaborators/<user>", false},
	{"PUT", "/repos/<owner>/<repo>/collaborators/<user>", false},
	{"DELETE", "/repos/<owner>/<repo>/collaborators/<user>", false},
	{"GET", "/repos/<owner>/<repo>/comments", false},
	{"GET", "/repos/<owner>/<repo>/commits/<sha>/comments", false},
	{"POST", "/repos/<owner>/<repo>/commits/<sha>/comments", false},
	{"GET", "/repos/<owner>/<repo>/comments/<int:id>", false},
	{"PATCH", "/repos/<owner>/<repo>/comments/<int:id>", true},
	{"DELETE", "/repos/<owner>/<repo>/comments/<int:id>", false},
	{"GET", "/repos/<owner>/<repo>/commits", false},
	{"GET", "/repos/<owner>/<repo>/commits/<sha>", false},
	{"GET", "/repos/<owner>/<repo>/readme", false},
	{"GET", "/repos/<owner>/<repo>/contents/<path:path>", true},
	{"PUT", "/repos/<owner>/<repo>/contents/<path:path>", true},
	{"DELETE", "/repos/<owner>/<repo>/contents/<path:path>", true},
	{"GET", "/repos/<owner>/<repo>/keys", false},
	{"GET", "/repos/<owner>/<repo>/keys/<int:id>", false},
	{"POST", "/repos/<owner>/<repo>/keys", false},
	{"PATCH", "/repos/<owner>/<repo>/keys/<int:id>", true},
	{"DELETE", "/repos/<owner>/<repo>/keys/<int:id>", false},
	{"GET", "/repos/<owner>/<repo>/downloads", false},
	{"GET", "/repos/<owner>/<repo>/downloads/<int:id>", false},
	{"DELETE", "/repos/<owner>/<repo>/downloads/<int:id>", false},
	{"GET", "/repos/<owner>/<repo>/forks", false},
	{"POST", "/repos/<owner>/<repo>/forks", false},
	{"GET", "/repos/<owner>/<repo>/hooks", false},
	{"GET", "/repos/<owner>/<repo>/hooks/<int:id>", false},
	{"POST", "/repos/<owner>/<repo>/hooks", false},
	{"PATCH", "/repos/<owner>/<repo>/hooks/<int:id>", true},
	{"POST", "/repos/<owner>/<repo>/hooks/<int:id>/tests", false},
	{"DELETE", "/repos/<owner>/<repo>/hooks/<int:id>", false},
	{"POST", "/repos/<owner>/<repo>/merges", false},
	{"GET", "/repos/<owner>/<repo>/releases", false},
	{"GET", "/repos/<owner>/<repo>/releases/<int:id>", false},
	{"POST", "/repos/<owner>/<repo>/releases", false},
	{"PATCH", "/repos/<owner>/<repo>/releases/<int:id>", true},
	{"DELETE", "/repos/<owner>/<repo>/releases/<int:id>", false},
	{"GET", "/repos/<owner>/<repo>/releases/<int:id>/assets", false},
	{"GET", "/repos/<owner>/<repo>/stats/contributors", false},
	{"GET", "/repos/<owner>/<repo>/stats/commit_activity", false},
	{"GET", "/repos/<owner>/<repo>/stats/code_frequency", false},
	{"GET", "/repos/<owner>/<repo>/stats/participation", false},
	{"GET", "/repos/<owner>/<repo>/stats/punch_card", false},
	{"GET", "/repos/<owner>/<repo>/statuses/<ref>", false},
	{"POST", "/repos/<owner>/<repo>/statuses/<ref>", false},
	// Search
	{"GET", "/search/repositories", false},
	{"GET", "/search/code", false},
	{"GET", "/search/issues", false},
	{"GET", "/search/users", false},
	{"GET", "/legacy/issues/search/<owner>/<repository>/<state>/<keyword>", false},
	{"GET", "/legacy/repos/search/<keyword>", false},
	{"GET", "/legacy/user/search/<keyword>", false},
	{"GET", "/legacy/user/email/<email>", false},
	// Users
	{"GET", "/users/<user>", false},
	{"GET", "/user", false},
	{"PATCH", "/user", true},
	{"GET", "/users", false},
	{"GET", "/user/emails", false},
	{"POST", "/user/emails", false},
	{"DELETE", "/user/emails", false},
	{"GET", "/users/<user>/followers", false},
	{"GET", "/user/followers", false},
	{"GET", "/users/<user>/following", false},
	{"GET", "/user/following", false},
	{"GET", "/user/following/<user>", false},
	{"GET", "/users/<user>/following/<target_user>", false},
	{"PUT", "/user/following/<user>", false},
	{"DELETE", "/user/following/<user>", false},
	{"GET", "/users/<user>/keys", false},
	{"GET", "/user/keys", false},
	{"POST", "/user/keys", false},
	{"PATCH", "/user/keys/<int:id>", true},
	{"DELETE", "/user/keys/<int:id>", false},
	{"GET", "/user/keys/<int:id>", false}, // the late-registered param route
}

// Benchmark is All without its Extra routes: go-http-routing-benchmark's
// 203, in All's order.
func Benchmark() []Route {
	var out []Route
	for _, r := range All {
		if !r.Extra {
			out = append(out, r)
		}
	}
	return out
}

var ruleVar = regexp.MustCompile(`<(?:(\w+):)?(\w+)>`)

// SamplePath fills a rule's variables with sample values: 42 for ints,
// "a/b.txt" for paths, "x-name" for strings.
func SamplePath(rule string) string {
	return ruleVar.ReplaceAllStringFunc(rule, func(v string) string {
		m := ruleVar.FindStringSubmatch(v)
		switch m[1] {
		case "int":
			return "42"
		case "path":
			return "a/b.txt"
		}
		return "x-" + m[2]
	})
}
