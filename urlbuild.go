package vial

// URL building, the building half of werkzeug's map.py and Flask's
// url_for: App.URLFor puts the script root, host and anchor around the
// path and query string that URLMap.Build makes from one of the
// endpoint's rules, and BuildError says why no rule would do.

import (
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// A URLOption changes how [App.URLFor] builds a URL; pass it among the
// values.
type URLOption struct {
	external *bool
	anchor   string
	scheme   string
	method   string
}

// External makes URLFor build an absolute URL (scheme and host).
func External(external bool) URLOption { return URLOption{external: &external} }

// Anchor appends "#anchor" to the URL.
func Anchor(anchor string) URLOption { return URLOption{anchor: anchor} }

// Scheme builds an absolute URL with this scheme.
func Scheme(scheme string) URLOption { return URLOption{scheme: scheme} }

// ForMethod picks the endpoint's rule that allows method.
func ForMethod(method string) URLOption { return URLOption{method: strings.ToUpper(method)} }

// urlDefaultsFor returns the URL defaults functions for endpoint: the
// App's, then those of the blueprints its rules belong to, outermost first.
func (a *App) urlDefaultsFor(endpoint string) []URLValueFunc {
	bp := ""
	if rules := a.URLMap.byEndpoint[endpoint]; len(rules) > 0 {
		bp = rules[0].blueprint
	}
	return a.blueprintScope(bp).urlDefaults
}

// URLFor builds the URL of endpoint: Flask's url_for. args are name, value
// pairs for the rule's variables; values the rule does not use go to the
// query string; [External], [Anchor], [Scheme] and [ForMethod] may be mixed
// in.
//
//	app.URLFor("user", "id", 42, "tab", "posts") // "/user/42?tab=posts"
//
// Outside a request the URL is relative to APPLICATION_ROOT, and an external
// one needs SERVER_NAME. Building fails, with a panic whose value is a
// *[BuildError] naming the endpoint and what is missing, when no rule of the
// endpoint fits the values: a programming error, like a bad template. Use
// [App.BuildURL] to get the error instead.
func (a *App) URLFor(endpoint string, args ...any) string {
	u, err := a.buildURL(nil, endpoint, args)
	if err != nil {
		panic(err)
	}
	return u
}

// BuildURL is [App.URLFor] returning the error instead of panicking.
func (a *App) BuildURL(endpoint string, args ...any) (string, error) {
	return a.buildURL(nil, endpoint, args)
}

// buildURL is URLFor for r, the request being served, or outside a
// request when r is nil.
func (a *App) buildURL(r *Request, endpoint string, args []any) (string, error) {
	if strings.HasPrefix(endpoint, ".") {
		// Relative to the request's blueprint, as Flask's url_for.
		if r != nil && r.Blueprint != "" {
			endpoint = r.Blueprint + endpoint
		} else {
			endpoint = endpoint[1:]
		}
	}
	values, opt, err := urlArgs(endpoint, args)
	if err != nil {
		return "", err
	}
	for _, fn := range a.urlDefaultsFor(endpoint) {
		fn(r, endpoint, values)
	}
	rule, path, err := a.URLMap.build(endpoint, values, opt.method)
	if err != nil {
		return "", err
	}
	root := strings.TrimSuffix(a.Config.String("APPLICATION_ROOT"), "/")
	if r != nil {
		root = r.ScriptRoot
	}
	u := root + path
	if host, err := a.subdomainHost(r, rule, values, opt.scheme); err != nil || host != "" {
		if err != nil {
			return "", err
		}
		u = host + u
	} else if opt.scheme != "" || (opt.external != nil && *opt.external) {
		host, err := a.urlHost(r, endpoint, opt.scheme)
		if err != nil {
			return "", err
		}
		u = host + u
	}
	if opt.anchor != "" {
		u += "#" + (&url.URL{Fragment: opt.anchor}).EscapedFragment()
	}
	return u, nil
}

// urlArgs parts URLFor's arguments into the values for the rule and the
// options, an option given later overriding one given before.
func urlArgs(endpoint string, args []any) (map[string]any, URLOption, error) {
	values := make(map[string]any, len(args)/2)
	var opt URLOption
	for i := 0; i < len(args); i++ {
		if o, ok := args[i].(URLOption); ok {
			opt.override(o)
			continue
		}
		key, ok := args[i].(string)
		if !ok || i+1 >= len(args) {
			return nil, opt, fmt.Errorf("vial: URLFor(%q): arguments are name, value pairs; %v has no pair", endpoint, args[i])
		}
		values[key] = args[i+1]
		i++
	}
	return values, opt, nil
}

// override sets in opt what o sets.
func (opt *URLOption) override(o URLOption) {
	if o.external != nil {
		opt.external = o.external
	}
	if o.anchor != "" {
		opt.anchor = o.anchor
	}
	if o.scheme != "" {
		opt.scheme = o.scheme
	}
	if o.method != "" {
		opt.method = o.method
	}
}

// urlHost is the scheme and host of an external URL: the request's, or
// outside a request SERVER_NAME with PREFERRED_URL_SCHEME; scheme, when
// not "", replaces either's scheme.
func (a *App) urlHost(r *Request, endpoint, scheme string) (string, error) {
	if r != nil {
		host := r.HostURL()
		if scheme != "" {
			host = scheme + host[strings.Index(host, "://"):]
		}
		return host, nil
	}
	name := a.Config.String("SERVER_NAME")
	if name == "" {
		return "", fmt.Errorf("vial: URLFor(%q): an external URL outside a request needs SERVER_NAME in the config", endpoint)
	}
	if scheme == "" {
		scheme = a.Config.String("PREFERRED_URL_SCHEME")
	}
	return scheme + "://" + name, nil
}

// subdomainHost is the scheme and host of rule's URL when its subdomain
// is not the one of r (or, outside a request, not the default one), as
// werkzeug's MapAdapter.build makes such a URL external:
// scheme://subdomain.SERVER_NAME, the subdomain's variables from values;
// "" when the subdomains agree. The scheme is scheme when not "", else
// r's, else PREFERRED_URL_SCHEME.
func (a *App) subdomainHost(r *Request, rule *Rule, values map[string]any, scheme string) (string, error) {
	if rule.sub == nil && (r == nil || !a.subdomainMatching()) {
		return "", nil // the default subdomain, and so is the request's
	}
	want, err := rule.buildSubdomain(values)
	if err != nil {
		return "", &BuildError{Endpoint: rule.Endpoint, Values: values, Err: err}
	}
	cur := ""
	if r != nil {
		cur = a.requestSubdomain(r)
	}
	if want == cur {
		return "", nil
	}
	name := a.Config.String("SERVER_NAME")
	if name == "" {
		return "", &BuildError{Endpoint: rule.Endpoint, Values: values,
			Err: fmt.Errorf("its rule's subdomain %q is not the current one %q, and a URL for another subdomain needs SERVER_NAME in the config", want, cur)}
	}
	if want != "" {
		name = want + "." + name
	}
	switch {
	case scheme != "":
	case r != nil && r.Environ.URLScheme != "":
		scheme = r.Environ.URLScheme
	default:
		scheme = a.Config.String("PREFERRED_URL_SCHEME")
	}
	return scheme + "://" + name, nil
}

// buildSubdomain builds r's subdomain for values, which suitableFor
// accepted: "" for the default one.
func (r *Rule) buildSubdomain(values map[string]any) (string, error) {
	if r.sub == nil {
		return "", nil
	}
	var b strings.Builder
	for _, op := range r.sub.trace {
		if op.v < 0 {
			b.WriteString(op.text)
			continue
		}
		v := r.sub.vars[op.v]
		s, err := r.varText(v, values)
		if err != nil {
			return "", err
		}
		if !v.re.MatchString(s) {
			return "", fmt.Errorf("value %q for %q does not match the pattern %s", s, v.name, v.conv.Pattern())
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// ---- the map ----

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
// A rule's Subdomain is not part of the path: its variables are taken
// from values like the path's (they do not go to the query string), and
// App.URLFor puts the subdomain in the URL's host.
//
// The error is a *BuildError naming the endpoint and what is missing.
func (m *URLMap) Build(endpoint string, values map[string]any, method string) (string, error) {
	_, u, err := m.build(endpoint, values, method)
	return u, err
}

// build is Build, returning the rule built too.
func (m *URLMap) build(endpoint string, values map[string]any, method string) (*Rule, string, error) {
	rules := m.byEndpoint[endpoint]
	if len(rules) == 0 {
		return nil, "", &BuildError{Endpoint: endpoint, Values: values, Method: method, Suggestion: m.similarEndpoint(endpoint)}
	}
	var lastErr error
	try := func(method string) (*Rule, string) {
		for _, r := range rules {
			if !r.suitableFor(values, method) {
				continue
			}
			u, err := r.build(values)
			if err == nil {
				return r, u
			}
			lastErr = err
		}
		return nil, ""
	}
	if method == "" {
		if r, u := try("GET"); r != nil {
			return r, u, nil
		}
	}
	if r, u := try(method); r != nil {
		return r, u, nil
	}
	return nil, "", buildError(endpoint, rules, values, method, lastErr)
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
	if !r.hasValues(r.vars, values) || r.sub != nil && !r.hasValues(r.sub.vars, values) {
		return false
	}
	for k, d := range r.Defaults {
		if v, ok := value(values, k); ok && !sameValue(v, d) {
			return false
		}
	}
	return true
}

// hasValues reports whether values, or r's defaults, give each of vars.
func (r *Rule) hasValues(vars []ruleVar, values map[string]any) bool {
	for _, v := range vars {
		if _, ok := value(values, v.name); !ok {
			if _, ok := r.Defaults[v.name]; !ok {
				return false
			}
		}
	}
	return true
}

// varText is the text of variable v in r's URL for values: its value, or
// the rule's default, through its converter.
func (r *Rule) varText(v ruleVar, values map[string]any) (string, error) {
	val, ok := value(values, v.name)
	if !ok {
		val = r.Defaults[v.name]
	}
	s, err := v.conv.ToURL(val)
	if err != nil {
		return "", fmt.Errorf("value %v for %q: %w", val, v.name, err)
	}
	return s, nil
}

// build builds r's URL for values, which suitableFor accepted.
func (r *Rule) build(values map[string]any) (string, error) {
	escaped := make([]string, len(r.vars))
	for i, v := range r.vars {
		s, err := r.varText(v, values)
		if err != nil {
			return "", err
		}
		escaped[i] = s
		// mux checks the value it is given, the encoded one, so an
		// encoded value is checked here as routing will see it.
		if !r.muxBuild || strings.IndexByte(s, '%') >= 0 {
			if err := v.check(s); err != nil {
				return "", err
			}
		}
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
		// whose encoded form outgrows a length-limited pattern.
		for i, v := range r.vars {
			if err := v.check(escaped[i]); err != nil {
				return "", err
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

// check reports whether routing will take the encoded value s for v: its
// decoded text must match v's pattern (a length-limited one would take " "
// as "%20", three characters). An encoded "/" stays encoded: a segment's
// value may hold one, which url_for encodes rather than split the segment
// (a deliberate difference from werkzeug, which leaves it as "/").
func (v ruleVar) check(s string) error {
	dec, err := url.PathUnescape(strings.ReplaceAll(s, "%2F", "%252F"))
	if err != nil || !v.re.MatchString(dec) {
		return fmt.Errorf("value %q for %q does not match the pattern %s", s, v.name, v.conv.Pattern())
	}
	return nil
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
	check := func(vars []ruleVar) {
		for _, v := range vars {
			if _, ok := value(values, v.name); !ok {
				if _, ok := r.Defaults[v.name]; !ok {
					out = append(out, v.name)
				}
			}
		}
	}
	if r.sub != nil {
		check(r.sub.vars)
	}
	check(r.vars)
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
