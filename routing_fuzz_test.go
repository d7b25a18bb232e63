package vial

// Fuzz targets of the rule parser, the converter arguments and the
// matcher. They are in package vial for githubAPI (routing_bench_test.go),
// but use only the public API of the map.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"
)

// fzAdd adds a rule to a new map, returning the map or Add's panic.
func fzAdd(m *URLMap, r *Rule) (panicked any) {
	defer func() { panicked = recover() }()
	m.Add(r)
	return nil
}

// fzRuleSeeds are rule strings from routing_test.go and converters_test.go.
var fzRuleSeeds = []string{
	"/", "/about", "/user/<int:id>", "/user/<int:id>/posts/<slug>", "/all/", "/all/page/<int:page>",
	"/v/<path:p>", "/v/<float:f>", "/doc/<name>.json", "/n/<int(max=99):small>", "/r/<int(min=10):number>",
	"/<string(length=2):lang>/", "/<any(about, help):page>", "/<a>/<b>", "/x/<uuid:u>", "/i/<int(fixed_digits=4):n>",
	"/s/<int(signed=True):n>", "/f/<float(min=0.5, max=9):f>", "/<string(minlength=2, maxlength=3):s>",
	"/n/<int(min=1, max=9):x>", "/<string(length=2):c>", "//double//<x>", "/files/<path:p>/edit",
	"/<a>.<b>", "/ü/<name>", "/<int:a>-<int:b>", "/bad/<", "/bad/<x", "/bad/<:x>", "/bad/<1x>", "/bad/<x><x>",
	"/bad/<nope:x>", "/bad/{x}", "no-slash", "/bad/<int(min=x):y>", "/bad/<string(length=2, bogus=1):c>",
	"/<any('a,b', \"c)d\"):v>", "/<string(0):s>/x",
}

// fzCandidates are the values FuzzRuleBuildMatch gives every variable, in
// turn, after the fuzzed one: at least one suits each built-in converter.
var fzCandidates = []string{"1", "abc", "1.5", "123e4567-e89b-12d3-a456-426614174000", "about", "0042", "-3", "fr", "a b", "ABC"}

// FuzzRuleBuildMatch adds a fuzzed rule to a map. Add either panics, with
// a string naming the rule, or accepts it; a rule not starting with "/" is
// refused. For a rule accepted, every URL that Build makes (giving all the
// variables one value, the fuzzed one or a candidate) must match the rule
// back, once percent-decoded as PATH_INFO is, with view arguments that
// are the values given (as text, or the number or UUID the text names)
// and build the same URL again (only the latter for a rule that can read
// a URL another way, see fzAmbiguous). One documented exception: a variable that may
// be empty (string(minlength=0)) next to a "/" builds a path with "//",
// which Match redirects (308) to the path with the slashes merged, as
// werkzeug's merge_slashes does.
func FuzzRuleBuildMatch(f *testing.F) {
	for _, r := range fzRuleSeeds {
		f.Add(r, "x")
	}
	f.Add("/<string(minlength=0):s>/x", "")
	f.Add("/n/<int(min=1, max=9):x>", "7")
	f.Add("/<string(length=2):c>", "éé")
	f.Add("/<string(2):A>", " ") // "%20" is three characters, " " one: not built
	f.Add("/user/<name>", "a/b")
	f.Fuzz(func(t *testing.T, rule, value string) {
		m := NewURLMap()
		r := &Rule{Rule: rule, Endpoint: "e", StrictSlashes: true}
		if p := fzAdd(m, r); p != nil {
			msg, ok := p.(string)
			require.True(t, ok, "Add panicked with a %T: %v", p, p)
			require.True(t, strings.HasPrefix(msg, fmt.Sprintf("vial: URL rule %q", rule)), "%s", msg)
			return
		}
		require.True(t, strings.HasPrefix(rule, "/"), "Add accepted %q", rule)
		names := r.Arguments()
		for _, cand := range append([]string{value}, fzCandidates...) {
			values := make(map[string]any, len(names))
			for _, n := range names {
				values[n] = cand
			}
			u, err := m.Build("e", values, "")
			if err != nil {
				var be *BuildError
				require.True(t, errors.As(err, &be), "%T", err)
				continue
			}
			require.NotContains(t, u, "?", "every value is a variable: no query string")
			if strings.Contains(u, "%2F") {
				// A "/" in a segment's value, encoded rather than left to
				// split the segment: a deliberate difference from werkzeug
				// (README), which routing does not take back.
				continue
			}
			path, err := url.PathUnescape(u)
			require.NoError(t, err, "Build made %q", u)
			got, args, err := m.Match(path, "GET")
			if err != nil && strings.Contains(path, "//") {
				var he *HTTPError
				require.True(t, errors.As(err, &he), "%v", err)
				require.Equal(t, 308, he.Code, "rule %q, values %q: %q: %v", rule, values, path, err)
				require.Equal(t, mergeSlashesRef(path), he.Header.Get("Location"))
				continue
			}
			require.NoError(t, err, "rule %q, values %q: Build made %q, Match(%q) failed", rule, values, u, path)
			require.Same(t, r, got)
			require.Len(t, args, len(names))
			for _, n := range names {
				if !fzAmbiguous(rule) {
					fzSameValue(t, cand, args[n], "rule %q: %s=%q built %q", rule, n, cand, u)
				}
			}
			again, err := m.Build("e", args, "")
			require.NoError(t, err, "rule %q: building from the matched %v", rule, args)
			require.Equal(t, u, again, "rule %q: the matched %v build another URL", rule, args)
		}
	})
}

// fzAmbiguous reports whether a rule's URLs may be read back with other
// values than they were built with: two variables in one segment
// ("/<a>.<b>": "/1.5.1.5" is a="1.5.1", b="5" as well), or a path variable
// with another one. The URL built again from what is matched must still be
// the same.
func fzAmbiguous(rule string) bool {
	for _, seg := range strings.Split(rule, "/") {
		if strings.Count(seg, "<") > 1 {
			return true
		}
	}
	return strings.Contains(rule, "<path") && strings.Count(rule, "<") > 1
}

// fzSameValue checks that a view argument is the value given to Build as
// text: the text itself, or its number or UUID.
func fzSameValue(t *testing.T, given string, got any, msgAndArgs ...any) {
	t.Helper()
	switch v := got.(type) {
	case string:
		require.Equal(t, given, v, msgAndArgs...)
	case int:
		n, err := strconv.Atoi(given)
		require.NoError(t, err, msgAndArgs...)
		require.Equal(t, n, v, msgAndArgs...)
	case float64:
		x, err := strconv.ParseFloat(given, 64)
		require.NoError(t, err, msgAndArgs...)
		require.Equal(t, x, v, msgAndArgs...)
	case UUID:
		u, err := ParseUUID(given)
		require.NoError(t, err, msgAndArgs...)
		require.Equal(t, u, v, msgAndArgs...)
	default:
		t.Fatalf("a view argument of type %T", got)
	}
}

// mergeSlashesRef replaces every run of slashes by one.
func mergeSlashesRef(s string) string {
	return regexp.MustCompile(`/+`).ReplaceAllString(s, "/")
}

// fzQuoteArg writes a converter argument value as rule syntax: bare when
// it is a plain word or number, else quoted with a quote it does not hold.
func fzQuoteArg(v string) string {
	if v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+") == "" {
		return v
	}
	if strings.Contains(v, "'") {
		return `"` + v + `"`
	}
	return "'" + v + "'"
}

// fzFormatArgs writes ConverterArgs back in rule syntax, keywords sorted.
func fzFormatArgs(a ConverterArgs) string {
	var parts []string
	for _, p := range a.Positional {
		parts = append(parts, fzQuoteArg(p))
	}
	keys := make([]string, 0, len(a.Keyword))
	for k := range a.Keyword {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+fzQuoteArg(a.Keyword[k]))
	}
	return strings.Join(parts, ", ")
}

// fzParseArgs parses converter arguments through the public API: a
// converter whose factory keeps what it is given. ok is false when Add
// refuses the rule.
func fzParseArgs(t *testing.T, args string) (ConverterArgs, bool) {
	var got ConverterArgs
	called := false
	m := NewURLMap()
	m.Converters["probe"] = func(a ConverterArgs) (Converter, error) {
		got, called = a, true
		return NewConverter(`[^/]+`, nil, nil)(ConverterArgs{})
	}
	if p := fzAdd(m, &Rule{Rule: "/x/<probe(" + args + "):v>", Endpoint: "e"}); p != nil {
		msg, isText := p.(string)
		require.True(t, isText, "Add panicked with a %T: %v", p, p)
		require.Contains(t, msg, "vial: URL rule")
		require.False(t, called && !strings.Contains(msg, "converter"), "%s", msg)
		return ConverterArgs{}, false
	}
	require.True(t, called)
	return got, true
}

// FuzzConverterArgs parses fuzzed converter arguments, `<probe(…):v>`, the
// way a rule does. What the parser accepts has keyword names that are
// identifiers, and written back in canonical rule syntax (values quoted
// where needed, keywords sorted) it parses to the same arguments. And the
// other way, any list of values written in that syntax parses to that
// list: the parser loses and invents nothing.
func FuzzConverterArgs(f *testing.F) {
	// The cases of TestParseConverterArgs.
	for _, s := range []string{
		"", "  ", "1", "min=1,max=99", " min = 1 , max = 99 , ", `'a', "b", c`, `'a,b', "c)d"`,
		"4, signed=True", "min=-5, max=2.5", "x=None", `'unclosed`, "a=1, b", "a=1, a=2", "a b", "a=",
		"a,,b", "(x)", "min=1, max=9", "length=2", `'it''s'`, `"a'b", 'c"d'`, "\t1,\t", "1e5, +3, -x",
	} {
		f.Add(s)
	}
	ident := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	f.Fuzz(func(t *testing.T, s string) {
		// s as a list of arguments, "name=value" a keyword: written in
		// rule syntax they parse to exactly that list.
		var want ConverterArgs
		for _, part := range strings.Split(s, ",") {
			if strings.Contains(part, "'") && strings.Contains(part, `"`) {
				continue // no quote can hold it
			}
			if k, v, isKw := strings.Cut(part, "="); isKw && ident.MatchString(k) {
				if _, dup := want.Keyword[k]; !dup && !strings.ContainsAny(v, `'"`) {
					if want.Keyword == nil {
						want.Keyword = map[string]string{}
					}
					want.Keyword[k] = v
				}
				continue
			}
			want.Positional = append(want.Positional, part)
		}
		if canon := fzFormatArgs(want); !strings.ContainsAny(canon, "\r\n") {
			got, ok := fzParseArgs(t, canon)
			require.True(t, ok, "%q", canon)
			require.Equal(t, want.Positional, got.Positional, "%q", canon)
			require.Equal(t, want.Keyword, got.Keyword, "%q", canon)
		}

		a, ok := fzParseArgs(t, s)
		if !ok {
			return
		}
		for k := range a.Keyword {
			require.Regexp(t, ident, k)
		}
		canon := fzFormatArgs(a)
		b, ok := fzParseArgs(t, canon)
		require.True(t, ok, "%q parsed to %+v, whose canonical form %q does not parse", s, a, canon)
		require.Equal(t, len(a.Positional), len(b.Positional), "%q → %q", s, canon)
		require.Equal(t, a.Positional, b.Positional, "%q → %q", s, canon)
		require.Equal(t, len(a.Keyword), len(b.Keyword), "%q → %q", s, canon)
		for k, v := range a.Keyword {
			require.Equal(t, v, b.Keyword[k], "%q → %q: %s", s, canon, k)
		}
	})
}

// fzMuxTemplate converts a rule of githubAPI to a gorilla/mux template
// with the patterns of vial's converters, so that the two routers differ
// only in how they pick among the routes, not in what a route accepts.
func fzMuxTemplate(rule string) string {
	return benchVarRe.ReplaceAllStringFunc(rule, func(v string) string {
		m := benchVarRe.FindStringSubmatch(v)
		switch m[1] {
		case "int":
			return "{" + m[2] + `:\d+}`
		case "path":
			return "{" + m[2] + ":[^/](?s:.*?)}"
		}
		return "{" + m[2] + ":[^/]{1,}}"
	})
}

var fzMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// FuzzMatchAgainstMux matches a fuzzed path and method on the GitHub-like
// table of routing_bench_test.go with vial, and with gorilla/mux routes of
// the same patterns, one route per rule, each asked on its own.
//
// vial must match a rule whose route matches the request; answer 405 only
// when routes match the path and none the method, with those routes'
// methods in Allow; 404 only when no route matches the path. The allowed
// differences, each narrow:
//   - when several routes match, vial picks by werkzeug's order (static
//     segments first, then converter weight), which gorilla/mux, first
//     registered first, does not follow: vial's rule must be one of them;
//   - an int converter refuses digits that overflow an int, where the mux
//     pattern \d+ matches: such a route does not count;
//   - HEAD is answered by the GET rules (mux knows no such thing): the
//     fuzzed methods exclude it;
//   - a path with "//" is redirected (308) by vial to the path with the
//     slashes merged, when that one matches, where mux matches nothing;
//   - both see the same decoded path: vial's Match takes PATH_INFO, mux
//     the request's URL.Path; percent-decoding is not theirs here.
func FuzzMatchAgainstMux(f *testing.F) {
	m := NewURLMap()
	var rules []*Rule
	var routes []*mux.Route
	for _, e := range githubAPI {
		r := &Rule{Rule: e.Rule, Endpoint: e.Method + " " + e.Rule, Methods: []string{e.Method}, StrictSlashes: true}
		m.Add(r)
		rules = append(rules, r)
		route := new(mux.Route).Path(fzMuxTemplate(e.Rule))
		require.NoError(f, route.GetError())
		routes = append(routes, route)
	}
	for i, e := range githubAPI {
		if i%8 != 0 {
			continue // enough seeds, and a fast baseline
		}
		f.Add(samplePath(e.Rule), uint8(slices.Index(fzMethods, e.Method)))
		f.Add(samplePath(e.Rule)+"/", uint8(i))
		f.Add(strings.Replace(samplePath(e.Rule), "/", "//", 2), uint8(i))
		f.Add(strings.ReplaceAll(samplePath(e.Rule), "42", "99999999999999999999"), uint8(i))
	}
	f.Fuzz(func(t *testing.T, path string, mi uint8) {
		if path == "" || path[0] != '/' {
			path = "/" + path
		}
		method := fzMethods[int(mi)%len(fzMethods)]
		// The routes matching a path, and those matching the method too.
		candidates := func(path string) (onPath, matching []int) {
			req := &http.Request{Method: method, URL: &url.URL{Path: path}}
			for i, route := range routes {
				var rm mux.RouteMatch
				if !route.Match(req, &rm) {
					continue
				}
				overflows := false
				for name, v := range rm.Vars {
					if strings.Contains(githubAPI[i].Rule, "<int:"+name+">") {
						if _, err := strconv.Atoi(v); err != nil {
							overflows = true
						}
					}
				}
				if overflows {
					continue
				}
				onPath = append(onPath, i)
				if githubAPI[i].Method == method {
					matching = append(matching, i)
				}
			}
			return onPath, matching
		}
		req := &http.Request{Method: method, URL: &url.URL{Path: path}}
		onPath, matching := candidates(path)
		r, args, err := m.Match(path, method)
		if err == nil {
			i := slices.Index(rules, r)
			require.Contains(t, matching, i, "%s %s: vial matched %q, mux routes %v", method, path, r.Rule, matching)
			var rm mux.RouteMatch
			require.True(t, routes[i].Match(req, &rm))
			require.Len(t, args, len(rm.Vars))
			for name, s := range rm.Vars {
				switch v := args[name].(type) {
				case int:
					n, err := strconv.Atoi(s)
					require.NoError(t, err)
					require.Equal(t, n, v, name)
				default:
					require.Equal(t, s, v, name)
				}
			}
			return
		}
		var he *HTTPError
		require.True(t, errors.As(err, &he), "%v", err)
		switch he.Code {
		case 404:
			require.Empty(t, onPath, "%s %s: vial 404, mux routes %q", method, path, fzRules(onPath))
		case 405:
			if merged := mergeSlashesRef(path); merged != path && len(onPath) == 0 {
				// The methods of the path with merged slashes.
				onPath, matching = candidates(merged)
			}
			require.Empty(t, matching, "%s %s: vial 405, mux routes %q", method, path, fzRules(matching))
			require.NotEmpty(t, onPath, "%s %s: vial 405 but no route matches the path", method, path)
			allow := strings.Split(he.Header.Get("Allow"), ", ")
			for _, i := range onPath {
				require.Contains(t, allow, githubAPI[i].Method)
			}
		case 308:
			merged := mergeSlashesRef(path)
			require.NotEqual(t, path, merged, "%s %s: a 308 for a path without \"//\"", method, path)
			require.Empty(t, onPath, "%s %s: redirected, but mux routes %q match", method, path, fzRules(onPath))
			require.Equal(t, merged, he.Header.Get("Location"))
		default:
			t.Fatalf("%s %s: %v", method, path, err)
		}
	})
}

func fzRules(idx []int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, githubAPI[i].Method+" "+githubAPI[i].Rule)
	}
	return out
}
