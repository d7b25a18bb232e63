package vial_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vial-go/vial"
)

// BenchmarkSession is a request that opens a small signed session from its
// cookie, changes it and saves it: the cost of Flask's session write
// (about 130 µs a request in-process on this machine class).
func BenchmarkSession(b *testing.B) {
	app := vial.New("bench")
	app.Config["SECRET_KEY"] = "bench-secret"
	app.Get("/", func(r *vial.Request) any {
		s := r.Session()
		n, _ := s.Int("visits")
		s.Set("visits", n+1)
		return "ok"
	})
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	cookie := w.Result().Cookies()[0]
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: cookie.Value})
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		app.ServeHTTP(w, req)
		if w.Code != 200 || len(w.Header()["Set-Cookie"]) != 1 {
			b.Fatalf("%d %v", w.Code, w.Header())
		}
	}
}
