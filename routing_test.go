package vial

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vial-go/vial/internal/benchwriter"
)

// rule returns a rule with Flask's defaults (strict slashes, automatic
// OPTIONS), changed by opts.
func rule(path, endpoint string, opts ...func(*Rule)) *Rule {
	r := &Rule{Rule: path, Endpoint: endpoint, StrictSlashes: true, ProvideAutomaticOptions: true}
	for _, o := range opts {
		o(r)
	}
	return r
}

func methods(ms ...string) func(*Rule) { return func(r *Rule) { r.Methods = ms } }
func defaults(d map[string]any) func(*Rule) {
	return func(r *Rule) { r.Defaults = d }
}
func lenient(r *Rule)   { r.StrictSlashes = false }
func noOptions(r *Rule) { r.ProvideAutomaticOptions = false }

func newMap(rules ...*Rule) *URLMap {
	m := NewURLMap()
	for _, r := range rules {
		m.Add(r)
	}
	return m
}

// match returns the endpoint and arguments for path, failing on an error.
func match(t *testing.T, m *URLMap, path, method string) (string, map[string]any) {
	t.Helper()
	r, args, err := m.Match(path, method)
	require.NoError(t, err, "%s %s", method, path)
	require.NotNil(t, r)
	return r.Endpoint, args
}

// matchErr returns the *HTTPError Match gives for path.
func matchErr(t *testing.T, m *URLMap, path, method string) *HTTPError {
	t.Helper()
	r, args, err := m.Match(path, method)
	require.Error(t, err, "%s %s matched %v", method, path, r)
	assert.Nil(t, r)
	assert.Nil(t, args)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	return he
}

func TestMatchStaticAndVariables(t *testing.T) {
	m := newMap(
		rule("/", "index"),
		rule("/about", "about"),
		rule("/user/<int:id>", "user"),
		rule("/user/<int:id>/posts/<slug>", "post"),
	)
	ep, args := match(t, m, "/", "GET")
	assert.Equal(t, "index", ep)
	assert.Nil(t, args, "a rule without variables or defaults gives nil arguments")

	ep, _ = match(t, m, "", "GET")
	assert.Equal(t, "index", ep, `"" is the root`)

	ep, _ = match(t, m, "/about", "GET")
	assert.Equal(t, "about", ep)

	ep, args = match(t, m, "/user/42", "GET")
	assert.Equal(t, "user", ep)
	assert.Equal(t, map[string]any{"id": 42}, args)

	ep, args = match(t, m, "/user/7/posts/hello world", "GET")
	assert.Equal(t, "post", ep)
	assert.Equal(t, map[string]any{"id": 7, "slug": "hello world"}, args)

	// The arguments are fresh for each match.
	_, a1 := match(t, m, "/user/1", "GET")
	_, a2 := match(t, m, "/user/1", "GET")
	a1["id"] = 99
	assert.Equal(t, 1, a2["id"])
}

func TestMatchDefaults(t *testing.T) {
	m := newMap(
		rule("/all/", "entries", defaults(map[string]any{"page": 1})),
		rule("/all/page/<int:page>", "entries"),
		rule("/lang/<code>", "lang", defaults(map[string]any{"source": "url"})),
	)
	_, args := match(t, m, "/all/", "GET")
	assert.Equal(t, map[string]any{"page": 1}, args)
	args["page"] = 5 // a copy: the rule's defaults stay
	_, args = match(t, m, "/all/", "GET")
	assert.Equal(t, map[string]any{"page": 1}, args)

	_, args = match(t, m, "/all/page/3", "GET")
	assert.Equal(t, map[string]any{"page": 3}, args)
	assert.Equal(t, "/all/", location(t, m, "/all/page/1"), "werkzeug's redirect_defaults: one URL per page")

	_, args = match(t, m, "/lang/fr", "GET")
	assert.Equal(t, map[string]any{"code": "fr", "source": "url"}, args)
}

// specificity registers rules in the given order and in reverse, and
// checks every path goes to the same endpoint both ways.
func specificity(t *testing.T, rules []*Rule, want map[string]string) {
	t.Helper()
	for _, reversed := range []bool{false, true} {
		order := slices.Clone(rules)
		if reversed {
			slices.Reverse(order)
		}
		m := NewURLMap()
		for _, r := range order {
			m.Add(&Rule{Rule: r.Rule, Endpoint: r.Endpoint, Methods: r.Methods, StrictSlashes: true})
		}
		for path, ep := range want {
			r, _, err := m.Match(path, "GET")
			if ep == "" {
				assert.Error(t, err, "%s (reversed: %v)", path, reversed)
				continue
			}
			if assert.NoError(t, err, "%s (reversed: %v)", path, reversed) {
				assert.Equal(t, ep, r.Endpoint, "%s (reversed: %v)", path, reversed)
			}
		}
	}
}

func TestSpecificityStaticBeforeVariable(t *testing.T) {
	specificity(t, []*Rule{
		{Rule: "/user/<name>", Endpoint: "profile"},
		{Rule: "/user/new", Endpoint: "new"},
	}, map[string]string{"/user/new": "new", "/user/newer": "profile", "/user/bob": "profile"})

	// Deeper: a static segment wins even when a later one decides.
	specificity(t, []*Rule{
		{Rule: "/<a>/<b>", Endpoint: "both"},
		{Rule: "/<a>/edit", Endpoint: "edit"},
		{Rule: "/static/<b>", Endpoint: "static"},
	}, map[string]string{"/x/edit": "edit", "/x/y": "both", "/static/edit": "static", "/static/y": "static"})
}

func TestSpecificityByConverterWeight(t *testing.T) {
	specificity(t, []*Rule{
		{Rule: "/v/<path:p>", Endpoint: "path"},
		{Rule: "/v/<s>", Endpoint: "string"},
		{Rule: "/v/<int:i>", Endpoint: "int"},
		{Rule: "/v/<float:f>", Endpoint: "float"},
	}, map[string]string{
		"/v/1":     "int",
		"/v/1.5":   "float",
		"/v/abc":   "string",
		"/v/-1":    "string", // int is unsigned by default
		"/v/a/b":   "path",
		"/v/1/2.0": "path",
	})
}

func TestSpecificityMixedSegment(t *testing.T) {
	// A segment with static text in it weighs before a bare variable.
	specificity(t, []*Rule{
		{Rule: "/doc/<name>", Endpoint: "page"},
		{Rule: "/doc/<name>.json", Endpoint: "json"},
	}, map[string]string{"/doc/x.json": "json", "/doc/x": "page", "/doc/.json": "page"})
}

func TestConverterRefusalTriesNextRule(t *testing.T) {
	specificity(t, []*Rule{
		{Rule: "/n/<int(max=99):small>", Endpoint: "small"},
		{Rule: "/n/<big>", Endpoint: "big"},
	}, map[string]string{"/n/5": "small", "/n/99": "small", "/n/100": "big"})

	// Same place, same pattern, different options: both are candidates.
	specificity(t, []*Rule{
		{Rule: "/r/<int(max=9):digit>", Endpoint: "digit"},
		{Rule: "/r/<int(min=10):number>", Endpoint: "number"},
	}, map[string]string{"/r/3": "digit", "/r/12": "number"})

	// Backtracking out of a deeper part.
	specificity(t, []*Rule{
		{Rule: "/t/<int(min=5):n>/x", Endpoint: "deep"},
		{Rule: "/t/<s>/x", Endpoint: "shallow"},
	}, map[string]string{"/t/7/x": "deep", "/t/3/x": "shallow"})

	_, args := match(t, newMap(rule("/n/<int(max=99):small>", "small"), rule("/n/<big>", "big")), "/n/100", "GET")
	assert.Equal(t, map[string]any{"big": "100"}, args)
}

func TestFloatDoesNotMatchInteger(t *testing.T) {
	m := newMap(rule("/f/<float:x>", "f"))
	assert.Equal(t, 404, matchErr(t, m, "/f/1", "GET").Code)
	_, args := match(t, m, "/f/1.0", "GET")
	assert.Equal(t, map[string]any{"x": 1.0}, args)
}

func TestNotFound(t *testing.T) {
	m := newMap(rule("/about", "about"), rule("/user/<int:id>", "user"))
	for _, path := range []string{"/nope", "/about/", "/user/abc", "/user/", "/user/1/2", "/abou"} {
		he := matchErr(t, m, path, "GET")
		assert.Equal(t, 404, he.Code, path)
		assert.True(t, errors.Is(he, ErrNotFound), path)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	m := newMap(
		rule("/thing", "read"),
		rule("/thing", "write", methods("POST", "put")),
		rule("/other", "other", methods("DELETE"), noOptions),
	)
	he := matchErr(t, m, "/thing", "PATCH")
	assert.Equal(t, 405, he.Code)
	assert.True(t, errors.Is(he, ErrMethodNotAllowed))
	assert.Equal(t, "GET, HEAD, OPTIONS, POST, PUT", he.Header.Get("Allow"))

	he = matchErr(t, m, "/other", "GET")
	assert.Equal(t, "DELETE", he.Header.Get("Allow"))

	ep, _ := match(t, m, "/thing", "PUT")
	assert.Equal(t, "write", ep)

	assert.Equal(t, []string{"GET", "HEAD", "OPTIONS", "POST", "PUT"}, m.AllowedMethods("/thing"))
	assert.Nil(t, m.AllowedMethods("/nope"))
}

// AllowedMethods lists what a 405 for the path lists in its Allow header:
// the rules matching the path, repeated slashes merged, and nothing for a
// path that no rule matches as it is.
func TestAllowedMethodsAreThe405s(t *testing.T) {
	m := newMap(
		rule("/q/<int:n>", "q", methods("POST")),
		rule("/q/<name>", "qs", methods("PUT")),
		rule("/dir/", "dir", methods("POST")),
		rule("/loose", "loose", methods("DELETE"), lenient),
		rule("/files/<path:p>", "files", methods("PATCH"), noOptions),
	)
	for _, path := range []string{"/q/5", "/q/x", "//q//5", "/loose", "/loose/", "/files/a/b", "/files//a"} {
		allow := matchErr(t, m, path, "GET").Header.Get("Allow")
		assert.Equal(t, strings.Split(allow, ", "), m.AllowedMethods(path), path)
	}
	for _, path := range []string{"/nope", "/dir", "/q/5/6"} {
		assert.NotEqual(t, 405, matchErr(t, m, path, "GET").Code, path)
		assert.Nil(t, m.AllowedMethods(path), path)
	}
	assert.Equal(t, []string{"OPTIONS", "POST"}, m.AllowedMethods("dir/"), "a path without its leading slash")
}

func TestMethodNotAllowedOnlyForRulesThatMatch(t *testing.T) {
	m := newMap(
		rule("/p/<int(max=9):n>", "p", methods("POST")),
		rule("/q/<int:n>", "q", methods("POST")),
		rule("/q/<name>", "qs", methods("PUT")),
	)
	assert.Equal(t, 404, matchErr(t, m, "/p/10", "GET").Code, "the converter refuses 10: the rule does not match")
	assert.Equal(t, 405, matchErr(t, m, "/p/5", "GET").Code)
	// Allow gathers every rule matching the path.
	assert.Equal(t, "OPTIONS, POST, PUT", matchErr(t, m, "/q/5", "GET").Header.Get("Allow"))
	assert.Equal(t, "OPTIONS, PUT", matchErr(t, m, "/q/x", "GET").Header.Get("Allow"))
	// A rule answering the method wins over the 405 candidates found first.
	ep, _ := match(t, m, "/q/5", "PUT")
	assert.Equal(t, "qs", ep)

	// With a trailing slash, only the rules that take one count.
	m = newMap(rule("/y", "strict", methods("POST"), noOptions), rule("/y", "loose", methods("PUT"), noOptions, lenient))
	assert.Equal(t, "PUT", matchErr(t, m, "/y/", "GET").Header.Get("Allow"))
	assert.Equal(t, "POST, PUT", matchErr(t, m, "/y", "GET").Header.Get("Allow"))
	ep, _ = match(t, m, "/y/", "PUT")
	assert.Equal(t, "loose", ep)
	assert.Equal(t, 404, matchErr(t, newMap(rule("/z", "z", methods("POST"))), "/z/", "GET").Code)
}

func TestHeadAndOptions(t *testing.T) {
	m := newMap(
		rule("/page", "page"),
		rule("/form", "form", methods("POST")),
		rule("/bare", "bare", noOptions),
	)
	ep, _ := match(t, m, "/page", "HEAD")
	assert.Equal(t, "page", ep, "HEAD is answered by GET rules")
	assert.Equal(t, "OPTIONS, POST", matchErr(t, m, "/form", "HEAD").Header.Get("Allow"))

	r, _, err := m.Match("/form", "OPTIONS")
	require.NoError(t, err)
	assert.True(t, r.ProvideAutomaticOptions, "the App answers it")

	assert.Equal(t, "GET, HEAD", matchErr(t, m, "/bare", "OPTIONS").Header.Get("Allow"))

	// The method sets, as Add normalizes them.
	assert.Equal(t, []string{"GET", "HEAD", "OPTIONS"}, m.Rules()[0].Methods)
	assert.Equal(t, []string{"OPTIONS", "POST"}, m.Rules()[1].Methods)
	assert.Equal(t, []string{"GET", "HEAD"}, m.Rules()[2].Methods)

	// The lead's automatic-OPTIONS probe: method "--" gets every method.
	assert.Equal(t, "GET, HEAD, OPTIONS", matchErr(t, m, "/page", "--").Header.Get("Allow"))
}

func TestMethodsAreNormalized(t *testing.T) {
	m := newMap(rule("/x", "x", methods("post", "get", "POST", " delete ")))
	assert.Equal(t, []string{"DELETE", "GET", "HEAD", "OPTIONS", "POST"}, m.Rules()[0].Methods)
	ep, _ := match(t, m, "/x", "DELETE")
	assert.Equal(t, "x", ep)
}

func location(t *testing.T, m *URLMap, path string) string {
	t.Helper()
	he := matchErr(t, m, path, "GET")
	require.Equal(t, 308, he.Code, path)
	return he.Header.Get("Location")
}

func TestTrailingSlashRedirect(t *testing.T) {
	m := newMap(
		rule("/dir/", "dir"),
		rule("/u/<name>/", "user"),
		rule("/static/<path:file>/", "folder"),
		rule("/loose/", "loose", lenient),
		rule("/leaf", "leaf", lenient),
		rule("/post/", "post", methods("POST")),
	)
	assert.Equal(t, "/dir/", location(t, m, "/dir"))
	assert.Equal(t, "/u/bob/", location(t, m, "/u/bob"))
	assert.Equal(t, "/u/a b/", location(t, m, "/u/a b"), "the Location is decoded, as the path")
	assert.Equal(t, "/static/a/b/", location(t, m, "/static/a/b"))

	ep, args := match(t, m, "/static/a/b/", "GET")
	assert.Equal(t, "folder", ep)
	assert.Equal(t, map[string]any{"file": "a/b"}, args)

	ep, _ = match(t, m, "/dir/", "GET")
	assert.Equal(t, "dir", ep)

	// Without StrictSlashes, both forms match.
	ep, _ = match(t, m, "/loose", "GET")
	assert.Equal(t, "loose", ep)
	ep, _ = match(t, m, "/leaf/", "GET")
	assert.Equal(t, "leaf", ep)

	// The redirect is for a rule that answers the method.
	assert.Equal(t, 404, matchErr(t, m, "/post", "GET").Code)
	he := matchErr(t, m, "/post", "POST")
	assert.Equal(t, 308, he.Code)
	assert.Equal(t, "/post/", he.Header.Get("Location"))
}

func TestMergeSlashesRedirect(t *testing.T) {
	m := newMap(
		rule("/a/b", "ab"),
		rule("/d/", "d"),
		rule("/u/<name>", "u"),
		rule("/x//y", "xy"), // the rule's own slashes are merged too
	)
	assert.Equal(t, "/a/b", location(t, m, "//a//b"))
	assert.Equal(t, "/a/b", location(t, m, "/a///b"))
	assert.Equal(t, "/u/bob", location(t, m, "/u//bob"))
	assert.Equal(t, "/d/", location(t, m, "/d//"))
	assert.Equal(t, "/d/", location(t, m, "//d"), "merged, then the slash it needs")
	ep, _ := match(t, m, "/x/y", "GET")
	assert.Equal(t, "xy", ep)
	assert.Equal(t, 404, matchErr(t, m, "//nothing//here", "GET").Code)
	assert.Equal(t, 404, matchErr(t, m, "/a/b//", "GET").Code, "merged /a/b/ does not match: a leaf refuses the slash")
}

func TestRootRule(t *testing.T) {
	m := newMap(rule("/", "index"))
	assert.Equal(t, "/", location(t, m, "//"))
	assert.Equal(t, 404, matchErr(t, m, "/x", "GET").Code)
}

func TestPathConverterSpansSegments(t *testing.T) {
	m := newMap(
		rule("/files/<path:name>", "file"),
		rule("/files/<path:name>/edit", "edit"),
		rule("/<path:a>/to/<path:b>", "two"),
	)
	_, args := match(t, m, "/files/a/b/c.txt", "GET")
	assert.Equal(t, map[string]any{"name": "a/b/c.txt"}, args)
	ep, args := match(t, m, "/files/a/b/edit", "GET")
	assert.Equal(t, "edit", ep)
	assert.Equal(t, map[string]any{"name": "a/b"}, args)
	_, args = match(t, m, "/x/y/to/z/w", "GET")
	assert.Equal(t, map[string]any{"a": "x/y", "b": "z/w"}, args)
	_, args = match(t, m, "/files/line\nbreak", "GET")
	assert.Equal(t, map[string]any{"name": "line\nbreak"}, args, "a decoded %0A does not end the match")
	assert.Equal(t, 404, matchErr(t, m, "/files/", "GET").Code)
}

func TestMatchAllocations(t *testing.T) {
	m := newMap(rule("/about", "about"), rule("/user/<int:id>", "user"), rule("/a/<x>/b", "x"), rule("/doc/<a>.<b>", "doc"))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _, _ = m.Match("/about", "GET") }),
		"a static route allocates nothing")
	if raceEnabled() {
		t.Skip("the race detector makes sync.Pool drop what it is given")
	}
	// A rule whose variables are whole segments: the arguments map alone
	// (2: Go's map and its group).
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _, _, _ = m.Match("/user/42", "GET") }), 2.0)
	// Into a recycled Request's map, and through gorilla/mux: the submatch
	// indexes mux allocates when it extracts the variables.
	reuse := map[string]any{}
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _, _, _ = m.match("/user/42", "GET", reuse) }), 0.0)
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _, _, _ = m.match("/doc/x.y", "GET", reuse) }), 3.0)
}

// The teardown signals' payloads are made only when a receiver will get
// them: one connected for another App does not count.
func TestTeardownPayloadsOnlyForTheirReceivers(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector makes sync.Pool drop what it is given")
	}
	app := New("alloc")
	app.Get("/", func(r *Request) any { return "ok" })
	h, w := app, benchwriter.New()
	req := newBenchRequest("GET", "/")
	serve := func() { w.Reset(); h.ServeHTTP(w, req) }
	serve()
	alone := testing.AllocsPerRun(200, serve)

	other := New("other")
	defer RequestTearingDown.Disconnect(RequestTearingDown.ConnectVia(other, func(*App, *Teardown) {}))
	defer AppContextTearingDown.Disconnect(AppContextTearingDown.ConnectVia(other, func(*App, *Teardown) {}))
	assert.Equal(t, alone, testing.AllocsPerRun(200, serve))
}

func raceEnabled() bool {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}

func TestConcurrentMatch(t *testing.T) {
	m, rules, _, _, reqs := githubRouters(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 20; n++ {
				for i, br := range reqs {
					r, _, err := m.Match(br.path, br.method)
					if err != nil || r != rules[i] {
						t.Errorf("%s %s: %v %v", br.method, br.path, r, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestRulesAndRoute(t *testing.T) {
	a, b := rule("/b", "b"), rule("/a/<int:id>", "a")
	m := newMap(a, b)
	assert.Equal(t, []*Rule{a, b}, m.Rules())
	m.Rules()[0] = nil // a copy
	assert.Same(t, a, m.Rules()[0])

	assert.Equal(t, []string{"id"}, b.Arguments())
	assert.Equal(t, "/a/<int:id>", b.String())
	tpl, err := b.route.get().GetPathTemplate()
	require.NoError(t, err)
	assert.Equal(t, `/a/{id:\d+}`, tpl)
}

// panicMessage runs f and returns what it panicked with, as a string.
func panicMessage(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		p := recover()
		require.NotNil(t, p, "no panic")
		msg = fmt.Sprint(p)
	}()
	f()
	return ""
}

func TestAddPanicsNamingTheRule(t *testing.T) {
	cases := []struct{ rule, want string }{
		{"/user/<int:id", `unclosed "<"`},
		{"/user/<id", `unclosed "<"`},
		{"/user/<>", "empty variable name"},
		{"/user/<int:>", "empty variable name"},
		{"/user/<:id>", "empty converter name"},
		{"/user/<user id>", "invalid character"},
		{"/user/<1d>", "must not start with a digit"},
		{"/<a>/<a>", `variable name "a" used twice`},
		{"/<nope:a>", `unknown converter "nope"`},
		{"/<int(min=x):a>", "min=x is not an integer"},
		{"/<int(mn=1):a>", `unexpected keyword argument "mn"`},
		{"/<int(1,2,3,4,5):a>", "at most 4 arguments"},
		{"/<int(min=1:a>", `unclosed "("`},
		{"/<int(min=1)a>", `expected ":"`},
		{"/<float(max=big):a>", "max=big is not a number"},
		{"/<string(minlength=3, maxlength=2):a>", "less than minlength"},
		{"/<any:a>", "at least one choice"},
		{"/<uuid(4):a>", "at most 0 arguments"},
		{"/<any(a, b=1):a>", "only positional"},
		{"/<int(signed=maybe):a>", "not True or False"},
		{"user/<id>", `must start with "/"`},
		{"", `must start with "/"`},
		{"/a{b}", "gorilla/mux"},
		{"/x", "invalid method"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			r := rule(c.rule, "e")
			if c.rule == "/x" {
				r.Methods = []string{"GET", ""}
			}
			msg := panicMessage(t, func() { NewURLMap().Add(r) })
			assert.Contains(t, msg, fmt.Sprintf("%q", c.rule), "the message names the rule")
			assert.Contains(t, msg, c.want)
		})
	}
}

func TestAddPanicsOnBadCustomConverters(t *testing.T) {
	m := NewURLMap()
	m.Converters["group"] = NewConverter(`(a|b)`, nil, nil)
	m.Converters["broken"] = NewConverter(`[a-`, nil, nil)
	m.Converters["empty"] = NewConverter(``, nil, nil)
	m.Converters["braces"] = NewConverter(`[}]`, nil, nil)
	m.Converters["failing"] = func(ConverterArgs) (Converter, error) { return nil, errors.New("nope") }

	assert.Contains(t, panicMessage(t, func() { m.Add(rule("/<group:g>", "g")) }), "capturing group")
	assert.Contains(t, panicMessage(t, func() { m.Add(rule("/<broken:g>", "g")) }), `pattern "[a-"`)
	assert.Contains(t, panicMessage(t, func() { m.Add(rule("/<empty:g>", "g")) }), "empty pattern")
	assert.Contains(t, panicMessage(t, func() { m.Add(rule("/<braces:g>", "g")) }), "gorilla/mux refuses")
	assert.Contains(t, panicMessage(t, func() { m.Add(rule("/<failing(1):g>", "g")) }), "failing(1): nope")
	assert.Contains(t, panicMessage(t, func() { m.Add(rule("/<group(x):g>", "g")) }), "takes no arguments")
	assert.Empty(t, m.Rules(), "a refused rule is not added")
}

func TestAddTwicePanics(t *testing.T) {
	r := rule("/x", "x")
	m := newMap(r)
	assert.PanicsWithValue(t, `vial: URL rule "/x" is already in a URL map`, func() { m.Add(r) })
	assert.PanicsWithValue(t, `vial: URL rule "/x" is already in a URL map`, func() { NewURLMap().Add(r) })
	assert.PanicsWithValue(t, "vial: URLMap.Add(nil)", func() { m.Add(nil) })
}

func TestPanicMessageFormat(t *testing.T) {
	assert.PanicsWithValue(t, `vial: URL rule "/user/<int:id": unclosed "<" at offset 6`,
		func() { NewURLMap().Add(rule("/user/<int:id", "user")) })
}

// ---- building ----

func build(t *testing.T, m *URLMap, endpoint string, values map[string]any) string {
	t.Helper()
	u, err := m.Build(endpoint, values, "")
	require.NoError(t, err)
	return u
}

func TestBuild(t *testing.T) {
	m := newMap(
		rule("/", "index"),
		rule("/user/<int:id>", "user"),
		rule("/user/<int:id>/<slug>", "post"),
	)
	assert.Equal(t, "/", build(t, m, "index", nil))
	assert.Equal(t, "/user/42", build(t, m, "user", map[string]any{"id": 42}))
	assert.Equal(t, "/user/42", build(t, m, "user", map[string]any{"id": int64(42)}))
	assert.Equal(t, "/user/42", build(t, m, "user", map[string]any{"id": "42"}))
	assert.Equal(t, "/user/7/hi", build(t, m, "post", map[string]any{"id": 7, "slug": "hi"}))
}

func TestBuildQueryString(t *testing.T) {
	m := newMap(rule("/user/<int:id>", "user"))
	assert.Equal(t, "/user/1?b=2&tab=posts", build(t, m, "user", map[string]any{"id": 1, "tab": "posts", "b": 2}))
	assert.Equal(t, "/user/1?q=a+b%26c&x=%2F", build(t, m, "user", map[string]any{"id": 1, "q": "a b&c", "x": "/"}))
	assert.Equal(t, "/user/1?t=a&t=b&t=c", build(t, m, "user", map[string]any{"id": 1, "t": []string{"a", "b", "c"}}))
	assert.Equal(t, "/user/1?n=1&n=2", build(t, m, "user", map[string]any{"id": 1, "n": []int{1, 2}}))
	assert.Equal(t, "/user/1?on=true", build(t, m, "user", map[string]any{"id": 1, "on": true}))
	assert.Equal(t, "/user/1", build(t, m, "user", map[string]any{"id": 1, "gone": nil}), "nil values are left out")
	assert.Equal(t, "/user/1", build(t, m, "user", map[string]any{"id": 1, "none": []string{}}))
}

func TestBuildEscaping(t *testing.T) {
	m := newMap(
		rule("/page/<name>", "page"),
		rule("/files/<path:file>", "file"),
		rule("/hello world/<name>", "spaced"),
		rule("/100%/<name>", "percent"),
		rule("/code/<string(length=2):c>", "code"),
		rule("/pick/<any('a b', c):which>", "pick"),
	)
	assert.Equal(t, "/page/a%2Fb%20c%3Fd%23e%25", build(t, m, "page", map[string]any{"name": "a/b c?d#e%"}))
	assert.Equal(t, "/page/caf%C3%A9", build(t, m, "page", map[string]any{"name": "café"}))
	assert.Equal(t, "/page/a:b@c+d=e&f", build(t, m, "page", map[string]any{"name": "a:b@c+d=e&f"}), "sub-delimiters stay")
	assert.Equal(t, "/files/dir/a%20b.txt", build(t, m, "file", map[string]any{"file": "dir/a b.txt"}), "path keeps its slashes")
	assert.Equal(t, "/hello%20world/x", build(t, m, "spaced", map[string]any{"name": "x"}), "static text is encoded too")
	assert.Equal(t, "/100%25/x", build(t, m, "percent", map[string]any{"name": "x"}))
	assert.Equal(t, "/code/%C3%A9%C3%A9", build(t, m, "code", map[string]any{"c": "éé"}),
		"the pattern checks the decoded text, as routing sees it")
	assert.Equal(t, "/pick/a%20b", build(t, m, "pick", map[string]any{"which": "a b"}))

	// What is built routes back.
	for ep, v := range map[string]map[string]any{
		"page": {"name": "a b?c"}, "file": {"file": "d/e f"}, "spaced": {"name": "y"},
		"percent": {"name": "%"}, "code": {"c": "éé"}, "pick": {"which": "a b"},
	} {
		u := build(t, m, ep, v)
		decoded, err := url.PathUnescape(u)
		require.NoError(t, err)
		got, args := match(t, m, decoded, "GET")
		assert.Equal(t, ep, got, u)
		assert.Equal(t, v, args, u)
	}
}

func TestBuildDefaults(t *testing.T) {
	m := newMap(
		rule("/all/", "entries", defaults(map[string]any{"page": 1})),
		rule("/all/page/<int:page>", "entries"),
		rule("/lang/<code>", "lang", defaults(map[string]any{"code": "en"})),
	)
	assert.Equal(t, "/all/", build(t, m, "entries", nil))
	assert.Equal(t, "/all/", build(t, m, "entries", map[string]any{"page": 1}), "a value equal to the default is not in the query")
	assert.Equal(t, "/all/", build(t, m, "entries", map[string]any{"page": 1.0}), "numbers compare by value")
	assert.Equal(t, "/all/page/2", build(t, m, "entries", map[string]any{"page": 2}))
	assert.Equal(t, "/all/page/2?x=y", build(t, m, "entries", map[string]any{"page": 2, "x": "y"}))
	assert.Equal(t, "/lang/en", build(t, m, "lang", nil), "a default fills a variable")
}

func TestDefaultRedirectOrder(t *testing.T) {
	// Whatever the registration order, and only for the same endpoint and
	// arguments.
	for _, reversed := range []bool{false, true} {
		rules := []*Rule{
			rule("/all/page/<int:page>", "entries"),
			rule("/all/", "entries", defaults(map[string]any{"page": 1})),
			rule("/other/<int:page>", "other"),
			rule("/o/", "other", defaults(map[string]any{"page": 1, "extra": true})),
		}
		if reversed {
			slices.Reverse(rules)
		}
		m := newMap(rules...)
		assert.Equal(t, "/all/", location(t, m, "/all/page/1"))
		_, args := match(t, m, "/all/", "GET")
		assert.Equal(t, map[string]any{"page": 1}, args)
		_, args = match(t, m, "/other/1", "GET")
		assert.Equal(t, map[string]any{"page": 1}, args, "different arguments: no redirect")
	}
}

func TestDefaultRedirectGoesToTheEarlierRule(t *testing.T) {
	// Two rules with the same defaults: the one first in build order (here
	// registration order) is the canonical one, and it does not redirect.
	m := newMap(
		rule("/a/", "list", defaults(map[string]any{"page": 1})),
		rule("/b/", "list", defaults(map[string]any{"page": 1})),
	)
	ep, _ := match(t, m, "/a/", "GET")
	assert.Equal(t, "list", ep)
	assert.Equal(t, "/a/", location(t, m, "/b/"))
}

func TestIndexFastPathsAgreeWithTheirPatterns(t *testing.T) {
	inputs := []string{"", "0", "42", "-7", "-", "--1", "1-", "4.2", "abc", "é", "a b", "١٢"}
	for _, content := range []string{`(?:[^/]{1,})`, `(?:\d+)`, `(?:-?\d+)`} {
		e := newSharedEdge(rulePart{content: content}, (&URLMap{}).anchored)
		require.NotEqual(t, segRegexp, e.kind, content)
		for _, s := range inputs {
			assert.Equal(t, e.re.MatchString(s), e.matches(s), "%s on %q", content, s)
		}
	}
}

func TestBuildPrefersMoreArguments(t *testing.T) {
	// werkzeug's build order: the rule using the most values first,
	// whatever the registration order.
	for _, reversed := range []bool{false, true} {
		rules := []*Rule{rule("/list", "list"), rule("/list/<int:page>", "list")}
		if reversed {
			slices.Reverse(rules)
		}
		m := newMap(rules...)
		assert.Equal(t, "/list/3", build(t, m, "list", map[string]any{"page": 3}))
		assert.Equal(t, "/list", build(t, m, "list", nil))
	}
}

func TestBuildMethod(t *testing.T) {
	m := newMap(
		rule("/item/<int:id>", "item", methods("POST")),
		rule("/item/<int:id>/show", "item"),
	)
	assert.Equal(t, "/item/1/show", build(t, m, "item", map[string]any{"id": 1}), "GET is preferred")
	u, err := m.Build("item", map[string]any{"id": 1}, "POST")
	require.NoError(t, err)
	assert.Equal(t, "/item/1", u)

	only := newMap(rule("/send", "send", methods("POST")))
	assert.Equal(t, "/send", build(t, only, "send", nil), "without a method, any rule will do")
}

func TestBuildConverterValues(t *testing.T) {
	u := UUID{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}
	m := newMap(
		rule("/n/<int(fixed_digits=4):n>", "fixed"),
		rule("/s/<int(signed=True):n>", "signed"),
		rule("/f/<float:f>", "float"),
		rule("/u/<uuid:id>", "uuid"),
	)
	assert.Equal(t, "/n/0042", build(t, m, "fixed", map[string]any{"n": 42}))
	assert.Equal(t, "/s/-5", build(t, m, "signed", map[string]any{"n": -5}))
	assert.Equal(t, "/f/2.0", build(t, m, "float", map[string]any{"f": 2}))
	assert.Equal(t, "/f/0.00001", build(t, m, "float", map[string]any{"f": 1e-5}))
	assert.Equal(t, "/u/123e4567-e89b-12d3-a456-426614174000", build(t, m, "uuid", map[string]any{"id": u}))
	assert.Equal(t, "/u/123e4567-e89b-12d3-a456-426614174000",
		build(t, m, "uuid", map[string]any{"id": "123E4567-E89B-12D3-A456-426614174000"}))
}

func TestBuildErrors(t *testing.T) {
	m := newMap(
		rule("/user/<int:id>", "user"),
		rule("/user/<int:id>/posts/<int:post>", "post"),
		rule("/send", "send", methods("POST")),
		rule("/all/", "all", defaults(map[string]any{"page": 1})),
	)
	buildErr := func(endpoint string, values map[string]any, method string) *BuildError {
		t.Helper()
		_, err := m.Build(endpoint, values, method)
		var be *BuildError
		require.ErrorAs(t, err, &be)
		return be
	}

	be := buildErr("usr", map[string]any{"id": 1}, "")
	assert.Equal(t, "user", be.Suggestion)
	assert.Equal(t, `vial: could not build url for endpoint "usr" with values ["id"]: no rule has this endpoint. Did you mean "user" instead?`, be.Error())

	be = buildErr("zzzzzz", nil, "")
	assert.Empty(t, be.Suggestion, "nothing close")
	assert.Equal(t, `vial: could not build url for endpoint "zzzzzz": no rule has this endpoint.`, be.Error())

	be = buildErr("post", map[string]any{"id": 1, "tab": "x"}, "")
	assert.Equal(t, []string{"post"}, be.Missing)
	assert.Equal(t, `vial: could not build url for endpoint "post" with values ["id", "tab"]. Did you forget to specify values ["post"]?`, be.Error())

	be = buildErr("send", nil, "GET")
	assert.Equal(t, []string{"OPTIONS", "POST"}, be.Methods)
	assert.Equal(t, `vial: could not build url for endpoint "send" ("GET"). Did you mean to use methods ["OPTIONS", "POST"]?`, be.Error())

	be = buildErr("user", map[string]any{"id": "abc"}, "")
	assert.Empty(t, be.Missing)
	require.Error(t, be.Err)
	assert.Contains(t, be.Error(), `value abc for "id": "abc" is not an integer`)
	assert.True(t, errors.Is(be, be.Err))

	be = buildErr("user", map[string]any{"id": -1}, "")
	assert.Contains(t, be.Error(), "-1 is negative")

	be = buildErr("all", map[string]any{"page": 2}, "")
	assert.Contains(t, be.Error(), `value 2 for "page" differs from the rule's default 1`)

	be = buildErr("user", map[string]any{"id": nil}, "")
	assert.Equal(t, []string{"id"}, be.Missing, "nil is no value")
}

func TestCustomConverters(t *testing.T) {
	m := NewURLMap()
	m.Converters["list"] = NewConverter(`[^/]+(?:\+[^/]+)*`,
		func(s string) (any, error) { return strings.Split(s, "+"), nil },
		func(v any) (string, error) { return strings.Join(v.([]string), "+"), nil })
	m.Converters["upper"] = NewConverter(`[A-Z]+`, nil, nil)
	m.Converters["even"] = NewConverter(`\d+`, func(s string) (any, error) {
		if (s[len(s)-1]-'0')%2 != 0 {
			return nil, errors.New("odd")
		}
		return s, nil
	}, nil)
	m.Converters["light"] = func(args ConverterArgs) (Converter, error) { return lightConverter{}, nil }
	m.Converters["dotted"] = NewConverter(`[a-z]+(?:/[a-z]+)*`, nil, nil)
	m.Add(rule("/tags/<list:tags>", "tags"))
	m.Add(rule("/c/<name>", "name"))
	m.Add(rule("/c/<upper:code>", "upper"))
	m.Add(rule("/e/<even:n>", "even"))
	m.Add(rule("/e/<rest>", "rest"))
	m.Add(rule("/w/<name>", "name2"))
	m.Add(rule("/w/<light:x>", "light"))
	m.Add(rule("/d/<dotted:p>/end", "dotted"))

	_, args := match(t, m, "/tags/a+b+c", "GET")
	assert.Equal(t, map[string]any{"tags": []string{"a", "b", "c"}}, args)
	assert.Equal(t, "/tags/x+y", build(t, m, "tags", map[string]any{"tags": []string{"x", "y"}}))

	ep, args := match(t, m, "/c/ABC", "GET")
	assert.Equal(t, "name", ep, "same weight: registration order")
	assert.Equal(t, map[string]any{"name": "ABC"}, args)

	ep, _ = match(t, m, "/e/4", "GET")
	assert.Equal(t, "even", ep)
	ep, _ = match(t, m, "/e/3", "GET")
	assert.Equal(t, "rest", ep, "a custom converter's error means no match")

	ep, _ = match(t, m, "/w/abc", "GET")
	assert.Equal(t, "light", ep, "Weight() orders custom converters")

	_, args = match(t, m, "/d/a/b/c/end", "GET")
	assert.Equal(t, map[string]any{"p": "a/b/c"}, args, "a pattern matching / spans segments")

	assert.Equal(t, "/c/a%20b", build(t, m, "name", map[string]any{"name": "a b"}))
	_, err := m.Build("upper", map[string]any{"code": "abc"}, "")
	assert.ErrorContains(t, err, "does not match", "built values are checked against the pattern")
}

type lightConverter struct{}

func (lightConverter) Pattern() string               { return `[a-z]+` }
func (lightConverter) Weight() int                   { return 10 }
func (lightConverter) ToValue(s string) (any, error) { return s, nil }
func (lightConverter) ToURL(v any) (string, error)   { return fmt.Sprint(v), nil }

func TestDefaultConverterIsReplaceable(t *testing.T) {
	m := NewURLMap()
	m.Converters["default"] = NewConverter(`[a-z]+`, nil, nil)
	m.Add(rule("/p/<name>", "p"))
	m.Add(rule("/s/<string:name>", "s"))
	assert.Equal(t, 404, matchErr(t, m, "/p/ABC", "GET").Code)
	ep, _ := match(t, m, "/s/ABC", "GET")
	assert.Equal(t, "s", ep)
}

func ExampleURLMap() {
	m := NewURLMap()
	m.Add(&Rule{Rule: "/user/<int:id>", Endpoint: "user", StrictSlashes: true})
	m.Add(&Rule{Rule: "/user/new", Endpoint: "new_user", Methods: []string{"GET", "POST"}, StrictSlashes: true})
	m.Add(&Rule{Rule: "/docs/", Endpoint: "docs", StrictSlashes: true})

	rule, args, _ := m.Match("/user/42", "GET")
	fmt.Println(rule.Endpoint, args["id"].(int)+1)
	rule, _, _ = m.Match("/user/new", "POST")
	fmt.Println(rule.Endpoint, rule.Methods)

	_, _, err := m.Match("/user/42", "DELETE")
	fmt.Println(err.(*HTTPError).Code, err.(*HTTPError).Header.Get("Allow"))
	_, _, err = m.Match("/docs", "GET")
	fmt.Println(err.(*HTTPError).Code, err.(*HTTPError).Header.Get("Location"))

	u, _ := m.Build("user", map[string]any{"id": 7, "tab": "posts"}, "")
	fmt.Println(u)
	_, err = m.Build("user", map[string]any{"tab": "posts"}, "")
	fmt.Println(err)
	// Output:
	// user 43
	// new_user [GET HEAD POST]
	// 405 GET, HEAD
	// 308 /docs/
	// /user/7?tab=posts
	// vial: could not build url for endpoint "user" with values ["tab"]. Did you forget to specify values ["id"]?
}

func ExampleNewConverter() {
	m := NewURLMap()
	m.Converters["list"] = NewConverter(`[^/]+(?:\+[^/]+)*`,
		func(s string) (any, error) { return strings.Split(s, "+"), nil },
		func(v any) (string, error) { return strings.Join(v.([]string), "+"), nil })
	m.Add(&Rule{Rule: "/tags/<list:tags>", Endpoint: "tags"})

	_, args, _ := m.Match("/tags/go+web", "GET")
	fmt.Printf("%q\n", args["tags"])
	u, _ := m.Build("tags", map[string]any{"tags": []string{"a", "b"}}, "")
	fmt.Println(u)
	// Output:
	// ["go" "web"]
	// /tags/a+b
}

// Every rule of an endpoint carries the endpoint's view once it is known,
// whichever was registered first, so that dispatch needs no lookup.
func TestRulesCarryTheirEndpointsView(t *testing.T) {
	app := New("test")
	view := func(r *Request) any { return "v" }
	app.AddURLRule("/before", "e", nil)
	app.AddURLRule("/with", "e", view)
	app.AddURLRule("/after", "e", nil)
	app.AddURLRule("/alone", "alone", nil)
	for _, r := range app.URLMap.rules {
		if r.Endpoint == "alone" {
			assert.Nil(t, r.view, r.Rule)
			continue
		}
		require.NotNil(t, r.view, r.Rule)
		assert.Equal(t, reflect.ValueOf(view).Pointer(), reflect.ValueOf(r.view).Pointer(), r.Rule)
		assert.Same(t, app, r.viewApp, r.Rule)
	}
}
