package vial_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vial-go/vial"
)

// The expected values in this file came from werkzeug 3.1 (3.1.8): a
// Response("0123456789", mimetype="text/plain") with set_etag("abc") and
// last_modified 2026-01-02 03:04:05 UTC, made conditional with
// make_conditional(request, accept_ranges=True, complete_length=10) and
// run with run_wsgi_app. Where vial differs on purpose, the comment says
// so and why.

const (
	mcLastModified = "Fri, 02 Jan 2026 03:04:05 GMT"
	mcBefore       = "Thu, 01 Jan 2026 00:00:00 GMT"
	mcAfter        = "Sat, 03 Jan 2026 00:00:00 GMT"
	mcExpires      = "Thu, 01 Jan 2030 00:00:00 GMT"
	mc416Page      = "<!doctype html>\n<html lang=en>\n<title>416 Requested Range Not Satisfiable</title>\n" +
		"<h1>Requested Range Not Satisfiable</h1>\n<p>The server cannot provide the requested range.</p>\n"
)

// mcApp serves "/" as werkzeug's case above, and "/stream" the same body
// as a stream.
func mcApp(t *testing.T) *vial.Client {
	t.Helper()
	app := vial.New("mc")
	resp := func(r *vial.Request, stream bool) *vial.Response {
		resp := vial.NewResponse(nil, "text/plain")
		if stream {
			resp.SetReader(strings.NewReader("0123456789"))
		} else {
			resp.SetText("0123456789")
		}
		resp.SetETag("abc", false)
		resp.SetLastModified(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		resp.Header.Set("Expires", mcExpires)
		return resp.MakeConditional(r)
	}
	app.Route("/", vial.Methods("GET", "POST"))(func(r *vial.Request) any { return resp(r, false) })
	app.Get("/stream", func(r *vial.Request) any { return resp(r, true) })
	return app.TestClient()
}

func TestMakeConditionalAsWerkzeug(t *testing.T) {
	const full = "0123456789"
	for _, tc := range []struct {
		method  string
		headers []string
		status  int
		body    string
		// header: value; "" for a header that must be absent
		want map[string]string
	}{
		{"GET", nil, 200, full, map[string]string{"Content-Type": "text/plain; charset=utf-8",
			"Content-Length": "10", "ETag": `"abc"`, "Last-Modified": mcLastModified, "Accept-Ranges": "bytes"}},
		{"GET", []string{"If-None-Match", `"abc"`}, 304, "", map[string]string{"ETag": `"abc"`, "Expires": mcExpires,
			"Content-Type": "", "Content-Length": "", "Last-Modified": ""}},
		{"HEAD", []string{"If-None-Match", `W/"abc"`}, 304, "", map[string]string{"ETag": `"abc"`, "Content-Type": ""}},
		{"GET", []string{"If-None-Match", `"xyz"`}, 200, full, nil},
		{"GET", []string{"If-None-Match", `*`}, 304, "", nil},
		{"POST", []string{"If-None-Match", `"abc"`}, 200, full, map[string]string{"Accept-Ranges": "", "Date": ""}},
		{"GET", []string{"If-Modified-Since", mcLastModified}, 304, "", nil},
		{"GET", []string{"If-Modified-Since", mcAfter}, 304, "", nil},
		{"GET", []string{"If-Modified-Since", mcBefore}, 200, full, nil},
		{"GET", []string{"If-Modified-Since", mcAfter, "If-None-Match", `"xyz"`}, 200, full, nil},
		// werkzeug keeps the body and its headers on a 412; vial sends none,
		// as a 412 is not the representation.
		{"GET", []string{"If-Match", `"xyz"`}, 412, "", map[string]string{"ETag": `"abc"`, "Content-Type": "", "Content-Length": "0"}},
		{"GET", []string{"If-Match", `"abc"`}, 200, full, nil},
		{"GET", []string{"If-Match", `W/"abc"`}, 412, "", nil}, // If-Match compares strongly
		// werkzeug answers If-Match: * with 412; RFC 9110 §13.1.1: * matches
		// any current representation.
		{"GET", []string{"If-Match", `*`}, 200, full, nil},
		// werkzeug ignores If-Unmodified-Since; RFC 9110 §13.1.4.
		{"GET", []string{"If-Unmodified-Since", mcBefore}, 412, "", nil},
		{"GET", []string{"If-Unmodified-Since", mcLastModified}, 200, full, nil},
		{"GET", []string{"Range", "bytes=2-4"}, 206, "234", map[string]string{"Content-Range": "bytes 2-4/10",
			"Content-Length": "3", "Content-Type": "text/plain; charset=utf-8", "ETag": `"abc"`}},
		{"GET", []string{"Range", "bytes=-3"}, 206, "789", map[string]string{"Content-Range": "bytes 7-9/10"}},
		{"GET", []string{"Range", "bytes=8-"}, 206, "89", map[string]string{"Content-Range": "bytes 8-9/10"}},
		{"HEAD", []string{"Range", "bytes=8-"}, 206, "", map[string]string{"Content-Range": "bytes 8-9/10"}},
		{"GET", []string{"Range", "bytes=20-30"}, 416, mc416Page, map[string]string{"Content-Range": "bytes */10",
			"Content-Type": "text/html; charset=utf-8", "Content-Length": "177"}},
		{"GET", []string{"Range", "bytes=x"}, 416, mc416Page, map[string]string{"Content-Range": "bytes */10"}},
		// werkzeug: 416 for more than one range, and for a suffix longer
		// than the body. RFC 9110 lets a server ignore the ranges (§14.2)
		// and makes a long suffix the whole body (§14.1.3).
		{"GET", []string{"Range", "bytes=0-1,4-5"}, 200, full, map[string]string{"Content-Range": ""}},
		{"GET", []string{"Range", "bytes=-30"}, 206, full, map[string]string{"Content-Range": "bytes 0-9/10"}},
		// RFC 9110 §14.2: a unit the server does not know is ignored.
		{"GET", []string{"Range", "items=0-1"}, 200, full, nil},
		{"GET", []string{"Range", "bytes=2-4", "If-Range", `"abc"`}, 206, "234", nil},
		{"GET", []string{"Range", "bytes=2-4", "If-Range", `"old"`}, 200, full, nil},
		{"GET", []string{"Range", "bytes=2-4", "If-Range", mcLastModified}, 206, "234", nil},
		{"GET", []string{"Range", "bytes=2-4", "If-Range", mcBefore}, 200, full, nil},
		// werkzeug serves the range before it looks at If-Match (206); RFC
		// 9110 §13.2.2 evaluates the preconditions first, so that a resumed
		// download of a changed file fails instead of mixing two versions.
		{"GET", []string{"Range", "bytes=2-4", "If-Match", `"xyz"`}, 412, "", nil},
		{"GET", []string{"Range", "bytes=2-4", "If-None-Match", `"abc"`}, 304, "", nil},
	} {
		var opts []vial.RequestOption
		for i := 0; i+1 < len(tc.headers); i += 2 {
			opts = append(opts, vial.WithHeader(tc.headers[i], tc.headers[i+1]))
		}
		resp := mcApp(t).Open(tc.method, "/", opts...)
		name := tc.method + " " + strings.Join(tc.headers, ": ")
		if resp.Err != nil || resp.StatusCode != tc.status || string(resp.Body) != tc.body {
			t.Errorf("%s: %d %q (err %v), want %d %q", name, resp.StatusCode, resp.Body, resp.Err, tc.status, tc.body)
		}
		for h, v := range tc.want {
			if got := resp.Header.Get(h); got != v {
				t.Errorf("%s: %s: %q, want %q", name, h, got, v)
			}
		}
		if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil && tc.method != "POST" {
			t.Errorf("%s: Date %q", name, resp.Header.Get("Date"))
		}
	}
}

// A streamed body has no length vial knows: Range is ignored and the body
// sent whole; the validators still give 304 and 412, the stream closed
// unsent.
func TestMakeConditionalStreamIgnoresRange(t *testing.T) {
	c := mcApp(t)
	if resp := c.Get("/stream", vial.WithHeader("Range", "bytes=2-4")); resp.StatusCode != 200 ||
		string(resp.Body) != "0123456789" || resp.Header.Get("Accept-Ranges") != "" || resp.Header.Get("Content-Range") != "" {
		t.Errorf("Range on a stream: %d %q %v", resp.StatusCode, resp.Body, resp.Header)
	}
	for _, tc := range []struct {
		header, value string
		status        int
	}{{"If-None-Match", `"abc"`, 304}, {"If-Match", `"xyz"`, 412}} {
		closed := false
		app := vial.New("mcs")
		app.Get("/", func(r *vial.Request) any {
			resp := vial.NewResponse(nil, "text/plain")
			resp.SetReader(closer{strings.NewReader("data"), &closed})
			resp.SetETag("abc", false)
			return resp.MakeConditional(r)
		})
		resp := app.TestClient().Get("/", vial.WithHeader(tc.header, tc.value))
		if resp.StatusCode != tc.status || len(resp.Body) != 0 || !closed {
			t.Errorf("%s: %d %q, closed %v", tc.header, resp.StatusCode, resp.Body, closed)
		}
	}
}

type closer struct {
	io.Reader
	closed *bool
}

func (c closer) Close() error { *c.closed = true; return nil }

// A JSON body is in memory: its bytes are ranged.
func TestMakeConditionalRangesJSON(t *testing.T) {
	app := vial.New("mcj")
	app.Get("/", func(r *vial.Request) any {
		return vial.JSON(map[string]int{"a": 1}).MakeConditional(r)
	})
	resp := app.TestClient().Get("/", vial.WithHeader("Range", "bytes=0-3"))
	if resp.StatusCode != 206 || string(resp.Body) != `{"a"` || resp.Header.Get("Content-Range") != "bytes 0-3/8" {
		t.Errorf("%d %q %q", resp.StatusCode, resp.Body, resp.Header.Get("Content-Range"))
	}
}

func TestETagHeaderAsWerkzeug(t *testing.T) {
	r := vial.NewResponse(nil, "")
	if tag, weak := r.ETag(); tag != "" || weak {
		t.Errorf("no ETag: %q %v", tag, weak)
	}
	r.SetETag("v1", true) // werkzeug: W/"v1", get_etag ('v1', True)
	if tag, weak := r.ETag(); r.Header.Get("ETag") != `W/"v1"` || tag != "v1" || !weak {
		t.Errorf("weak: %q → %q %v", r.Header.Get("ETag"), tag, weak)
	}
	r.SetETag("v2", false) // werkzeug: "v2", ('v2', False)
	if tag, weak := r.ETag(); r.Header.Get("ETag") != `"v2"` || tag != "v2" || weak || len(r.Header.Values("ETag")) != 1 {
		t.Errorf("strong: %q → %q %v", r.Header.Values("ETag"), tag, weak)
	}
	defer func() {
		if recover() == nil {
			t.Error(`SetETag("a\"b") did not panic (werkzeug raises ValueError)`)
		}
	}()
	r.SetETag(`a"b`, false)
}

func TestLastModifiedHeaderAsWerkzeug(t *testing.T) {
	r := vial.NewResponse(nil, "")
	// werkzeug: 2026-01-02 03:04:05.000999+02:00 is "Fri, 02 Jan 2026 01:04:05 GMT".
	r.SetLastModified(time.Date(2026, 1, 2, 3, 4, 5, 999000, time.FixedZone("", 2*3600)))
	if got := r.Header.Get("Last-Modified"); got != "Fri, 02 Jan 2026 01:04:05 GMT" {
		t.Errorf("Last-Modified %q", got)
	}
	if lm, ok := r.LastModified(); !ok || lm.Unix() != time.Date(2026, 1, 2, 1, 4, 5, 0, time.UTC).Unix() {
		t.Errorf("LastModified %v %v", lm, ok)
	}
	r.SetLastModified(time.Time{})
	if r.Header.Has("Last-Modified") {
		t.Error("the zero time did not remove the header")
	}
}

func TestCacheControlHeaderAsWerkzeug(t *testing.T) {
	r := vial.NewResponse(nil, "")
	cc := r.CacheControl().SetPublic(true).SetMaxAge(3600).SetNoCache(true).SetMustRevalidate(true).
		SetImmutable(true).SetNoStore(true)
	// werkzeug: public=True; max_age=3600; no_cache=True; must_revalidate;
	// immutable; no_store, in that order.
	const want1 = "public, max-age=3600, no-cache, must-revalidate, immutable, no-store"
	if got := r.Header.Get("Cache-Control"); got != want1 || cc.String() != want1 {
		t.Errorf("got %q, want %q", got, want1)
	}
	// werkzeug: then public=False; private=True; max_age=None; s_maxage=60.
	cc.SetPublic(false).SetPrivate(true).SetMaxAge(-1).SetSMaxAge(60)
	const want2 = "no-cache, must-revalidate, immutable, no-store, private, s-maxage=60"
	if got := r.Header.Get("Cache-Control"); got != want2 {
		t.Errorf("got %q, want %q", got, want2)
	}
	// werkzeug parses max-age=10, no-cache, private="x, y": 10, True,
	// "x, y"; max_age=20 writes max-age=20, no-cache, private="x, y".
	r.Header.Set("Cache-Control", `max-age=10, no-cache, private="x, y"`)
	cc = r.CacheControl()
	if n, ok := cc.MaxAge(); !ok || n != 10 || !cc.Has("no-cache") {
		t.Errorf("MaxAge %d %v, no-cache %v", n, ok, cc.Has("no-cache"))
	}
	if v, _ := cc.Get("private"); v != "x, y" {
		t.Errorf("private %q", v)
	}
	cc.SetMaxAge(20)
	if got := r.Header.Get("Cache-Control"); got != `max-age=20, no-cache, private="x, y"` {
		t.Errorf("rewritten: %q", got)
	}
	cc.Del("max-age").SetNoCache(false).SetPrivate(false)
	if r.Header.Has("Cache-Control") {
		t.Errorf("no directive left, header %q", r.Header.Get("Cache-Control"))
	}
	cc.SetNoTransform(true).SetProxyRevalidate(true).SetStaleWhileRevalidate(30)
	if got := r.Header.Get("Cache-Control"); got != "no-transform, proxy-revalidate, stale-while-revalidate=30" {
		t.Errorf("got %q", got)
	}
}

func TestContentSecurityPolicyHeader(t *testing.T) {
	r := vial.NewResponse(nil, "")
	r.SetContentSecurityPolicy("default-src 'self'")
	if got := r.Header.Get("Content-Security-Policy"); got != "default-src 'self'" {
		t.Errorf("got %q", got)
	}
	r.SetContentSecurityPolicy("")
	if r.Header.Has("Content-Security-Policy") {
		t.Error("not removed")
	}
}
