package vial

// Routing, as werkzeug splits it: this file holds the rules (parsing
// "/user/<int:id>"), the map (registration and URL building) and the
// routing errors; converters.go the converters; matcher.go the index that
// picks the rule for a request path.
//
// Every rule is compiled to a gorilla/mux route on the map's mux.Router,
// whose regular expression decides whether a candidate rule matches and
// extracts its variables, and which builds the rule's URLs. The index in
// front of it finds the candidates, in werkzeug's order, without trying
// every route; it matches most rules on its own, and their routes are
// compiled only when first needed (see ruleRoute).

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
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

	m          *URLMap
	view       View       // the endpoint's view in viewApp, set by App.AddURLRule: no lookup per request
	viewApp    *App       // the App whose view view is (a URLMap may be shared)
	vars       []ruleVar  // the variables, in the order of the rule string
	parts      []rulePart // the parts the index follows, one a path segment; nil once inserted
	staticPath string     // the whole path, when every part is static
	trace      []traceOp  // static texts (percent-encoded) and variables, for building
	muxBuild   bool       // the static texts need no encoding: mux can build the URL
	route      *ruleRoute // the rule compiled by gorilla/mux (see ruleRoute)
	argNames   []string   // variable names and default keys, sorted
	buildKey   [2]int     // werkzeug's build_compare_key: more arguments first
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

// Arguments returns the names of the rule's variables, in order.
func (r *Rule) Arguments() []string {
	names := make([]string, len(r.vars))
	for i, v := range r.vars {
		names[i] = v.name
	}
	return names
}

// Route returns the gorilla/mux route the rule is compiled to (compiling
// it, the first time, if matching has not needed it); nil before the rule
// is added to a map. Its template is the rule in mux syntax:
// "/user/<int:id>" is "/user/{id:\d+}".
func (r *Rule) Route() *mux.Route {
	if r.route == nil {
		return nil
	}
	return r.route.get()
}

// ruleRoute is a rule's gorilla/mux route, compiled when first needed.
//
// Compiled regular expressions are most of a routing table's memory, a few
// kilobytes a rule, and the garbage collector scans that memory in every
// cycle: on a table of a few hundred rules, a cost of every request. Yet
// the index matches a rule without variables, or one whose variables are
// whole segments (segVars), on its own. Such a rule's template is checked
// by mux when it is added, then its route is compiled again only when
// something needs it: URL building, a 405's Allow list, Rule.Route. The other rules need their route to match, and
// keep the one compiled when they were added.
type ruleRoute struct {
	m     *URLMap
	tpl   string
	once  sync.Once
	route *mux.Route
}

// get returns the route, compiling it on first use.
func (rr *ruleRoute) get() *mux.Route {
	rr.once.Do(func() {
		if rr.route != nil {
			return // compiled when the rule was added
		}
		rr.m.routerMu.Lock()
		defer rr.m.routerMu.Unlock()
		route, err := newRoute(rr.m.router.NewRoute(), rr.tpl)
		if err != nil {
			// Add compiled the same template without error.
			panic(fmt.Sprintf("vial: %v", err))
		}
		rr.route = route
	})
	return rr.route
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
	index      matcher
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
	m.index.insert(r, m.anchored)
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

// ---- the rule string ----

// ruleToken is a piece of a rule string: static text, or a variable.
type ruleToken struct {
	text      string // static text; empty for a variable
	name      string // the variable's name
	converter string // its converter; "" for the default
	args      string // the converter's arguments, between the parentheses
}

// parseRule splits a rule string into static text and variables.
func parseRule(rule string) ([]ruleToken, error) {
	var toks []ruleToken
	i := 0
	for i < len(rule) {
		lt := strings.IndexByte(rule[i:], '<')
		if lt < 0 {
			toks = append(toks, ruleToken{text: rule[i:]})
			break
		}
		if lt > 0 {
			toks = append(toks, ruleToken{text: rule[i : i+lt]})
		}
		start := i + lt
		tok, end, err := parseVariable(rule, start)
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
		i = end
	}
	return toks, nil
}

// parseVariable parses <converter(args):name> at rule[start] ('<') and
// returns the index after its '>'.
func parseVariable(rule string, start int) (ruleToken, int, error) {
	var tok ruleToken
	unclosed := fmt.Errorf(`unclosed "<" at offset %d`, start)
	i := start + 1
	j := scanIdent(rule, i)
	first := rule[i:j]
	i = j
	hasConverter := false
	if i < len(rule) && rule[i] == '(' {
		end, ok := closingParen(rule, i+1)
		if !ok {
			return tok, 0, fmt.Errorf(`unclosed "(" in the converter arguments at offset %d`, i)
		}
		tok.args = rule[i+1 : end]
		i = end + 1
		if i >= len(rule) {
			return tok, 0, unclosed
		}
		if rule[i] != ':' {
			return tok, 0, fmt.Errorf(`expected ":" after the converter arguments at offset %d`, i)
		}
	}
	if i < len(rule) && rule[i] == ':' {
		hasConverter = true
		tok.converter = first
		if first == "" {
			return tok, 0, fmt.Errorf(`empty converter name at offset %d`, start)
		}
		i++
		j = scanIdent(rule, i)
		tok.name = rule[i:j]
		i = j
	} else {
		tok.name = first
	}
	if i >= len(rule) {
		return tok, 0, unclosed
	}
	if rule[i] != '>' {
		if strings.IndexByte(rule[i:], '>') < 0 {
			return tok, 0, unclosed
		}
		return tok, 0, fmt.Errorf("invalid character %q in the variable at offset %d (names are letters, digits and _)", rule[i], start)
	}
	if tok.name == "" {
		return tok, 0, fmt.Errorf("empty variable name at offset %d", start)
	}
	if c := tok.name[0]; '0' <= c && c <= '9' {
		return tok, 0, fmt.Errorf("variable name %q must not start with a digit", tok.name)
	}
	if hasConverter && '0' <= tok.converter[0] && tok.converter[0] <= '9' {
		return tok, 0, fmt.Errorf("converter name %q must not start with a digit", tok.converter)
	}
	return tok, i + 1, nil
}

// closingParen finds the ')' closing the arguments that start at s[i],
// skipping quoted text.
func closingParen(s string, i int) (int, bool) {
	var quote byte
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ')':
			return i, true
		}
	}
	return 0, false
}

// mergeSlashes replaces every run of slashes by one.
func mergeSlashes(s string) string {
	if !strings.Contains(s, "//") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && len(b) > 0 && b[len(b)-1] == '/' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// compile parses r, makes its converters, its parts for the index, its
// mux route and its builder.
func (m *URLMap) compile(r *Rule) error {
	if !strings.HasPrefix(r.Rule, "/") {
		return errors.New(`a rule must start with "/"`)
	}
	toks, err := parseRule(r.Rule)
	if err != nil {
		return err
	}
	for i := range toks {
		toks[i].text = mergeSlashes(toks[i].text)
	}
	if err := normalizeMethods(r); err != nil {
		return err
	}

	// The variables and their converters.
	r.vars = r.vars[:0]
	for _, tok := range toks {
		if tok.text != "" {
			continue
		}
		for _, v := range r.vars {
			if v.name == tok.name {
				return fmt.Errorf("variable name %q used twice", tok.name)
			}
		}
		v, err := m.makeVar(tok)
		if err != nil {
			return err
		}
		r.vars = append(r.vars, v)
	}

	// The mux template, the builder's trace and the index's parts.
	var tpl strings.Builder
	r.trace, r.muxBuild = nil, true
	vi := 0
	for _, tok := range toks {
		if tok.text != "" {
			if strings.ContainsAny(tok.text, "{}") {
				return errors.New(`literal "{" or "}" cannot be routed: gorilla/mux reads {…} as a variable`)
			}
			tpl.WriteString(tok.text)
			esc := escapePath(tok.text, true)
			r.muxBuild = r.muxBuild && esc == tok.text
			r.trace = append(r.trace, traceOp{text: esc, v: -1})
			continue
		}
		v := r.vars[vi]
		fmt.Fprintf(&tpl, "{%s:%s}", v.name, v.conv.Pattern())
		r.trace = append(r.trace, traceOp{v: vi})
		vi++
	}
	r.parts, r.staticPath = splitParts(toks, r.vars)
	r.segVars = len(r.vars) <= maxSegVars
	for _, p := range r.parts {
		if !p.static && (p.final || len(p.weight.args) != 1 || len(p.weight.statics) != 0) {
			r.segVars = false
		}
	}

	// The mux route: kept when matching needs it, else only checked, and
	// compiled again when first needed (see ruleRoute).
	rr := &ruleRoute{m: m, tpl: tpl.String()}
	keep := len(r.vars) > 0 && !r.segVars
	// A route of no router compiles a template as the map's router would
	// (it adds no configuration), and is garbage once checked.
	route := new(mux.Route)
	if keep {
		m.routerMu.Lock()
		route = m.router.NewRoute()
		m.routerMu.Unlock()
	}
	route, err = newRoute(route, rr.tpl)
	if err != nil {
		return err
	}
	names, _ := route.GetVarNames()
	if !slices.Equal(names, r.Arguments()) {
		return fmt.Errorf("gorilla/mux reads the template %q as variables %q", rr.tpl, names)
	}
	if keep {
		rr.route = route
	}
	r.route = rr

	// Building: the argument names, werkzeug's build order.
	seen := map[string]bool{}
	r.argNames = r.argNames[:0]
	for _, v := range r.vars {
		seen[v.name] = true
		r.argNames = append(r.argNames, v.name)
	}
	for k := range r.Defaults {
		if !seen[k] {
			r.argNames = append(r.argNames, k)
		}
	}
	sort.Strings(r.argNames)
	r.buildKey = [2]int{-len(r.argNames), -len(r.Defaults)}
	return nil
}

// makeVar makes the converter of a variable and checks its pattern.
func (m *URLMap) makeVar(tok ruleToken) (ruleVar, error) {
	name := tok.converter
	if name == "" {
		name = "default"
		if m.Converters[name] == nil {
			name = "string"
		}
	}
	factory := m.Converters[name]
	if factory == nil {
		return ruleVar{}, fmt.Errorf("variable %q: unknown converter %q", tok.name, name)
	}
	args, err := parseConverterArgs(tok.args)
	if err == nil {
		var conv Converter
		conv, err = factory(args)
		if err == nil && conv == nil {
			err = errors.New("the factory returned no converter")
		}
		if err == nil {
			pattern := conv.Pattern()
			re, cerr := m.anchored(pattern)
			switch {
			case pattern == "":
				err = errors.New("empty pattern")
			case cerr != nil:
				err = fmt.Errorf("pattern %q: %v", pattern, cerr)
			case re.NumSubexp() > 0:
				err = fmt.Errorf("pattern %q has a capturing group; use (?:…)", pattern)
			default:
				return ruleVar{name: tok.name, conv: conv, re: re}, nil
			}
		}
	}
	return ruleVar{}, fmt.Errorf("variable %q: converter %s(%s): %v", tok.name, name, tok.args, err)
}

// anchored returns pattern compiled as "^(?:pattern)$", shared by the
// map's variables with that pattern (a Regexp is safe for concurrent use).
func (m *URLMap) anchored(pattern string) (*regexp.Regexp, error) {
	if re := m.patterns[pattern]; re != nil {
		return re, nil
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return nil, err
	}
	if m.patterns == nil {
		m.patterns = make(map[string]*regexp.Regexp)
	}
	m.patterns[pattern] = re
	return re, nil
}

// newRoute compiles a template on blank, a new mux route, turning mux's
// refusals (errors, and its panic on capturing groups) into an error.
func newRoute(blank *mux.Route, tpl string) (route *mux.Route, err error) {
	defer func() {
		if p := recover(); p != nil {
			route, err = nil, fmt.Errorf("gorilla/mux refuses the template %q: %v", tpl, p)
		}
	}()
	route = blank.Path(tpl)
	if err := route.GetError(); err != nil {
		return nil, fmt.Errorf("gorilla/mux refuses the template %q: %v", tpl, err)
	}
	return route, nil
}

// normalizeMethods gives r.Methods its full, sorted set.
func normalizeMethods(r *Rule) error {
	in := r.Methods
	if len(in) == 0 {
		in = []string{"GET"}
	}
	var out []string
	for _, m := range in {
		m = strings.ToUpper(strings.TrimSpace(m))
		if m == "" || strings.ContainsAny(m, " ,\t") {
			return fmt.Errorf("invalid method %q", m)
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if slices.Contains(out, "GET") && !slices.Contains(out, "HEAD") {
		out = append(out, "HEAD")
	}
	if r.ProvideAutomaticOptions && !slices.Contains(out, "OPTIONS") {
		out = append(out, "OPTIONS")
	}
	sort.Strings(out)
	r.Methods = out
	return nil
}

// ---- matching ----

// Match finds the rule for a request: path is the percent-decoded
// PATH_INFO ("" counts as "/"), method the request method. It returns the
// rule and the view arguments: each variable converted by its converter
// (int, float64, UUID or string for the built-in ones) plus the rule's
// Defaults; the map is fresh for every call, and nil when the rule has
// neither variables nor defaults.
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
	return m.match(path, method, nil)
}

// match is Match, putting the view arguments in reuse when it is not nil.
func (m *URLMap) match(path, method string, reuse map[string]any) (*Rule, map[string]any, error) {
	if path == "" {
		path = "/"
	} else if path[0] != '/' {
		path = "/" + path
	}
	if method == "" {
		method = "GET"
	}
	if n := m.index.exactNode(path); n != nil {
		for _, r := range n.rules {
			if r.allows(method) {
				return matched(r, r.defaultArgs(reuse), method)
			}
		}
	}
	st := matchState{method: method, reuse: reuse}
	if r := st.walk(&m.index.root, path, 1); r != nil {
		return matched(r, st.args, method)
	}
	if st.redirect != "" {
		return nil, nil, redirectError(st.redirect)
	}
	if merged := mergeSlashes(path); merged != path {
		if r := st.walk(&m.index.root, merged, 1); r != nil {
			return nil, nil, redirectError(merged)
		}
		if st.redirect != "" {
			return nil, nil, redirectError(st.redirect)
		}
	}
	if allowed := st.allowed(); len(allowed) > 0 {
		return nil, nil, &HTTPError{
			Code:   405,
			Header: gateway.Headers{{Name: "Allow", Value: strings.Join(sortedSet(allowed), ", ")}},
		}
	}
	return nil, nil, &HTTPError{Code: 404}
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

// AllowedMethods returns the methods the rules matching path answer,
// sorted: the Allow header of an automatic OPTIONS response. It is empty
// when no rule matches the path.
func (m *URLMap) AllowedMethods(path string) []string {
	_, _, err := m.Match(path, "--")
	if he, ok := err.(*HTTPError); ok && he.Code == 405 {
		return strings.Split(he.Header.Get("Allow"), ", ")
	}
	return nil
}

func redirectError(location string) *HTTPError {
	return &HTTPError{Code: 308, Header: gateway.Headers{{Name: "Location", Value: location}}}
}

func sortedSet(list []string) []string {
	sort.Strings(list)
	return slices.Compact(list)
}

// ---- building ----

// Build builds the URL of endpoint for values: werkzeug's MapAdapter.build,
// the path and query string that url_for puts after the script root.
//
// Of the endpoint's rules, the first that can take the values is used,
// those with the most arguments first: every variable must be in values
// (or in the rule's Defaults), a value for a defaulted name must equal the
// default, the rule must answer method unless method is "" (GET is then
// preferred). Each variable is converted by its converter's ToURL, which
// percent-encodes it (a path keeps its slashes), and checked against the
// converter's pattern. Values the rule does not use, and that are not
// nil, make the query string, sorted by name; a slice gives the name once
// for each element.
//
//	m.Build("user", map[string]any{"id": 42, "tab": "posts"}, "") // "/user/42?tab=posts"
//
// The error is a *BuildError naming the endpoint and what is missing.
func (m *URLMap) Build(endpoint string, values map[string]any, method string) (string, error) {
	rules := m.byEndpoint[endpoint]
	if len(rules) == 0 {
		return "", &BuildError{Endpoint: endpoint, Values: values, Method: method, Suggestion: m.similarEndpoint(endpoint)}
	}
	var lastErr error
	try := func(method string) (string, bool) {
		for _, r := range rules {
			if !r.suitableFor(values, method) {
				continue
			}
			u, err := r.build(values)
			if err == nil {
				return u, true
			}
			lastErr = err
		}
		return "", false
	}
	if method == "" {
		if u, ok := try("GET"); ok {
			return u, nil
		}
	}
	if u, ok := try(method); ok {
		return u, nil
	}
	return "", buildError(endpoint, rules, values, method, lastErr)
}

// value returns values[name], a nil value counting as absent.
func value(values map[string]any, name string) (any, bool) {
	v, ok := values[name]
	return v, ok && v != nil
}

// suitableFor is werkzeug's Rule.suitable_for.
func (r *Rule) suitableFor(values map[string]any, method string) bool {
	if method != "" && !r.allows(method) {
		return false
	}
	for _, v := range r.vars {
		if _, ok := value(values, v.name); !ok {
			if _, ok := r.Defaults[v.name]; !ok {
				return false
			}
		}
	}
	for k, d := range r.Defaults {
		if v, ok := value(values, k); ok && !sameValue(v, d) {
			return false
		}
	}
	return true
}

// build builds r's URL for values, which suitableFor accepted.
func (r *Rule) build(values map[string]any) (string, error) {
	escaped := make([]string, len(r.vars))
	for i, v := range r.vars {
		val, ok := value(values, v.name)
		if !ok {
			val = r.Defaults[v.name]
		}
		s, err := v.conv.ToURL(val)
		if err != nil {
			return "", fmt.Errorf("value %v for %q: %w", val, v.name, err)
		}
		escaped[i] = s
	}
	path, built := "", false
	if r.muxBuild {
		// mux checks the values against their patterns, and the whole
		// path against the rule's regular expression.
		pairs := make([]string, 0, 2*len(r.vars))
		for i, v := range r.vars {
			pairs = append(pairs, v.name, escaped[i])
		}
		if u, err := r.route.get().URLPath(pairs...); err == nil {
			path, built = u.Path, true
		}
	}
	if !built {
		// What mux cannot do: static text that needs encoding, and a value
		// whose encoded form outgrows a length-limited pattern. Routing sees
		// decoded text, so check that.
		for i, v := range r.vars {
			dec, err := url.PathUnescape(escaped[i])
			if err != nil || !v.re.MatchString(dec) {
				return "", fmt.Errorf("value %q for %q does not match the pattern %s", escaped[i], v.name, v.conv.Pattern())
			}
		}
		var b strings.Builder
		for _, op := range r.trace {
			if op.v >= 0 {
				b.WriteString(escaped[op.v])
			} else {
				b.WriteString(op.text)
			}
		}
		path = b.String()
	}
	return path + r.query(values), nil
}

// query encodes the values r does not use: "?a=1&b=x", or "".
func (r *Rule) query(values map[string]any) string {
	var keys []string
	for k, v := range values {
		if v != nil && !r.isArgument(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, s := range queryTexts(values[k]) {
			if b.Len() == 0 {
				b.WriteByte('?')
			} else {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(s))
		}
	}
	return b.String()
}

func (r *Rule) isArgument(name string) bool {
	_, found := slices.BinarySearch(r.argNames, name)
	return found
}

// queryTexts is the text of a query value: one per element of a slice.
func queryTexts(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []byte:
		return []string{string(v)}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return []string{toText(v)}
	}
	out := make([]string, 0, rv.Len())
	for i := 0; i < rv.Len(); i++ {
		if e := rv.Index(i).Interface(); e != nil {
			out = append(out, toText(e))
		}
	}
	return out
}

// sameValue compares a given value with a rule default as Python would:
// numbers by value whatever their type.
func sameValue(a, b any) bool {
	if fa, err := toFloat(a); err == nil {
		if _, isText := a.(string); !isText {
			if fb, err := toFloat(b); err == nil {
				if _, isText := b.(string); !isText {
					return fa == fb
				}
			}
		}
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta == tb && ta.Comparable() {
		defer func() { recover() }() // an interface field holding a slice
		return a == b
	}
	return reflect.DeepEqual(a, b)
}

// BuildError is the error of URLMap.Build (and URLFor): no rule of the
// endpoint can be built with the values. Its message names the endpoint and
// says what is missing, as werkzeug's BuildError does.
type BuildError struct {
	Endpoint string         // the endpoint asked for
	Values   map[string]any // the values given
	Method   string         // the method asked for, if any
	// Missing are the variables the closest rule of the endpoint needs and
	// the values lack.
	Missing []string
	// Methods are the methods the endpoint's rules answer, when none
	// answers Method.
	Methods []string
	// Suggestion is an endpoint with a similar name, when Endpoint is
	// unknown.
	Suggestion string
	// Err is why the closest rule refused the values, when they were all
	// there: a converter's error, a clash with a rule default.
	Err error
}

// Error describes the failure: `vial: could not build url for endpoint
// "user" with values ["tab"]. Did you forget to specify values ["id"]?`.
func (e *BuildError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vial: could not build url for endpoint %q", e.Endpoint)
	if e.Method != "" {
		fmt.Fprintf(&b, " (%q)", e.Method)
	}
	if len(e.Values) > 0 {
		fmt.Fprintf(&b, " with values %s", quoteList(slices.Sorted(maps.Keys(e.Values))))
	}
	switch {
	case e.Suggestion != "":
		fmt.Fprintf(&b, ": no rule has this endpoint. Did you mean %q instead?", e.Suggestion)
	case e.Methods == nil && e.Missing == nil && e.Err == nil:
		b.WriteString(": no rule has this endpoint.")
	default:
		b.WriteByte('.')
	}
	if e.Methods != nil {
		fmt.Fprintf(&b, " Did you mean to use methods %s?", quoteList(e.Methods))
	}
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, " Did you forget to specify values %s?", quoteList(e.Missing))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " %v.", e.Err)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *BuildError) Unwrap() error { return e.Err }

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// buildError explains why no rule of a known endpoint could be built,
// from the rule closest to the values: one answering the method if any,
// then the fewest missing variables.
func buildError(endpoint string, rules []*Rule, values map[string]any, method string, buildErr error) *BuildError {
	e := &BuildError{Endpoint: endpoint, Values: values, Method: method}
	candidates := rules
	if method != "" {
		var ok []*Rule
		var all []string
		for _, r := range rules {
			all = append(all, r.Methods...)
			if r.allows(method) {
				ok = append(ok, r)
			}
		}
		if len(ok) == 0 {
			e.Methods = sortedSet(all)
		} else {
			candidates = ok
		}
	}
	var best *Rule
	for _, r := range candidates {
		missing := r.missing(values)
		if best == nil || len(missing) < len(e.Missing) {
			best, e.Missing = r, missing
		}
	}
	if len(e.Missing) == 0 && e.Methods == nil {
		e.Missing = nil
		for k, d := range best.Defaults {
			if v, ok := value(values, k); ok && !sameValue(v, d) {
				e.Err = fmt.Errorf("value %v for %q differs from the rule's default %v (rule %q)", v, k, d, best.Rule)
				return e
			}
		}
		e.Err = buildErr
	}
	return e
}

// missing lists r's variables that values lacks and no default gives.
func (r *Rule) missing(values map[string]any) []string {
	var out []string
	for _, v := range r.vars {
		if _, ok := value(values, v.name); !ok {
			if _, ok := r.Defaults[v.name]; !ok {
				out = append(out, v.name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// similarEndpoint returns the known endpoint closest to name, if it is
// close enough to be a likely typo.
func (m *URLMap) similarEndpoint(name string) string {
	best, bestScore := "", 0.0
	for ep := range m.byEndpoint {
		longest := max(len(ep), len(name))
		if longest == 0 {
			continue
		}
		score := 1 - float64(editDistance(strings.ToLower(ep), strings.ToLower(name)))/float64(longest)
		if score > bestScore || score == bestScore && ep < best {
			best, bestScore = ep, score
		}
	}
	if bestScore < 0.5 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
