//go:build !js && !plan9

// CGI needs a process with SIGTERM and SIGPIPE: neither js/wasm nor Plan 9.

package cgi_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/cgi"
	"github.com/vial-go/vial/internal/testutil"
)

// ---- unit tests through the CGI struct ----

// cgiBaseEnv is the environment of a plain GET, as a CGI server sets it,
// with extra variables that come first and so override it.
func cgiBaseEnv(extra ...string) []string {
	return slices.Concat(extra, []string{
		"GATEWAY_INTERFACE=CGI/1.1",
		"REQUEST_METHOD=GET",
		"SCRIPT_NAME=/app.cgi",
		"PATH_INFO=/x",
		"QUERY_STRING=",
		"SERVER_NAME=example.org",
		"SERVER_PORT=80",
		"SERVER_PROTOCOL=HTTP/1.1",
		"REMOTE_ADDR=192.0.2.1",
		"REMOTE_PORT=50000",
		"REQUEST_URI=/app.cgi/x",
	})
}

// cgiRecorder is a Stdout that records every Write call it receives, so a
// test can see what went out (was flushed) and when.
type cgiRecorder struct {
	mu     sync.Mutex
	writes []string
	fail   error // returned by every Write when set
}

func (r *cgiRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return 0, r.fail
	}
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *cgiRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.writes, "")
}

type cgiResult struct {
	stdout string
	stderr string
	err    error
}

// cgiServe runs app as a CGI program with the given variables and stdin.
func cgiServe(t *testing.T, app gateway.Application, env []string, stdin string) cgiResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := (&cgi.Server{
		App:    app,
		Env:    env,
		Stdin:  strings.NewReader(stdin),
		Stdout: &stdout,
		Stderr: &stderr,
	}).Serve()
	return cgiResult{stdout.String(), stderr.String(), err}
}

// cgiBody is a Body that counts its Close calls and can panic.
type cgiBody struct {
	chunks     func(yield func([]byte) bool)
	closes     int
	panicClose bool
}

func (b *cgiBody) Chunks(yield func([]byte) bool) {
	if b.chunks != nil {
		b.chunks(yield)
	}
}

func (b *cgiBody) Close() error {
	b.closes++
	if b.panicClose {
		panic("boom in Close")
	}
	return nil
}

const cgi500 = "Status: 500 Internal Server Error\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Length: 22\r\n" +
	"X-Content-Type-Options: nosniff\r\n\r\n" +
	"Internal Server Error\n"

func TestCGIEnvironFromVariables(t *testing.T) {
	var got *gateway.Environ
	var errorsText bytes.Buffer
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		got = env.Clone()
		fmt.Fprint(env.Errors, "app says hi")
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.NoBody
	})
	err := (&cgi.Server{
		App: app,
		Env: []string{
			"GATEWAY_INTERFACE=CGI/1.1",
			"REQUEST_METHOD=POST",
			"SCRIPT_NAME=/cgi-bin/app.cgi",
			"PATH_INFO=/a b/c",
			"QUERY_STRING=x=1&y=%20",
			"CONTENT_TYPE=application/x-www-form-urlencoded",
			"CONTENT_LENGTH=3",
			"SERVER_NAME=example.org",
			"SERVER_PORT=8443",
			"SERVER_PROTOCOL=HTTP/1.1",
			"SERVER_SOFTWARE=lighttpd/1.4.69",
			"REMOTE_ADDR=192.0.2.7",
			"REMOTE_PORT=54321",
			"REQUEST_URI=/cgi-bin/app.cgi/a%20b/c?x=1&y=%20",
			"HTTP_HOST=example.org:8443",
			"HTTP_USER_AGENT=test-agent/1.0",
			"HTTP_X_FORWARDED_FOR=198.51.100.1, 198.51.100.2",
			"HTTP_COOKIE=a=1; b=2",
			"HTTPS=on",
			"DOCUMENT_ROOT=/srv/www",
			"PATH=/usr/bin:/bin",
		},
		Stdin:  strings.NewReader("a=b"),
		Stdout: io.Discard,
		Stderr: &errorsText,
	}).Serve()
	require.NoError(t, err)
	require.NotNil(t, got)

	assert.Equal(t, "POST", got.Method)
	assert.Equal(t, "/cgi-bin/app.cgi", got.ScriptName)
	assert.Equal(t, "/a b/c", got.PathInfo)
	assert.Equal(t, "x=1&y=%20", got.QueryString)
	assert.Equal(t, "application/x-www-form-urlencoded", got.ContentType)
	assert.Equal(t, "3", got.ContentLength)
	assert.Equal(t, "example.org", got.ServerName)
	assert.Equal(t, "8443", got.ServerPort)
	assert.Equal(t, "HTTP/1.1", got.ServerProtocol)
	assert.Equal(t, "192.0.2.7", got.RemoteAddr)
	assert.Equal(t, "54321", got.RemotePort)
	assert.Equal(t, "/cgi-bin/app.cgi/a%20b/c?x=1&y=%20", got.RequestURI)
	assert.Equal(t, "example.org:8443", got.Host)
	assert.Equal(t, "https", got.URLScheme)

	// HTTP_* variables are the request headers.
	assert.Equal(t, "test-agent/1.0", got.Header.Get("User-Agent"))
	assert.Equal(t, "test-agent/1.0", got.Get("HTTP_USER_AGENT"))
	assert.Equal(t, "198.51.100.1, 198.51.100.2", got.Header.Get("X-Forwarded-For"))
	assert.Equal(t, "a=1; b=2", got.Get("HTTP_COOKIE"))
	assert.Empty(t, got.Header.Values("Host"), "HTTP_HOST is the Host field, not a header")

	// The rest are extensions.
	assert.Equal(t, "CGI/1.1", got.Get("GATEWAY_INTERFACE"))
	assert.Equal(t, "/srv/www", got.Get("DOCUMENT_ROOT"))
	assert.Equal(t, "lighttpd/1.4.69", got.Get("SERVER_SOFTWARE"))
	assert.Equal(t, "on", got.Get("HTTPS"))
	assert.Equal(t, "/usr/bin:/bin", got.Get("PATH"))

	assert.False(t, got.Multithread)
	assert.True(t, got.Multiprocess)
	assert.True(t, got.RunOnce)
	assert.Equal(t, gateway.Version(), got.Get(gateway.KeyVersion))
	assert.NotNil(t, got.Context())
	assert.Equal(t, "https://example.org:8443/cgi-bin/app.cgi/a%20b/c?x=1&y=%20", got.RequestURL())

	// gateway.errors is stderr.
	assert.Equal(t, "app says hi", errorsText.String())

	// The environ converts to a net/http request with the body headers.
	r := got.HTTPRequest()
	assert.Equal(t, int64(3), r.ContentLength)
	assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
}

func TestCGIEnvironURLScheme(t *testing.T) {
	for _, tc := range []struct {
		vars []string
		want string
	}{
		{nil, "http"},
		{[]string{"HTTPS=on"}, "https"},
		{[]string{"HTTPS=ON"}, "https"},
		{[]string{"HTTPS=1"}, "https"},
		{[]string{"HTTPS=off"}, "http"},
		{[]string{"REQUEST_SCHEME=https"}, "https"},
		{[]string{"REQUEST_SCHEME=http"}, "http"},
	} {
		t.Run(strings.Join(tc.vars, ","), func(t *testing.T) {
			var scheme string
			app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				scheme = env.URLScheme
				start("204 No Content", nil)
				return gateway.NoBody
			})
			res := cgiServe(t, app, cgiBaseEnv(tc.vars...), "")
			require.NoError(t, res.err)
			assert.Equal(t, tc.want, scheme)
		})
	}
}

func TestCGIEnvironEdgeCases(t *testing.T) {
	var got *gateway.Environ
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		got = env.Clone()
		start("204 No Content", nil)
		return gateway.NoBody
	})
	res := cgiServe(t, app, []string{
		"REQUEST_METHOD=GET",
		"REQUEST_METHOD=DELETE", // a name given twice: the first wins
		"SCRIPT_NAME=/",         // SCRIPT_NAME never ends in "/"
		"PATH_INFO=a b",
		"QUERY_STRING=q=1",
		"gateway.input=not a reader",   // gateway.* keys are the server's
		"gateway.url_scheme=https",     // ... including the string ones
		"HTTP_CONTENT_TYPE=text/plain", // not a header: that is CONTENT_TYPE
		"NOVALUE",                      // no "=": not a variable
		"=C:",
		"EMPTY=",
	}, "")
	require.NoError(t, res.err, res.stderr)
	require.NotNil(t, got)
	assert.Equal(t, "GET", got.Method)
	assert.Equal(t, "", got.ScriptName)
	assert.Equal(t, "/a b", got.PathInfo)
	assert.Equal(t, "/a%20b?q=1", got.RequestURI, "REQUEST_URI is rebuilt when the server does not set it")
	assert.Equal(t, "http", got.URLScheme)
	assert.NotEqual(t, "not a reader", got.Get(gateway.KeyInput))
	assert.Empty(t, got.ContentType)
	assert.Empty(t, got.Header.Get("Content-Type"))
	assert.Equal(t, "", got.Get("EMPTY"))
	assert.Nil(t, got.Get("NOVALUE"))
	assert.Equal(t, "", got.ContentLength)
}

func TestCGIWithoutRequestMethodIsNotCGI(t *testing.T) {
	called := false
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		called = true
		start("200 OK", nil)
		return gateway.NoBody
	})
	res := cgiServe(t, app, []string{"PATH=/bin"}, "")
	require.Error(t, res.err)
	assert.False(t, called)
	assert.Empty(t, res.stdout)
	assert.Contains(t, res.stderr, "REQUEST_METHOD")
}

func TestCGIInputLimitedToContentLength(t *testing.T) {
	stdin := strings.NewReader("hello, world: not part of the body")
	var body []byte
	var readErr, again error
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		body, readErr = io.ReadAll(env.Input)
		_, again = env.Input.Read(make([]byte, 10))
		start("204 No Content", nil)
		return gateway.NoBody
	})
	err := (&cgi.Server{
		App:    app,
		Env:    cgiBaseEnv("REQUEST_METHOD=POST", "CONTENT_LENGTH=5"),
		Stdin:  stdin,
		Stdout: io.Discard,
		Stderr: io.Discard,
	}).Serve()
	require.NoError(t, err)
	require.NoError(t, readErr)
	assert.Equal(t, "hello", string(body))
	assert.Equal(t, io.EOF, again, "EOF at the end of the body")
	rest, _ := io.ReadAll(stdin)
	assert.Equal(t, ", world: not part of the body", string(rest), "stdin was read past CONTENT_LENGTH")
}

func TestCGIInputWithoutContentLengthIsEmpty(t *testing.T) {
	for _, length := range []string{"", "0"} {
		t.Run("CONTENT_LENGTH="+length, func(t *testing.T) {
			stdin := strings.NewReader("stray bytes")
			var body []byte
			var contentLength string
			app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				body, _ = io.ReadAll(env.Input)
				contentLength = env.ContentLength
				start("204 No Content", nil)
				return gateway.NoBody
			})
			vars := cgiBaseEnv()
			if length != "" {
				vars = cgiBaseEnv("CONTENT_LENGTH=" + length)
			}
			err := (&cgi.Server{App: app, Env: vars, Stdin: stdin, Stdout: io.Discard, Stderr: io.Discard}).Serve()
			require.NoError(t, err)
			assert.Empty(t, body)
			assert.Equal(t, "", contentLength, "CONTENT_LENGTH is empty when the request has no body")
			assert.Equal(t, 11, stdin.Len(), "stdin was read without a body to read")
		})
	}
}

func TestCGIInputShortOrInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, length, stdin, want string
		is                        error
	}{
		{"short", "10", "abc", "abc", io.ErrUnexpectedEOF},
		{"invalid", "ten", "abc", "", nil},
		{"negative", "-1", "abc", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			var readErr error
			app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				body, readErr = io.ReadAll(env.Input)
				start("204 No Content", nil)
				return gateway.NoBody
			})
			res := cgiServe(t, app, cgiBaseEnv("REQUEST_METHOD=POST", "CONTENT_LENGTH="+tc.length), tc.stdin)
			require.NoError(t, res.err)
			require.Error(t, readErr, "a broken body must not read as complete")
			if tc.is != nil {
				assert.ErrorIs(t, readErr, tc.is)
			}
			assert.Equal(t, tc.want, string(body))
		})
	}
}

func TestCGIHeaderOutputInOrder(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("201 Created", gateway.Headers{
			{Name: "Content-Type", Value: "text/plain"},
			{Name: "Set-Cookie", Value: "a=1"},
			{Name: "X-Order", Value: "1"},
			{Name: "Set-Cookie", Value: "b=2"},
		})
		return gateway.Stream(func(yield func([]byte) bool) { yield([]byte("hello")) }, nil)
	})
	res := cgiServe(t, app, cgiBaseEnv(), "")
	require.NoError(t, res.err)
	assert.Equal(t, "Status: 201 Created\r\n"+
		"Content-Type: text/plain\r\n"+
		"Set-Cookie: a=1\r\n"+
		"X-Order: 1\r\n"+
		"Set-Cookie: b=2\r\n"+
		"\r\n"+
		"hello", res.stdout)
	assert.Empty(t, res.stderr)
}

func TestCGIKnownLengthGetsContentLength(t *testing.T) {
	headers := make(gateway.Headers, 0, 4) // spare capacity the server must not write into
	headers = append(headers, gateway.Header{Name: "X-A", Value: "1"})
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", headers)
		return gateway.Strings("<html><body>", "hi</body></html>")
	})
	res := cgiServe(t, app, cgiBaseEnv(), "")
	require.NoError(t, res.err)
	assert.Equal(t, "Status: 200 OK\r\n"+
		"X-A: 1\r\n"+
		"Content-Length: 28\r\n"+
		"\r\n"+
		"<html><body>hi</body></html>", res.stdout, "a Content-Length and no other header of the server's choosing")
	assert.Equal(t, gateway.Header{}, headers[:cap(headers)][1], "the application's Headers were written into")
}

func TestCGIHeadersLazyAndEachChunkFlushed(t *testing.T) {
	out := &cgiRecorder{}
	body := &cgiBody{}
	var seen []string // what had gone out when each chunk was asked for
	body.chunks = func(yield func([]byte) bool) {
		seen = append(seen, out.String())
		if !yield(nil) { // empty chunks send nothing, not even the headers
			return
		}
		seen = append(seen, out.String())
		if !yield([]byte("one,")) {
			return
		}
		seen = append(seen, out.String())
		if !yield([]byte("two")) {
			return
		}
		seen = append(seen, out.String())
	}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return body
	})
	err := (&cgi.Server{App: app, Env: cgiBaseEnv(), Stdin: strings.NewReader(""), Stdout: out, Stderr: io.Discard}).Serve()
	require.NoError(t, err)
	head := "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n"
	assert.Equal(t, []string{"", "", head + "one,", head + "one,two"}, seen)
	assert.Equal(t, []string{head + "one,", "two"}, out.writes, "one write per chunk, the headers with the first")
	assert.Equal(t, 1, body.closes)
}

func TestCGIEmptyBodySendsHeadersAtTheEnd(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		return gateway.Stream(func(yield func([]byte) bool) {
			start("200 OK", gateway.Headers{{Name: "X-Late", Value: "yes"}})
			yield(nil)
			yield([]byte{})
		}, nil)
	})
	res := cgiServe(t, app, cgiBaseEnv(), "")
	require.NoError(t, res.err)
	assert.Equal(t, "Status: 200 OK\r\nX-Late: yes\r\n\r\n", res.stdout)
}

func TestCGIWriteCallable(t *testing.T) {
	out := &cgiRecorder{}
	var errs []error
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		write := start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		errs = append(errs, write(nil)) // the first call sends the headers, as PEP 3333 has it
		errs = append(errs, write([]byte("legacy ")))
		errs = append(errs, write(nil))
		errs = append(errs, write([]byte("write")))
		return gateway.Strings("; then the body")
	})
	err := (&cgi.Server{App: app, Env: cgiBaseEnv(), Stdin: strings.NewReader(""), Stdout: out, Stderr: io.Discard}).Serve()
	require.NoError(t, err)
	assert.Equal(t, []error{nil, nil, nil, nil}, errs)
	assert.Equal(t, []string{
		"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n",
		"legacy ",
		"write",
		"; then the body",
	}, out.writes, "each write is sent before it returns")
}

func TestCGIRefusesBadResponse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  string
		headers gateway.Headers
		rule    gateway.Rule
	}{
		{"crlf in value", "200 OK", gateway.Headers{{Name: "X-Split", Value: "a\r\nInjected: yes"}}, gateway.RuleHeaderControl},
		{"bad name", "200 OK", gateway.Headers{{Name: "Bad Name", Value: "x"}}, gateway.RuleHeaderName},
		{"hop-by-hop", "200 OK", gateway.Headers{{Name: "Connection", Value: "close"}}, gateway.RuleHopByHop},
		{"status header", "200 OK", gateway.Headers{{Name: "Status", Value: "302 Found"}}, gateway.RuleStatusHdr},
		{"bad status", "OK", nil, gateway.RuleStatus},
		{"bad length", "200 OK", gateway.Headers{{Name: "Content-Length", Value: "many"}}, gateway.RuleLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			body := &cgiBody{chunks: func(yield func([]byte) bool) { ran = true; yield([]byte("must not be sent")) }}
			app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				start(tc.status, tc.headers)
				return body
			})
			res := cgiServe(t, app, cgiBaseEnv(), "")
			var he *gateway.HeaderError
			require.ErrorAs(t, res.err, &he)
			assert.Equal(t, tc.rule, he.Rule)
			assert.Equal(t, cgi500, res.stdout)
			assert.Contains(t, res.stderr, tc.rule)
			assert.Contains(t, res.stderr, "GET /app.cgi/x")
			assert.False(t, ran, "the body of a refused response is not run")
			assert.Equal(t, 1, body.closes)
		})
	}
}

func TestCGIExcInfoReplacesUnsentHeaders(t *testing.T) {
	body := &cgiBody{}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "X-First", Value: "1"}, {Name: "Content-Type", Value: "text/html"}})
		body.chunks = func(yield func([]byte) bool) {
			if !yield(nil) {
				return
			}
			start("503 Service Unavailable", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}, {Name: "X-Error", Value: "1"}},
				errors.New("database down"))
			yield([]byte("error page"))
		}
		return body
	})
	res := cgiServe(t, app, cgiBaseEnv(), "")
	require.NoError(t, res.err)
	assert.Equal(t, "Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\nX-Error: 1\r\n\r\nerror page", res.stdout)
	assert.Equal(t, 1, body.closes)
}

func TestCGIExcInfoAfterHeadersSentStops(t *testing.T) {
	exc := errors.New("template failed half way")
	body := &cgiBody{}
	var more bool
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		body.chunks = func(yield func([]byte) bool) {
			if !yield([]byte("partial")) {
				return
			}
			start("500 Internal Server Error", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}}, exc)
			more = yield([]byte("more"))
		}
		return body
	})
	res := cgiServe(t, app, cgiBaseEnv(), "")
	require.ErrorIs(t, res.err, gateway.ErrHeadersSent)
	assert.ErrorIs(t, res.err, exc)
	assert.False(t, more, "yield after the aborted start must stop the body")
	assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\npartial", res.stdout, "the response cannot be replaced")
	assert.Contains(t, res.stderr, "template failed half way")
	assert.Equal(t, 1, body.closes)
}

func TestCGIStartMisuse(t *testing.T) {
	t.Run("no start", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			return gateway.Strings("forgot to start")
		})
		res := cgiServe(t, app, cgiBaseEnv(), "")
		require.ErrorIs(t, res.err, gateway.ErrNoStart)
		assert.Equal(t, cgi500, res.stdout)
	})
	t.Run("twice without excInfo", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", nil)
			start("404 Not Found", nil)
			return gateway.NoBody
		})
		res := cgiServe(t, app, cgiBaseEnv(), "")
		require.ErrorIs(t, res.err, gateway.ErrStartTwice)
		assert.Equal(t, cgi500, res.stdout)
	})
	t.Run("nil body", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", nil)
			return nil
		})
		res := cgiServe(t, app, cgiBaseEnv(), "")
		require.Error(t, res.err)
		assert.Equal(t, cgi500, res.stdout)
	})
}

func TestCGIPanicsCloseExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		panicApp   bool
		before     bool // panic in Chunks before the first chunk
		after      bool // panic in Chunks after the first chunk
		panicClose bool
		want500    bool
	}{
		{name: "in the application", panicApp: true, want500: true},
		{name: "in the body before any output", before: true, want500: true},
		{name: "in the body after output", after: true},
		{name: "in Close", panicClose: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &cgiBody{panicClose: tc.panicClose}
			body.chunks = func(yield func([]byte) bool) {
				if tc.before {
					panic("boom before")
				}
				if !yield([]byte("first")) {
					return
				}
				if tc.after {
					panic("boom after")
				}
			}
			app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
				if tc.panicApp {
					panic("boom in app")
				}
				return body
			})
			res := cgiServe(t, app, cgiBaseEnv(), "")
			require.Error(t, res.err)
			assert.Contains(t, res.err.Error(), "panic")
			assert.Contains(t, res.stderr, "panic: boom")
			assert.Contains(t, res.stderr, "goroutine ", "the stack goes to stderr")
			assert.Contains(t, res.stderr, "cgi_test.go", "the stack shows where the panic was")
			if tc.want500 {
				assert.Equal(t, cgi500, res.stdout)
			} else {
				assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst", res.stdout,
					"after the headers went out nothing may be added")
			}
			if tc.panicApp {
				assert.Equal(t, 0, body.closes, "the application returned no body to close")
			} else {
				assert.Equal(t, 1, body.closes)
			}
		})
	}
}

type cgiFailingReader struct{ n int }

func (r *cgiFailingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("disk on fire")
	}
	r.n--
	return copy(p, "data"), nil
}

func TestCGIBodyErrorIsAFailure(t *testing.T) {
	t.Run("before output", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
			return gateway.Reader(&cgiFailingReader{})
		})
		res := cgiServe(t, app, cgiBaseEnv(), "")
		require.Error(t, res.err)
		assert.Contains(t, res.err.Error(), "disk on fire")
		assert.Equal(t, cgi500, res.stdout)
	})
	t.Run("after output", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
			return gateway.Reader(&cgiFailingReader{n: 1})
		})
		res := cgiServe(t, app, cgiBaseEnv(), "")
		require.Error(t, res.err)
		assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\ndata", res.stdout)
		assert.Contains(t, res.stderr, "disk on fire")
	})
}

func TestCGIContentLengthIsAPromise(t *testing.T) {
	t.Run("longer body is cut", func(t *testing.T) {
		body := &cgiBody{}
		var asked int
		body.chunks = func(yield func([]byte) bool) {
			for _, c := range []string{"hel", "lo world", "!!!"} {
				asked++
				if !yield([]byte(c)) {
					return
				}
			}
		}
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}, {Name: "Content-Length", Value: "5"}})
			return body
		})
		res := cgiServe(t, app, cgiBaseEnv(), "")
		require.NoError(t, res.err)
		assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", res.stdout)
		assert.Equal(t, 2, asked, "no chunk is asked for once the length is reached")
		assert.Contains(t, res.stderr, "longer than its Content-Length")
		assert.Equal(t, 1, body.closes)
	})
	t.Run("shorter body before any output is a 500", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}, {Name: "Content-Length", Value: "10"}})
			return gateway.NoBody
		})
		res := cgiServe(t, app, cgiBaseEnv(), "")
		require.ErrorIs(t, res.err, gateway.ErrShortBody)
		assert.Equal(t, cgi500, res.stdout)
	})
	t.Run("shorter body is an error", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}, {Name: "Content-Length", Value: "10"}})
			return gateway.Strings("hello")
		})
		res := cgiServe(t, app, cgiBaseEnv(), "")
		require.ErrorIs(t, res.err, gateway.ErrShortBody)
		assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nhello", res.stdout)
		assert.Contains(t, res.stderr, "5 of 10 bytes")
	})
}

func TestCGIHeadSendsNoBody(t *testing.T) {
	t.Run("start before the body", func(t *testing.T) {
		body := &cgiBody{}
		ran := false
		body.chunks = func(yield func([]byte) bool) { ran = true; yield([]byte("body")) }
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "X-A", Value: "1"}})
			return body
		})
		res := cgiServe(t, app, cgiBaseEnv("REQUEST_METHOD=HEAD"), "")
		require.NoError(t, res.err)
		assert.Equal(t, "Status: 200 OK\r\nX-A: 1\r\n\r\n", res.stdout)
		assert.False(t, ran, "the application called start: nothing of the body is needed")
		assert.Equal(t, 1, body.closes)
	})
	t.Run("start in the body", func(t *testing.T) {
		body := &cgiBody{}
		var asked int
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			body.chunks = func(yield func([]byte) bool) {
				asked++
				if !yield(nil) {
					return
				}
				start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/html"}})
				for _, c := range []string{"<!DOCTYPE html>", "more"} {
					asked++
					if !yield([]byte(c)) {
						return
					}
				}
			}
			return body
		})
		res := cgiServe(t, app, cgiBaseEnv("REQUEST_METHOD=HEAD"), "")
		require.NoError(t, res.err)
		assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/html\r\n\r\n", res.stdout)
		assert.Equal(t, 2, asked, "HEAD runs the body until start has been called, no further")
		assert.Equal(t, 1, body.closes)
	})
	t.Run("known length", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
			return gateway.Strings("twelve bytes")
		})
		res := cgiServe(t, app, cgiBaseEnv("REQUEST_METHOD=HEAD"), "")
		require.NoError(t, res.err)
		assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n", res.stdout)
	})
	t.Run("write callable", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			write := start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
			require.NoError(t, write([]byte("not for HEAD")))
			return gateway.NoBody
		})
		res := cgiServe(t, app, cgiBaseEnv("REQUEST_METHOD=HEAD"), "")
		require.NoError(t, res.err)
		assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n", res.stdout)
	})
}

func TestCGINoBodyForNoContent(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("204 No Content", gateway.Headers{{Name: "X-A", Value: "1"}})
		return gateway.Strings("not allowed")
	})
	res := cgiServe(t, app, cgiBaseEnv(), "")
	require.NoError(t, res.err)
	assert.Equal(t, "Status: 204 No Content\r\nX-A: 1\r\n\r\n", res.stdout)
	assert.Contains(t, res.stderr, "a 204 response has no body; 11 bytes were not sent")
}

func TestCGIStdoutFailureStopsTheBody(t *testing.T) {
	out := &cgiRecorder{fail: syscall.EPIPE}
	body := &cgiBody{}
	var asked int
	body.chunks = func(yield func([]byte) bool) {
		for {
			asked++
			if !yield([]byte("tick")) {
				return
			}
			if asked > 100 {
				return
			}
		}
	}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return body
	})
	var stderr bytes.Buffer
	err := (&cgi.Server{App: app, Env: cgiBaseEnv(), Stdin: strings.NewReader(""), Stdout: out, Stderr: &stderr}).Serve()
	require.ErrorIs(t, err, syscall.EPIPE)
	assert.Equal(t, 1, asked)
	assert.Equal(t, 1, body.closes)
	assert.Contains(t, stderr.String(), "broken pipe")
}

func TestCGIContextCancelStopsTheBody(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := &cgiBody{}
	var asked int
	body.chunks = func(yield func([]byte) bool) {
		for i := 0; i < 100; i++ {
			asked++
			if i == 1 {
				cancel() // as a SIGTERM from the CGI server would
			}
			if !yield([]byte(strconv.Itoa(i))) {
				return
			}
		}
	}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		require.Equal(t, ctx, env.Context())
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return body
	})
	var stdout bytes.Buffer
	err := (&cgi.Server{App: app, Env: cgiBaseEnv(), Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: io.Discard, Context: ctx}).Serve()
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, asked)
	assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n01", stdout.String())
	assert.Equal(t, 1, body.closes)
}

func TestCGIFileBody(t *testing.T) {
	content := strings.Repeat("0123456789", 10000)
	src := filepath.Join(t.TempDir(), "src.txt")
	require.NoError(t, os.WriteFile(src, []byte(content), 0o644))

	serve := func(t *testing.T, stdout io.Writer, headers gateway.Headers) error {
		f, err := os.Open(src)
		require.NoError(t, err)
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", headers)
			return gateway.File(f)
		})
		return (&cgi.Server{App: app, Env: cgiBaseEnv(), Stdin: strings.NewReader(""), Stdout: stdout, Stderr: io.Discard}).Serve()
	}

	// With its length known, the file goes to stdout through io.Copy
	// between two *os.File: the kernel's path, which must not send more
	// than the declared length either.
	for _, n := range []int{len(content), 1000} {
		t.Run(fmt.Sprintf("declared length %d, to a file", n), func(t *testing.T) {
			out, err := os.Create(filepath.Join(t.TempDir(), "out"))
			require.NoError(t, err)
			defer out.Close()
			require.NoError(t, serve(t, out, gateway.Headers{
				{Name: "Content-Type", Value: "text/plain"},
				{Name: "Content-Length", Value: strconv.Itoa(n)},
			}))
			got, err := os.ReadFile(out.Name())
			require.NoError(t, err)
			assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "+strconv.Itoa(n)+"\r\n\r\n"+content[:n], string(got))
		})
	}
	t.Run("no length", func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, serve(t, &out, gateway.Headers{{Name: "Content-Type", Value: "text/plain"}}))
		assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n"+content, out.String())
	})
}

// ---- Serve in a real process ----

// TestCGIHelperProcess is not a test: it is the CGI program that
// TestServeProcess runs, the test binary started again with
// GATEWAY_CGI_HELPER set.
func TestCGIHelperProcess(t *testing.T) {
	mode := os.Getenv("GATEWAY_CGI_HELPER")
	if mode == "" {
		t.Skip("the CGI program of TestServeProcess, run only as its child")
	}
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		if mode == "stream" {
			ctx := env.Context()
			return gateway.Stream(func(yield func([]byte) bool) {
				for i := 0; i < 2000 && ctx.Err() == nil; i++ {
					if !yield([]byte("tick\n")) {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}, func() error {
				fmt.Fprintf(os.Stderr, "closed: %v\n", ctx.Err())
				return nil
			})
		}
		data, err := io.ReadAll(env.Input)
		if err != nil {
			panic(err)
		}
		return gateway.Strings(fmt.Sprintf("%s %s %s body=%q run_once=%v",
			env.Method, env.PathInfo, env.Header.Get("X-Test"), data, env.RunOnce))
	})
	err := cgi.Serve(app)
	rest, _ := io.ReadAll(os.Stdin)
	fmt.Fprintf(os.Stderr, "left on stdin: %q\n", rest)
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

func cgiHelperCommand(t *testing.T, mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCGIHelperProcess$")
	cmd.Env = append(os.Environ(), "GATEWAY_CGI_HELPER="+mode,
		"GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0") // under -race, exit at once
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

func TestServeProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("CGI signals are Unix")
	}
	t.Run("request and response", func(t *testing.T) {
		cmd := cgiHelperCommand(t, "echo",
			"REQUEST_METHOD=POST", "PATH_INFO=/p", "CONTENT_LENGTH=5", "HTTP_X_TEST=yes", "SERVER_PROTOCOL=HTTP/1.1")
		cmd.Stdin = strings.NewReader("hello|not the body")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), stderr.String())
		assert.Equal(t, "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 38\r\n\r\n"+
			`POST /p yes body="hello" run_once=true`, stdout.String())
		assert.Contains(t, stderr.String(), `left on stdin: "|not the body"`)
	})
	t.Run("SIGTERM cancels the context and closes the body", func(t *testing.T) {
		cmd := cgiHelperCommand(t, "stream", "REQUEST_METHOD=GET", "PATH_INFO=/s")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		br := bufio.NewReader(stdout)
		var head string
		for !strings.HasSuffix(head, "\r\n\r\ntick\n") { // through the first chunk
			line, err := br.ReadString('\n')
			require.NoError(t, err, "the output so far: %q", head)
			head += line
		}
		require.True(t, strings.HasPrefix(head, "Status: 200 OK\r\n"), head)
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		go io.Copy(io.Discard, br)
		err = cgiWaitExit(t, cmd, "after SIGTERM")
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "Serve reports the cancelled response as a failure")
		assert.Equal(t, 1, exit.ExitCode(), "the process exited by itself, not by the signal")
		assert.Contains(t, stderr.String(), "closed: context canceled")
		assert.Equal(t, 1, strings.Count(stderr.String(), "closed:"))
	})
	t.Run("closed stdout does not kill the process", func(t *testing.T) {
		// Without Serve's SIGPIPE handling, the write to the closed
		// pipe on fd 1 would kill the process before Close runs.
		cmd := cgiHelperCommand(t, "stream", "REQUEST_METHOD=GET", "PATH_INFO=/s")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		pr, pw, err := os.Pipe()
		require.NoError(t, err)
		cmd.Stdout = pw
		require.NoError(t, cmd.Start())
		pw.Close()
		br := bufio.NewReader(pr)
		for {
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			if line == "tick\n" {
				break
			}
		}
		pr.Close() // as a CGI server that has given up on the response
		err = cgiWaitExit(t, cmd, "when its stdout was closed")
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "Serve reports the cut response as a failure")
		assert.Equal(t, 1, exit.ExitCode(), "the process exited by itself, not by SIGPIPE: %s", stderr.String())
		assert.Contains(t, stderr.String(), "broken pipe")
		assert.Equal(t, 1, strings.Count(stderr.String(), "closed: <nil>"))
	})
}

// ---- end to end under lighttpd's mod_cgi ----

// cgiLighttpdBinary finds lighttpd, skipping the test without it, unless
// CI is set: there the server must be installed and the test must run.
func cgiLighttpdBinary(t *testing.T) string {
	if p, err := exec.LookPath("lighttpd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/lighttpd"); err == nil {
		return "/usr/sbin/lighttpd"
	}
	if os.Getenv("CI") != "" {
		t.Fatal("lighttpd is not installed (Debian package lighttpd), and CI is set: the CGI end-to-end test must run")
	}
	t.Skip("lighttpd is not installed (Debian package lighttpd)")
	return ""
}

type cgiServer struct {
	url  string // the CGI program: http://127.0.0.1:port/app.cgi
	dir  string // document root
	logs func() string
}

// cgiStartLighttpd builds testdata/cgiapp into a temporary document root
// and serves it with lighttpd's mod_cgi on a free port.
func cgiStartLighttpd(t *testing.T) *cgiServer {
	lighttpd := cgiLighttpdBinary(t)
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the CGI program")
	dir := t.TempDir()

	build := exec.Command(goTool, "build", "-o", filepath.Join(dir, "app.cgi"), "./testdata/cgiapp")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./testdata/cgiapp:\n%s", out)

	port := testutil.FreePort(t)

	conf := filepath.Join(dir, "lighttpd.conf")
	errorLog := filepath.Join(dir, "error.log")
	cgiLog := filepath.Join(dir, "cgi-stderr.log")
	serverOut := filepath.Join(dir, "lighttpd.out")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`
server.modules = ( "mod_cgi" )
server.bind = "127.0.0.1"
server.port = %d
server.document-root = %q
server.errorlog = %q
server.breakagelog = %q
server.stream-response-body = 2
cgi.assign = ( ".cgi" => "" )
`, port, dir, errorLog, cgiLog)), 0o644))

	logs := func() string {
		var b strings.Builder
		for _, f := range []string{serverOut, errorLog, cgiLog} {
			data, _ := os.ReadFile(f)
			fmt.Fprintf(&b, "--- %s:\n%s", filepath.Base(f), data)
		}
		return b.String()
	}

	outFile, err := os.Create(serverOut)
	require.NoError(t, err)
	defer outFile.Close() // the child has its own descriptor
	cmd := exec.Command(lighttpd, "-D", "-f", conf)
	cmd.Stdout, cmd.Stderr = outFile, outFile
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("lighttpd logs:\n%s", logs())
		}
	})

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("lighttpd exited at start: %v\n%s", err, logs())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lighttpd does not accept on %s: %v\n%s", addr, err, logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &cgiServer{url: "http://" + addr + "/app.cgi", dir: dir, logs: logs}
}

func TestCGIUnderLighttpd(t *testing.T) {
	srv := cgiStartLighttpd(t)
	transport := &http.Transport{DisableCompression: true}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	get := func(t *testing.T, path string, header ...string) (*http.Response, string) {
		t.Helper()
		return testutil.Fetch(t, client, http.MethodGet, srv.url+path, nil, header...)
	}

	t.Run("GET with a query", func(t *testing.T) {
		resp, body := get(t, "/echo/a%20b?x=1&y=%C3%A9", "X-Test", "hello", "User-Agent", "cgi-e2e")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
			k, v, _ := strings.Cut(line, "=")
			got[k] = v
		}
		assert.Equal(t, "GET", got["method"])
		assert.Equal(t, "/app.cgi", got["script_name"])
		assert.Equal(t, "/echo/a b", got["path_info"], "PATH_INFO is decoded")
		assert.Equal(t, "x=1&y=%C3%A9", got["query_string"])
		assert.Equal(t, "/app.cgi/echo/a%20b?x=1&y=%C3%A9", got["request_uri"])
		assert.Equal(t, strings.TrimPrefix(strings.TrimSuffix(srv.url, "/app.cgi"), "http://"), got["host"])
		assert.Equal(t, "http", got["scheme"])
		assert.Equal(t, "HTTP/1.1", got["server_protocol"])
		assert.Equal(t, "127.0.0.1", got["remote_addr"])
		assert.Equal(t, "hello", got["x_test"])
		assert.Equal(t, "hello", got["http_x_test"])
		assert.Equal(t, "cgi-e2e", got["user_agent"])
		assert.Equal(t, "CGI/1.1", got["gateway_interface"])
		assert.Equal(t, "false", got["multithread"])
		assert.Equal(t, "true", got["multiprocess"])
		assert.Equal(t, "true", got["run_once"])
		assert.Equal(t, "", got["content_length"], "a GET has no CONTENT_LENGTH, though lighttpd sets it to 0")
	})

	t.Run("POST with a body", func(t *testing.T) {
		payload := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB
		payload = append(payload, "tail"...)
		resp, err := client.Post(srv.url+"/post", "application/octet-stream", bytes.NewReader(payload))
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, strconv.Itoa(len(payload)), resp.Header.Get("X-Content-Length"))
		assert.Equal(t, "application/octet-stream", resp.Header.Get("X-Content-Type"))
		assert.Equal(t, int64(len(payload)), resp.ContentLength)
		assert.Equal(t, len(payload), len(data))
		assert.True(t, bytes.Equal(payload, data), "the body came back changed")
	})

	t.Run("streamed response", func(t *testing.T) {
		// The application sends its first chunk, then waits until the
		// test has received it (a marker file) before sending the rest: a
		// server that held the output back would make it time out.
		resp, err := client.Get(srv.url + "/stream?id=s1")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, int64(-1), resp.ContentLength, "a stream has no length")
		br := bufio.NewReader(resp.Body)
		first, err := br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "chunk 0\n", first)
		require.NoError(t, os.WriteFile(filepath.Join(srv.dir, "s1.go"), nil, 0o644))
		rest, err := io.ReadAll(br)
		require.NoError(t, err)
		assert.Equal(t, "chunk 1\nchunk 2\nchunk 3\n", string(rest))
	})

	t.Run("404", func(t *testing.T) {
		resp, body := get(t, "/nope")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		assert.Equal(t, "404 Not Found", resp.Status)
		assert.Equal(t, "not found: /nope\n", body)
	})

	t.Run("header with two values", func(t *testing.T) {
		resp, body := get(t, "/cookies")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "two cookies\n", body)
		assert.Equal(t, []string{"a=1; Path=/", "b=2; Path=/"}, resp.Header.Values("Set-Cookie"))
		cookies := resp.Cookies()
		require.Len(t, cookies, 2)
		assert.Equal(t, "a", cookies[0].Name)
		assert.Equal(t, "b", cookies[1].Name)
	})

	t.Run("HEAD", func(t *testing.T) {
		resp, err := client.Head(srv.url + "/cookies")
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, int64(len("two cookies\n")), resp.ContentLength, "HEAD has the GET's Content-Length")
		assert.Empty(t, data)
	})

	t.Run("panic is a 500 and a logged stack", func(t *testing.T) {
		resp, body := get(t, "/panic")
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		assert.Equal(t, "Internal Server Error\n", body)
		logs := srv.logs()
		assert.Contains(t, logs, "panic: cgiapp: deliberate panic")
		assert.Contains(t, logs, "goroutine ")
	})

	t.Run("bad header is refused", func(t *testing.T) {
		resp, body := get(t, "/bad-header")
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		assert.Equal(t, "Internal Server Error\n", body)
		assert.Empty(t, resp.Header.Get("Injected"))
		assert.Empty(t, resp.Header.Get("X-Split"))
		assert.Contains(t, srv.logs(), gateway.RuleHeaderControl)
	})

	t.Run("client leaving closes the body", func(t *testing.T) {
		resp, err := client.Get(srv.url + "/forever?id=d1")
		require.NoError(t, err)
		br := bufio.NewReader(resp.Body)
		first, err := br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "tick 0\n", first)
		require.NoError(t, resp.Body.Close()) // mid-stream: the connection is dropped

		// The application writes the marker whole (a rename): once it
		// exists, it says how the stream ended.
		marker := filepath.Join(srv.dir, "d1.closed")
		var got string
		require.Eventually(t, func() bool {
			data, err := os.ReadFile(marker)
			got = string(data)
			return err == nil
		}, 15*time.Second, 20*time.Millisecond, "the body was not closed after the client left")
		t.Logf("%s", got)
		assert.Regexp(t, `^closed after \d+ ticks, context: .+\n$`, got)
		assert.NotContains(t, got, "after 1000 ticks", "the stream ran to its end")
	})
}

// cgiWaitExit waits for cmd to exit and returns its error, killing it and
// failing the test if it is still running after 10s.
func cgiWaitExit(t *testing.T, cmd *exec.Cmd, when string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the CGI process did not stop %s", when)
		return nil
	}
}

// A CGI server stops the program once it has every byte it was promised;
// the response was complete, so that is no failure.
func TestCGICancelledAfterACompleteBodyIsNoFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errs bytes.Buffer
	c := cgi.Server{
		App: gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}, {Name: "Content-Length", Value: "5"}})
			return gateway.Strings("hello")
		}),
		Env:     []string{"REQUEST_METHOD=GET", "SERVER_NAME=localhost", "SERVER_PORT=80", "SERVER_PROTOCOL=HTTP/1.1"},
		Stdin:   strings.NewReader(""),
		Stdout:  &out,
		Stderr:  &errs,
		Context: ctx,
	}
	assert.NoError(t, c.Serve())
	assert.True(t, strings.HasSuffix(out.String(), "\r\n\r\nhello"), "%q", out.String())
	assert.Empty(t, errs.String())
}
