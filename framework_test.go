package vial_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/validate"
)

// do serves one request through the App as an http.Handler.
func do(t *testing.T, app http.Handler, method, target string, body ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if len(body) > 0 {
		rd = strings.NewReader(body[0])
	}
	req := httptest.NewRequest(method, target, rd)
	if len(body) > 1 {
		req.Header.Set("Content-Type", body[1])
	}
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	return rec
}

// events records the lifecycle as hooks and signal receivers see it.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, fmt.Sprintf(format, args...))
}

func (e *events) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.list
	e.list = nil
	return out
}

// quietLogger discards what it is given.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// quietApp returns an App whose error log goes to buf.
func quietApp(buf *bytes.Buffer) *vial.App {
	app := vial.New("test")
	app.Logger = slog.New(slog.NewTextHandler(buf, nil))
	return app
}

// lifecycleApp wires every hook and signal to ev.
func lifecycleApp(t *testing.T, ev *events, logs *bytes.Buffer) *vial.App {
	app := quietApp(logs)
	app.BeforeFirstRequest(func() { ev.add("before-first-request") })
	app.BeforeRequest(func(r *vial.Request) any { ev.add("before-request 1"); return nil })
	app.BeforeRequest(func(r *vial.Request) any {
		ev.add("before-request 2")
		if r.Args().Get("stop") != "" {
			return "stopped early"
		}
		return nil
	})
	app.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		ev.add("after-request 1 (%d)", resp.StatusCode)
		return resp
	})
	app.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		ev.add("after-request 2 (%d)", resp.StatusCode)
		if r.Args().Get("after-panic") != "" {
			panic("after-request failed")
		}
		return resp
	})
	app.TeardownRequest(func(r *vial.Request, err error) { ev.add("teardown-request 1 (%v)", err != nil) })
	app.TeardownRequest(func(r *vial.Request, err error) { ev.add("teardown-request 2 (%v)", err != nil) })
	app.TeardownAppContext(func(r *vial.Request, err error) { ev.add("teardown-appcontext (%v)", err != nil) })
	app.ErrorHandler(errTeapot, func(r *vial.Request, err error) any {
		ev.add("error-handler")
		return vial.MakeResponse("short and stout", 418)
	})

	app.Get("/", func(r *vial.Request) any { ev.add("view"); return "hello" })
	app.Get("/teapot", func(r *vial.Request) any { ev.add("view"); return errTeapot })
	app.Get("/panic", func(r *vial.Request) any { ev.add("view"); panic("boom") })
	app.Post("/only-post", func(r *vial.Request) any { ev.add("view"); return "posted" })

	connect(t, vial.AppContextPushed, func(_ *vial.App, r *vial.Request) { ev.add("appcontext-pushed") })
	connect(t, vial.RequestStarted, func(_ *vial.App, r *vial.Request) { ev.add("request-started") })
	connect(t, vial.RequestFinished, func(_ *vial.App, resp *vial.Response) { ev.add("request-finished (%d)", resp.StatusCode) })
	connect(t, vial.GotRequestException, func(_ *vial.App, e *vial.RequestError) { ev.add("got-request-exception") })
	connect(t, vial.RequestTearingDown, func(_ *vial.App, e *vial.Teardown) { ev.add("request-tearing-down") })
	connect(t, vial.AppContextTearingDown, func(_ *vial.App, e *vial.Teardown) { ev.add("appcontext-tearing-down") })
	connect(t, vial.AppContextPopped, func(_ *vial.App, r *vial.Request) { ev.add("appcontext-popped") })
	return app
}

// connect connects fn to sig for the duration of the test.
func connect[T any](t *testing.T, sig *vial.Signal[T], fn func(*vial.App, T)) {
	c := sig.Connect(fn)
	t.Cleanup(func() { sig.Disconnect(c) })
}

//lint:ignore ST1005 the text is the 418 status's own reason phrase
var errTeapot = errors.New("I'm a teapot")

var teardownTail = []string{
	"teardown-request 2 (%v)", "teardown-request 1 (%v)", "request-tearing-down",
	"teardown-appcontext (%v)", "appcontext-tearing-down", "appcontext-popped",
}

func tail(failed bool) []string {
	out := make([]string, len(teardownTail))
	for i, s := range teardownTail {
		if strings.Contains(s, "%v") {
			s = fmt.Sprintf(s, failed)
		}
		out[i] = s
	}
	return out
}

func TestLifecycleOrder(t *testing.T) {
	var ev events
	var logs bytes.Buffer
	app := lifecycleApp(t, &ev, &logs)

	cases := []struct {
		name   string
		method string
		target string
		status int
		events []string
	}{
		{"plain request", "GET", "/", 200, append([]string{
			"appcontext-pushed", "request-started", "before-request 1", "before-request 2", "view",
			"after-request 2 (200)", "after-request 1 (200)", "request-finished (200)"}, tail(false)...)},
		{"before-request short-circuit", "GET", "/?stop=1", 200, append([]string{
			"appcontext-pushed", "request-started", "before-request 1", "before-request 2",
			"after-request 2 (200)", "after-request 1 (200)", "request-finished (200)"}, tail(false)...)},
		{"view error with a handler", "GET", "/teapot", 418, append([]string{
			"appcontext-pushed", "request-started", "before-request 1", "before-request 2", "view",
			"error-handler", "after-request 2 (418)", "after-request 1 (418)", "request-finished (418)"}, tail(false)...)},
		{"unhandled panic", "GET", "/panic", 500, append([]string{
			"appcontext-pushed", "request-started", "before-request 1", "before-request 2", "view",
			"got-request-exception", "after-request 2 (500)", "after-request 1 (500)", "request-finished (500)"}, tail(true)...)},
		{"404", "GET", "/missing", 404, append([]string{
			"appcontext-pushed", "request-started", "before-request 1", "before-request 2",
			"after-request 2 (404)", "after-request 1 (404)", "request-finished (404)"}, tail(false)...)},
		{"405", "GET", "/only-post", 405, append([]string{
			"appcontext-pushed", "request-started", "before-request 1", "before-request 2",
			"after-request 2 (405)", "after-request 1 (405)", "request-finished (405)"}, tail(false)...)},
		{"error inside after-request", "GET", "/?after-panic=1", 500, append([]string{
			"appcontext-pushed", "request-started", "before-request 1", "before-request 2", "view",
			"after-request 2 (200)", "got-request-exception", "after-request 2 (500)"}, tail(true)...)},
	}
	first := true
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, app, tc.method, tc.target)
			assert.Equal(t, tc.status, rec.Code)
			want := tc.events
			if first {
				// before-first-request runs once, after the app context is pushed.
				want = append([]string{want[0], "before-first-request"}, want[1:]...)
				first = false
			}
			assert.Equal(t, want, ev.take())
		})
	}
	assert.Contains(t, logs.String(), "boom", "the unhandled panic is logged")
	assert.Contains(t, logs.String(), "after-request failed")
}

func TestBeforeFirstRequestRunsOnceUnderConcurrentFirstRequests(t *testing.T) {
	app := vial.New("test")
	var runs, seenBeforeDone atomic.Int32
	var done atomic.Bool
	app.BeforeFirstRequest(func() {
		runs.Add(1)
		time.Sleep(5 * time.Millisecond) // a window for a second runner, or an early view
		done.Store(true)
	})
	app.Get("/", func(r *vial.Request) any {
		if !done.Load() {
			seenBeforeDone.Add(1)
		}
		return "ok"
	})
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			assert.Equal(t, 200, rec.Code)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), runs.Load())
	assert.Equal(t, int32(0), seenBeforeDone.Load(), "no view runs before the before-first-request functions finish")
}

// Unhandled errors go up to the server (its debugger, or the test) under
// TESTING or DEBUG, as in Flask, unless PROPAGATE_EXCEPTIONS says
// otherwise; else they are a 500.
func TestExceptionsPropagateAsConfigured(t *testing.T) {
	cases := []struct {
		config    map[string]any
		propagate bool
	}{
		{map[string]any{}, false},
		{map[string]any{"TESTING": true}, true},
		{map[string]any{"DEBUG": true}, true},
		{map[string]any{"PROPAGATE_EXCEPTIONS": true}, true},
		{map[string]any{"TESTING": true, "PROPAGATE_EXCEPTIONS": false}, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.config), func(t *testing.T) {
			app := quietApp(&bytes.Buffer{})
			for k, v := range c.config {
				app.Config[k] = v
			}
			app.Get("/", func(r *vial.Request) any { return errSentinel })
			var got any
			var status int
			func() {
				defer func() { got = recover() }()
				status = app.TestClient().Get("/").StatusCode
			}()
			if c.propagate {
				err, _ := got.(error)
				assert.ErrorIs(t, err, errSentinel, "the view's error reaches the test")
			} else {
				assert.Nil(t, got)
				assert.Equal(t, 500, status)
			}
		})
	}
}

func TestRegisteringAfterServingPanics(t *testing.T) {
	app := vial.New("test")
	app.Get("/", func(r *vial.Request) any { return "ok" })
	do(t, app, "GET", "/")
	assert.PanicsWithValue(t,
		"vial: AddURLRule(/late) called after the app served its first request; register every rule, hook and handler before the app starts serving",
		func() { app.Get("/late", func(r *vial.Request) any { return "late" }) })
	assert.Panics(t, func() { app.BeforeRequest(func(r *vial.Request) any { return nil }) })
	assert.Panics(t, func() { app.ErrorHandler(404, func(r *vial.Request, err error) any { return "" }) })
}

func TestDuplicateEndpointPanicsNamingBothViews(t *testing.T) {
	app := vial.New("test")
	app.AddURLRule("/a", "thing", viewA)
	defer func() {
		v := recover()
		require.NotNil(t, v)
		msg := fmt.Sprint(v)
		assert.Contains(t, msg, `"/b"`)
		assert.Contains(t, msg, "viewA")
		assert.Contains(t, msg, "viewB")
		assert.Contains(t, msg, `"thing"`)
	}()
	app.AddURLRule("/b", "thing", viewB)
}

func viewA(r *vial.Request) any { return "a" }

// listOf is a generic view: each instance is a view of its own.
func listOf[T any](r *vial.Request) any { return fmt.Sprintf("%T", *new(T)) }

func TestGenericViewsAreNamedAfterTheFunction(t *testing.T) {
	app := vial.New("test")
	app.Get("/ints", listOf[int])
	// The same instance may serve several rules, as any function may.
	app.Get("/more-ints", listOf[int])
	// Another instance is another view: it needs an endpoint of its own.
	assert.PanicsWithValue(t,
		`vial: rule "/strings": view function github.com/vial-go/vial_test.listOf[...] is overwriting the existing view github.com/vial-go/vial_test.listOf[...] for endpoint "listOf"; name the endpoints apart with vial.Endpoint`,
		func() { app.Get("/strings", listOf[string]) })
	app.Get("/strings", listOf[string], vial.Endpoint("strings"))

	assert.Equal(t, "/ints", app.URLFor("listOf"))
	assert.Equal(t, "int", do(t, app, "GET", "/ints").Body.String())
	assert.Equal(t, "int", do(t, app, "GET", "/more-ints").Body.String())
	assert.Equal(t, "string", do(t, app, "GET", "/strings").Body.String())
}
func viewB(r *vial.Request) any { return "b" }

func TestDefaultEndpointIsTheFunctionName(t *testing.T) {
	app := vial.New("test")
	app.Route("/a")(viewA)
	app.Route("/anon")(func(r *vial.Request) any { return r.Endpoint })
	app.Get("/where", func(r *vial.Request) any { return r.Endpoint })
	assert.Equal(t, "/a", app.URLFor("viewA"))
	assert.Equal(t, "/anon", do(t, app, "GET", "/anon").Body.String())
	assert.Equal(t, "/where", do(t, app, "GET", "/where").Body.String())
	// The same function may serve several rules under its endpoint.
	app2 := vial.New("test")
	app2.Route("/")(viewA)
	app2.Route("/index")(viewA)
	assert.Equal(t, "a", do(t, app2, "GET", "/index").Body.String())
}

// Every rule of an endpoint runs the endpoint's view, whether the rule was
// registered before the view, with it or after it; a before-request
// function that changes r.Endpoint sends the request to that endpoint's view.
func TestRulesOfAnEndpointShareItsView(t *testing.T) {
	app := vial.New("test")
	app.Logger = quietLogger()
	shared := func(r *vial.Request) any { return "shared " + r.URLRule.Rule }
	app.AddURLRule("/before", "shared", nil)
	app.AddURLRule("/with", "shared", shared)
	app.AddURLRule("/after", "shared", nil)
	app.AddURLRule("/nobody", "nobody", nil)
	app.AddURLRule("/switch", "switch", func(r *vial.Request) any { return "not switched" })
	app.BeforeRequest(func(r *vial.Request) any {
		if r.Path == "/switch" {
			r.Endpoint = "shared"
		}
		return nil
	})
	for _, path := range []string{"/before", "/with", "/after"} {
		assert.Equal(t, "shared "+path, do(t, app, "GET", path).Body.String())
	}
	assert.Equal(t, "shared /switch", do(t, app, "GET", "/switch").Body.String())
	assert.Equal(t, http.StatusInternalServerError, do(t, app, "GET", "/nobody").Code,
		"an endpoint without a view is the app's error")
}

// A before-request function may drop the matched rule; dispatch then finds
// the view by endpoint alone, as Flask's view_functions lookup does.
func TestDispatchWithoutARule(t *testing.T) {
	var logs bytes.Buffer
	app := quietApp(&logs)
	app.Get("/a", viewA)
	app.AddURLRule("/none", "none", nil, vial.Methods("GET"))
	app.BeforeRequest(func(r *vial.Request) any {
		r.URLRule = nil
		return nil
	})
	rec := do(t, app, "GET", "/a")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "a", rec.Body.String())
	// OPTIONS without a rule goes to the view: there is no rule to answer it.
	rec = do(t, app, "OPTIONS", "/a")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "a", rec.Body.String())
	// An endpoint without a view is the app's error, named in the log.
	rec = do(t, app, "GET", "/none")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, logs.String(), `no view function is registered for endpoint \"none\"`)
}

// Two Apps may share one URLMap; each still runs its own view for an
// endpoint both register.
func TestAppsSharingAURLMapKeepTheirViews(t *testing.T) {
	app1 := vial.New("one")
	app1.AddURLRule("/x", "x", func(r *vial.Request) any { return "one" })
	app2 := vial.New("two")
	app2.URLMap = app1.URLMap
	app2.AddURLRule("/y", "x", func(r *vial.Request) any { return "two" })
	for _, path := range []string{"/x", "/y"} {
		assert.Equal(t, "one", do(t, app1, "GET", path).Body.String(), "app1 %s", path)
		assert.Equal(t, "two", do(t, app2, "GET", path).Body.String(), "app2 %s", path)
	}
}

func TestResponseSetStatus(t *testing.T) {
	resp := vial.NewResponse(nil, "")
	steps := []struct {
		set    any
		status string
		code   int
	}{
		{404, "404 Not Found", 404},
		{"299 Custom Reason", "299 Custom Reason", 299},
		{201, "201 Created", 201},             // an int drops the custom line
		{"202 ACCEPTED", "202 ACCEPTED", 202}, // Flask's spelling is kept
		{"204", "204 No Content", 204},        // no reason: the standard one
		{" 418 I'm a teapot ", "418 I'm a teapot", 418},
		{"299 ", gateway.StatusLine(299), 299},
	}
	for _, s := range steps {
		require.NoError(t, resp.SetStatus(s.set), "%v", s.set)
		assert.Equal(t, s.status, resp.Status(), "after SetStatus(%#v)", s.set)
		assert.Equal(t, s.code, resp.StatusCode, "after SetStatus(%#v)", s.set)
	}
	for _, bad := range []any{99, 1000, "OK", "2000 X", "20 X", 3.5} {
		assert.Error(t, resp.SetStatus(bad), "%#v", bad)
	}
	assert.Equal(t, gateway.StatusLine(299), resp.Status(), "a refused status changes nothing")
}

// r.Values is Flask's request.values: the query string, then the form,
// except on GET, where werkzeug leaves the form out.
func TestRequestValues(t *testing.T) {
	app := vial.New("test")
	app.Route("/v", vial.Methods("GET", "POST", "PUT"))(func(r *vial.Request) any {
		return r.Values("a") + "," + r.Values("b")
	})
	form := "application/x-www-form-urlencoded"
	assert.Equal(t, "1,3", do(t, app, "POST", "/v?a=1", "a=2&b=3", form).Body.String(), "the query string first")
	assert.Equal(t, "2,3", do(t, app, "PUT", "/v", "a=2&b=3", form).Body.String())
	assert.Equal(t, "1,", do(t, app, "GET", "/v?a=1", "a=2&b=3", form).Body.String(), "no form on GET")
}

func TestMakeResponseForms(t *testing.T) {
	app := vial.New("test")
	app.Get("/string", func(r *vial.Request) any { return "<b>hi</b>" })
	app.Get("/bytes", func(r *vial.Request) any { return []byte("raw") })
	app.Get("/map", func(r *vial.Request) any { return map[string]any{"b": 2, "a": 1} })
	app.Get("/slice", func(r *vial.Request) any { return []int{1, 2, 3} })
	app.Get("/struct", func(r *vial.Request) any {
		return vial.JSON(struct {
			Name string `json:"name"`
		}{"gopher"})
	})
	app.Get("/tuple", func(r *vial.Request) any {
		return vial.MakeResponse("made", "202 ACCEPTED", map[string]string{"X-Thing": "1"})
	})
	app.Get("/headers-only", func(r *vial.Request) any {
		return vial.MakeResponse("h", http.Header{"X-A": {"1", "2"}})
	})
	app.Get("/seq", func(r *vial.Request) any {
		return func(yield func(string) bool) {
			for _, s := range []string{"one ", "two ", "three"} {
				if !yield(s) {
					return
				}
			}
		}
	})
	app.Get("/reader", func(r *vial.Request) any { return strings.NewReader("from a reader") })
	app.Get("/handler", func(r *vial.Request) any {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("X-From", "net/http")
			w.WriteHeader(201)
			io.WriteString(w, "handled "+req.URL.Path)
		})
	})
	app.Get("/redirect", func(r *vial.Request) any { return vial.Redirect("/string") })
	app.Get("/abort", func(r *vial.Request) any { return vial.Abort(403, "not yours") })
	app.Get("/nil", func(r *vial.Request) any { return nil })

	rec := do(t, app, "GET", "/string")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "9", rec.Header().Get("Content-Length"))
	assert.Equal(t, "<b>hi</b>", rec.Body.String())

	assert.Equal(t, "raw", do(t, app, "GET", "/bytes").Body.String())

	rec = do(t, app, "GET", "/map")
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "{\"a\":1,\"b\":2}\n", rec.Body.String())
	assert.Equal(t, "[1,2,3]\n", do(t, app, "GET", "/slice").Body.String())
	assert.Equal(t, "{\"name\":\"gopher\"}\n", do(t, app, "GET", "/struct").Body.String())

	rec = do(t, app, "GET", "/tuple")
	assert.Equal(t, 202, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("X-Thing"))
	assert.Equal(t, []string{"1", "2"}, do(t, app, "GET", "/headers-only").Header().Values("X-A"))

	assert.Equal(t, "one two three", do(t, app, "GET", "/seq").Body.String())
	assert.Equal(t, "from a reader", do(t, app, "GET", "/reader").Body.String())

	rec = do(t, app, "GET", "/handler")
	assert.Equal(t, 201, rec.Code)
	assert.Equal(t, "net/http", rec.Header().Get("X-From"))
	assert.Equal(t, "handled /handler", rec.Body.String())

	rec = do(t, app, "GET", "/redirect")
	assert.Equal(t, 302, rec.Code)
	assert.Equal(t, "/string", rec.Header().Get("Location"))

	rec = do(t, app, "GET", "/abort")
	assert.Equal(t, 403, rec.Code)
	assert.Contains(t, rec.Body.String(), "not yours")

	var logs bytes.Buffer
	app.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	rec = do(t, app, "GET", "/nil")
	assert.Equal(t, 500, rec.Code)
	assert.Contains(t, logs.String(), `the view function for \"/nil\" did not return a valid response`)
}

func TestStreamingViewKeepsItsRequestUntilTheLastChunk(t *testing.T) {
	var ev events
	app := vial.New("test")
	app.TeardownRequest(func(r *vial.Request, err error) { ev.add("teardown") })
	app.Get("/stream", func(r *vial.Request) any {
		r.G.Set("user", "gopher")
		return func(yield func(string) bool) {
			for i := 0; i < 3; i++ {
				ev.add("chunk %d for %v", i, r.G.Get("user"))
				if !yield(fmt.Sprintf("%d;", i)) {
					return
				}
			}
		}
	})
	srv := httptest.NewServer(app)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/stream")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "0;1;2;", string(body))
	assert.Eventually(t, func() bool { return len(ev.list) == 4 }, time.Second, time.Millisecond)
	assert.Equal(t, []string{"chunk 0 for gopher", "chunk 1 for gopher", "chunk 2 for gopher", "teardown"}, ev.take())
}

func TestTeardownPanicIsLoggedAndTheRestStillRun(t *testing.T) {
	var ev events
	var logs bytes.Buffer
	app := quietApp(&logs)
	app.TeardownRequest(func(r *vial.Request, err error) { ev.add("teardown 1") })
	app.TeardownRequest(func(r *vial.Request, err error) { panic("teardown 2 failed") })
	// An HTTP error, as a request accessor raises on bad input.
	app.TeardownRequest(func(r *vial.Request, err error) { r.Args() })
	app.TeardownAppContext(func(r *vial.Request, err error) { ev.add("appcontext teardown") })
	connect(t, vial.AppContextPopped, func(_ *vial.App, r *vial.Request) { ev.add("popped") })
	app.Get("/", func(r *vial.Request) any { return "ok" })
	rec := do(t, app, "GET", "/?a=%zz")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, []string{"teardown 1", "appcontext teardown", "popped"}, ev.take())
	assert.Contains(t, logs.String(), "teardown 2 failed")
	assert.Contains(t, logs.String(), "400 Bad Request")
}

type notFoundError struct{ what string }

func (e *notFoundError) Error() string { return e.what + " not found" }

var errSentinel = errors.New("sentinel")

func TestErrorHandlers(t *testing.T) {
	var logs bytes.Buffer
	app := quietApp(&logs)
	app.ErrorHandler((*notFoundError)(nil), func(r *vial.Request, err error) any {
		var nf *notFoundError
		require.True(t, errors.As(err, &nf))
		return vial.MakeResponse("no "+nf.what, 404)
	})
	app.ErrorHandler(errSentinel, func(r *vial.Request, err error) any { return vial.MakeResponse("sentinel seen", 409) })
	app.ErrorHandler(404, func(r *vial.Request, err error) any {
		return vial.MakeResponse("custom 404 for "+r.Path, 404)
	})
	var original error
	app.ErrorHandler(500, func(r *vial.Request, err error) any {
		var he *vial.HTTPError
		require.True(t, errors.As(err, &he))
		original = he.Err
		return vial.MakeResponse("custom 500", 500)
	})
	app.Get("/typed", func(r *vial.Request) any { return fmt.Errorf("wrapped: %w", &notFoundError{"user"}) })
	app.Get("/sentinel", func(r *vial.Request) any { return fmt.Errorf("deep: %w", errSentinel) })
	app.Get("/panic-typed", func(r *vial.Request) any { panic(&notFoundError{"page"}) })
	app.Get("/abort-in-panic", func(r *vial.Request) any { panic(vial.Abort(400, "bad thing")) })
	app.Get("/plain", func(r *vial.Request) any { return errors.New("plain failure") })

	rec := do(t, app, "GET", "/typed")
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, "no user", rec.Body.String())
	rec = do(t, app, "GET", "/sentinel")
	assert.Equal(t, 409, rec.Code)
	rec = do(t, app, "GET", "/panic-typed")
	assert.Equal(t, "no page", rec.Body.String(), "a panic with an error reaches the handlers for its type")
	rec = do(t, app, "GET", "/abort-in-panic")
	assert.Equal(t, 400, rec.Code)
	assert.Contains(t, rec.Body.String(), "bad thing")
	rec = do(t, app, "GET", "/nowhere")
	assert.Equal(t, "custom 404 for /nowhere", rec.Body.String())
	rec = do(t, app, "GET", "/plain")
	assert.Equal(t, 500, rec.Code)
	assert.Equal(t, "custom 500", rec.Body.String())
	require.Error(t, original)
	assert.Equal(t, "plain failure", original.Error())
}

func TestSignalReceiverPanicIsA500AndTheOtherReceiversRun(t *testing.T) {
	var logs bytes.Buffer
	app := quietApp(&logs)
	app.Get("/", func(r *vial.Request) any { return "ok" })
	var second atomic.Int32
	prev := vial.SetReceiverPanicHandler(func(p *vial.ReceiverPanic) {})
	defer func() { vial.SetReceiverPanicHandler(prev) }()
	connect(t, vial.RequestStarted, func(a *vial.App, r *vial.Request) {
		if a == app {
			panic("receiver failed")
		}
	})
	connect(t, vial.RequestStarted, func(a *vial.App, r *vial.Request) { second.Add(1) })
	rec := do(t, app, "GET", "/")
	assert.Equal(t, 500, rec.Code)
	assert.Equal(t, int32(1), second.Load())
}

func TestBadInputGetsA4xx(t *testing.T) {
	app := vial.New("test")
	app.Config["MAX_CONTENT_LENGTH"] = 64
	app.Post("/json", func(r *vial.Request) any {
		var in struct {
			Name string `json:"name"`
			Age  int    `json:"age"`
		}
		if err := r.JSON(&in); err != nil {
			return err
		}
		return map[string]any{"name": in.Name, "age": in.Age}
	})
	app.Post("/form", func(r *vial.Request) any { return "hello " + r.Form().Get("name") })
	app.Get("/args", func(r *vial.Request) any { return "q=" + r.Args().Get("q") })
	app.Get("/cookie", func(r *vial.Request) any { return "c=" + r.Cookie("c") })

	rec := do(t, app, "POST", "/json", `{"name":"ann","age":7}`, "application/json")
	assert.Equal(t, 200, rec.Code)
	assert.JSONEq(t, `{"name":"ann","age":7}`, rec.Body.String())

	rec = do(t, app, "POST", "/json", `{"name":`, "application/json")
	assert.Equal(t, 400, rec.Code)
	assert.Contains(t, rec.Body.String(), "unexpected end of JSON input")

	rec = do(t, app, "POST", "/json", `{"name":"ann","age":"seven"}`, "application/json")
	assert.Equal(t, 400, rec.Code)
	assert.Contains(t, rec.Body.String(), `field &#34;age&#34;`)

	rec = do(t, app, "POST", "/json", `{"name":"ann"}`, "text/plain")
	assert.Equal(t, 400, rec.Code)
	assert.Contains(t, rec.Body.String(), "Content-Type was not")

	// Anything but white space after the value, a stray closing bracket
	// included, makes the body malformed.
	for _, body := range []string{`{"name":"ann"}]`, `{"name":"ann"}}`, `{"name":"ann"} {}`, `{"name":"ann"} x`} {
		rec = do(t, app, "POST", "/json", body, "application/json")
		assert.Equal(t, 400, rec.Code, body)
		assert.Contains(t, rec.Body.String(), "extra data after the JSON value", body)
	}
	rec = do(t, app, "POST", "/json", "{\"name\":\"ann\"} \r\n\t ", "application/json")
	assert.Equal(t, 200, rec.Code, "white space after the value is fine")

	rec = do(t, app, "POST", "/json", `{"name":"`+strings.Repeat("a", 100)+`"}`, "application/json")
	assert.Equal(t, 413, rec.Code)

	rec = do(t, app, "POST", "/form", "name=ann", "application/x-www-form-urlencoded")
	assert.Equal(t, "hello ann", rec.Body.String())
	rec = do(t, app, "POST", "/form", "name=%zz", "application/x-www-form-urlencoded")
	assert.Equal(t, 400, rec.Code)
	assert.Contains(t, rec.Body.String(), "form data is not valid")

	req := httptest.NewRequest("GET", "/args", nil)
	req.URL.RawQuery = "q=%zz"
	rr := httptest.NewRecorder()
	app.ServeHTTP(rr, req)
	assert.Equal(t, 400, rr.Code)
	assert.Equal(t, "q=go", do(t, app, "GET", "/args?q=go").Body.String())

	req = httptest.NewRequest("GET", "/cookie", nil)
	req.Header.Set("Cookie", `bad cookie; ="x"; c=ok`)
	rr = httptest.NewRecorder()
	app.ServeHTTP(rr, req)
	assert.Equal(t, 200, rr.Code)
	assert.Equal(t, "c=ok", rr.Body.String(), "malformed cookies are skipped, good ones kept")
}

func TestRoutingOutcomes(t *testing.T) {
	app := vial.New("test")
	app.Get("/user/<int:id>", func(r *vial.Request) any {
		return fmt.Sprintf("%T %v", r.ViewArgs["id"], r.ViewArgs["id"])
	})
	app.Get("/user/new", func(r *vial.Request) any { return "new user form" })
	// Registered first, yet "/member/new" is the static rule's.
	app.Get("/member/<name>", func(r *vial.Request) any { return "member " + r.ViewArgs["name"].(string) })
	app.Get("/member/new", func(r *vial.Request) any { return "new member form" })
	app.Get("/docs/", func(r *vial.Request) any { return "docs" })
	app.Route("/thing", vial.Methods("GET", "PUT"))(func(r *vial.Request) any { return "thing " + r.Method })

	assert.Equal(t, "int 42", do(t, app, "GET", "/user/42").Body.String())
	assert.Equal(t, "new user form", do(t, app, "GET", "/user/new").Body.String())
	assert.Equal(t, "new member form", do(t, app, "GET", "/member/new").Body.String())
	assert.Equal(t, "member ann", do(t, app, "GET", "/member/ann").Body.String())

	rec := do(t, app, "GET", "http://example.com/docs?x=1")
	assert.Equal(t, 308, rec.Code)
	assert.Equal(t, "http://example.com/docs/?x=1", rec.Header().Get("Location"))

	// Repeated slashes: a 308 to the merged path, absolute, with the query.
	rec = do(t, app, "GET", "http://example.com//user//42?x=1")
	assert.Equal(t, 308, rec.Code)
	assert.Equal(t, "http://example.com/user/42?x=1", rec.Header().Get("Location"))

	rec = do(t, app, "DELETE", "/thing")
	assert.Equal(t, 405, rec.Code)
	assert.Equal(t, "GET, HEAD, OPTIONS, PUT", rec.Header().Get("Allow"))

	rec = do(t, app, "OPTIONS", "/thing")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "GET, HEAD, OPTIONS, PUT", rec.Header().Get("Allow"))

	rec = do(t, app, "HEAD", "/thing")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "", rec.Body.String())
	assert.Equal(t, fmt.Sprint(len("thing HEAD")), rec.Header().Get("Content-Length"), "HEAD keeps the body's length")

	assert.Equal(t, 404, do(t, app, "GET", "/thing/").Code)
}

func TestURLFor(t *testing.T) {
	app := vial.New("test")
	app.AddURLRule("/user/<int:id>", "user", func(r *vial.Request) any {
		return r.URLFor("user", "id", 7, "tab", "posts", vial.External(true), vial.Anchor("top"))
	})
	assert.Equal(t, "/user/42?q=x", app.URLFor("user", "id", 42, "q", "x"))
	_, err := app.BuildURL("user")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "user")
	assert.Contains(t, err.Error(), "id")
	assert.Panics(t, func() { app.URLFor("nope") })
	rec := do(t, app, "GET", "http://example.com/user/1")
	assert.Equal(t, "http://example.com/user/7?tab=posts#top", rec.Body.String())
}

func TestPanicsPastThePipelineStillTearDown(t *testing.T) {
	var logs bytes.Buffer
	app := quietApp(&logs)
	var teardowns, failed atomic.Int32
	app.TeardownRequest(func(r *vial.Request, err error) {
		teardowns.Add(1)
		if err != nil {
			failed.Add(1)
		}
	})
	app.Get("/app-panics-after-start", func(r *vial.Request) any {
		return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
			panic("wrapped app failed")
		})
	})
	app.Get("/bad-header", func(r *vial.Request) any {
		return vial.MakeResponse("x", map[string]string{"X-Bad": "a\r\nInjected: yes"})
	})
	for _, wrap := range []struct {
		name string
		h    http.Handler
	}{{"plain", app}, {"validated", gateway.Handler(validate.Wrap(app))}} {
		teardowns.Store(0)
		failed.Store(0)
		rec := do(t, wrap.h, "GET", "/app-panics-after-start")
		assert.Equal(t, 500, rec.Code, wrap.name)
		assert.Equal(t, int32(1), failed.Load(), "%s: the teardown sees the failure", wrap.name)
		rec = do(t, wrap.h, "GET", "/bad-header")
		assert.Equal(t, 500, rec.Code, wrap.name)
		assert.Empty(t, rec.Header().Get("Injected"), wrap.name)
		assert.Equal(t, int32(2), teardowns.Load(), wrap.name)
	}
}

type lister struct{ what string }

func (l *lister) List(r *vial.Request) any { return "list of " + l.what }

func TestTwoMethodValuesOfOneMethodCannotShareAnEndpoint(t *testing.T) {
	app := vial.New("test")
	users, admins := &lister{"users"}, &lister{"admins"}
	app.Get("/users", users.List)
	defer func() {
		v := recover()
		require.NotNil(t, v, "the second registration must not silently replace the first")
		assert.Contains(t, fmt.Sprint(v), `"/admins"`)
		assert.Contains(t, fmt.Sprint(v), "vial.Endpoint")
	}()
	app.Get("/admins", admins.List)
}

func TestAViewListingOptionsAnswersIt(t *testing.T) {
	app := vial.New("test")
	app.Route("/api", vial.Methods("GET", "OPTIONS"))(func(r *vial.Request) any {
		if r.Method == "OPTIONS" {
			return vial.MakeResponse("", 204, map[string]string{"Access-Control-Allow-Origin": "*"})
		}
		return "data"
	})
	// Methods are normalized as the rule is added: " options" is OPTIONS.
	app.Route("/v2", vial.Methods("get", " options"))(func(r *vial.Request) any {
		return vial.MakeResponse("", 204, map[string]string{"X-View": r.Method})
	})
	rec := do(t, app, "OPTIONS", "/api")
	assert.Equal(t, 204, rec.Code)
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))

	rec = do(t, app, "OPTIONS", "/v2")
	assert.Equal(t, 204, rec.Code)
	assert.Equal(t, "OPTIONS", rec.Header().Get("X-View"), "the view answers, not the automatic OPTIONS")
}

func TestNoBodyStatusesSendNoBody(t *testing.T) {
	app := vial.New("test")
	closed := 0
	app.Delete("/thing", func(r *vial.Request) any {
		resp := vial.MakeResponse(map[string]any{"deleted": 1}, 204)
		resp.CallOnClose(func() { closed++ })
		return resp
	})
	resp := app.TestClient().Delete("/thing")
	assert.Equal(t, 204, resp.StatusCode)
	assert.Empty(t, resp.Body)
	assert.NoError(t, resp.Err)
	assert.Equal(t, 1, closed, "the unsent body is still closed")
}

func TestMakeResponseKeepsRepeatedHeaders(t *testing.T) {
	resp := vial.MakeResponse("x", gateway.Headers{{Name: "Set-Cookie", Value: "a=1"}, {Name: "Set-Cookie", Value: "b=2"}})
	assert.Equal(t, []string{"a=1", "b=2"}, resp.Header.Values("Set-Cookie"))
}

func TestRedirectsOtherThan307And308BecomeGET(t *testing.T) {
	app := vial.New("test")
	app.Put("/old", func(r *vial.Request) any { return vial.Redirect("/new") })
	app.Route("/new", vial.Methods("GET", "PUT"))(func(r *vial.Request) any { return r.Method })
	c := app.TestClient()
	c.FollowRedirects = true
	assert.Equal(t, "GET", c.Put("/old", vial.WithBody("text/plain", []byte("x"))).Text())
}

func TestMaxContentLengthFromJSONConfig(t *testing.T) {
	app := vial.New("test")
	app.Logger = quietLogger()
	app.Post("/", func(r *vial.Request) any { return fmt.Sprint(len(r.Data())) })
	app.Config["MAX_CONTENT_LENGTH"] = float64(10) // as encoding/json decodes a number
	assert.Equal(t, 413, do(t, app, "POST", "/", strings.Repeat("x", 50)).Code)
	assert.Equal(t, "5", do(t, app, "POST", "/", "xxxxx").Body.String())

	app2 := vial.New("test")
	app2.Logger = quietLogger()
	app2.Post("/", func(r *vial.Request) any { return fmt.Sprint(len(r.Data())) })
	app2.Config["MAX_CONTENT_LENGTH"] = "ten"
	assert.Equal(t, 500, do(t, app2, "POST", "/", "xxxxx").Code, "a bad limit fails closed")
}

func TestSemicolonsStayInQueryValues(t *testing.T) {
	app := vial.New("test")
	app.Get("/", func(r *vial.Request) any { return r.Args().Get("a") + "|" + r.Args().Get("b") })
	assert.Equal(t, "1;b=2|", do(t, app, "GET", "/?a=1;b=2").Body.String())
}

func TestAReplacedOrFailedResponseIsClosed(t *testing.T) {
	app := vial.New("test")
	app.Logger = quietLogger()
	var closed []string
	app.Get("/", func(r *vial.Request) any {
		resp := vial.MakeResponse("original")
		resp.CallOnClose(func() { closed = append(closed, "original") })
		return resp
	})
	app.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		if r.Args().Get("fail") != "" {
			panic("after-request failed")
		}
		return vial.MakeResponse("replacement")
	})
	assert.Equal(t, "replacement", do(t, app, "GET", "/").Body.String())
	assert.Equal(t, []string{"original"}, closed)
	closed = nil
	assert.Equal(t, 500, do(t, app, "GET", "/?fail=1").Code)
	assert.Equal(t, []string{"original"}, closed)
}

type panickyConverter struct{}

func (panickyConverter) Pattern() string               { return `[a-z]+` }
func (panickyConverter) ToValue(s string) (any, error) { panic("converter bug") }
func (panickyConverter) ToURL(v any) (string, error)   { return fmt.Sprint(v), nil }

func TestAPanickingConverterIsHandledLikeAnyPanic(t *testing.T) {
	app := vial.New("test")
	app.Logger = quietLogger()
	app.URLMap.Converters["panicky"] = func(vial.ConverterArgs) (vial.Converter, error) { return panickyConverter{}, nil }
	app.Get("/p/<panicky:x>", func(r *vial.Request) any { return "unreachable" })
	var teardowns atomic.Int32
	app.TeardownRequest(func(r *vial.Request, err error) { teardowns.Add(1) })
	app.ErrorHandler(500, func(r *vial.Request, err error) any { return vial.MakeResponse("handled 500", 500) })
	rec := do(t, app, "GET", "/p/abc")
	assert.Equal(t, 500, rec.Code)
	assert.Equal(t, "handled 500", rec.Body.String())
	assert.Equal(t, int32(1), teardowns.Load())
}

func TestGoexitInAViewTearsDownWithoutAPanic(t *testing.T) {
	app := vial.New("test")
	var teardowns atomic.Int32
	app.TeardownRequest(func(r *vial.Request, err error) { teardowns.Add(1) })
	app.Get("/", func(r *vial.Request) any { runtime.Goexit(); return nil })
	done := make(chan any)
	go func() {
		defer func() { done <- recover() }()
		app.ServeGateway(&gateway.Environ{Method: "GET", PathInfo: "/"}, func(string, gateway.Headers, ...error) gateway.WriteFunc { return nil })
	}()
	assert.Nil(t, <-done, "Goexit is not turned into a panic")
	assert.Equal(t, int32(1), teardowns.Load())
}

// closeRecorder is a reader body that notes its Close.
type closeRecorder struct{ closed *atomic.Bool }

func (closeRecorder) Read([]byte) (int, error) { return 0, io.EOF }
func (c closeRecorder) Close() error           { c.closed.Store(true); return nil }

// When start refuses a response (a header with CR/LF, under the test
// client's Validate), its body never reaches the server; what it holds is
// closed all the same, and the request is torn down once.
func TestARefusedResponseIsStillClosed(t *testing.T) {
	app := vial.New("test")
	app.Logger = quietLogger()
	var readerClosed, onClose atomic.Bool
	app.Get("/", func(r *vial.Request) any {
		resp := vial.MakeResponse(io.Reader(closeRecorder{&readerClosed}))
		resp.Header.Set("X-Bad", "a\r\nb")
		resp.CallOnClose(func() { onClose.Store(true) })
		return resp
	})
	var teardowns atomic.Int32
	app.TeardownRequest(func(r *vial.Request, err error) { teardowns.Add(1) })
	v := vCatchViolation(func() { app.TestClient().Get("/") })
	require.NotNil(t, v, "Validate refused nothing")
	assert.True(t, readerClosed.Load(), "the reader was not closed")
	assert.True(t, onClose.Load(), "the on-close function did not run")
	assert.Equal(t, int32(1), teardowns.Load())
}

// vCatchViolation runs fn and returns the *validate.Violation it panics with.
func vCatchViolation(fn func()) (v *validate.Violation) {
	defer func() { v, _ = recover().(*validate.Violation) }()
	fn()
	return nil
}

// An HTTP error's description is its own, else the standard one for its
// code, else its reason phrase; the error page and Error() show it.
func TestHTTPErrorDescription(t *testing.T) {
	notFound := &vial.HTTPError{Code: 404}
	assert.True(t, strings.HasPrefix(notFound.GetDescription(), "The requested URL was not found on the server."))
	assert.Equal(t, "404 Not Found: "+notFound.GetDescription(), notFound.Error())
	assert.Contains(t, string(notFound.GetResponse().Data()), "<p>The requested URL was not found on the server.")

	own := &vial.HTTPError{Code: 404, Description: "No such <todo>."}
	assert.Equal(t, "No such <todo>.", own.GetDescription())
	assert.Contains(t, string(own.GetResponse().Data()), "<p>No such &lt;todo&gt;.</p>")

	assert.Equal(t, "I'm a teapot", (&vial.HTTPError{Code: 418}).GetDescription(), "no standard description: the reason phrase")
}
