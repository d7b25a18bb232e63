// Package gateway is the contract between servers and applications that
// vial stands on: PEP 3333 (WSGI) for Go. This comment states the whole
// contract; the rules are numbered here, and the code (a [Rule], the checks
// of package gateway/validate) names them by these numbers.
//
// An [Application] takes the request's [Environ] and a [StartResponse]
// function, calls start with the status and headers, and returns the
// response [Body]: chunks produced on demand, plus a Close hook. [AppFunc]
// adapts a plain function, as [net/http.HandlerFunc] does, so that both a
// function and a type with a method can be applications:
//
//	hello := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
//		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
//		return gateway.Strings("Hello, ", env.PathInfo)
//	})
//	http.ListenAndServe("127.0.0.1:8000", gateway.Handler(hello))
//
// # Roles
//
// A server builds one Environ per request, supplies start, transmits the
// Body and closes it. Middleware takes an Application and is one. The
// packages:
//
//   - gateway: the contract (Application, Environ, StartResponse, Body,
//     Headers, the header rules of [CheckResponse]), the one response state
//     machine every server runs ([Exchange], on a server's [Wire]), and the
//     bridge to net/http both ways: [Handler] serves an Application to
//     net/http (every net/http server and vial's dev server use it), and
//     [FromHandler] runs any [net/http.Handler] as an Application; under
//     a mount point the handler sees the path below it, as behind
//     [net/http.StripPrefix], and [ScriptName] gives the mount point.
//   - gateway/cgi: the CGI server (RFC 3875), as net/http/cgi.
//   - gateway/middleware: Dispatcher (mount applications under path
//     prefixes), ProxyFix (trust a set number of proxies' X-Forwarded-*
//     headers, never more) and SharedData (static files with ETag,
//     Last-Modified and Range, no path traversal), as werkzeug.middleware.
//   - gateway/validate: the checker of this contract, on both sides,
//     wsgiref.validate's analogue; vial's debug mode turns it on.
//   - gateway/simpleserver: a small HTTP server for one application,
//     wsgiref.simple_server's analogue.
//   - gateway/gatewaytest: serving in process, for tests, as
//     net/http/httptest: the test client of vial runs on it.
//
// # Environ
//
// One Environ per request. Every key can be read by its CGI or PEP 3333
// name with [Environ.Get] and written with [Environ.Set]; the keys every
// request has are also typed fields, so the common path allocates nothing.
//
//	REQUEST_METHOD, SCRIPT_NAME,   as CGI; PATH_INFO is percent-decoded, the
//	PATH_INFO, QUERY_STRING        raw target stays in REQUEST_URI
//	CONTENT_TYPE, CONTENT_LENGTH   "" when absent ("0" only when the client sent 0)
//	SERVER_NAME, SERVER_PORT,      as CGI
//	SERVER_PROTOCOL
//	HTTP_*                         one per request header, "-" as "_", upper case;
//	                               repeated headers joined with ", " (Cookie "; ")
//	REMOTE_ADDR, REMOTE_PORT,      the client's address, the raw request target
//	REQUEST_URI
//	gateway.version                the contract's revision, (1, 0): read-only
//	gateway.url_scheme             "http" or "https"
//	gateway.input                  the request body only: never past its end,
//	                               io.EOF at its end, chunked bodies decoded
//	gateway.errors                 an io.Writer for error text: the server's log
//	gateway.multithread,           true when what they say is true of the
//	gateway.multiprocess,          server in use
//	gateway.run_once
//	gateway.context                a context.Context, cancelled when the client
//	                               goes away or the server shuts down
//	any other key                  an extension, for servers and middleware
//
// # start_response
//
// start(status, headers, excInfo...) records the status and headers and
// returns a write function, the imperative path of PEP 3333.
//
//   - start_response rule 1: the status is "NNN Reason". Headers are an
//     ordered list of name and value; repeated names (Set-Cookie) are kept,
//     in order.
//   - start_response rule 2: header names are tokens, values hold no
//     control character but HTAB (RFC 9110: no CR, LF or NUL above all),
//     the application sends no hop-by-hop header (Connection, Keep-Alive,
//     TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*) and no Status
//     header. A server refuses what would corrupt the wire: a clear
//     error and a 500, never a malformed response.
//   - start_response rule 3: headers go out lazily, with the first non-empty
//     chunk or write (even an empty write, as PEP 3333 has it), or at the
//     end of an empty body. Until then the application may call start again
//     with excInfo, replacing the status and headers (the error page path);
//     a second call without excInfo is a programming error ([ErrStartTwice]).
//     A call with excInfo after the headers went out cannot be honoured: the
//     server aborts the response rather than pretend it completed, and
//     reports the error ([ErrHeadersSent]). A body or write before start is
//     an error too ([ErrNoStart]).
//   - start_response rule 4: a Content-Length set by the application is a
//     non-negative integer and a promise: the server sends no more than
//     that, and a body that falls short is not passed off as complete
//     ([ErrShortBody]). Without one, HTTP/1.1 uses chunked encoding and
//     HTTP/1.0 closes the connection. A 1xx, 204 or 304 response has no
//     body.
//
// # Body
//
// The response is chunks produced on demand plus a close hook, not one
// buffer, so that the server writes while the application generates.
//
//   - Body rule 1: each chunk is transmitted and flushed before the next is
//     asked for; the server never gathers the whole body, and keeps no chunk
//     after asking for the next. Chunks is an [iter.Seq]: no chunk comes
//     after yield returned false.
//   - Body rule 2: Close is called exactly once: after the last chunk, after
//     an error or a panic, when the client leaves mid-stream, and when the
//     body was never iterated (HEAD, an error before the body). Close ends
//     the response: nothing is asked of the Body after it, and the
//     application calls neither start nor write.
//   - Body rule 3: empty chunks are allowed and send nothing.
//   - Body rule 4: a body that can write itself ([io.WriterTo], a [File])
//     lets the server take the platform's fastest path (sendfile); a Len
//     method tells the server the body's length; an Err method says why a
//     body ended early.
//
// # What a server guarantees
//
// [Exchange] keeps the rules above for every server of these packages,
// each of which adds only its [Wire]. A panic in the application or its
// Body is recovered, logged with its stack and answered with a 500 while
// nothing has gone out, by aborting the response after; the server goes on
// serving. For HEAD the Body is iterated only until start has been called,
// and nothing of it is sent; a body of known length gets the
// Content-Length the GET would have. Behind a net/http middleware,
// [Handler] gives net/http's semantics: a header name the application
// sends replaces the middleware's fields of that name (Set-Cookie adds to
// them), and the application's repeated fields go out in order. The
// in-process server of package gatewaytest differs where a test should see
// more: it passes a panic on to the test, and adds no header.
//
// # Cost
//
// The bridge is close to free: the Environ's common keys are struct fields
// filled without copying the request headers, the per-request state is
// pooled, and a one-chunk body is written without a flush so net/http can
// set its Content-Length. BenchmarkHandler compares it with a raw
// [net/http.HandlerFunc].
package gateway
