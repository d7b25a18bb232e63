// Package gateway is the contract between servers and applications that
// vial stands on: PEP 3333 (WSGI) for Go.
//
// An [Application] takes the request's [Environ] and a [StartResponse]
// function, calls start with the status and headers, and returns the
// response [Body]: chunks produced on demand, plus a Close hook. [AppFunc]
// adapts a plain function, as [net/http.HandlerFunc] does:
//
//	hello := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
//		start("200 OK", gateway.Headers{{"Content-Type", "text/plain"}})
//		return gateway.Strings("Hello, ", env.PathInfo)
//	})
//	http.ListenAndServe("127.0.0.1:8000", gateway.Handler(hello))
//
// # Who does what
//
// A server builds one Environ per request, supplies start, iterates the
// Body and transmits each chunk, then closes the Body. In this package:
// [Handler] (the bridge to net/http, which every net/http server and the
// vial dev server use), [RunCGI] (RFC 3875), and [MakeServer] (a small
// server, wsgiref.simple_server's analogue). [FromHandler] goes the other
// way: any net/http handler becomes an Application.
//
// The guarantees, which [Validate] checks on both sides:
//
//   - Headers are sent lazily, with the first non-empty chunk (or write), or
//     at the end of an empty body. Until then the application may call start
//     again with excInfo to replace the status and headers; after that the
//     server aborts the response rather than pretend it completed.
//   - Header names are tokens, values hold no CR or LF, and the application
//     sends no hop-by-hop header. A server refuses what would corrupt the
//     wire: a 500 and a logged reason, never a malformed response.
//   - A Content-Length set by the application is a promise: the server sends
//     no more, and a body that falls short is not passed off as complete.
//     Without one, HTTP/1.1 uses chunked encoding and HTTP/1.0 closes the
//     connection.
//   - Each chunk is transmitted and flushed before the next is asked for;
//     the server keeps no chunk after asking for the next, and never gathers
//     the whole body.
//   - Close is called exactly once: after the last chunk, after an error or
//     panic, when the client leaves mid-stream, and when the body was never
//     iterated.
//   - gateway.input reads the request body only, and gateway.context is
//     cancelled when the client goes away or the server shuts down.
//
// Middleware takes an Application and is one: [Validate], [Dispatcher],
// [ProxyFix], [SharedData].
//
// # Cost
//
// The bridge is close to free: the Environ's common keys are struct fields
// filled without copying the request headers, the per-request state is
// pooled, and a one-chunk body is written without a flush so net/http can
// set its Content-Length. BenchmarkHandler compares it with a raw
// [net/http.HandlerFunc].
package gateway
