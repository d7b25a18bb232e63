package vial_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/internal/testutil"
)

// tagHTTP is net/http middleware that appends name to the request's
// X-Trail header on the way in and adds name to the response's X-Seen.
func tagHTTP(name string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Set("X-Trail", strings.TrimPrefix(r.Header.Get("X-Trail")+" "+name, " "))
			w.Header().Add("X-Seen", name)
			next.ServeHTTP(w, r)
		})
	}
}

// tagGateway is gateway middleware that appends name to the X-Trail
// header the App sees.
func tagGateway(name string) func(gateway.Application) gateway.Application {
	return func(next gateway.Application) gateway.Application {
		return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			env.Set("HTTP_X_TRAIL", strings.TrimPrefix(env.GetString("HTTP_X_TRAIL")+" "+name, " "))
			return next.ServeGateway(env, start)
		})
	}
}

// trailApp answers with the X-Trail the middleware left on the request.
func trailApp() *vial.App {
	app := vial.New("mw")
	app.Get("/", func(r *vial.Request) any { return r.Header.Get("X-Trail") })
	app.Post("/", func(r *vial.Request) any { return "posted" }, vial.Endpoint("post"))
	return app
}

func serveRecorded(app *vial.App, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	return rec
}

func TestUseRunsMiddlewareOutermostFirst(t *testing.T) {
	app := trailApp()
	app.Use(tagHTTP("a"), tagHTTP("b"))
	app.Use(tagHTTP("c"))

	rec := serveRecorded(app, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, "a b c", rec.Body.String(), "Use(a, b), Use(c): a(b(c(app)))")
	assert.Equal(t, []string{"a", "b", "c"}, rec.Header().Values("X-Seen"))

	resp := app.TestClient().Get("/")
	assert.Equal(t, "a b c", resp.Text())
	assert.Equal(t, []string{"a", "b", "c"}, resp.Header.Values("X-Seen"), "the test client runs the middleware")
}

func TestWrapWrapsThePreviousWrapAndSitsInsideUse(t *testing.T) {
	app := trailApp()
	app.Wrap(tagGateway("w1"))
	app.Wrap(tagGateway("w2"))
	app.Use(tagHTTP("u"))

	rec := serveRecorded(app, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, "u w2 w1", rec.Body.String(), "the last Wrap is outermost, Use outside them all")
	assert.Equal(t, "u w2 w1", app.TestClient().Get("/").Text())
}

func TestWrapSeesTheEnviron(t *testing.T) {
	app := vial.New("mw")
	app.Get("/", func(r *vial.Request) any { return r.Environ.GetString("mw.seen") })
	var method, path, remote string
	app.Wrap(func(next gateway.Application) gateway.Application {
		return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			method, path, remote = env.Method, env.PathInfo, env.RemoteAddr
			env.Set("mw.seen", "yes")
			return next.ServeGateway(env, start)
		})
	})

	resp := app.TestClient().Get("/?q=1")
	assert.Equal(t, "yes", resp.Text(), "an extension key the middleware sets reaches the App")
	assert.Equal(t, []string{"GET", "/", "127.0.0.1"}, []string{method, path, remote})

	rec := serveRecorded(app, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, "yes", rec.Body.String())
}

func TestUseKeepsTheTestClientsEnviron(t *testing.T) {
	app := vial.New("mw")
	app.Config["APPLICATION_ROOT"] = "/root"
	app.Get("/x", func(r *vial.Request) any {
		return r.Environ.ScriptName + " " + r.Environ.PathInfo + " " + r.Environ.GetString("mine")
	})
	app.Use(tagHTTP("u"))

	resp := app.TestClient().Get("/x", vial.WithEnviron(func(env *gateway.Environ) { env.Set("mine", "kept") }))
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "/root /x kept", resp.Text(), "SCRIPT_NAME and extension keys cross the net/http middleware")
}

// Below a script root the net/http middleware sees the App's path, as
// behind http.StripPrefix, with the root in gateway.ScriptName; a path it
// rewrites stays below the root.
func TestUseSeesThePathBelowTheScriptRoot(t *testing.T) {
	app := vial.New("mw")
	app.Config["APPLICATION_ROOT"] = "/root"
	app.Get("/y", func(r *vial.Request) any {
		return r.Environ.ScriptName + " " + r.Environ.PathInfo + " " + r.URLFor("/y")
	})
	var seen string
	app.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = r.URL.Path + " " + gateway.ScriptName(r)
			if r.URL.Path == "/x" {
				r.URL.Path = "/y"
			}
			next.ServeHTTP(w, r)
		})
	})

	resp := app.TestClient().Get("/x")
	assert.Equal(t, "/x /root", seen)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "/root /y /root/y", resp.Text(), "the rewritten path, below the root")
}

func TestCrossOriginProtectionThroughUse(t *testing.T) {
	app := trailApp()
	app.Use(http.NewCrossOriginProtection().Handler)

	cross := vial.WithHeader("Sec-Fetch-Site", "cross-site")
	assert.Equal(t, 403, app.TestClient().Post("/", cross).StatusCode)
	same := app.TestClient().Post("/", vial.WithHeader("Sec-Fetch-Site", "same-origin"))
	assert.Equal(t, 200, same.StatusCode)
	assert.Equal(t, "posted", same.Text())

	req := httptest.NewRequest("POST", "/", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	assert.Equal(t, 403, serveRecorded(app, req).Code)
	req = httptest.NewRequest("POST", "/", nil)
	req.Header.Set("Origin", "https://evil.example")
	assert.Equal(t, 403, serveRecorded(app, req).Code, "an Origin that is not the Host's")
	assert.Equal(t, 200, serveRecorded(app, httptest.NewRequest("POST", "/", nil)).Code, "no browser headers: allowed")
}

func TestMiddlewareIsSetup(t *testing.T) {
	app := trailApp()
	app.Use(tagHTTP("a"))
	serveRecorded(app, httptest.NewRequest("GET", "/", nil))
	assert.PanicsWithValue(t, panicMessage("Use"), func() { app.Use(tagHTTP("late")) })
	assert.PanicsWithValue(t, panicMessage("Wrap"), func() { app.Wrap(tagGateway("late")) })

	// A middleware that answers by itself still ends the setup: what is
	// added afterwards would be left out of the stack already built.
	refused := trailApp()
	refused.Use(http.NewCrossOriginProtection().Handler)
	resp := refused.TestClient().Post("/", vial.WithHeader("Sec-Fetch-Site", "cross-site"))
	require.Equal(t, 403, resp.StatusCode)
	assert.Panics(t, func() { refused.Use(tagHTTP("late")) })

	plain := trailApp()
	plain.TestClient().Get("/")
	assert.Panics(t, func() { plain.Wrap(tagGateway("late")) })
}

func panicMessage(what string) string {
	return "vial: " + what + " called after the app served its first request; " +
		"register every rule, hook and handler before the app starts serving"
}

// TestMiddlewareRunHelperProcess is the program
// TestMiddlewareOnTheDevServer starts: an App with middleware, served by
// app.Main's run command.
func TestMiddlewareRunHelperProcess(t *testing.T) {
	args := os.Getenv("VIAL_TEST_MW_ARGS")
	if args == "" {
		t.Skip("run by TestMiddlewareOnTheDevServer")
	}
	app := trailApp()
	app.Use(tagHTTP("u"))
	app.Wrap(tagGateway("w"))
	os.Exit(app.RunCLI(strings.Fields(args), os.Stdout, os.Stderr))
}

func TestMiddlewareOnTheDevServer(t *testing.T) {
	for _, args := range []string{"run --port 0 --reload=false", "run --port 0 --debug --reload=false"} {
		t.Run(args, func(t *testing.T) {
			base, _, stop := startHelperServer(t, "TestMiddlewareRunHelperProcess", "VIAL_TEST_MW_ARGS="+args)
			resp, body := testutil.Fetch(t, nil, "GET", base+"/", nil)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "u w", body)
			assert.Equal(t, []string{"u"}, resp.Header.Values("X-Seen"))
			stop()
		})
	}
}
