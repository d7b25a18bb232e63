package serving_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/serving"
)

// BenchmarkLoopback compares, in one run, a raw net/http server with the
// development server answering the same "Hello, World!" over loopback, to
// keep-alive clients in parallel (b.RunParallel, GOMAXPROCS goroutines).
// The sub-benchmarks:
//
//   - raw: an http.Server with an http.HandlerFunc.
//   - devserver: MakeServer with a gateway.AppFunc, the access log (werkzeug's
//     line, formatted) written to io.Discard: what a user runs.
//   - devserver-nolog: the same with a disabled access log, to show its cost.
//   - devserver-single: SingleThreaded, requests one at a time.
//
// Run them with
//
//	go test -run '^$' -bench Loopback -count 3 ./serving/
//
// Each reports req/s besides ns/op; allocs/op counts client and server.
// A vial App variant belongs to the root package (serving must not import
// vial).
func BenchmarkLoopback(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(rawHello)}
		go srv.Serve(ln)
		defer srv.Close()
		benchClients(b, "http://"+ln.Addr().String()+"/hello?x=1")
	})
	for _, c := range []struct {
		name string
		opts serving.Options
	}{
		{"devserver", serving.Options{Output: io.Discard}},
		{"devserver-nolog", serving.Options{Output: io.Discard, AccessLog: slog.New(slog.DiscardHandler)}},
		{"devserver-single", serving.Options{Output: io.Discard, SingleThreaded: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := serving.MakeServer("127.0.0.1", 0, gateway.AppFunc(gatewayHello), c.opts)
			if err != nil {
				b.Fatal(err)
			}
			go s.Serve()
			defer s.Close()
			benchClients(b, s.URL()+"/hello?x=1")
		})
	}
}

var helloBody = []byte("Hello, World!")

func rawHello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write(helloBody)
}

func gatewayHello(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return gateway.Bytes(helloBody)
}

func benchClients(b *testing.B, url string) {
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Error(err)
			return
		}
		buf := make([]byte, 64)
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.ReadFull(resp.Body, buf)
			resp.Body.Close()
			if resp.StatusCode != 200 || n != len(helloBody) {
				b.Errorf("wrong response: %d, %d bytes", resp.StatusCode, n)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkHandler measures the server's own per-request cost without the
// network: the raw handler and the dev server's handler (access log, bridge,
// application) called in process on a minimal ResponseWriter. The loopback
// round trip, tens of microseconds, dwarfs both.
func BenchmarkHandler(b *testing.B) {
	s, err := serving.MakeServer("127.0.0.1", 0, gateway.AppFunc(gatewayHello), serving.Options{Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	nolog, err := serving.MakeServer("127.0.0.1", 0, gateway.AppFunc(gatewayHello), serving.Options{
		Output: io.Discard, AccessLog: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer nolog.Close()
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"raw", http.HandlerFunc(rawHello)},
		{"devserver", s.HTTPServer().Handler},
		{"devserver-nolog", nolog.HTTPServer().Handler},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/hello?x=1", nil)
			w := &discardWriter{header: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				w.n = 0
				c.h.ServeHTTP(w, r)
			}
			if w.n != len(helloBody) {
				b.Fatalf("wrong response: %d bytes", w.n)
			}
		})
	}
}

type discardWriter struct {
	header http.Header
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *discardWriter) Flush()                      {}
