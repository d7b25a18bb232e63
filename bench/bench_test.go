package bench

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vial-go/vial/internal/benchwriter"
)

// The benchmarks: every contestant on every case it applies to, as
// BenchmarkRouters/<case>/<contestant>, on the same minimal ResponseWriter
// (benchwriter.Writer) and the same pre-built requests, so that what is timed is
// the router and the framework, not the writer or the request's parsing.
//
//	go test -run '^$' -bench '^BenchmarkRouters$' -benchmem -count 1 ./bench
//
// runs one pass; go run ./bench/cmd/table runs several, interleaved, and
// prints the medians. The cases:
//
//   - hello: GET / → "Hello, World!".
//   - param: GET /user/42 → "User 42" (vial: /user/<int:id>, the id read as
//     an int and formatted back; the others: a plain segment parameter).
//   - github-all: one request to each of the 203 routes of the GitHub table
//     (githubAPI) per op.
//   - github-param: one request to the table's last, late-registered param
//     route, GET /user/keys/42.
//
// The hello and param cases share one router holding both routes. Each
// sub-benchmark builds its own router, so that the heap the garbage
// collector scans holds that router alone, as it would in a server.
// TestContestants (contestants_test.go) checks every answer first.

// rotate shifts the order in which a case runs its contestants, so that
// over several passes none always runs first (on a fresh heap) or last:
// go run ./bench/cmd/table passes each pass's number.
var rotate = flag.Int("rotate", 0, "run each case's contestants from the n-th on, wrapping around")

// A benchRequest is one request of a case and the body it must get.
type benchRequest struct {
	req  *http.Request
	body string
}

// A benchCase is one benchmarked case: the handler it asks of a
// contestant and the requests of one op.
type benchCase struct {
	name    string
	handler func(c contestant) func() http.Handler // nil if c does not apply
	reqs    []benchRequest
}

func newBenchRequest(method, path string) *http.Request {
	r := httptest.NewRequest(method, "http://example.com"+path, nil)
	r.Header.Set("User-Agent", "bench")
	r.Header.Set("Accept", "*/*")
	return r
}

func benchCases() []benchCase {
	basic := func(c contestant) func() http.Handler { return c.basic }
	github := func(c contestant) func() http.Handler {
		if c.github == nil {
			return nil
		}
		return func() http.Handler { return c.github(githubAPI) }
	}
	var all []benchRequest
	for _, rt := range githubAPI {
		all = append(all, benchRequest{newBenchRequest(rt.method, samplePath(rt.rule)), rt.body()})
	}
	return []benchCase{
		{"hello", basic, []benchRequest{{newBenchRequest("GET", "/"), helloBody}}},
		{"param", basic, []benchRequest{{newBenchRequest("GET", "/user/42"), paramBody("42")}}},
		{"github-all", github, all},
		{"github-param", github, all[githubLate : githubLate+1]},
	}
}

// rotated is contestants, from the n-th on, wrapping around.
func rotated(n int) []contestant {
	n %= len(contestants)
	if n < 0 {
		n += len(contestants)
	}
	return append(contestants[n:len(contestants):len(contestants)], contestants[:n]...)
}

// serveAll serves every request of one op, checking that each was
// answered with a 200 and a body of the right length.
func serveAll(b *testing.B, h http.Handler, w *benchwriter.Writer, reqs []benchRequest) {
	for _, r := range reqs {
		w.Reset()
		h.ServeHTTP(w, r.req)
		if w.Code != http.StatusOK || w.N != len(r.body) {
			b.Fatalf("%s %s: status %d, %d bytes", r.req.Method, r.req.URL.Path, w.Code, w.N)
		}
	}
}

func BenchmarkRouters(b *testing.B) {
	for _, bc := range benchCases() {
		for _, c := range rotated(*rotate) {
			build := bc.handler(c)
			if build == nil {
				continue
			}
			b.Run(bc.name+"/"+c.name, func(b *testing.B) {
				h := build()
				w := benchwriter.New()
				b.ReportAllocs()
				for b.Loop() {
					serveAll(b, h, w, bc.reqs)
				}
			})
		}
	}
}
