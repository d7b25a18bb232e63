package interop

import (
	"compress/gzip"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// get sends a GET for path to srv with the header pairs given.
func get(t *testing.T, srv *httptest.Server, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		require.NoError(t, err)
		body = zr
	}
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	return resp, string(b)
}

// chi's request-scoped middleware reaches the view through the request's
// context, and its rewrite of the path is what the App routes, on a real
// server.
func TestChiMiddlewareAroundTheApp(t *testing.T) {
	app := vial.New("chi")
	app.Use(middleware.RequestID, middleware.ClientIPFromXFFTrustedProxies(1), middleware.StripSlashes)
	app.Get("/who", func(r *vial.Request) any {
		return map[string]any{"id": middleware.GetReqID(r.Context()), "client": middleware.GetClientIP(r.Context())}
	})
	srv := httptest.NewServer(app)
	defer srv.Close()

	resp, body := get(t, srv, "/who/", "X-Forwarded-For", "203.0.113.9")
	require.Equal(t, 200, resp.StatusCode, "StripSlashes' /who is what the App routes")
	assert.Contains(t, body, `"client":"203.0.113.9"`, "the client address chi found is in the view's context")
	assert.Regexp(t, `"id":"[^"]+-000001"`, body, "RequestID's value is in the view's context")
}

// A header chi's SetHeader sets around the App, and the view sets too,
// goes out once, with the view's value, as around a plain handler; the
// middleware's cookie and the view's both go out.
func TestChiSetHeaderYieldsToTheView(t *testing.T) {
	app := vial.New("chi")
	app.Use(middleware.SetHeader("Access-Control-Allow-Origin", "*"), setCookie("mw=1"))
	app.Get("/cors", func(r *vial.Request) any {
		resp := vial.NewResponse([]byte("ok"), "text/plain")
		resp.Header.Set("Access-Control-Allow-Origin", "https://example.com")
		resp.Header.Add("Set-Cookie", "view=1")
		return resp
	})
	app.Get("/plain", func(r *vial.Request) any { return "plain" })
	srv := httptest.NewServer(app)
	defer srv.Close()

	resp, _ := get(t, srv, "/cors")
	assert.Equal(t, []string{"https://example.com"}, resp.Header.Values("Access-Control-Allow-Origin"))
	assert.ElementsMatch(t, []string{"mw=1", "view=1"}, resp.Header.Values("Set-Cookie"))
	resp, _ = get(t, srv, "/plain")
	assert.Equal(t, []string{"*"}, resp.Header.Values("Access-Control-Allow-Origin"), "the middleware's value when the view sets none")
}

func setCookie(cookie string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", cookie)
			next.ServeHTTP(w, r)
		})
	}
}

// chi's Compress gzips what the App writes; BasicAuth answers before the
// App and its hooks run.
func TestChiCompressAndBasicAuth(t *testing.T) {
	app := vial.New("chi")
	views := 0
	app.BeforeRequest(func(r *vial.Request) any { views++; return nil })
	app.Use(middleware.BasicAuth("vial", map[string]string{"ann": "secret"}), middleware.Compress(5, "text/html"))
	app.Get("/text", func(r *vial.Request) any { return strings.Repeat("compressible ", 200) })
	srv := httptest.NewServer(app)
	defer srv.Close()

	resp, _ := get(t, srv, "/text")
	assert.Equal(t, 401, resp.StatusCode)
	assert.Zero(t, views, "refused before the App")

	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("ann:secret"))
	resp, body := get(t, srv, "/text", "Authorization", auth, "Accept-Encoding", "gzip")
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	assert.Equal(t, strings.Repeat("compressible ", 200), body)
	assert.Equal(t, 1, views)
}

// chi's Recoverer outside the App never sees a view's panic: the App
// answers it with its 500 and keeps serving.
func TestChiRecovererAndAPanickingView(t *testing.T) {
	app := vial.New("chi")
	app.Use(middleware.Recoverer)
	app.Get("/boom", func(r *vial.Request) any { panic("boom") })
	app.Get("/ok", func(r *vial.Request) any { return "ok" })
	app.Logger = quietLogger()
	srv := httptest.NewServer(app)
	defer srv.Close()

	resp, body := get(t, srv, "/boom")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, body, "Internal Server Error", "vial's own 500 page")
	resp, body = get(t, srv, "/ok")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "ok", body)
}

// An App inside a chi router, under a prefix chi strips, routes what is
// left; chi's routes beside it stay chi's.
func TestAppMountedInAChiRouter(t *testing.T) {
	app := vial.New("inner")
	app.Get("/users/<int:id>", func(r *vial.Request) any { return map[string]any{"id": r.ViewArgs["id"]} })
	router := chi.NewRouter()
	router.Use(middleware.SetHeader("X-Router", "chi"))
	router.Get("/health", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "healthy") })
	router.Mount("/api", http.StripPrefix("/api", app))
	srv := httptest.NewServer(router)
	defer srv.Close()

	resp, body := get(t, srv, "/api/users/7")
	require.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"id": 7}`, body)
	assert.Equal(t, "chi", resp.Header.Get("X-Router"))
	resp, _ = get(t, srv, "/api/users/x")
	assert.Equal(t, 404, resp.StatusCode, "vial's 404 for what its rules do not match")
	_, body = get(t, srv, "/health")
	assert.Equal(t, "healthy", body)
}
