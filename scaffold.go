package vial

// A Scaffold is what an [App] and a [Blueprint] share, Flask's Scaffold:
// the registration of URL rules and their views ([Scaffold.Route], Get,
// Post …, [Scaffold.AddURLRule]) and of the hooks of the request
// lifecycle (BeforeRequest, AfterRequest, TeardownRequest, ErrorHandler,
// URLValuePreprocessor, URLDefaults). On an App they apply to every
// request; on a Blueprint, to the requests of the blueprint's views, and
// they take effect when the blueprint is registered on an App.
type Scaffold struct {
	hooks hookSet
	// addURLRule registers a rule: at once on an App, when registered on
	// one for a Blueprint.
	addURLRule func(rule, endpoint string, view View, opts []RouteOption)
	// check panics when setting up is over: the App has served, or the
	// blueprint has been registered. what names the method.
	check func(what string)
}

// Route registers a view for rule, like Flask's @app.route decorator: it
// returns a function that registers the view and hands it back.
//
//	app.Route("/user/<int:id>", vial.Methods("GET", "POST"))(func(r *vial.Request) any {
//		return map[string]any{"id": r.ViewArgs["id"]}
//	})
//
// The endpoint is the view's name ("about"; "Users_Show" for the method
// value of (*Users).Show; "UserAPI" for a [MethodView] of *UserAPI), or
// for an anonymous view the rule, prefixed with its methods when they lack
// GET ("POST /items"), unless [Endpoint] names it.
func (s *Scaffold) Route(rule string, opts ...RouteOption) func(View) View {
	return func(view View) View {
		s.AddURLRule(rule, "", view, opts...)
		return view
	}
}

// Get registers view for GET (and HEAD) requests to rule: Flask's app.get.
func (s *Scaffold) Get(rule string, view View, opts ...RouteOption) {
	s.AddURLRule(rule, "", view, append(opts, Methods("GET"))...)
}

// Post registers view for POST requests to rule.
func (s *Scaffold) Post(rule string, view View, opts ...RouteOption) {
	s.AddURLRule(rule, "", view, append(opts, Methods("POST"))...)
}

// Put registers view for PUT requests to rule.
func (s *Scaffold) Put(rule string, view View, opts ...RouteOption) {
	s.AddURLRule(rule, "", view, append(opts, Methods("PUT"))...)
}

// Patch registers view for PATCH requests to rule.
func (s *Scaffold) Patch(rule string, view View, opts ...RouteOption) {
	s.AddURLRule(rule, "", view, append(opts, Methods("PATCH"))...)
}

// Delete registers view for DELETE requests to rule.
func (s *Scaffold) Delete(rule string, view View, opts ...RouteOption) {
	s.AddURLRule(rule, "", view, append(opts, Methods("DELETE"))...)
}

// AddURLRule registers view for rule under endpoint: Flask's add_url_rule.
// An empty endpoint names it after the view, as [Scaffold.Route] says
// ("about", "Users_Show", "UserAPI"; for an anonymous function the rule,
// "POST /items" when its methods lack GET). A nil view registers the rule alone, for an endpoint
// whose view is registered elsewhere. On a Blueprint, the rule gets the
// blueprint's URL prefix and its endpoint the blueprint's name
// ("auth.login") when the blueprint is registered.
//
// It panics, naming the rule, when the rule is malformed or a different view
// is already registered for the endpoint, and when setting up is over (the
// App has served a request; the Blueprint has been registered).
func (s *Scaffold) AddURLRule(rule, endpoint string, view View, opts ...RouteOption) {
	s.addURLRule(rule, endpoint, view, opts)
}
