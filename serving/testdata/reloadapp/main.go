// Command reloadapp is the program the reloader's end-to-end test
// (TestReloaderEndToEnd) copies into a module of its own, runs and edits:
// it serves its version with serving.RunSimple and the reloader on.
//
//	GET /      the version
//	GET /slow  the version, after a second and a half
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/serving"
)

const version = "v1"

func main() {
	port := flag.Int("port", 0, "port to listen on (0 picks one; the banner shows it)")
	flag.Parse()
	if os.Getenv("VIAL_RELOADER_CHILD") == "1" {
		fmt.Printf("reloadapp: child %d serves %s\n", os.Getpid(), version)
	}
	app := gateway.FromHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(1500 * time.Millisecond)
		}
		io.WriteString(w, version)
	}))
	err := serving.RunSimple("127.0.0.1", *port, app, serving.Options{
		UseReloader:      true,
		ReloaderInterval: 100 * time.Millisecond,
		ShutdownTimeout:  5 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	if os.Getenv("VIAL_RELOADER_CHILD") == "1" {
		fmt.Printf("reloadapp: child %d stopped\n", os.Getpid())
	}
}
