package vial

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/vial-go/vial/gateway"
)

// This file holds class-based views, Flask's MethodView: a value whose
// methods are named after the HTTP verbs becomes a View.

// The methods MethodView looks for, one interface each.
type (
	getView     interface{ Get(*Request) any }
	headView    interface{ Head(*Request) any }
	postView    interface{ Post(*Request) any }
	putView     interface{ Put(*Request) any }
	patchView   interface{ Patch(*Request) any }
	deleteView  interface{ Delete(*Request) any }
	optionsView interface{ Options(*Request) any }
	traceView   interface{ Trace(*Request) any }
)

// A verb is an HTTP method a MethodView may answer with a method of its
// value.
type verb struct {
	method string       // "GET"
	name   string       // "Get", the Go method
	iface  reflect.Type // getView
	// bind returns v's method as a View, or nil when v lacks it.
	bind func(v any) View
	// call calls v's method (v has it) with r.
	call func(v any, r *Request) any
}

// verbOf makes the verb of interface I: call is I's method as a method
// expression, bound as a method value of an I.
func verbOf[I any](method, name string, call func(I, *Request) any, bound func(I) View) verb {
	return verb{
		method: method, name: name, iface: reflect.TypeFor[I](),
		bind: func(v any) View {
			if i, ok := v.(I); ok {
				return bound(i) // a method value: a request's call goes straight to the method
			}
			return nil
		},
		call: func(v any, r *Request) any { return call(v.(I), r) },
	}
}

// The verbs, in the order of their indexes in methodView.views: Flask's
// http_method_funcs.
var verbs = [...]verb{
	verbOf("GET", "Get", getView.Get, func(i getView) View { return i.Get }),
	verbOf("HEAD", "Head", headView.Head, func(i headView) View { return i.Head }),
	verbOf("POST", "Post", postView.Post, func(i postView) View { return i.Post }),
	verbOf("PUT", "Put", putView.Put, func(i putView) View { return i.Put }),
	verbOf("PATCH", "Patch", patchView.Patch, func(i patchView) View { return i.Patch }),
	verbOf("DELETE", "Delete", deleteView.Delete, func(i deleteView) View { return i.Delete }),
	verbOf("OPTIONS", "Options", optionsView.Options, func(i optionsView) View { return i.Options }),
	verbOf("TRACE", "Trace", traceView.Trace, func(i traceView) View { return i.Trace }),
}

const getVerb, headVerb = 0, 1

// verbIndex is the index in verbs of method, or -1: a switch, so that a
// request finds its verb without a lookup.
func verbIndex(method string) int {
	switch method {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "OPTIONS":
		return 6
	case "TRACE":
		return 7
	}
	return -1
}

// A methodView is the View MethodView and MethodViewFunc return: its
// serve method, a method value.
type methodView struct {
	typ     reflect.Type     // the value's type
	name    string           // the endpoint: the type's name, "" for an unnamed type
	methods []string         // the methods the type has, sorted: the rule's
	allow   string           // the Allow header of a 405: methods, and HEAD with GET
	views   [len(verbs)]View // by verb; HEAD is Get's when the type has no Head
}

// serve calls the method of r.Method, or answers 405 when the type has
// none.
func (mv *methodView) serve(r *Request) any {
	if i := verbIndex(r.Method); i >= 0 && mv.views[i] != nil {
		return mv.views[i](r)
	}
	if r == describeProbe {
		return mv
	}
	return &HTTPError{Code: http.StatusMethodNotAllowed, Header: gateway.Headers{{Name: "Allow", Value: mv.allowFor(r.URLRule)}}}
}

// allowFor is the Allow header of a 405 under rule: the methods the rule
// answers that the type has (OPTIONS, which the rule answers itself,
// included), or without a rule the type's.
func (mv *methodView) allowFor(rule *Rule) string {
	if rule == nil {
		return mv.allow
	}
	var allow []string
	for _, m := range rule.Methods { // sorted when the rule was added
		if i := verbIndex(m); m == http.MethodOptions || (i >= 0 && mv.views[i] != nil) {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}

// MethodView makes a View of v, Flask's MethodView: a value, usually a
// pointer to a struct, with some of the methods Get, Post, Put, Patch,
// Delete, Head, Options and Trace, each a func(*vial.Request) any. A
// request calls the method of its HTTP method; HEAD calls Get when there
// is no Head, as in Flask; a method v lacks is a 405 whose Allow header
// lists the methods of the rule that v has.
//
//	type UserAPI struct{ db *sql.DB }
//
//	func (u *UserAPI) Get(r *vial.Request) any    { … }
//	func (u *UserAPI) Delete(r *vial.Request) any { … }
//
//	app.AddURLRule("/users/<int:id>", "user", vial.MethodView(&UserAPI{db}))
//
// The methods are found once, here; a request costs a switch on its
// method, nothing more. Registered without [Methods], the rule answers the
// methods v has (here GET, HEAD, DELETE, and OPTIONS automatically), as
// Flask's view.methods makes it; registered without an endpoint, the
// endpoint is v's type name without the pointer ("UserAPI"). One value
// serves every request, concurrently: like a Flask view with
// init_every_request = False, it must be safe for that, and per-request
// data belongs in the [Request]. [MethodViewFunc] makes a value per
// request.
//
// MethodView panics when v has none of these methods, when one of them has
// another signature, and when the methods have pointer receivers but v is
// not a pointer.
func MethodView(v any) View {
	mv := newMethodView(reflect.TypeOf(v), "MethodView")
	for i := range verbs {
		mv.views[i] = verbs[i].bind(v)
	}
	mv.headFromGet()
	return mv.serve
}

// MethodViewFunc is MethodView with a fresh value for each request, made by
// newView: Flask's default, init_every_request = True. The methods are
// those of type T, found once; a request costs the call of newView and a
// type assertion.
//
//	app.AddURLRule("/report", "", vial.MethodViewFunc(func() *Report {
//		return &Report{db: db} // fields a request may set as it goes
//	}))
//
// T is a concrete type, usually a pointer to a struct (another type is
// copied into an interface for each request); MethodViewFunc panics as
// MethodView does, and when T is an interface type.
func MethodViewFunc[T any](newView func() T) View {
	t := reflect.TypeFor[T]()
	if t.Kind() == reflect.Interface {
		panic(fmt.Sprintf("vial.MethodViewFunc: %s is an interface type; make newView return the concrete type, whose methods are the view's", t))
	}
	mv := newMethodView(t, "MethodViewFunc")
	for i := range verbs {
		if t.Implements(verbs[i].iface) {
			call := verbs[i].call
			mv.views[i] = func(r *Request) any { return call(newView(), r) }
		}
	}
	mv.headFromGet()
	return mv.serve
}

// headFromGet answers HEAD with Get when the type has no Head.
func (mv *methodView) headFromGet() {
	if mv.views[headVerb] == nil {
		mv.views[headVerb] = mv.views[getVerb]
	}
}

// newMethodView derives the name and methods of a methodView from t,
// panicking, as caller (MethodView or MethodViewFunc), when t cannot be
// one.
func newMethodView(t reflect.Type, caller string) *methodView {
	if t == nil {
		panic("vial." + caller + ": the value is nil")
	}
	mv := &methodView{typ: t, name: typeName(t)}
	for _, vb := range verbs {
		if t.Implements(vb.iface) {
			mv.methods = append(mv.methods, vb.method)
			continue
		}
		if m, ok := t.MethodByName(vb.name); ok {
			panic(fmt.Sprintf("vial.%s: (%s).%s is %s; a MethodView's %s must be func(*vial.Request) any",
				caller, t, vb.name, m.Type, vb.name))
		}
	}
	if len(mv.methods) == 0 {
		if names := pointerMethods(t); len(names) > 0 {
			panic(fmt.Sprintf("vial.%s: %s has no methods of a view, *%s has %s: pass a *%s",
				caller, t, t, strings.Join(names, ", "), t))
		}
		panic(fmt.Sprintf("vial.%s: %s has none of the methods Get, Post, Put, Patch, Delete, Head, Options, Trace "+
			"(func(*vial.Request) any)", caller, t))
	}
	allow := slices.Clone(mv.methods)
	if slices.Contains(allow, "GET") && !slices.Contains(allow, "HEAD") {
		allow = append(allow, "HEAD")
	}
	slices.Sort(mv.methods)
	slices.Sort(allow)
	mv.allow = strings.Join(allow, ", ")
	return mv
}

// pointerMethods returns the verbs *t has that t has not, for a t that is
// not a pointer.
func pointerMethods(t reflect.Type) []string {
	if t.Kind() == reflect.Pointer {
		return nil
	}
	var names []string
	for _, vb := range verbs {
		if reflect.PointerTo(t).Implements(vb.iface) {
			names = append(names, vb.name)
		}
	}
	return names
}

// typeName is t's name without pointers and type arguments: "UserAPI" for
// *UserAPI, "Repo" for Repo[int]; "" for an unnamed type.
func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer && t.Name() == "" {
		t = t.Elem()
	}
	name, _, _ := strings.Cut(t.Name(), "[")
	return name
}

// viewMethods returns the methods view answers when it is a MethodView
// (decorated or not), sorted and upper-case, for AddURLRule to give a rule
// registered without [Methods]; nil for any other view.
func viewMethods(view View) []string {
	switch d := describe(view).(type) {
	case *decorated:
		return viewMethods(d.inner)
	case *methodView:
		return slices.Clone(d.methods)
	}
	return nil
}
