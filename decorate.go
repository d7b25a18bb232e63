package vial

import (
	"fmt"
	"reflect"
)

// This file applies decorators to a view: Flask's View.decorators and the
// @login_required pattern.

// A decorated is the View Decorate returns: its serve method, a method
// value, so that the view it decorates stays known.
type decorated struct {
	inner View // the view as given: its endpoint name and methods are the decorated view's
	outer View // inner with the decorators applied
}

func (d *decorated) serve(r *Request) any {
	if r == describeProbe {
		return d
	}
	return d.outer(r)
}

// Decorate applies decorators to view, the first outermost: Decorate(v,
// a, b) serves as a(b(v)), so a sees each request first, as with Python's
// stacked decorators
//
//	@login_required
//	@cache
//	def profile(): …
//
// and as with [App.Use]. (Flask's View.decorators list is applied the other
// way: its last entry is the outermost.)
//
//	func loginRequired(next vial.View) vial.View {
//		return func(r *vial.Request) any {
//			if r.Cookie("user") == "" {
//				return vial.Redirect("/login")
//			}
//			return next(r)
//		}
//	}
//
//	app.Get("/profile", vial.Decorate(profile, loginRequired))
//	app.AddURLRule("/users/<int:id>", "user", vial.Decorate(vial.MethodView(&UserAPI{db}), loginRequired))
//
// The decorated view keeps what view had for registration, as
// functools.wraps keeps it in Python: registered without an endpoint, it
// is named as view would be ("profile", "UserAPI"), and a decorated
// [MethodView] answers the methods of its type. A request costs one more
// call than the decorators' own.
//
// Decorate returns view itself when there are no decorators, and panics
// when view or a decorator is nil, or a decorator returns nil.
func Decorate(view View, decorators ...func(View) View) View {
	if view == nil {
		panic("vial.Decorate: the view is nil")
	}
	if len(decorators) == 0 {
		return view
	}
	outer := view
	for i := len(decorators) - 1; i >= 0; i-- {
		d := decorators[i]
		if d == nil {
			panic(fmt.Sprintf("vial.Decorate: decorator %d of %d is nil", i+1, len(decorators)))
		}
		if outer = d(outer); outer == nil {
			panic(fmt.Sprintf("vial.Decorate: decorator %d of %d (%s) returned a nil view",
				i+1, len(decorators), funcName(reflect.ValueOf(d).Pointer())))
		}
	}
	return (&decorated{inner: view, outer: outer}).serve
}
