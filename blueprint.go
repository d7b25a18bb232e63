package vial

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A Blueprint is a group of routes and hooks registered on an App as one,
// Flask's Blueprint: an "auth" blueprint's views have endpoints
// "auth.login", "auth.logout", its rules sit under its URL prefix, and its
// hooks apply to its own requests only. It is a [Scaffold], so routes and
// hooks are registered as on an App:
//
//	auth := vial.NewBlueprint("auth", vial.URLPrefix("/auth"))
//	auth.Route("/login", vial.Methods("GET", "POST"))(login) // endpoint "auth.login", rule "/auth/login"
//	auth.BeforeRequest(loadUser)                               // for auth's requests
//	app.RegisterBlueprint(auth)
//
// What a Blueprint records takes effect when it is registered
// ([App.RegisterBlueprint]); once it has been, setting it up further
// panics, as in Flask. A Blueprint may be registered on several Apps, and
// on one App more than once under other names ([BlueprintName]).
// Blueprints nest ([Blueprint.RegisterBlueprint]): a blueprint "v1" in
// "api" has endpoints "api.v1.users" and the prefixes of both.
type Blueprint struct {
	Scaffold
	name        string
	urlPrefix   *string
	subdomain   *string
	urlDefaults map[string]any
	rules       []deferredRule
	appHooks    hookSet // BeforeAppRequest …: the App's, from the first registration
	children    []childBlueprint
	decorators  []func(View) View
	registered  bool
}

// deferredRule is a rule a Blueprint adds to the App that registers it.
type deferredRule struct {
	rule, endpoint string
	view           View
	opts           []RouteOption
}

type childBlueprint struct {
	bp   *Blueprint
	opts []BlueprintOption
}

// A BlueprintOption configures a Blueprint ([NewBlueprint]) or one
// registration of it ([App.RegisterBlueprint], [Blueprint.RegisterBlueprint]),
// where it overrides the blueprint's own.
type BlueprintOption func(*blueprintOptions)

type blueprintOptions struct {
	urlPrefix   *string
	subdomain   *string
	urlDefaults map[string]any
	name        string
	nameSet     bool
}

// URLPrefix puts prefix before every rule of the blueprint: "/auth" makes
// "/login" "/auth/login". Nested blueprints join their prefixes.
func URLPrefix(prefix string) BlueprintOption {
	return func(o *blueprintOptions) { o.urlPrefix = &prefix }
}

// Subdomain puts every rule of the blueprint in subdomain ("api" for
// api.example.com, or one with variables, "<user>"), as [RuleSubdomain]
// puts one: matched when Config SUBDOMAIN_MATCHING is on and SERVER_NAME
// set, and built as an external URL from other subdomains. A nested
// blueprint's subdomain goes before its parent's: "v1" in "api" is
// "v1.api". A rule's own RuleSubdomain wins.
func Subdomain(subdomain string) BlueprintOption {
	return func(o *blueprintOptions) { o.subdomain = &subdomain }
}

// URLDefaults gives every view of the blueprint these view arguments, as
// [Defaults] gives them to one rule (a rule's own defaults win). At
// registration, they are added to the blueprint's own. They are not passed
// on to the blueprints nested in it, as in Flask: a nested blueprint's
// views get its own URL defaults only.
func URLDefaults(values map[string]any) BlueprintOption {
	return func(o *blueprintOptions) { o.urlDefaults = values }
}

// BlueprintName registers a blueprint under another name, so that one
// blueprint can be registered twice: its endpoints are then "name.view".
// It is an option of registration only.
func BlueprintName(name string) BlueprintOption {
	return func(o *blueprintOptions) { o.name, o.nameSet = name, true }
}

// NewBlueprint returns a Blueprint named name, with the options
// [URLPrefix], [Subdomain] and [URLDefaults]. The name prefixes the blueprint's
// endpoints; it panics if empty or holding a dot, which separates the
// names of nested blueprints.
func NewBlueprint(name string, opts ...BlueprintOption) *Blueprint {
	checkBlueprintName("NewBlueprint", name)
	o := applyBlueprintOptions(opts)
	if o.nameSet {
		panic(fmt.Sprintf("vial: NewBlueprint(%q): BlueprintName is an option of RegisterBlueprint", name))
	}
	b := &Blueprint{name: name, urlPrefix: o.urlPrefix, subdomain: o.subdomain, urlDefaults: o.urlDefaults}
	b.Scaffold = Scaffold{addURLRule: b.recordRule, check: b.checkSetup}
	return b
}

func checkBlueprintName(what, name string) {
	switch {
	case name == "":
		panic("vial: " + what + ": a blueprint's name may not be empty")
	case strings.Contains(name, "."):
		panic(fmt.Sprintf("vial: %s(%q): a blueprint's name may not contain a dot", what, name))
	}
}

func applyBlueprintOptions(opts []BlueprintOption) blueprintOptions {
	var o blueprintOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Name returns the blueprint's own name, as given to NewBlueprint.
func (b *Blueprint) Name() string { return b.name }

// checkSetup panics once the blueprint has been registered: what it
// records then would reach some registrations and not others.
func (b *Blueprint) checkSetup(what string) {
	if b.registered {
		panic(fmt.Sprintf("vial: %s called on the blueprint %q after it was registered; "+
			"set a blueprint up completely before registering it", what, b.name))
	}
}

// recordRule is the Blueprint's AddURLRule: the rule is added to an App
// when the blueprint is registered on it.
func (b *Blueprint) recordRule(rule, endpoint string, view View, opts []RouteOption) {
	b.checkSetup("AddURLRule(" + rule + ")")
	if e := newRule(rule, endpoint, opts).Endpoint; strings.Contains(e, ".") {
		panic(fmt.Sprintf("vial: blueprint %q, rule %q: the endpoint %q may not contain a dot", b.name, rule, e))
	}
	b.rules = append(b.rules, deferredRule{rule: rule, endpoint: endpoint, view: view, opts: opts})
}

// Decorate wraps every view of the blueprint, and of the blueprints
// nested in it, in decorators when the blueprint is registered, as
// [Decorate] wraps one: the first decorator is the outermost, and a
// parent's decorators are outside its children's.
func (b *Blueprint) Decorate(decorators ...func(View) View) {
	b.checkSetup("Decorate")
	b.decorators = append(b.decorators, decorators...)
}

// RegisterBlueprint nests child in b: registering b registers child with
// it, its name "b.child" and its prefix b's prefix joined with its own.
// opts override child's own, as on [App.RegisterBlueprint].
func (b *Blueprint) RegisterBlueprint(child *Blueprint, opts ...BlueprintOption) {
	b.checkSetup("RegisterBlueprint")
	if child == nil {
		panic(fmt.Sprintf("vial: blueprint %q: RegisterBlueprint: nil blueprint", b.name))
	}
	if child == b {
		panic(fmt.Sprintf("vial: blueprint %q cannot be registered on itself", b.name))
	}
	b.children = append(b.children, childBlueprint{child, opts})
}

// BeforeAppRequest registers fn to run before every request of the App
// that registers the blueprint, not only the blueprint's: Flask's
// before_app_request.
func (b *Blueprint) BeforeAppRequest(fn func(r *Request) any) {
	b.checkSetup("BeforeAppRequest")
	b.appHooks.beforeRequest = append(b.appHooks.beforeRequest, fn)
}

// AfterAppRequest registers fn for every request of the App, as
// [Scaffold.AfterRequest] on the App: Flask's after_app_request.
func (b *Blueprint) AfterAppRequest(fn func(r *Request, resp *Response) *Response) {
	b.checkSetup("AfterAppRequest")
	b.appHooks.afterRequest = append(b.appHooks.afterRequest, fn)
}

// TeardownAppRequest registers fn for every request of the App, as
// [Scaffold.TeardownRequest] on the App: Flask's teardown_app_request.
func (b *Blueprint) TeardownAppRequest(fn func(r *Request, err error)) {
	b.checkSetup("TeardownAppRequest")
	b.appHooks.teardownRequest = append(b.appHooks.teardownRequest, fn)
}

// AppErrorHandler registers fn for the errors key selects in every
// request of the App, as [Scaffold.ErrorHandler] on the App: Flask's
// app_errorhandler.
func (b *Blueprint) AppErrorHandler(key any, fn ErrorHandlerFunc) {
	b.checkSetup("AppErrorHandler")
	b.appHooks.addErrorHandler(key, fn)
}

// AppURLValuePreprocessor registers fn as the App's URL value
// preprocessor: Flask's app_url_value_preprocessor.
func (b *Blueprint) AppURLValuePreprocessor(fn URLValueFunc) {
	b.checkSetup("AppURLValuePreprocessor")
	b.appHooks.urlValuePreproc = append(b.appHooks.urlValuePreproc, fn)
}

// AppURLDefaults registers fn as the App's URL defaults function: Flask's
// app_url_defaults.
func (b *Blueprint) AppURLDefaults(fn URLValueFunc) {
	b.checkSetup("AppURLDefaults")
	b.appHooks.urlDefaults = append(b.appHooks.urlDefaults, fn)
}

// RegisterBlueprint registers bp on the App, Flask's register_blueprint:
// its rules, with its URL prefix and its name before their endpoints, its
// hooks for its requests, its App-wide hooks (on the first registration of
// bp only), and the blueprints nested in it. opts ([URLPrefix],
// [Subdomain], [URLDefaults], [BlueprintName]) override bp's own for this
// registration.
//
// It panics when the name is taken (by bp itself: register it again under
// another [BlueprintName]; or by another blueprint), and when the App has
// served a request.
func (a *App) RegisterBlueprint(bp *Blueprint, opts ...BlueprintOption) {
	if bp == nil {
		panic("vial: RegisterBlueprint: nil blueprint")
	}
	a.checkSetup("RegisterBlueprint(" + bp.name + ")")
	bp.register(a, applyBlueprintOptions(opts), nil)
}

// A setupState is one registration of a blueprint: Flask's
// BlueprintSetupState.
type setupState struct {
	app         *App
	name        string  // the full name: "api.v1"
	urlPrefix   *string // nil for none
	subdomain   *string // nil for none
	urlDefaults map[string]any
	decorators  []func(View) View // the parents' first
	decorated   map[string]View   // endpoint → its view before the decorators
	chain       []*Blueprint      // the blueprints registering, outermost first, b last
}

// register registers b on a under parent (nil at the top), with o.
func (b *Blueprint) register(a *App, o blueprintOptions, parent *setupState) {
	namePrefix, decorators, chain := "", []func(View) View(nil), []*Blueprint(nil)
	if parent != nil {
		namePrefix, decorators, chain = parent.name, parent.decorators, parent.chain
	}
	if slices.Contains(chain, b) {
		panic(fmt.Sprintf("vial: RegisterBlueprint: the blueprint %q is nested in itself (%s.%s)", b.name, namePrefix, b.name))
	}
	self := b.name
	if o.nameSet {
		checkBlueprintName("BlueprintName", o.name)
		self = o.name
	}
	name := strings.TrimPrefix(namePrefix+"."+self, ".")
	first := a.claimBlueprintName(name, b)
	b.registered = true
	st := &setupState{app: a, name: name, urlPrefix: b.urlPrefix, urlDefaults: maps.Clone(b.urlDefaults),
		decorated: map[string]View{}, chain: append(slices.Clip(chain), b)}
	if o.urlPrefix != nil {
		st.urlPrefix = o.urlPrefix
	}
	st.subdomain = b.subdomain
	if o.subdomain != nil {
		st.subdomain = o.subdomain
	}
	if o.urlDefaults != nil {
		if st.urlDefaults == nil {
			st.urlDefaults = map[string]any{}
		}
		maps.Copy(st.urlDefaults, o.urlDefaults)
	}
	st.decorators = append(append([]func(View) View{}, decorators...), b.decorators...)
	a.blueprintHooks[name] = &b.hooks
	if first {
		a.hooks.merge(&b.appHooks)
	}
	for _, d := range b.rules {
		st.addURLRule(d)
	}
	for _, c := range b.children {
		c.bp.register(a, st.childOptions(c), st)
	}
}

// claimBlueprintName records b under name, and reports whether this is
// b's first registration on the App.
func (a *App) claimBlueprintName(name string, b *Blueprint) bool {
	if other, taken := a.blueprints[name]; taken {
		whose := "a different blueprint"
		if other == b {
			whose = "this blueprint"
		}
		panic(fmt.Sprintf("vial: RegisterBlueprint: the name %q is already registered for %s; "+
			"register it under another name with vial.BlueprintName", name, whose))
	}
	first := true
	for _, other := range a.blueprints {
		if other == b {
			first = false
		}
	}
	if a.blueprints == nil {
		a.blueprints, a.blueprintHooks = map[string]*Blueprint{}, map[string]*hookSet{}
	}
	a.blueprints[name] = b
	return first
}

// childOptions are the options of a nested blueprint's registration: its
// own, or the blueprint's, with this registration's prefix before it.
func (st *setupState) childOptions(c childBlueprint) blueprintOptions {
	o := applyBlueprintOptions(c.opts)
	prefix := o.urlPrefix
	if prefix == nil {
		prefix = c.bp.urlPrefix
	}
	switch {
	case st.urlPrefix != nil && prefix != nil:
		joined := strings.TrimRight(*st.urlPrefix, "/") + "/" + strings.TrimLeft(*prefix, "/")
		o.urlPrefix = &joined
	case prefix != nil:
		o.urlPrefix = prefix
	default:
		o.urlPrefix = st.urlPrefix
	}
	sub := o.subdomain
	if sub == nil {
		sub = c.bp.subdomain
	}
	switch {
	case st.subdomain != nil && sub != nil:
		joined := *sub + "." + *st.subdomain
		o.subdomain = &joined
	case sub != nil:
		o.subdomain = sub
	default:
		o.subdomain = st.subdomain
	}
	return o
}

// addURLRule adds a rule the blueprint recorded to the App: under the
// prefix, with the blueprint's defaults and decorators, its endpoint
// named "blueprint.endpoint".
func (st *setupState) addURLRule(d deferredRule) {
	r := newRule(d.rule, d.endpoint, d.opts)
	methodsOfView(r, d.view)
	if r.Endpoint == "" {
		r.Endpoint = endpointFor(d.view, r)
	}
	if st.urlPrefix != nil {
		if d.rule != "" {
			r.Rule = strings.TrimRight(*st.urlPrefix, "/") + "/" + strings.TrimLeft(d.rule, "/")
		} else {
			r.Rule = *st.urlPrefix
		}
	}
	if st.subdomain != nil && r.Subdomain == "" {
		r.Subdomain = *st.subdomain
	}
	if len(st.urlDefaults) > 0 {
		defaults := maps.Clone(st.urlDefaults)
		maps.Copy(defaults, r.Defaults) // the rule's own win
		r.Defaults = defaults
	}
	r.Endpoint = st.name + "." + r.Endpoint
	r.blueprint = st.name
	view := d.view
	if view != nil && len(st.decorators) > 0 {
		if prev, ok := st.decorated[r.Endpoint]; ok {
			// Another rule of the endpoint: its decorated view is there.
			checkViewCollision(prev, d.view, r)
			view = nil
		} else {
			st.decorated[r.Endpoint] = d.view
			view = Decorate(view, st.decorators...)
		}
	}
	st.app.checkSetup("RegisterBlueprint(" + st.name + "): AddURLRule(" + r.Rule + ")")
	st.app.addRule(r, view)
}

// merge adds the hooks of o to h, as registering them on h one by one
// would.
func (h *hookSet) merge(o *hookSet) {
	h.beforeRequest = append(h.beforeRequest, o.beforeRequest...)
	h.afterRequest = append(h.afterRequest, o.afterRequest...)
	h.teardownRequest = append(h.teardownRequest, o.teardownRequest...)
	h.urlValuePreproc = append(h.urlValuePreproc, o.urlValuePreproc...)
	h.urlDefaults = append(h.urlDefaults, o.urlDefaults...)
	for code, fn := range o.codeHandlers {
		h.setCodeHandler(code, fn)
	}
	h.errorHandlers = append(h.errorHandlers, o.errorHandlers...)
}
