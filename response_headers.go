package vial

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is werkzeug's header helpers of the Response: the ETag and
// Last-Modified validators, Cache-Control, Content-Security-Policy, and
// MakeConditional, which answers a conditional or Range request with 304,
// 412, 206 or 416.

// SetETag sets the ETag header to etag, quoted, and W/ before it when weak
// (werkzeug's set_etag). It panics if etag holds a double quote, as
// werkzeug's quote_etag raises ValueError: a tag is the program's, not
// the client's.
func (r *Response) SetETag(etag string, weak bool) {
	if strings.Contains(etag, `"`) {
		panic(fmt.Sprintf("vial: SetETag: an entity tag cannot hold a double quote: %q", etag))
	}
	v := `"` + etag + `"`
	if weak {
		v = "W/" + v
	}
	r.Header.Set("ETag", v)
}

// ETag returns the ETag header's tag, unquoted, and whether it is weak
// (werkzeug's get_etag); "" when there is none.
func (r *Response) ETag() (etag string, weak bool) {
	return unquoteETag(r.Header.Get("ETag"))
}

// unquoteETag is werkzeug's unquote_etag: `W/"x"` is x, weak.
func unquoteETag(v string) (string, bool) {
	v = strings.TrimSpace(v)
	weak := strings.HasPrefix(v, "W/") || strings.HasPrefix(v, "w/")
	if weak {
		v = v[2:]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v, weak
}

// SetLastModified sets the Last-Modified header to t, as an HTTP date in
// UTC (to the second); the zero time removes the header.
func (r *Response) SetLastModified(t time.Time) {
	if t.IsZero() {
		r.Header.Del("Last-Modified")
		return
	}
	r.Header.Set("Last-Modified", t.UTC().Format(http.TimeFormat))
}

// LastModified returns the Last-Modified header's time; false when there
// is none or it is not a date.
func (r *Response) LastModified() (time.Time, bool) {
	return parseHTTPDate(r.Header.Get("Last-Modified"))
}

// SetContentSecurityPolicy sets the Content-Security-Policy header to
// policy ("default-src 'self'; img-src *"); "" removes it.
func (r *Response) SetContentSecurityPolicy(policy string) {
	if policy == "" {
		r.Header.Del("Content-Security-Policy")
		return
	}
	r.Header.Set("Content-Security-Policy", policy)
}

// A CacheControl is a response's Cache-Control header, werkzeug's
// ResponseCacheControl: each setter changes a directive and rewrites the
// header at once, directives in the order first set, as werkzeug's
// to_header writes them.
//
//	resp.CacheControl().SetPublic(true).SetMaxAge(3600)
//	// Cache-Control: public, max-age=3600
type CacheControl struct {
	resp       *Response
	directives []cacheDirective
}

type cacheDirective struct {
	name, value string
	hasValue    bool
}

// CacheControl returns the response's Cache-Control header, parsed, for
// reading and changing it.
func (r *Response) CacheControl() *CacheControl {
	c := &CacheControl{resp: r}
	for _, item := range parseListHeader(strings.Join(r.Header.Values("Cache-Control"), ",")) {
		name, value, ok := strings.Cut(item, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		c.directives = append(c.directives, cacheDirective{name, unquoteHeaderValue(strings.TrimSpace(value)), ok})
	}
	return c
}

// Get returns the value of directive ("max-age") and whether it is
// present; a directive without a value ("no-store") gives "", true.
func (c *CacheControl) Get(directive string) (string, bool) {
	for _, d := range c.directives {
		if d.name == directive {
			return d.value, true
		}
	}
	return "", false
}

// Has reports whether directive is present.
func (c *CacheControl) Has(directive string) bool {
	_, ok := c.Get(directive)
	return ok
}

// MaxAge returns max-age in seconds; false when absent or not a number.
func (c *CacheControl) MaxAge() (int, bool) {
	v, ok := c.Get("max-age")
	n, err := strconv.Atoi(v)
	return n, ok && err == nil
}

// Set sets directive to value, or to no value ("no-store") when value is
// "".
func (c *CacheControl) Set(directive, value string) *CacheControl {
	d := cacheDirective{directive, value, value != ""}
	if i := slices.IndexFunc(c.directives, func(d cacheDirective) bool { return d.name == directive }); i >= 0 {
		c.directives[i] = d
	} else {
		c.directives = append(c.directives, d)
	}
	return c.write()
}

// Del removes directive.
func (c *CacheControl) Del(directive string) *CacheControl {
	c.directives = slices.DeleteFunc(c.directives, func(d cacheDirective) bool { return d.name == directive })
	return c.write()
}

func (c *CacheControl) flag(directive string, on bool) *CacheControl {
	if on {
		return c.Set(directive, "")
	}
	return c.Del(directive)
}

func (c *CacheControl) seconds(directive string, n int) *CacheControl {
	if n < 0 {
		return c.Del(directive)
	}
	return c.Set(directive, strconv.Itoa(n))
}

// SetMaxAge sets max-age to seconds; a negative value removes it.
func (c *CacheControl) SetMaxAge(seconds int) *CacheControl { return c.seconds("max-age", seconds) }

// SetSMaxAge sets s-maxage to seconds; a negative value removes it.
func (c *CacheControl) SetSMaxAge(seconds int) *CacheControl { return c.seconds("s-maxage", seconds) }

// SetStaleWhileRevalidate sets stale-while-revalidate to seconds; a
// negative value removes it.
func (c *CacheControl) SetStaleWhileRevalidate(seconds int) *CacheControl {
	return c.seconds("stale-while-revalidate", seconds)
}

// SetNoCache adds no-cache, or removes it.
func (c *CacheControl) SetNoCache(on bool) *CacheControl { return c.flag("no-cache", on) }

// SetNoStore adds no-store, or removes it.
func (c *CacheControl) SetNoStore(on bool) *CacheControl { return c.flag("no-store", on) }

// SetNoTransform adds no-transform, or removes it.
func (c *CacheControl) SetNoTransform(on bool) *CacheControl { return c.flag("no-transform", on) }

// SetPublic adds public, or removes it.
func (c *CacheControl) SetPublic(on bool) *CacheControl { return c.flag("public", on) }

// SetPrivate adds private, or removes it.
func (c *CacheControl) SetPrivate(on bool) *CacheControl { return c.flag("private", on) }

// SetMustRevalidate adds must-revalidate, or removes it.
func (c *CacheControl) SetMustRevalidate(on bool) *CacheControl {
	return c.flag("must-revalidate", on)
}

// SetProxyRevalidate adds proxy-revalidate, or removes it.
func (c *CacheControl) SetProxyRevalidate(on bool) *CacheControl {
	return c.flag("proxy-revalidate", on)
}

// SetImmutable adds immutable, or removes it.
func (c *CacheControl) SetImmutable(on bool) *CacheControl { return c.flag("immutable", on) }

// String returns the header's value as written: "public, max-age=60".
func (c *CacheControl) String() string {
	parts := make([]string, len(c.directives))
	for i, d := range c.directives {
		parts[i] = d.name
		if d.hasValue {
			parts[i] += "=" + quoteHeaderValue(d.value)
		}
	}
	return strings.Join(parts, ", ")
}

func (c *CacheControl) write() *CacheControl {
	if len(c.directives) == 0 {
		c.resp.Header.Del("Cache-Control")
	} else {
		c.resp.Header.Set("Cache-Control", c.String())
	}
	return c
}

// MakeConditional makes the response answer r's conditional and Range
// headers, as werkzeug's make_conditional does, and returns it, for
// "return resp.MakeConditional(r)". Set the validators first
// ([Response.SetETag], [Response.SetLastModified]). It acts on GET and
// HEAD requests only, adding a Date header when there is none, and then,
// in RFC 9110's order:
//
//   - If-Match without the response's strong ETag (none, or a weak one),
//     or without If-Match an If-Unmodified-Since before Last-Modified:
//     412 Precondition Failed, with an empty body.
//   - If-None-Match holding the ETag (weak comparison) or "*", or without
//     If-None-Match an If-Modified-Since not before Last-Modified: 304
//     Not Modified, without a body.
//   - For a body held in memory (bytes, text, JSON): Accept-Ranges: bytes,
//     and for a Range of one bytes range (and an If-Range, if sent, that
//     matches the ETag or Last-Modified), 206 Partial Content with that
//     part and its Content-Range; when the range is past the end or the
//     header is malformed, 416 Range Not Satisfiable with "Content-Range:
//     bytes */length" and werkzeug's error page.
//
// 304 and 412 drop the entity headers (Content-Type, Content-Length,
// Last-Modified …; Expires and Content-Location stay) as werkzeug drops
// them for a 304. A streamed body (an iterator, an io.Reader) has no
// length vial knows, so Range is ignored for it and it is sent whole
// (werkzeug needs complete_length for it); on a 304 or 412 it is closed
// unsent. A response that wraps an application is left alone.
func (r *Response) MakeConditional(req *Request) *Response {
	if req == nil || req.Method != http.MethodGet && req.Method != http.MethodHead || r.kind == kindApp {
		return r
	}
	if !r.Header.Has("Date") {
		r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	switch r.precondition(req) {
	case http.StatusPreconditionFailed:
		r.dropBody(http.StatusPreconditionFailed)
	case http.StatusNotModified:
		r.dropBody(http.StatusNotModified)
	default:
		r.serveRange(req)
	}
	return r
}

// precondition evaluates r's preconditions for req (RFC 9110 §13.2.2):
// 412, 304, or 0 to go on.
func (r *Response) precondition(req *Request) int {
	etag, weak := r.ETag()
	hasETag := r.Header.Has("ETag")
	modified, hasModified := r.LastModified()
	if im := req.IfMatch(); !im.IsEmpty() {
		if !im.Star && !(hasETag && !weak && im.Contains(etag)) {
			return http.StatusPreconditionFailed
		}
	} else if since, ok := req.IfUnmodifiedSince(); ok && hasModified && modified.After(since) {
		return http.StatusPreconditionFailed
	}
	if inm := req.IfNoneMatch(); !inm.IsEmpty() {
		if inm.Star || hasETag && inm.ContainsWeak(etag) {
			return http.StatusNotModified
		}
	} else if since, ok := req.IfModifiedSince(); ok && hasModified && !modified.After(since) {
		return http.StatusNotModified
	}
	return 0
}

// entityHeaders are the headers werkzeug's remove_entity_headers drops
// (but Expires and Content-Location, which it keeps).
var entityHeaders = []string{"Allow", "Content-Encoding", "Content-Language", "Content-Length",
	"Content-MD5", "Content-Range", "Content-Type", "Last-Modified"}

// dropBody makes r a bodiless 304 or 412: its entity headers removed, a
// body in memory emptied, a streamed one left for ServeGateway to close
// unsent (a 304) or closed now (a 412, which has a body).
func (r *Response) dropBody(code int) {
	r.StatusCode = code
	if r.rare != nil {
		r.rare.status = ""
	}
	for _, h := range entityHeaders {
		r.Header.Del(h)
	}
	if r.IsStreamed() {
		if code == http.StatusNotModified {
			return
		}
		r.discard()
	}
	r.SetData(nil)
}

// serveRange answers req's Range header for a body held in memory.
func (r *Response) serveRange(req *Request) {
	if r.IsStreamed() {
		return
	}
	r.resolveJSON(r.app())
	r.Header.Set("Accept-Ranges", "bytes")
	n := int64(r.byteLen())
	if req.Header.Get("Range") == "" || n == 0 || !r.ifRangeHolds(req) {
		return
	}
	rg := req.Range()
	if rg != nil && (rg.Units != "bytes" || len(rg.Ranges) != 1) {
		return // a unit or a multipart answer vial does not serve: the whole body
	}
	start, end, ok := rg.ForLength(n)
	if !ok {
		r.rangeNotSatisfiable(n)
		return
	}
	r.StatusCode = http.StatusPartialContent
	if r.rare != nil {
		r.rare.status = ""
	}
	r.Header.Set("Content-Range", rg.ContentRange(n))
	if r.kind == kindText {
		r.SetText(r.text[start:end])
	} else {
		r.SetData(r.data[start:end])
	}
}

// ifRangeHolds reports whether req's If-Range, if any, matches r: a date
// not before Last-Modified (werkzeug's test), or r's strong ETag.
func (r *Response) ifRangeHolds(req *Request) bool {
	v := req.Header.Get("If-Range")
	if v == "" {
		return true
	}
	if since, ok := parseHTTPDate(v); ok {
		modified, has := r.LastModified()
		return has && !modified.After(since)
	}
	tag, weakReq := unquoteETag(v)
	etag, weak := r.ETag()
	return r.Header.Has("ETag") && !weak && !weakReq && tag == etag
}

// rangeNotSatisfiable makes r werkzeug's 416 page for a body of length n.
func (r *Response) rangeNotSatisfiable(n int64) {
	page := (&HTTPError{Code: http.StatusRequestedRangeNotSatisfiable,
		Description: "The server cannot provide the requested range."}).GetResponse()
	for _, h := range entityHeaders {
		r.Header.Del(h)
	}
	r.StatusCode = page.StatusCode
	if r.rare != nil {
		r.rare.status = ""
	}
	r.Header.Set("Content-Type", page.Header.Get("Content-Type"))
	r.Header.Set("Content-Range", "bytes */"+strconv.FormatInt(n, 10))
	r.SetText(page.text)
}
