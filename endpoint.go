package vial

import (
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strings"
)

// This file names endpoints after their view functions, and refuses a
// second view for an endpoint.

var anonymousFunc = regexp.MustCompile(`(^|\.)(func\d+|glob\.)`)

// endpointFor names the endpoint of rule r, whose Endpoint is empty,
// after its view function: "about" for main.about, "Show" for
// (*Users).Show; an anonymous function has no name, so the rule stands in.
func endpointFor(view View, r *Rule) string {
	rule := r.Rule
	if view == nil {
		return rule
	}
	// The runtime writes a generic function's type arguments as "[...]":
	// an instance of func list[T any] is named after list.
	full := strings.ReplaceAll(funcName(reflect.ValueOf(view).Pointer()), "[...]", "")
	name := strings.TrimSuffix(full[strings.LastIndexByte(full, '/')+1:], "-fm")
	if anonymousFunc.MatchString(name) || name == "" {
		return rule
	}
	return name[strings.LastIndexByte(name, '.')+1:]
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
// registered for r's endpoint.
func checkViewCollision(old, view View, r *Rule) {
	pc, oldPC := reflect.ValueOf(view).Pointer(), reflect.ValueOf(old).Pointer()
	if oldPC != pc {
		panic(fmt.Sprintf("vial: rule %q: view function %s is overwriting the existing view %s for endpoint %q",
			r.Rule, funcName(pc), funcName(oldPC), r.Endpoint))
	}
	if boundFunc(pc) {
		// Go cannot compare function values: two method values of one
		// method (users.List, admins.List), or two closures of one
		// literal, share their code and may still differ.
		panic(fmt.Sprintf("vial: rule %q: %s is already the view of endpoint %q and may be bound to "+
			"other values there (a method value or a closure); name the endpoints apart with vial.Endpoint",
			r.Rule, funcName(pc), r.Endpoint))
	}
}
