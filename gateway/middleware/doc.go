// Package middleware holds gateway applications that wrap others, as
// werkzeug.middleware does for WSGI: [Dispatcher] mounts applications under
// path prefixes, [ProxyFix] takes the client's address, scheme, host and
// prefix from the X-Forwarded-* headers of a set number of trusted proxies,
// and [SharedData] serves static files for a prefix.
//
//	app := middleware.Dispatcher(site, map[string]gateway.Application{"/api": api})
//	http.ListenAndServe(addr, gateway.Handler(middleware.ProxyFix(app, middleware.ProxyFixOptions{For: 1})))
package middleware
