package gateway

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
)

// An Application turns one request's environment into a response.
//
// ServeGateway is called once per request by a server. It must call start
// (exactly once, or again with excInfo to replace an unsent status, see
// [StartResponse]) before the first non-empty chunk of the returned Body is
// produced, and return a non-nil Body. The server owns the Body from then on:
// it iterates it at most once and closes it exactly once.
type Application interface {
	ServeGateway(env *Environ, start StartResponse) Body
}

// AppFunc adapts an ordinary function to an [Application], as
// [net/http.HandlerFunc] does for handlers.
type AppFunc func(env *Environ, start StartResponse) Body

// ServeGateway calls f(env, start).
func (f AppFunc) ServeGateway(env *Environ, start StartResponse) Body {
	return f(env, start)
}

// StartResponse is PEP 3333's start_response, supplied by the server.
//
// status is "NNN Reason" (see [StatusLine]); headers are the response
// headers in order, repeated names (Set-Cookie) kept. The server records
// both and sends them lazily: with the first non-empty chunk or write, or at
// the end of an empty body.
//
// Calling start a second time is allowed only with a non-nil excInfo (the
// error that made the application change its mind, typically to send an
// error page instead). Before the headers went out, the new status and
// headers replace the old ones. After they went out the server cannot honour
// the call: it aborts the response (closes the connection rather than pass
// off a truncated body as complete) and reports excInfo. A second call
// without excInfo is a programming error and panics.
//
// The server keeps headers as given until it sends them: the application
// must not change the slice after passing it.
//
// The returned [WriteFunc] is the imperative, legacy way of producing the
// body; applications should prefer returning the chunks as the [Body].
type StartResponse func(status string, headers Headers, excInfo ...error) WriteFunc

// WriteFunc is the write callable returned by [StartResponse]. It sends p to
// the client before returning (headers first, if they have not gone out),
// and reports the server's failure to do so, for instance when the client has
// gone away.
type WriteFunc func(p []byte) error

// A Header is one response header field.
type Header struct {
	Name, Value string
}

// Headers is an ordered list of response header fields. Unlike
// [net/http.Header] it keeps the order the application chose and may hold a
// name more than once (Set-Cookie). Name lookups ignore ASCII case, as
// HTTP field names do.
type Headers []Header

// sameName reports whether two field names are equal but for ASCII case.
func sameName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if x, y := a[i], b[i]; x != y && lowerASCII(x) != lowerASCII(y) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// Get returns the first value for name, or "".
func (h Headers) Get(name string) string {
	for _, f := range h {
		if sameName(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns every value for name, in order.
func (h Headers) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if sameName(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Has reports whether name is present.
func (h Headers) Has(name string) bool {
	for _, f := range h {
		if sameName(f.Name, name) {
			return true
		}
	}
	return false
}

// Add appends a field, keeping any earlier fields of the same name.
func (h *Headers) Add(name, value string) {
	*h = append(*h, Header{name, value})
}

// Set replaces every field named name with a single one, at the position of
// the first, or appends it.
func (h *Headers) Set(name, value string) {
	for i, f := range *h {
		if sameName(f.Name, name) {
			(*h)[i].Value = value
			h.delFrom(name, i+1)
			return
		}
	}
	*h = append(*h, Header{name, value})
}

// Del removes every field named name.
func (h *Headers) Del(name string) {
	h.delFrom(name, 0)
}

func (h *Headers) delFrom(name string, from int) {
	s := *h
	out := s[:from]
	for _, f := range s[from:] {
		if !sameName(f.Name, name) {
			out = append(out, f)
		}
	}
	clear(s[len(out):])
	*h = out
}

// Clone returns a copy that shares nothing with h.
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	return append(Headers(nil), h...)
}

// HTTPHeader returns the fields as a [net/http.Header], names canonicalised.
func (h Headers) HTTPHeader() http.Header {
	hh := make(http.Header, len(h))
	for _, f := range h {
		hh.Add(f.Name, f.Value)
	}
	return hh
}

// FromHTTPHeader converts a [net/http.Header] to Headers, names in sorted
// order so that the result is deterministic, values of one name in order.
func FromHTTPHeader(hh http.Header) Headers {
	n := 0
	for _, vs := range hh {
		n += len(vs)
	}
	out := make(Headers, 0, n)
	for _, name := range slices.Sorted(maps.Keys(hh)) {
		for _, v := range hh[name] {
			out = append(out, Header{name, v})
		}
	}
	return out
}

var statusLines [600]string

func init() {
	for code := 100; code < len(statusLines); code++ {
		text := http.StatusText(code)
		if text == "" {
			text = "Unknown Status"
		}
		statusLines[code] = strconv.Itoa(code) + " " + text
	}
}

// StatusLine returns the status string for code, as [StartResponse] takes
// it: StatusLine(404) is "404 Not Found". It does not allocate for codes from
// 100 to 599.
func StatusLine(code int) string {
	if code >= 100 && code < len(statusLines) {
		return statusLines[code]
	}
	return strconv.Itoa(code) + " Unknown Status"
}

// ParseStatus returns the code of a status string "NNN Reason". The reason
// may be empty but the space after the code may not be missing; the code must
// be three digits from 100 to 999.
func ParseStatus(status string) (int, error) {
	if status == "200 OK" {
		return http.StatusOK, nil // most responses: no need to scan it
	}
	if len(status) < 4 || status[3] != ' ' {
		return 0, &statusError{status}
	}
	code := 0
	for i := 0; i < 3; i++ {
		c := status[i]
		if c < '0' || c > '9' {
			return 0, &statusError{status}
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return 0, &statusError{status}
	}
	for i := 4; i < len(status); i++ {
		if c := status[i]; c == '\r' || c == '\n' || c == 0 {
			return 0, &statusError{status}
		}
	}
	return code, nil
}

type statusError struct{ status string }

func (e *statusError) Error() string {
	return "gateway: status " + strconv.Quote(e.status) + ` is not of the form "NNN Reason"`
}
