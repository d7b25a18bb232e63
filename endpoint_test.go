package vial

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The mechanisms behind endpoint names, MethodView and Decorate; the
// behaviour through an App is in methodview_test.go and decorate_test.go.

func epAbout(r *Request) any { return "about" }

func epList[T any](r *Request) any { return fmt.Sprint(*new(T)) }

type epUsers struct{}

func (*epUsers) Show(r *Request) any { return "show" }

type epPosts struct{}

func (epPosts) List(r *Request) any { return "list" }

type epRepo[T any] struct{}

func (*epRepo[T]) Get(r *Request) any { return "repo" }

type epAPI struct{}

func (*epAPI) Get(r *Request) any  { return "get" }
func (*epAPI) Post(r *Request) any { return "post" }

func TestEndpointForNamedViews(t *testing.T) {
	rule := &Rule{Rule: "/x"}
	for name, view := range map[string]View{
		"epAbout":      epAbout,
		"epList":       epList[int],
		"epUsers_Show": (&epUsers{}).Show,
		"epPosts_List": epPosts{}.List,
		"epRepo_Get":   (&epRepo[string]{}).Get,
		"epAPI":        MethodView(&epAPI{}),
		"epRepo":       MethodView(&epRepo[int]{}),
	} {
		assert.Equal(t, name, endpointFor(view, rule))
		assert.Equal(t, name, endpointFor(Decorate(view, func(v View) View { return v }), rule), "seen through Decorate")
		assert.NotContains(t, name, ".")
	}
}

func TestEndpointForAnonymousViews(t *testing.T) {
	anon := func(r *Request) any { return nil }
	for _, c := range []struct {
		methods []string
		want    string
	}{
		{nil, "/items"},
		{[]string{"GET"}, "/items"},
		{[]string{"post", "get"}, "/items"},
		{[]string{"POST"}, "POST /items"},
		{[]string{" put ", "delete", "PUT"}, "DELETE,PUT /items"},
		{[]string{"HEAD"}, "HEAD /items"},
	} {
		r := &Rule{Rule: "/items", Methods: c.methods}
		assert.Equal(t, c.want, endpointFor(anon, r), "%q", c.methods)
		assert.Equal(t, c.want, endpointFor(nil, r), "a rule without a view, %q", c.methods)
		assert.Equal(t, c.want, endpointFor(Decorate(anon, func(v View) View { return v }), r), "%q", c.methods)
	}
}

type postOnly struct{}

func (postOnly) Post(r *Request) any { return "post" }

func TestEndpointForAMethodViewOfAnUnnamedTypeIsTheRule(t *testing.T) {
	view := MethodView(struct{ postOnly }{})
	assert.Equal(t, "POST /items", endpointFor(view, &Rule{Rule: "/items"}), "the type's methods stand in for the options'")
	assert.Equal(t, "/items", endpointFor(view, &Rule{Rule: "/items", Methods: []string{"GET", "POST"}}))
}

func TestDescribeKnowsOnlyTheViewsVialMakes(t *testing.T) {
	called := false
	plain := func(r *Request) any { called = true; return nil }
	assert.Nil(t, describe(plain))
	assert.Nil(t, describe(nil))
	assert.Nil(t, describe((&epUsers{}).Show), "a method value of another type")
	assert.False(t, called, "describe never calls a view it does not know")

	mvView := MethodView(&epAPI{})
	mv, ok := describe(mvView).(*methodView)
	require.True(t, ok)
	assert.Equal(t, []string{"GET", "POST"}, mv.methods)

	dec := Decorate(plain, func(v View) View { return v })
	d, ok := describe(dec).(*decorated)
	require.True(t, ok)
	assert.Nil(t, describe(d.inner), "the inner view is the plain one")
	assert.False(t, called)

	assert.NotSame(t, describe(MethodView(&epAPI{})), mv, "each MethodView call is a view of its own")
	assert.Same(t, describe(mvView), mv, "and the same one each time it is asked")
}

func TestViewMethods(t *testing.T) {
	assert.Nil(t, viewMethods(epAbout))
	assert.Nil(t, viewMethods(nil))
	assert.Nil(t, viewMethods(Decorate(epAbout, func(v View) View { return v })))
	assert.Equal(t, []string{"GET", "POST"}, viewMethods(MethodView(&epAPI{})))
	assert.Equal(t, []string{"GET", "POST"}, viewMethods(MethodViewFunc(func() *epAPI { return &epAPI{} })))
	view := Decorate(MethodView(&epAPI{}), func(v View) View { return v }, func(v View) View { return v })
	got := viewMethods(view)
	require.Equal(t, []string{"GET", "POST"}, got, "through two decorators")
	got[0] = "PUT"
	assert.Equal(t, []string{"GET", "POST"}, viewMethods(view), "the caller gets a copy")
}

func TestCheckViewCollisionOfViewsVialMakes(t *testing.T) {
	r := &Rule{Rule: "/users", Endpoint: "users"}
	mv := MethodView(&epAPI{})
	assert.NotPanics(t, func() { checkViewCollision(mv, mv, r) }, "one MethodView on two rules")
	dec := Decorate(epAbout, func(v View) View { return v })
	assert.NotPanics(t, func() { checkViewCollision(dec, dec, r) })

	for _, c := range []struct{ old, view View }{
		{mv, MethodView(&epAPI{})},
		{dec, Decorate(epAbout, func(v View) View { return v })},
		{mv, epAbout},
		{epAbout, dec},
	} {
		assert.PanicsWithValue(t, fmt.Sprintf(`vial: rule "/users": view %s is overwriting the existing view %s `+
			`for endpoint "users"; name the endpoints apart with vial.Endpoint`, viewString(c.view), viewString(c.old)),
			func() { checkViewCollision(c.old, c.view, r) })
	}
	assert.Equal(t, "vial.MethodView(*vial.epAPI)", viewString(mv))
	assert.Equal(t, "vial.Decorate(github.com/vial-go/vial.epAbout)", viewString(dec))
}

// Through an App: the names a user meets.

type usersH struct{}

func (usersH) List(r *Request) any { return "users" }

type postsH struct{}

func (postsH) List(r *Request) any { return "posts" }

func TestAnonymousViewsOfOneRuleWithOtherMethodsAreTwoEndpoints(t *testing.T) {
	app := New("test")
	app.Get("/items", func(r *Request) any { return "list " + r.Endpoint })
	app.Post("/items", func(r *Request) any { return "add " + r.Endpoint })
	app.Route("/items", Methods("PUT", "PATCH"))(func(r *Request) any { return "replace " + r.Endpoint })
	c := app.TestClient()
	assert.Equal(t, "list /items", c.Get("/items").Text())
	assert.Equal(t, "add POST /items", c.Post("/items").Text())
	assert.Equal(t, "replace PATCH,PUT /items", c.Put("/items").Text())
	assert.Equal(t, "/items", app.URLFor("POST /items"))
	assert.Equal(t, "/items", app.URLFor("/items"))
}

func TestTwoAnonymousViewsForOneEndpointPanicWithTheFix(t *testing.T) {
	app := New("test")
	app.Get("/items", func(r *Request) any { return "one" })
	second := func(r *Request) any { return "two" }
	assert.PanicsWithValue(t, `vial: rule "/items": view function github.com/vial-go/vial.`+
		`TestTwoAnonymousViewsForOneEndpointPanicWithTheFix.func2 is overwriting the existing view `+
		`github.com/vial-go/vial.TestTwoAnonymousViewsForOneEndpointPanicWithTheFix.func1 for endpoint "/items"; `+
		`name the endpoints apart with vial.Endpoint`,
		func() { app.Route("/items", Methods("GET", "POST"))(second) })
	app.Post("/items", func(r *Request) any { return "three" }, Endpoint("add_item"))
	assert.Equal(t, "three", app.TestClient().Post("/items").Text())
}

func TestMethodValuesAreNamedAfterTheirTypeAndMethod(t *testing.T) {
	app := New("test")
	app.Get("/users", usersH{}.List)
	app.Get("/posts", postsH{}.List)
	app.Get("/users/<int:id>", (&epUsers{}).Show)
	app.Get("/about", epAbout)
	assert.Equal(t, "/users", app.URLFor("usersH_List"))
	assert.Equal(t, "/posts", app.URLFor("postsH_List"))
	assert.Equal(t, "/users/4", app.URLFor("epUsers_Show", "id", 4))
	assert.Equal(t, "/about", app.URLFor("epAbout"), "a function keeps its name")
	assert.Equal(t, "posts", app.TestClient().Get("/posts").Text())
}
