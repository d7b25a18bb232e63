package vial

import (
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
)

// This file names endpoints after their views, and refuses a second view
// for an endpoint.

var anonymousFunc = regexp.MustCompile(`(^|\.)(func\d+|glob\.)`)

// endpointFor names the endpoint of rule r, whose Endpoint is empty, after
// its view:
//
//   - a function, by its name: "about" for main.about (a generic one without
//     its type arguments: "list" for list[int]);
//   - a method value, by its receiver's type and its method, joined by "_"
//     (an endpoint has no dot, which would read as a blueprint's):
//     "Users_Show" for users.Show with func (*Users) Show, "usersH_List"
//     for usersH{}.List;
//   - a [MethodView], by its type's name: "UserAPI" for &UserAPI{…};
//   - a view made by [Decorate], as the view it decorates;
//   - an anonymous function (or a MethodView of an unnamed type, or no view
//     at all) has no name, so the rule stands in: "/items" when its methods
//     include GET or are not given, else the methods, upper-case, sorted and
//     joined by ",", a space, and the rule: "POST /items", "DELETE,PUT
//     /items/<int:id>". So app.Get("/items", list) and app.Post("/items",
//     add) with two function literals are two endpoints, "/items" and
//     "POST /items".
//
// r.Methods are the methods as the options gave them, not yet normalised;
// when there are none, a MethodView's are used.
func endpointFor(view View, r *Rule) string {
	switch d := describe(view).(type) {
	case *decorated:
		return endpointFor(d.inner, r)
	case *methodView:
		if d.name != "" {
			return d.name
		}
		return anonymousEndpoint(r, d.methods)
	}
	if view == nil {
		return anonymousEndpoint(r, nil)
	}
	if name := viewName(reflect.ValueOf(view).Pointer()); name != "" {
		return name
	}
	return anonymousEndpoint(r, nil)
}

// viewName is the name endpointFor gives the function at pc, or "" for an
// anonymous function.
func viewName(pc uintptr) string {
	// The runtime writes a generic function's type arguments as "[...]":
	// an instance of func list[T any] is named after list.
	full := strings.ReplaceAll(funcName(pc), "[...]", "")
	name := full[strings.LastIndexByte(full, '/')+1:] // "pkg.about", "pkg.(*Users).Show-fm"
	if anonymousFunc.MatchString(name) || name == "" {
		return ""
	}
	method, isMethod := strings.CutSuffix(name, "-fm")
	if !isMethod {
		return name[strings.LastIndexByte(name, '.')+1:]
	}
	// The package ends at the first dot: the linker escapes dots in the
	// last element of an import path ("yaml%2ev3").
	_, method, _ = strings.Cut(method, ".") // "(*Users).Show"
	dot := strings.LastIndexByte(method, '.')
	if dot < 0 {
		return method
	}
	recv := strings.TrimSuffix(strings.TrimPrefix(method[:dot], "(*"), ")")
	return recv + "_" + method[dot+1:]
}

// anonymousEndpoint is the endpoint of a view without a name on rule r:
// the rule, prefixed with the methods when they do not include GET. The
// methods are r's, else fallback's.
func anonymousEndpoint(r *Rule, fallback []string) string {
	given := r.Methods
	if len(given) == 0 {
		given = fallback
	}
	methods := make([]string, 0, len(given))
	for _, m := range given {
		m = strings.ToUpper(strings.TrimSpace(m))
		if m == "GET" {
			return r.Rule
		}
		if m != "" && !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	if len(methods) == 0 {
		return r.Rule
	}
	slices.Sort(methods)
	return strings.Join(methods, ",") + " " + r.Rule
}

// boundFunc reports whether the function at pc is a method value or a
// closure, whose identity its code does not give.
func boundFunc(pc uintptr) bool {
	name := funcName(pc)
	return strings.HasSuffix(name, "-fm") || anonymousFunc.MatchString(name[strings.LastIndexByte(name, '/')+1:])
}

func funcName(pc uintptr) string {
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Name()
	}
	return "?"
}

// checkViewCollision panics when view may not join old, the view already
// registered for r's endpoint. The same function, or the same View that
// [MethodView] or [Decorate] returned, may serve several rules.
func checkViewCollision(old, view View, r *Rule) {
	const fix = "name the endpoints apart with vial.Endpoint"
	if od, vd := describe(old), describe(view); od != nil || vd != nil {
		if od != vd {
			panic(fmt.Sprintf("vial: rule %q: view %s is overwriting the existing view %s for endpoint %q; %s",
				r.Rule, viewString(view), viewString(old), r.Endpoint, fix))
		}
		return
	}
	pc, oldPC := reflect.ValueOf(view).Pointer(), reflect.ValueOf(old).Pointer()
	if oldPC != pc {
		panic(fmt.Sprintf("vial: rule %q: view function %s is overwriting the existing view %s for endpoint %q; %s",
			r.Rule, funcName(pc), funcName(oldPC), r.Endpoint, fix))
	}
	if boundFunc(pc) {
		// Go cannot compare function values: two method values of one
		// method (users.List, admins.List), or two closures of one
		// literal, share their code and may still differ.
		panic(fmt.Sprintf("vial: rule %q: %s is already the view of endpoint %q and may be bound to "+
			"other values there (a method value or a closure); %s",
			r.Rule, funcName(pc), r.Endpoint, fix))
	}
}

// viewString names view in a message: its function, or what MethodView or
// Decorate made it from.
func viewString(view View) string {
	switch d := describe(view).(type) {
	case *decorated:
		return "vial.Decorate(" + viewString(d.inner) + ")"
	case *methodView:
		return "vial.MethodView(" + d.typ.String() + ")"
	}
	return funcName(reflect.ValueOf(view).Pointer())
}

// The views MethodView and Decorate return are method values of their own
// types, (*methodView).serve and (*decorated).serve: the code of a method
// value is the same whatever its receiver, so it tells such a view from any
// other, and called with describeProbe, such a view returns its receiver
// instead of serving. No other view is ever called with describeProbe.
var (
	describeProbe = new(Request)
	methodViewPC  = reflect.ValueOf(new(methodView).serve).Pointer()
	decoratedPC   = reflect.ValueOf(new(decorated).serve).Pointer()
)

// describe returns the *methodView or *decorated behind a view that
// MethodView, MethodViewFunc or Decorate returned, and nil for any other
// view. It never calls another view.
func describe(view View) any {
	if view == nil {
		return nil
	}
	if pc := reflect.ValueOf(view).Pointer(); pc != methodViewPC && pc != decoratedPC {
		return nil
	}
	return view(describeProbe)
}
