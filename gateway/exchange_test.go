package gateway_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
)

// recordingWire is a server's wire of its own, as a user writing a server
// on gateway.Exchange would make one: it records each call.
type recordingWire struct {
	gateway.Exchange
	calls   []string
	body    bytes.Buffer
	failing error // WriteBody's error, once set
}

func newRecordingWire() *recordingWire {
	w := &recordingWire{}
	w.Bind(w)
	return w
}

func (w *recordingWire) WriteHeader(status string, _ int, headers gateway.Headers, length int64) {
	w.calls = append(w.calls, fmt.Sprintf("header %s %d fields length %d", status, len(headers), length))
}

func (w *recordingWire) WriteBody(p []byte) (int, error) {
	if w.failing != nil {
		return 0, w.failing
	}
	w.calls = append(w.calls, fmt.Sprintf("body %q", p))
	return w.body.Write(p)
}

func (w *recordingWire) Flush() error                             { w.calls = append(w.calls, "flush"); return nil }
func (w *recordingWire) ReaderFrom() io.ReaderFrom                { return nil }
func (w *recordingWire) KnownLength(b gateway.Body, _ bool) int64 { return gateway.BodyLen(b) }
func (w *recordingWire) Finish() error                            { w.calls = append(w.calls, "finish"); return nil }
func (w *recordingWire) Logf(format string, args ...any) {
	w.calls = append(w.calls, "log "+fmt.Sprintf(format, args...))
}

func exEnviron(method string) *gateway.Environ {
	return &gateway.Environ{Method: method, PathInfo: "/", ServerName: "example.com", ServerPort: "80",
		ServerProtocol: "HTTP/1.1", URLScheme: "http", Input: http.NoBody, Errors: io.Discard}
}

func TestExchangeDrivesACustomWire(t *testing.T) {
	w := newRecordingWire()
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Stream(func(yield func([]byte) bool) {
			_ = yield([]byte("one")) && yield([]byte("two"))
		}, nil)
	})
	require.NoError(t, w.Serve(app, exEnviron("GET")))
	assert.True(t, w.Sent())
	assert.Equal(t, []string{"header 200 OK 1 fields length -1", `body "one"`, "flush", `body "two"`, "flush", "finish"}, w.calls,
		"headers with the first chunk, each chunk flushed before the next")

	// The same Exchange serves the next request afresh, without a Reset.
	w.calls = nil
	require.NoError(t, w.Serve(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("201 Created", nil)
		return gateway.Strings("made")
	}), exEnviron("POST")))
	assert.Equal(t, "header 201 Created 0 fields length 4", w.calls[0], "the wire gave the body its known length")
}

func TestExchangeInternalErrorOnlyBeforeTheHeaders(t *testing.T) {
	w := newRecordingWire()
	err := w.Serve(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		return gateway.Strings("no start")
	}), exEnviron("GET"))
	require.ErrorIs(t, err, gateway.ErrNoStart)
	require.False(t, w.Sent())
	w.SendInternalError()
	assert.Equal(t, []string{"header 500 Internal Server Error 3 fields length -1", `body "Internal Server Error\n"`, "finish"}, w.calls)

	w = newRecordingWire()
	err = w.Serve(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Length", Value: "10"}})
		return gateway.Strings("short")
	}), exEnviron("GET"))
	require.ErrorIs(t, err, gateway.ErrShortBody)
	require.True(t, w.Sent())
	calls := len(w.calls)
	w.SendInternalError()
	assert.Len(t, w.calls, calls, "nothing can replace a response whose headers went out")
}

func TestExchangeReportsTheClientGoneWithItsCause(t *testing.T) {
	w := newRecordingWire()
	w.failing = errors.New("broken pipe")
	err := w.Serve(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Stream(func(yield func([]byte) bool) { yield([]byte("lost")) }, nil)
	}), exEnviron("GET"))
	gone, ok := err.(*gateway.ClientGoneError)
	require.True(t, ok, "%T: %v", err, err)
	assert.Equal(t, w.failing, gone.Cause)
	assert.Equal(t, "gateway: the client has gone: broken pipe", err.Error())
}

func TestExchangeServeBeforeBindPanics(t *testing.T) {
	var x gateway.Exchange
	assert.PanicsWithValue(t, "gateway: Exchange.Serve before Bind", func() {
		_ = x.Serve(gateway.AppFunc(nil), exEnviron("GET"))
	})
}

// An application's error that wraps a ClientGoneError is the
// application's: the handler logs it and answers, it does not drop the
// connection silently as for a client that really left.
// errBody is a body that ended early, for the reason err.
type errBody struct {
	gateway.Body
	err error
}

func (b errBody) Err() error { return b.err }

func TestHandlerDoesNotTakeAWrappedClientGoneForTheClient(t *testing.T) {
	srv := hServeFunc(t, func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return errBody{gateway.NoBody, fmt.Errorf("closing: %w", &gateway.ClientGoneError{Cause: io.EOF})}
	})
	resp, body, err := hGet(t, srv.URL+"/")
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, "Internal Server Error\n", string(body))
	assert.True(t, strings.Contains(srv.log.String(), "closing: gateway: the client has gone"), srv.log.String())
}
