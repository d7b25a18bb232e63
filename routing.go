package vial

// Routing, as werkzeug splits it: this file holds the map and its rules,
// the public face (registration and matching); rules.go parses and
// compiles a rule; urlbuild.go builds URLs; converters.go and
// converter_types.go hold the converters; matcher.go the index that picks
// the rule for a request path.
//
// Every rule is compiled to a gorilla/mux route on the map's mux.Router,
// whose regular expression decides whether a candidate rule matches and
// extracts its variables, and which builds the rule's URLs. The index in
// front of it finds the candidates, in werkzeug's order, without trying
// every route; it matches most rules on its own, and their routes are
// compiled only when first needed (see ruleRoute).

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gorilla/mux"
	"github.com/vial-go/vial/gateway"
)

// Rule is one URL rule: werkzeug's Rule. Set its fields, then add it to a
// URLMap; the map compiles it and owns it from then on (do not change it
// after Add).
//
// The rule string is a path with variables in angle brackets,
// <converter(arguments):name>, the converter and its arguments optional:
// "/user/<int:id>", "/files/<path:name>", "/<string(length=2):lang>/",
// "/<any(about, help):page>". Repeated slashes in it count as one.
type Rule struct {
	// Rule is the rule string; it must start with "/".
	Rule string
	// Endpoint names the rule for URL building and for the view to call.
	// Several rules may share one.
	Endpoint string
	// Methods are the HTTP methods the rule answers; nil means GET. Add
	// upper-cases them, adds HEAD when GET is there and OPTIONS when
	// ProvideAutomaticOptions is set, and sorts them: after Add, Methods
	// is the rule's full set, the one an Allow header lists.
	Methods []string
	// Defaults are values the view gets besides the rule's variables. For
	// URL building, a rule with defaults is only chosen when the values
	// given agree with them; and a rule of the same endpoint matched with
	// exactly these values redirects to this one (werkzeug's rule
	// defaults).
	Defaults map[string]any
	// StrictSlashes makes a rule ending in "/" redirect (308) a request for
	// its path without the slash, and makes a rule not ending in "/" refuse
	// (404) its path with one. When false, both are matched as they are.
	// Flask's default, as the App sets it, is true.
	StrictSlashes bool
	// ProvideAutomaticOptions makes the rule answer OPTIONS (the App
	// replies with the URL's Allow header).
	ProvideAutomaticOptions bool
	// Subdomain is the subdomain the rule answers, werkzeug's
	// Rule.subdomain: "api" for api.example.com when SERVER_NAME is
	// "example.com"; "" (the default) for SERVER_NAME itself. It may hold
	// variables, as the rule string does ("<user>", "<int:id>-eu"), which
	// become view arguments. Write it in lower case: hosts are matched
	// lower-cased. A rule with a subdomain matches only a request of that
	// subdomain, which the App computes only when Config
	// SUBDOMAIN_MATCHING is set (with SERVER_NAME); URLFor builds an
	// absolute URL for it from any other subdomain.
	Subdomain string

	m          *URLMap
	sub        *ruleSubdomain // the compiled Subdomain; nil for the default one
	blueprint  string         // the name of the blueprint that registered the rule, "" for the App
	view       View           // the endpoint's view in viewApp, set by App.AddURLRule: no lookup per request
	viewApp    *App           // the App whose view view is (a URLMap may be shared)
	vars       []ruleVar      // the variables, in the order of the rule string
	parts      []rulePart     // the parts the index follows, one a path segment; nil once inserted
	staticPath string         // the whole path, when every part is static
	trace      []traceOp      // static texts (percent-encoded) and variables, for building
	muxBuild   bool           // the static texts need no encoding: mux can build the URL
	route      *ruleRoute     // the rule compiled by gorilla/mux (see ruleRoute)
	argNames   []string       // variable names and default keys, sorted
	buildKey   [2]int         // werkzeug's build_compare_key: more arguments first
	// Rules of the endpoint, before this one in build order, whose
	// defaults stand for this rule's values: a match redirects to them.
	defaultRedirects []*Rule
	// Every variable is a path segment of its own ("/user/<int:id>", not
	// "/<a>.<b>" nor a path converter): when the index has walked a path
	// to the rule, its edges have matched each variable's pattern against
	// exactly the text the mux route would capture, so the match needs no
	// second run of the route's regular expression (see matchState.try).
	segVars bool
}

// RuleSubdomain sets the subdomain a rule answers, [Rule.Subdomain]: Flask's
// add_url_rule(subdomain=...). "api" for api.example.com under SERVER_NAME
// example.com, "<user>" for any, as the view argument user. Matching by
// subdomain needs Config SUBDOMAIN_MATCHING and SERVER_NAME; without them
// the rule never matches a request, and only URLFor builds its (absolute)
// URL.
func RuleSubdomain(subdomain string) RouteOption {
	return func(r *Rule) { r.Subdomain = subdomain }
}

// ruleVar is one variable of a compiled rule.
type ruleVar struct {
	name string
	conv Converter
	re   *regexp.Regexp // the converter's pattern, anchored
}

// traceOp is a piece of a rule for building: a variable (v >= 0) or text.
type traceOp struct {
	text string
	v    int
}

// String returns the rule string.
func (r *Rule) String() string { return r.Rule }

// Arguments returns the names of the rule's variables, in order: those of
// its Subdomain, then those of its rule string.
func (r *Rule) Arguments() []string {
	var names []string
	if r.sub != nil {
		for _, v := range r.sub.vars {
			names = append(names, v.name)
		}
	}
	return append(names, r.pathArguments()...)
}

// pathArguments returns the names of the variables of the rule string.
func (r *Rule) pathArguments() []string {
	names := make([]string, len(r.vars))
	for i, v := range r.vars {
		names[i] = v.name
	}
	return names
}

// allows reports whether the rule answers method.
func (r *Rule) allows(method string) bool { return slices.Contains(r.Methods, method) }

// defaultArgs returns a copy of the rule's defaults, in reuse when it is
// not nil; nil when the rule has none.
func (r *Rule) defaultArgs(reuse map[string]any) map[string]any {
	if len(r.Defaults) == 0 {
		return nil
	}
	args := argsMap(reuse, len(r.Defaults))
	maps.Copy(args, r.Defaults)
	return args
}

// argsMap returns an empty map for n view arguments: reuse, emptied, when
// it is not nil (a recycled Request's), else a new one.
func argsMap(reuse map[string]any, n int) map[string]any {
	if reuse == nil {
		return make(map[string]any, n)
	}
	clear(reuse)
	return reuse
}

// URLMap is the table of URL rules: werkzeug's Map. Add every rule before
// serving; from then on Match and Build may be called from any number of
// goroutines, and read the tables without locks.
type URLMap struct {
	// Converters maps converter names to factories: "string" (also the
	// "default" for a variable without converter), "int", "float", "path",
	// "uuid" and "any", as werkzeug has them. Add custom ones before the
	// rules that use them.
	Converters map[string]ConverterFactory

	router     *mux.Router // makes the rules' routes; routerMu guards it
	routerMu   sync.Mutex
	rules      []*Rule
	byEndpoint map[string][]*Rule // build order
	index      matcher            // the rules of the default subdomain
	subs       *subdomains        // the others' (nil while there are none)
	// The variables' anchored patterns, compiled once for the map: a
	// table of rules has hundreds of variables but a handful of patterns,
	// and a compiled expression is a few kilobytes that every garbage
	// collection would scan.
	patterns map[string]*regexp.Regexp
}

// NewURLMap returns an empty URLMap with the default converters.
func NewURLMap() *URLMap {
	return &URLMap{
		Converters: defaultConverters(),
		router:     mux.NewRouter(),
		byEndpoint: make(map[string][]*Rule),
		index:      matcher{exact: make(map[string]*node)},
	}
}

// Rules returns the rules in registration order.
func (m *URLMap) Rules() []*Rule { return slices.Clone(m.rules) }

// Add compiles r and adds it to the map. It panics, with a message that
// names the rule, when the rule string is malformed (an unclosed "<", an
// empty or repeated variable name, an unknown converter, converter
// arguments the converter refuses), does not start with "/", or is refused
// by gorilla/mux; and when r was already added. A rule is never dropped
// silently.
func (m *URLMap) Add(r *Rule) {
	if r == nil {
		panic("vial: URLMap.Add(nil)")
	}
	if r.m != nil {
		panic(fmt.Sprintf("vial: URL rule %q is already in a URL map", r.Rule))
	}
	if err := m.compile(r); err != nil {
		panic(fmt.Sprintf("vial: URL rule %q: %v", r.Rule, err))
	}
	r.m = m
	m.rules = append(m.rules, r)
	m.indexFor(r).insert(r, m.anchored)
	r.parts = nil // the index's edges keep what they need: no need to keep it live
	list := m.byEndpoint[r.Endpoint]
	i := sort.Search(len(list), func(i int) bool { return slices.Compare(list[i].buildKey[:], r.buildKey[:]) > 0 })
	list = slices.Insert(list, i, r)
	m.byEndpoint[r.Endpoint] = list
	for i, rule := range list {
		rule.defaultRedirects = nil
		for _, before := range list[:i] {
			if before.providesDefaultsFor(rule) {
				rule.defaultRedirects = append(rule.defaultRedirects, before)
			}
		}
	}
}

// providesDefaultsFor is werkzeug's Rule.provides_defaults_for: r has
// defaults for the same arguments as o, of the same endpoint.
func (r *Rule) providesDefaultsFor(o *Rule) bool {
	return len(r.Defaults) > 0 && r != o && r.Endpoint == o.Endpoint && slices.Equal(r.argNames, o.argNames)
}

// defaultRedirect is werkzeug's redirect_defaults: when a rule of the
// same endpoint has defaults equal to the values matched, the canonical
// URL is that rule's ("/all/page/1" → "/all/" when "/all/" has the default
// page=1). It returns that path, decoded, or "".
func (r *Rule) defaultRedirect(args map[string]any, method string) string {
	for _, p := range r.defaultRedirects {
		if !p.suitableFor(args, method) {
			continue
		}
		values := make(map[string]any, len(args)+len(p.Defaults))
		maps.Copy(values, args)
		maps.Copy(values, p.Defaults)
		if u, err := p.build(values); err == nil {
			if dec, err := url.PathUnescape(u); err == nil {
				return dec
			}
		}
	}
	return ""
}

// ---- matching ----

// Match finds the rule for a request of the default subdomain: path is the
// percent-decoded PATH_INFO ("" counts as "/"), method the request method.
// It returns the rule and the view arguments: each variable converted by
// its converter (int, float64, UUID or string for the built-in ones) plus
// the rule's Defaults; the map is fresh for every call, and nil when the
// rule has neither variables nor defaults. Rules with a Subdomain are left
// out: see [URLMap.MatchSubdomain].
//
// Rules are tried in werkzeug's order, whatever the registration order: a
// static segment before a variable one, variables by converter weight (int
// and float, then string, then path), rules in one place in registration
// order. A converter refusing the text (int(max=99) given 100) means the
// rule does not match, and the next candidate is tried. HEAD is answered by
// the rules with GET, OPTIONS by the rules with ProvideAutomaticOptions.
//
// The error is an *HTTPError:
//   - 404 when no rule matches the path;
//   - 405 when rules match the path but none the method; its Header has
//     Allow: their methods, sorted and comma-separated;
//   - 308 with a Location header when the path needs its trailing slash
//     (a StrictSlashes rule ending in "/"); when it has repeated slashes
//     and the path with merged slashes matches; when the rule matched has a
//     sibling (same endpoint, same arguments) whose Defaults are the values
//     matched, werkzeug's redirect_defaults: with "/all/" (defaults page=1)
//     and "/all/page/<int:page>", "/all/page/1" redirects to "/all/".
//     Location is the new path, percent-decoded like path, without script
//     root or query string.
func (m *URLMap) Match(path, method string) (*Rule, map[string]any, error) {
	return m.matchIn("", path, method, nil)
}

// MatchSubdomain is [URLMap.Match] for a request of subdomain ("api" for
// api.example.com under SERVER_NAME example.com; "" is the default one):
// werkzeug's Map bound to that subdomain. Only the rules of that subdomain
// are candidates, and only they count for a 405 or a redirect: those whose
// Subdomain is subdomain, then those whose Subdomain has variables that
// match it (in weight order, as a path's segments), which give their
// converted values to the view arguments. "<invalid>", werkzeug's
// subdomain for a host not under SERVER_NAME, matches no rule.
func (m *URLMap) MatchSubdomain(subdomain, path, method string) (*Rule, map[string]any, error) {
	return m.matchIn(subdomain, path, method, nil)
}

// match is Match, putting the view arguments in reuse when it is not nil.
func (m *URLMap) match(path, method string, reuse map[string]any) (*Rule, map[string]any, error) {
	return m.matchIn("", path, method, reuse)
}

// matchIn is MatchSubdomain, putting the view arguments in reuse when it
// is not nil.
func (m *URLMap) matchIn(sub, path, method string, reuse map[string]any) (*Rule, map[string]any, error) {
	path = rooted(path)
	if method == "" {
		method = "GET"
	}
	if sub == "" {
		// A rule without variables, by its whole path: before the walk's
		// state is even made.
		if n := m.index.exactNode(path); n != nil {
			for _, r := range n.rules {
				if r.allows(method) {
					return matched(r, r.defaultArgs(reuse), method)
				}
			}
		}
	}
	st := matchState{method: method, reuse: reuse}
	if r := m.find(&st, sub, path); r != nil {
		return matched(r, st.args, method)
	}
	redirect, allowed := m.miss(&st, sub, path)
	switch {
	case redirect != "":
		return nil, nil, redirectError(redirect)
	case len(allowed) > 0:
		return nil, nil, &HTTPError{
			Code:   405,
			Header: gateway.Headers{{Name: "Allow", Value: strings.Join(allowed, ", ")}},
		}
	}
	return nil, nil, &HTTPError{Code: 404}
}

// rooted is a request path as the index has it: "" is "/", and a path
// always starts with "/".
func rooted(path string) string {
	if path == "" {
		return "/"
	}
	if path[0] != '/' {
		return "/" + path
	}
	return path
}

// miss goes on from st, a search of path in subdomain sub that found no
// rule. It returns the path to redirect to, when there is one (the path
// needs its trailing slash, or its repeated slashes merged); or else the
// methods of the rules that match path but not st's method, sorted: none
// means a 404.
func (m *URLMap) miss(st *matchState, sub, path string) (redirect string, allowed []string) {
	if st.redirect != "" {
		return st.redirect, nil
	}
	if merged := mergeSlashes(path); merged != path {
		if r := m.find(st, sub, merged); r != nil {
			return merged, nil
		}
		if st.redirect != "" {
			return st.redirect, nil
		}
	}
	return "", sortedSet(st.allowed())
}

// matched returns the result of a match, or the redirect to the rule that
// provides its values as defaults.
func matched(r *Rule, args map[string]any, method string) (*Rule, map[string]any, error) {
	if len(r.defaultRedirects) > 0 {
		if loc := r.defaultRedirect(args, method); loc != "" {
			return nil, nil, redirectError(loc)
		}
	}
	return r, args, nil
}

// AllowedMethods returns the methods the rules of the default subdomain
// matching path answer, sorted: the Allow header of an automatic OPTIONS
// response. It is empty when no rule matches the path.
func (m *URLMap) AllowedMethods(path string) []string {
	return m.AllowedMethodsSubdomain("", path)
}

// AllowedMethodsSubdomain is [URLMap.AllowedMethods] for the rules of
// subdomain, as [URLMap.MatchSubdomain] picks them.
func (m *URLMap) AllowedMethodsSubdomain(subdomain, path string) []string {
	// No rule answers the empty method (Add refuses it), so the search
	// finds none and notes every rule that matches the path.
	st := matchState{}
	path = rooted(path)
	m.find(&st, subdomain, path)
	_, allowed := m.miss(&st, subdomain, path)
	return allowed
}

func redirectError(location string) *HTTPError {
	return &HTTPError{Code: 308, Header: gateway.Headers{{Name: "Location", Value: location}}}
}

func sortedSet(list []string) []string {
	sort.Strings(list)
	return slices.Compact(list)
}
