package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vial-go/vial/gateway"
)

// The benchmarks compare a raw http.HandlerFunc with the same response served
// through gateway.Handler(gateway.AppFunc(...)): a text/plain "Hello, World!".
// Each benchmark runs the pair as sub-benchmarks, so that
//
//	go test -run '^$' -bench . ./gateway/
//
// prints them one above the other (gateway-static is the gateway with an
// application that allocates nothing: the bridge's own cost):
//
//   - BenchmarkHandler: ServeHTTP called in process on a minimal, reused
//     ResponseWriter that discards the body: the bridge's own cost.
//   - BenchmarkHandlerRecorder: the same on an httptest.ResponseRecorder.
//   - BenchmarkHandlerLoopback: a real http.Server on loopback and a
//     keep-alive client: the end-to-end cost a user sees.

var hBenchBody = []byte("Hello, World!")

func hRawHello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write(hBenchBody)
}

func hGatewayHello(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return gateway.Bytes(hBenchBody)
}

// The same response from values made once: what is left is the bridge's own
// cost, without the allocations of the application's headers and body.
var (
	hStaticHeaders = gateway.Headers{{Name: "Content-Type", Value: "text/plain"}}
	hStaticBody    = gateway.Bytes(hBenchBody)
)

func hGatewayHelloStatic(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	start("200 OK", hStaticHeaders)
	return hStaticBody
}

// hBenchPair returns the handlers under comparison, by sub-benchmark name:
// the raw handler, the gateway app written as an application would be, and
// the gateway app with its response made in advance.
func hBenchPair() []struct {
	name string
	h    http.Handler
} {
	return []struct {
		name string
		h    http.Handler
	}{
		{"raw", http.HandlerFunc(hRawHello)},
		{"gateway", gateway.Handler(gateway.AppFunc(hGatewayHello))},
		{"gateway-static", gateway.Handler(gateway.AppFunc(hGatewayHelloStatic))},
	}
}

// hDiscardWriter is the cheapest ResponseWriter there is: it keeps the
// header map and the status between requests and throws the body away.
type hDiscardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *hDiscardWriter) Header() http.Header         { return w.header }
func (w *hDiscardWriter) WriteHeader(code int)        { w.code = code }
func (w *hDiscardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *hDiscardWriter) Flush()                      {}

func (w *hDiscardWriter) reset() {
	clear(w.header)
	w.code, w.n = 0, 0
}

func hBenchRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://example.com/hello?x=1", nil)
	r.Header.Set("User-Agent", "bench")
	r.Header.Set("Accept", "*/*")
	return r
}

func BenchmarkHandler(b *testing.B) {
	for _, c := range hBenchPair() {
		b.Run(c.name, func(b *testing.B) {
			r := hBenchRequest()
			w := &hDiscardWriter{header: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				c.h.ServeHTTP(w, r)
			}
			if w.n != len(hBenchBody) || w.header.Get("Content-Type") != "text/plain" {
				b.Fatalf("wrong response: %d bytes, header %v", w.n, w.header)
			}
		})
	}
}

func BenchmarkHandlerRecorder(b *testing.B) {
	for _, c := range hBenchPair() {
		b.Run(c.name, func(b *testing.B) {
			r := hBenchRequest()
			b.ReportAllocs()
			var w *httptest.ResponseRecorder
			for b.Loop() {
				w = httptest.NewRecorder()
				c.h.ServeHTTP(w, r)
			}
			if w.Code != 200 || w.Body.String() != string(hBenchBody) {
				b.Fatalf("wrong response: %d %q", w.Code, w.Body)
			}
		})
	}
}

func BenchmarkHandlerLoopback(b *testing.B) {
	for _, c := range hBenchPair() {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			client := srv.Client()
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/hello?x=1", nil)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.ReadFull(resp.Body, buf)
				resp.Body.Close()
				if resp.StatusCode != 200 || n != len(hBenchBody) {
					b.Fatalf("wrong response: %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}
