package vial

import (
	"fmt"
	"testing"

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
		"/t/1/2/", "/t/1/2", "/t/1/2/c", "/t/1/2/c/", "/mixed/a.b", "/files/a/b/edit",
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
