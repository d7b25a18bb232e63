package vial_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vial-go/vial"
)

// tracer returns a decorator that records name on the way in and out.
func tracer(trace *[]string, name string) func(vial.View) vial.View {
	return func(next vial.View) vial.View {
		return func(r *vial.Request) any {
			*trace = append(*trace, name+">")
			defer func() { *trace = append(*trace, "<"+name) }()
			return next(r)
		}
	}
}

func TestDecorateAppliesTheFirstDecoratorOutermost(t *testing.T) {
	app := vial.New("test")
	var trace []string
	app.Get("/", vial.Decorate(func(r *vial.Request) any {
		trace = append(trace, "view")
		return "ok"
	}, tracer(&trace, "a"), tracer(&trace, "b"), tracer(&trace, "c")))

	assert.Equal(t, "ok", app.TestClient().Get("/").Text())
	assert.Equal(t, []string{"a>", "b>", "c>", "view", "<c", "<b", "<a"}, trace)
}

// loginRequired is Flask's @login_required: no user cookie, a redirect to
// the login page.
func loginRequired(next vial.View) vial.View {
	return func(r *vial.Request) any {
		if r.Cookie("user") == "" {
			return vial.Redirect("/login?next=" + r.Path)
		}
		return next(r)
	}
}

func profile(r *vial.Request) any { return "profile of " + r.Cookie("user") + " at " + r.Endpoint }

func TestDecorateKeepsTheEndpointOfTheView(t *testing.T) {
	app := vial.New("test")
	app.Get("/profile", vial.Decorate(profile, loginRequired))
	c := app.TestClient()

	resp := c.Get("/profile")
	assert.Equal(t, 302, resp.StatusCode, "the decorator answers first")
	assert.Equal(t, "/login?next=/profile", resp.Location())

	c.SetCookie("user", "ann")
	assert.Equal(t, "profile of ann at profile", c.Get("/profile").Text())
	assert.Equal(t, "/profile", app.URLFor("profile"))
}

func TestDecorateKeepsTheNameOfAMethodValue(t *testing.T) {
	app := vial.New("test")
	app.Get("/users", vial.Decorate((&lister{"users"}).List, loginRequired))
	assert.Equal(t, "/users", app.URLFor("lister_List"))
}

func TestDecoratedMethodViewKeepsItsNameAndDispatch(t *testing.T) {
	app := vial.New("test")
	app.AddURLRule("/users/<int:id>", "", vial.Decorate(vial.MethodView(&userAPI{}), loginRequired),
		vial.Methods("GET", "POST", "PUT"))
	c := app.TestClient()
	c.SetCookie("user", "ann")

	assert.Equal(t, "/users/2", app.URLFor("userAPI", "id", 2))
	assert.Equal(t, "user 2", c.Get("/users/2").Text())
	assert.Equal(t, 201, c.Post("/users/2").StatusCode)
	assert.Equal(t, 405, c.Put("/users/2").StatusCode)
}

func TestDecoratedMethodViewRuleAnswersTheMethodsOfTheType(t *testing.T) {
	// Waits on AddURLRule taking a rule's methods from viewMethods.
	app := vial.New("test")
	app.AddURLRule("/users/<int:id>", "user", vial.Decorate(vial.MethodView(&userAPI{}), loginRequired))
	c := app.TestClient()
	assert.Equal(t, 302, c.Delete("/users/2").StatusCode, "the decorator sees the DELETE")
	c.SetCookie("user", "ann")
	assert.Equal(t, 204, c.Delete("/users/2").StatusCode)
	assert.Equal(t, "DELETE, GET, HEAD, OPTIONS, POST", c.Options("/users/2").Header.Get("Allow"))
}

func TestOneDecoratedViewMayServeSeveralRules(t *testing.T) {
	app := vial.New("test")
	view := vial.Decorate(profile, loginRequired)
	app.Get("/profile", view)
	app.Get("/me", view)
	assert.Equal(t, 302, app.TestClient().Get("/me").StatusCode)

	other := vial.New("test")
	other.Get("/profile", vial.Decorate(profile, loginRequired))
	assert.PanicsWithValue(t, `vial: rule "/me": view vial.Decorate(github.com/vial-go/vial_test.profile) is `+
		`overwriting the existing view vial.Decorate(github.com/vial-go/vial_test.profile) for endpoint "profile"; `+
		`name the endpoints apart with vial.Endpoint`,
		func() { other.Get("/me", vial.Decorate(profile, loginRequired)) }, "Go cannot tell two decorated views are alike")
	assert.PanicsWithValue(t, `vial: rule "/plain": view github.com/vial-go/vial_test.profile is `+
		`overwriting the existing view vial.Decorate(github.com/vial-go/vial_test.profile) for endpoint "profile"; `+
		`name the endpoints apart with vial.Endpoint`,
		func() { other.Get("/plain", profile) }, "the undecorated view is another view")
}

func TestDecorateWithoutDecoratorsIsTheView(t *testing.T) {
	assert.Equal(t, reflect.ValueOf(profile).Pointer(), reflect.ValueOf(vial.Decorate(profile)).Pointer())
}

func TestDecorateRefusesNils(t *testing.T) {
	assert.PanicsWithValue(t, "vial.Decorate: the view is nil", func() { vial.Decorate(nil, loginRequired) })
	assert.PanicsWithValue(t, "vial.Decorate: decorator 2 of 2 is nil", func() { vial.Decorate(profile, loginRequired, nil) })
	forget := func(vial.View) vial.View { return nil }
	assert.PanicsWithValue(t, fmt.Sprintf("vial.Decorate: decorator 1 of 2 (%s) returned a nil view",
		"github.com/vial-go/vial_test.TestDecorateRefusesNils.func3"),
		func() { vial.Decorate(profile, forget, loginRequired) })
}
