package vial_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/middleware"
)

// siteApp is the outer App of the mount tests: "/" and "/apix" are its.
func siteApp() *vial.App {
	app := vial.New("site")
	app.Get("/", func(r *vial.Request) any { return "site " + r.ScriptRoot + r.Path })
	app.Get("/apix", func(r *vial.Request) any { return "site " + r.Path })
	return app
}

// usersMux is a net/http router that says what it saw of the request.
func usersMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "mux %s %s", r.URL.Path, gateway.ScriptName(r))
	})
	return mux
}

// apiApp is a vial App to mount: a hook, its own Use middleware, a rule
// that builds its URL, and one with a trailing slash.
func apiApp() *vial.App {
	api := vial.New("api")
	api.BeforeRequest(func(r *vial.Request) any {
		r.G.Set("hook", "ran")
		return nil
	})
	api.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-API", r.URL.Path)
			next.ServeHTTP(w, r)
		})
	})
	api.Get("/users/<int:id>", func(r *vial.Request) any {
		hook := r.G.Get("hook")
		return fmt.Sprintf("api %s %s %v %s", r.ScriptRoot, r.Path, hook, r.URLFor("user", "id", r.ViewArgs["id"]))
	}, vial.Endpoint("user"))
	api.Get("/dir/", func(r *vial.Request) any { return "dir" })
	return api
}

func TestMountServeMuxSeesTheStrippedPath(t *testing.T) {
	app := siteApp()
	app.Mount("/api", usersMux())
	c := app.TestClient()

	resp := c.Get("/api/users")
	require.Equal(t, 200, resp.StatusCode, resp.Text())
	assert.Equal(t, "mux /users /api", resp.Text(), "as behind http.StripPrefix, the prefix in gateway.ScriptName")
	assert.Equal(t, 404, c.Get("/api/nothing").StatusCode, "the mux's own 404")
	assert.Equal(t, "site /apix", c.Get("/apix").Text(), "not below the prefix: the App")
	assert.Equal(t, "site /", c.Get("/").Text())
	assert.Equal(t, 404, c.Get("/users").StatusCode, "the mux is not at the root")
}

// The prefix itself, which a net/http handler would see as the empty path
// (and a ServeMux redirect to the App's "/"), redirects to the prefix with
// a slash, keeping the query; a gateway application sees PATH_INFO "".
func TestMountPrefixItselfRedirectsAHandlerBelowIt(t *testing.T) {
	app := siteApp()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "mux root") })
	app.Mount("/docs", mux)
	app.Mount("/gw", gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Strings("path_info=" + strconv.Quote(env.PathInfo))
	}))
	c := app.TestClient()

	resp := c.Get("/docs?q=1")
	assert.Equal(t, 308, resp.StatusCode)
	assert.Equal(t, "/docs/?q=1", resp.Header.Get("Location"))
	assert.Equal(t, "mux root", c.Get("/docs/").Text())
	assert.Equal(t, `path_info=""`, c.Get("/gw").Text())
}

func TestMountAppKeepsItsHooksMiddlewareAndURLs(t *testing.T) {
	app := siteApp()
	app.Mount("/api", apiApp())
	c := app.TestClient()

	resp := c.Get("/api/users/1")
	require.Equal(t, 200, resp.StatusCode, resp.Text())
	assert.Equal(t, "api /api /users/1 ran /api/users/1", resp.Text(), "routing on PATH_INFO, URLFor on SCRIPT_NAME, the hook run")
	assert.Equal(t, "/users/1", resp.Header.Get("X-API"), "the mounted App's own Use middleware, below the prefix")

	resp = c.Get("/")
	assert.Equal(t, "site /", resp.Text())
	assert.Empty(t, resp.Header.Get("X-API"), "the mounted App's middleware is its own")

	resp = c.Get("/api/dir?q=1")
	require.Equal(t, 308, resp.StatusCode)
	assert.Equal(t, "http://localhost/api/dir/?q=1", resp.Header.Get("Location"), "the strict-slash redirect keeps the prefix")

	resp = c.Head("/api/users/1")
	require.Equal(t, 200, resp.StatusCode)
	assert.Empty(t, resp.Text())
	assert.Equal(t, fmt.Sprint(len("api /api /users/1 ran /api/users/1")), resp.Header.Get("Content-Length"))
}

// Mounting before the mounted App is set up is fine: its stack is built
// when the outer App's is.
func TestMountAppSetUpAfterMounting(t *testing.T) {
	app := siteApp()
	api := vial.New("api")
	app.Mount("/api", api)
	api.Get("/late", func(r *vial.Request) any { return "late" })

	assert.Equal(t, "late", app.TestClient().Get("/api/late").Text())
	assert.Panics(t, func() { api.Get("/later", func(r *vial.Request) any { return "" }) },
		"serving the outer App ends the mounted App's setup too")
}

// Through a real server, the App serving itself with ServeHTTP.
func TestMountOverHTTP(t *testing.T) {
	app := siteApp()
	app.Mount("/api", apiApp())
	app.Mount("/mux", usersMux())
	srv := httptest.NewServer(app)
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}

	resp, body := get("/api/users/7")
	require.Equal(t, 200, resp.StatusCode, body)
	assert.Equal(t, "api /api /users/7 ran /api/users/7", body)
	assert.Equal(t, "/users/7", resp.Header.Get("X-API"))
	_, body = get("/mux/users")
	assert.Equal(t, "mux /users /mux", body)
	_, body = get("/")
	assert.Equal(t, "site /", body)
	resp, _ = get("/api/dir")
	assert.Equal(t, 308, resp.StatusCode)
	assert.Equal(t, srv.URL+"/api/dir/", resp.Header.Get("Location"))
}

// Flask's pattern with the Dispatcher itself: a vial App and a ServeMux
// mounted on a gateway application, served by gateway.Handler.
func TestDispatcherMountsAnAppAndAHandler(t *testing.T) {
	d := middleware.Dispatcher(siteApp(), map[string]gateway.Application{
		"/api": apiApp(), // its ServeGateway: the App without its Use middleware
		"/mux": gateway.FromHandler(usersMux()),
	})
	srv := httptest.NewServer(gateway.Handler(d))
	defer srv.Close()

	for path, want := range map[string]string{
		"/api/users/1": "api /api /users/1 ran /api/users/1",
		"/mux/users":   "mux /users /mux",
		"/apix":        "site /apix",
	} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, want, string(b), path)
	}
}

func TestMountNested(t *testing.T) {
	v2 := vial.New("v2")
	v2.Get("/items/<int:id>", func(r *vial.Request) any {
		return r.ScriptRoot + " " + r.Path + " " + r.URLFor("item", "id", 3)
	}, vial.Endpoint("item"))
	api := apiApp()
	api.Mount("/v2", v2)
	app := siteApp()
	app.Mount("/api", api)
	c := app.TestClient()

	assert.Equal(t, "/api/v2 /items/1 /api/v2/items/3", c.Get("/api/v2/items/1").Text())
	resp := c.Get("/api/v2/items/1")
	assert.Equal(t, "/v2/items/1", resp.Header.Get("X-API"), "the middle App's middleware sees its own path")
	assert.Equal(t, "api /api /users/1 ran /api/users/1", c.Get("/api/users/1").Text())
}

// Consecutive Mount calls make one dispatcher: the longest prefix wins
// whatever the order of the calls.
func TestMountLongestPrefixWins(t *testing.T) {
	say := func(name string) gateway.Application {
		return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
			return gateway.Strings(name, " ", env.ScriptName, " ", env.PathInfo)
		})
	}
	app := siteApp()
	app.Mount("/a/b", say("long"))
	app.Mount("/a", say("short"))
	c := app.TestClient()

	assert.Equal(t, "long /a/b /c", c.Get("/a/b/c").Text())
	assert.Equal(t, "short /a /bc", c.Get("/a/bc").Text())
	assert.Equal(t, "short /a ", c.Get("/a").Text(), "the prefix itself: PATH_INFO is empty")
}

// Mount is one more Wrap: gateway middleware wrapped before it serves the
// App alone, after it the mounted applications too; Use's is outside all.
func TestMountSitsAmongWrapInCallOrder(t *testing.T) {
	app := vial.New("site")
	app.Get("/", func(r *vial.Request) any { return r.Header.Get("X-Trail") })
	api := vial.New("api")
	api.Get("/", func(r *vial.Request) any { return r.Header.Get("X-Trail") })
	app.Wrap(tagGateway("before"))
	app.Mount("/api", api)
	app.Wrap(tagGateway("after"))
	app.Use(tagHTTP("use"))
	c := app.TestClient()

	assert.Equal(t, "use after before", c.Get("/").Text())
	assert.Equal(t, "use after", c.Get("/api/").Text())
}

func TestMountSetupMistakesPanic(t *testing.T) {
	var nilMux *http.ServeMux
	var nilFunc http.HandlerFunc
	tests := []struct {
		prefix string
		h      any
		want   string
	}{
		{"api", usersMux(), `vial: Mount("api"): the prefix does not start with "/"`},
		{"", usersMux(), `vial: Mount(""): the prefix does not start with "/"`},
		{"/api/", usersMux(), `vial: Mount("/api/"): the prefix ends with "/"`},
		{"/", usersMux(), `vial: Mount("/"): the prefix ends with "/"`},
		{"/api", nil, `vial: Mount("/api"): nil application`},
		{"/api", nilMux, `vial: Mount("/api"): nil application`},
		{"/api", nilFunc, `vial: Mount("/api"): nil application`},
		{"/api", (*vial.App)(nil), `vial: Mount("/api"): nil application`},
		{"/api", "hello", `vial: Mount("/api"): cannot mount a string: want a *vial.App, a gateway.Application or an http.Handler`},
		{"/dup", usersMux(), `vial: Mount("/dup"): the prefix is mounted already`},
	}
	for _, tt := range tests {
		app := siteApp()
		app.Mount("/dup", usersMux())
		app.Wrap(tagGateway("between")) // a duplicate in another layer is one too
		v := panicValue(func() { app.Mount(tt.prefix, tt.h) })
		require.NotNil(t, v, "Mount(%q, %T) must panic", tt.prefix, tt.h)
		assert.Contains(t, fmt.Sprint(v), tt.want)
	}

	app := siteApp()
	assert.Contains(t, fmt.Sprint(panicValue(func() { app.Mount("/self", app) })), "cannot mount itself")
	app.Mount("/api", usersMux())
	app.TestClient().Get("/")
	assert.PanicsWithValue(t, panicMessage("Mount"), func() { app.Mount("/late", usersMux()) })
}

// panicValue returns what f panicked with, or nil.
func panicValue(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}
