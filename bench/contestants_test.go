package bench

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vial-go/vial/internal/benchwriter"
)

// Every contestant must give every benchmarked request the right status,
// Content-Type and body, on a recorder and on the benchmarks' writer, or
// the timings compare different work.
func TestContestants(t *testing.T) {
	for _, bc := range benchCases() {
		for _, c := range contestants {
			build := bc.handler(c)
			if build == nil {
				if c.name != "raw" || !strings.HasPrefix(bc.name, "github") {
					t.Errorf("%s/%s: no handler", bc.name, c.name)
				}
				continue
			}
			t.Run(bc.name+"/"+c.name, func(t *testing.T) {
				h := build()
				w := benchwriter.New()
				for _, r := range bc.reqs {
					what := r.req.Method + " " + r.req.URL.Path
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r.req)
					if rec.Code != http.StatusOK || rec.Body.String() != r.body {
						t.Fatalf("%s: %d %q, want 200 %q", what, rec.Code, rec.Body.String(), r.body)
					}
					if ct := rec.Header().Get("Content-Type"); !strings.EqualFold(ct, htmlType) {
						t.Errorf("%s: Content-Type %q, want %q", what, ct, htmlType)
					}
					// Twice on the benchmarks' writer, which is reused.
					for range 2 {
						w.Reset()
						h.ServeHTTP(w, r.req)
						if w.Code != http.StatusOK || w.N != len(r.body) {
							t.Fatalf("%s on benchwriter.Writer: %d, %d bytes, want 200, %d", what, w.Code, w.N, len(r.body))
						}
						if ct := w.Header().Get("Content-Type"); !strings.EqualFold(ct, htmlType) {
							t.Errorf("%s on benchwriter.Writer: Content-Type %q", what, ct)
						}
					}
				}
			})
		}
	}
}

// The GitHub table is go-http-routing-benchmark's: 203 routes, no two
// alike, the last one the late param route.
func TestGitHubTable(t *testing.T) {
	if len(githubAPI) != 203 {
		t.Errorf("%d routes, want 203", len(githubAPI))
	}
	seen := map[route]bool{}
	for _, rt := range githubAPI {
		if seen[rt] {
			t.Errorf("%s %s twice", rt.method, rt.rule)
		}
		seen[rt] = true
	}
	if late := githubAPI[githubLate]; late != (route{"GET", "/user/keys/<int:id>"}) || samplePath(late.rule) != "/user/keys/42" {
		t.Errorf("late route %v", late)
	}
	if got := colonRule("/repos/<owner>/<repo>/issues/<int:number>"); got != "/repos/:owner/:repo/issues/:number" {
		t.Errorf("colonRule: %s", got)
	}
	if got := braceRule("/repos/<owner>/<repo>/issues/<int:number>"); got != "/repos/{owner}/{repo}/issues/{number}" {
		t.Errorf("braceRule: %s", got)
	}
}

// The other routes' answers matter to the load script: a miss is a 404
// everywhere, and raw net/http checks the id's digits as vial does.
func TestMisses(t *testing.T) {
	for _, c := range contestants {
		h := c.basic()
		for _, path := range []string{"/nope", "/user/"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s: GET %s: %d, want 404", c.name, path, rec.Code)
			}
		}
	}
	for _, name := range []string{"vial", "raw"} {
		rec := httptest.NewRecorder()
		Handler(name).ServeHTTP(rec, httptest.NewRequest("GET", "/user/x", nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: GET /user/x: %d, want 404", name, rec.Code)
		}
	}
	if Handler("nobody") != nil {
		t.Error("Handler of an unknown name")
	}
}
