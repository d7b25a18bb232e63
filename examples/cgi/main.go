//go:build !js && !plan9

// Command cgi is a vial app served as a CGI program: the web server starts
// it once per request, with the request in its environment and on its
// standard input, and sends on what it prints. [cgi.Serve] does the
// CGI side; the App does not know it is not on a server of its own.
//
// Serve it with lighttpd's mod_cgi (Debian: apt-get install lighttpd),
// from the root of the repository, with the lighttpd.conf next to this
// file; the directory and the port come from the environment:
//
//	go build -o /tmp/vial-cgi/app.cgi ./examples/cgi
//	VIAL_CGI_DIR=/tmp/vial-cgi VIAL_CGI_PORT=8080 /usr/sbin/lighttpd -D -f examples/cgi/lighttpd.conf
//
// and, in another terminal (Ctrl+C stops lighttpd):
//
//	curl http://127.0.0.1:8080/app.cgi/                           # a form that posts to /echo
//	curl -d message=hi http://127.0.0.1:8080/app.cgi/echo          # the form, echoed
//	curl 'http://127.0.0.1:8080/app.cgi/hello?name=gopher'         # a query string
//	curl http://127.0.0.1:8080/app.cgi/api/info                    # JSON: what the app sees of CGI
//
// The part of the URL that names the program, /app.cgi, is the app's
// script root (CGI's SCRIPT_NAME), and URLFor puts it into every URL it
// builds; the rest (PATH_INFO) is what the routes match. Whatever the
// program writes to standard error, a panic's stack say, goes to
// lighttpd's error log.
//
// With Debian's own lighttpd instead, copy the program into
// /usr/lib/cgi-bin/, run "sudo lighty-enable-mod cgi" and
// "sudo systemctl reload lighttpd", and request
// http://localhost/cgi-bin/app.cgi/hello?name=gopher.
//
// Started by hand, outside a CGI server, the program is vial's usual
// command line: go run ./examples/cgi run serves the same app on the
// development server.
package main

import (
	"html"
	"os"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway/cgi"
)

// newApp builds the application; main runs it as a CGI program, the tests
// call it in-process and under lighttpd.
func newApp() *vial.App {
	app := vial.New("cgi")
	app.Get("/", index)
	app.Post("/echo", echo)
	app.Get("/hello", hello)
	app.Get("/api/info", info)
	return app
}

func index(r *vial.Request) any {
	return `<form method="post" action="` + html.EscapeString(r.URLFor("echo")) + `">
<input name="message"> <button>Echo</button>
</form>
`
}

func echo(r *vial.Request) any {
	msg := r.Form().Get("message")
	if msg == "" {
		return vial.Abort(400, "The form has no message.")
	}
	return "You said: " + html.EscapeString(msg) + "\n"
}

func hello(r *vial.Request) any {
	name := r.Args().Get("name")
	if name == "" {
		name = "World"
	}
	return "Hello, " + html.EscapeString(name) + "!\n"
}

func info(r *vial.Request) any {
	software := r.Environ.GetString("SERVER_SOFTWARE") // set by CGI servers
	return map[string]any{
		"script_root": r.ScriptRoot, // SCRIPT_NAME
		"path":        r.Path,       // PATH_INFO
		"self":        r.URLFor("info", vial.External(true)),
		"run_once":    r.Environ.RunOnce, // true under CGI: one request per process
		"server":      software,
	}
}

func main() {
	app := newApp()
	if os.Getenv("GATEWAY_INTERFACE") == "" {
		// Not started by a web server: vial's command line (run, routes).
		app.Main()
	}
	if err := cgi.Serve(app); err != nil {
		os.Exit(1) // the error is already on stderr, in the server's log
	}
}
