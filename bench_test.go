package vial

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"
	"github.com/vial-go/vial/internal/benchwriter"
)

// The App-level benchmarks: the same responses served by a plain
// gorilla/mux router (http.HandlerFunc handlers, mux.Vars for parameters)
// and by a vial App through its http.Handler (gateway.Handler →
// App.ServeGateway, the full Flask pipeline: context push, routing, the
// hook lists and signals (none registered), MakeResponse, teardown when
// the body is closed). Both are driven in process with a pre-built
// *http.Request, so that
//
//	go test -run '^$' -bench '^BenchmarkApp' -benchmem -count 5 .
//
// prints each pair one above the other: BenchmarkApp/static/mux, then
// BenchmarkApp/static/vial. The cases:
//
//   - static: "/about" → "About".
//   - param: "/user/<int:id>" (mux: "/user/{id:[0-9]+}") → "User 42".
//   - github-all: one request to every route of the ~200-route
//     GitHub-API table (githubAPI, routing_bench_test.go) per op.
//   - github-late: one request to the table's last, late-registered
//     param route, "/user/keys/<int:id>".
//
// BenchmarkApp uses benchwriter.Writer, the cheapest ResponseWriter there is;
// BenchmarkAppRecorder the same cases on an httptest.ResponseRecorder.
// TestBenchRoutersAgree checks that both routers give the same status,
// Content-Type and body for every benchmarked request.
//
// The cost of a signal nobody listens to (every request sends seven) is
// BenchmarkSendNoReceivers in signals_test.go: one atomic load, no
// allocation.

// benchCase is one benchmarked case: the same routes on both routers, and
// the requests of one op. Each router is built by the sub-benchmark that
// runs it, so that the heap the garbage collector scans holds that router
// alone, as it would in a server.
type benchCase struct {
	name string
	mux  func() http.Handler
	vial func() http.Handler
	reqs []*http.Request
}

func newBenchRequest(method, path string) *http.Request {
	r := httptest.NewRequest(method, "http://example.com"+path, nil)
	r.Header.Set("User-Agent", "bench")
	r.Header.Set("Accept", "*/*")
	return r
}

const htmlType = "text/html; charset=utf-8"

// writeHTML is how a mux handler answers: the same Content-Type and body
// as a vial view returning a string.
func writeHTML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", htmlType)
	io.WriteString(w, body)
}

func benchCases(tb testing.TB) []benchCase {
	static := benchCase{
		name: "static",
		mux: func() http.Handler {
			router := mux.NewRouter()
			router.HandleFunc("/about", func(w http.ResponseWriter, r *http.Request) {
				writeHTML(w, "About")
			}).Methods("GET")
			return router
		},
		vial: func() http.Handler {
			app := New("bench")
			app.Get("/about", func(r *Request) any { return "About" })
			return app
		},
		reqs: []*http.Request{newBenchRequest("GET", "/about")},
	}

	param := benchCase{
		name: "param",
		mux: func() http.Handler {
			router := mux.NewRouter()
			router.HandleFunc("/user/{id:[0-9]+}", func(w http.ResponseWriter, r *http.Request) {
				writeHTML(w, "User "+mux.Vars(r)["id"])
			}).Methods("GET")
			return router
		},
		vial: func() http.Handler {
			app := New("bench")
			app.Get("/user/<int:id>", func(r *Request) any {
				return "User " + strconv.Itoa(r.ViewArgs["id"].(int))
			})
			return app
		},
		reqs: []*http.Request{newBenchRequest("GET", "/user/42")},
	}

	// The GitHub table: each route answers with its own text, and reads
	// nothing from the request.
	githubMux := func() http.Handler {
		router := mux.NewRouter()
		for _, e := range githubAPI {
			body := e.Method + " " + e.Rule
			router.HandleFunc(toMuxTemplate(e.Rule), func(w http.ResponseWriter, r *http.Request) {
				writeHTML(w, body)
			}).Methods(e.Method)
		}
		return router
	}
	githubVial := func() http.Handler {
		app := New("bench")
		for _, e := range githubAPI {
			// The text as an interface value made once, as a string
			// constant is: converting the captured string on each call
			// would be an allocation of the test's, not of vial's.
			var body any = e.Method + " " + e.Rule
			app.AddURLRule(e.Rule, e.Method+" "+e.Rule, func(r *Request) any { return body }, Methods(e.Method))
		}
		return app
	}
	var reqs []*http.Request
	for _, e := range githubAPI {
		reqs = append(reqs, newBenchRequest(e.Method, samplePath(e.Rule)))
	}
	late := reqs[len(reqs)-1]
	require.Equal(tb, "/user/keys/42", late.URL.Path, "the last route of the table should be a param route")

	return []benchCase{
		static,
		param,
		{"github-all", githubMux, githubVial, reqs},
		{"github-late", githubMux, githubVial, []*http.Request{late}},
	}
}

// sides names the two routers of a case, in the order they run.
func (c benchCase) sides() []struct {
	name  string
	build func() http.Handler
} {
	return []struct {
		name  string
		build func() http.Handler
	}{{"mux", c.mux}, {"vial", c.vial}}
}

// serveAll serves every request of one op, checking that each was
// answered with a 200 and a body.
func serveAll(b *testing.B, h http.Handler, w *benchwriter.Writer, reqs []*http.Request) {
	for _, req := range reqs {
		w.Reset()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || w.N == 0 {
			b.Fatalf("%s %s: status %d, %d bytes", req.Method, req.URL.Path, w.Code, w.N)
		}
	}
}

func BenchmarkApp(b *testing.B) {
	for _, c := range benchCases(b) {
		for _, side := range c.sides() {
			b.Run(c.name+"/"+side.name, func(b *testing.B) {
				h := side.build()
				w := benchwriter.New()
				b.ReportAllocs()
				for b.Loop() {
					serveAll(b, h, w, c.reqs)
				}
			})
		}
	}
}

func BenchmarkAppRecorder(b *testing.B) {
	for _, c := range benchCases(b) {
		for _, side := range c.sides() {
			b.Run(c.name+"/"+side.name, func(b *testing.B) {
				h := side.build()
				b.ReportAllocs()
				var w *httptest.ResponseRecorder
				for b.Loop() {
					for _, req := range c.reqs {
						w = httptest.NewRecorder()
						h.ServeHTTP(w, req)
					}
				}
				if w.Code != http.StatusOK || w.Body.Len() == 0 {
					b.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
				}
			})
		}
	}
}

// Both routers must give the same response to every benchmarked request,
// on both writers, or the comparison means nothing.
func TestBenchRoutersAgree(t *testing.T) {
	for _, c := range benchCases(t) {
		handlers := []http.Handler{c.mux(), c.vial()}
		for _, req := range c.reqs {
			var got [2]*httptest.ResponseRecorder
			for i, h := range handlers {
				got[i] = httptest.NewRecorder()
				h.ServeHTTP(got[i], req)
				require.Equal(t, http.StatusOK, got[i].Code, "%s %s", c.name, req.URL.Path)
				require.Equal(t, htmlType, got[i].Header().Get("Content-Type"), "%s %s", c.name, req.URL.Path)
				require.NotEmpty(t, got[i].Body.String(), "%s %s", c.name, req.URL.Path)

				// The same request again on the benchmarks' writer.
				w := benchwriter.New()
				h.ServeHTTP(w, req)
				require.Equal(t, http.StatusOK, w.Code)
				require.Equal(t, got[i].Body.Len(), w.N)
				require.Equal(t, htmlType, w.Header().Get("Content-Type"))
			}
			require.Equal(t, got[0].Body.String(), got[1].Body.String(), "%s %s", c.name, req.URL.Path)
		}
	}
}
