package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/gatewaytest"
	"github.com/vial-go/vial/gateway/middleware"
)

// Helpers shared by the middleware tests (Dispatcher, ProxyFix, SharedData).

// mwRecorded is what mwRecord saw of one response.
type mwRecorded struct {
	Status   string
	Code     int
	Headers  gateway.Headers
	Body     string
	CloseErr error
}

// mwRecord runs app on env as a server would, in process: the Err of
// what a server would have reported is CloseErr.
func mwRecord(t testing.TB, app gateway.Application, env *gateway.Environ) mwRecorded {
	t.Helper()
	resp := gatewaytest.Serve(app, env)
	return mwRecorded{Status: resp.Status, Code: resp.Code, Headers: resp.Header, Body: string(resp.Body), CloseErr: resp.Err}
}

// mwEnv returns the environ a server would build for a plain request to
// http://example.com<path> from 10.0.0.1.
func mwEnv(method, path string) *gateway.Environ {
	return &gateway.Environ{
		Method:         method,
		PathInfo:       path,
		RequestURI:     path,
		ServerName:     "example.com",
		ServerPort:     "80",
		ServerProtocol: "HTTP/1.1",
		Host:           "example.com",
		URLScheme:      "http",
		RemoteAddr:     "10.0.0.1",
		RemotePort:     "54321",
		Header:         make(http.Header),
		Input:          http.NoBody,
		Errors:         io.Discard,
	}
}

// mwProbe is an application that remembers what it was called with and
// whether its body was closed. Its body is "name script path".
type mwProbe struct {
	name   string
	calls  int
	script string
	path   string
	closed int
}

func (p *mwProbe) ServeGateway(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	p.calls++
	p.script, p.path = env.ScriptName, env.PathInfo
	start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return gateway.OnClose(
		gateway.Strings(p.name, " ", env.ScriptName, " ", env.PathInfo),
		func() { p.closed++ },
	)
}

// mwPanic returns the panic value of f, or nil.
func mwPanic(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

func TestDispatcherRoutes(t *testing.T) {
	tests := []struct {
		path       string
		app        string
		scriptName string
		pathInfo   string
	}{
		{"", "root", "", ""},
		{"/", "root", "", "/"},
		{"/index.html", "root", "", "/index.html"},
		{"/api", "api", "/api", ""},
		{"/api/", "api", "/api", "/"},
		{"/api/users", "api", "/api", "/users"},
		{"/api/users/7/", "api", "/api", "/users/7/"},
		{"/apix", "root", "", "/apix"},
		{"/apix/users", "root", "", "/apix/users"},
		{"/API/users", "root", "", "/API/users"}, // paths are case-sensitive
		{"//api", "root", "", "//api"},
		{"/api/v2", "v2", "/api/v2", ""},
		{"/api/v2/users", "v2", "/api/v2", "/users"},
		{"/api/v20", "api", "/api", "/v20"},
		{"/api/v2x/users", "api", "/api", "/v2x/users"},
		{"/a b/c", "space", "/a b", "/c"}, // PATH_INFO is decoded, so are the keys
		{"/deep/er/still", "deep", "/deep/er", "/still"},
		{"/deep", "root", "", "/deep"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			probes := map[string]*mwProbe{}
			for _, name := range []string{"root", "api", "v2", "space", "deep"} {
				probes[name] = &mwProbe{name: name}
			}
			d := middleware.Dispatcher(probes["root"], map[string]gateway.Application{
				"/api":     probes["api"],
				"/api/v2":  probes["v2"],
				"/a b":     probes["space"],
				"/deep/er": probes["deep"],
			})
			rec := mwRecord(t, d, mwEnv("GET", tt.path))
			require.Equal(t, 200, rec.Code)
			assert.Equal(t, tt.app+" "+tt.scriptName+" "+tt.pathInfo, rec.Body)
			for name, p := range probes {
				if name == tt.app {
					assert.Equal(t, 1, p.calls, name)
					assert.Equal(t, tt.scriptName, p.script)
					assert.Equal(t, tt.pathInfo, p.path)
					assert.Equal(t, 1, p.closed, "the mounted app's body is closed once")
				} else {
					assert.Zero(t, p.calls, "%s was called", name)
				}
			}
		})
	}
}

func TestDispatcherAppendsToScriptName(t *testing.T) {
	api := &mwProbe{name: "api"}
	d := middleware.Dispatcher(&mwProbe{name: "root"}, map[string]gateway.Application{"/api": api})

	env := mwEnv("GET", "/api/users")
	env.ScriptName = "/site"
	rec := mwRecord(t, d, env)

	assert.Equal(t, "api /site/api /users", rec.Body)
	assert.Equal(t, "/site/api/users", env.Path(), "the full path is unchanged")
	assert.Equal(t, "http://example.com/site/api/users", env.RequestURL())
}

func TestDispatcherFallbackUntouched(t *testing.T) {
	root := &mwProbe{name: "root"}
	d := middleware.Dispatcher(root, map[string]gateway.Application{"/api": &mwProbe{name: "api"}})

	env := mwEnv("GET", "/apidocs/x")
	env.ScriptName = "/site"
	rec := mwRecord(t, d, env)

	assert.Equal(t, "root /site /apidocs/x", rec.Body)
	assert.Equal(t, 1, root.closed)
}

func TestDispatcherNoMounts(t *testing.T) {
	root := &mwProbe{name: "root"}
	for _, mounts := range []map[string]gateway.Application{nil, {}} {
		rec := mwRecord(t, middleware.Dispatcher(root, mounts), mwEnv("GET", "/x/y"))
		assert.Equal(t, "root  /x/y", rec.Body)
	}
}

func TestDispatcherNested(t *testing.T) {
	root := &mwProbe{name: "root"}
	apiRoot := &mwProbe{name: "apiroot"}
	v1 := &mwProbe{name: "v1"}
	admin := &mwProbe{name: "admin"}
	d := middleware.Dispatcher(root, map[string]gateway.Application{
		"/api": middleware.Dispatcher(apiRoot, map[string]gateway.Application{
			"/v1": middleware.Dispatcher(v1, map[string]gateway.Application{"/admin": admin}),
		}),
	})

	tests := map[string]string{
		"/":                     "root  /",
		"/api":                  "apiroot /api ",
		"/api/":                 "apiroot /api /",
		"/api/v1":               "v1 /api/v1 ",
		"/api/v1/users":         "v1 /api/v1 /users",
		"/api/v1x":              "apiroot /api /v1x",
		"/api/v1/admin/panel":   "admin /api/v1/admin /panel",
		"/api/v1/adminx":        "v1 /api/v1 /adminx",
		"/v1/admin":             "root  /v1/admin", // inner mounts are relative to the outer one
		"/api/admin":            "apiroot /api /admin",
		"/api/v1/admin":         "admin /api/v1/admin ",
		"/api/v1/admin/":        "admin /api/v1/admin /",
		"/api/v1/admin/a/b/c/d": "admin /api/v1/admin /a/b/c/d",
	}
	for path, want := range tests {
		rec := mwRecord(t, d, mwEnv("GET", path))
		assert.Equal(t, want, rec.Body, path)
	}
}

func TestDispatcherSameMapDifferentRoots(t *testing.T) {
	// The longest prefix wins whatever the map's iteration order.
	short, long := &mwProbe{name: "short"}, &mwProbe{name: "long"}
	for range 20 {
		d := middleware.Dispatcher(&mwProbe{name: "root"}, map[string]gateway.Application{
			"/a": short, "/a/b": long, "/a/b/c/d": long,
		})
		assert.Equal(t, "long /a/b /c", mwRecord(t, d, mwEnv("GET", "/a/b/c")).Body)
		assert.Equal(t, "long /a/b/c/d /e", mwRecord(t, d, mwEnv("GET", "/a/b/c/d/e")).Body)
		assert.Equal(t, "short /a /bc", mwRecord(t, d, mwEnv("GET", "/a/bc")).Body)
	}
}

func TestDispatcherCopiesMounts(t *testing.T) {
	mounts := map[string]gateway.Application{"/api": &mwProbe{name: "api"}}
	d := middleware.Dispatcher(&mwProbe{name: "root"}, mounts)
	mounts["/other"] = &mwProbe{name: "other"}
	delete(mounts, "/api")

	assert.Equal(t, "api /api /x", mwRecord(t, d, mwEnv("GET", "/api/x")).Body)
	assert.Equal(t, "root  /other/x", mwRecord(t, d, mwEnv("GET", "/other/x")).Body)
}

func TestDispatcherBadMountsPanic(t *testing.T) {
	app := &mwProbe{name: "app"}
	tests := map[string]string{
		"api":   `"api"`,
		"":      `""`,
		"/":     `"/"`,
		"/api/": `"/api/"`,
		"api/":  `"api/"`,
	}
	for key, quoted := range tests {
		v := mwPanic(func() { middleware.Dispatcher(app, map[string]gateway.Application{key: app}) })
		require.NotNil(t, v, "key %q must panic", key)
		msg := fmt.Sprint(v)
		assert.Contains(t, msg, "middleware: Dispatcher")
		assert.Contains(t, msg, quoted, "the message names the key")
	}

	v := mwPanic(func() { middleware.Dispatcher(app, map[string]gateway.Application{"/api": nil}) })
	assert.Contains(t, fmt.Sprint(v), `"/api" is nil`)
	v = mwPanic(func() { middleware.Dispatcher(nil, nil) })
	assert.Contains(t, fmt.Sprint(v), "fallback application is nil")
}

// Through a real server: the mounted apps see their mount point in
// SCRIPT_NAME, and URLs rebuilt from the environ are those the client asked
// for.
func TestDispatcherHTTP(t *testing.T) {
	urlApp := func(name string) gateway.Application {
		return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
			return gateway.Strings(fmt.Sprintf("%s|%s|%s|%s", name, env.ScriptName, env.PathInfo, env.RequestURL()))
		})
	}
	legacy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "legacy|%s", r.URL.Path)
	})
	d := middleware.Dispatcher(urlApp("root"), map[string]gateway.Application{
		"/api":    urlApp("api"),
		"/legacy": gateway.FromHandler(legacy),
	})
	srv := httptest.NewServer(gateway.Handler(d))
	defer srv.Close()

	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}

	assert.Equal(t, "api|/api|/users|"+srv.URL+"/api/users?page=2", get("/api/users?page=2"))
	assert.Equal(t, "api|/api||"+srv.URL+"/api", get("/api"))
	assert.Equal(t, "root||/apix|"+srv.URL+"/apix", get("/apix"))
	assert.Equal(t, "root||/|"+srv.URL+"/", get("/"))
	assert.Equal(t, "api|/api|/a b|"+srv.URL+"/api/a%20b", get("/api/a%20b"))
	// A net/http handler mounted through FromHandler sees the path below
	// its mount point, as behind http.StripPrefix.
	assert.Equal(t, "legacy|/page", get("/legacy/page"))
}

// A net/http handler mounted through FromHandler sees the URL below its
// mount point, as http.StripPrefix would give it: a ServeMux registered
// for "GET /users" answers /api/users.
func TestDispatcherHTTPHandlerSeesItselfAtTheRoot(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "users|%s|%s|%s|%s", r.URL.Path, r.URL.RawPath, r.RequestURI, gateway.ScriptName(r))
	})
	mux.HandleFunc("GET /users/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user|%s|%s|%s", r.PathValue("name"), r.URL.Path, r.URL.EscapedPath())
	})
	d := middleware.Dispatcher(&mwProbe{name: "root"}, map[string]gateway.Application{
		"/api": gateway.FromHandler(mux),
	})
	srv := httptest.NewServer(gateway.Handler(d))
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	code, body := get("/api/users?page=2")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "users|/users||/api/users?page=2|/api", body,
		"the path stripped, the request target as sent, the mount point in ScriptName")
	code, body = get("/api/users/ann%20b")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "user|ann b|/users/ann b|/users/ann%20b", body)
	code, _ = get("/users")
	assert.Equal(t, http.StatusOK, code, "outside the mount point: the fallback")
}
