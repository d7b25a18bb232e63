// Command cgiapp is the CGI program of gateway's end-to-end test
// (TestCGIUnderLighttpd): a small application served by cgi.Serve,
// with one route per behaviour the test checks.
package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/cgi"
)

func main() {
	if err := cgi.Serve(gateway.AppFunc(app)); err != nil {
		os.Exit(1)
	}
}

func app(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	text := gateway.Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}
	if env.PathInfo == "/echo" || strings.HasPrefix(env.PathInfo, "/echo/") {
		return echo(env, start, text)
	}
	switch env.PathInfo {
	case "/post":
		return post(env, start)
	case "/stream":
		return stream(env, start, text)
	case "/forever":
		return forever(env, start, text)
	case "/cookies":
		start("200 OK", append(text,
			gateway.Header{Name: "Set-Cookie", Value: "a=1; Path=/"},
			gateway.Header{Name: "Set-Cookie", Value: "b=2; Path=/"}))
		return gateway.Strings("two cookies\n")
	case "/panic":
		panic("cgiapp: deliberate panic")
	case "/bad-header":
		start("200 OK", append(text, gateway.Header{Name: "X-Split", Value: "a\r\nInjected: yes"}))
		return gateway.Strings("must not be sent\n")
	}
	start("404 Not Found", text)
	return gateway.Strings("not found: ", env.PathInfo, "\n")
}

// echo reports the environ, one key=value a line.
func echo(env *gateway.Environ, start gateway.StartResponse, h gateway.Headers) gateway.Body {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"method", env.Method},
		{"script_name", env.ScriptName},
		{"path_info", env.PathInfo},
		{"query_string", env.QueryString},
		{"request_uri", env.RequestURI},
		{"host", env.Host},
		{"scheme", env.URLScheme},
		{"server_port", env.ServerPort},
		{"server_protocol", env.ServerProtocol},
		{"remote_addr", env.RemoteAddr},
		{"x_test", env.Header.Get("X-Test")},
		{"http_x_test", env.GetString("HTTP_X_TEST")},
		{"user_agent", env.Header.Get("User-Agent")},
		{"gateway_interface", env.GetString("GATEWAY_INTERFACE")},
		{"multithread", strconv.FormatBool(env.Multithread)},
		{"multiprocess", strconv.FormatBool(env.Multiprocess)},
		{"run_once", strconv.FormatBool(env.RunOnce)},
		{"content_length", env.ContentLength},
	} {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
	}
	start("200 OK", h)
	return gateway.Strings(b.String())
}

// post echoes the request body with a declared Content-Length.
func post(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	data, err := io.ReadAll(env.Input)
	if err != nil {
		panic(err)
	}
	start("200 OK", gateway.Headers{
		{Name: "Content-Type", Value: "application/octet-stream"},
		{Name: "Content-Length", Value: strconv.Itoa(len(data))},
		{Name: "X-Content-Length", Value: env.ContentLength},
		{Name: "X-Content-Type", Value: env.ContentType},
	})
	return gateway.Bytes(data)
}

// marker returns the path of a file in the document root named after the
// query's id (letters and digits only) and a suffix.
func marker(env *gateway.Environ, suffix string) string {
	q, _ := url.ParseQuery(env.QueryString)
	id := q.Get("id")
	for _, c := range id {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			panic("cgiapp: bad id")
		}
	}
	return filepath.Join(env.GetString("DOCUMENT_ROOT"), id+suffix)
}

// stream sends a first chunk, waits for the client to say (by creating a
// marker file) that it has received it, then sends the rest with small
// pauses. A server that buffered the response would make the wait time
// out, and the body say so.
func stream(env *gateway.Environ, start gateway.StartResponse, h gateway.Headers) gateway.Body {
	path := marker(env, ".go")
	start("200 OK", h)
	return gateway.Stream(func(yield func([]byte) bool) {
		if !yield([]byte("chunk 0\n")) {
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := os.Stat(path); err == nil {
				break
			}
			if time.Now().After(deadline) {
				yield([]byte("timeout: the first chunk did not reach the client\n"))
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		for i := 1; i <= 3; i++ {
			if !yield([]byte(fmt.Sprintf("chunk %d\n", i))) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}, nil)
}

// forever streams until the client goes away; Close leaves a marker file
// recording why the stream ended, written whole (the test polls for it).
func forever(env *gateway.Environ, start gateway.StartResponse, h gateway.Headers) gateway.Body {
	path := marker(env, ".closed")
	ctx := env.Context()
	start("200 OK", h)
	n := 0
	return gateway.Stream(func(yield func([]byte) bool) {
		for ; n < 1000 && ctx.Err() == nil; n++ {
			if !yield([]byte(fmt.Sprintf("tick %d\n", n))) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}, func() error {
		return writeFileAtomic(path, fmt.Sprintf("closed after %d ticks, context: %v\n", n, ctx.Err()))
	})
}

// writeFileAtomic writes a temporary file next to path and renames it to
// path, so that a reader sees either no file or all of it, never the empty
// file os.WriteFile creates before it writes.
func writeFileAtomic(path, data string) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
