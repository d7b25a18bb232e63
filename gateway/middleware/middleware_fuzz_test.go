package middleware_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/middleware"
	"github.com/vial-go/vial/gateway/validate"
)

// ---- ProxyFix ----

// fzForwarded is the value ProxyFix must pick from a header's lines: the
// trusted'th from the right of all the comma-separated values, trimmed;
// false when there are fewer.
func fzForwarded(lines []string, trusted int) (string, bool) {
	if trusted <= 0 || len(lines) == 0 {
		return "", false
	}
	values := strings.Split(strings.Join(lines, ","), ",")
	if trusted > len(values) {
		return "", false
	}
	return strings.TrimSpace(values[len(values)-trusted]), true
}

// fzValidPort is a decimal port from 1 to 65535, digits only.
func fzValidPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535 && strings.Trim(s, "0123456789") == ""
}

// fzLines splits a fuzzed text into header lines at "\n"; no text is no
// header.
func fzLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// FuzzProxyFix gives ProxyFix arbitrary X-Forwarded-* lines and trust
// counts. The environ it passes on must keep the gateway contract (checked
// by package validate: SCRIPT_NAME, SERVER_PORT, url_scheme …), and each
// value it sets must come from the value its header's count names, parsed
// as the doc says; otherwise it keeps the server's value.
func FuzzProxyFix(f *testing.F) {
	// Seeds from proxyfix_test.go's tables.
	for _, s := range [][5]string{
		{"203.0.113.7", "https", "example.org", "8443", "/app"},
		{"6.6.6.6, 203.0.113.7", "HTTPS", "example.org:8080", "443", "/app/"},
		{" 6.6.6.6 ,203.0.113.7 ,  10.1.1.1 ", "https, http", "[2001:db8::5]:8443", "1, 8080, 80", "/a%2Fb"},
		{"6.6.6.6, 203.0.113.7\n10.1.1.1", "ftp", "[2001:db8::5]", "0", "//evil.example"},
		{"[2001:db8::7]:4711", "javascript", "evil.example/x", "65536", "/a/../b"},
		{"203.0.113.7:99999", "", "user@evil.example", "https", "/%00"},
		{"client.example", "http", "[example.org]", "", "app"},
		{"2001:db8::7", "https", "example.org:", "8080", "/"},
		{"[2001:db8::7]", "https", "[2001:db8::5", "9000", "/x\\y"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], uint16(0x1249))
		f.Add(s[0], s[1], s[2], s[3], s[4], uint16(0x2492))
	}
	f.Fuzz(func(t *testing.T, forV, proto, host, port, prefix string, counts uint16) {
		// Three bits per header: 0 to 7 trusted proxies (5 headers, 15 bits).
		n := func(i int) int { return int(counts>>(3*i)) & 7 }
		opts := middleware.ProxyFixOptions{For: n(0), Proto: n(1), Host: n(2), Port: n(3), Prefix: n(4)}
		lines := map[string][]string{
			"X-Forwarded-For":    fzLines(forV),
			"X-Forwarded-Proto":  fzLines(proto),
			"X-Forwarded-Host":   fzLines(host),
			"X-Forwarded-Port":   fzLines(port),
			"X-Forwarded-Prefix": fzLines(prefix),
		}
		var seen *gateway.Environ
		var violations []string
		inner := validate.WrapWith(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			seen = env
			start("204 No Content", nil)
			return gateway.NoBody
		}), func(v *validate.Violation) { violations = append(violations, v.Error()) })
		app := middleware.ProxyFix(inner, opts)
		env := mwEnv("GET", "/path")
		env.SetContext(t.Context())
		for name, ls := range lines {
			for _, l := range ls {
				env.Header.Add(name, l)
			}
		}
		orig := env.Clone()
		rec := mwRecord(t, app, env)
		require.Equal(t, 204, rec.Code)
		require.NotNil(t, seen)
		require.Empty(t, violations, "%+v", opts)

		// The server's values are kept.
		require.Equal(t, middleware.ProxyFixOrig{
			RemoteAddr: orig.RemoteAddr, RemotePort: orig.RemotePort, URLScheme: orig.URLScheme,
			Host: orig.Host, ServerName: orig.ServerName, ServerPort: orig.ServerPort, ScriptName: orig.ScriptName,
		}, seen.Get(middleware.KeyProxyFixOrig))

		// REMOTE_ADDR: unchanged, or the IP of the trusted value.
		if seen.RemoteAddr != orig.RemoteAddr || seen.RemotePort != orig.RemotePort {
			v, ok := fzForwarded(lines["X-Forwarded-For"], opts.For)
			require.True(t, ok, "REMOTE_ADDR %q set from no trusted value", seen.RemoteAddr)
			require.NotNil(t, net.ParseIP(seen.RemoteAddr), "REMOTE_ADDR %q", seen.RemoteAddr)
			if seen.RemotePort == "" {
				require.Contains(t, []string{seen.RemoteAddr, "[" + seen.RemoteAddr + "]"}, v)
			} else {
				require.True(t, fzValidPort(seen.RemotePort), "REMOTE_PORT %q", seen.RemotePort)
				require.Equal(t, net.JoinHostPort(seen.RemoteAddr, seen.RemotePort), v)
			}
		}

		// url_scheme: http or https, from the trusted value when it is one.
		want := orig.URLScheme
		if v, ok := fzForwarded(lines["X-Forwarded-Proto"], opts.Proto); ok && (strings.EqualFold(v, "http") || strings.EqualFold(v, "https")) {
			want = strings.ToLower(v)
		}
		require.Equal(t, want, seen.URLScheme)

		// SERVER_PORT: a port; HTTP_HOST: a host that URLs can be built on,
		// naming SERVER_NAME.
		require.True(t, fzValidPort(seen.ServerPort), "SERVER_PORT %q", seen.ServerPort)
		u, err := url.Parse(seen.RequestURL())
		require.NoError(t, err, "%q", seen.RequestURL())
		require.Equal(t, seen.Host, u.Host, "the request URL's host is HTTP_HOST")
		require.Equal(t, seen.ServerName, u.Hostname())
		require.NotEmpty(t, seen.ServerName)
		if u.Port() != "" {
			require.Equal(t, seen.ServerPort, u.Port())
		}
		if seen.Host != orig.Host || seen.ServerName != orig.ServerName {
			_, hostOK := fzForwarded(lines["X-Forwarded-Host"], opts.Host)
			_, portOK := fzForwarded(lines["X-Forwarded-Port"], opts.Port)
			require.True(t, hostOK || portOK, "HTTP_HOST %q set from no trusted value", seen.Host)
		}

		// SCRIPT_NAME: the root, or an absolute path that is not "//…",
		// without a trailing slash, dot segment, control byte or backslash.
		if s := seen.ScriptName; s != orig.ScriptName {
			v, ok := fzForwarded(lines["X-Forwarded-Prefix"], opts.Prefix)
			require.True(t, ok, "SCRIPT_NAME %q set from no trusted value", s)
			dec, err := url.PathUnescape(v)
			require.NoError(t, err)
			require.Equal(t, strings.TrimRight(dec, "/"), s)
			if s != "" {
				require.True(t, strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") && !strings.HasSuffix(s, "/"), "SCRIPT_NAME %q", s)
				require.NotRegexp(t, `[\x00-\x1f\x7f\\]|(^|/)\.\.?(/|$)`, s)
			}
		}
	})
}

// ---- SharedData's Range ----

// fzCanonicalRange is a Range both SharedData and net/http read the same
// way: "bytes=" (lower case), at most one range of plain digits without
// sign or white space, numbers of at most 18 digits (no overflow).
var fzCanonicalRange = regexp.MustCompile(`^bytes=([0-9]{0,18})-([0-9]{0,18})$`)

var fzContentRange = regexp.MustCompile(`^bytes ([0-9]+)-([0-9]+)/([0-9]+)$`)

// FuzzSharedDataRange serves a fuzzed file with a fuzzed Range header
// through SharedData, and through net/http's ServeContent.
//
// SharedData's own properties, for every Range: a 206's body is the slice
// of the file its Content-Range names, a proper non-empty slice of it; a
// 416 names the size ("bytes */size") and sends no part of the file; any
// other answer is the 200 with the whole file.
//
// Against ServeContent, on a canonical Range (see fzCanonicalRange) of a
// non-empty file the status, Content-Range and body must be the same, but
// for these documented differences, where SharedData follows RFC 9110
// (an invalid range is ignored, an empty suffix is unsatisfiable):
//   - an empty suffix ("bytes=-0", "bytes=-00") is 416 for SharedData, a
//     206 of no bytes for ServeContent;
//   - a range whose last byte is before its first ("bytes=5-2"), or "bytes=-"
//     with neither number, is ignored (200) by SharedData, a 416 for
//     ServeContent;
//   - on an empty file SharedData ignores any Range (200), ServeContent
//     answers some with a 206 or a 416.
//
// Outside
// canonical ranges they differ on purpose: SharedData answers several
// ranges, and a malformed or overflowing one, with the whole file (200)
// where ServeContent sends multipart/byteranges or a 416; it reads the
// unit in any case and trims Unicode white space; it refuses signs ("+5")
// that strconv, and so ServeContent, accepts.
func FuzzSharedDataRange(f *testing.F) {
	// Seeds from TestSharedDataRange, on its twenty-byte file.
	hello := []byte("0123456789abcdefghij")
	for _, r := range []string{
		"bytes=0-9", "bytes=-5", "bytes=10-", "bytes=3-3", "bytes=19-", "bytes=15-100", "bytes=-100",
		"bytes= 2 - 4 ", "Bytes=0-0", "bytes=20-", "bytes=25-30", "bytes=-0", "bytes=0-1,5-6",
		"bytes=5-2", "items=0-1", "bytes=a-b", "bytes=5", "bytes=--5", "bytes=0-99999999999999999999",
		"bytes=+5-6", "bytes=,0-1", "bytes=\u00a01-2",
	} {
		f.Add(hello, r)
	}
	f.Add([]byte{}, "bytes=-5")
	f.Add([]byte("x"), "bytes=0-0")

	dir := f.TempDir()
	name := filepath.Join(dir, "f.bin")
	never := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic("SharedData passed the request on")
	})
	app := middleware.SharedData(never, "/static", dir)
	f.Fuzz(func(t *testing.T, content []byte, rng string) {
		if strings.ContainsAny(rng, "\r\n\x00") {
			return // not a header value a server would pass on
		}
		require.NoError(t, os.WriteFile(name, content, 0o644))
		env := mwEnv("GET", "/static/f.bin")
		env.Header.Set("Range", rng)
		rec := mwRecord(t, app, env)
		size := int64(len(content))

		var first, last int64 = -1, -1
		switch rec.Code {
		case http.StatusPartialContent:
			m := fzContentRange.FindStringSubmatch(rec.Headers.Get("Content-Range"))
			require.NotNil(t, m, "Content-Range %q", rec.Headers.Get("Content-Range"))
			first, _ = strconv.ParseInt(m[1], 10, 64)
			last, _ = strconv.ParseInt(m[2], 10, 64)
			require.Equal(t, strconv.FormatInt(size, 10), m[3])
			require.True(t, 0 <= first && first <= last && last < size, "%s of %d bytes", m[0], size)
			require.Equal(t, string(content[first:last+1]), rec.Body)
			require.Equal(t, strconv.Itoa(len(rec.Body)), rec.Headers.Get("Content-Length"))
		case http.StatusRequestedRangeNotSatisfiable:
			require.Equal(t, fmt.Sprintf("bytes */%d", size), rec.Headers.Get("Content-Range"))
			require.NotZero(t, size, "a Range on an empty file is ignored")
		case http.StatusOK:
			require.Equal(t, string(content), rec.Body)
			require.Empty(t, rec.Headers.Get("Content-Range"))
		default:
			t.Fatalf("status %s for Range %q", rec.Status, rng)
		}

		m := fzCanonicalRange.FindStringSubmatch(rng)
		if m == nil || size == 0 || m[1] == "" && m[2] == "" {
			return
		}
		if m[1] != "" && m[2] != "" {
			a, _ := strconv.ParseInt(m[1], 10, 64)
			b, _ := strconv.ParseInt(m[2], 10, 64)
			if b < a {
				require.Equal(t, http.StatusOK, rec.Code, "documented difference")
				return
			}
		}
		req := httptest.NewRequest("GET", "/f.bin", nil)
		req.Header.Set("Range", rng)
		w := httptest.NewRecorder()
		http.ServeContent(w, req, "f.bin", time.Time{}, bytes.NewReader(content))
		if m[1] == "" && strings.Trim(m[2], "0") == "" { // "bytes=-0", "bytes=-00" …
			require.Equal(t, http.StatusRequestedRangeNotSatisfiable, rec.Code, "documented difference")
			return
		}
		require.Equal(t, w.Code, rec.Code, "Range %q on %d bytes", rng, size)
		switch w.Code {
		case http.StatusPartialContent:
			require.Equal(t, w.Header().Get("Content-Range"), rec.Headers.Get("Content-Range"))
			require.Equal(t, w.Body.String(), rec.Body)
		case http.StatusOK:
			require.Equal(t, w.Body.String(), rec.Body)
		}
	})
}
