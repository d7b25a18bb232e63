package vial_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// scopedApp is an App with a blueprint "api" under /api and "v1" nested
// in it under /v1, each scope's hooks writing to ev.
func scopedApp(ev *events, logs *bytes.Buffer) *vial.App {
	app := quietApp(logs)
	api := vial.NewBlueprint("api", vial.URLPrefix("/api"))
	v1 := vial.NewBlueprint("v1", vial.URLPrefix("/v1"))
	for _, s := range []struct {
		name string
		sc   *vial.Scaffold
	}{{"app", &app.Scaffold}, {"api", &api.Scaffold}, {"v1", &v1.Scaffold}} {
		name := s.name
		s.sc.URLValuePreprocessor(func(r *vial.Request, endpoint string, _ map[string]any) {
			ev.add("url-values %s %s", name, endpoint)
		})
		for i := 1; i <= 2; i++ {
			s.sc.BeforeRequest(func(r *vial.Request) any { ev.add("before %s %d", name, i); return nil })
			s.sc.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
				ev.add("after %s %d", name, i)
				return resp
			})
			s.sc.TeardownRequest(func(r *vial.Request, err error) { ev.add("teardown %s %d err=%v", name, i, err) })
		}
	}
	v1.Get("/users/<int:id>", func(r *vial.Request) any {
		ev.add("view %s %v %v", r.Endpoint, r.Blueprint, r.Blueprints)
		return r.URLFor(".user", "id", r.ViewArgs["id"]) + " " + r.URLFor("index")
	}, vial.Endpoint("user"))
	v1.Get("/gone", func(r *vial.Request) any { return vial.Abort(404) })
	v1.Get("/boom", func(r *vial.Request) any { return errors.New("boom") })
	app.Get("/", func(r *vial.Request) any { return "index" }, vial.Endpoint("index"))
	api.RegisterBlueprint(v1)
	app.RegisterBlueprint(api)
	return app
}

// The hooks of a nested blueprint's request run as Flask runs them:
// preprocessors and before-request functions app, outer, inner, in
// registration order; after-request and teardown inner, outer, app, newest
// first.
func TestBlueprintLifecycleOrder(t *testing.T) {
	ev := &events{}
	app := scopedApp(ev, &bytes.Buffer{})
	resp := app.TestClient().Get("/api/v1/users/7")
	require.Equal(t, 200, resp.StatusCode, resp.Text())
	assert.Equal(t, "/api/v1/users/7 /", resp.Text(), `".user" is relative to the request's blueprint`)
	assert.Equal(t, []string{
		"url-values app api.v1.user", "url-values api api.v1.user", "url-values v1 api.v1.user",
		"before app 1", "before app 2", "before api 1", "before api 2", "before v1 1", "before v1 2",
		"view api.v1.user api.v1 [api.v1 api]",
		"after v1 2", "after v1 1", "after api 2", "after api 1", "after app 2", "after app 1",
		"teardown v1 2 err=<nil>", "teardown v1 1 err=<nil>", "teardown api 2 err=<nil>",
		"teardown api 1 err=<nil>", "teardown app 2 err=<nil>", "teardown app 1 err=<nil>",
	}, ev.take())

	resp = app.TestClient().Get("/")
	require.Equal(t, "index", resp.Text())
	assert.Equal(t, []string{"url-values app index", "before app 1", "before app 2",
		"after app 2", "after app 1", "teardown app 2 err=<nil>", "teardown app 1 err=<nil>"},
		ev.take(), "the App's own view: the App's hooks only")
}

// A URL under a blueprint's prefix that matched no rule belongs to no
// blueprint: only the App's hooks run, and its 404.
func TestBlueprintUnmatchedURLIsTheApps(t *testing.T) {
	ev := &events{}
	app := scopedApp(ev, &bytes.Buffer{})
	assert.Equal(t, 404, app.TestClient().Get("/api/v1/nothing").StatusCode)
	assert.Equal(t, []string{"url-values app ", "before app 1", "before app 2",
		"after app 2", "after app 1", "teardown app 2 err=<nil>", "teardown app 1 err=<nil>"}, ev.take())
}

// An unhandled error in a blueprint's view reaches every scope's teardown.
func TestBlueprintUnhandledErrorTearsDownEveryScope(t *testing.T) {
	ev := &events{}
	var logs bytes.Buffer
	app := scopedApp(ev, &logs)
	assert.Equal(t, 500, app.TestClient().Get("/api/v1/boom").StatusCode)
	got := ev.take()
	assert.Contains(t, got, "teardown v1 1 err=boom")
	assert.Contains(t, got, "teardown app 1 err=boom")
	assert.Contains(t, got, "after api 1", "the 500 page goes through the after-request functions")
	assert.Contains(t, logs.String(), "Exception on /api/v1/boom")
}

// A blueprint's before-request function that returns a value ends the
// request there: inner blueprints' functions and the view are skipped;
// every scope's after-request functions still run.
func TestBlueprintBeforeRequestShortCircuits(t *testing.T) {
	app := vial.New("short")
	var ran []string
	admin := vial.NewBlueprint("admin", vial.URLPrefix("/admin"))
	admin.BeforeRequest(func(r *vial.Request) any {
		if r.Header.Get("X-Admin") == "" {
			return vial.Abort(403)
		}
		return nil
	})
	admin.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		ran = append(ran, "admin after")
		return resp
	})
	admin.Get("/", func(r *vial.Request) any { ran = append(ran, "view"); return "welcome" }, vial.Endpoint("home"))
	app.Get("/", func(r *vial.Request) any { return "public" })
	app.RegisterBlueprint(admin)
	c := app.TestClient()

	assert.Equal(t, 403, c.Get("/admin/").StatusCode)
	assert.Equal(t, []string{"admin after"}, ran, "no view; the after-request functions run")
	assert.Equal(t, 200, c.Get("/").StatusCode, "the App's views are not the blueprint's")
	assert.Equal(t, "welcome", c.Get("/admin/", vial.WithHeader("X-Admin", "1")).Text())
}

// Error handlers are looked up blueprint by code, App by code, blueprint
// by type, App by type; a blueprint's 404 handler sees only its views'
// aborts.
func TestBlueprintErrorHandlerLookup(t *testing.T) {
	app := vial.New("errors")
	bp := vial.NewBlueprint("bp", vial.URLPrefix("/bp"))
	app.ErrorHandler(404, func(r *vial.Request, err error) any { return vial.MakeResponse("app 404", 404) })
	bp.ErrorHandler(404, func(r *vial.Request, err error) any { return vial.MakeResponse("bp 404", 404) })
	app.ErrorHandler(403, func(r *vial.Request, err error) any { return vial.MakeResponse("app 403", 403) })
	bp.ErrorHandler((*vial.HTTPError)(nil), func(r *vial.Request, err error) any { return vial.MakeResponse("bp by type", 418) })
	errTeapot := errors.New("teapot")
	app.ErrorHandler(errTeapot, func(r *vial.Request, err error) any { return "app by value" })
	bp.Get("/missing", func(r *vial.Request) any { return vial.Abort(404) })
	bp.Get("/forbidden", func(r *vial.Request) any { return vial.Abort(403) })
	bp.Get("/conflict", func(r *vial.Request) any { return vial.Abort(409) })
	bp.Get("/teapot", func(r *vial.Request) any { return errTeapot })
	app.Get("/missing", func(r *vial.Request) any { return vial.Abort(404) })
	app.RegisterBlueprint(bp)
	c := app.TestClient()

	assert.Equal(t, "bp 404", c.Get("/bp/missing").Text(), "blueprint by code first")
	assert.Equal(t, "app 404", c.Get("/missing").Text(), "the App's view: the App's handler")
	assert.Equal(t, "app 404", c.Get("/bp/nothing").Text(), "no rule matched: not the blueprint's")
	assert.Equal(t, "app 403", c.Get("/bp/forbidden").Text(), "App by code before blueprint by type")
	assert.Equal(t, "bp by type", c.Get("/bp/conflict").Text(), "blueprint by type when no code handler")
	assert.Equal(t, "app by value", c.Get("/bp/teapot").Text(), "then the App's by value")
}

// One blueprint registered twice, under two names and prefixes: two sets
// of endpoints; its App-wide hooks are added once.
func TestBlueprintRegisteredTwice(t *testing.T) {
	app := vial.New("twice")
	calls := 0
	pages := vial.NewBlueprint("pages", vial.URLPrefix("/pages"))
	pages.BeforeAppRequest(func(r *vial.Request) any { calls++; return nil })
	pages.Get("/about", func(r *vial.Request) any { return r.Endpoint + " " + r.URLFor(".about") }, vial.Endpoint("about"))
	app.RegisterBlueprint(pages)
	app.RegisterBlueprint(pages, vial.BlueprintName("docs"), vial.URLPrefix("/docs"))
	app.Get("/", func(r *vial.Request) any { return "home" })
	c := app.TestClient()

	assert.Equal(t, "pages.about /pages/about", c.Get("/pages/about").Text())
	assert.Equal(t, "docs.about /docs/about", c.Get("/docs/about").Text())
	calls = 0
	c.Get("/")
	assert.Equal(t, 1, calls, "BeforeAppRequest runs for the App's views, once")
}

// Flask's language-code pattern: the blueprint's preprocessor takes
// lang_code out of the view arguments into g, its URL defaults put it back.
func TestBlueprintLangCodePattern(t *testing.T) {
	app := vial.New("i18n")
	bp := vial.NewBlueprint("frontend", vial.URLPrefix("/<lang_code>"))
	bp.URLValuePreprocessor(func(r *vial.Request, endpoint string, values map[string]any) {
		r.G.Set("lang_code", values["lang_code"])
		delete(values, "lang_code")
	})
	bp.URLDefaults(func(r *vial.Request, endpoint string, values map[string]any) {
		if _, given := values["lang_code"]; !given && r != nil {
			values["lang_code"] = r.G.Get("lang_code")
		}
	})
	bp.Get("/", func(r *vial.Request) any {
		_, leaked := r.ViewArgs["lang_code"]
		return map[string]any{"lang": r.G.Get("lang_code"), "leaked": leaked,
			"about": r.URLFor(".about"), "german": r.URLFor(".about", "lang_code", "de")}
	}, vial.Endpoint("index"))
	bp.Get("/about", func(r *vial.Request) any { return "about" }, vial.Endpoint("about"))
	app.RegisterBlueprint(bp)

	resp := app.TestClient().Get("/fr/")
	require.Equal(t, 200, resp.StatusCode, resp.Text())
	assert.JSONEq(t, `{"lang":"fr","leaked":false,"about":"/fr/about","german":"/de/about"}`, resp.Text())
	assert.Equal(t, "/en/about", app.URLFor("frontend.about", "lang_code", "en"), "outside a request, given")
}

// A blueprint's decorators apply to every view, of nested blueprints too;
// its URL defaults to its own views, a rule's own defaults winning.
func TestBlueprintDefaultsAndDecorators(t *testing.T) {
	app := vial.New("deco")
	tag := func(name string) func(vial.View) vial.View {
		return func(next vial.View) vial.View {
			return func(r *vial.Request) any { return name + "(" + next(r).(string) + ")" }
		}
	}
	admin := vial.NewBlueprint("admin", vial.URLPrefix("/admin"), vial.URLDefaults(map[string]any{"page": 1, "kind": "all"}))
	admin.Decorate(tag("outer"))
	users := vial.NewBlueprint("users", vial.URLPrefix("/users"))
	users.Decorate(tag("inner"))
	users.Get("/<name>", showName, vial.Endpoint("show"))
	users.Get("/<name>/again", showName, vial.Endpoint("show"))
	admin.Get("/", listKind, vial.Defaults(map[string]any{"kind": "mine"}))
	admin.RegisterBlueprint(users)
	app.RegisterBlueprint(admin)
	c := app.TestClient()

	assert.Equal(t, "outer(inner(ann))", c.Get("/admin/users/ann").Text(), "a parent's decorators outside its children's")
	assert.Equal(t, "outer(inner(bob))", c.Get("/admin/users/bob/again").Text(), "two rules of one endpoint share its view")
	assert.Equal(t, "outer(mine admin.listKind)", c.Get("/admin/").Text(), "the rule's own defaults win; the endpoint is the view's name")
}

// The routes command lists blueprint endpoints with their full rules.
func TestBlueprintRoutesAreListed(t *testing.T) {
	app := scopedApp(&events{}, &bytes.Buffer{})
	var out, errs bytes.Buffer
	require.Equal(t, 0, app.RunCLI([]string{"routes", "--sort", "rule"}, &out, &errs), errs.String())
	assert.Regexp(t, `api\.v1\.user\s+GET\s+/api/v1/users/<int:id>`, out.String())
}

// Setting up wrongly panics at registration, naming the blueprint.
func TestBlueprintSetupMistakesPanic(t *testing.T) {
	assert.PanicsWithValue(t, "vial: NewBlueprint: a blueprint's name may not be empty", func() { vial.NewBlueprint("") })
	assert.PanicsWithValue(t, `vial: NewBlueprint("a.b"): a blueprint's name may not contain a dot`, func() { vial.NewBlueprint("a.b") })
	bp := vial.NewBlueprint("bp")
	assert.PanicsWithValue(t, `vial: blueprint "bp", rule "/x": the endpoint "x.y" may not contain a dot`, func() {
		bp.Get("/x", func(r *vial.Request) any { return "" }, vial.Endpoint("x.y"))
	})
	assert.PanicsWithValue(t, `vial: blueprint "bp" cannot be registered on itself`, func() { bp.RegisterBlueprint(bp) })

	app := vial.New("mistakes")
	app.RegisterBlueprint(bp)
	assert.PanicsWithValue(t, `vial: RegisterBlueprint: the name "bp" is already registered for this blueprint; `+
		`register it under another name with vial.BlueprintName`, func() { app.RegisterBlueprint(bp) })
	assert.PanicsWithValue(t, `vial: RegisterBlueprint: the name "bp" is already registered for a different blueprint; `+
		`register it under another name with vial.BlueprintName`, func() { app.RegisterBlueprint(vial.NewBlueprint("bp")) })
	assert.PanicsWithValue(t, `vial: BeforeRequest called on the blueprint "bp" after it was registered; `+
		`set a blueprint up completely before registering it`, func() { bp.BeforeRequest(func(*vial.Request) any { return nil }) })
	assert.PanicsWithValue(t, `vial: BlueprintName("x.y"): a blueprint's name may not contain a dot`, func() {
		app.RegisterBlueprint(vial.NewBlueprint("other"), vial.BlueprintName("x.y"))
	})
	assert.Panics(t, func() { vial.NewBlueprint("n", vial.BlueprintName("m")) }, "BlueprintName is for registration")

	app.TestClient().Get("/")
	assert.PanicsWithValue(t, "vial: RegisterBlueprint(late) called after the app served its first request; "+
		"register every rule, hook and handler before the app starts serving", func() {
		app.RegisterBlueprint(vial.NewBlueprint("late"))
	})
}

func showName(r *vial.Request) any { return r.ViewArgs["name"].(string) }

func listKind(r *vial.Request) any {
	return strings.Join([]string{r.ViewArgs["kind"].(string), r.Endpoint}, " ")
}

// A blueprint's Subdomain puts its rules in that subdomain, a nested one's
// before its parent's; automatic OPTIONS lists the methods of the
// request's subdomain.
func TestBlueprintSubdomain(t *testing.T) {
	app := vial.New("subs")
	app.Config["SERVER_NAME"] = "example.com"
	app.Config["SUBDOMAIN_MATCHING"] = true
	api := vial.NewBlueprint("api", vial.Subdomain("api"))
	v1 := vial.NewBlueprint("v1", vial.Subdomain("v1"), vial.URLPrefix("/v1"))
	who := func(r *vial.Request) any { return r.Endpoint }
	api.Get("/users", who, vial.Endpoint("users"))
	api.Post("/users", who, vial.Endpoint("add_user"))
	v1.Get("/users", who, vial.Endpoint("users"))
	app.Get("/users", who, vial.Endpoint("users"))
	app.Get("/", func(r *vial.Request) any { return app.URLFor("api.v1.users") })
	api.RegisterBlueprint(v1)
	app.RegisterBlueprint(api)
	app.RegisterBlueprint(vial.NewBlueprint("docs"), vial.Subdomain("docs"))
	c := app.TestClient()

	assert.Equal(t, "api.users", c.Get("http://api.example.com/users").Text())
	assert.Equal(t, "users", c.Get("http://example.com/users").Text())
	assert.Equal(t, "api.v1.users", c.Get("http://v1.api.example.com/v1/users").Text())
	assert.Equal(t, 404, c.Get("http://api.example.com/v1/users").StatusCode, "v1's rules are in v1.api")
	assert.Equal(t, "http://v1.api.example.com/v1/users", c.Get("http://example.com/").Text(),
		"another subdomain's URL is external")

	resp := c.Open("OPTIONS", "http://api.example.com/users")
	assert.Equal(t, "GET, HEAD, OPTIONS, POST", resp.Header.Get("Allow"), "the api subdomain's methods")
	resp = c.Open("OPTIONS", "http://example.com/users")
	assert.Equal(t, "GET, HEAD, OPTIONS", resp.Header.Get("Allow"), "the default subdomain's")
}

// A blueprint's URL defaults are its own views', not those of the
// blueprints nested in it, as in Flask: a nested registration passes on
// its prefix and subdomain only. Defaults given when registering a nested
// blueprint are added to its own.
func TestBlueprintURLDefaultsAreNotInherited(t *testing.T) {
	app := vial.New("defaults")
	args := func(r *vial.Request) any { return fmt.Sprint(r.ViewArgs) }
	admin := vial.NewBlueprint("admin", vial.URLPrefix("/admin"), vial.URLDefaults(map[string]any{"page": 1}))
	users := vial.NewBlueprint("users", vial.URLPrefix("/users"), vial.URLDefaults(map[string]any{"kind": "all"}))
	admin.Get("/", args, vial.Endpoint("home"))
	users.Get("/", args, vial.Endpoint("list"))
	admin.RegisterBlueprint(users, vial.URLDefaults(map[string]any{"sort": "name"}))
	app.RegisterBlueprint(admin)
	c := app.TestClient()

	assert.Equal(t, "map[page:1]", c.Get("/admin/").Text())
	assert.Equal(t, "map[kind:all sort:name]", c.Get("/admin/users/").Text(), "not admin's page")
}

// Concurrent first requests build the scopes once, without a race (run
// with -race): each gets its blueprint's hooks.
func TestBlueprintConcurrentFirstRequests(t *testing.T) {
	app := vial.New("concurrent")
	api := vial.NewBlueprint("api", vial.URLPrefix("/api"))
	api.BeforeRequest(func(r *vial.Request) any { r.G.Set("scope", "api"); return nil })
	api.Get("/x", func(r *vial.Request) any { return r.G.Get("scope").(string) + " " + r.Blueprint }, vial.Endpoint("x"))
	app.Get("/", func(r *vial.Request) any { return "app" })
	app.RegisterBlueprint(api)
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Go(func() {
			path := "/api/x"
			if i%2 == 1 {
				path = "/"
			}
			got[i] = app.TestClient().Get(path).Text()
		})
	}
	wg.Wait()
	for i, text := range got {
		assert.Equal(t, map[bool]string{true: "api api", false: "app"}[i%2 == 0], text, i)
	}
}

// A nil blueprint, and blueprints nested in each other, panic with the
// culprit named instead of crashing.
func TestBlueprintNilAndCyclesPanic(t *testing.T) {
	app := vial.New("cycles")
	assert.PanicsWithValue(t, "vial: RegisterBlueprint: nil blueprint", func() { app.RegisterBlueprint(nil) })
	a, b := vial.NewBlueprint("a"), vial.NewBlueprint("b")
	assert.PanicsWithValue(t, `vial: blueprint "a": RegisterBlueprint: nil blueprint`, func() { a.RegisterBlueprint(nil) })
	a.RegisterBlueprint(b)
	b.RegisterBlueprint(a)
	assert.PanicsWithValue(t, `vial: RegisterBlueprint: the blueprint "a" is nested in itself (a.b.a)`, func() { app.RegisterBlueprint(a) })
}
