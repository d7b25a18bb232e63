// Package cgi serves a gateway application as a CGI program (RFC 3875),
// as net/http/cgi's Serve does for an http.Handler: the environ comes from
// the process environment, the request body from standard input, and the
// response goes to standard output. It runs the response state machine of
// every gateway server ([gateway.Exchange]) on standard output, so the
// contract holds under CGI as it does under net/http.
//
//	func main() {
//		if err := cgi.Serve(app); err != nil {
//			os.Exit(1) // already reported on standard error, the server's log
//		}
//	}
//
// The package is empty on js/wasm and Plan 9, which lack the signals a CGI
// program needs.
package cgi
