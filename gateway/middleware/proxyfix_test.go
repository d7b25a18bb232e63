package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/middleware"
)

// mwProxyFixRun runs a request with the given X-Forwarded-* header lines
// through ProxyFix and returns the environ the application saw.
func mwProxyFixRun(t *testing.T, opts middleware.ProxyFixOptions, headers map[string][]string) *gateway.Environ {
	t.Helper()
	var seen *gateway.Environ
	app := middleware.ProxyFix(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		seen = env
		start("204 No Content", nil)
		return gateway.NoBody
	}), opts)
	env := mwEnv("GET", "/path")
	env.QueryString = "q=1"
	for name, lines := range headers {
		for _, line := range lines {
			env.Header.Add(name, line)
		}
	}
	rec := mwRecord(t, app, env)
	require.Equal(t, 204, rec.Code)
	require.Same(t, env, seen, "the environ is fixed in place")
	return seen
}

func TestProxyFixZeroTrustsNothing(t *testing.T) {
	env := mwProxyFixRun(t, middleware.ProxyFixOptions{}, map[string][]string{
		"X-Forwarded-For":    {"203.0.113.7"},
		"X-Forwarded-Proto":  {"https"},
		"X-Forwarded-Host":   {"example.org"},
		"X-Forwarded-Port":   {"8443"},
		"X-Forwarded-Prefix": {"/app"},
	})
	assert.Equal(t, "10.0.0.1", env.RemoteAddr)
	assert.Equal(t, "54321", env.RemotePort)
	assert.Equal(t, "http", env.URLScheme)
	assert.Equal(t, "example.com", env.Host)
	assert.Equal(t, "example.com", env.ServerName)
	assert.Equal(t, "80", env.ServerPort)
	assert.Equal(t, "", env.ScriptName)
	assert.Equal(t, "http://example.com/path?q=1", env.RequestURL())
	assert.Equal(t, "203.0.113.7", env.Header.Get("X-Forwarded-For"), "the headers stay")
}

func TestProxyFixFor(t *testing.T) {
	tests := []struct {
		name     string
		trusted  int
		lines    []string
		wantAddr string
		wantPort string
	}{
		{"one proxy", 1, []string{"203.0.113.7"}, "203.0.113.7", ""},
		{"one proxy, spoofed left", 1, []string{"6.6.6.6, 203.0.113.7"}, "203.0.113.7", ""},
		{"two proxies", 2, []string{"203.0.113.7, 10.1.1.1"}, "203.0.113.7", ""},
		{"two proxies, spoofed left", 2, []string{"6.6.6.6, 7.7.7.7, 203.0.113.7, 10.1.1.1"}, "203.0.113.7", ""},
		{"spaces", 2, []string{" 6.6.6.6 ,203.0.113.7 ,  10.1.1.1 "}, "203.0.113.7", ""},
		{"lines joined", 2, []string{"6.6.6.6, 203.0.113.7", "10.1.1.1"}, "203.0.113.7", ""},
		{"lines joined, rightmost line", 1, []string{"6.6.6.6", "203.0.113.7"}, "203.0.113.7", ""},
		{"three lines", 3, []string{"6.6.6.6", "203.0.113.7", "10.1.1.1, 10.2.2.2"}, "203.0.113.7", ""},
		{"fewer values than trusted", 2, []string{"203.0.113.7"}, "10.0.0.1", "54321"},
		{"fewer values over lines", 3, []string{"6.6.6.6", "203.0.113.7"}, "10.0.0.1", "54321"},
		{"no header", 1, nil, "10.0.0.1", "54321"},
		{"untrusted", 0, []string{"203.0.113.7"}, "10.0.0.1", "54321"},
		{"IPv6", 1, []string{"2001:db8::7"}, "2001:db8::7", ""},
		{"IPv6 in brackets", 1, []string{"[2001:db8::7]"}, "2001:db8::7", ""},
		{"IPv4 with port", 1, []string{"203.0.113.7:4711"}, "203.0.113.7", "4711"},
		{"IPv6 with port", 1, []string{"[2001:db8::7]:4711"}, "2001:db8::7", "4711"},
		{"garbage", 1, []string{"evil"}, "10.0.0.1", "54321"},
		{"garbage, valid left", 1, []string{"203.0.113.7, unknown"}, "10.0.0.1", "54321"},
		{"empty value", 1, []string{"203.0.113.7, "}, "10.0.0.1", "54321"},
		{"empty line", 1, []string{""}, "10.0.0.1", "54321"},
		{"bad port", 1, []string{"203.0.113.7:99999"}, "10.0.0.1", "54321"},
		{"host name", 1, []string{"client.example"}, "10.0.0.1", "54321"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := mwProxyFixRun(t, middleware.ProxyFixOptions{For: tt.trusted}, map[string][]string{"X-Forwarded-For": tt.lines})
			assert.Equal(t, tt.wantAddr, env.RemoteAddr)
			assert.Equal(t, tt.wantPort, env.RemotePort)
		})
	}
}

func TestProxyFixProto(t *testing.T) {
	tests := []struct {
		name    string
		trusted int
		lines   []string
		want    string
	}{
		{"https", 1, []string{"https"}, "https"},
		{"upper case", 1, []string{"HTTPS"}, "https"},
		{"http", 1, []string{"http"}, "http"},
		{"rightmost", 1, []string{"https, http"}, "http"},
		{"second from right", 2, []string{"https, http"}, "https"},
		{"spoofed left", 2, []string{"http, https, http"}, "https"},
		{"fewer values", 2, []string{"https"}, "http"},
		{"untrusted", 0, []string{"https"}, "http"},
		{"other scheme", 1, []string{"ftp"}, "http"},
		{"javascript", 1, []string{"javascript"}, "http"},
		{"empty", 1, []string{""}, "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := mwProxyFixRun(t, middleware.ProxyFixOptions{Proto: tt.trusted}, map[string][]string{"X-Forwarded-Proto": tt.lines})
			assert.Equal(t, tt.want, env.URLScheme)
		})
	}
}

func TestProxyFixHost(t *testing.T) {
	tests := []struct {
		name                   string
		trusted                int
		proto                  string // X-Forwarded-Proto, trusted once, if set
		lines                  []string
		host, serverName, port string
		url                    string
	}{
		{"name", 1, "", []string{"example.org"}, "example.org", "example.org", "80", "http://example.org/path?q=1"},
		{"name with port", 1, "", []string{"example.org:8080"}, "example.org:8080", "example.org", "8080", "http://example.org:8080/path?q=1"},
		{"https default port", 1, "https", []string{"example.org"}, "example.org", "example.org", "443", "https://example.org/path?q=1"},
		{"IPv4", 1, "", []string{"192.0.2.5:81"}, "192.0.2.5:81", "192.0.2.5", "81", "http://192.0.2.5:81/path?q=1"},
		{"IPv6", 1, "", []string{"[2001:db8::5]:8443"}, "[2001:db8::5]:8443", "2001:db8::5", "8443", "http://[2001:db8::5]:8443/path?q=1"},
		{"IPv6 without port", 1, "", []string{"[2001:db8::5]"}, "[2001:db8::5]", "2001:db8::5", "80", "http://[2001:db8::5]/path?q=1"},
		{"rightmost", 1, "", []string{"evil.example, example.org"}, "example.org", "example.org", "80", "http://example.org/path?q=1"},
		{"two proxies", 2, "", []string{"evil.example, example.org, internal.lan"}, "example.org", "example.org", "80", "http://example.org/path?q=1"},
		{"fewer values", 2, "", []string{"example.org"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"untrusted", 0, "", []string{"example.org"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"path in host", 1, "", []string{"evil.example/x"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"userinfo", 1, "", []string{"user@evil.example"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"space", 1, "", []string{"evil example"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"bad port", 1, "", []string{"example.org:http"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"port out of range", 1, "", []string{"example.org:65536"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"empty port", 1, "", []string{"example.org:"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"unclosed bracket", 1, "", []string{"[2001:db8::5"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"bracketed name", 1, "", []string{"[example.org]"}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
		{"empty", 1, "", []string{""}, "example.com", "example.com", "80", "http://example.com/path?q=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := middleware.ProxyFixOptions{Host: tt.trusted}
			headers := map[string][]string{"X-Forwarded-Host": tt.lines}
			if tt.proto != "" {
				opts.Proto = 1
				headers["X-Forwarded-Proto"] = []string{tt.proto}
			}
			env := mwProxyFixRun(t, opts, headers)
			assert.Equal(t, tt.host, env.Host)
			assert.Equal(t, tt.serverName, env.ServerName)
			assert.Equal(t, tt.port, env.ServerPort)
			assert.Equal(t, tt.url, env.RequestURL())
		})
	}
}

func TestProxyFixPort(t *testing.T) {
	tests := []struct {
		name       string
		opts       middleware.ProxyFixOptions
		headers    map[string][]string
		host, port string
		url        string
	}{
		{"port", middleware.ProxyFixOptions{Port: 1},
			map[string][]string{"X-Forwarded-Port": {"8080"}},
			"example.com:8080", "8080", "http://example.com:8080/path?q=1"},
		{"default port dropped from host", middleware.ProxyFixOptions{Port: 1, Proto: 1},
			map[string][]string{"X-Forwarded-Port": {"443"}, "X-Forwarded-Proto": {"https"}},
			"example.com", "443", "https://example.com/path?q=1"},
		{"replaces the port of the forwarded host", middleware.ProxyFixOptions{Port: 1, Host: 1},
			map[string][]string{"X-Forwarded-Port": {"9000"}, "X-Forwarded-Host": {"example.org:8080"}},
			"example.org:9000", "9000", "http://example.org:9000/path?q=1"},
		{"IPv6 host", middleware.ProxyFixOptions{Port: 1, Host: 1},
			map[string][]string{"X-Forwarded-Port": {"9000"}, "X-Forwarded-Host": {"[2001:db8::5]"}},
			"[2001:db8::5]:9000", "9000", "http://[2001:db8::5]:9000/path?q=1"},
		{"two proxies", middleware.ProxyFixOptions{Port: 2},
			map[string][]string{"X-Forwarded-Port": {"1, 8080, 80"}},
			"example.com:8080", "8080", "http://example.com:8080/path?q=1"},
		{"fewer values", middleware.ProxyFixOptions{Port: 2},
			map[string][]string{"X-Forwarded-Port": {"8080"}},
			"example.com", "80", "http://example.com/path?q=1"},
		{"untrusted", middleware.ProxyFixOptions{},
			map[string][]string{"X-Forwarded-Port": {"8080"}},
			"example.com", "80", "http://example.com/path?q=1"},
		{"zero", middleware.ProxyFixOptions{Port: 1},
			map[string][]string{"X-Forwarded-Port": {"0"}},
			"example.com", "80", "http://example.com/path?q=1"},
		{"too large", middleware.ProxyFixOptions{Port: 1},
			map[string][]string{"X-Forwarded-Port": {"65536"}},
			"example.com", "80", "http://example.com/path?q=1"},
		{"not a number", middleware.ProxyFixOptions{Port: 1},
			map[string][]string{"X-Forwarded-Port": {"https"}},
			"example.com", "80", "http://example.com/path?q=1"},
		{"signed", middleware.ProxyFixOptions{Port: 1},
			map[string][]string{"X-Forwarded-Port": {"+8080"}},
			"example.com", "80", "http://example.com/path?q=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := mwProxyFixRun(t, tt.opts, tt.headers)
			assert.Equal(t, tt.host, env.Host)
			assert.Equal(t, tt.port, env.ServerPort)
			assert.Equal(t, tt.url, env.RequestURL())
		})
	}
}

func TestProxyFixPortWithoutHost(t *testing.T) {
	// An HTTP/1.0 request may come without Host: only SERVER_PORT changes,
	// and the URL is rebuilt from SERVER_NAME and SERVER_PORT.
	app := middleware.ProxyFix(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", nil)
		return gateway.Strings(env.Host, "|", env.ServerPort, "|", env.HostURL())
	}), middleware.ProxyFixOptions{Port: 1})
	env := mwEnv("GET", "/")
	env.Host = ""
	env.Header.Set("X-Forwarded-Port", "8080")
	assert.Equal(t, "|8080|http://example.com:8080", mwRecord(t, app, env).Body)
}

func TestProxyFixPrefix(t *testing.T) {
	tests := []struct {
		name    string
		trusted int
		lines   []string
		want    string
	}{
		{"prefix", 1, []string{"/app"}, "/app"},
		{"nested", 1, []string{"/a/b"}, "/a/b"},
		{"trailing slash", 1, []string{"/app/"}, "/app"},
		{"root", 1, []string{"/"}, ""},
		{"decoded", 1, []string{"/my%20app"}, "/my app"},
		{"rightmost", 1, []string{"/evil, /app"}, "/app"},
		{"two proxies", 2, []string{"/evil, /app, /inner"}, "/app"},
		{"fewer values", 2, []string{"/app"}, "/mounted"},
		{"untrusted", 0, []string{"/app"}, "/mounted"},
		{"relative", 1, []string{"app"}, "/mounted"},
		{"other host", 1, []string{"//evil.example"}, "/mounted"},
		{"other host, encoded", 1, []string{"/%2Fevil.example"}, "/mounted"},
		{"URL", 1, []string{"https://evil.example/"}, "/mounted"},
		{"dot segment", 1, []string{"/a/../b"}, "/mounted"},
		{"encoded dot segment", 1, []string{"/a/%2e%2e"}, "/mounted"},
		{"bad escape", 1, []string{"/a%zz"}, "/mounted"},
		{"control character", 1, []string{"/a%0d%0aSet-Cookie:x"}, "/mounted"},
		{"NUL", 1, []string{"/a%00"}, "/mounted"},
		{"backslash", 1, []string{"/a\\b"}, "/mounted"},
		{"empty", 1, []string{""}, "/mounted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			app := middleware.ProxyFix(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				seen = env.ScriptName
				start("200 OK", nil)
				return gateway.NoBody
			}), middleware.ProxyFixOptions{Prefix: tt.trusted})
			env := mwEnv("GET", "/path")
			env.ScriptName = "/mounted"
			for _, l := range tt.lines {
				env.Header.Add("X-Forwarded-Prefix", l)
			}
			mwRecord(t, app, env)
			assert.Equal(t, tt.want, seen)
		})
	}
}

func TestProxyFixKeepsOriginals(t *testing.T) {
	var orig middleware.ProxyFixOrig
	app := middleware.ProxyFix(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		v, ok := env.Lookup(middleware.KeyProxyFixOrig)
		require.True(t, ok)
		orig = v.(middleware.ProxyFixOrig)
		start("200 OK", nil)
		return gateway.NoBody
	}), middleware.ProxyFixOptions{For: 1, Proto: 1, Host: 1, Port: 1, Prefix: 1})
	env := mwEnv("GET", "/path")
	env.ScriptName = "/mounted"
	env.Header.Set("X-Forwarded-For", "203.0.113.7")
	env.Header.Set("X-Forwarded-Proto", "https")
	env.Header.Set("X-Forwarded-Host", "example.org")
	env.Header.Set("X-Forwarded-Port", "8443")
	env.Header.Set("X-Forwarded-Prefix", "/app")
	mwRecord(t, app, env)

	assert.Equal(t, middleware.ProxyFixOrig{
		RemoteAddr: "10.0.0.1",
		RemotePort: "54321",
		URLScheme:  "http",
		Host:       "example.com",
		ServerName: "example.com",
		ServerPort: "80",
		ScriptName: "/mounted",
	}, orig)
	assert.Equal(t, "https://example.org:8443/app/path", env.RequestURL())
	assert.Equal(t, "https://example.org:8443", env.HostURL())
	assert.Equal(t, "example.org", env.ServerName)
	assert.Equal(t, "8443", env.ServerPort)
	assert.Equal(t, "203.0.113.7", env.RemoteAddr)
}

func TestProxyFixOriginalsWithoutHeaders(t *testing.T) {
	// The originals are stored on every request, changed or not.
	env := mwProxyFixRun(t, middleware.ProxyFixOptions{For: 1}, nil)
	orig, ok := env.Get(middleware.KeyProxyFixOrig).(middleware.ProxyFixOrig)
	require.True(t, ok)
	assert.Equal(t, "10.0.0.1", orig.RemoteAddr)
	assert.Equal(t, "10.0.0.1", env.RemoteAddr)
}

func TestProxyFixBadOptionsPanic(t *testing.T) {
	app := &mwProbe{name: "app"}
	v := mwPanic(func() { middleware.ProxyFix(app, middleware.ProxyFixOptions{Host: -1}) })
	assert.Contains(t, fmt.Sprint(v), "ProxyFixOptions.Host is negative")
	v = mwPanic(func() { middleware.ProxyFix(nil, middleware.ProxyFixOptions{}) })
	assert.Contains(t, fmt.Sprint(v), "middleware: ProxyFix")
}

// Through a real server, behind two simulated proxies: the client's forged
// values on the left are ignored.
func TestProxyFixHTTP(t *testing.T) {
	app := middleware.ProxyFix(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		orig := env.Get(middleware.KeyProxyFixOrig).(middleware.ProxyFixOrig)
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Strings(env.RemoteAddr, "|", env.RequestURL(), "|", orig.RemoteAddr, "|", orig.URLScheme)
	}), middleware.ProxyFixOptions{For: 2, Proto: 2, Host: 2, Prefix: 1})
	srv := httptest.NewServer(gateway.Handler(app))
	defer srv.Close()

	req, err := http.NewRequest("GET", srv.URL+"/items/a%20b?x=1", nil)
	require.NoError(t, err)
	// The client forged the leftmost values; proxy 1 appended the client's
	// real address, proxy 2 its own.
	req.Header.Add("X-Forwarded-For", "6.6.6.6")
	req.Header.Add("X-Forwarded-For", "203.0.113.7, 10.1.1.1")
	req.Header.Set("X-Forwarded-Proto", "http, https, http")
	req.Header.Set("X-Forwarded-Host", "evil.example, shop.example, internal.lan:8080")
	req.Header.Set("X-Forwarded-Prefix", "/evil, /shop")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	assert.Equal(t, "203.0.113.7|https://shop.example/shop/items/a%20b?x=1|127.0.0.1|http", string(body))
}
