// Package bench measures vial against the routers its users choose
// between: gin, echo, chi, httprouter, net/http's ServeMux, gorilla/mux and
// a raw net/http handler. It is a module of its own, so that none of them
// enters vial's go.mod.
//
// The package holds the contestants, each serving the same responses:
// "/" answers "Hello, World!", "/user/<int:id>" answers "User <id>", and
// each route of the GitHub API table of go-http-routing-benchmark (203
// routes) answers its method and rule ("GET /repos/<owner>/<repo>"), all as
// text/html; charset=utf-8. Its tests check every contestant's answers;
// its benchmarks (BenchmarkRouters, named case/contestant) time them on
// one minimal ResponseWriter. Two programs drive them:
//
//	go run ./bench/cmd/table          # interleaved passes, Markdown tables
//	bench/load                        # wrk against served contestants
//
// bench/cmd/server serves [App] and [Handler] for bench/load.
package bench
