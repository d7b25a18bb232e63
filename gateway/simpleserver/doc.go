// Package simpleserver is a small HTTP server for one gateway application,
// the analogue of Python's wsgiref.simple_server: enough to run an
// application or an example, with none of the development server's
// reloading or debugging (package serving has those).
//
//	srv, err := simpleserver.MakeServer("127.0.0.1", 8000, app)
//	if err != nil { … }
//	log.Fatal(srv.ServeForever())
package simpleserver
