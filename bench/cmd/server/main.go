// Command server serves the benchmark module's two small routes, "/" and
// "/user/<int:id>", for bench/load:
//
//	server -server vial-dev -addr 127.0.0.1:8081    # app.Run: vial's development server, access log on stderr
//	server -server vial-handler -addr 127.0.0.1:8082 # the App as an http.Handler on a plain http.Server
//	server -server raw -addr 127.0.0.1:8083          # a raw net/http HandlerFunc
//	server -server gin -addr 127.0.0.1:8084          # gin (likewise echo, chi, httprouter, servemux, gorilla)
//
// Every server but vial-dev is an http.Server with the same timeouts as
// vial's development server's defaults; none logs requests.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/bench"
)

func main() {
	server := flag.String("server", "vial-dev", "vial-dev, vial-handler, raw, gin, echo, chi, httprouter, servemux or gorilla")
	addr := flag.String("addr", "127.0.0.1:8080", "the address to listen on")
	flag.Parse()
	if err := serve(*server, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func serve(server, addr string) error {
	switch server {
	case "vial-dev":
		return bench.App().Run(addr, vial.Debug(false))
	case "vial-handler":
		server = "vial"
	}
	h := bench.Handler(server)
	if h == nil {
		return fmt.Errorf("no server %q", server)
	}
	s := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return s.ListenAndServe()
}
