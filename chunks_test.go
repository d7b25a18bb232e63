package vial_test

import (
	"bytes"
	"io"
	"iter"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/internal/testutil"
)

// upperChunks is a gateway middleware that edits each chunk in place, which
// the contract allows: a chunk is the server's until it asks for the next.
// viaWriteTo makes it edit what the body's WriteTo writes instead.
func upperChunks(app gateway.Application, viaWriteTo bool) gateway.Application {
	return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		inner := app.ServeGateway(env, start)
		if viaWriteTo {
			return &upperWriteTo{inner}
		}
		return &upperBody{inner}
	})
}

type upperBody struct{ gateway.Body }

func (b *upperBody) Chunks(yield func([]byte) bool) {
	b.Body.Chunks(func(p []byte) bool {
		upper(p)
		return yield(p)
	})
}

type upperWriteTo struct{ gateway.Body }

func (b *upperWriteTo) WriteTo(w io.Writer) (int64, error) {
	wt, ok := gateway.BodyWriterTo(b.Body)
	if !ok {
		var n int64
		b.Body.Chunks(func(p []byte) bool { upper(p); m, _ := w.Write(p); n += int64(m); return true })
		return n, nil
	}
	return wt.WriteTo(upperWriter{w})
}

type upperWriter struct{ w io.Writer }

// Write breaks io.Writer's rule that p is left alone: user code may.
func (u upperWriter) Write(p []byte) (int, error) { upper(p); return u.w.Write(p) }

func upper(p []byte) {
	for i, c := range p {
		if 'a' <= c && c <= 'z' {
			p[i] = c - 'a' + 'A'
		}
	}
}

// A view's string, a string literal in read-only memory, must never reach
// the server as those bytes: a middleware writing to them would crash the
// process beyond any recover.
func TestMiddlewareMayEditTheChunksOfAStringBody(t *testing.T) {
	app := vial.New("chunks")
	app.Get("/text", func(r *vial.Request) any { return "hello, literal" })
	app.Get("/stream", func(r *vial.Request) any {
		return iter.Seq[string](func(yield func(string) bool) {
			_ = yield("streamed ") && yield("literals")
		})
	})
	app.Get("/long", func(r *vial.Request) any { return longLiteral })
	for _, viaWriteTo := range []bool{false, true} {
		srv := httptest.NewServer(gateway.Handler(upperChunks(app, viaWriteTo)))
		for path, want := range map[string]string{
			"/text":   "HELLO, LITERAL",
			"/stream": "STREAMED LITERALS",
			"/long":   string(bytes.ToUpper([]byte(longLiteral))),
		} {
			for range 2 { // the second time, the literal is unchanged
				resp, body := testutil.Fetch(t, srv.Client(), "GET", srv.URL+path, nil)
				require.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, want, body, "%s, WriteTo %v", path, viaWriteTo)
			}
		}
		srv.Close()
	}
	assert.Equal(t, "hello, literal", app.TestClient().Get("/text").Text())
}

// longLiteral, 128 KiB of constant text (in read-only memory, as any
// literal), is longer than the pooled buffers a text body is copied to.
const (
	dots16      = "................"
	dots256     = dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16 + dots16
	dots4k      = dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256 + dots256
	dots64k     = dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k + dots4k
	longLiteral = "a long literal, " + dots64k + dots64k + "end"
)
