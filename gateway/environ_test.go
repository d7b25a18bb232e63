package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
)

// hEnviron is a filled-in environ, as a server would build it.
func hEnviron() *gateway.Environ {
	return &gateway.Environ{
		Method:         "POST",
		ScriptName:     "/app",
		PathInfo:       "/a b/c",
		QueryString:    "x=1&y=2",
		ContentType:    "text/plain",
		ContentLength:  "5",
		ServerName:     "example.com",
		ServerPort:     "8080",
		ServerProtocol: "HTTP/1.1",
		RemoteAddr:     "10.0.0.1",
		RemotePort:     "5555",
		RequestURI:     "/app/a%20b/c?x=1&y=2",
		Host:           "example.com:8080",
		URLScheme:      "http",
		Header: http.Header{
			"User-Agent":     {"test"},
			"Accept":         {"text/html", "text/plain"},
			"Cookie":         {"a=1", "b=2"},
			"Content-Type":   {"text/plain"},
			"Content-Length": {"5"},
		},
		Input:       strings.NewReader("hello"),
		Errors:      io.Discard,
		Multithread: true,
	}
}

func TestEnvironGetCGIKeys(t *testing.T) {
	env := hEnviron()
	for key, want := range map[string]string{
		"REQUEST_METHOD":     "POST",
		"SCRIPT_NAME":        "/app",
		"PATH_INFO":          "/a b/c",
		"QUERY_STRING":       "x=1&y=2",
		"CONTENT_TYPE":       "text/plain",
		"CONTENT_LENGTH":     "5",
		"SERVER_NAME":        "example.com",
		"SERVER_PORT":        "8080",
		"SERVER_PROTOCOL":    "HTTP/1.1",
		"REMOTE_ADDR":        "10.0.0.1",
		"REMOTE_PORT":        "5555",
		"REQUEST_URI":        "/app/a%20b/c?x=1&y=2",
		"HTTP_HOST":          "example.com:8080",
		"HTTP_USER_AGENT":    "test",
		"HTTP_ACCEPT":        "text/html, text/plain",
		"HTTP_COOKIE":        "a=1; b=2",
		"gateway.url_scheme": "http",
	} {
		assert.Equal(t, want, env.Get(key), key)
		assert.Equal(t, want, env.GetString(key), key)
	}
	assert.Equal(t, [2]int{1, 0}, env.Get(gateway.KeyVersion))
	assert.Equal(t, gateway.Version(), env.Get(gateway.KeyVersion))
	assert.Equal(t, true, env.Get(gateway.KeyMultithread))
	assert.Equal(t, false, env.Get(gateway.KeyMultiprocess))
	assert.Equal(t, false, env.Get(gateway.KeyRunOnce))
	assert.Same(t, env.Input, env.Get(gateway.KeyInput))
	assert.Equal(t, io.Discard, env.Get(gateway.KeyErrors))
	assert.Equal(t, context.Background(), env.Get(gateway.KeyContext), "never nil")

	// Absent keys.
	for _, key := range []string{"HTTP_X_MISSING", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "vial.request", "HTTP_"} {
		v, ok := env.Lookup(key)
		assert.False(t, ok, key)
		assert.Nil(t, v, key)
		assert.Equal(t, "", env.GetString(key))
	}
	env.Host = ""
	_, ok := env.Lookup("HTTP_HOST")
	assert.False(t, ok, "HTTP_HOST is absent when there is no Host")
	assert.Equal(t, "", env.GetString(gateway.KeyVersion), "not a string")
}

func TestEnvironSet(t *testing.T) {
	env := hEnviron()
	env.Set("PATH_INFO", "/other")
	assert.Equal(t, "/other", env.PathInfo)
	env.Set("HTTP_HOST", "other.example")
	assert.Equal(t, "other.example", env.Host)
	env.Set(gateway.KeyURLScheme, "https")
	assert.Equal(t, "https", env.URLScheme)

	// HTTP_* keys are the headers.
	env.Set("HTTP_X_FORWARDED_FOR", "1.2.3.4")
	assert.Equal(t, "1.2.3.4", env.Header.Get("X-Forwarded-For"))
	assert.Equal(t, "1.2.3.4", env.Get("HTTP_X_FORWARDED_FOR"))
	env.Set("HTTP_ACCEPT", "*/*")
	assert.Equal(t, []string{"*/*"}, env.Header.Values("Accept"), "Set replaces")
	env.Set("HTTP_ACCEPT", nil)
	assert.Empty(t, env.Header.Values("Accept"), "nil deletes")
	empty := &gateway.Environ{}
	empty.Set("HTTP_X_NEW", "v")
	assert.Equal(t, "v", empty.Header.Get("X-New"), "a nil Header is made")

	// Typed keys.
	r := strings.NewReader("other")
	env.Set(gateway.KeyInput, r)
	assert.Same(t, r, env.Input)
	var buf bytes.Buffer
	env.Set(gateway.KeyErrors, &buf)
	assert.Same(t, &buf, env.Errors)
	env.Set(gateway.KeyMultithread, false)
	env.Set(gateway.KeyMultiprocess, true)
	env.Set(gateway.KeyRunOnce, true)
	assert.False(t, env.Multithread)
	assert.True(t, env.Multiprocess)
	assert.True(t, env.RunOnce)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env.Set(gateway.KeyContext, ctx)
	assert.Equal(t, ctx, env.Context())

	// Extensions.
	env.Set("vial.request", 42)
	assert.Equal(t, 42, env.Get("vial.request"))
	env.Set("vial.request", nil)
	_, ok := env.Lookup("vial.request")
	assert.False(t, ok)

	// Programming errors.
	assert.Panics(t, func() { env.Set("PATH_INFO", 1) }, "a CGI key takes a string")
	assert.Panics(t, func() { env.Set(gateway.KeyInput, "not a reader") })
	assert.Panics(t, func() { env.Set(gateway.KeyMultithread, "yes") })
	assert.Panics(t, func() { env.Set(gateway.KeyVersion, [2]int{2, 0}) }, "read-only")
	//lint:ignore SA1012 a nil context is what the test passes
	assert.Panics(t, func() { env.SetContext(nil) })
	assert.False(t, (&gateway.Environ{}).HasContext(), "no server set a context")
	assert.True(t, env.HasContext())
}

func TestEnvironKeys(t *testing.T) {
	env := hEnviron()
	env.Set("vial.request", "r")
	keys := env.Keys()
	assert.IsIncreasing(t, keys)
	for _, k := range []string{
		"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
		"SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT", "REQUEST_URI",
		"HTTP_HOST", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_COOKIE",
		"gateway.version", "gateway.url_scheme", "gateway.input", "gateway.errors",
		"gateway.multithread", "gateway.multiprocess", "gateway.run_once", "gateway.context",
		"vial.request",
	} {
		assert.Contains(t, keys, k)
	}
	assert.NotContains(t, keys, "HTTP_CONTENT_TYPE")
	assert.NotContains(t, keys, "HTTP_CONTENT_LENGTH")
	for _, k := range keys {
		_, ok := env.Lookup(k)
		assert.True(t, ok, "every key listed is present: %s", k)
	}

	// Without Host, Input or Errors, those keys are absent.
	bare := &gateway.Environ{}
	keys = bare.Keys()
	assert.NotContains(t, keys, "HTTP_HOST")
	assert.NotContains(t, keys, "gateway.input")
	assert.NotContains(t, keys, "gateway.errors")
	assert.Contains(t, keys, "gateway.context")
}

func TestEnvironClone(t *testing.T) {
	env := hEnviron()
	env.Set("vial.request", "original")
	c := env.Clone()
	assert.Equal(t, env.Keys(), c.Keys())
	for _, k := range env.Keys() {
		assert.Equal(t, env.Get(k), c.Get(k), k)
	}

	c.Set("PATH_INFO", "/changed")
	c.Set("HTTP_USER_AGENT", "changed")
	c.Header.Add("Accept", "image/png")
	c.Set("vial.request", "changed")
	c.Set("vial.new", 1)
	assert.Equal(t, "/a b/c", env.PathInfo)
	assert.Equal(t, "test", env.Get("HTTP_USER_AGENT"))
	assert.Equal(t, "text/html, text/plain", env.Get("HTTP_ACCEPT"))
	assert.Equal(t, "original", env.Get("vial.request"))
	assert.Nil(t, env.Get("vial.new"))

	assert.Same(t, env.Input, c.Input, "the body is shared")
	assert.Equal(t, env.Context(), c.Context())
}

func TestEnvironPathAndURL(t *testing.T) {
	env := hEnviron()
	assert.Equal(t, "/app/a b/c", env.Path())
	assert.Equal(t, "http://example.com:8080", env.HostURL())
	assert.Equal(t, "http://example.com:8080/app/a%20b/c?x=1&y=2", env.RequestURL())

	env.Host = ""
	assert.Equal(t, "http://example.com:8080", env.HostURL(), "SERVER_NAME and SERVER_PORT")
	env.ServerPort = "80"
	assert.Equal(t, "http://example.com", env.HostURL(), "the default port is left out")
	env.URLScheme, env.ServerPort = "https", "443"
	assert.Equal(t, "https://example.com", env.HostURL())
	env.ServerName, env.ServerPort = "::1", "8443"
	assert.Equal(t, "https://[::1]:8443", env.HostURL())

	env = &gateway.Environ{PathInfo: "/x"}
	assert.Equal(t, "/x", env.Path())
}

func TestEnvironHTTPRequest(t *testing.T) {
	env := hEnviron()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env.SetContext(ctx)

	r := env.HTTPRequest()
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, "/a b/c", r.URL.Path, "PATH_INFO: the path below the mount point, as behind http.StripPrefix")
	assert.Empty(t, r.URL.RawPath)
	assert.Equal(t, "/app", gateway.ScriptName(r), "the mount point is in the context")
	assert.Equal(t, "x=1&y=2", r.URL.RawQuery)
	assert.Equal(t, "example.com:8080", r.Host)
	assert.Equal(t, "/app/a%20b/c?x=1&y=2", r.RequestURI)
	assert.Equal(t, "10.0.0.1:5555", r.RemoteAddr)
	assert.Equal(t, "HTTP/1.1", r.Proto)
	assert.Equal(t, 1, r.ProtoMajor)
	assert.Equal(t, 1, r.ProtoMinor)
	assert.Equal(t, "test", r.Header.Get("User-Agent"))
	assert.Equal(t, "text/plain", r.Header.Get("Content-Type"))
	assert.EqualValues(t, 5, r.ContentLength)
	assert.Nil(t, r.TLS)
	assert.Equal(t, ctx.Done(), r.Context().Done(), "the context is gateway.context's")
	body, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(body))
	require.NoError(t, r.Body.Close())

	// https, a changed CONTENT_TYPE, no body, no port, an odd protocol.
	env = hEnviron()
	env.URLScheme = "https"
	env.ContentType = "application/json"
	env.ContentLength = ""
	env.Input = nil
	env.RemotePort = ""
	env.ServerProtocol = "SPDY/3"
	header := env.Header
	r = env.HTTPRequest()
	assert.NotNil(t, r.TLS, "code testing r.TLS sees https")
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Empty(t, r.Header.Get("Content-Length"))
	assert.Equal(t, "text/plain", header.Get("Content-Type"), "the environ's headers are not changed")
	assert.Equal(t, http.NoBody, r.Body)
	assert.EqualValues(t, 0, r.ContentLength)
	assert.Equal(t, "10.0.0.1", r.RemoteAddr)
	assert.Equal(t, "HTTP/1.1", r.Proto)
	assert.Nil(t, r.Context().Done(), "no gateway.context: context.Background's")

	// No SCRIPT_NAME: the whole path, and the context as it was.
	env = hEnviron()
	env.ScriptName, env.PathInfo = "", "/app/a b/c"
	env.SetContext(ctx)
	r = env.HTTPRequest()
	assert.Equal(t, "/app/a b/c", r.URL.Path)
	assert.Empty(t, gateway.ScriptName(r))
	assert.Equal(t, ctx, r.Context(), "nothing added to the context")

	// No Host: made from SERVER_NAME and SERVER_PORT.
	env = &gateway.Environ{Method: "GET", PathInfo: "/", ServerName: "example.org", ServerPort: "81", URLScheme: "http"}
	r = env.HTTPRequest()
	assert.Equal(t, "example.org:81", r.Host)
	assert.NotNil(t, r.Header)
	assert.EqualValues(t, 0, r.ContentLength)
}

func TestHeaderKey(t *testing.T) {
	assert.Equal(t, "HTTP_USER_AGENT", gateway.HeaderKey("User-Agent"))
	assert.Equal(t, "HTTP_X_FORWARDED_FOR", gateway.HeaderKey("x-forwarded-for"))
}
