package gateway_test

import (
	"errors"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
)

// The fuzz targets of the contract's checks: ParseStatus and CheckResponse
// against references written from the package doc's words, and Headers
// against net/http's Header.

// fzStatusRef is ParseStatus as the doc words it: three digits from 100
// to 999, a space, then a reason with no CR, LF or NUL.
func fzStatusRef(s string) (int, bool) {
	if len(s) < 4 || s[3] != ' ' {
		return 0, false
	}
	code, err := strconv.Atoi(s[:3])
	if err != nil || code < 100 || strings.ContainsAny(s[:3], "+-") {
		return 0, false
	}
	if strings.ContainsAny(s[4:], "\r\n\x00") {
		return 0, false
	}
	return code, true
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{
		"200 OK", "404 Not Found", "204 ", "999 x", "099 Low", "1000 OK",
		"200OK", "abc OK", "200 OK\r\nX-Injected: 1", "200", "200 OK\x00", "+20 OK", "-20 OK",
		"٢٠٠ OK", "200\tOK", " 200 OK", "500 Internal Server Error",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := gateway.ParseStatus(s)
		want, ok := fzStatusRef(s)
		if !ok {
			require.Error(t, err, "%q", s)
			require.Zero(t, code, "%q", s)
			return
		}
		require.NoError(t, err, "%q", s)
		require.Equal(t, want, code, "%q", s)
		// A code's own status line parses back to it.
		back, err := gateway.ParseStatus(gateway.StatusLine(code))
		require.NoError(t, err)
		require.Equal(t, code, back)
	})
}

// fzIsToken is RFC 9110's token: one or more tchar.
func fzIsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// fzHopByHop lists the names the package doc calls hop-by-hop, besides
// every Proxy-* name.
var fzHopByHop = []string{"connection", "keep-alive", "te", "trailer", "trailers", "transfer-encoding", "upgrade"}

// fzHasControl reports whether a field value holds a control byte that
// RFC 9110 does not allow: any below 0x20 but HTAB, and DEL.
func fzHasControl(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// fzCheckRef is CheckResponse as its doc words it: the code and the
// Content-Length (-1 if none), or false.
func fzCheckRef(status string, headers gateway.Headers) (int, int64, bool) {
	code, ok := fzStatusRef(status)
	if !ok {
		return 0, -1, false
	}
	length := int64(-1)
	for _, h := range headers {
		lower := strings.ToLower(h.Name)
		switch {
		case !fzIsToken(h.Name), fzHasControl(h.Value),
			slices.Contains(fzHopByHop, lower), len(lower) > 6 && strings.HasPrefix(lower, "proxy-"),
			lower == "status":
			return 0, -1, false
		case lower == "content-length":
			// strconv's verdict, a sign included ("+5" is 5): the rule is
			// a non-negative integer, and all the fields agree.
			n, err := strconv.ParseInt(h.Value, 10, 64)
			if err != nil || n < 0 || length >= 0 && n != length {
				return 0, -1, false
			}
			length = n
		}
	}
	return code, length, true
}

func FuzzCheckResponse(f *testing.F) {
	// Seeds from the table tests: TestCheckResponseContentLength and
	// TestHandlerRefusesWhatWouldCorruptTheWire.
	type hdr = gateway.Header
	seeds := []struct {
		status string
		h      []hdr
	}{
		{"200 OK", []hdr{{"Content-Length", "25"}}},
		{"200 OK", []hdr{{"Content-Length", "+5"}, {"content-length", "5"}}},
		{"200 OK", []hdr{{"Content-Length", "9223372036854775807"}}},
		{"200 OK", []hdr{{"Content-Length", "9223372036854775808"}}},
		{"200 OK", []hdr{{"content-length", "3"}, {"Content-Length", "4"}}},
		{"200 OK", []hdr{{"Content-Length", "5\r\nX-Injected: 1"}}},
		{"200 OK", []hdr{{"X-Note", "a\r\nSet-Cookie: evil=1"}}},
		{"302 Found", []hdr{{"Location", "/next\nx"}}},
		{"200 OK", []hdr{{"Set-Cookie", "a=1\x00"}}},
		{"200 OK", []hdr{{"X Bad", "1"}}},
		{"200 OK", []hdr{{"X-Bad:", "1"}}},
		{"200 OK", []hdr{{"keep-alive", "timeout=99"}, {"Transfer-Encoding", "gzip"}}},
		{"200 OK", []hdr{{"Proxy-Authenticate", "x"}, {"Proxy-", "x"}}},
		{"200 OK", []hdr{{"status", "404"}, {"Etag", `"x"`}}},
		{"200OK", nil},
		{"200 OK", []hdr{{"Content-Type", "text/plain\tx"}, {"Te", "trailers"}}},
		{"200 OK", []hdr{{"X-Note", "a\x01b"}, {"Location", "/x\x7f"}}},
		{"200 OK", []hdr{{"X-Long", "abcdefg\x7fhijklmnop\tq"}}},
	}
	for _, s := range seeds {
		var names, values []string
		for _, h := range s.h {
			names, values = append(names, h.Name), append(values, h.Value)
		}
		// Up to two fields, the names and values split at a NUL-free
		// separator the fuzzer may also produce.
		f.Add(s.status, strings.Join(names, "\n"), strings.Join(values, "\n"))
	}
	f.Fuzz(func(t *testing.T, status, names, values string) {
		var headers gateway.Headers
		ns, vs := strings.Split(names, "\n"), strings.SplitN(values, "\n", len(strings.Split(names, "\n")))
		for i, n := range ns {
			v := ""
			if i < len(vs) {
				v = vs[i]
			}
			headers = append(headers, gateway.Header{Name: n, Value: v})
		}
		if names == "" {
			headers = nil
		}
		code, length, err := gateway.CheckResponse(status, headers)
		wantCode, wantLength, ok := fzCheckRef(status, headers)
		if !ok {
			require.Error(t, err, "%q %q", status, headers)
			var he *gateway.HeaderError
			require.True(t, errors.As(err, &he), "%T", err)
			require.Equal(t, -1, int(length))
			return
		}
		require.NoError(t, err, "%q %q", status, headers)
		require.Equal(t, wantCode, code)
		require.Equal(t, wantLength, length)
		// What it accepts cannot split a header line.
		for _, h := range headers {
			require.NotContains(t, h.Name, ":")
			require.False(t, strings.ContainsAny(h.Value, "\r\n\x00"), "%q", h.Value)
		}
	})
}

// FuzzHeaders runs a program of Add, Set and Del on gateway.Headers and on
// an http.Header side by side: on token names, which http.Header
// canonicalises to one key for all their spellings, every name must have
// the same values in the same order, and HTTPHeader and FromHTTPHeader
// must agree with the model.
func FuzzHeaders(f *testing.F) {
	// From TestHeadersNamesIgnoreASCIICase: the same names in several cases.
	f.Add([]byte{0, 0, 'a', 1, 3, 'b', 0, 1, 'c', 2, 2, 0, 0, 4, 'd', 1, 1, 'e'})
	f.Add([]byte("\x00\x05x\x01\x06y\x02\x05\x00\x07z"))
	// Two spellings of a name added, then Set: one field left, in place.
	f.Add([]byte{0, 0, 1, 0, 6, 2, 0, 1, 3, 1, 2, 4})
	names := []string{
		"Content-Type", "content-type", "CONTENT-TYPE", "Set-Cookie", "set-cookie", "SET-COOKIE",
		"X-Trace", "x-trace", "Vary", "vary", "X-Trac", "X-Traces",
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		var h gateway.Headers
		model := http.Header{}
		for i := 0; i+1 < len(prog); i += 3 {
			op, name := prog[i]%3, names[int(prog[i+1])%len(names)]
			value := ""
			if i+2 < len(prog) {
				value = strconv.Itoa(int(prog[i+2]))
			}
			switch op {
			case 0:
				h.Add(name, value)
				model.Add(name, value)
			case 1:
				h.Set(name, value)
				model.Set(name, value)
			case 2:
				h.Del(name)
				model.Del(name)
			}
			for _, n := range names {
				// slices.Equal first: require's reflection is slow.
				if want := model.Values(n); !slices.Equal(want, h.Values(n)) || model.Get(n) != h.Get(n) || (len(want) > 0) != h.Has(n) {
					t.Fatalf("%s after op %d: Values %q, Get %q, Has %v; http.Header has %q", n, i/3, h.Values(n), h.Get(n), h.Has(n), want)
				}
			}
		}
		hh := h.HTTPHeader()
		for k, vs := range hh {
			require.Equal(t, textproto.CanonicalMIMEHeaderKey(k), k)
			require.Equal(t, model[k], vs, k)
		}
		require.Len(t, hh, len(model))
		require.Equal(t, model, gateway.FromHTTPHeader(model).HTTPHeader())
		clone := h.Clone()
		require.True(t, slices.Equal(h, clone), "%q %q", h, clone)
		if len(clone) > 0 {
			clone[0].Value = "changed"
			require.NotEqual(t, "changed", h[0].Value, "the clone shares nothing")
		}
	})
}
