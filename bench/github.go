package bench

import (
	"regexp"

	"github.com/vial-go/vial/internal/githubroutes"
)

// route is one route of a table: a method and a rule in Flask's syntax.
type route struct{ method, rule string }

// body is the text a route of the GitHub table answers with, the same on
// every router: "GET /repos/<owner>/<repo>", so that the check can tell
// that each request reached its own handler.
func (r route) body() string { return r.method + " " + r.rule }

// githubAPI is the GitHub API (v3) table of go-http-routing-benchmark, its
// 203 routes in Flask's rule syntax: vial's own table
// (internal/githubroutes) without the 37 routes go-http-routing-benchmark
// leaves out (the ones httprouter cannot hold beside their siblings), in
// that order, so the last route is the late-registered param route
// GET /user/keys/<int:id>. vial reads ids and numbers with the int
// converter, as its users would write them; the other routers take every
// variable as a plain segment parameter, as in go-http-routing-benchmark.
var githubAPI = func() []route {
	var table []route
	for _, r := range githubroutes.Benchmark() {
		table = append(table, route{r.Method, r.Rule})
	}
	return table
}()

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
var samplePath = githubroutes.SamplePath
