package vial

// Rules, as werkzeug's rules.py has them: parsing a rule string
// ("/user/<int:id>") into static text and variables, and compiling it into
// what the map needs: the variables' converters, the parts the index
// follows, the gorilla/mux route and the builder's trace.

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gorilla/mux"
)

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

// compile parses r and makes what the map needs of it: its converters,
// its parts for the index, its mux route and its builder, each step from
// what the ones before made.
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
	if err := m.makeVars(r, toks); err != nil {
		return err
	}
	tpl, err := r.makeTrace(toks)
	if err != nil {
		return err
	}
	r.parts, r.staticPath = splitParts(toks, r.vars)
	r.segVars = wholeSegmentVars(r)
	if err := m.makeRoute(r, tpl); err != nil {
		return err
	}
	if err := m.compileSubdomain(r); err != nil {
		return err
	}
	r.setArgNames()
	return nil
}

// ruleSubdomain is a rule's compiled Subdomain: its variables, its part
// for the index (werkzeug parses the subdomain as one more part of the
// rule, matched before the path's) and its builder's trace.
type ruleSubdomain struct {
	vars    []ruleVar
	part    rulePart
	capture string    // with variables: the anchored expression, a group for each
	trace   []traceOp // static texts and variables, for building the host
}

// compileSubdomain compiles r.Subdomain; the default one, "", needs
// nothing.
func (m *URLMap) compileSubdomain(r *Rule) error {
	r.sub = nil
	if r.Subdomain == "" {
		return nil
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("subdomain %q: "+format, append([]any{r.Subdomain}, args...)...)
	}
	toks, err := parseRule(r.Subdomain)
	if err != nil {
		return fail("%v", err)
	}
	sub := &ruleSubdomain{}
	var capture strings.Builder
	for _, tok := range toks {
		if tok.text != "" {
			if strings.ContainsAny(tok.text, "/:") || strings.ToLower(tok.text) != tok.text {
				return fail("a subdomain is lower-case host text, without \"/\" or \":\"")
			}
			capture.WriteString(regexp.QuoteMeta(tok.text))
			sub.trace = append(sub.trace, traceOp{text: tok.text, v: -1})
			continue
		}
		v, err := m.makeVar(tok)
		if err != nil {
			return fail("%v", err)
		}
		if slices.ContainsFunc(sub.vars, func(o ruleVar) bool { return o.name == v.name }) ||
			slices.ContainsFunc(r.vars, func(o ruleVar) bool { return o.name == v.name }) {
			return fail("variable name %q used twice", v.name)
		}
		capture.WriteString("(" + v.conv.Pattern() + ")")
		sub.trace = append(sub.trace, traceOp{v: len(sub.vars)})
		sub.vars = append(sub.vars, v)
	}
	parts, _ := splitParts(append([]ruleToken{{text: "/"}}, toks...), sub.vars)
	if len(parts) != 1 || parts[0].final {
		return fail("a subdomain variable must not match \"/\"")
	}
	sub.part = parts[0]
	if !sub.part.static {
		sub.capture = "^" + capture.String() + "$"
	}
	r.sub = sub
	return nil
}

// makeVars makes r.vars, the variables of toks and their converters.
func (m *URLMap) makeVars(r *Rule, toks []ruleToken) error {
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
	return nil
}

// makeTrace makes r's trace for the builder, and returns r's mux
// template: the rule in mux syntax, "/user/<int:id>" is "/user/{id:\d+}".
func (r *Rule) makeTrace(toks []ruleToken) (string, error) {
	var tpl strings.Builder
	r.trace, r.muxBuild = nil, true
	vi := 0
	for _, tok := range toks {
		if tok.text != "" {
			if strings.ContainsAny(tok.text, "{}") {
				return "", errors.New(`literal "{" or "}" cannot be routed: gorilla/mux reads {…} as a variable`)
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
	return tpl.String(), nil
}

// wholeSegmentVars reports whether each of r's variables, few enough for
// the walk to keep their texts, is a path segment of its own (see
// Rule.segVars).
func wholeSegmentVars(r *Rule) bool {
	if len(r.vars) > maxSegVars {
		return false
	}
	for _, p := range r.parts {
		if !p.static && (p.final || len(p.weight.args) != 1 || len(p.weight.statics) != 0) {
			return false
		}
	}
	return true
}

// makeRoute gives r its mux route for the template tpl: kept when
// matching needs it, else only checked, and compiled again when first
// needed (see ruleRoute).
func (m *URLMap) makeRoute(r *Rule, tpl string) error {
	rr := &ruleRoute{m: m, tpl: tpl}
	keep := len(r.vars) > 0 && !r.segVars
	// A route of no router compiles a template as the map's router would
	// (it adds no configuration), and is garbage once checked.
	route := new(mux.Route)
	if keep {
		m.routerMu.Lock()
		route = m.router.NewRoute()
		m.routerMu.Unlock()
	}
	route, err := newRoute(route, tpl)
	if err != nil {
		return err
	}
	names, _ := route.GetVarNames()
	if !slices.Equal(names, r.pathArguments()) {
		return fmt.Errorf("gorilla/mux reads the template %q as variables %q", tpl, names)
	}
	if keep {
		rr.route = route
	}
	r.route = rr
	return nil
}

// setArgNames sets what building needs of r besides its trace: the names
// of its variables and defaults, and werkzeug's build order.
func (r *Rule) setArgNames() {
	seen := map[string]bool{}
	r.argNames = r.argNames[:0]
	for _, name := range r.Arguments() {
		seen[name] = true
		r.argNames = append(r.argNames, name)
	}
	for k := range r.Defaults {
		if !seen[k] {
			r.argNames = append(r.argNames, k)
		}
	}
	sort.Strings(r.argNames)
	r.buildKey = [2]int{-len(r.argNames), -len(r.Defaults)}
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

// ruleRoute is a rule's gorilla/mux route, compiled when first needed.
//
// Compiled regular expressions are most of a routing table's memory, a few
// kilobytes a rule, and the garbage collector scans that memory in every
// cycle: on a table of a few hundred rules, a cost of every request. Yet
// the index matches a rule without variables, or one whose variables are
// whole segments (segVars), on its own. Such a rule's template is checked
// by mux when it is added, then its route is compiled again only when
// something needs it: URL building, a 405's Allow list. The other rules
// need their route to match, and keep the one compiled when they were
// added.
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
