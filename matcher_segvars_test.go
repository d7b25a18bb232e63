package vial

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A rule whose variables are whole segments (Rule.segVars) takes their
// texts from the index's walk instead of running its mux route. The
// shortcut must give exactly what the route gives: the same rule, the same
// converted values, the same errors, for every path.
func TestSegVarsMatchesMux(t *testing.T) {
	rules := []struct {
		rule    string
		methods []string
		strict  bool
	}{
		{"/user/<int:id>", nil, true},
		{"/user/<int(max=99):small>/x", nil, true},
		{"/user/<name>/x", nil, true},
		{"/user/<int(signed=True):n>/y", nil, true},
		{"/user/<float:f>", []string{"POST"}, true},
		{"/u/<uuid:u>", nil, true},
		{"/p/<any(about, help):page>/", nil, true},
		{"/s/<string(length=2):lang>/<slug>", nil, true},
		{"/s/<string(minlength=3):word>/<slug>", nil, true},
		{"/t/<a>/<b>/", nil, false},
		{"/t/<a>/<b>/c", nil, true},
		{"/t/<a>/<b>/d", nil, false}, // matches with a slash added
		{"/v/<int:n>", []string{"POST"}, false},
		{"/mixed/<a>.<b>", nil, true},          // not segVars: two variables in a segment
		{"/files/<path:rest>/edit", nil, true}, // not segVars: a path converter
		{"/<lang>/", nil, true},
		{"/<lang>/about", nil, true},
		{"/repos/<owner>/<repo>/issues/<int:number>/labels/<name>", []string{"DELETE"}, true},
		{"/repos/<owner>/<repo>/issues/<int:number>/labels", []string{"GET", "PUT"}, true},
	}
	build := func(segVars bool) (*URLMap, int) {
		m := NewURLMap()
		n := 0
		for i, r := range rules {
			rule := &Rule{Rule: r.rule, Endpoint: fmt.Sprint(i), Methods: r.methods, StrictSlashes: r.strict, ProvideAutomaticOptions: true}
			m.Add(rule)
			if rule.segVars {
				n++
			}
			if !segVars {
				rule.segVars = false
			}
		}
		return m, n
	}
	fast, n := build(true)
	require.Equal(t, len(rules)-2, n, "every rule but the two marked should take the shortcut")
	slow, _ := build(false)

	paths := []string{
		"/user/42", "/user/0042", "/user/-1", "/user/abc", "/user/", "/user", "/user//42", "/user/42/",
		"/user/99999999999999999999999", "/user/1.5", "/user/42/x", "/user/100/x", "/user/ab/x",
		"/user/-7/y", "/user/7/y", "/user/--7/y", "/user/é/x", "/user/\xff/x", "/user/a b/x",
		"/u/6ba7b810-9dad-11d1-80b4-00c04fd430c8", "/u/not-a-uuid",
		"/p/about/", "/p/about", "/p/other/", "/s/en/hello", "/s/english/hello", "/s/e/hello",
		"/t/1/2/", "/t/1/2", "/t/1/2/c", "/t/1/2/c/", "/t/1/2/d", "/t/1/2/d/", "/v/5", "/v/5/", "/v/x/", "/mixed/a.b", "/files/a/b/edit",
		"/en/", "/en", "/en/about", "/en/about/", "//en/about",
		"/repos/o/r/issues/12/labels/bug", "/repos/o/r/issues/12/labels", "/repos/o/r/issues/x/labels",
	}
	for _, path := range paths {
		for _, method := range []string{"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"} {
			fr, fargs, ferr := fast.Match(path, method)
			sr, sargs, serr := slow.Match(path, method)
			what := method + " " + path
			if sr == nil {
				require.Nil(t, fr, what)
			} else {
				require.NotNil(t, fr, what)
				require.Equal(t, sr.Endpoint, fr.Endpoint, what)
			}
			require.Equal(t, sargs, fargs, what)
			require.Equal(t, serr, ferr, what)
		}
	}
}

// A rule that the index matches on its own (no variables, or whole-segment
// ones) has its mux route compiled when something first needs it (URL
// building, a 405), not when it is added: compiled regular
// expressions are most of a table's memory. The others keep the route
// compiled by Add. However many goroutines need it first, a route is
// compiled once.
func TestMuxRoutesCompiledWhenNeeded(t *testing.T) {
	m := NewURLMap()
	static := &Rule{Rule: "/about", Endpoint: "about"}
	seg := &Rule{Rule: "/user/<int:id>", Endpoint: "user"}
	path := &Rule{Rule: "/files/<path:name>", Endpoint: "files"}
	for _, r := range []*Rule{static, seg, path} {
		m.Add(r)
	}
	routes := func() int {
		n := 0
		m.router.Walk(func(*mux.Route, *mux.Router, []*mux.Route) error { n++; return nil })
		return n
	}
	require.Equal(t, 1, routes(), "only the path rule needs its route to match")
	require.NotNil(t, path.route.route, "compiled by Add")

	// Matching does not need the others.
	for _, p := range []string{"/about", "/user/42", "/files/a/b"} {
		_, _, err := m.Match(p, "GET")
		require.NoError(t, err, p)
	}
	require.Equal(t, 1, routes())

	var wg sync.WaitGroup
	got := make([]*mux.Route, 12)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 3 {
			case 0:
				u, err := m.Build("user", map[string]any{"id": 7}, "")
				assert.NoError(t, err)
				assert.Equal(t, "/user/7", u)
			case 1:
				// A 405 lists the methods of the rules matching the path,
				// which asks their routes.
				_, _, err := m.Match("/user/7", "POST")
				var he *HTTPError
				if assert.ErrorAs(t, err, &he) {
					assert.Equal(t, 405, he.Code)
				}
			}
			got[i] = seg.route.get()
		}()
	}
	wg.Wait()
	for _, r := range got {
		require.Same(t, got[0], r)
	}
	tpl, err := got[0].GetPathTemplate()
	require.NoError(t, err)
	require.Equal(t, `/user/{id:\d+}`, tpl)
	require.Equal(t, 2, routes(), "the int rule's route, once")

	u, err := m.Build("about", nil, "")
	require.NoError(t, err)
	require.Equal(t, "/about", u)
	require.Equal(t, 3, routes())
}

// A node's static transitions move from a list to a map as they grow; each
// stays reachable, and a missing segment is not found, on both sides.
func TestChildrenListThenMap(t *testing.T) {
	var c children
	nodes := map[string]*node{}
	for i := range 3 * maxChildList {
		seg := fmt.Sprintf("seg%d", i)
		if i == 0 {
			seg = "" // the trailing-slash transition
		}
		require.Nil(t, c.get(seg))
		nodes[seg] = &node{depth: i}
		c.add(seg, nodes[seg])
		require.Equal(t, i < maxChildList, c.m == nil, "after %d transitions", i+1)
		for s, n := range nodes {
			require.Same(t, n, c.get(s), "segment %q after %d transitions", s, i+1)
		}
		require.Nil(t, c.get("seg"), "a prefix is another segment")
	}
}
