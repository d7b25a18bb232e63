package vial_test

import (
	"slices"
	"testing"
	"time"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
)

// The expected values in this file came from werkzeug 3.1 (3.1.8): the
// same header given to werkzeug.http.parse_accept_header and its Accept
// classes, parse_range_header, parse_etags, parse_date,
// Authorization.from_header and Request.access_route. Where vial differs
// on purpose, the comment says so.

// rhRequest returns a request carrying the given headers (name, value …).
func rhRequest(t *testing.T, headers ...string) *vial.Request {
	t.Helper()
	var opts []vial.RequestOption
	for i := 0; i+1 < len(headers); i += 2 {
		opts = append(opts, vial.WithHeader(headers[i], headers[i+1]))
	}
	r, done := vial.New("rh").TestRequestContext("GET", "/", opts...)
	t.Cleanup(done)
	return r
}

func acceptOf(r *vial.Request, header string) *vial.Accept {
	switch header {
	case "Accept":
		return r.AcceptMimetypes()
	case "Accept-Language":
		return r.AcceptLanguages()
	case "Accept-Charset":
		return r.AcceptCharsets()
	}
	return r.AcceptEncodings()
}

func TestAcceptSortsAsWerkzeug(t *testing.T) {
	type av = vial.AcceptValue
	for _, tc := range []struct {
		header, value string
		want          []vial.AcceptValue
	}{
		{"Accept", "text/html;q=0.9, text/*, */*;q=0.8, application/json",
			[]av{{"application/json", 1}, {"text/html", 0.9}, {"text/*", 1}, {"*/*", 0.8}}},
		{"Accept", "*/*, text/html; level=1, text/html;q=0.5, text/*;q=0.7",
			[]av{{"text/html; level=1", 1}, {"text/html", 0.5}, {"text/*", 0.7}, {"*/*", 1}}},
		{"Accept", "text/html;q=2, text/plain;q=abc, application/xml;q=0.3, image/png;q=0",
			[]av{{"application/xml", 0.3}, {"image/png", 0}}},
		{"Accept", `text/html; charset="utf-8"; q=0.4, text/plain;format=flowed`,
			[]av{{"text/plain; format=flowed", 1}, {"text/html; charset=utf-8", 0.4}}},
		{"Accept-Language", "da, en-gb;q=0.8, en;q=0.7, *;q=0.1",
			[]av{{"da", 1}, {"en-gb", 0.8}, {"en", 0.7}, {"*", 0.1}}},
		{"Accept-Encoding", "gzip;q=1.0, identity; q=0.5, *;q=0",
			[]av{{"gzip", 1}, {"identity", 0.5}, {"*", 0}}},
		{"Accept-Charset", "iso-8859-5, unicode-1-1;q=0.8",
			[]av{{"iso-8859-5", 1}, {"unicode-1-1", 0.8}}},
		{"Accept", `text/html, "unclosed`, nil}, // an unclosed quote: no values, but provided
	} {
		a := acceptOf(rhRequest(t, tc.header, tc.value), tc.header)
		if !slices.Equal(a.Values, tc.want) || !a.Provided {
			t.Errorf("%s: %q:\n got %v\nwant %v", tc.header, tc.value, a.Values, tc.want)
		}
	}
	if a := rhRequest(t).AcceptMimetypes(); a.Provided || len(a.Values) != 0 || a.Best() != "" {
		t.Errorf("no Accept header: %+v", a)
	}
}

func TestAcceptBestMatchAsWerkzeug(t *testing.T) {
	const html = "text/html;q=0.9, text/*;q=0.8, */*;q=0.1, application/json"
	for _, tc := range []struct {
		header, value string
		offers        []string
		want          string
	}{
		{"Accept", html, []string{"application/json", "text/html"}, "application/json"},
		{"Accept", html, []string{"text/plain", "text/html"}, "text/html"},
		{"Accept", html, []string{"image/png"}, "image/png"},
		{"Accept", html, []string{"text/plain", "image/png"}, "text/plain"},
		{"Accept", html, []string{"text/html", "application/json"}, "application/json"},
		{"Accept", "text/*, application/json;q=0.5", []string{"application/json", "text/plain"}, "text/plain"},
		{"Accept", "text/*, application/json;q=0.5", []string{"text/html", "text/plain"}, "text/html"},
		{"Accept", "text/*, application/json;q=0.5", []string{"image/png"}, ""},
		{"Accept", "", []string{"text/html"}, ""},
		{"Accept", "application/json;q=0, */*", []string{"application/json"}, ""},
		{"Accept", "application/json;q=0, */*", []string{"application/json", "text/html"}, "text/html"},
		{"Accept", "text/html; level=1, text/html;q=0.5", []string{"text/html"}, "text/html"},
		{"Accept", "text/html; level=1, text/html;q=0.5", []string{"text/html; level=1", "text/html"}, "text/html; level=1"},
		// werkzeug raises ValueError for an offer that is not a mimetype.
		{"Accept", "*/*", []string{"html"}, ""},
		{"Accept-Language", "en-US, fr;q=0.8", []string{"en", "fr"}, "fr"},
		{"Accept-Language", "en-US, fr;q=0.8", []string{"fr", "de"}, "fr"},
		{"Accept-Language", "en-US, fr;q=0.8", []string{"en_us"}, "en_us"},
		{"Accept-Language", "en-US, fr;q=0.8", []string{"de"}, ""},
		{"Accept-Language", "en-US, fr;q=0.8", []string{"en", "de"}, "en"},
		{"Accept", "*/html, text/plain;q=0.5", []string{"text/html", "text/plain"}, "text/plain"},
		{"Accept-Language", "en, de;q=0.5", []string{"en-US", "de"}, "de"},
		{"Accept-Language", "en, de;q=0.5", []string{"de-AT", "de-CH"}, "de-AT"},
		{"Accept-Language", "en, de;q=0.5", []string{"fr"}, ""},
		{"Accept-Language", "de-AT;q=0.9, *;q=0.2", []string{"de", "fr"}, "de"},
		{"Accept-Language", "de-AT;q=0.9, *;q=0.2", []string{"fr"}, "fr"},
		{"Accept-Encoding", "gzip, br;q=0.9, *;q=0.1", []string{"br", "gzip"}, "gzip"},
		{"Accept-Encoding", "gzip, br;q=0.9, *;q=0.1", []string{"deflate"}, "deflate"},
		{"Accept-Encoding", "gzip, br;q=0.9, *;q=0.1", []string{"BR"}, "BR"},
		{"Accept-Charset", "UTF8, ISO-8859-1;q=0.5", []string{"utf-8", "latin1"}, "utf-8"},
		{"Accept-Charset", "UTF8, ISO-8859-1;q=0.5", []string{"latin-1", "ascii"}, "latin-1"},
	} {
		a := acceptOf(rhRequest(t, tc.header, tc.value), tc.header)
		if got := a.BestMatch(tc.offers...); got != tc.want {
			t.Errorf("%s: %q: BestMatch(%q) = %q, want %q", tc.header, tc.value, tc.offers, got, tc.want)
		}
	}
}

func TestAcceptQualityAsWerkzeug(t *testing.T) {
	const html = "text/html;q=0.9, text/*;q=0.8, */*;q=0.1, application/json"
	for _, tc := range []struct {
		header, value, of string
		want              float64
	}{
		{"Accept", html, "text/html", 0.9},
		{"Accept", html, "text/plain", 0.8},
		{"Accept", html, "image/gif", 0.1},
		{"Accept", html, "application/json", 1},
		{"Accept", html, "application/xml", 0.1},
		{"Accept", "text/*, application/json;q=0.5", "text/css", 1},
		{"Accept", "text/*, application/json;q=0.5", "application/json", 0.5},
		{"Accept", "text/*, application/json;q=0.5", "text/html; level=1", 1},
		{"Accept", "", "text/html", 0},
		{"Accept", "*/html, text/plain;q=0.5", "text/html", 0},
		{"Accept", "application/json;q=0, */*", "application/json", 0},
		{"Accept", "application/json;q=0, */*", "text/html", 1},
		{"Accept", "text/html; level=1, text/html;q=0.5", "text/html", 0.5},
		{"Accept", "text/html; level=1, text/html;q=0.5", "text/html;level=1", 1},
		{"Accept", "text/html; level=1, text/html;q=0.5", "text/HTML; LEVEL=1", 1},
		{"Accept-Language", "en-US, fr;q=0.8", "en-us", 1},
		{"Accept-Language", "en-US, fr;q=0.8", "en", 0},
		{"Accept-Language", "en-US, fr;q=0.8", "fr", 0.8},
		{"Accept-Language", "en-US, fr;q=0.8", "fr-CA", 0},
		{"Accept-Language", "en, de;q=0.5", "en-US", 0},
		{"Accept-Language", "de-AT;q=0.9, *;q=0.2", "fr", 0.2},
		{"Accept-Encoding", "gzip, br;q=0.9, *;q=0.1", "identity", 0.1},
		{"Accept-Encoding", "gzip, br;q=0.9, *;q=0.1", "GZIP", 1},
		{"Accept-Charset", "UTF8, ISO-8859-1;q=0.5", "utf-8", 1},
		{"Accept-Charset", "UTF8, ISO-8859-1;q=0.5", "iso8859-1", 0.5},
		{"Accept-Charset", "UTF8, ISO-8859-1;q=0.5", "ascii", 0},
	} {
		a := acceptOf(rhRequest(t, tc.header, tc.value), tc.header)
		if got := a.Quality(tc.of); got != tc.want {
			t.Errorf("%s: %q: Quality(%q) = %v, want %v", tc.header, tc.value, tc.of, got, tc.want)
		}
	}
}

func TestAuthorizationAsWerkzeug(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   *vial.Authorization // nil: werkzeug returns None
	}{
		{"Basic YW5uOnMzY3I6ZXQ=", &vial.Authorization{Type: "basic", Username: "ann", Password: "s3cr:et"}},
		{"basic Ym9i", &vial.Authorization{Type: "basic", Username: "bob"}},
		{"Basic !!!", &vial.Authorization{Type: "basic"}}, // b64decode skips "!": empty credentials
		{"Basic /zp4", nil},    // not UTF-8
		{"Basic YW5uOnB", nil}, // incorrect padding
		{"Basic YW5uO", nil},
		{"Basic YW5uOnB3==x", nil},
		{"Basic YW5uOnB=", &vial.Authorization{Type: "basic", Username: "ann", Password: "p"}},
		{"Basic YW5u OnB3", &vial.Authorization{Type: "basic", Username: "ann", Password: "pw"}},
		{"Basic YW5uOnB3=", &vial.Authorization{Type: "basic", Username: "ann", Password: "pw"}},
		{"Basic YW5u=OnB3", &vial.Authorization{Type: "basic", Username: "ann", Password: "pw"}},
		{"Basic =YW5u", &vial.Authorization{Type: "basic", Username: "ann"}},
		{"Basic Y===W5u", &vial.Authorization{Type: "basic", Username: "ann"}}, // "=" after one character is no padding
		{"Basic YW5uO===", nil},
		{"Bearer abc.def-ghi==", &vial.Authorization{Type: "bearer", Token: "abc.def-ghi=="}},
		{"Token", &vial.Authorization{Type: "token"}},
		{`Digest username="ann", realm="r x", nonce=abc`, &vial.Authorization{Type: "digest",
			Parameters: map[string]string{"username": "ann", "realm": "r x", "nonce": "abc"}}},
	} {
		got := rhRequest(t, "Authorization", tc.header).Authorization()
		if (got == nil) != (tc.want == nil) || got != nil && (got.Type != tc.want.Type || got.Username != tc.want.Username ||
			got.Password != tc.want.Password || got.Token != tc.want.Token || !mapsEqual(got.Parameters, tc.want.Parameters)) {
			t.Errorf("%q: got %+v, want %+v", tc.header, got, tc.want)
		}
	}
	if got := rhRequest(t).Authorization(); got != nil {
		t.Errorf("no header: %+v", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestRangeAsWerkzeug(t *testing.T) {
	type br = vial.ByteRange
	for _, tc := range []struct {
		header string
		units  string
		ranges []vial.ByteRange // nil with units "": werkzeug returns None
		// ContentRange for lengths 5 and 1000; "" where werkzeug's
		// range_for_length is None.
		cr5, cr1000 string
	}{
		{"bytes=0-499", "bytes", []br{{0, 500}}, "bytes 0-4/5", "bytes 0-499/1000"},
		{"bytes=500-", "bytes", []br{{500, -1}}, "", "bytes 500-999/1000"},
		// werkzeug: None for length 5; RFC 9110 §14.1.3: the whole body.
		{"bytes=-500", "bytes", []br{{-500, -1}}, "bytes 0-4/5", "bytes 500-999/1000"},
		{"bytes=0-0,-1", "bytes", []br{{0, 1}, {-1, -1}}, "", ""},
		{"bytes=0-10, 20-30", "bytes", []br{{0, 11}, {20, 31}}, "", ""},
		{"bytes=0-", "bytes", []br{{0, -1}}, "bytes 0-4/5", "bytes 0-999/1000"},
		{"BYTES = 1-2", "bytes", []br{{1, 3}}, "bytes 1-2/5", "bytes 1-2/1000"},
		{"bytes=1 - 2", "bytes", []br{{1, 3}}, "bytes 1-2/5", "bytes 1-2/1000"},
		{"items=0-5", "items", []br{{0, 6}}, "", ""},
		{"bytes=0-1,2-", "bytes", []br{{0, 2}, {2, -1}}, "", ""},
		{"bytes=-0", "bytes", []br{{0, -1}}, "bytes 0-4/5", "bytes 0-999/1000"},
		{"=1-2", "", []br{{1, 3}}, "", ""},
		{"bytes=10-5", "", nil, "", ""},
		{"bytes=5-10,3-4", "", nil, "", ""},
		{"bytes=-5,10-", "", nil, "", ""},
		{"bytes", "", nil, "", ""},
		{"bytes=abc", "", nil, "", ""},
		{"bytes=1-x", "", nil, "", ""},
		{"bytes=+1-2", "", nil, "", ""},
		{"bytes=500-,600-", "", nil, "", ""},
		{"bytes=", "", nil, "", ""},
	} {
		rg := rhRequest(t, "Range", tc.header).Range()
		if tc.ranges == nil {
			if rg != nil {
				t.Errorf("%q: got %+v, want nil", tc.header, rg)
			}
			continue
		}
		if rg == nil || rg.Units != tc.units || !slices.Equal(rg.Ranges, tc.ranges) {
			t.Errorf("%q: got %+v, want %s %v", tc.header, rg, tc.units, tc.ranges)
			continue
		}
		if got5, got1000 := rg.ContentRange(5), rg.ContentRange(1000); got5 != tc.cr5 || got1000 != tc.cr1000 {
			t.Errorf("%q: ContentRange(5), (1000) = %q, %q; want %q, %q", tc.header, got5, got1000, tc.cr5, tc.cr1000)
		}
		if _, _, ok := rg.ForLength(0); ok {
			t.Errorf("%q: ForLength(0) is ok", tc.header)
		}
	}
	if rhRequest(t).Range() != nil {
		t.Error("no header: not nil")
	}
}

func TestETagsAsWerkzeug(t *testing.T) {
	for _, tc := range []struct {
		header       string
		strong, weak []string
		star         bool
	}{
		{`"a", W/"b", "c"`, []string{"a", "c"}, []string{"b"}, false},
		{`*`, nil, nil, true},
		{`W/"x"`, nil, []string{"x"}, false},
		{`abc, "d"`, []string{"abc", "d"}, nil, false},
		{`w/"e" , "f"`, []string{"f"}, []string{"e"}, false},
		{`"a",*`, nil, nil, true},
		{`"a,b", "c"`, []string{"a,b", "c"}, nil, false},
	} {
		r := rhRequest(t, "If-None-Match", tc.header, "If-Match", tc.header)
		for _, e := range []vial.ETags{r.IfNoneMatch(), r.IfMatch()} {
			if !slices.Equal(e.Strong, tc.strong) || !slices.Equal(e.Weak, tc.weak) || e.Star != tc.star || e.IsEmpty() {
				t.Errorf("%q: got %+v", tc.header, e)
			}
		}
	}
	e := rhRequest(t, "If-None-Match", `"a", W/"b"`).IfNoneMatch()
	if !e.Contains("a") || e.Contains("b") || !e.ContainsWeak("b") || e.ContainsWeak("c") {
		t.Errorf("comparisons of %+v", e)
	}
	if star := rhRequest(t, "If-Match", "*").IfMatch(); !star.Contains("anything") || !star.ContainsWeak("x") {
		t.Error(`"*" matches no tag`)
	}
	if e := rhRequest(t).IfNoneMatch(); !e.IsEmpty() {
		t.Errorf("no header: %+v", e)
	}
}

func TestIfModifiedSinceHeaderAsWerkzeug(t *testing.T) {
	for _, tc := range []struct {
		header string
		unix   int64 // -1: werkzeug's parse_date is None
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
		{"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
		{"Sun Nov  6 08:49:37 1994", 784111777},
		{"Sun, 06 Nov 1994 08:49:37 +0200", 784104577},
		{"06 Nov 1994 08:49:37 GMT", 784111777},
		{"Sun, 6 Nov 1994 08:49:37 GMT", 784111777},
		{"Sun, 06 Nov 1994 08:49:37", 784111777},
		{"garbage", -1},
	} {
		r := rhRequest(t, "If-Modified-Since", tc.header, "If-Unmodified-Since", tc.header)
		for _, get := range []func() (time.Time, bool){r.IfModifiedSince, r.IfUnmodifiedSince} {
			got, ok := get()
			if tc.unix < 0 && ok || tc.unix >= 0 && (!ok || got.Unix() != tc.unix || got.Location() != time.UTC) {
				t.Errorf("%q: got %v %v, want %d", tc.header, got, ok, tc.unix)
			}
		}
	}
	if _, ok := rhRequest(t).IfModifiedSince(); ok {
		t.Error("no header: ok")
	}
}

func TestAccessRouteUserAgentReferrerHeader(t *testing.T) {
	for _, tc := range []struct {
		xff  *string
		want []string
	}{
		{new("203.0.113.1, 10.0.0.1"), []string{"203.0.113.1", "10.0.0.1"}},
		{new(" a , ,b"), []string{"a", "b"}},
		{new(""), nil}, // present but empty: werkzeug's empty list
		{nil, []string{"192.0.2.9"}},
	} {
		opts := []vial.RequestOption{vial.WithEnviron(func(env *gateway.Environ) { env.RemoteAddr = "192.0.2.9" })}
		if tc.xff != nil {
			opts = append(opts, vial.WithHeader("X-Forwarded-For", *tc.xff))
		}
		r, done := vial.New("ar").TestRequestContext("GET", "/", opts...)
		if got := r.AccessRoute(); !slices.Equal(got, tc.want) {
			t.Errorf("X-Forwarded-For %v: got %q, want %q", tc.xff, got, tc.want)
		}
		done()
	}
	r := rhRequest(t, "User-Agent", "curl/8.0", "Referer", "https://example.com/a")
	if r.UserAgent() != "curl/8.0" || r.Referrer() != "https://example.com/a" {
		t.Errorf("UserAgent %q, Referrer %q", r.UserAgent(), r.Referrer())
	}
	if r := rhRequest(t); r.UserAgent() != "" || r.Referrer() != "" {
		t.Error("absent headers are not empty")
	}
}
