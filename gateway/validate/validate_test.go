package validate_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/cgi"
	"github.com/vial-go/vial/gateway/validate"
)

// vEnv returns the environ a correct server builds for GET /.
func vEnv() *gateway.Environ {
	env := &gateway.Environ{
		Method:         "GET",
		PathInfo:       "/",
		ServerName:     "example.com",
		ServerPort:     "80",
		ServerProtocol: "HTTP/1.1",
		URLScheme:      "http",
		Header:         http.Header{},
		Input:          strings.NewReader(""),
		Errors:         io.Discard,
	}
	env.SetContext(context.Background())
	return env
}

// vServer is a tiny hand-rolled server: it serves a request as the contract
// says (iterates the whole body, then closes it once), unless a test makes it
// misbehave.
type vServer struct {
	status  string
	headers gateway.Headers
	out     bytes.Buffer
	stopAt  int // stop iterating after this many non-empty chunks; 0: never
}

func (s *vServer) start(status string, headers gateway.Headers, excInfo ...error) gateway.WriteFunc {
	s.status, s.headers = status, headers
	return s.write
}

func (s *vServer) write(p []byte) error {
	s.out.Write(p)
	return nil
}

// serve runs app for env and returns the Violation it panicked with, if any.
func (s *vServer) serve(app gateway.Application, env *gateway.Environ) *validate.Violation {
	return vCatch(func() {
		body := app.ServeGateway(env, s.start)
		defer body.Close()
		n := 0
		for p := range body.Chunks {
			s.out.Write(p)
			if len(p) > 0 {
				n++
			}
			if s.stopAt > 0 && n == s.stopAt {
				break
			}
		}
	})
}

// vCatch runs f and returns the *validate.Violation it panicked with, or nil.
func vCatch(f func()) (viol *validate.Violation) {
	defer func() {
		if r := recover(); r != nil {
			v, ok := r.(*validate.Violation)
			if !ok {
				panic(r)
			}
			viol = v
		}
	}()
	f()
	return nil
}

// vCollector gathers the violations ValidateWith reports.
type vCollector struct {
	mu   sync.Mutex
	list []*validate.Violation
}

func (c *vCollector) report(v *validate.Violation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, v)
}

func (c *vCollector) all() []*validate.Violation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*validate.Violation(nil), c.list...)
}

var vText = gateway.Headers{{Name: "Content-Type", Value: "text/plain"}}

func vHeaders(kv ...string) gateway.Headers {
	h := gateway.Headers{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// vSliceBody is a Body of the given chunks that keeps yielding whatever yield
// says, and may lie about its length.
type vSliceBody struct {
	chunks []string
	n      int // what Len reports
}

func (b *vSliceBody) Chunks(yield func([]byte) bool) {
	for _, c := range b.chunks {
		yield([]byte(c))
	}
}
func (b *vSliceBody) Close() error { return nil }
func (b *vSliceBody) Len() int     { return b.n }

func TestValidateApplicationRules(t *testing.T) {
	type app = func(env *gateway.Environ, start gateway.StartResponse) gateway.Body
	cases := []struct {
		name   string
		app    app
		rule   gateway.Rule
		detail string
		err    error // errors.Is target, if any
	}{
		{"bad status", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200", vText)
			return gateway.NoBody
		}, gateway.RuleStatus, `status "200"`, nil},
		{"bad header name", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/plain", "X A", "1"))
			return gateway.NoBody
		}, gateway.RuleHeaderName, `header "X A": "1"`, nil},
		{"CR LF in a value", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("X-A", "a\r\nb"))
			return gateway.NoBody
		}, gateway.RuleHeaderControl, `header "X-A": "a\r\nb"`, nil},
		{"hop-by-hop header", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Connection", "close"))
			return gateway.NoBody
		}, gateway.RuleHopByHop, `header "Connection": "close"`, nil},
		{"Status header", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Status", "404 Not Found"))
			return gateway.NoBody
		}, gateway.RuleStatusHdr, `header "Status"`, nil},
		{"bad Content-Length", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Length", "-1"))
			return gateway.NoBody
		}, gateway.RuleLength, `header "Content-Length": "-1"`, nil},
		{"start twice", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			start("404 Not Found", vText)
			return gateway.NoBody
		}, validate.RuleStartTwice, `start("404 Not Found") called after start("200 OK")`, gateway.ErrStartTwice},
		{"start twice with a nil excInfo", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			start("500 Internal Server Error", vText, nil)
			return gateway.NoBody
		}, validate.RuleStartTwice, "without excInfo", gateway.ErrStartTwice},
		{"chunk before start", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			return gateway.Strings("early")
		}, validate.RuleNoStart, "yield of 5 bytes before start", gateway.ErrNoStart},
		{"body ends without start", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			return gateway.NoBody
		}, validate.RuleNoStart, "ended without a call to start", gateway.ErrNoStart},
		{"nil body", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return nil
		}, validate.RuleNilBody, "nil Body", nil},
		{"body for 204", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("204 No Content", vText)
			return gateway.Strings("", "x")
		}, validate.RuleNoBodyStatus, `yield of 1 bytes for status "204 No Content"`, nil},
		{"body for 304", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("304 Not Modified", nil)
			return gateway.Strings("x")
		}, validate.RuleNoBodyStatus, `"304 Not Modified"`, nil},
		{"body for 1xx", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("103 Early Hints", nil)
			start("103 Early Hints", nil, errors.New("again")) // allowed: excInfo
			return gateway.Strings("x")
		}, validate.RuleNoBodyStatus, `"103 Early Hints"`, nil},
		{"write for 304", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			_ = start("304 Not Modified", nil)([]byte("x"))
			return gateway.NoBody
		}, validate.RuleNoBodyStatus, "write of 1 bytes", nil},
		{"no Content-Type", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("X-A", "1"))
			return gateway.Strings("hello")
		}, validate.RuleContentType, `status "200 OK", whose headers have no Content-Type`, nil},
		{"longer than Content-Length", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "3"))
			return gateway.Strings("ab", "cd")
		}, validate.RuleLengthOver, "yield of 2 bytes after 2 takes the body past its Content-Length 3", nil},
		{"write longer than Content-Length", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			write := start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "1"))
			write([]byte("ab"))
			return gateway.NoBody
		}, validate.RuleLengthOver, "write of 2 bytes after 0", nil},
		{"shorter than Content-Length", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "10"))
			return gateway.Strings("ab", "cd")
		}, validate.RuleLengthShort, "ended after 4 bytes of its Content-Length 10", gateway.ErrShortBody},
		{"chunks and write shorter than Content-Length", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "4"))([]byte("a"))
			return gateway.Strings("b")
		}, validate.RuleLengthShort, "after 2 bytes", gateway.ErrShortBody},
		{"Len lies", func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return &vSliceBody{chunks: []string{"abc"}, n: 10}
		}, validate.RuleBodyLen, "Len() was 10, the chunks held 3 bytes", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s vServer
			viol := s.serve(validate.Wrap(gateway.AppFunc(tc.app)), vEnv())
			require.NotNil(t, viol, "no violation")
			assert.Equal(t, tc.rule, viol.Rule)
			assert.Equal(t, validate.SideApplication, viol.Side)
			assert.Contains(t, viol.Detail, tc.detail)
			assert.Contains(t, viol.Error(), "validate: application broke "+tc.rule+": ")
			if tc.err != nil {
				assert.ErrorIs(t, viol, tc.err)
			}

			// Reporting instead of panicking finds the same first violation.
			var c vCollector
			var s2 vServer
			require.NotPanics(t, func() {
				_ = vCatch(func() { // the server's own checks may still panic (start twice)
					body := validate.WrapWith(gateway.AppFunc(tc.app), c.report).ServeGateway(vEnv(), s2.start)
					if body != nil {
						defer body.Close()
						body.Chunks(func([]byte) bool { return true })
					}
				})
			})
			got := c.all()
			require.NotEmpty(t, got)
			assert.Equal(t, tc.rule, got[0].Rule)
		})
	}
}

func TestValidateErrorMessage(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "X-A", Value: "a\r\nb"}})
		return gateway.NoBody
	})
	var s vServer
	viol := s.serve(validate.Wrap(app), vEnv())
	require.NotNil(t, viol)
	assert.Equal(t, `validate: application broke start_response rule 2: header values hold no control character but HTAB: header "X-A": "a\r\nb"`, viol.Error())
	var he *gateway.HeaderError
	require.ErrorAs(t, viol, &he)
	assert.Equal(t, "X-A", he.Name)
}

func TestValidateOverflowStopsAtTheChunk(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "3"))
		return gateway.Strings("ab", "cd", "ef")
	})
	var s vServer
	viol := s.serve(validate.Wrap(app), vEnv())
	require.NotNil(t, viol)
	assert.Equal(t, validate.RuleLengthOver, viol.Rule)
	assert.Equal(t, "ab", s.out.String(), "the chunk that exceeds is not passed on")
}

func TestValidateApplicationIterationRules(t *testing.T) {
	t.Run("yield after false", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return &vSliceBody{chunks: []string{"a", "b"}, n: 2}
		})
		s := vServer{stopAt: 1}
		viol := s.serve(validate.Wrap(app), vEnv())
		require.NotNil(t, viol)
		assert.Equal(t, validate.RuleYield, viol.Rule)
		assert.Equal(t, validate.SideApplication, viol.Side)
		assert.Contains(t, viol.Detail, "after yield returned false")
	})
	t.Run("yield after Chunks returned", func(t *testing.T) {
		var saved func([]byte) bool
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return gateway.Stream(func(yield func([]byte) bool) { saved = yield }, func() error {
				saved([]byte("late"))
				return nil
			})
		})
		var s vServer
		viol := s.serve(validate.Wrap(app), vEnv())
		require.NotNil(t, viol)
		assert.Equal(t, validate.RuleYield, viol.Rule)
		assert.Contains(t, viol.Detail, "after Chunks returned")
	})
	t.Run("start and write after Close", func(t *testing.T) {
		var start gateway.StartResponse
		var write gateway.WriteFunc
		app := gateway.AppFunc(func(env *gateway.Environ, st gateway.StartResponse) gateway.Body {
			start, write = st, st("200 OK", vText)
			return gateway.Strings("ok")
		})
		var s vServer
		require.Nil(t, s.serve(validate.Wrap(app), vEnv()))

		viol := vCatch(func() { _ = write([]byte("late")) })
		require.NotNil(t, viol)
		assert.Equal(t, validate.RuleAfterClose, viol.Rule)
		assert.Equal(t, validate.SideApplication, viol.Side)
		assert.Contains(t, viol.Detail, "write of 4 bytes after the Body was closed")

		viol = vCatch(func() { start("500 Internal Server Error", vText, errors.New("late")) })
		require.NotNil(t, viol)
		assert.Equal(t, validate.RuleAfterClose, viol.Rule)
		assert.Contains(t, viol.Detail, "called after the Body was closed")
	})
	t.Run("reported calls after the end go no further", func(t *testing.T) {
		var c vCollector
		var write gateway.WriteFunc
		var yield func([]byte) bool
		app := validate.WrapWith(gateway.AppFunc(func(env *gateway.Environ, st gateway.StartResponse) gateway.Body {
			write = st("200 OK", vText)
			return gateway.Stream(func(y func([]byte) bool) { yield = y; y([]byte("ok")) }, nil)
		}), c.report)
		var s vServer
		require.Nil(t, s.serve(app, vEnv()))
		assert.False(t, yield([]byte("late chunk")))
		assert.Error(t, write([]byte("late write")))
		assert.Equal(t, "ok", s.out.String(), "nothing reached the server")
		var rules []gateway.Rule
		for _, v := range c.all() {
			rules = append(rules, v.Rule)
		}
		assert.Equal(t, []gateway.Rule{validate.RuleAfterClose, validate.RuleAfterClose}, rules)
	})
	t.Run("reported Chunks and WriteTo after Close go no further", func(t *testing.T) {
		var c vCollector
		body := &testutil.WriterToBody{}
		app := validate.WrapWith(gateway.AppFunc(func(env *gateway.Environ, st gateway.StartResponse) gateway.Body {
			st("200 OK", vText)
			return body
		}), c.report)
		var s vServer
		got := app.ServeGateway(vEnv(), s.start)
		require.NoError(t, got.Close())
		got.Chunks(func([]byte) bool { return true })
		n, err := got.(io.WriterTo).WriteTo(io.Discard)
		assert.Zero(t, n)
		assert.Error(t, err)
		assert.Zero(t, body.Calls, "Chunks or WriteTo reached the application's closed body")
		var rules []gateway.Rule
		for _, v := range c.all() {
			rules = append(rules, v.Rule)
		}
		assert.Equal(t, []gateway.Rule{validate.RuleAfterClose, validate.RuleAfterClose}, rules)
	})
	t.Run("write during iteration is allowed", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			write := start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "6"))
			write([]byte("ab"))
			return gateway.Stream(func(yield func([]byte) bool) {
				_ = write([]byte("cd"))
				yield([]byte("ef"))
			}, nil)
		})
		var s vServer
		assert.Nil(t, s.serve(validate.Wrap(app), vEnv()))
		assert.Equal(t, "abcdef", s.out.String())
	})
	t.Run("a body that fails and says so may be short", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "10"))
			return gateway.Reader(iotest.TimeoutReader(strings.NewReader("abc")))
		})
		var s vServer
		assert.Nil(t, s.serve(validate.Wrap(app), vEnv()))
	})
	t.Run("no body needs no Content-Type", func(t *testing.T) {
		for _, status := range []string{"204 No Content", "304 Not Modified", "302 Found", "200 OK"} {
			app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				start(status, vHeaders("Location", "/x"))
				return gateway.Strings("", "")
			})
			var s vServer
			assert.Nil(t, s.serve(validate.Wrap(app), vEnv()), status)
		}
	})
	t.Run("HEAD may declare the GET's length", func(t *testing.T) {
		app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "1000"))
			return gateway.NoBody
		})
		env := vEnv()
		env.Method = http.MethodHead
		var s vServer
		assert.Nil(t, s.serve(validate.Wrap(app), env))
	})
}

func TestValidateEnviron(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(env *gateway.Environ)
		rule   gateway.Rule
		detail string
	}{
		{"empty method", func(e *gateway.Environ) { e.Method = "" }, validate.RuleEnvMethod, `REQUEST_METHOD = ""`},
		{"method with a space", func(e *gateway.Environ) { e.Method = "GE T" }, validate.RuleEnvMethod, `"GE T"`},
		{"relative SCRIPT_NAME", func(e *gateway.Environ) { e.ScriptName = "app" }, validate.RuleEnvScriptName, `SCRIPT_NAME = "app"`},
		{"SCRIPT_NAME /", func(e *gateway.Environ) { e.ScriptName = "/" }, validate.RuleEnvScriptName, `SCRIPT_NAME = "/"`},
		{"SCRIPT_NAME ending in /", func(e *gateway.Environ) { e.ScriptName = "/app/" }, validate.RuleEnvScriptName, `"/app/"`},
		{"relative PATH_INFO", func(e *gateway.Environ) { e.PathInfo = "x" }, validate.RuleEnvPathInfo, `PATH_INFO = "x"`},
		{"PATH_INFO * for GET", func(e *gateway.Environ) { e.PathInfo = "*" }, validate.RuleEnvPathInfo, `"*"`},
		{"QUERY_STRING with ?", func(e *gateway.Environ) { e.QueryString = "?a=1" }, validate.RuleEnvQueryString, `QUERY_STRING = "?a=1"`},
		{"negative CONTENT_LENGTH", func(e *gateway.Environ) { e.ContentLength = "-1" }, validate.RuleEnvContentLength, `CONTENT_LENGTH = "-1"`},
		{"CONTENT_LENGTH not digits", func(e *gateway.Environ) { e.ContentLength = "1e3" }, validate.RuleEnvContentLength, `"1e3"`},
		{"no SERVER_NAME", func(e *gateway.Environ) { e.ServerName = "" }, validate.RuleEnvServer, `SERVER_NAME = ""`},
		{"no SERVER_PORT", func(e *gateway.Environ) { e.ServerPort = "" }, validate.RuleEnvServer, `SERVER_PORT = ""`},
		{"SERVER_PORT a name", func(e *gateway.Environ) { e.ServerPort = "http" }, validate.RuleEnvServer, `SERVER_PORT = "http"`},
		{"SERVER_PROTOCOL without minor", func(e *gateway.Environ) { e.ServerProtocol = "HTTP/2" }, validate.RuleEnvProtocol, `SERVER_PROTOCOL = "HTTP/2"`},
		{"SERVER_PROTOCOL lower case", func(e *gateway.Environ) { e.ServerProtocol = "http/1.1" }, validate.RuleEnvProtocol, `"http/1.1"`},
		{"no SERVER_PROTOCOL", func(e *gateway.Environ) { e.ServerProtocol = "" }, validate.RuleEnvProtocol, `""`},
		{"url_scheme ftp", func(e *gateway.Environ) { e.URLScheme = "ftp" }, validate.RuleEnvScheme, `gateway.url_scheme = "ftp"`},
		{"no url_scheme", func(e *gateway.Environ) { e.URLScheme = "" }, validate.RuleEnvScheme, `""`},
		{"no input", func(e *gateway.Environ) { e.Input = nil }, validate.RuleEnvStreams, "gateway.input is nil"},
		{"no errors", func(e *gateway.Environ) { e.Errors = nil }, validate.RuleEnvStreams, "gateway.errors is nil"},
		{"http.NoBody with a length", func(e *gateway.Environ) { e.Method, e.ContentLength, e.Input = "POST", "5", http.NoBody },
			validate.RuleInputEOF, `gateway.input is http.NoBody, CONTENT_LENGTH = "5"`},
		{"no context", func(e *gateway.Environ) {
			c := *vEnvNoContext()
			*e = c
		}, validate.RuleEnvContext, "gateway.context was never set"},
		{"HTTP_CONTENT_TYPE", func(e *gateway.Environ) { e.Set("HTTP_CONTENT_TYPE", "text/plain") }, validate.RuleEnvContentHeader, `HTTP_CONTENT_TYPE = "text/plain"`},
		{"HTTP_CONTENT_LENGTH", func(e *gateway.Environ) { e.Set("HTTP_CONTENT_LENGTH", "3") }, validate.RuleEnvContentHeader, `HTTP_CONTENT_LENGTH = "3"`},
	}
	ran := false
	raw := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		ran = true
		start("200 OK", vText)
		return gateway.NoBody
	})
	app := validate.Wrap(raw)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := vEnv()
			tc.edit(env)
			ran = false
			var s vServer
			viol := s.serve(app, env)
			require.NotNil(t, viol, "no violation")
			assert.Equal(t, tc.rule, viol.Rule)
			assert.Equal(t, validate.SideServer, viol.Side)
			assert.Contains(t, viol.Detail, tc.detail)
			assert.Contains(t, viol.Error(), "validate: server broke "+tc.rule+": ")
			assert.False(t, ran, "the application ran on a broken environ")
		})
	}

	t.Run("correct environs", func(t *testing.T) {
		for _, edit := range []func(e *gateway.Environ){
			func(e *gateway.Environ) {},
			func(e *gateway.Environ) { e.PathInfo = "" },
			func(e *gateway.Environ) { e.Method, e.PathInfo = "OPTIONS", "*" },
			func(e *gateway.Environ) { e.ScriptName, e.PathInfo = "/app", "" },
			func(e *gateway.Environ) { e.ServerProtocol, e.URLScheme, e.ServerPort = "HTTP/2.0", "https", "443" },
			func(e *gateway.Environ) { e.ContentLength, e.Input = "0", http.NoBody },
			func(e *gateway.Environ) { e.QueryString = "a=?" },
			func(e *gateway.Environ) { e.Method = "PROPFIND" },
		} {
			env := vEnv()
			edit(env)
			var s vServer
			assert.Nil(t, s.serve(app, env), "%+v", env)
		}
	})

	t.Run("reporting finds every fault", func(t *testing.T) {
		var c vCollector
		env := vEnv()
		env.Method, env.QueryString, env.URLScheme = "", "?", "gopher"
		var s vServer
		require.Nil(t, s.serve(validate.WrapWith(raw, c.report), env))
		var rules []gateway.Rule
		for _, v := range c.all() {
			rules = append(rules, v.Rule)
		}
		assert.Equal(t, []gateway.Rule{validate.RuleEnvMethod, validate.RuleEnvQueryString, validate.RuleEnvScheme}, rules)
	})
}

func vEnvNoContext() *gateway.Environ {
	env := vEnv()
	return &gateway.Environ{
		Method: env.Method, PathInfo: env.PathInfo, ServerName: env.ServerName,
		ServerPort: env.ServerPort, ServerProtocol: env.ServerProtocol, URLScheme: env.URLScheme,
		Input: env.Input, Errors: env.Errors,
	}
}

func TestValidateServerCall(t *testing.T) {
	app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		return gateway.NoBody
	}))
	viol := vCatch(func() {
		app.ServeGateway(nil, func(string, gateway.Headers, ...error) gateway.WriteFunc { return nil })
	})
	require.NotNil(t, viol)
	assert.Equal(t, validate.RuleServerCall, viol.Rule)
	assert.Equal(t, validate.SideServer, viol.Side)

	viol = vCatch(func() { app.ServeGateway(vEnv(), nil) })
	require.NotNil(t, viol)
	assert.Equal(t, validate.RuleServerCall, viol.Rule)
}

// vReader is an io.Reader that plays back a script of results.
type vReader struct {
	script []vRead
}

type vRead struct {
	data string
	n    int // if data == "": the n to return
	err  error
}

func (r *vReader) Read(p []byte) (int, error) {
	if len(r.script) == 0 {
		return 0, io.EOF
	}
	step := r.script[0]
	r.script = r.script[1:]
	if step.data == "" {
		return step.n, step.err
	}
	return copy(p, step.data), step.err
}

func TestValidateInput(t *testing.T) {
	readAll := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		var buf [64]byte
		for i := 0; i < 4; i++ { // keep reading after the end, as an app may
			_, _ = env.Input.Read(buf[:])
		}
		start("200 OK", vText)
		return gateway.NoBody
	})
	cases := []struct {
		name   string
		length string
		input  io.Reader
		rule   gateway.Rule
		detail string
	}{
		{"past CONTENT_LENGTH", "3", strings.NewReader("hello"), validate.RuleInputPastEnd,
			"5 bytes read of a body whose CONTENT_LENGTH is 3"},
		{"EOF before CONTENT_LENGTH", "10", strings.NewReader("hello"), validate.RuleInputEOF,
			"io.EOF after 5 bytes of a body whose CONTENT_LENGTH is 10"},
		{"data after EOF", "", &vReader{[]vRead{{data: "ab"}, {err: io.EOF}, {data: "cd"}}}, validate.RuleInputEOF,
			"Read returned 2 bytes and error <nil> after io.EOF"},
		{"nil error after EOF", "", &vReader{[]vRead{{data: "ab", err: io.EOF}, {n: 0}}}, validate.RuleInputEOF,
			"Read returned 0 bytes and error <nil> after io.EOF"},
		{"n past the buffer", "", &vReader{[]vRead{{n: 100}}}, validate.RuleInputCount,
			"Read into 64 bytes returned n = 100"},
		{"negative n", "", &vReader{[]vRead{{n: -1}}}, validate.RuleInputCount, "n = -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := vEnv()
			env.Method, env.ContentLength, env.Input = "POST", tc.length, tc.input
			var s vServer
			viol := s.serve(validate.Wrap(readAll), env)
			require.NotNil(t, viol, "no violation")
			assert.Equal(t, tc.rule, viol.Rule)
			assert.Equal(t, validate.SideServer, viol.Side)
			assert.Contains(t, viol.Detail, tc.detail)
		})
	}

	t.Run("correct inputs", func(t *testing.T) {
		for name, tc := range map[string]struct {
			length string
			input  io.Reader
		}{
			"exact":                 {"5", strings.NewReader("hello")},
			"one byte at a time":    {"5", iotest.OneByteReader(strings.NewReader("hello"))},
			"data with EOF":         {"5", iotest.DataErrReader(strings.NewReader("hello"))},
			"chunked, no length":    {"", strings.NewReader("hello")},
			"truncated is an error": {"10", io.MultiReader(strings.NewReader("hello"), iotest.ErrReader(io.ErrUnexpectedEOF))},
			"client gone":           {"10", iotest.ErrReader(errors.New("connection reset"))},
		} {
			env := vEnv()
			env.Method, env.ContentLength, env.Input = "POST", tc.length, tc.input
			var s vServer
			assert.Nil(t, s.serve(validate.Wrap(readAll), env), name)
		}
	})

	t.Run("the input keeps its shape", func(t *testing.T) {
		var got io.Reader
		app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			got = env.Input
			start("200 OK", vText)
			return gateway.NoBody
		}))
		env := vEnv()
		env.Input = http.NoBody
		var s vServer
		require.Nil(t, s.serve(app, env))
		assert.True(t, got == http.NoBody, "http.NoBody is passed as is")

		closed := false
		env = vEnv()
		env.Input = vReadCloser{strings.NewReader("x"), &closed}
		require.Nil(t, s.serve(app, env))
		rc, ok := got.(io.ReadCloser)
		require.True(t, ok, "an io.ReadCloser input stays one")
		require.NoError(t, rc.Close())
		assert.True(t, closed)

		env = vEnv()
		require.Nil(t, s.serve(app, env))
		_, ok = got.(io.Closer)
		assert.False(t, ok, "a plain reader does not become a Closer")
	})
}

type vReadCloser struct {
	io.Reader
	closed *bool
}

func (r vReadCloser) Close() error { *r.closed = true; return nil }

func TestValidateServerBodyRules(t *testing.T) {
	hello := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", vText)
		return gateway.Strings("hello")
	}))
	all := func([]byte) bool { return true }
	cases := []struct {
		name   string
		misuse func(body gateway.Body)
		rule   gateway.Rule
		detail string
	}{
		{"Chunks twice", func(b gateway.Body) { b.Chunks(all); b.Chunks(all) },
			validate.RuleIterateOnce, "Chunks called on a body already iterated"},
		{"WriteTo after Chunks", func(b gateway.Body) { b.Chunks(all); _, _ = b.(io.WriterTo).WriteTo(io.Discard) },
			validate.RuleIterateOnce, "WriteTo called on a body already iterated"},
		{"Chunks after Close", func(b gateway.Body) { _ = b.Close(); b.Chunks(all) },
			validate.RuleAfterClose, "Chunks called after Close"},
		{"WriteTo after Close", func(b gateway.Body) { _ = b.Close(); _, _ = b.(io.WriterTo).WriteTo(io.Discard) },
			validate.RuleAfterClose, "WriteTo called after Close"},
		{"Close twice", func(b gateway.Body) { b.Chunks(all); _ = b.Close(); _ = b.Close() },
			validate.RuleCloseOnce, "Close called a second time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s vServer
			body := hello.ServeGateway(vEnv(), s.start)
			viol := vCatch(func() { tc.misuse(body) })
			require.NotNil(t, viol, "no violation")
			assert.Equal(t, tc.rule, viol.Rule)
			assert.Equal(t, validate.SideServer, viol.Side)
			assert.Contains(t, viol.Detail, tc.detail)
			_ = vCatch(func() { _ = body.Close() })
		})
	}

	t.Run("Close twice closes the application's body once", func(t *testing.T) {
		closes := 0
		app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return gateway.Stream(func(func([]byte) bool) {}, func() error { closes++; return nil })
		}))
		var s vServer
		body := app.ServeGateway(vEnv(), s.start)
		require.NoError(t, body.Close())
		require.NotNil(t, vCatch(func() { _ = body.Close() }))
		assert.Equal(t, 1, closes)
	})

	t.Run("start returns no write", func(t *testing.T) {
		app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return gateway.NoBody
		}))
		viol := vCatch(func() {
			app.ServeGateway(vEnv(), func(string, gateway.Headers, ...error) gateway.WriteFunc { return nil })
		})
		require.NotNil(t, viol)
		assert.Equal(t, validate.RuleServerWrite, viol.Rule)
		assert.Equal(t, validate.SideServer, viol.Side)
	})

	t.Run("a body never closed is reported", func(t *testing.T) {
		var c vCollector
		app := validate.WrapWith(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return gateway.Strings("dropped")
		}), c.report)
		var s vServer
		func() {
			body := app.ServeGateway(vEnv(), s.start)
			body.Chunks(all)
		}()
		require.Eventually(t, func() bool {
			runtime.GC()
			return len(c.all()) > 0
		}, 5*time.Second, 10*time.Millisecond)
		viol := c.all()[0]
		assert.Equal(t, validate.RuleCloseOnce, viol.Rule)
		assert.Equal(t, validate.SideServer, viol.Side)
		assert.Contains(t, viol.Detail, "dropped without a call to Close")
	})

	t.Run("without report, a body never closed goes to gateway.errors", func(t *testing.T) {
		out := &testutil.SyncBuffer{}
		app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return gateway.NoBody
		}))
		func() {
			env := vEnv()
			env.Errors = out
			var s vServer
			_ = app.ServeGateway(env, s.start)
		}()
		require.Eventually(t, func() bool {
			runtime.GC()
			return out.String() != ""
		}, 5*time.Second, 10*time.Millisecond)
		assert.Equal(t, "validate: server broke "+string(validate.RuleCloseOnce)+": the Body was dropped without a call to Close\n", out.String())
	})
}

func TestValidateKeepsOptionalMethods(t *testing.T) {
	serve := func(body gateway.Body) gateway.Body {
		app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return body
		}))
		var s vServer
		return app.ServeGateway(vEnv(), s.start)
	}

	b := serve(gateway.Strings("ab", "cd"))
	assert.EqualValues(t, 4, gateway.BodyLen(b))
	_, ok := b.(io.WriterTo)
	assert.True(t, ok, "a WriterTo body stays one")
	var out bytes.Buffer
	n, err := b.(io.WriterTo).WriteTo(&out)
	require.NoError(t, err)
	assert.EqualValues(t, 4, n)
	assert.Equal(t, "abcd", out.String())
	require.NoError(t, b.Close())

	b = serve(gateway.OnClose(gateway.Bytes([]byte("xyz")), func() {}))
	assert.EqualValues(t, 3, gateway.BodyLen(b), "Len is found through Unwrap")
	_, ok = b.(io.WriterTo)
	assert.True(t, ok, "WriterTo is found through Unwrap")
	_, ok = b.(interface{ Unwrap() gateway.Body })
	assert.False(t, ok, "the wrapper does not unwrap past its checks")
	require.NoError(t, b.Close())

	b = serve(gateway.Stream(func(yield func([]byte) bool) { yield([]byte("s")) }, nil))
	assert.EqualValues(t, -1, gateway.BodyLen(b))
	_, ok = b.(io.WriterTo)
	assert.False(t, ok, "a Stream has no WriteTo")
	require.NoError(t, b.Close())

	failure := errors.New("disk on fire")
	b = serve(gateway.Reader(iotest.ErrReader(failure)))
	b.Chunks(func([]byte) bool { return true })
	assert.ErrorIs(t, gateway.BodyErr(b), failure, "Err is passed through")
	require.NoError(t, b.Close())
}

func TestValidateWriteToChecksEveryByte(t *testing.T) {
	t.Run("over Content-Length", func(t *testing.T) {
		app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "2"))
			return gateway.Strings("ab", "cd")
		}))
		var s vServer
		body := app.ServeGateway(vEnv(), s.start)
		defer body.Close()
		var out bytes.Buffer
		viol := vCatch(func() { _, _ = body.(io.WriterTo).WriteTo(&out) })
		require.NotNil(t, viol)
		assert.Equal(t, validate.RuleLengthOver, viol.Rule)
		assert.Contains(t, viol.Detail, "WriteTo's Write of 2 bytes after 2")
		assert.Equal(t, "ab", out.String())
	})
	t.Run("no Content-Type", func(t *testing.T) {
		app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", nil)
			return gateway.Strings("ab")
		}))
		var s vServer
		body := app.ServeGateway(vEnv(), s.start)
		defer body.Close()
		viol := vCatch(func() { _, _ = body.(io.WriterTo).WriteTo(io.Discard) })
		require.NotNil(t, viol)
		assert.Equal(t, validate.RuleContentType, viol.Rule)
	})
	t.Run("short", func(t *testing.T) {
		app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "9"))
			return gateway.Strings("ab")
		}))
		var s vServer
		body := app.ServeGateway(vEnv(), s.start)
		defer body.Close()
		viol := vCatch(func() { _, _ = body.(io.WriterTo).WriteTo(io.Discard) })
		require.NotNil(t, viol)
		assert.Equal(t, validate.RuleLengthShort, viol.Rule)
	})
	t.Run("a file through ReadFrom", func(t *testing.T) {
		for name, tc := range map[string]struct {
			declared string
			rule     gateway.Rule
		}{
			"exact":   {"10", ""},
			"longer":  {"4", validate.RuleLengthOver},
			"shorter": {"20", validate.RuleLengthShort},
		} {
			path := filepath.Join(t.TempDir(), "f")
			require.NoError(t, os.WriteFile(path, []byte("0123456789"), 0o600))
			app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				f, err := os.Open(path)
				require.NoError(t, err)
				start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", tc.declared))
				return gateway.File(f)
			}))
			var s vServer
			body := app.ServeGateway(vEnv(), s.start)
			rf := &vLimitedReaderFrom{limit: 10}
			if tc.declared == "4" {
				rf.limit = 4
			}
			viol := vCatch(func() { _, _ = body.(io.WriterTo).WriteTo(rf) })
			require.NoError(t, body.Close())
			assert.True(t, rf.used, "%s: ReadFrom was used", name)
			if tc.rule == "" {
				assert.Nil(t, viol, name)
				continue
			}
			require.NotNil(t, viol, name)
			assert.Equal(t, tc.rule, viol.Rule, name)
		}
	})
}

// vReaderBody is a WriterTo body that hands its reader to the server's
// ReadFrom, as a file body does for sendfile.
type vReaderBody struct{ r io.Reader }

func (b vReaderBody) Chunks(yield func([]byte) bool) {}
func (b vReaderBody) Close() error                   { return nil }
func (b vReaderBody) WriteTo(w io.Writer) (int64, error) {
	return w.(io.ReaderFrom).ReadFrom(b.r)
}

// vRecordingReaderFrom records the reader its ReadFrom gets.
type vRecordingReaderFrom struct {
	bytes.Buffer
	got io.Reader
}

func (w *vRecordingReaderFrom) ReadFrom(r io.Reader) (int64, error) {
	w.got = r
	return w.Buffer.ReadFrom(r)
}

func TestValidatePassesTheBodysReaderToReadFrom(t *testing.T) {
	src := strings.NewReader("file contents")
	app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", vText)
		return vReaderBody{src}
	}))
	var s vServer
	body := app.ServeGateway(vEnv(), s.start)
	var w vRecordingReaderFrom
	_, err := body.(io.WriterTo).WriteTo(&w)
	require.NoError(t, err)
	require.NoError(t, body.Close())
	assert.True(t, w.got == io.Reader(src), "the server's ReadFrom gets the body's own reader, which sendfile needs")
	assert.Equal(t, "file contents", w.String())
}

// vLimitedReaderFrom is a server writer with ReadFrom that, like
// HTTPHandler's, takes no more than the declared length.
type vLimitedReaderFrom struct {
	bytes.Buffer
	limit int64
	used  bool
}

func (w *vLimitedReaderFrom) ReadFrom(r io.Reader) (int64, error) {
	w.used = true
	return w.Buffer.ReadFrom(io.LimitReader(r, w.limit))
}

// Through gateway.Handler.

// vExchange is what a client sees of one response.
type vExchange struct {
	Status           string
	Header           http.Header
	Body             string
	ContentLength    int64
	TransferEncoding []string
}

func vDo(t *testing.T, h http.Handler, method, target string, body io.Reader) vExchange {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+target, body)
	require.NoError(t, err)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Header.Del("Date")
	return vExchange{resp.Status, resp.Header, string(data), resp.ContentLength, resp.TransferEncoding}
}

// vCorrectApps are applications that keep every rule, one of each shape.
func vCorrectApps(t *testing.T) map[string]gateway.AppFunc {
	filePath := filepath.Join(t.TempDir(), "page.txt")
	require.NoError(t, os.WriteFile(filePath, bytes.Repeat([]byte("file "), 2000), 0o600))

	return map[string]gateway.AppFunc{
		"strings": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return gateway.Strings("Hello, ", "world")
		},
		"one chunk": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return gateway.Strings("Hello")
		},
		"declared length": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "5", "Set-Cookie", "a=1", "Set-Cookie", "b=2"))
			return gateway.Stream(func(yield func([]byte) bool) {
				_ = yield([]byte("he")) && yield(nil) && yield([]byte("llo"))
			}, nil)
		},
		"lazy start": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			return gateway.Stream(func(yield func([]byte) bool) {
				start("201 Created", vText)
				yield([]byte("made"))
			}, nil)
		},
		"write callable": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			write := start("200 OK", vText)
			_ = write([]byte("written "))
			return gateway.Strings("and returned")
		},
		"file": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			f, err := os.Open(filePath)
			if err != nil {
				panic(err)
			}
			start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "10000"))
			return gateway.File(f)
		},
		"reader": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return gateway.Reader(strings.NewReader(strings.Repeat("r", 100000)))
		},
		"no content": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("204 No Content", nil)
			return gateway.NoBody
		},
		"redirect": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("302 Found", vHeaders("Location", "/elsewhere"))
			return gateway.NoBody
		},
		"echo": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			data, err := io.ReadAll(env.Input)
			if err != nil {
				panic(err)
			}
			start("200 OK", vText)
			return gateway.Bytes(data)
		},
		"net/http handler": gateway.FromHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "page.txt", time.Unix(0, 0), strings.NewReader("served content"))
		})).ServeGateway,
		"error page": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/html", "Content-Length", "100"))
			start("500 Internal Server Error", vText, errors.New("changed my mind"))
			return gateway.Strings("sorry")
		},
	}
}

// Under CGI, the correct applications of the Handler's test break no rule
// either, the server's included, and Validate changes nothing they send.
func TestValidateCorrectAppsUnderCGI(t *testing.T) {
	run := func(app gateway.Application) string {
		var out bytes.Buffer
		err := (&cgi.Server{App: app, Env: vCGIEnv, Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard}).Serve()
		require.NoError(t, err)
		return out.String()
	}
	for name, app := range vCorrectApps(t) {
		t.Run(name, func(t *testing.T) {
			var c vCollector
			plain := run(app)
			checked := run(validate.WrapWith(app, c.report))
			assert.Empty(t, c.all(), "violations")
			assert.Equal(t, plain, checked, "Validate changed the response")
		})
	}
}

// vCGIEnv is the environment a CGI server gives a GET of /app.cgi/x.
var vCGIEnv = []string{
	"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET", "SCRIPT_NAME=/app.cgi", "PATH_INFO=/x",
	"QUERY_STRING=", "SERVER_NAME=example.org", "SERVER_PORT=80", "SERVER_PROTOCOL=HTTP/1.1",
	"REMOTE_ADDR=192.0.2.1", "REMOTE_PORT=50000", "REQUEST_URI=/app.cgi/x",
}

func TestValidateCorrectAppsUnderHandler(t *testing.T) {
	apps := vCorrectApps(t)
	for name, app := range apps {
		for _, method := range []string{"GET", "HEAD", "POST"} {
			t.Run(name+" "+method, func(t *testing.T) {
				var c vCollector
				var reqBody func() io.Reader = func() io.Reader { return nil }
				if method == "POST" {
					reqBody = func() io.Reader { return strings.NewReader("posted data") }
				}
				plain := vDo(t, gateway.Handler(app), method, "/x?q=1", reqBody())
				checked := vDo(t, gateway.Handler(validate.WrapWith(app, c.report)), method, "/x?q=1", reqBody())
				assert.Empty(t, c.all(), "violations")
				assert.Equal(t, plain, checked, "Validate changed the response")
				if method == "HEAD" {
					assert.Empty(t, checked.Body)
				}
			})
		}
	}

	t.Run("chunked request body", func(t *testing.T) {
		var c vCollector
		body := io.MultiReader(strings.NewReader("chunked "), strings.NewReader("upload"))
		got := vDo(t, gateway.Handler(validate.WrapWith(apps["echo"], c.report)), "PUT", "/", struct{ io.Reader }{body})
		assert.Empty(t, c.all())
		assert.Equal(t, "chunked upload", got.Body)
	})

	t.Run("HEAD of a known length", func(t *testing.T) {
		var c vCollector
		got := vDo(t, gateway.Handler(validate.WrapWith(apps["one chunk"], c.report)), "HEAD", "/", nil)
		assert.Empty(t, c.all())
		assert.Equal(t, "5", got.Header.Get("Content-Length"))
	})
}

func TestValidateStreamsUnderHandler(t *testing.T) {
	received := make(chan struct{})
	done := make(chan struct{})
	app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", vText)
		return gateway.Stream(func(yield func([]byte) bool) {
			if !yield([]byte("first\n")) {
				return
			}
			select { // the client must have the first chunk before the second is made
			case <-received:
			case <-time.After(5 * time.Second):
				yield([]byte("TIMEOUT\n"))
				return
			}
			yield([]byte("second\n"))
		}, func() error { close(done); return nil })
	}))
	srv := httptest.NewServer(gateway.Handler(app))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line)
	close(received)
	line, err = r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "second\n", line)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the body was not closed")
	}
}

func TestValidateUnderHandlerAnswers500(t *testing.T) {
	var logBuf testutil.SyncBuffer
	app := validate.Wrap(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", vHeaders("Content-Type", "text/plain", "Proxy-Authenticate", "Basic"))
		return gateway.Strings("hi")
	}))
	h := &gateway.HTTPHandler{App: app, ErrorLog: log.New(&logBuf, "", 0)}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, logBuf.String(), `validate: application broke `+gateway.RuleHopByHop+`: header "Proxy-Authenticate": "Basic"`)
}

func TestValidateExcInfo(t *testing.T) {
	t.Run("before the headers went out", func(t *testing.T) {
		var c vCollector
		app := validate.WrapWith(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vHeaders("Content-Type", "text/html", "Content-Length", "1000"))
			return gateway.Stream(func(yield func([]byte) bool) {
				if !yield(nil) { // empty chunks send nothing: the start can still be replaced
					return
				}
				start("503 Service Unavailable", vText, errors.New("backend down"))
				yield([]byte("try later"))
			}, nil)
		}), c.report)
		rec := httptest.NewRecorder()
		gateway.Handler(app).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		assert.Empty(t, c.all())
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "try later", rec.Body.String())
	})
	t.Run("after an empty write sent the headers", func(t *testing.T) {
		var c vCollector
		app := validate.WrapWith(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			write := start("200 OK", vHeaders("Content-Type", "text/plain", "Content-Length", "10"))
			_ = write(nil)
			// Too late: the server aborts the response, and the 204 never
			// applies to what follows.
			start("204 No Content", nil, errors.New("too late"))
			return gateway.Strings("x")
		}), c.report)
		var s vServer
		assert.Nil(t, s.serve(app, vEnv()))
		assert.Empty(t, c.all())
	})
	t.Run("after the headers went out", func(t *testing.T) {
		var c vCollector
		closed := make(chan struct{})
		app := validate.WrapWith(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", vText)
			return gateway.Stream(func(yield func([]byte) bool) {
				if !yield([]byte("partial")) {
					return
				}
				start("500 Internal Server Error", vText, errors.New("failed midway"))
				yield([]byte("error page")) // the server says false: nothing more
			}, func() error { close(closed); return nil })
		}), c.report)
		srv := httptest.NewServer(&gateway.HTTPHandler{App: app, ErrorLog: log.New(io.Discard, "", 0)})
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL)
		require.NoError(t, err)
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Error(t, err, "the response is aborted, not passed off as complete")
		assert.Equal(t, "partial", string(data))
		<-closed
		assert.Empty(t, c.all())
	})
}

// TestValidateHandlerHTTP10 checks the environ HTTPHandler builds for an
// HTTP/1.0 request without a Host header, the one without a host name.
func TestValidateHandlerHTTP10(t *testing.T) {
	var c vCollector
	app := validate.WrapWith(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", vText)
		return gateway.Strings("ok")
	}), c.report)
	srv := httptest.NewServer(gateway.Handler(app))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprint(conn, "GET / HTTP/1.0\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "ok", string(data))
	assert.Empty(t, c.all())
}
