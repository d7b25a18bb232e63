package vial_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
)

// hookedApp returns an App whose after-request hook sets X-Request-ID and a
// session cookie, with views returning each kind of response.
func hookedApp() *vial.App {
	app := vial.New("test")
	app.Logger = quietLogger()
	app.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		resp.Header.Set("X-Request-ID", "from-hook")
		resp.SetCookie(&http.Cookie{Name: "session", Value: "s1", Path: "/"})
		return resp
	})
	app.Get("/text", func(r *vial.Request) any { return "ok" })
	app.Get("/handler", func(r *vial.Request) any {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("X-Request-ID", "from-handler")
			w.Header().Set("X-Handler", "yes")
			http.SetCookie(w, &http.Cookie{Name: "own", Value: "h1"})
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "handled")
		})
	})
	app.Get("/app", func(r *vial.Request) any {
		return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("202 Accepted", gateway.Headers{
				{Name: "Content-Type", Value: "text/plain"},
				{Name: "x-request-id", Value: "from-app"},
				{Name: "Set-Cookie", Value: "own=a1"},
			})
			return gateway.Strings("applied")
		})
	})
	app.Get("/handler-404", func(r *vial.Request) any {
		return http.NotFoundHandler()
	})
	app.Get("/handler-status", func(r *vial.Request) any {
		// Flask's (app, status) tuple: the status given replaces the app's.
		return vial.MakeResponse(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
			return gateway.Strings("made")
		}), 203, map[string]string{"X-Tuple": "t"})
	})
	return app
}

type hookedCase struct {
	path, body string
	code       int
	own        string // the application's own cookie, "" for none
	keep       map[string]string
}

var hookedCases = []hookedCase{
	{"/text", "ok", 200, "", nil},
	{"/handler", "handled", 201, "h1", map[string]string{"X-Handler": "yes", "Content-Type": "text/plain"}},
	{"/app", "applied", 202, "a1", map[string]string{"Content-Type": "text/plain"}},
	{"/handler-404", "404 page not found\n", 404, "", nil},
	{"/handler-status", "made", 203, "", map[string]string{"X-Tuple": "t"}},
}

func checkHooked(t *testing.T, tc hookedCase, code int, header http.Header, body string) {
	t.Helper()
	assert.Equal(t, tc.code, code, tc.path)
	assert.Equal(t, tc.body, body, tc.path)
	assert.Equal(t, []string{"from-hook"}, header.Values("X-Request-ID"), "%s: the hook's header replaces the app's", tc.path)
	for k, v := range tc.keep {
		assert.Equal(t, v, header.Get(k), "%s: the app's own %s", tc.path, k)
	}
	cookies := map[string]string{}
	for _, c := range (&http.Response{Header: header}).Cookies() {
		cookies[c.Name] = c.Value
	}
	assert.Equal(t, "s1", cookies["session"], "%s: the hook's cookie", tc.path)
	if tc.own != "" {
		assert.Equal(t, tc.own, cookies["own"], "%s: the app's own cookie is kept", tc.path)
	}
}

func TestAfterRequestAppliesToWrappedApplications(t *testing.T) {
	c := hookedApp().TestClient()
	for _, tc := range hookedCases {
		resp := c.Get(tc.path)
		require.NoError(t, resp.Err, tc.path)
		checkHooked(t, tc, resp.StatusCode, resp.Header, resp.Text())
	}
}

func TestAfterRequestAppliesToWrappedApplicationsOverHTTP(t *testing.T) {
	srv := httptest.NewServer(gateway.Handler(hookedApp()))
	defer srv.Close()
	for _, tc := range hookedCases {
		resp, err := srv.Client().Get(srv.URL + tc.path)
		require.NoError(t, err, tc.path)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err, tc.path)
		checkHooked(t, tc, resp.StatusCode, resp.Header, string(body))
	}
}

// An HTTP error raised inside a wrapped application is raised while the
// response is being made, past the error handlers: Flask answers it with a
// 500 (its handle_exception), the 500 handler given the original error.
func TestAbortInsideAWrappedHandlerIsAServerError(t *testing.T) {
	app := hookedApp()
	var seen error
	app.ErrorHandler(500, func(r *vial.Request, err error) any {
		seen = err
		return vial.MakeResponse("server error page", 500)
	})
	app.ErrorHandler(404, func(r *vial.Request, err error) any { return "the 404 handler" })
	app.Get("/abort-inside", func(r *vial.Request) any {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { panic(vial.Abort(404)) })
	})
	c := app.TestClient()
	resp := c.Get("/abort-inside")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, "server error page", resp.Text())
	assert.Equal(t, "from-hook", resp.Header.Get("X-Request-ID"), "the error page goes through the hooks")
	var he *vial.HTTPError
	require.True(t, errors.As(seen, &he))
	assert.Equal(t, 500, he.Code)
	assert.True(t, errors.As(he.Err, &he) && he.Code == 404, "the original error: %v", seen)

	resp = c.Get("/handler-404")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "404 page not found\n", resp.Text(), "a handler's own 404 is its answer")
}
