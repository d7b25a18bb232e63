package vial_test

import (
	"fmt"
	"io"
	"iter"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/internal/testutil"
	"github.com/vial-go/vial/serving"
)

// The App recycles each Request once it is torn down. These tests serve
// through net/http (app.ServeHTTP, httptest servers), where requests are
// recycled; the test client keeps its own.

// A request that used everything a Request holds (view arguments, g,
// parsed args, form and cookies, extra response headers) must leave
// nothing behind for the request that gets its Request next.
func TestRecycledRequestsStartClean(t *testing.T) {
	app := vial.New("recycle")
	var last *vial.Request // the Request of the last /fill
	app.Route("/fill/<a>/<b>", vial.Methods("POST"), vial.Endpoint("fill"))(func(r *vial.Request) any {
		last = r
		r.G.Set("user", "ann")
		r.ViewArgs["added"] = true
		require.Equal(t, "1", r.Args().Get("q"))
		require.Equal(t, "v", r.Form().Get("f"))
		require.Equal(t, "c", r.Cookies()["k"])
		return "filled" // made into the Request's own spare Response
	})
	app.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		if r.Endpoint == "fill" {
			resp.Header.Set("X-Fill", "yes")
		}
		return resp
	})

	type seen struct {
		viewArgs map[string]any
		gKeys    []string
		args     url.Values
		form     url.Values
		cookies  map[string]string
		reused   bool
	}
	var got seen
	app.Get("/check/<int:n>", func(r *vial.Request) any {
		got = seen{
			viewArgs: maps.Clone(r.ViewArgs),
			gKeys:    r.G.Keys(),
			args:     r.Args(),
			form:     r.Form(),
			cookies:  r.Cookies(),
			reused:   r == last,
		}
		// Bytes, after a text body: the spare Response must not keep the
		// last request's text.
		return []byte("checked")
	})

	reused := 0
	for i := range 200 {
		fill := httptest.NewRequest("POST", "/fill/x/y?q=1", strings.NewReader("f=v"))
		fill.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		fill.Header.Set("Cookie", "k=c")
		w := httptest.NewRecorder()
		app.ServeHTTP(w, fill)
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, "yes", w.Header().Get("X-Fill"))

		w = httptest.NewRecorder()
		app.ServeHTTP(w, httptest.NewRequest("GET", "/check/"+strconv.Itoa(i), nil))
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, "checked", w.Body.String())
		require.Empty(t, w.Header().Values("X-Fill"), "a header of the last response")
		require.Equal(t, map[string]any{"n": i}, got.viewArgs)
		require.Empty(t, got.gKeys)
		require.Empty(t, got.args)
		require.Empty(t, got.form)
		require.Empty(t, got.cookies)
		if got.reused {
			reused++
		}
	}
	// sync.Pool promises nothing, but on one goroutine it hands back what it
	// was given nearly every time (the race detector drops a quarter).
	assert.Greater(t, reused, 50, "the requests were not recycled: this test checked nothing")
}

// Under concurrent requests each request keeps its own view arguments from
// routing to teardown, including while a streamed body is produced after
// the view has returned. Run with -race, this also shows that no two
// requests share a Request.
func TestRecycledRequestsKeepTheirOwnValuesUnderLoad(t *testing.T) {
	app := vial.New("load")
	var mu sync.Mutex
	var mismatches []string
	mismatch := func(format string, args ...any) {
		mu.Lock()
		mismatches = append(mismatches, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	app.Get("/item/<int:id>", func(r *vial.Request) any {
		id := r.ViewArgs["id"].(int)
		r.G.Set("id", id)
		if q := r.Args().Get("id"); q != strconv.Itoa(id) {
			mismatch("view: id %d, query %s", id, q)
		}
		var chunks iter.Seq[string] = func(yield func(string) bool) {
			for i := range 3 {
				// The view has returned: the request is still this one.
				if got := r.ViewArgs["id"]; got != id {
					mismatch("stream: id %d, ViewArgs %v", id, got)
				}
				if !yield(strconv.Itoa(id) + "." + strconv.Itoa(i) + " ") {
					return
				}
			}
		}
		return chunks
	}, vial.Endpoint("item"))
	app.TeardownRequest(func(r *vial.Request, err error) {
		// Every request of this test is for /item/<id>.
		if r.Endpoint != "item" || r.G.Get("id") != r.ViewArgs["id"] || r.Path != "/item/"+r.Args().Get("id") {
			mismatch("teardown: endpoint %q, g %v, ViewArgs %v, path %s", r.Endpoint, r.G.Get("id"), r.ViewArgs["id"], r.Path)
		}
	})
	srv := httptest.NewServer(app)
	defer srv.Close()

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				id := g*1000 + i
				resp, err := http.Get(srv.URL + "/item/" + strconv.Itoa(id) + "?id=" + strconv.Itoa(id))
				if !assert.NoError(t, err) {
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := fmt.Sprintf("%d.0 %d.1 %d.2 ", id, id, id)
				assert.Equal(t, want, string(body))
			}
		})
	}
	wg.Wait()
	assert.Empty(t, mismatches)
}

// A copy keeps the request's values after the request has ended and its
// Request has served others, and is independent of the original.
func TestRequestCopyOutlivesTheRequest(t *testing.T) {
	app := vial.New("copy")
	copies := make(chan *vial.Request, 1)
	app.Post("/job/<int:id>", func(r *vial.Request) any {
		r.G.Set("user", "ann")
		assert.Equal(t, "v", r.Form().Get("f")) // read before copying
		c := r.Copy()
		c.ViewArgs["id"] = -1
		c.G.Set("user", "bob")
		c.Header.Set("X-Token", "changed")
		assert.Equal(t, 7, r.ViewArgs["id"], "the copy's ViewArgs are its own")
		assert.Equal(t, "ann", r.G.Get("user"), "the copy's g is its own")
		assert.Equal(t, "t", r.Header.Get("X-Token"), "the copy's headers are its own")
		c.ViewArgs["id"], c.Header["X-Token"] = 7, []string{"t"}
		c.G.Set("user", "ann")
		copies <- c
		return "queued"
	}, vial.Endpoint("job"))
	app.Get("/other/<name>", func(r *vial.Request) any {
		r.G.Set("user", "zed")
		return "other " + r.ViewArgs["name"].(string)
	})
	srv := httptest.NewServer(app)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/job/7?q=1", strings.NewReader("f=v"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Token", "t")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	c := <-copies

	// Other requests reuse the Request and the Environ the job had.
	for i := range 20 {
		resp, err := http.Get(srv.URL + "/other/n" + strconv.Itoa(i) + "?q=2")
		require.NoError(t, err)
		resp.Body.Close()
	}

	done := make(chan struct{})
	go func() { // as a background job would
		defer close(done)
		assert.Equal(t, "POST", c.Method)
		assert.Equal(t, "/job/7", c.Path)
		assert.Equal(t, "job", c.Endpoint)
		assert.Equal(t, map[string]any{"id": 7}, c.ViewArgs)
		assert.Equal(t, "ann", c.G.Get("user"))
		assert.Equal(t, "1", c.Args().Get("q"))
		assert.Equal(t, "v", c.Form().Get("f"))
		assert.Equal(t, "t", c.Header.Get("X-Token"))
		assert.Equal(t, "t", c.Environ.GetString("HTTP_X_TOKEN"))
		assert.Equal(t, "/job/7?q=1", c.FullPath())
		assert.Equal(t, "/job/8", c.URLFor("job", "id", 8))
		assert.Error(t, c.Context().Err(), "the copy's context ended with its request")
	}()
	<-done
}

// The test client's requests are never recycled: a test may look at one
// after its response, however many requests came after it.
func TestTestClientKeepsItsRequests(t *testing.T) {
	app := vial.New("keep")
	var seen []*vial.Request
	app.BeforeRequest(func(r *vial.Request) any {
		r.G.Set("n", len(seen))
		seen = append(seen, r)
		return nil
	})
	app.Get("/user/<int:id>", func(r *vial.Request) any { return "user" }, vial.Endpoint("user"))
	client := app.TestClient()
	for i := range 20 {
		require.Equal(t, http.StatusOK, client.Get("/user/"+strconv.Itoa(i)).StatusCode)
	}
	for i, r := range seen {
		assert.Equal(t, "user", r.Endpoint)
		assert.Equal(t, map[string]any{"id": i}, r.ViewArgs)
		assert.Equal(t, i, r.G.Get("n"))
	}
}

// A copy reads nothing of the original's body, and parsing more on either
// side leaves the other alone: the copy has its own parse state.
func TestRequestCopyHasItsOwnParseState(t *testing.T) {
	app := vial.New("copy")
	app.Post("/form", func(r *vial.Request) any {
		r.Args() // something parsed, the form not yet
		c := r.Copy()
		done := make(chan url.Values)
		go func() { done <- c.Form() }()
		assert.Empty(t, <-done, "the copy's body reads as empty")
		return r.Form().Get("f")
	})
	w := do(t, app, "POST", "/form?q=1", "f=v", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "v", w.Body.String(), "the original still reads its body")
}

// When a candidate rule fills some view arguments and then refuses the
// path (a converter rejects its text), the rule that matches next gets a
// map holding its own arguments only, whether the map is new or a
// recycled Request's.
func TestViewArgsHoldOnlyTheMatchingRulesValues(t *testing.T) {
	app := vial.New("args")
	app.Get("/q/<int:a>/<int(max=10):b>", func(r *vial.Request) any { return "small" }, vial.Endpoint("small"))
	var got map[string]any
	app.Get("/q/<int:x>/<y>", func(r *vial.Request) any {
		got = maps.Clone(r.ViewArgs)
		return "any"
	}, vial.Endpoint("any"))
	for range 50 {
		w := do(t, app, "GET", "/q/1/5")
		require.Equal(t, "small", w.Body.String())
		w = do(t, app, "GET", "/q/1/99")
		require.Equal(t, "any", w.Body.String())
		require.Equal(t, map[string]any{"x": 1, "y": "99"}, got)
	}
}

// A server that closes a body twice breaks the gateway contract; the
// second Close must still do nothing, even though the Request it tore
// down serves another request by then.
func TestASecondCloseLeavesTheNextRequestAlone(t *testing.T) {
	app := vial.New("twice")
	var torn []string
	app.TeardownRequest(func(r *vial.Request, err error) { torn = append(torn, r.Path) })
	app.Get("/<name>", func(r *vial.Request) any { return r.ViewArgs["name"] })
	start := func(string, gateway.Headers, ...error) gateway.WriteFunc {
		return func([]byte) error { return nil }
	}
	serve := func(path string) gateway.Body {
		return app.ServeGateway(&gateway.Environ{Method: "GET", PathInfo: path, Header: http.Header{}}, start)
	}
	text := func(b gateway.Body) string {
		var sb strings.Builder
		b.Chunks(func(p []byte) bool { sb.Write(p); return true })
		return sb.String()
	}
	for range 50 {
		torn = nil
		first := serve("/a")
		require.Equal(t, "a", text(first))
		require.NoError(t, first.Close())
		second := serve("/b")
		require.NoError(t, first.Close()) // the faulty server's second Close
		require.Equal(t, []string{"/a"}, torn, "the second request was torn down early")
		require.Equal(t, "b", text(second))
		require.NoError(t, second.Close())
		require.Equal(t, []string{"/a", "/b"}, torn)
	}
}

// requestError is an error that holds its request, as an error type may.
type requestError struct{ r *vial.Request }

func (e requestError) Error() string { return "failed at " + e.r.Path }

// In debug mode an unhandled error goes up to the debugger, which shows it
// after the request has been torn down: a request a panic took up with it
// is not recycled, whether the view failed or its streamed body did.
func TestRequestsThatPanickedUpAreNotRecycled(t *testing.T) {
	app := vial.New("debug")
	app.Config["DEBUG"] = true
	app.Get("/view/<n>", func(r *vial.Request) any { return requestError{r} })
	app.Get("/stream/<n>", func(r *vial.Request) any {
		var chunks iter.Seq[string] = func(yield func(string) bool) {
			yield("first ")
			panic(requestError{r})
		}
		return chunks
	})
	app.Get("/ok/<n>", func(r *vial.Request) any { return "ok" })
	srv := httptest.NewServer(&gateway.HTTPHandler{App: serving.DebuggedApplication(app, false), ErrorLog: log.New(io.Discard, "", 0)})
	defer srv.Close()

	get := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	for i := range 20 {
		n := strconv.Itoa(i)
		page := get("/view/" + n)
		assert.True(t, strings.Contains(page, "failed at /view/"+n+"\n"), "the debugger's page for /view/%s does not show its path", n)
		get("/ok/" + n) // a request that would take the Request next
	}
	// A panic after the first chunk aborts the response: the debugger
	// logs it instead, through gateway.errors.
	logs := &testutil.SyncBuffer{}
	handler := &gateway.HTTPHandler{App: serving.DebuggedApplication(app, false), ErrorLog: log.New(logs, "", 0)}
	for i := range 20 {
		n := strconv.Itoa(i)
		func() {
			defer func() { _ = recover() }() // net/http's ErrAbortHandler
			handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/stream/"+n, nil))
		}()
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok/"+n, nil))
		assert.True(t, strings.Contains(logs.String(), "failed at /stream/"+n+" "), "the debugger's log for /stream/%s does not show its path", n)
	}
}
