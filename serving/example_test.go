package serving_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/serving"
)

func hello(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}})
	return gateway.Strings("Hello from ", env.PathInfo, "\n")
}

// A development server on a free port, served in the background and
// stopped gracefully.
func Example() {
	s, err := serving.MakeServer("127.0.0.1", 0, gateway.AppFunc(hello), serving.Options{
		AppName: "hello",
		Output:  io.Discard, // the banner and the access log
	})
	if err != nil {
		log.Fatal(err)
	}
	go s.Serve()

	resp, err := http.Get(s.URL() + "/world")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.Status, ": ", string(body))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	// Output: 200 OK: Hello from /world
}

// RunSimple is the one call a program makes: it prints the banner, serves
// until Ctrl+C and shuts down gracefully. With the reloader the program is
// rebuilt and restarted when its sources change; with the debugger a panic
// shows its stack in the browser.
func ExampleRunSimple() {
	err := serving.RunSimple("127.0.0.1", 5000, gateway.AppFunc(hello), serving.Options{
		AppName:     "hello",
		DebugMode:   true,
		UseReloader: true,
		UseDebugger: true,
	})
	if err != nil {
		log.Fatal(err)
	}
}

// A request handler factory wraps (or replaces) the default request
// handler, as werkzeug's request_handler class does.
func ExampleRequestHandlerFactory() {
	s, err := serving.MakeServer("127.0.0.1", 0, gateway.AppFunc(hello), serving.Options{
		Output: io.Discard,
		RequestHandler: func(s *serving.Server) http.Handler {
			next := serving.DefaultRequestHandler(s)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Dev-Server", "vial")
				next.ServeHTTP(w, r)
			})
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	go s.Serve()
	defer s.Close()

	resp, err := http.Get(s.URL() + "/")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Header.Get("X-Dev-Server"))
	// Output: vial
}

// The access log goes to any log/slog logger, with the request's details
// as attributes; the message is werkzeug's line.
func ExampleOptions_accessLog() {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, slog.MessageKey, "duration":
				return slog.Attr{} // they change from run to run
			}
			return a
		},
	}))
	s, err := serving.MakeServer("127.0.0.1", 0, gateway.AppFunc(hello), serving.Options{
		Output:    io.Discard,
		AccessLog: logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	go s.Serve()

	resp, err := http.Get(s.URL() + "/hello?name=vial")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	s.Shutdown(context.Background()) // the request has been logged by now
	fmt.Print(logs.String())
	// Output: level=INFO remote_addr=127.0.0.1 method=GET uri="/hello?name=vial" proto=HTTP/1.1 status=200 bytes=18
}
