// Package serving is vial's development server, werkzeug's serving module
// for Go: it serves any gateway.Application on net/http with an access log
// in werkzeug's format, TLS (including an ad-hoc certificate), HTTP/2, a
// reloader that rebuilds and restarts the program when its sources change,
// a debugger page for panics, and graceful shutdown.
//
//	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
//		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
//		return gateway.Strings("Hello, World!\n")
//	})
//	err := serving.RunSimple("127.0.0.1", 5000, app, serving.Options{AppName: "hello"})
//
// A vial App runs it through app.Run or app.Main.
//
// It is for development, not for production: there, serve the application
// with gateway.Handler on any net/http server.
package serving

// Where each concern lives:
//
//	server.go           MakeServer, Server, RunSimple: binding, serving, shutdown
//	options.go          Options
//	banner.go           the startup banner and the URLs it lists
//	accesslog.go        the access log and its slog handler
//	tls.go              TLS: the server's certificate, ad-hoc ones, MakeDevCert
//	debugger.go         the debugger's wrapper of the application, its log of panics
//	debugger_proxy.go   who sees the page behind a proxy on this host; the warning
//	debugger_stack.go   the panic's stack, parsed and its frames classified
//	debugger_page.go    the debugger's page (debugger.html) and its text form
//	reloader.go         the reloader's overview and protocol, the child's side
//	reloader_parent.go  the reloader's parent: children, builds, hand-overs
//	reloader_build.go   what the parent builds, and how
//	reloader_watch.go   the files it watches, polled
//	reloader_unix.go    the socket hand-down (reloader_other.go: elsewhere)
