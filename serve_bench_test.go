package vial_test

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/serving"
)

// BenchmarkDevServer compares, in one run over loopback with keep-alive
// clients in parallel, a raw net/http server and vial's development server
// (access log formatted and written to io.Discard) serving "Hello, World!"
// through a vial App:
//
//	go test -run '^$' -bench DevServer -count 3 .
func BenchmarkDevServer(b *testing.B) {
	hello := []byte("Hello, World!")
	b.Run("raw", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(hello)
		})}
		go srv.Serve(ln)
		defer srv.Close()
		loopbackClients(b, "http://"+ln.Addr().String()+"/", len(hello))
	})
	b.Run("vial", func(b *testing.B) {
		app := vial.New("bench")
		app.Get("/", func(r *vial.Request) any { return "Hello, World!" })
		s, err := serving.MakeServer("127.0.0.1", 0, app, serving.Options{Output: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		go s.Serve()
		defer s.Close()
		loopbackClients(b, s.URL()+"/", len(hello))
	})
}

func loopbackClients(b *testing.B, url string, size int) {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 64)
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.ReadFull(resp.Body, buf)
			resp.Body.Close()
			if resp.StatusCode != 200 || n != size {
				b.Errorf("wrong response: %d, %d bytes", resp.StatusCode, n)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
