package vial_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// userAPI is a class-based view: GET, POST and DELETE, one method each.
type userAPI struct{ deleted []int }

func (u *userAPI) Get(r *vial.Request) any {
	return fmt.Sprintf("user %d", r.ViewArgs["id"])
}

func (u *userAPI) Post(r *vial.Request) any {
	return vial.MakeResponse("created", 201)
}

func (u *userAPI) Delete(r *vial.Request) any {
	u.deleted = append(u.deleted, r.ViewArgs["id"].(int))
	return vial.MakeResponse("", 204)
}

func TestMethodViewCallsTheMethodOfTheRequest(t *testing.T) {
	app := vial.New("test")
	api := &userAPI{}
	app.AddURLRule("/users/<int:id>", "user", vial.MethodView(api), vial.Methods("GET", "POST", "DELETE"))
	c := app.TestClient()

	resp := c.Get("/users/7")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "user 7", resp.Text())
	resp = c.Post("/users/7")
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, "created", resp.Text())
	assert.Equal(t, 204, c.Delete("/users/7").StatusCode)
	assert.Equal(t, []int{7}, api.deleted, "the value given is the one called")

	resp = c.Head("/users/7")
	assert.Equal(t, 200, resp.StatusCode, "HEAD is answered by Get")
	assert.Empty(t, resp.Text())
	assert.Equal(t, "6", resp.Header.Get("Content-Length"), "Get's response, without its body")
}

func TestMethodViewRuleAnswersTheMethodsOfTheType(t *testing.T) {
	// Waits on AddURLRule taking a rule's methods from viewMethods.
	app := vial.New("test")
	app.AddURLRule("/users/<int:id>", "user", vial.MethodView(&userAPI{}))
	c := app.TestClient()

	assert.Equal(t, 201, c.Post("/users/7").StatusCode)
	assert.Equal(t, 204, c.Delete("/users/7").StatusCode)
	resp := c.Put("/users/7")
	assert.Equal(t, 405, resp.StatusCode, "the type has no Put")
	assert.Equal(t, "DELETE, GET, HEAD, OPTIONS, POST", resp.Header.Get("Allow"))
	resp = c.Options("/users/7")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "DELETE, GET, HEAD, OPTIONS, POST", resp.Header.Get("Allow"))
}

func TestMethodViewAnswers405ForAMethodItLacks(t *testing.T) {
	// The rule allows PUT and PATCH, the type does not: the view refuses them.
	app := vial.New("test")
	app.AddURLRule("/users/<int:id>", "user", vial.MethodView(&userAPI{}),
		vial.Methods("GET", "PUT", "PATCH"))
	var handled error
	app.ErrorHandler(405, func(r *vial.Request, err error) any {
		handled = err
		return err
	})

	resp := app.TestClient().Put("/users/1")
	assert.Equal(t, 405, resp.StatusCode)
	assert.Equal(t, "GET, HEAD, OPTIONS", resp.Header.Get("Allow"), "the methods of the rule the type has")
	assert.Contains(t, resp.Text(), "The method is not allowed for the requested URL.")
	assert.ErrorIs(t, handled, vial.ErrMethodNotAllowed, "an HTTPError the error handlers see")
	assert.Equal(t, "GET, HEAD, OPTIONS", app.TestClient().Patch("/users/1").Header.Get("Allow"))
}

// resource has all of a MethodView's methods.
type resource struct{}

func (resource) Get(r *vial.Request) any { return "get" }
func (resource) Head(r *vial.Request) any {
	return vial.MakeResponse("", 200, map[string]string{"X-Head": "own"})
}
func (resource) Post(r *vial.Request) any    { return "post" }
func (resource) Put(r *vial.Request) any     { return "put" }
func (resource) Patch(r *vial.Request) any   { return "patch" }
func (resource) Delete(r *vial.Request) any  { return "delete" }
func (resource) Options(r *vial.Request) any { return "options" }
func (resource) Trace(r *vial.Request) any   { return "trace" }

func TestMethodViewCallsEachOfItsMethods(t *testing.T) {
	app := vial.New("test")
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}
	app.AddURLRule("/r", "r", vial.MethodView(resource{}), vial.Methods(methods...))
	c := app.TestClient()
	for _, m := range methods {
		resp := c.Open(m, "/r")
		require.Equal(t, 200, resp.StatusCode, m)
		if m == "HEAD" {
			assert.Equal(t, "own", resp.Header.Get("X-Head"), "a type's Head answers HEAD")
			continue
		}
		assert.Equal(t, map[string]string{"GET": "get", "POST": "post", "PUT": "put", "PATCH": "patch",
			"DELETE": "delete", "OPTIONS": "options", "TRACE": "trace"}[m], resp.Text(), m)
	}
}

func TestMethodViewWithOptionsAnswersOptionsItself(t *testing.T) {
	// Waits on AddURLRule taking a rule's methods from viewMethods: with
	// OPTIONS among them, the automatic answer is off, as in Flask.
	app := vial.New("test")
	app.AddURLRule("/r", "r", vial.MethodView(resource{}))
	resp := app.TestClient().Options("/r")
	assert.Equal(t, "options", resp.Text())
	assert.Equal(t, "trace", app.TestClient().Open("TRACE", "/r").Text())
}

func TestMethodViewIsNamedAfterItsType(t *testing.T) {
	app := vial.New("test")
	app.AddURLRule("/users/<int:id>", "", vial.MethodView(&userAPI{}), vial.Methods("GET"))
	app.Get("/resource", vial.MethodView(resource{}))
	app.Get("/me", func(r *vial.Request) any { return r.Endpoint + " " + r.URLFor("userAPI", "id", 3) })

	assert.Equal(t, "/users/3", app.URLFor("userAPI", "id", 3))
	assert.Equal(t, "/resource", app.URLFor("resource"))
	assert.Equal(t, "/me /users/3", app.TestClient().Get("/me").Text())
}

func TestOneMethodViewMayServeSeveralRules(t *testing.T) {
	app := vial.New("test")
	view := vial.MethodView(&userAPI{})
	app.AddURLRule("/users/", "user", view, vial.Methods("GET"), vial.Defaults(map[string]any{"id": 0}))
	app.AddURLRule("/users/<int:id>", "user", view, vial.Methods("GET"))

	// Another MethodView of the same type is another view.
	msg := ""
	func() {
		defer func() { msg = fmt.Sprint(recover()) }()
		app.AddURLRule("/people/<int:id>", "user", vial.MethodView(&userAPI{}), vial.Methods("GET"))
	}()
	assert.Contains(t, msg, `rule "/people/<int:id>"`)
	assert.Contains(t, msg, "vial.MethodView(*vial_test.userAPI)")
	assert.Contains(t, msg, "vial.Endpoint")

	assert.Equal(t, "user 0", app.TestClient().Get("/users/").Text())
	assert.Equal(t, "user 5", app.TestClient().Get("/users/5").Text())
	assert.Equal(t, 404, app.TestClient().Get("/people/5").StatusCode, "the refused rule was not added")
}

// report keeps the state of one request: MethodViewFunc makes one a request.
type report struct {
	lines []string
	made  *atomic.Int32
}

func (p *report) Get(r *vial.Request) any {
	p.lines = append(p.lines, "line for "+r.Path)
	return fmt.Sprint(p.lines)
}

func TestMethodViewFuncMakesAValuePerRequest(t *testing.T) {
	app := vial.New("test")
	var made atomic.Int32
	app.Get("/report", vial.MethodViewFunc(func() *report {
		made.Add(1)
		return &report{made: &made}
	}))
	assert.Zero(t, made.Load(), "nothing is made before a request")
	c := app.TestClient()
	assert.Equal(t, "[line for /report]", c.Get("/report").Text())
	assert.Equal(t, "[line for /report]", c.Get("/report").Text(), "a fresh value: no line of the first request")
	assert.Equal(t, int32(2), made.Load())
	assert.Equal(t, 200, c.Head("/report").StatusCode)
	assert.Equal(t, int32(3), made.Load())
	assert.Equal(t, "/report", app.URLFor("report"), "named after its type")
}

func TestMethodViewFuncRuleAnswersTheMethodsOfTheType(t *testing.T) {
	// Waits on AddURLRule taking a rule's methods from viewMethods.
	app := vial.New("test")
	app.AddURLRule("/users/<int:id>", "", vial.MethodViewFunc(func() *userAPI { return &userAPI{} }))
	resp := app.TestClient().Options("/users/1")
	assert.Equal(t, "DELETE, GET, HEAD, OPTIONS, POST", resp.Header.Get("Allow"))
	assert.Equal(t, 201, app.TestClient().Post("/users/1").StatusCode)
}

type noVerbs struct{}

func (noVerbs) List(r *vial.Request) any { return nil }

type badGet struct{}

func (badGet) Get(key string) string { return key }

type ptrOnly struct{}

func (*ptrOnly) Get(r *vial.Request) any { return nil }
func (*ptrOnly) Put(r *vial.Request) any { return nil }

func TestMethodViewRefusesWhatCannotBeOne(t *testing.T) {
	assert.PanicsWithValue(t, "vial.MethodView: vial_test.noVerbs has none of the methods Get, Post, Put, Patch, "+
		"Delete, Head, Options, Trace (func(*vial.Request) any)", func() { vial.MethodView(noVerbs{}) })
	assert.PanicsWithValue(t, "vial.MethodView: (vial_test.badGet).Get is func(vial_test.badGet, string) string; "+
		"a MethodView's Get must be func(*vial.Request) any", func() { vial.MethodView(badGet{}) })
	assert.PanicsWithValue(t, "vial.MethodView: vial_test.ptrOnly has no methods of a view, *vial_test.ptrOnly has "+
		"Get, Put: pass a *vial_test.ptrOnly", func() { vial.MethodView(ptrOnly{}) })
	assert.PanicsWithValue(t, "vial.MethodView: the value is nil", func() { vial.MethodView(nil) })
	assert.PanicsWithValue(t, "vial.MethodViewFunc: vial_test.noVerbs has none of the methods Get, Post, Put, Patch, "+
		"Delete, Head, Options, Trace (func(*vial.Request) any)",
		func() { vial.MethodViewFunc(func() noVerbs { return noVerbs{} }) })
	assert.PanicsWithValue(t, "vial.MethodViewFunc: interface {} is an interface type; make newView return the "+
		"concrete type, whose methods are the view's", func() { vial.MethodViewFunc(func() any { return &userAPI{} }) })
	assert.NotPanics(t, func() { vial.MethodView(&ptrOnly{}) })
}

func BenchmarkMethodView(b *testing.B) {
	plain := vial.View(func(r *vial.Request) any { return "get" })
	views := []struct {
		name string
		view vial.View
	}{
		{"plain", plain},
		{"MethodView", vial.MethodView(resource{})},
		{"MethodViewFunc", vial.MethodViewFunc(func() *resource { return &resource{} })},
		{"Decorate", vial.Decorate(plain, func(next vial.View) vial.View { return next })},
	}
	for _, v := range views {
		b.Run("call/"+v.name, func(b *testing.B) {
			r := &vial.Request{Method: "GET"}
			b.ReportAllocs()
			for b.Loop() {
				if v.view(r) != "get" {
					b.Fatal("not the Get")
				}
			}
		})
	}
	for _, v := range views {
		b.Run("app/"+v.name, func(b *testing.B) {
			app := vial.New("bench")
			app.Get("/r", v.view)
			req := httptest.NewRequest("GET", "/r", nil)
			w := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				app.ServeHTTP(w, req)
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing but its header map.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
