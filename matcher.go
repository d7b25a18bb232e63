package vial

// The matcher: werkzeug's StateMachineMatcher as an index in front of
// gorilla/mux. Rules are cut at their slashes into parts; the parts make a
// tree whose edges are the static segments (a map) and the dynamic ones
// (a list in werkzeug's weight order). A request path is walked depth
// first, static edges before dynamic ones, so the first rule reached is
// the one werkzeug would pick, and only the rules that can match are ever
// tried. A rule reached through static edges alone is found by one map
// lookup of the whole path; a rule whose variables are whole segments
// takes their texts from the walk (Rule.segVars); any other rule with
// variables is confirmed, and its variables extracted, by its mux route.

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gorilla/mux"
)

// rulePart is one part of a rule: the text between two slashes, or, from a
// variable whose converter matches slashes (path), the rest of the rule.
type rulePart struct {
	static   bool
	content  string // the segment when static, else its regular expression (unanchored)
	final    bool   // matches the rest of the path, slashes included
	suffixed bool   // final, and the rule ends in "/": matched without that slash
	weight   partWeight
}

// partWeight orders the dynamic parts at one place: werkzeug's Weighting.
// More static pieces first, longer ones first, then more variables first,
// then lighter converters first.
type partWeight struct {
	statics [][2]int // (index, -length) of each static piece
	args    []int    // the converters' weights
}

func (w partWeight) compare(o partWeight) int {
	if c := len(o.statics) - len(w.statics); c != 0 {
		return c
	}
	for i := 0; i < len(w.statics) && i < len(o.statics); i++ {
		for k := 0; k < 2; k++ {
			if c := w.statics[i][k] - o.statics[i][k]; c != 0 {
				return c
			}
		}
	}
	if c := len(o.args) - len(w.args); c != 0 {
		return c
	}
	for i := 0; i < len(w.args) && i < len(o.args); i++ {
		if c := w.args[i] - o.args[i]; c != 0 {
			return c
		}
	}
	return 0
}

func (p rulePart) equal(o rulePart) bool {
	return p.static == o.static && p.content == o.content && p.final == o.final &&
		p.suffixed == o.suffixed && p.weight.compare(o.weight) == 0
}

// splitParts cuts a parsed rule into its parts, as werkzeug's _parse_rule
// does, and returns the rule's whole path when all parts are static.
func splitParts(toks []ruleToken, vars []ruleVar) (parts []rulePart, staticPath string) {
	ps := partSplitter{static: true}
	vi := 0
	for ti, tok := range toks {
		if tok.text == "" {
			ps.addVar(vars[vi])
			vi++
			continue
		}
		text := tok.text
		if ti == 0 {
			text = text[1:] // the leading slash: parts are what follows it
		}
		ps.addText(text)
	}
	ps.finish()
	return ps.parts, staticPathOf(ps.parts)
}

// partSplitter is splitParts at work: the parts cut so far, and the one
// being written.
type partSplitter struct {
	parts   []rulePart
	content strings.Builder // the part's segment, or its regular expression once a variable is in it
	static  bool            // no variable in the part yet
	final   bool            // a variable in the part matches slashes
	w       partWeight
}

// emit ends the part being written and starts the next.
func (ps *partSplitter) emit(suffixed bool) {
	ps.parts = append(ps.parts, rulePart{static: ps.static, content: ps.content.String(), final: ps.final, suffixed: suffixed, weight: ps.w})
	ps.content.Reset()
	ps.static, ps.final, ps.w = true, false, partWeight{}
}

// addVar adds a variable to the part: the part becomes a regular
// expression, its static text quoted.
func (ps *partSplitter) addVar(v ruleVar) {
	if ps.static {
		s := ps.content.String()
		ps.content.Reset()
		ps.content.WriteString(regexp.QuoteMeta(s))
		ps.static = false
	}
	ps.content.WriteString("(?:" + v.conv.Pattern() + ")")
	ps.final = ps.final || patternMatchesSlash(v.conv.Pattern())
	ps.w.args = append(ps.w.args, converterWeight(v.conv))
}

// addText adds static text, ending a part at each slash unless a variable
// of the part matches slashes: that part takes the rest of the rule.
func (ps *partSplitter) addText(text string) {
	for {
		piece, rest, slash := strings.Cut(text, "/")
		if piece != "" {
			ps.w.statics = append(ps.w.statics, [2]int{len(ps.w.statics), -len(piece)})
			if ps.static {
				ps.content.WriteString(piece)
			} else {
				ps.content.WriteString(regexp.QuoteMeta(piece))
			}
		}
		if !slash {
			return
		}
		if ps.final {
			ps.content.WriteByte('/')
		} else {
			ps.emit(false)
		}
		text = rest
	}
}

// finish ends the last part. A final part ending in "/" is matched
// without that slash, and an empty static part follows it, as a rule
// ending in "/" has.
func (ps *partSplitter) finish() {
	if ps.final && strings.HasSuffix(ps.content.String(), "/") {
		s := ps.content.String()
		ps.content.Reset()
		ps.content.WriteString(s[:len(s)-1])
		ps.emit(true)
		ps.parts = append(ps.parts, rulePart{static: true})
		return
	}
	ps.emit(false)
}

// staticPathOf returns the path of a rule cut into parts when all are
// static, else "".
func staticPathOf(parts []rulePart) string {
	segs := make([]string, len(parts))
	for i, p := range parts {
		if !p.static {
			return ""
		}
		segs[i] = p.content
	}
	return "/" + strings.Join(segs, "/")
}

// matcher is the index: a tree of nodes, and the nodes of the rules that
// have no variable by their whole path.
type matcher struct {
	root  node
	exact map[string]*node
	// The last bytes of exact's paths, a bit each: a path whose last byte
	// is not among them (most paths ending in a variable, an id) cannot be
	// in exact, and is not hashed for nothing.
	exactLast [4]uint64
}

// exactNode returns the node of the rules without variables whose path is
// path, or nil.
func (mt *matcher) exactNode(path string) *node {
	if c := path[len(path)-1]; mt.exactLast[c>>6]&(1<<(c&63)) == 0 {
		return nil
	}
	return mt.exact[path]
}

// node is a state of the matcher: werkzeug's State.
type node struct {
	static  children // by segment
	dynamic []*edge  // in weight order
	rules   []*Rule  // the rules ending here, in registration order
	depth   int      // the dynamic edges from the root to here
}

// children are a node's static transitions, by segment: a short list
// while there are few, a map once there are many. Most nodes have one or
// two, and comparing a segment with each is cheaper than hashing it, and
// lighter on the heap the garbage collector scans.
type children struct {
	list []staticEdge
	m    map[string]*node // instead of list, past maxChildList
}

type staticEdge struct {
	seg   string
	child *node
}

const maxChildList = 8

func (c *children) get(seg string) *node {
	if c.m != nil {
		return c.m[seg]
	}
	for i := range c.list {
		if c.list[i].seg == seg {
			return c.list[i].child
		}
	}
	return nil
}

// add adds a transition for a segment that has none yet.
func (c *children) add(seg string, child *node) {
	if c.m == nil && len(c.list) < maxChildList {
		c.list = append(c.list, staticEdge{seg, child})
		return
	}
	if c.m == nil {
		c.m = make(map[string]*node, 2*maxChildList)
		for _, e := range c.list {
			c.m[e.seg] = e.child
		}
		c.list = nil
	}
	c.m[seg] = child
}

// edge is a dynamic transition.
type edge struct {
	part  rulePart
	kind  segKind
	re    *regexp.Regexp // the part's expression, anchored
	child *node
}

// segKind picks a test cheaper than the regular expression for the most
// common one-variable segments.
type segKind uint8

const (
	segRegexp       segKind = iota
	segNonEmpty             // string: [^/]{1,} on a segment
	segDigits               // int: \d+
	segSignedDigits         // int(signed=True): -?\d+
)

func (e *edge) matches(s string) bool {
	switch e.kind {
	case segNonEmpty:
		return s != ""
	case segSignedDigits:
		if s != "" && s[0] == '-' {
			s = s[1:]
		}
		fallthrough
	case segDigits:
		if s == "" {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	return e.re.MatchString(s)
}

// newSharedEdge makes the edge for p, its expression from anchored: the
// index passes URLMap.anchored, so that the edges with the same text (most
// of a table's: a string or an int segment) share one compiled expression.
func newSharedEdge(p rulePart, anchored func(pattern string) (*regexp.Regexp, error)) *edge {
	re, err := anchored(p.content)
	if err != nil {
		// The rule's patterns compiled, and the rest is quoted text.
		panic(fmt.Sprintf("vial: the index cannot compile %q: %v", p.content, err))
	}
	e := &edge{part: p, child: &node{}, re: re}
	if !p.final {
		switch p.content {
		case `(?:[^/]{1,})`:
			e.kind = segNonEmpty
		case `(?:\d+)`:
			e.kind = segDigits
		case `(?:-?\d+)`:
			e.kind = segSignedDigits
		}
	}
	return e
}

// insert adds a compiled rule to the index; anchored compiles the
// expressions of its new edges (see newSharedEdge).
func (mt *matcher) insert(r *Rule, anchored func(string) (*regexp.Regexp, error)) {
	n := &mt.root
	for _, p := range r.parts {
		if p.static {
			c := n.static.get(p.content)
			if c == nil {
				c = &node{depth: n.depth}
				n.static.add(p.content, c)
			}
			n = c
			continue
		}
		var next *node
		for _, e := range n.dynamic {
			if e.part.equal(p) {
				next = e.child
				break
			}
		}
		if next == nil {
			// After every edge of the same or a lower weight: a stable sort.
			i := 0
			for i < len(n.dynamic) && n.dynamic[i].part.weight.compare(p.weight) <= 0 {
				i++
			}
			e := newSharedEdge(p, anchored)
			e.child.depth = n.depth + 1
			n.dynamic = slices.Insert(n.dynamic, i, e)
			next = e.child
		}
		n = next
	}
	n.rules = append(n.rules, r)
	if r.staticPath != "" {
		mt.exact[r.staticPath] = n
		c := r.staticPath[len(r.staticPath)-1]
		mt.exactLast[c>>6] |= 1 << (c & 63)
	}
}

// subdomains are the indexes of the rules with a subdomain, werkzeug's
// first transition: the request's subdomain is matched against the static
// subdomains (a map), then against those with variables, in weight order,
// and the path is walked in the index of each that matches, until one
// finds a rule. The default subdomain's rules are in URLMap.index.
type subdomains struct {
	static  map[string]*matcher
	dynamic []*subdomainEdge
}

// subdomainEdge is the index of the rules whose subdomain has variables,
// all of the same pattern.
type subdomainEdge struct {
	part  rulePart
	re    *regexp.Regexp // anchored, a group for each variable
	index matcher
}

// invalidSubdomain is the subdomain of a request whose host is not under
// SERVER_NAME, werkzeug's "<invalid>": no rule matches it.
const invalidSubdomain = "<invalid>"

// indexFor returns the index r goes in, making it if needed.
func (m *URLMap) indexFor(r *Rule) *matcher {
	if r.sub == nil {
		return &m.index
	}
	if m.subs == nil {
		m.subs = &subdomains{static: make(map[string]*matcher)}
	}
	p := r.sub.part
	if p.static {
		idx := m.subs.static[p.content]
		if idx == nil {
			idx = &matcher{exact: make(map[string]*node)}
			m.subs.static[p.content] = idx
		}
		return idx
	}
	for _, e := range m.subs.dynamic {
		if e.part.equal(p) {
			return &e.index
		}
	}
	// After every edge of the same or a lower weight, as the path's.
	i := 0
	for i < len(m.subs.dynamic) && m.subs.dynamic[i].part.weight.compare(p.weight) <= 0 {
		i++
	}
	e := &subdomainEdge{part: p, re: regexp.MustCompile(r.sub.capture), index: matcher{exact: make(map[string]*node)}}
	m.subs.dynamic = slices.Insert(m.subs.dynamic, i, e)
	return &e.index
}

// find returns the first rule of subdomain sub that matches path and
// st's method, in werkzeug's order, or nil; st.redirect is set when the
// path needs its trailing slash.
func (m *URLMap) find(st *matchState, sub, path string) *Rule {
	if sub == "" {
		// No exact lookup: matchIn has made it.
		if r := st.walk(&m.index.root, path, 1); r != nil || st.redirect != "" || m.subs == nil {
			return r
		}
	} else {
		if m.subs == nil || sub == invalidSubdomain {
			return nil
		}
		if idx := m.subs.static[sub]; idx != nil {
			if r := st.search(idx, path); r != nil || st.redirect != "" {
				return r
			}
		}
	}
	for _, e := range m.subs.dynamic {
		texts := e.re.FindStringSubmatch(sub)
		if texts == nil {
			continue
		}
		st.subTexts = texts[1:]
		if r := st.search(&e.index, path); r != nil || st.redirect != "" {
			return r
		}
	}
	st.subTexts = nil
	return nil
}

// search returns the first rule of idx that matches path and st's
// method: one without variables by the whole path, else by a walk.
func (st *matchState) search(idx *matcher, path string) *Rule {
	if n := idx.exactNode(path); n != nil {
		for _, r := range n.rules {
			if !r.allows(st.method) {
				continue
			}
			if r.sub == nil {
				st.args = r.defaultArgs(st.reuse)
				return r
			}
			if args, ok := st.accept(r, path, "", true); ok {
				st.args = args
				return r
			}
		}
	}
	return st.walk(&idx.root, path, 1)
}

// maxSegVars is how many variables a rule may have for the walk to keep
// their texts (see Rule.segVars).
const maxSegVars = 8

// matchState is one walk of the index.
type matchState struct {
	method   string
	subTexts []string       // the texts of the subdomain's variables, when it has some
	args     map[string]any // the view arguments of the rule found
	reuse    map[string]any // a map to hold them, emptied first; nil makes one
	redirect string         // set when the path needs its trailing slash: stop
	// The segments the walk took through the dynamic edges, by depth: for
	// a rule whose variables are whole segments (segVars), their texts.
	segs [maxSegVars]string
	// Nodes whose rules match the path but not the method, to be checked
	// only if the walk finds nothing (a 405 lists their methods).
	pend  [4]pendingCheck
	npend int
	more  []pendingCheck
}

// pendingCheck is a node whose rules were reached with path.
type pendingCheck struct {
	n             *node
	path          string
	nonStrictOnly bool // only the rules without StrictSlashes count
}

// walk matches the parts of path from index i (after a slash; i past the
// end when no part is left) against n, and returns the first rule that
// matches path and method, in werkzeug's order.
func (st *matchState) walk(n *node, path string, i int) *Rule {
	if i > len(path) {
		if r := st.try(n, path, false); r != nil {
			return r
		}
		// A rule ending in "/" matches path with a slash added.
		if c := n.static.get(""); c != nil {
			return st.slashAdded(c, path)
		}
		return nil
	}

	seg, next := path[i:], len(path)+1
	if j := strings.IndexByte(seg, '/'); j >= 0 {
		seg, next = seg[:j], i+j+1
	}
	if c := n.static.get(seg); c != nil {
		if r := st.walk(c, path, next); r != nil || st.redirect != "" {
			return r
		}
	}
	for _, e := range n.dynamic {
		var r *Rule
		switch rest := path[i:]; {
		case !e.part.final:
			if e.matches(seg) {
				if n.depth < len(st.segs) {
					st.segs[n.depth] = seg
				}
				r = st.walk(e.child, path, next)
			}
		case e.part.suffixed && strings.HasSuffix(rest, "/"):
			// werkzeug's (?<!/)(/?) suffix: the slash is the rule's own.
			if body := rest[:len(rest)-1]; !strings.HasSuffix(body, "/") && e.matches(body) {
				r = st.walk(e.child, path, len(path))
			}
		default:
			if e.matches(rest) {
				r = st.walk(e.child, path, len(path)+1)
			}
		}
		if r != nil || st.redirect != "" {
			return r
		}
	}
	// Only a trailing slash is left: rules without one match when they do
	// not insist (StrictSlashes false).
	if seg == "" && next > len(path) && len(n.rules) > 0 {
		return st.try(n, path[:len(path)-1], true)
	}
	return nil
}

// slashAdded returns the first rule of c, the node of path with a slash
// added, that answers the method and matches, when it does not insist on
// its slash (StrictSlashes false). One that insists sets the redirect to
// path with the slash, and the walk stops.
func (st *matchState) slashAdded(c *node, path string) *Rule {
	for _, r := range c.rules {
		if !r.allows(st.method) {
			continue
		}
		if r.StrictSlashes {
			if _, ok := st.accept(r, path, "/", false); ok {
				st.redirect = path + "/"
				return nil
			}
		} else if args, ok := st.accept(r, path, "/", true); ok {
			st.args = args
			return r
		}
	}
	return nil
}

// try returns the first rule of n that answers the method and matches
// path (the form of the request path n's rules are written for), keeping
// its view arguments. When some rule of n does not answer the method, n is
// noted for the 405.
func (st *matchState) try(n *node, path string, nonStrictOnly bool) *Rule {
	others := false
	for _, r := range n.rules {
		if nonStrictOnly && r.StrictSlashes {
			continue
		}
		if !r.allows(st.method) {
			others = true
			continue
		}
		if args, ok := st.accept(r, path, "", true); ok {
			st.args = args
			return r
		}
	}
	if others {
		pc := pendingCheck{n, path, nonStrictOnly}
		if st.npend < len(st.pend) {
			st.pend[st.npend] = pc
			st.npend++
		} else {
			st.more = append(st.more, pc)
		}
	}
	return nil
}

// accept matches r against path+suffix, the path walked to r's node with
// at most its trailing slash added or removed: for a rule whose variables
// are whole segments, from the texts the walk took (segs), which the slash
// does not change; for any other, with r's mux route.
func (st *matchState) accept(r *Rule, path, suffix string, want bool) (map[string]any, bool) {
	if r.sub != nil {
		return st.acceptSubdomain(r, path, suffix, want)
	}
	if r.segVars {
		return r.convert(func(i int) string { return st.segs[i] }, want, st.reuse)
	}
	return r.accept(path+suffix, want, st.reuse)
}

// acceptSubdomain is accept for a rule with a subdomain: the path's
// variables as for any rule, then the subdomain's from st.subTexts.
func (st *matchState) acceptSubdomain(r *Rule, path, suffix string, want bool) (map[string]any, bool) {
	var args map[string]any
	var ok bool
	if r.segVars {
		args, ok = r.convert(func(i int) string { return st.segs[i] }, want, st.reuse)
	} else {
		args, ok = r.accept(path+suffix, want, st.reuse)
	}
	if !ok || len(r.sub.vars) == 0 {
		return args, ok
	}
	if want && args == nil {
		args = argsMap(st.reuse, len(r.sub.vars))
	}
	for i, v := range r.sub.vars {
		val, err := v.conv.ToValue(st.subTexts[i])
		if err != nil {
			return nil, false
		}
		if want {
			args[v.name] = val
		}
	}
	return args, true
}

// allowed returns the methods of the noted rules that match their path:
// werkzeug's have_match_for.
func (st *matchState) allowed() []string {
	var methods []string
	for _, pc := range append(st.pend[:st.npend:st.npend], st.more...) {
		for _, r := range pc.n.rules {
			if pc.nonStrictOnly && r.StrictSlashes || r.allows(st.method) {
				continue
			}
			if _, ok := r.accept(pc.path, false, nil); ok {
				methods = append(methods, r.Methods...)
			}
		}
	}
	return methods
}

// probe is the request a rule's mux route matches; pooled, so that a
// match allocates nothing of its own.
type probe struct {
	req   http.Request
	url   url.URL
	match mux.RouteMatch
	vars  map[string]string
}

var probes = sync.Pool{New: func() any {
	p := &probe{vars: make(map[string]string, 4)}
	p.req.URL = &p.url
	return p
}}

// accept matches path against r's mux route and converts the variables.
// ok is false when the route does not match or a converter refuses its
// text. args (only when want is set) holds the converted variables and the
// defaults, in reuse when it is not nil; it is nil for a rule with neither.
func (r *Rule) accept(path string, want bool, reuse map[string]any) (args map[string]any, ok bool) {
	if len(r.vars) == 0 {
		if want {
			args = r.defaultArgs(reuse)
		}
		return args, true
	}
	p := probes.Get().(*probe)
	p.url.Path = path
	p.match = mux.RouteMatch{Vars: p.vars}
	if r.route.get().Match(&p.req, &p.match) {
		args, ok = r.convert(func(i int) string { return p.vars[r.vars[i].name] }, want, reuse)
	}
	// Every match writes the variables of its route, so what others left
	// does no harm; clearing a small map on every match would cost more.
	if len(p.vars) > 16 {
		clear(p.vars)
	}
	probes.Put(p)
	return args, ok
}

// convert converts the texts of r's variables, text(i) for r.vars[i]. ok
// is false when a converter refuses its text. args (only when want is set)
// holds the converted variables and the defaults, in reuse when it is not
// nil; it is nil for a rule with neither.
func (r *Rule) convert(text func(i int) string, want bool, reuse map[string]any) (args map[string]any, ok bool) {
	if len(r.vars) == 0 {
		if want {
			args = r.defaultArgs(reuse)
		}
		return args, true
	}
	if want {
		args = argsMap(reuse, len(r.vars)+len(r.Defaults))
	}
	for i, v := range r.vars {
		val, err := v.conv.ToValue(text(i))
		if err != nil {
			return nil, false
		}
		if want {
			args[v.name] = val
		}
	}
	if want && len(r.Defaults) > 0 { // not even an empty loop over none
		maps.Copy(args, r.Defaults)
	}
	return args, true
}
