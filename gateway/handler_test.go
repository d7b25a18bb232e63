package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"

	"github.com/vial-go/vial/gateway"
)

// These tests run gateway.Handler behind a real net/http server on loopback
// and talk to it with Go's HTTP client, or with a raw TCP connection where
// the exact bytes on the wire matter.

// hTimeout bounds every wait of these tests, so that a broken handler fails
// a test instead of hanging it.
const hTimeout = testutil.Timeout

// hDiscardLog is an ErrorLog for tests that do not read it.
var hDiscardLog = log.New(io.Discard, "", 0)

func hLogTo(w io.Writer) *log.Logger { return log.New(w, "", 0) }

// hServer is a gateway.HTTPHandler served on loopback, with its log.
type hServer struct {
	*httptest.Server
	log *testutil.SyncBuffer
}

// hServe serves app through an HTTPHandler whose ErrorLog the test can read.
func hServe(t *testing.T, app gateway.Application) *hServer {
	t.Helper()
	logBuf := &testutil.SyncBuffer{}
	h := &gateway.HTTPHandler{App: app, ErrorLog: log.New(logBuf, "", 0)}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &hServer{srv, logBuf}
}

func hServeFunc(t *testing.T, f func(env *gateway.Environ, start gateway.StartResponse) gateway.Body) *hServer {
	t.Helper()
	return hServe(t, gateway.AppFunc(f))
}

// hDo sends a request and returns the response with its body read: body and
// the error reading it.
func hDo(t *testing.T, client *http.Client, method, url string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), hTimeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func hGet(t *testing.T, url string) (*http.Response, []byte, error) {
	t.Helper()
	return hDo(t, http.DefaultClient, http.MethodGet, url)
}

// hRaw sends raw bytes to addr and returns everything the server sends back
// until it closes the connection. A server that does not close within the
// deadline makes the error a timeout.
func hRaw(t *testing.T, addr, request string) (string, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, hTimeout)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(hTimeout)))
	_, err = io.WriteString(conn, request)
	require.NoError(t, err)
	out, err := io.ReadAll(conn)
	return string(out), err
}

// hBody is a Body built from a function, which counts its Close calls and
// reports the first on closed.
type hBody struct {
	chunks func(yield func([]byte) bool)
	closes atomic.Int32
	closed chan struct{}
}

func hNewBody(chunks func(yield func([]byte) bool)) *hBody {
	return &hBody{chunks: chunks, closed: make(chan struct{})}
}

func (b *hBody) Chunks(yield func([]byte) bool) { b.chunks(yield) }

func (b *hBody) Close() error {
	if b.closes.Add(1) == 1 {
		close(b.closed)
	}
	return nil
}

// waitClosed waits for the first Close.
func (b *hBody) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-b.closed:
	case <-time.After(hTimeout):
		t.Fatal("the body was never closed")
	}
}

// hNoGoroutinesLeft waits until no more goroutines run than before.
func hNoGoroutinesLeft(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(hTimeout)
	n := runtime.NumGoroutine()
	for n > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > before {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines left behind (%d before):\n%s", n-before, before, buf)
	}
}

func hText(headers ...gateway.Header) gateway.Headers {
	return append(gateway.Headers{{Name: "Content-Type", Value: "text/plain"}}, headers...)
}

// --- Streaming ----------------------------------------------------------

func TestHandlerStreamsChunkByChunk(t *testing.T) {
	const n = 10000
	chunk := func(i int) []byte { return fmt.Appendf(nil, "chunk %05d\n", i) }
	readFirst := make(chan struct{})   // the client has read chunk 0
	readMiddle := make(chan struct{})  // the client has read chunk n/2
	producerErr := make(chan error, 1) // what the producer saw
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		return gateway.Stream(func(yield func([]byte) bool) {
			var err error
			defer func() { producerErr <- err }()
			for i := range n {
				switch i {
				case 1:
					// Chunk 0 must reach the client while the producer
					// waits: the server flushes each chunk.
					select {
					case <-readFirst:
					case <-time.After(hTimeout):
						err = errors.New("the client never got chunk 0 before chunk 1 was produced")
						return
					}
				case n - 1:
					// Half the body is out before the last chunk exists:
					// the server does not gather the body.
					select {
					case <-readMiddle:
					case <-time.After(hTimeout):
						err = errors.New("the client never got chunk n/2 before the last one was produced")
						return
					}
				}
				if !yield(chunk(i)) {
					err = fmt.Errorf("yield returned false at chunk %d", i)
					return
				}
			}
		}, nil)
	})

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	r := bufio.NewReader(resp.Body)
	for i := range n {
		line, err := r.ReadBytes('\n')
		require.NoError(t, err, "chunk %d", i)
		require.Equal(t, string(chunk(i)), string(line))
		switch i {
		case 0:
			close(readFirst)
		case n / 2:
			close(readMiddle)
		}
	}
	_, err = r.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "nothing after the last chunk")
	assert.NoError(t, testutil.Wait(t, producerErr, "the producer"))
}

// --- Close, exactly once ------------------------------------------------

func TestHandlerClosesAfterFullBody(t *testing.T) {
	body := hNewBody(func(yield func([]byte) bool) {
		_ = yield([]byte("one ")) && yield(nil) && yield([]byte("two"))
	})
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		return body
	})
	resp, got, err := hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "one two", string(got))
	body.waitClosed(t)
	srv.Close() // waits for the handler to return
	assert.EqualValues(t, 1, body.closes.Load())
}

func TestHandlerClosesAfterPanicMidBody(t *testing.T) {
	var calls atomic.Int32
	body := hNewBody(func(yield func([]byte) bool) {
		if yield([]byte("the beginning, ")) {
			panic("the body broke")
		}
	})
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		if calls.Add(1) == 1 {
			return body
		}
		return gateway.Strings("still serving")
	})

	resp, got, err := hGet(t, srv.URL)
	assert.Equal(t, 200, resp.StatusCode, "the status went out with the first chunk")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "a broken response must not end cleanly")
	assert.Equal(t, "the beginning, ", string(got))
	body.waitClosed(t)

	resp, got, err = hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "still serving", string(got))

	srv.Close()
	assert.EqualValues(t, 1, body.closes.Load())
	assert.Contains(t, srv.log.String(), "the body broke")
	assert.Contains(t, srv.log.String(), "goroutine", "the panic is logged with its stack")
}

func TestHandlerClosesWhenClientDisconnects(t *testing.T) {
	exited := make(chan int, 1) // the producer is done, after so many chunks
	body := hNewBody(func(yield func([]byte) bool) {
		chunk := bytes.Repeat([]byte("x"), 1024)
		n := 0
		defer func() { exited <- n }()
		for yield(chunk) { // endless, but for the client
			n++
		}
	})
	started := make(chan struct{})
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		close(started)
		return body
	})
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	testutil.Wait(t, started, "the application")
	_, err = io.ReadFull(resp.Body, make([]byte, 64<<10))
	require.NoError(t, err)
	cancel() // the client goes away mid-stream
	resp.Body.Close()

	n := testutil.Wait(t, exited, "the producer to stop")
	assert.Greater(t, n, 0)
	body.waitClosed(t)
	client.CloseIdleConnections()
	hNoGoroutinesLeft(t, before)
	srv.Close()
	assert.EqualValues(t, 1, body.closes.Load())
}

func TestHandlerHead(t *testing.T) {
	payload := []byte("a body of known length")
	t.Run("bytes body gets its Content-Length", func(t *testing.T) {
		var closes atomic.Int32
		srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", hText())
			return gateway.OnClose(gateway.Bytes(payload), func() { closes.Add(1) })
		})
		resp, got, err := hDo(t, http.DefaultClient, http.MethodHead, srv.URL)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Empty(t, got)
		assert.Equal(t, strconv.Itoa(len(payload)), resp.Header.Get("Content-Length"))
		assert.EqualValues(t, len(payload), resp.ContentLength)
		srv.Close()
		assert.EqualValues(t, 1, closes.Load())
	})
	t.Run("body started before returning is never iterated", func(t *testing.T) {
		body := hNewBody(func(yield func([]byte) bool) {
			panic("a HEAD body was iterated")
		})
		srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", hText())
			return body
		})
		resp, got, err := hDo(t, http.DefaultClient, http.MethodHead, srv.URL)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Empty(t, got)
		srv.Close()
		assert.EqualValues(t, 1, body.closes.Load())
		assert.NotContains(t, srv.log.String(), "iterated")
	})
	t.Run("lazy start: iterated up to the first chunk only", func(t *testing.T) {
		var asked atomic.Int32
		var body *hBody
		srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			body = hNewBody(func(yield func([]byte) bool) {
				start("202 Accepted", hText(gateway.Header{Name: "X-Lazy", Value: "yes"}))
				for i := 0; i < 1000; i++ {
					asked.Add(1)
					if !yield([]byte("chunk")) {
						return
					}
				}
			})
			return body
		})
		resp, got, err := hDo(t, http.DefaultClient, http.MethodHead, srv.URL)
		require.NoError(t, err)
		assert.Equal(t, 202, resp.StatusCode)
		assert.Equal(t, "yes", resp.Header.Get("X-Lazy"))
		assert.Empty(t, got)
		srv.Close()
		assert.EqualValues(t, 1, asked.Load(), "chunks asked for")
		assert.EqualValues(t, 1, body.closes.Load())
	})
}

// --- Lazy headers and excInfo -------------------------------------------

func TestHandlerStartAgainBeforeFirstChunk(t *testing.T) {
	body := hNewBody(func(yield func([]byte) bool) { yield([]byte("error page")) })
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText(gateway.Header{Name: "X-First", Value: "1"}))
		// Something went wrong before the body: the error page replaces
		// the response.
		start("500 Internal Server Error", hText(gateway.Header{Name: "X-Second", Value: "2"}),
			errors.New("the database is down"))
		return body
	})
	resp, got, err := hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, "500 Internal Server Error", resp.Status)
	assert.Empty(t, resp.Header.Get("X-First"))
	assert.Equal(t, "2", resp.Header.Get("X-Second"))
	assert.Equal(t, "error page", string(got))
	srv.Close()
	assert.EqualValues(t, 1, body.closes.Load())
}

func TestHandlerStartAgainAfterFirstChunkAborts(t *testing.T) {
	var body *hBody
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		body = hNewBody(func(yield func([]byte) bool) {
			if !yield([]byte("half a page")) {
				return
			}
			start("500 Internal Server Error", hText(), errors.New("the template failed"))
			yield([]byte("the error page that cannot be sent"))
		})
		return body
	})
	resp, got, err := hGet(t, srv.URL)
	assert.Equal(t, 200, resp.StatusCode, "the first status is out")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the response is aborted, not ended cleanly")
	assert.Equal(t, "half a page", string(got))
	srv.Close()
	assert.EqualValues(t, 1, body.closes.Load())
	logText := srv.log.String()
	assert.Contains(t, logText, gateway.ErrHeadersSent.Error())
	assert.Contains(t, logText, "the template failed")
}

func TestHandlerStartTwiceWithoutExcInfo(t *testing.T) {
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		start("404 Not Found", hText())
		return gateway.Strings("unreachable")
	})
	resp, got, err := hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
	assert.NotContains(t, string(got), "unreachable")
	assert.Contains(t, srv.log.String(), gateway.ErrStartTwice.Error())
}

func TestHandlerHeadersGoOutWithFirstNonEmptyChunk(t *testing.T) {
	sent := make(chan struct{})
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		return gateway.Stream(func(yield func([]byte) bool) {
			yield(nil) // an empty chunk sends nothing, not even headers
			select {
			case <-sent:
				t.Error("the headers went out with an empty chunk")
			case <-time.After(100 * time.Millisecond):
			}
			yield([]byte("data"))
		}, nil)
	})
	go func() {
		resp, err := http.Get(srv.URL)
		if err == nil {
			close(sent)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	testutil.Wait(t, sent, "the response")
}

// --- Content-Length -----------------------------------------------------

func TestHandlerContentLength(t *testing.T) {
	t.Run("longer body is cut at the length", func(t *testing.T) {
		srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", hText(gateway.Header{Name: "Content-Length", Value: "5"}))
			return gateway.Strings("hello", " world")
		})
		resp, got, err := hGet(t, srv.URL)
		require.NoError(t, err)
		assert.EqualValues(t, 5, resp.ContentLength)
		assert.Equal(t, "hello", string(got))
		assert.Contains(t, srv.log.String(), "longer than its Content-Length")
	})
	t.Run("longer streamed body is cut at the length", func(t *testing.T) {
		var asked atomic.Int32
		srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", hText(gateway.Header{Name: "Content-Length", Value: "7"}))
			return gateway.Stream(func(yield func([]byte) bool) {
				for asked.Add(1) < 100 && yield([]byte("abcd")) {
				}
			}, nil)
		})
		resp, got, err := hGet(t, srv.URL)
		require.NoError(t, err)
		assert.EqualValues(t, 7, resp.ContentLength)
		assert.Equal(t, "abcdabc", string(got))
		srv.Close()
		assert.EqualValues(t, 2, asked.Load(), "the producer stops at the length")
	})
	t.Run("short streamed body is not passed off as complete", func(t *testing.T) {
		srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", hText(gateway.Header{Name: "Content-Length", Value: "20"}))
			return gateway.Stream(func(yield func([]byte) bool) { yield([]byte("short")) }, nil)
		})
		resp, got, err := hGet(t, srv.URL)
		assert.Equal(t, 200, resp.StatusCode)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Equal(t, "short", string(got))
		assert.Contains(t, srv.log.String(), gateway.ErrShortBody.Error())
	})
	t.Run("short bytes body is not passed off as complete", func(t *testing.T) {
		srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", hText(gateway.Header{Name: "Content-Length", Value: "20"}))
			return gateway.Strings("short")
		})
		resp, err := http.Get(srv.URL)
		if err == nil { // the headers may or may not have left the buffer
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		assert.Error(t, err)
		assert.Contains(t, srv.log.String(), gateway.ErrShortBody.Error())
	})
	t.Run("empty body of declared length is a 500", func(t *testing.T) {
		srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", hText(gateway.Header{Name: "Content-Length", Value: "20"}))
			return gateway.NoBody
		})
		resp, _, err := hGet(t, srv.URL)
		require.NoError(t, err)
		assert.Equal(t, 500, resp.StatusCode)
		assert.Contains(t, srv.log.String(), gateway.ErrShortBody.Error())
	})
	t.Run("large bytes body is sent with its length, not chunked", func(t *testing.T) {
		payload := bytes.Repeat([]byte("0123456789"), 10000)
		srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", hText())
			return gateway.Bytes(payload)
		})
		resp, got, err := hGet(t, srv.URL)
		require.NoError(t, err)
		assert.EqualValues(t, len(payload), resp.ContentLength)
		assert.Empty(t, resp.TransferEncoding)
		assert.Equal(t, payload, got)
	})
}

// --- Refused headers ----------------------------------------------------

func TestHandlerRefusesWhatWouldCorruptTheWire(t *testing.T) {
	cases := []struct {
		name    string
		status  string
		headers gateway.Headers
		rule    gateway.Rule
		wire    string // must not be on the wire
	}{
		{"CRLF in a value", "200 OK", gateway.Headers{{Name: "X-Note", Value: "a\r\nSet-Cookie: evil=1"}},
			gateway.RuleHeaderControl, "evil=1"},
		{"LF in a value", "200 OK", gateway.Headers{{Name: "X-Note", Value: "a\nX-Injected: 1"}},
			gateway.RuleHeaderControl, "X-Injected"},
		{"CRLF in a Location", "302 Found", gateway.Headers{{Name: "Location", Value: "/next\r\nSet-Cookie: evil=1"}},
			gateway.RuleHeaderControl, "evil=1"},
		{"NUL in a Set-Cookie", "200 OK", gateway.Headers{{Name: "Set-Cookie", Value: "a=1\x00"}},
			gateway.RuleHeaderControl, "a=1"},
		{"a control byte in a Location", "302 Found", gateway.Headers{{Name: "Location", Value: "/x\x01y"}},
			gateway.RuleHeaderControl, "/x"},
		{"DEL in a value", "200 OK", gateway.Headers{{Name: "X-Note", Value: "a\x7fb"}},
			gateway.RuleHeaderControl, "X-Note"},
		{"vertical tab in a value", "200 OK", gateway.Headers{{Name: "X-Note", Value: "a\vb"}},
			gateway.RuleHeaderControl, "X-Note"},
		{"space in a name", "200 OK", gateway.Headers{{Name: "X Bad", Value: "1"}},
			gateway.RuleHeaderName, "X Bad"},
		{"colon in a name", "200 OK", gateway.Headers{{Name: "X-Bad:", Value: "1"}},
			gateway.RuleHeaderName, "X-Bad"},
		{"Connection", "200 OK", gateway.Headers{{Name: "Connection", Value: "upgrade"}},
			gateway.RuleHopByHop, "upgrade"},
		{"Transfer-Encoding", "200 OK", gateway.Headers{{Name: "Transfer-Encoding", Value: "gzip"}},
			gateway.RuleHopByHop, "gzip"},
		{"Keep-Alive", "200 OK", gateway.Headers{{Name: "keep-alive", Value: "timeout=99"}},
			gateway.RuleHopByHop, "timeout=99"},
		{"status without reason separator", "200OK", nil, gateway.RuleStatus, "200OK"},
		{"status not a number", "abc OK", nil, gateway.RuleStatus, "abc"},
		{"status with CRLF", "200 OK\r\nX-Injected: 1", nil, gateway.RuleStatus, "X-Injected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := hNewBody(func(yield func([]byte) bool) { yield([]byte("the page")) })
			srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				start(c.status, append(hText(gateway.Header{Name: "X-Good", Value: "kept?"}), c.headers...))
				return body
			})
			raw, err := hRaw(t, srv.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(raw, "HTTP/1.1 500 Internal Server Error\r\n"), "response: %q", raw)
			assert.NotContains(t, raw, c.wire)
			assert.NotContains(t, raw, "X-Good", "nothing of the refused headers goes out")
			assert.NotContains(t, raw, "the page")
			logText := srv.log.String()
			assert.Contains(t, logText, c.rule)
			srv.Close()
			assert.EqualValues(t, 1, body.closes.Load())
		})
	}
}

// --- Framing: chunked, HTTP/1.0 ------------------------------------------

func TestHandlerFramingWithoutContentLength(t *testing.T) {
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		return gateway.Stream(func(yield func([]byte) bool) {
			_ = yield([]byte("streamed ")) && yield([]byte("body"))
		}, nil)
	})
	t.Run("HTTP/1.1 is chunked", func(t *testing.T) {
		resp, got, err := hGet(t, srv.URL)
		require.NoError(t, err)
		assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
		assert.EqualValues(t, -1, resp.ContentLength)
		assert.Equal(t, "streamed body", string(got))
	})
	for _, req := range []string{
		"GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: test\r\nConnection: keep-alive\r\n\r\n",
	} {
		t.Run(strings.TrimSpace(strings.ReplaceAll(req, "\r\n", " ")), func(t *testing.T) {
			// hRaw reads until the server closes the connection: a
			// server that kept it open would time out.
			raw, err := hRaw(t, srv.Listener.Addr().String(), req)
			require.NoError(t, err, "the server must close the connection")
			head, body, ok := strings.Cut(raw, "\r\n\r\n")
			require.True(t, ok, "response: %q", raw)
			assert.True(t, strings.HasPrefix(head, "HTTP/1.0 200 OK"), "response: %q", raw)
			assert.NotContains(t, strings.ToLower(head), "transfer-encoding")
			assert.NotContains(t, strings.ToLower(head), "content-length")
			assert.NotContains(t, strings.ToLower(head), "keep-alive")
			assert.Equal(t, "streamed body", body)
		})
	}
}

// --- Environ through a real server ---------------------------------------

// hEnvRecord is what an application saw of its environ.
type hEnvRecord struct {
	values map[string]any
	keys   []string
	input  []byte
	extra  []byte // read from input after its end
	err    error  // reading input
}

// hRecordApp records the environ of each request on ch and answers 200.
func hRecordApp(ch chan<- hEnvRecord) gateway.AppFunc {
	return func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		rec := hEnvRecord{values: map[string]any{}, keys: env.Keys()}
		for _, k := range rec.keys {
			rec.values[k] = env.Get(k)
		}
		rec.input, rec.err = io.ReadAll(env.Input)
		n, _ := env.Input.Read(make([]byte, 10))
		rec.extra = make([]byte, n)
		fmt.Fprintf(env.Errors, "errors of %s", env.PathInfo)
		ch <- rec
		start("200 OK", hText())
		return gateway.Strings("recorded")
	}
}

func TestHandlerEnviron(t *testing.T) {
	ch := make(chan hEnvRecord, 8)
	srv := hServe(t, hRecordApp(ch))
	host, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	var localAddr atomic.Value // the client's end of the connection
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				localAddr.Store(conn.LocalAddr().String())
			}
			return conn, err
		},
	}}
	defer client.CloseIdleConnections()

	body := "hello input"
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/a%20b/c%2Fd?x=1&y=%20z", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "gateway-test")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Add("Cookie", "a=1")
	req.Header.Add("Cookie", "b=2")
	resp, err := client.Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	rec := testutil.Wait(t, ch, "the application")
	_, remotePort, err := net.SplitHostPort(localAddr.Load().(string))
	require.NoError(t, err)

	want := map[string]any{
		"REQUEST_METHOD":       "POST",
		"SCRIPT_NAME":          "",
		"PATH_INFO":            "/a b/c/d",
		"REQUEST_URI":          "/a%20b/c%2Fd?x=1&y=%20z",
		"QUERY_STRING":         "x=1&y=%20z",
		"CONTENT_TYPE":         "text/plain; charset=utf-8",
		"CONTENT_LENGTH":       strconv.Itoa(len(body)),
		"SERVER_NAME":          host,
		"SERVER_PORT":          port,
		"SERVER_PROTOCOL":      "HTTP/1.1",
		"HTTP_HOST":            host + ":" + port,
		"HTTP_USER_AGENT":      "gateway-test",
		"HTTP_X_MULTI":         "one, two",
		"HTTP_COOKIE":          "a=1; b=2",
		"REMOTE_ADDR":          "127.0.0.1",
		"REMOTE_PORT":          remotePort,
		"gateway.version":      [2]int{1, 0},
		"gateway.url_scheme":   "http",
		"gateway.multithread":  true,
		"gateway.multiprocess": false,
		"gateway.run_once":     false,
	}
	for k, v := range want {
		assert.Equal(t, v, rec.values[k], "environ key %s", k)
		assert.Contains(t, rec.keys, k)
	}
	for _, k := range []string{"gateway.input", "gateway.errors", "gateway.context", "HTTP_ACCEPT_ENCODING"} {
		assert.Contains(t, rec.keys, k)
	}
	assert.NotContains(t, rec.keys, "HTTP_CONTENT_TYPE")
	assert.NotContains(t, rec.keys, "HTTP_CONTENT_LENGTH")
	assert.Implements(t, (*context.Context)(nil), rec.values["gateway.context"])
	require.NoError(t, rec.err)
	assert.Equal(t, body, string(rec.input), "gateway.input reads the body")
	assert.Empty(t, rec.extra, "gateway.input stays at EOF")
	assert.Contains(t, srv.log.String(), "errors of /a b/c/d", "gateway.errors goes to the server's log")
}

func TestHandlerEnvironAbsentBody(t *testing.T) {
	ch := make(chan hEnvRecord, 8)
	srv := hServe(t, hRecordApp(ch))

	_, _, err := hGet(t, srv.URL+"/")
	require.NoError(t, err)
	rec := testutil.Wait(t, ch, "the application")
	assert.Equal(t, "", rec.values["CONTENT_TYPE"])
	assert.Equal(t, "", rec.values["CONTENT_LENGTH"], "no Content-Length: empty, not 0")
	assert.Equal(t, "", rec.values["QUERY_STRING"])
	assert.Equal(t, "/", rec.values["PATH_INFO"])
	assert.Empty(t, rec.input)

	// A body of zero length declared by the client is "0".
	raw, err := hRaw(t, srv.Listener.Addr().String(),
		"POST /empty HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(raw, "HTTP/1.1 200"), raw)
	rec = testutil.Wait(t, ch, "the application")
	assert.Equal(t, "0", rec.values["CONTENT_LENGTH"])
}

// A request built in code (httptest.NewRequest, a test's own) carries its
// body's length in ContentLength, not in a header: CONTENT_LENGTH has it.
func TestHandlerEnvironLengthOfARequestBuiltInCode(t *testing.T) {
	ch := make(chan hEnvRecord, 1)
	req := httptest.NewRequest("POST", "/in-process", strings.NewReader("twelve bytes"))
	require.Empty(t, req.Header.Get("Content-Length"))
	gateway.Handler(hRecordApp(ch)).ServeHTTP(httptest.NewRecorder(), req)
	rec := testutil.Wait(t, ch, "the application")
	assert.Equal(t, "12", rec.values["CONTENT_LENGTH"])
	assert.Equal(t, "twelve bytes", string(rec.input))
}

func TestHandlerEnvironChunkedUpload(t *testing.T) {
	ch := make(chan hEnvRecord, 8)
	srv := hServe(t, hRecordApp(ch))

	pr, pw := io.Pipe()
	go func() {
		for i := range 5 {
			fmt.Fprintf(pw, "part %d;", i)
		}
		pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/upload", pr)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	rec := testutil.Wait(t, ch, "the application")
	require.NoError(t, rec.err)
	assert.Equal(t, "part 0;part 1;part 2;part 3;part 4;", string(rec.input), "decoded, and no more")
	assert.Equal(t, "", rec.values["CONTENT_LENGTH"])
	assert.NotContains(t, rec.keys, "HTTP_TRANSFER_ENCODING")

	// The same, raw, with the next request pipelined behind the body:
	// gateway.input must stop at the end of the first.
	raw, err := hRaw(t, srv.Listener.Addr().String(),
		"POST /first HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"+
			"POST /second HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnext")
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(raw, "HTTP/1.1 200 OK"), raw)
	rec = testutil.Wait(t, ch, "the first request")
	assert.Equal(t, "/first", rec.values["PATH_INFO"])
	assert.Equal(t, "hello world", string(rec.input))
	rec = testutil.Wait(t, ch, "the second request")
	assert.Equal(t, "/second", rec.values["PATH_INFO"])
	assert.Equal(t, "next", string(rec.input))
	assert.Equal(t, "4", rec.values["CONTENT_LENGTH"])
}

func TestHandlerEnvironServerName(t *testing.T) {
	ch := make(chan hEnvRecord, 8)
	srv := hServe(t, hRecordApp(ch))
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)

	// A Host without a port: the scheme's default.
	_, err := hRaw(t, addr, "GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	rec := testutil.Wait(t, ch, "the application")
	assert.Equal(t, "example.com", rec.values["SERVER_NAME"])
	assert.Equal(t, "80", rec.values["SERVER_PORT"])
	assert.Equal(t, "example.com", rec.values["HTTP_HOST"])

	// An IPv6 literal.
	_, err = hRaw(t, addr, "GET /x HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	rec = testutil.Wait(t, ch, "the application")
	assert.Equal(t, "::1", rec.values["SERVER_NAME"])
	assert.Equal(t, "8080", rec.values["SERVER_PORT"])

	// HTTP/1.0 without Host: the address the client reached.
	_, err = hRaw(t, addr, "GET /x HTTP/1.0\r\n\r\n")
	require.NoError(t, err)
	rec = testutil.Wait(t, ch, "the application")
	assert.Equal(t, "127.0.0.1", rec.values["SERVER_NAME"])
	assert.Equal(t, port, rec.values["SERVER_PORT"])
	assert.Equal(t, "HTTP/1.0", rec.values["SERVER_PROTOCOL"])
	assert.NotContains(t, rec.keys, "HTTP_HOST")
}

func TestHandlerEnvironHTTPS(t *testing.T) {
	ch := make(chan hEnvRecord, 8)
	srv := httptest.NewTLSServer(&gateway.HTTPHandler{App: hRecordApp(ch), ErrorLog: hDiscardLog})
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	resp, err := srv.Client().Get(srv.URL + "/secure?q")
	require.NoError(t, err)
	resp.Body.Close()
	rec := testutil.Wait(t, ch, "the application")
	assert.Equal(t, "https", rec.values["gateway.url_scheme"])
	assert.Equal(t, port, rec.values["SERVER_PORT"])
	assert.Equal(t, "/secure", rec.values["PATH_INFO"])
	assert.Equal(t, "q", rec.values["QUERY_STRING"])
}

func TestHandlerEnvironOptions(t *testing.T) {
	ch := make(chan hEnvRecord, 8)
	srv := httptest.NewServer(&gateway.HTTPHandler{App: hRecordApp(ch), SingleThreaded: true, Multiprocess: true,
		ErrorLog: hDiscardLog})
	defer srv.Close()
	_, _, err := hGet(t, srv.URL)
	require.NoError(t, err)
	rec := testutil.Wait(t, ch, "the application")
	assert.Equal(t, false, rec.values["gateway.multithread"])
	assert.Equal(t, true, rec.values["gateway.multiprocess"])
}

func TestHandlerContextCancelledWhenClientLeaves(t *testing.T) {
	started := make(chan struct{})
	result := make(chan error, 1)
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		close(started)
		select {
		case <-env.Context().Done():
			result <- env.Context().Err()
		case <-time.After(hTimeout):
			result <- errors.New("gateway.context was not cancelled")
		}
		start("200 OK", hText())
		return gateway.NoBody
	})
	hGetCancelled(t, srv.URL, started)
	assert.ErrorIs(t, testutil.Wait(t, result, "the application"), context.Canceled)
}

// hGetCancelled sends a GET to url and cancels it once started is closed;
// the client must see the request fail.
func hGetCancelled(t *testing.T, url string, started <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err)
}

// --- A large body, flat memory --------------------------------------------

func TestHandlerStreamsOneGiBInFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB")
	}
	const (
		chunkSize = 64 << 10
		chunks    = 16384 // 1 GiB
		allowance = 16 << 20
	)
	buf := bytes.Repeat([]byte("0123456789abcdef"), chunkSize/16)
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "application/octet-stream"}})
		return gateway.Stream(func(yield func([]byte) bool) {
			for range chunks {
				if !yield(buf) { // the same buffer every time
					return
				}
			}
		}, nil)
	})

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	close(stop)
	<-sampled
	require.NoError(t, err)
	assert.EqualValues(t, int64(chunks)*chunkSize, n)
	growth := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("heap in use: %d MiB before, %d MiB at the peak", before.HeapInuse>>20, peak.Load()>>20)
	assert.Less(t, growth, int64(allowance), "the heap grew by %d bytes while streaming", growth)
}

// --- A panic before the body, and other failures ---------------------------

func TestHandlerPanicBeforeBody(t *testing.T) {
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		panic("the application broke")
	})
	resp, got, err := hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, "Internal Server Error\n", string(got))
	assert.Contains(t, srv.log.String(), "the application broke")
}

func TestHandlerPropagatePanics(t *testing.T) {
	var closes atomic.Int32
	h := &gateway.HTTPHandler{PropagatePanics: true, ErrorLog: hDiscardLog,
		App: gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", hText())
			return gateway.OnClose(gateway.Stream(func(yield func([]byte) bool) {
				panic("to the debugger")
			}, nil), func() { closes.Add(1) })
		})}
	assert.PanicsWithValue(t, "to the debugger", func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	})
	assert.EqualValues(t, 1, closes.Load(), "closed before the panic goes on")
}

func TestHandlerNoStart(t *testing.T) {
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		return gateway.Strings("a body without a status")
	})
	resp, got, err := hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
	assert.NotContains(t, string(got), "without a status")
	assert.Contains(t, srv.log.String(), gateway.ErrNoStart.Error())
}

func TestHandlerBodyErr(t *testing.T) {
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		return gateway.Reader(io.MultiReader(strings.NewReader("some data"), iotestErrReader{}))
	})
	resp, got, err := hGet(t, srv.URL)
	assert.Equal(t, 200, resp.StatusCode)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "a body that failed is not passed off as complete")
	assert.Equal(t, "some data", string(got))
	assert.Contains(t, srv.log.String(), "the disk failed")
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("the disk failed") }

// --- The write callable ---------------------------------------------------

func TestHandlerWriteCallable(t *testing.T) {
	wrote := make(chan error, 1)
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		write := start("200 OK", hText())
		err := write([]byte("written, "))
		if err == nil {
			err = write(nil)
		}
		wrote <- err
		return gateway.Strings("then returned")
	})
	resp, got, err := hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "written, then returned", string(got))
	assert.NoError(t, testutil.Wait(t, wrote, "the application"))
}

func TestHandlerEmptyWriteSendsHeaders(t *testing.T) {
	headersOut := make(chan struct{})
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		write := start("200 OK", hText(gateway.Header{Name: "X-Early", Value: "1"}))
		if err := write(nil); err != nil {
			t.Error(err)
		}
		select { // the client has the headers while the application waits
		case <-headersOut:
		case <-time.After(hTimeout):
			t.Error("write(nil) did not send the headers")
		}
		return gateway.Strings("late")
	})
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "1", resp.Header.Get("X-Early"))
	close(headersOut)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "late", string(got))
}

func TestHandlerRepeatedHeadersKeptInOrder(t *testing.T) {
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("201 Created", gateway.Headers{
			{Name: "Set-Cookie", Value: "a=1"},
			{Name: "content-type", Value: "text/plain"},
			{Name: "Set-Cookie", Value: "b=2"},
			{Name: "set-cookie", Value: "c=3"},
		})
		return gateway.Strings("made")
	})
	resp, got, err := hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, []string{"a=1", "b=2", "c=3"}, resp.Header.Values("Set-Cookie"))
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
	assert.Equal(t, "made", string(got))
}

func TestHandlerNoBodyStatus(t *testing.T) {
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("304 Not Modified", gateway.Headers{{Name: "ETag", Value: `"v1"`}})
		return gateway.Strings("not allowed")
	})
	resp, got, err := hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 304, resp.StatusCode)
	assert.Equal(t, `"v1"`, resp.Header.Get("ETag"))
	assert.Empty(t, got)
	assert.Contains(t, srv.log.String(), "has no body")
	// The connection is still good for another request.
	resp, _, err = hGet(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, 304, resp.StatusCode)
}

// hSeq turns a list into an iter.Seq, for bodies built with gateway.Stream.
func hSeq(chunks ...string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for _, c := range chunks {
			if !yield([]byte(c)) {
				return
			}
		}
	}
}

func TestHandlerConcurrentRequests(t *testing.T) {
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", hText())
		return gateway.Stream(hSeq(env.PathInfo, "|", env.QueryString), nil)
	})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(fmt.Sprintf("%s/r%d?q=%d", srv.URL, i, i))
			if !assert.NoError(t, err) {
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.NoError(t, err)
			assert.Equal(t, fmt.Sprintf("/r%d|q=%d", i, i), string(got))
		}()
	}
	wg.Wait()
}

func TestHandlerFileBody(t *testing.T) {
	content := bytes.Repeat([]byte("file content\n"), 20000)
	path := t.TempDir() + "/f.txt"
	require.NoError(t, os.WriteFile(path, content, 0o644))
	cases := []struct {
		name   string
		length string // declared Content-Length, "" for none
		want   []byte
	}{
		{"declared length", strconv.Itoa(len(content)), content},
		{"no length", "", content},
		{"shorter declared length", "1000", content[:1000]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
				f, err := os.Open(path)
				if err != nil {
					panic(err)
				}
				headers := hText()
				if c.length != "" {
					headers = append(headers, gateway.Header{Name: "Content-Length", Value: c.length})
				}
				start("200 OK", headers)
				return gateway.File(f)
			})
			resp, got, err := hGet(t, srv.URL)
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, len(c.want), len(got))
			assert.True(t, bytes.Equal(c.want, got), "the file's bytes")
			if c.length == "" {
				assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
			}
			// What is on the wire, which a client that stops at the
			// declared length does not show.
			raw, _ := hRaw(t, srv.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			if c.length != "" {
				_, onWire, _ := strings.Cut(raw, "\r\n\r\n")
				assert.Equal(t, len(c.want), len(onWire), "the bytes after the headers")
			}
		})
	}
}

func TestHandlerContextEndedMidStreamAborts(t *testing.T) {
	// The client is still there, but the request's context ends (a
	// deadline set by middleware, a server shutting down): the producer
	// stops, and the cut body must not look complete.
	var body *hBody
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		ctx, cancel := context.WithTimeout(env.Context(), 50*time.Millisecond)
		env.SetContext(ctx)
		start("200 OK", hText())
		body = hNewBody(func(yield func([]byte) bool) {
			defer cancel()
			for yield([]byte("tick\n")) {
				time.Sleep(time.Millisecond)
			}
		})
		return body
	})
	resp, got, err := hGet(t, srv.URL)
	assert.Equal(t, 200, resp.StatusCode)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.True(t, strings.HasPrefix(string(got), "tick\n"))
	srv.Close()
	assert.EqualValues(t, 1, body.closes.Load())
	assert.Empty(t, srv.log.String(), "a context ending is not an application error")
}

// Fields the application repeats are kept whatever the header map already
// held (a middleware's cookie) and however many fields come before them.
// The header map an http.ResponseWriter holds before the handler runs (a
// middleware's fields) is to the application's headers what it is to a
// plain http.Handler's w.Header().Set: a name the application sends
// replaces that name's fields, but for Set-Cookie, which adds to them. The
// application's own repeated fields are all kept, in order, past the first
// few fields (where the handler looks names up instead of comparing them)
// as before.
func TestHandlerRepeatedHeadersReplaceWhatIsThere(t *testing.T) {
	var headers gateway.Headers
	for i := range 9 {
		headers.Add(fmt.Sprintf("X-Field-%d", i), "v")
	}
	headers.Add("Set-Cookie", "a=1")
	headers.Add("set-cookie", "b=2")
	headers.Add("x-field-0", "w")
	headers.Add("X-Field-8", "w")
	h := gateway.Handler(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", headers)
		return gateway.Strings("ok")
	}))

	t.Run("fresh header map", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		assert.Equal(t, []string{"a=1", "b=2"}, w.Header().Values("Set-Cookie"))
		assert.Equal(t, []string{"v", "w"}, w.Header().Values("X-Field-0"))
		assert.Equal(t, []string{"v", "w"}, w.Header().Values("X-Field-8"))
	})
	t.Run("map holding a middleware's fields", func(t *testing.T) {
		w := httptest.NewRecorder()
		w.Header().Set("Set-Cookie", "mw=0")
		w.Header().Set("X-Field-0", "mw")
		w.Header().Set("X-Field-8", "mw")
		w.Header().Set("X-Middleware", "mw")
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		assert.Equal(t, []string{"mw=0", "a=1", "b=2"}, w.Header().Values("Set-Cookie"))
		assert.Equal(t, []string{"v", "w"}, w.Header().Values("X-Field-0"))
		assert.Equal(t, []string{"v", "w"}, w.Header().Values("X-Field-8"))
		assert.Equal(t, []string{"mw"}, w.Header().Values("X-Middleware"))
	})
}
