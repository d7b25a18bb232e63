package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/middleware"
)

// mwExampleGet fetches url and prints the status and the body.
func mwExampleGet(req *http.Request) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s: %s\n", resp.Status, strings.TrimSpace(string(body)))
}

// Mount an API under /api: it sees its mount point in SCRIPT_NAME and the
// rest of the path in PATH_INFO. Everything else goes to the site.
func ExampleDispatcher() {
	show := func(name string) gateway.Application {
		return gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
			return gateway.Strings(fmt.Sprintf("%s SCRIPT_NAME=%q PATH_INFO=%q", name, env.ScriptName, env.PathInfo))
		})
	}
	app := middleware.Dispatcher(show("site"), map[string]gateway.Application{
		"/api": show("api"),
	})

	srv := httptest.NewServer(gateway.Handler(app))
	defer srv.Close()
	for _, path := range []string{"/api/users/7", "/api", "/apidocs"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		mwExampleGet(req)
	}
	// Output:
	// 200 OK: api SCRIPT_NAME="/api" PATH_INFO="/users/7"
	// 200 OK: api SCRIPT_NAME="/api" PATH_INFO=""
	// 200 OK: site SCRIPT_NAME="" PATH_INFO="/apidocs"
}

// Behind one reverse proxy that sets X-Forwarded-For and -Proto, the
// application sees the client's address and the URL the client used. The
// value the client forged on the left of X-Forwarded-For is ignored.
func ExampleProxyFix() {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		orig := env.Get(middleware.KeyProxyFixOrig).(middleware.ProxyFixOrig)
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Strings(env.RemoteAddr, " ", env.URLScheme, " (proxy ", orig.RemoteAddr, ")")
	})
	fixed := middleware.ProxyFix(app, middleware.ProxyFixOptions{For: 1, Proto: 1})

	srv := httptest.NewServer(gateway.Handler(fixed))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.7") // forged, then the proxy's
	req.Header.Set("X-Forwarded-Proto", "https")
	mwExampleGet(req)
	// Output:
	// 200 OK: 203.0.113.7 https (proxy 127.0.0.1)
}

// Serve the files of a directory under /static, with the rest of the site
// from the application.
func ExampleSharedData() {
	dir, err := os.MkdirTemp("", "static")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("Hello, file!"), 0o644); err != nil {
		panic(err)
	}

	site := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("404 Not Found", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Strings("no page at ", env.PathInfo)
	})
	app := middleware.SharedData(site, "/static", dir)

	srv := httptest.NewServer(gateway.Handler(app))
	defer srv.Close()
	for _, path := range []string{"/static/hello.txt", "/static/../secret", "/static/missing.txt"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		mwExampleGet(req)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/static/hello.txt", nil)
	req.Header.Set("Range", "bytes=7-")
	mwExampleGet(req)
	// Output:
	// 200 OK: Hello, file!
	// 404 Not Found: Not Found
	// 404 Not Found: no page at /static/missing.txt
	// 206 Partial Content: file!
}
