package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/gatewaytest"
)

// FromHandler is tested by running the same net/http handler natively and
// through Handler(FromHandler(h)), and checking both the same way: the
// gateway must not be visible to the handler or to the client.

// hBoth runs check once against h served natively and once against h served
// through the gateway. tls serves both over https.
func hBoth(t *testing.T, h http.Handler, tls bool, check func(t *testing.T, srv *httptest.Server)) {
	t.Helper()
	servers := []struct {
		name string
		h    http.Handler
	}{
		{"native", h},
		{"gateway", &gateway.HTTPHandler{App: gateway.FromHandler(h), ErrorLog: hDiscardLog}},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			var srv *httptest.Server
			if tls {
				srv = httptest.NewTLSServer(s.h)
			} else {
				srv = httptest.NewServer(s.h)
			}
			defer srv.Close()
			check(t, srv)
		})
	}
}

func TestFromHandlerResponse(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("X-Custom", "yes")
		w.WriteHeader(http.StatusCreated)
		w.Header().Set("X-Too-Late", "ignored") // after WriteHeader: not sent
		io.WriteString(w, "created ")
		io.WriteString(w, "it")
	})
	hBoth(t, h, false, func(t *testing.T, srv *httptest.Server) {
		resp, got, err := hGet(t, srv.URL)
		require.NoError(t, err)
		assert.Equal(t, 201, resp.StatusCode)
		assert.Equal(t, "201 Created", resp.Status)
		assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Equal(t, []string{"a=1", "b=2"}, resp.Header.Values("Set-Cookie"))
		assert.Equal(t, "yes", resp.Header.Get("X-Custom"))
		assert.Empty(t, resp.Header.Get("X-Too-Late"))
		assert.EqualValues(t, len("created it"), resp.ContentLength, "a small body gets its length")
		assert.Equal(t, "created it", string(got))
	})
}

func TestFromHandlerDefaults(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			io.WriteString(w, "<!DOCTYPE html><html><body>hi</body></html>")
		case "/nosniff":
			w.Header()["Content-Type"] = nil
			io.WriteString(w, "<html>")
		case "/empty":
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100000)))
		}
	})
	hBoth(t, h, false, func(t *testing.T, srv *httptest.Server) {
		resp, got, err := hGet(t, srv.URL+"/html")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), "sniffed")
		assert.Contains(t, string(got), "hi")

		resp, _, err = hGet(t, srv.URL+"/nosniff")
		require.NoError(t, err)
		assert.Empty(t, resp.Header.Values("Content-Type"), "sniffing suppressed")

		resp, got, err = hGet(t, srv.URL+"/empty")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.EqualValues(t, 0, resp.ContentLength)
		assert.Empty(t, got)

		resp, got, err = hGet(t, srv.URL+"/big")
		require.NoError(t, err)
		assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
		assert.Len(t, got, 100000)
	})
}

func TestFromHandlerStreamsWithFlush(t *testing.T) {
	var clientRead chan struct{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select { // the handler has not returned: the flush reached the client
		case <-clientRead:
			io.WriteString(w, "second\n")
		case <-time.After(hTimeout):
			io.WriteString(w, "timeout\n")
		}
	})
	hBoth(t, h, false, func(t *testing.T, srv *httptest.Server) {
		clientRead = make(chan struct{})
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		r := bufio.NewReader(resp.Body)
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, "first\n", line)
		close(clientRead)
		rest, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Equal(t, "second\n", string(rest))
	})
}

func TestFromHandlerFlushSendsHeaders(t *testing.T) {
	var headersOut chan struct{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Early", "1")
		w.WriteHeader(http.StatusAccepted)
		assert.NoError(t, http.NewResponseController(w).Flush())
		select {
		case <-headersOut:
		case <-time.After(hTimeout):
		}
		io.WriteString(w, "late")
	})
	hBoth(t, h, false, func(t *testing.T, srv *httptest.Server) {
		headersOut = make(chan struct{})
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, 202, resp.StatusCode)
		assert.Equal(t, "1", resp.Header.Get("X-Early"))
		close(headersOut)
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, "late", string(got))
	})
}

// hSeenRequest is what a handler saw of its request.
type hSeenRequest struct {
	Method, Path, RawQuery, Host, RequestURI, Proto string
	RemoteHost                                      string
	RemotePortOK                                    bool
	Header                                          http.Header
	Body                                            string
	ContentLength                                   int64
	TLS                                             bool
}

func hRecordRequest(ch chan<- hSeenRequest) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		host, port, err := net.SplitHostPort(r.RemoteAddr)
		header := r.Header.Clone()
		header.Del("Accept-Encoding")
		ch <- hSeenRequest{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host,
			RequestURI: r.RequestURI, Proto: r.Proto,
			RemoteHost: host, RemotePortOK: err == nil && port != "" && port != "0",
			Header: header, Body: string(body), ContentLength: r.ContentLength, TLS: r.TLS != nil,
		}
		io.WriteString(w, "seen")
	}
}

func TestFromHandlerRequest(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			var seen []hSeenRequest
			ch := make(chan hSeenRequest, 1)
			hBoth(t, hRecordRequest(ch), tls, func(t *testing.T, srv *httptest.Server) {
				req, err := http.NewRequest(http.MethodPut, srv.URL+"/p%20q/r?s=t&u=%20", strings.NewReader("the body"))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "text/plain")
				req.Header.Add("X-Multi", "1")
				req.Header.Add("X-Multi", "2")
				resp, err := srv.Client().Do(req)
				require.NoError(t, err)
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, "seen", string(got))
				s := testutil.Wait(t, ch, "the handler")
				assert.Equal(t, tls, s.TLS)
				assert.True(t, s.RemotePortOK)
				s.Host = strings.TrimPrefix(s.Host, strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://"))
				seen = append(seen, s)
			})
			require.Len(t, seen, 2)
			assert.Equal(t, seen[0], seen[1], "native and gateway requests differ")
			assert.Equal(t, "/p q/r", seen[0].Path)
			assert.Equal(t, "the body", seen[0].Body)
			assert.Equal(t, []string{"1", "2"}, seen[1].Header.Values("X-Multi"))
			assert.Equal(t, "127.0.0.1", seen[1].RemoteHost)
		})
	}
}

func TestFromHandlerContextCancelled(t *testing.T) {
	var started chan struct{}
	var result chan error
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			result <- r.Context().Err()
		case <-time.After(hTimeout):
			result <- errors.New("the request context was not cancelled")
		}
	})
	hBoth(t, h, false, func(t *testing.T, srv *httptest.Server) {
		started, result = make(chan struct{}), make(chan error, 1)
		hGetCancelled(t, srv.URL, started)
		assert.ErrorIs(t, testutil.Wait(t, result, "the handler"), context.Canceled)
	})
}

func TestFromHandlerWriteErrors(t *testing.T) {
	errs := make(chan error, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
			_, err := io.WriteString(w, "body")
			errs <- err
		case "/toolong":
			w.Header().Set("Content-Length", "3")
			io.WriteString(w, "abc")
			_, err := io.WriteString(w, "d")
			errs <- err
		case "/short":
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "abc")
		}
	})
	hBoth(t, h, false, func(t *testing.T, srv *httptest.Server) {
		resp, got, err := hGet(t, srv.URL+"/nocontent")
		require.NoError(t, err)
		assert.Equal(t, 204, resp.StatusCode)
		assert.Empty(t, got)
		assert.ErrorIs(t, testutil.Wait(t, errs, "the handler"), http.ErrBodyNotAllowed)

		_, got, err = hGet(t, srv.URL+"/toolong")
		require.NoError(t, err)
		assert.Equal(t, "abc", string(got))
		assert.ErrorIs(t, testutil.Wait(t, errs, "the handler"), http.ErrContentLength)

		resp, err = http.Get(srv.URL + "/short")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		assert.Error(t, err, "a short body is not passed off as complete")
	})
}

func TestFromHandlerHead(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "twelve bytes")
	})
	hBoth(t, h, false, func(t *testing.T, srv *httptest.Server) {
		resp, got, err := hDo(t, http.DefaultClient, http.MethodHead, srv.URL)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.EqualValues(t, 12, resp.ContentLength)
		assert.Empty(t, got)
	})
}

func TestFromHandlerHopByHopHeaders(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("X-Kept", "1")
		io.WriteString(w, "ok")
	})
	hBoth(t, h, false, func(t *testing.T, srv *httptest.Server) {
		resp, got, err := hGet(t, srv.URL)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode, "not refused: the server manages the connection")
		assert.Equal(t, "1", resp.Header.Get("X-Kept"))
		assert.Equal(t, "ok", string(got))
	})
}

func TestFromHandlerPanic(t *testing.T) {
	logBuf := &testutil.SyncBuffer{}
	srv := httptest.NewServer(&gateway.HTTPHandler{
		App: gateway.FromHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic("handler broke")
		})),
		ErrorLog: hLogTo(logBuf),
	})
	defer srv.Close()
	resp, _, err := hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, logBuf.String(), "handler broke")
}

// FromHandler's app runs anywhere an Application does: here in process,
// with a recording start.
func TestFromHandlerInProcess(t *testing.T) {
	app := gateway.FromHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, r.Method+" "+r.URL.Path)
	}))
	var status string
	var headers gateway.Headers
	var out strings.Builder
	env := &gateway.Environ{Method: "GET", PathInfo: "/in/process", ServerName: "local", ServerPort: "80",
		ServerProtocol: "HTTP/1.1", URLScheme: "http"}
	body := app.ServeGateway(env, func(s string, h gateway.Headers, _ ...error) gateway.WriteFunc {
		status, headers = s, h
		return func(p []byte) error { out.Write(p); return nil }
	})
	for p := range body.Chunks {
		out.Write(p)
	}
	require.NoError(t, body.Close())
	assert.Equal(t, "200 OK", status)
	assert.Equal(t, "text/plain", headers.Get("Content-Type"))
	assert.Equal(t, "15", headers.Get("Content-Length"))
	assert.Equal(t, "GET /in/process", out.String())
}

// Below a mount point (SCRIPT_NAME set, as Dispatcher leaves it), the
// handler sees what http.StripPrefix would give it, and the mount point
// through gateway.ScriptName, past middleware that replaces the context.
func TestFromHandlerBelowAMountPoint(t *testing.T) {
	type key struct{}
	var seen []string
	see := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path+"|"+r.URL.RawPath+"|"+r.RequestURI+"|"+gateway.ScriptName(r))
	})
	withValue := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, 1)))
		})
	}
	env := func(script, path, uri string) *gateway.Environ {
		return &gateway.Environ{Method: "GET", ScriptName: script, PathInfo: path, RequestURI: uri,
			ServerName: "local", ServerPort: "80", ServerProtocol: "HTTP/1.1", URLScheme: "http"}
	}

	app := gateway.FromHandler(withValue(see))
	for _, e := range []*gateway.Environ{
		env("/api", "/a b/c", "/api/a%20b/c"),
		env("/api", "", "/api"),
		env("", "/api/a b/c", "/api/a%20b/c"),
	} {
		gatewaytest.Serve(app, e)
	}
	assert.Equal(t, []string{
		"/a b/c||/api/a%20b/c|/api",
		"||/api|/api", // the mount point itself: "", as StripPrefix gives it
		"/api/a b/c||/api/a%20b/c|",
	}, seen)

	// An environ whose SCRIPT_NAME is "" (gateway.Handler's, inside the
	// mounted handler) keeps the mount point its context carries.
	seen = nil
	outer := gateway.FromHandler(gateway.Handler(gateway.FromHandler(see)))
	gatewaytest.Serve(outer, env("/api", "/x", "/api/x"))
	assert.Equal(t, []string{"/x||/api/x|/api"}, seen)
}
