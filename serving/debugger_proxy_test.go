package serving

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"

	"github.com/vial-go/vial/gateway"
)

// dbgProxied is a request from a proxy on this host (REMOTE_ADDR
// 127.0.0.1) with the header name: value.
func dbgProxied(name, value string, errs io.Writer) *gateway.Environ {
	env := dbgRemoteEnviron("127.0.0.1", errs)
	env.Header.Add(name, value)
	return env
}

// dbgServe runs one request through a Debugger of a panicking app and
// returns what the client got.
func dbgServe(t *testing.T, opts DebuggerOptions, env *gateway.Environ) (*dbgRecorder, string) {
	t.Helper()
	var line atomic.Int64
	rec := &dbgRecorder{}
	body := NewDebugger(dbgPanickingApp(&line), opts).ServeGateway(env, rec.start)
	page := dbgCollect(body)
	require.NoError(t, body.Close())
	return rec, page
}

func TestDebuggerHidesThePageFromAClientBehindALocalProxy(t *testing.T) {
	for _, h := range [][2]string{
		{"X-Forwarded-For", "203.0.113.7"},
		{"X-Forwarded-For", "203.0.113.7, 127.0.0.1"},
		{"X-Forwarded-For", "127.0.0.1, 203.0.113.7"}, // a client sending a loopback X-Forwarded-For itself
		{"X-Forwarded-For", "unknown"},
		{"X-Forwarded-For", ""},
		{"Forwarded", "for=203.0.113.7;proto=https"},
		{"Forwarded", `For="[2001:db8:cafe::17]:4711"`},
		{"Forwarded", "for=127.0.0.1, for=198.51.100.2"},
		{"Forwarded", "for=_hidden"},
		{"Forwarded", "proto=https"}, // names no client
		{"X-Real-IP", "10.0.0.5"},
	} {
		t.Run(h[0]+": "+h[1], func(t *testing.T) {
			var errs bytes.Buffer
			rec, page := dbgServe(t, DebuggerOptions{}, dbgProxied(h[0], h[1], &errs))

			assert.Equal(t, "500 Internal Server Error", rec.status)
			assert.Equal(t, plainInternalError, page)
			assert.False(t, rec.headers.Has("X-Vial-Debugger"))
			assert.Contains(t, errs.String(), "(no page: ")
			assert.Contains(t, errs.String(), "the proxy at 127.0.0.1")
			assert.Contains(t, errs.String(), "boom <script>", "the panic is still logged")
		})
	}
}

func TestDebuggerRefusalNamesTheForwardedClient(t *testing.T) {
	var errs bytes.Buffer
	dbgServe(t, DebuggerOptions{}, dbgProxied("X-Forwarded-For", "127.0.0.1, 203.0.113.7", &errs))
	assert.Contains(t, errs.String(),
		"(no page: client 203.0.113.7 (X-Forwarded-For, from the proxy at 127.0.0.1) is not a loopback address)")
}

func TestDebuggerShowsThePageToALoopbackClientBehindALocalProxy(t *testing.T) {
	for _, h := range [][2]string{
		{"X-Forwarded-For", "127.0.0.1"},
		{"X-Forwarded-For", "::1, 127.0.0.2"},
		{"Forwarded", `for="[::1]:5000";proto=http`},
		{"Forwarded", "for=127.0.0.1, for=127.0.0.1:80"},
		{"X-Real-IP", "127.0.0.1"},
	} {
		t.Run(h[0]+": "+h[1], func(t *testing.T) {
			rec, page := dbgServe(t, DebuggerOptions{}, dbgProxied(h[0], h[1], io.Discard))
			assert.Equal(t, "1", rec.headers.Get("X-Vial-Debugger"))
			assert.Contains(t, page, "boom &lt;script&gt;")
		})
	}
}

func TestDebuggerTrustLocalProxyAndAllowRemoteShowThePage(t *testing.T) {
	for name, opts := range map[string]DebuggerOptions{
		"TrustLocalProxy": {TrustLocalProxy: true},
		"AllowRemote":     {AllowRemote: true},
	} {
		t.Run(name, func(t *testing.T) {
			rec, page := dbgServe(t, opts, dbgProxied("X-Forwarded-For", "203.0.113.7", io.Discard))
			assert.Equal(t, "1", rec.headers.Get("X-Vial-Debugger"))
			assert.Contains(t, page, "boom &lt;script&gt;")
		})
	}
	// TrustLocalProxy trusts a proxy on this host only.
	rec, page := dbgServe(t, DebuggerOptions{TrustLocalProxy: true}, dbgRemoteEnviron("10.1.2.3", io.Discard))
	assert.False(t, rec.headers.Has("X-Vial-Debugger"))
	assert.Equal(t, plainInternalError, page)
}

func TestDebuggerForwardedClients(t *testing.T) {
	h := http.Header{}
	h.Add("X-Real-IP", "192.0.2.9")
	h.Add("Forwarded", `for="[2001:db8::1]:80";proto=https, by=x;FOR="a\"b,c" , for=192.0.2.1`)
	h.Add("X-Forwarded-For", " 192.0.2.3 ,, 192.0.2.4")
	h.Add("X-Forwarded-For", "192.0.2.5")
	clients, first := forwardedClients(h)
	assert.Equal(t, "X-Forwarded-For", first)
	assert.Equal(t, []forwardedClient{
		{"X-Forwarded-For", "192.0.2.3"}, {"X-Forwarded-For", "192.0.2.4"}, {"X-Forwarded-For", "192.0.2.5"},
		{"Forwarded", "[2001:db8::1]:80"}, {"Forwarded", `a"b,c`}, {"Forwarded", "192.0.2.1"},
		{"X-Real-Ip", "192.0.2.9"},
	}, clients)

	clients, first = forwardedClients(http.Header{"Accept": {"*/*"}})
	assert.Empty(t, clients)
	assert.Empty(t, first)
}

// The dev server: a proxy's request is answered as the debugger decides,
// and the first one makes the server warn.

const proxyWarning = " * Warning: a request came through a proxy (X-Forwarded-For from 127.0.0.1): " +
	"the debugger is shown only to clients whose forwarded address is loopback\n"

// proxiedGet asks for url as text, with the header name: value when name
// is not empty.
func proxiedGet(t *testing.T, c *http.Client, url, name, value string) (*http.Response, string) {
	t.Helper()
	header := []string{"Accept", "text/plain"}
	if name != "" {
		header = append(header, name, value)
	}
	return testutil.Fetch(t, c, "GET", url, nil, header...)
}

var panicRoute = routes{"/panic": func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	panic("shown by the debugger")
}}

func TestDevServerWarnsOnceOfAProxy(t *testing.T) {
	s, out := startServer(t, panicRoute, Options{UseDebugger: true})
	c, _ := newClient(t)

	resp, _ := proxiedGet(t, c, s.URL()+"/panic", "", "")
	assert.Equal(t, "1", resp.Header.Get("X-Vial-Debugger"), "a local client sees the page")
	assert.NotContains(t, out.String(), "Warning: a request came through a proxy")

	resp, body := proxiedGet(t, c, s.URL()+"/panic", "X-Forwarded-For", "203.0.113.7")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, plainInternalError, body, "the proxy's remote client does not")
	assert.Empty(t, resp.Header.Get("X-Vial-Debugger"))

	resp, _ = proxiedGet(t, c, s.URL()+"/panic", "X-Forwarded-For", "127.0.0.1")
	assert.Equal(t, "1", resp.Header.Get("X-Vial-Debugger"), "the proxy's local client does")
	proxiedGet(t, c, s.URL()+"/", "Forwarded", "for=203.0.113.8")

	assert.Equal(t, 1, strings.Count(out.String(), " * Warning: a request came through a proxy"), out.String())
	assert.Contains(t, out.String(), proxyWarning)
}

func TestDevServerProxyWarningWithTrustLocalProxy(t *testing.T) {
	s, out := startServer(t, panicRoute, Options{UseDebugger: true, DebuggerTrustLocalProxy: true})
	c, _ := newClient(t)
	resp, _ := proxiedGet(t, c, s.URL()+"/panic", "X-Real-Ip", "203.0.113.7")
	assert.Equal(t, "1", resp.Header.Get("X-Vial-Debugger"))
	assert.Contains(t, out.String(), " * Warning: a request came through a proxy (X-Real-Ip from 127.0.0.1): "+
		"the debugger is shown to every client of the proxy (DebuggerTrustLocalProxy)\n")
}

func TestDevServerNoProxyWarningWithoutTheDebugger(t *testing.T) {
	for name, opts := range map[string]Options{
		"no debugger": {DebugMode: true},
		"AllowRemote": {UseDebugger: true, DebuggerAllowRemote: true},
	} {
		t.Run(name, func(t *testing.T) {
			s, out := startServer(t, gateway.AppFunc(helloApp), opts)
			c, _ := newClient(t)
			resp, _ := proxiedGet(t, c, s.URL()+"/", "X-Forwarded-For", "203.0.113.7")
			assert.Equal(t, 200, resp.StatusCode)
			assert.NotContains(t, out.String(), "Warning: a request came through a proxy")
		})
	}
}
