package vial_test

import (
	"encoding/json"
	"errors"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/validate"
)

// tcApp returns an App whose log goes to the test's log, and a counter of
// the requests it has torn down.
func tcApp(t *testing.T) (*vial.App, *atomic.Int32) {
	app := vial.New("testclient")
	app.Logger = slog.New(slog.NewTextHandler(tcLog{t}, nil))
	var teardowns atomic.Int32
	app.TeardownRequest(func(r *vial.Request, err error) { teardowns.Add(1) })
	return app, &teardowns
}

type tcLog struct{ t *testing.T }

func (l tcLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// tcGuard, deferred at the top of a test, turns a panic the client passed
// on into a failure of that test, with the stack where it started, instead
// of a crash of the whole test binary.
func tcGuard(t *testing.T) {
	if v := recover(); v != nil {
		t.Fatalf("the test client panicked: %v\n%s", v, debug.Stack())
	}
}

// tcPanic runs fn and returns what it panicked with, or nil.
func tcPanic(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

var allVerbs = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func TestClientSendsEveryVerb(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	app.Route("/verb", vial.Methods(allVerbs...), vial.ProvideAutomaticOptions(false))(func(r *vial.Request) any {
		return r.Method + " " + string(r.Data())
	})
	c := app.TestClient()
	body := vial.WithBody("text/plain", []byte("payload"))

	for method, resp := range map[string]*vial.TestResponse{
		"GET":     c.Get("/verb", body),
		"POST":    c.Post("/verb", body),
		"PUT":     c.Put("/verb", body),
		"PATCH":   c.Patch("/verb", body),
		"DELETE":  c.Delete("/verb", body),
		"OPTIONS": c.Options("/verb", body),
		"PURGE":   c.Open("purge", "/verb", body),
	} {
		require.NoError(t, resp.Err, method)
		assert.Equal(t, method, resp.Request.Method)
		if method == "PURGE" {
			assert.Equal(t, 405, resp.StatusCode)
			continue
		}
		assert.Equal(t, 200, resp.StatusCode, method)
		assert.Equal(t, "200 OK", resp.Status, method)
		assert.Equal(t, method+" payload", resp.Text(), method)
	}
	assert.EqualValues(t, 7, teardowns.Load(), "each request is torn down once")
}

func TestClientHeadHasHeadersAndNoBody(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	var streamed atomic.Int32
	app.Get("/page", func(r *vial.Request) any {
		return vial.MakeResponse("<p>a page</p>", map[string]string{"X-Page": "1"})
	})
	app.Get("/stream", func(r *vial.Request) any {
		return iter.Seq[string](func(yield func(string) bool) {
			for _, s := range []string{"one", "two", "three"} {
				streamed.Add(1)
				if !yield(s) {
					return
				}
			}
		})
	})
	c := app.TestClient()

	get, head := c.Get("/page"), c.Head("/page")
	require.NoError(t, head.Err)
	assert.Equal(t, 200, head.StatusCode)
	assert.Empty(t, head.Body)
	assert.Equal(t, "1", head.Header.Get("X-Page"))
	assert.Equal(t, "text/html", head.Mimetype())
	assert.Equal(t, get.Header.Get("Content-Length"), head.Header.Get("Content-Length"))
	assert.Equal(t, "13", head.Header.Get("Content-Length"))

	head = c.Head("/stream")
	require.NoError(t, head.Err)
	assert.Equal(t, 200, head.StatusCode)
	assert.Empty(t, head.Body)
	assert.EqualValues(t, 0, streamed.Load(), "a HEAD request does not run a stream the App has started, as on a server and in werkzeug")
	assert.EqualValues(t, 3, teardowns.Load())
}

func TestClientBuildsTheEnviron(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	var got gateway.Environ
	app.Route("/<path:rest>", vial.Methods("GET", "POST"))(func(r *vial.Request) any {
		got = *r.Environ
		return "ok"
	})
	c := app.TestClient()

	resp := c.Get("/files/a%20b/c?q=go+lang&x=%26")
	require.NoError(t, resp.Err)
	assert.Equal(t, "GET", got.Method)
	assert.Equal(t, "", got.ScriptName)
	assert.Equal(t, "/files/a b/c", got.PathInfo, "PATH_INFO is decoded")
	assert.Equal(t, "/files/a%20b/c?q=go+lang&x=%26", got.RequestURI, "REQUEST_URI is raw")
	assert.Equal(t, "q=go+lang&x=%26", got.QueryString)
	assert.Equal(t, "localhost", got.Host)
	assert.Equal(t, "localhost", got.ServerName)
	assert.Equal(t, "80", got.ServerPort)
	assert.Equal(t, "HTTP/1.1", got.ServerProtocol)
	assert.Equal(t, "127.0.0.1", got.RemoteAddr)
	assert.Equal(t, "http", got.URLScheme)
	assert.Equal(t, "", got.ContentType)
	assert.Equal(t, "", got.ContentLength, "no body, no CONTENT_LENGTH")
	assert.False(t, got.Multithread)
	assert.NotNil(t, got.Input)
	assert.NotNil(t, got.Errors)
	assert.Equal(t, "http://localhost/files/a%20b/c?q=go+lang&x=%26", resp.Request.URL.String())

	c.Post("https://example.org:8443/x?y=1", vial.WithBody("text/plain", []byte("hi")))
	assert.Equal(t, "https", got.URLScheme)
	assert.Equal(t, "example.org:8443", got.Host)
	assert.Equal(t, "example.org", got.ServerName)
	assert.Equal(t, "8443", got.ServerPort)
	assert.Equal(t, "/x", got.PathInfo)
	assert.Equal(t, "y=1", got.QueryString)
	assert.Equal(t, "text/plain", got.ContentType)
	assert.Equal(t, "2", got.ContentLength)

	c.Get("https://localhost/secure")
	assert.Equal(t, "https", got.URLScheme)
	assert.Equal(t, "443", got.ServerPort)

	c.Get("/tweaked", vial.WithEnviron(func(env *gateway.Environ) {
		env.RemoteAddr = "10.1.2.3"
		env.Set("vial.test", "yes")
	}), vial.WithHeader("Host", "api.example.com:81"))
	assert.Equal(t, "10.1.2.3", got.RemoteAddr)
	assert.Equal(t, "yes", got.Get("vial.test"))
	assert.Equal(t, "api.example.com:81", got.Host)
	assert.Equal(t, "api.example.com", got.ServerName)
	assert.Equal(t, "81", got.ServerPort)
}

func TestClientMergesQueryValues(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Get("/search", func(r *vial.Request) any {
		return map[string]any{"args": r.Args(), "query": r.Environ.QueryString}
	})
	c := app.TestClient()

	resp := c.Get("/search?q=go",
		vial.WithQuery("page", "2"),
		vial.WithQueryValues(url.Values{"tag": {"a b", "c&d"}, "q": {"gopher"}}))
	require.NoError(t, resp.Err)
	var out struct {
		Args  url.Values
		Query string
	}
	require.NoError(t, resp.JSON(&out))
	assert.Equal(t, "q=go&page=2&q=gopher&tag=a+b&tag=c%26d", out.Query)
	assert.Equal(t, url.Values{"q": {"go", "gopher"}, "page": {"2"}, "tag": {"a b", "c&d"}}, out.Args)
	assert.Equal(t, "q=go&page=2&q=gopher&tag=a+b&tag=c%26d", resp.Request.URL.RawQuery)
}

func TestClientSendsHeaders(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Get("/headers", func(r *vial.Request) any {
		return map[string]any{"token": r.Header.Get("X-Token"), "accept": r.Header.Values("Accept")}
	})
	c := app.TestClient()
	c.DefaultOptions = []vial.RequestOption{vial.WithHeader("X-Token", "secret")}

	resp := c.Get("/headers", vial.WithHeader("Accept", "text/html"), vial.WithHeader("Accept", "application/json"))
	require.NoError(t, resp.Err)
	assert.Equal(t, map[string]any{"token": "secret", "accept": []any{"text/html", "application/json"}}, resp.GetJSON())
	assert.Equal(t, "secret", resp.Request.Header.Get("X-Token"))
}

type tcItem struct {
	Name  string   `json:"name"`
	Price float64  `json:"price"`
	Tags  []string `json:"tags"`
}

func TestClientJSONRoundTrip(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Post("/items", func(r *vial.Request) any {
		var in tcItem
		if err := r.JSON(&in); err != nil {
			return err
		}
		in.Price *= 2
		return vial.MakeResponse(vial.JSON(in), 201)
	})
	c := app.TestClient()

	resp := c.Post("/items", vial.WithJSON(tcItem{Name: "tea", Price: 1.25, Tags: []string{"hot"}}))
	require.NoError(t, resp.Err)
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Mimetype())
	assert.Equal(t, "application/json", resp.Request.Header.Get("Content-Type"))
	var out tcItem
	require.NoError(t, resp.JSON(&out))
	assert.Equal(t, tcItem{Name: "tea", Price: 2.5, Tags: []string{"hot"}}, out)
	assert.Equal(t, map[string]any{"name": "tea", "price": json.Number("2.5"), "tags": []any{"hot"}}, resp.GetJSON())

	bad := c.Post("/items", vial.WithBody("application/json", []byte(`{"name":`)))
	assert.Equal(t, 400, bad.StatusCode)
	assert.Nil(t, bad.GetJSON(), "an HTML error page is not JSON")
	assert.Error(t, bad.JSON(&out))

	assert.Panics(t, func() { c.Post("/items", vial.WithJSON(func() {})) }, "a value JSON cannot encode")
}

// A JSON response is one value: anything but white space after it (a
// stray closing bracket included) makes it not JSON for GetJSON.
func TestClientGetJSONWantsOneValue(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Get("/raw", func(r *vial.Request) any {
		return vial.NewResponse([]byte(r.Args().Get("body")), "application/json")
	})
	c := app.TestClient()
	get := func(body string) *vial.TestResponse {
		return c.Get("/raw", vial.WithQuery("body", body))
	}
	assert.Equal(t, map[string]any{"a": json.Number("1")}, get("{\"a\":1} \n").GetJSON())
	for _, body := range []string{`{"a":1}]`, `{"a":1}}`, `{"a":1} {}`, `[1] 2`} {
		assert.Nil(t, get(body).GetJSON(), body)
	}
}

// A request and a test response agree on what is JSON, as werkzeug's
// is_json has it: application/json and application/*+json.
func TestRequestAndResponseAgreeOnJSON(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Post("/echo", func(r *vial.Request) any {
		return vial.NewResponse([]byte(strconv.FormatBool(r.IsJSON())), r.Environ.ContentType)
	})
	c := app.TestClient()
	for typ, want := range map[string]bool{
		"application/json":                true,
		"application/json; charset=utf-8": true,
		"application/vnd.api+json":        true,
		"application/+json":               true,
		"text/json":                       false,
		"application/jsonx":               false,
		"text/plain":                      false,
	} {
		resp := c.Post("/echo", vial.WithBody(typ, []byte("{}")))
		assert.Equal(t, strconv.FormatBool(want), resp.Text(), "the request's IsJSON for %s", typ)
		assert.Equal(t, want, resp.IsJSON(), "the response's IsJSON for %s", typ)
	}
}

func TestClientPostsAForm(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Post("/login", func(r *vial.Request) any {
		return r.Mimetype() + " " + r.Form().Get("user") + " " + strings.Join(r.Form()["role"], ",")
	})
	c := app.TestClient()

	resp := c.Post("/login", vial.WithForm(url.Values{"user": {"ann"}}), vial.WithFormValue("role", "a"), vial.WithFormValue("role", "b"))
	require.NoError(t, resp.Err)
	assert.Equal(t, "application/x-www-form-urlencoded ann a,b", resp.Text())
	assert.Equal(t, []byte("role=a&role=b&user=ann"), resp.Request.Body)

	assert.Panics(t, func() {
		c.Post("/login", vial.WithForm(url.Values{"user": {"ann"}}), vial.WithJSON(1))
	}, "a body and form fields at once")
}

func TestClientUploadsFiles(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Post("/upload", func(r *vial.Request) any {
		fh := r.File("doc")
		if fh == nil {
			return vial.Abort(400, "no file")
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		content, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		return map[string]any{
			"filename": fh.Filename,
			"type":     fh.Header.Get("Content-Type"),
			"content":  string(content),
			"size":     fh.Size,
			"files":    len(r.Files()["doc"]),
			"title":    r.Form().Get("title"),
			"mimetype": r.Mimetype(),
		}
	})
	c := app.TestClient()

	resp := c.Post("/upload",
		vial.WithFile("doc", `notes "v1".txt`, []byte("hello, file")),
		vial.WithFile("doc", "raw.bin", []byte{0, 1, 2}),
		vial.WithForm(url.Values{"title": {"My notes"}}))
	require.NoError(t, resp.Err)
	require.Equal(t, 200, resp.StatusCode, resp.Text())
	assert.Equal(t, map[string]any{
		"filename": `notes "v1".txt`,
		"type":     "text/plain; charset=utf-8",
		"content":  "hello, file",
		"size":     json.Number("11"),
		"files":    json.Number("2"),
		"title":    "My notes",
		"mimetype": "multipart/form-data",
	}, resp.GetJSON())
}

func TestClientKeepsCookies(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Get("/login", func(r *vial.Request) any {
		resp := vial.MakeResponse("welcome")
		resp.SetCookie(&http.Cookie{Name: "session", Value: "abc", Path: "/", HttpOnly: true})
		resp.SetCookie(&http.Cookie{Name: "admin", Value: "yes", Path: "/admin"})
		return resp
	})
	app.Get("/logout", func(r *vial.Request) any {
		resp := vial.MakeResponse("bye")
		resp.DeleteCookie("session")
		return resp
	})
	app.Route("/<path:p>")(func(r *vial.Request) any { return r.Header.Get("Cookie") })
	c := app.TestClient()

	assert.Equal(t, "", c.Get("/whoami").Text(), "a new client has no cookies")
	login := c.Get("/login")
	require.NoError(t, login.Err)
	require.Len(t, login.Cookies(), 2)
	assert.Equal(t, "abc", c.Cookie("session"))
	assert.Equal(t, "", c.Cookie("admin"), "the admin cookie is for /admin only")
	assert.Equal(t, "session=abc", c.Get("/whoami").Text())
	assert.Equal(t, "admin=yes; session=abc", c.Get("/admin/panel").Text())
	assert.Len(t, c.Cookies("/admin/x"), 2)

	c.SetCookie("theme", "dark")
	assert.Equal(t, "dark", c.Cookie("theme"))
	assert.Equal(t, "lang=fr; session=abc; theme=dark", c.Get("/whoami", vial.WithCookie("lang", "fr")).Text())
	assert.Equal(t, "session=override; session=abc; theme=dark",
		c.Get("/whoami", vial.WithCookie("session", "override")).Text(), "a request's own cookie comes first")
	assert.Equal(t, "", c.Cookie("lang"), "WithCookie does not go into the jar")

	logout := c.Get("/logout")
	require.Len(t, logout.Cookies(), 1)
	assert.Equal(t, -1, logout.Cookies()[0].MaxAge)
	assert.Equal(t, "", c.Cookie("session"), "the deleted cookie is gone")
	assert.Equal(t, "theme=dark", c.Get("/whoami").Text())

	c.ClearCookies()
	assert.Equal(t, "", c.Get("/admin/panel").Text())
	assert.Equal(t, "", c.Cookie("theme"))

	other := app.TestClient()
	c.SetCookie("mine", "1")
	assert.Equal(t, "", other.Cookie("mine"), "each client has its own jar")
}

func TestClientRedirects(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	app.Route("/old", vial.Methods("GET", "POST"))(func(r *vial.Request) any { return vial.Redirect("/new?from=old") })
	app.Route("/see-other", vial.Methods("POST"))(func(r *vial.Request) any { return vial.Redirect("/new", 303) })
	app.Route("/temporary", vial.Methods("POST", "PUT"))(func(r *vial.Request) any {
		return vial.Redirect("http://localhost/new", 307)
	})
	app.Route("/permanent", vial.Methods("PUT"))(func(r *vial.Request) any { return vial.Redirect("new", 308) })
	app.Route("/new", vial.Methods("GET", "POST", "PUT"))(func(r *vial.Request) any {
		return r.Method + " " + r.FullPath() + " [" + string(r.Data()) + "] " + r.Header.Get("Content-Type")
	})
	app.Get("/loop/<int:n>", func(r *vial.Request) any {
		return vial.Redirect(r.URLFor("/loop/<int:n>", "n", r.ViewArgs["n"].(int)+1))
	})
	app.Get("/away", func(r *vial.Request) any { return vial.Redirect("https://example.com/") })
	c := app.TestClient()

	resp := c.Get("/old")
	assert.Equal(t, 302, resp.StatusCode, "redirects are not followed by default")
	assert.Equal(t, "/new?from=old", resp.Location())
	assert.Empty(t, resp.History)

	c.FollowRedirects = true
	resp = c.Get("/old")
	require.NoError(t, resp.Err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "GET /new?from=old [] ", resp.Text())
	require.Len(t, resp.History, 1)
	assert.Equal(t, 302, resp.History[0].StatusCode)
	assert.Equal(t, "/old", resp.History[0].Request.URL.Path)
	assert.Equal(t, "http://localhost/new?from=old", resp.Request.URL.String())

	form := vial.WithForm(url.Values{"a": {"1"}})
	resp = c.Post("/old", form)
	assert.Equal(t, "GET /new?from=old [] ", resp.Text(), "302 after POST: GET without a body")
	resp = c.Post("/see-other", form)
	assert.Equal(t, "GET /new [] ", resp.Text(), "303: GET without a body")
	resp = c.Post("/temporary", form)
	assert.Equal(t, "POST /new [a=1] application/x-www-form-urlencoded", resp.Text(), "307 keeps the method and body")
	resp = c.Put("/permanent", vial.WithBody("text/plain", []byte("x")))
	assert.Equal(t, "PUT /new [x] text/plain", resp.Text(), "308 keeps the method and body")
	assert.Equal(t, 308, resp.History[0].StatusCode)

	resp = c.Get("/old", vial.WithFollowRedirects(false))
	assert.Equal(t, 302, resp.StatusCode, "WithFollowRedirects overrides the client")
	c.FollowRedirects = false
	resp = c.Get("/old", vial.WithFollowRedirects(true))
	assert.Equal(t, 200, resp.StatusCode)
	c.FollowRedirects = true

	resp = c.Get("/loop/0")
	assert.Equal(t, 302, resp.StatusCode, "the client stops after 10 redirects")
	require.Len(t, resp.History, 10)
	assert.Equal(t, "/loop/10", resp.Request.URL.Path)
	assert.Equal(t, "/loop/11", resp.Location())
	for i, h := range resp.History {
		assert.Empty(t, h.History, "History %d", i)
	}

	before := teardowns.Load()
	assert.Panics(t, func() { c.Get("/away") }, "an in-process client cannot follow a redirect to another host")
	assert.Equal(t, before+1, teardowns.Load())
}

func TestClientFollowsRedirectsUnderTheApplicationRoot(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Config["APPLICATION_ROOT"] = "/shop"
	app.Get("/a", func(r *vial.Request) any { return vial.Redirect(r.URLFor("/b")) })
	app.Get("/b", func(r *vial.Request) any { return r.ScriptRoot + " " + r.Path })
	c := app.TestClient()
	c.FollowRedirects = true

	resp := c.Get("/a")
	require.NoError(t, resp.Err)
	assert.Equal(t, "/shop /b", resp.Text())
	assert.Equal(t, "/shop/b", resp.Request.URL.Path)
	assert.Equal(t, "/shop/b", resp.History[0].Location())
}

func TestClientRedirectCarriesCookies(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Post("/login", func(r *vial.Request) any {
		resp := vial.Redirect("/home", 303)
		resp.SetCookie(&http.Cookie{Name: "user", Value: r.Form().Get("user"), Path: "/"})
		return resp
	})
	app.Get("/home", func(r *vial.Request) any { return "hello " + r.Cookie("user") })
	c := app.TestClient()
	c.FollowRedirects = true

	resp := c.Post("/login", vial.WithFormValue("user", "ann"))
	assert.Equal(t, "hello ann", resp.Text())
	assert.Equal(t, "ann", c.Cookie("user"))
}

func TestClientValidatesAndFindsNothingWrongWithNormalResponses(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	app.Get("/text", func(r *vial.Request) any { return "text" })
	app.Get("/empty", func(r *vial.Request) any { return "" })
	app.Get("/bytes", func(r *vial.Request) any { return []byte{1, 2, 3} })
	app.Get("/json", func(r *vial.Request) any { return []int{1, 2} })
	app.Get("/stream", func(r *vial.Request) any {
		return iter.Seq[[]byte](func(yield func([]byte) bool) {
			_ = yield([]byte("a")) && yield(nil) && yield([]byte("b"))
		})
	})
	app.Get("/reader", func(r *vial.Request) any { return strings.NewReader(strings.Repeat("r", 100000)) })
	app.Get("/no-content", func(r *vial.Request) any { return vial.MakeResponse("", 204) })
	app.Get("/redirect", func(r *vial.Request) any { return vial.Redirect("/text") })
	app.Get("/handler", func(r *vial.Request) any {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "from net/http")
		})
	})
	app.Get("/abort", func(r *vial.Request) any { return vial.Abort(403) })
	app.Get("/boom", func(r *vial.Request) any { panic("boom") })
	app.Post("/echo", func(r *vial.Request) any { return r.Data() })
	c := app.TestClient()

	n := 0
	for _, tc := range []struct {
		method, target string
		code           int
		body           string
		opts           []vial.RequestOption
	}{
		{"GET", "/text", 200, "text", nil},
		{"GET", "/empty", 200, "", nil},
		{"GET", "/bytes", 200, "\x01\x02\x03", nil},
		{"GET", "/json", 200, "[1,2]\n", nil},
		{"GET", "/stream", 200, "ab", nil},
		{"GET", "/reader", 200, strings.Repeat("r", 100000), nil},
		{"GET", "/no-content", 204, "", nil},
		{"GET", "/redirect", 302, "", nil},
		{"GET", "/handler", 200, "from net/http", nil},
		{"GET", "/abort", 403, "", nil},
		{"GET", "/boom", 500, "", nil},
		{"GET", "/missing", 404, "", nil},
		{"PUT", "/text", 405, "", nil},
		{"OPTIONS", "/text", 200, "", nil},
		{"HEAD", "/stream", 200, "", nil},
		{"POST", "/echo", 200, "some bytes", []vial.RequestOption{vial.WithBody("", []byte("some bytes"))}},
		{"POST", "/echo", 200, "streamed in", []vial.RequestOption{vial.WithBodyReader("text/plain", iotest.OneByteReader(strings.NewReader("streamed in")))}},
	} {
		var resp *vial.TestResponse
		require.NotPanics(t, func() { resp = c.Open(tc.method, tc.target, tc.opts...) }, "%s %s", tc.method, tc.target)
		n++
		require.NoError(t, resp.Err, "%s %s", tc.method, tc.target)
		assert.Equal(t, tc.code, resp.StatusCode, "%s %s", tc.method, tc.target)
		if tc.body != "" || tc.code == 200 {
			assert.Equal(t, tc.body, resp.Text(), "%s %s", tc.method, tc.target)
		}
	}
	assert.EqualValues(t, n, teardowns.Load(), "each request is torn down once")
}

func TestClientReportsContractViolations(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	app.Get("/no-type", func(r *vial.Request) any {
		return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", nil)
			return gateway.Strings("untyped")
		})
	})
	c := app.TestClient()

	v := tcPanic(func() { c.Get("/no-type") })
	var viol *validate.Violation
	require.ErrorAs(t, v.(error), &viol, "the panic is the violation, passed on to the test")
	assert.Equal(t, validate.RuleContentType, viol.Rule)
	assert.Equal(t, validate.SideApplication, viol.Side)
	assert.EqualValues(t, 1, teardowns.Load(), "the body was closed, and the request torn down, before the panic went on")

	v = tcPanic(func() {
		c.Get("/no-type", vial.WithEnviron(func(env *gateway.Environ) { env.PathInfo = "no-slash" }))
	})
	require.ErrorAs(t, v.(error), &viol, "the client checks what the test changes in the environ")
	assert.Equal(t, validate.RuleEnvPathInfo, viol.Rule)
	assert.Equal(t, validate.SideServer, viol.Side)
}

func TestClientPassesOnAPanicFromAStreamAfterTearingDown(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	var got atomic.Int32
	vial.GotRequestException.ConnectVia(app, func(_ *vial.App, e *vial.RequestError) { got.Add(1) })
	app.Get("/half", func(r *vial.Request) any {
		return iter.Seq[string](func(yield func(string) bool) {
			if yield("first half, ") {
				panic("the stream broke")
			}
		})
	})
	c := app.TestClient()

	assert.PanicsWithValue(t, "the stream broke", func() { c.Get("/half") })
	assert.EqualValues(t, 1, teardowns.Load())
	assert.EqualValues(t, 1, got.Load())
}

func TestClientReportsABodyThatEndsEarly(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	broken := errors.New("disk on fire")
	app.Get("/late", func(r *vial.Request) any {
		return io.MultiReader(strings.NewReader("some data"), iotest.ErrReader(broken))
	})
	app.Get("/early", func(r *vial.Request) any { return iotest.ErrReader(broken) })
	c := app.TestClient()

	resp := c.Get("/late")
	assert.ErrorIs(t, resp.Err, broken, "the body ended early")
	assert.Equal(t, 200, resp.StatusCode, "the status went out with the first chunk")
	assert.Equal(t, "some data", resp.Text())

	resp = c.Get("/early")
	assert.ErrorIs(t, resp.Err, broken)
	assert.Equal(t, 500, resp.StatusCode, "nothing went out: a server answers 500")
	assert.Equal(t, "500 Internal Server Error", resp.Status)
	assert.Equal(t, "Internal Server Error\n", resp.Text())
	assert.EqualValues(t, 2, teardowns.Load())
}

func TestClientClosesEveryBodyOnce(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	var closes atomic.Int32
	app.Get("/r", func(r *vial.Request) any {
		resp := vial.MakeResponse("x")
		resp.CallOnClose(func() { closes.Add(1) })
		return resp
	})
	app.Get("/redirect", func(r *vial.Request) any { return vial.Redirect("/r") })
	c := app.TestClient()
	c.FollowRedirects = true

	c.Get("/r")
	c.Head("/r")
	c.Get("/redirect")
	assert.EqualValues(t, 3, closes.Load())
	assert.EqualValues(t, 4, teardowns.Load(), "three requests and a redirect")
}

func TestRequestContext(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	var appTeardowns atomic.Int32
	app.TeardownAppContext(func(r *vial.Request, err error) { appTeardowns.Add(1) })
	var popped atomic.Int32
	vial.AppContextPopped.ConnectVia(app, func(*vial.App, *vial.Request) { popped.Add(1) })
	app.Get("/user/<int:id>", func(r *vial.Request) any { return "user" }, vial.Endpoint("user"))
	app.Post("/login", func(r *vial.Request) any { return "login" }, vial.Endpoint("login"))

	r, done := app.TestRequestContext("GET", "/user/42?tab=posts", vial.WithQuery("sort", "new"), vial.WithHeader("X-A", "1"))
	assert.Equal(t, "user", r.Endpoint)
	assert.Equal(t, 42, r.ViewArgs["id"])
	assert.Equal(t, "posts", r.Args().Get("tab"))
	assert.Equal(t, "new", r.Args().Get("sort"))
	assert.Equal(t, "1", r.Header.Get("X-A"))
	assert.Equal(t, "/user/42?tab=posts&sort=new", r.FullPath())
	assert.Equal(t, "/user/7?tab=likes", r.URLFor("user", "id", 7, "tab", "likes"))
	assert.Equal(t, "http://localhost/login", r.URLFor("login", vial.External(true)))
	assert.EqualValues(t, 0, teardowns.Load(), "nothing is torn down before done")

	done()
	done()
	assert.EqualValues(t, 1, teardowns.Load(), "done tears down once")
	assert.EqualValues(t, 1, appTeardowns.Load())
	assert.EqualValues(t, 1, popped.Load())

	r, done = app.TestRequestContext("POST", "https://shop.example/login", vial.WithForm(url.Values{"user": {"ann"}}), vial.WithCookie("k", "v"))
	defer done()
	assert.Equal(t, "login", r.Endpoint)
	assert.Equal(t, "ann", r.Form().Get("user"))
	assert.Equal(t, "v", r.Cookie("k"))
	assert.True(t, r.IsSecure())
	assert.Equal(t, "https://shop.example/login", r.URL())

	r, done = app.TestRequestContext("GET", "/nowhere")
	defer done()
	assert.Nil(t, r.URLRule, "an unknown URL matches no rule")
	assert.Equal(t, "", r.Endpoint)
}

func TestClientConcurrentUse(t *testing.T) {
	defer tcGuard(t)
	app, teardowns := tcApp(t)
	app.Get("/n/<int:n>", func(r *vial.Request) any {
		resp := vial.MakeResponse(r.Path)
		resp.SetCookie(&http.Cookie{Name: "last", Value: r.Path[3:], Path: "/"})
		return resp
	})
	c := app.TestClient()
	done := make(chan bool)
	for i := range 8 {
		go func() {
			ok := true
			for j := range 20 {
				path := "/n/" + string(rune('0'+i)) + string(rune('0'+j%10))
				ok = ok && c.Get(path).Text() == path
			}
			done <- ok
		}()
	}
	for range 8 {
		assert.True(t, <-done)
	}
	assert.EqualValues(t, 160, teardowns.Load())
	assert.NotEmpty(t, c.Cookie("last"))
}

func TestClientDefaultsComeFromTheConfig(t *testing.T) {
	defer tcGuard(t)
	app, _ := tcApp(t)
	app.Config["SERVER_NAME"] = "shop.example:8080"
	app.Config["PREFERRED_URL_SCHEME"] = "https"
	var env gateway.Environ
	app.Get("/", func(r *vial.Request) any { env = *r.Environ; return r.URL() })
	c := app.TestClient()

	resp := c.Get("/")
	assert.Equal(t, "https://shop.example:8080/", resp.Text())
	assert.Equal(t, "shop.example", env.ServerName)
	assert.Equal(t, "8080", env.ServerPort)

	c.SetCookie("k", "v")
	assert.Equal(t, "v", c.Cookie("k"))
	assert.Equal(t, "k=v", c.Get("/", vial.WithEnviron(func(e *gateway.Environ) {})).Request.Header.Get("Cookie"))
}
