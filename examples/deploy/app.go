package main

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway/middleware"
)

// newApp builds the application that runs behind nginx. Its views show
// what ProxyFix gives an app behind a proxy: the client's address, the
// scheme and host the client used, the path prefix nginx serves it under,
// and URLs built from them.
//
// pace is waited on between the chunks of the streams (/stream/events,
// /stream/download): it returns false to end the stream. main passes
// everySecond; the test lets the stream go on when it chooses.
func newApp(pace func(ctx context.Context) bool) *vial.App {
	app := vial.New("deploy")
	app.Get("/", index)
	app.Get("/whoami", whoami)
	// The streams are under /stream/, where nginx passes each chunk on as
	// it comes (nginx.conf).
	app.Get("/stream/events", func(r *vial.Request) any { return events(r, pace) }, vial.Endpoint("events"))
	app.Get("/stream/download", func(r *vial.Request) any { return download(r, pace) }, vial.Endpoint("download"))
	return app
}

// index redirects to /whoami: the Location is relative to the prefix
// nginx serves the app under ("/app/whoami").
func index(r *vial.Request) any {
	return vial.Redirect(r.URLFor("whoami"))
}

// whoami describes the request as the app sees it, and, under "proxy", as
// the connection from nginx said before ProxyFix corrected it.
func whoami(r *vial.Request) any {
	orig, _ := r.Environ.Get(middleware.KeyProxyFixOrig).(middleware.ProxyFixOrig)
	return map[string]any{
		"remote_addr": r.RemoteAddr,
		"scheme":      r.Scheme(),
		"host":        r.Host(),
		"script_root": r.ScriptRoot,
		"url":         r.URL(),
		"self":        r.URLFor("whoami", vial.External(true)),
		"events":      r.URLFor("events", vial.External(true)),
		"proxy": map[string]any{
			"remote_addr": orig.RemoteAddr,
			"scheme":      orig.URLScheme,
			"host":        orig.Host,
			"script_root": orig.ScriptName,
		},
	}
}

// events streams server-sent events, "data: 1", "data: 2" and "data: 3",
// each sent as soon as it is made, with a pause between them. Through a
// proxy that collects responses before passing them on, the client would
// get them all at once at the end.
func events(r *vial.Request, pace func(ctx context.Context) bool) any {
	var stream iter.Seq[string] = func(yield func(string) bool) {
		for i := 1; i <= 3; i++ {
			if i > 1 && !pace(r.Context()) {
				return // the client left, or the server is shutting down
			}
			if !yield(fmt.Sprintf("data: %d\n\n", i)) {
				return
			}
		}
	}
	return vial.MakeResponse(stream, map[string]string{
		"Content-Type":  "text/event-stream",
		"Cache-Control": "no-cache",
	})
}

// downloadParts is the file /stream/download sends.
var downloadParts = []string{"part 1 of 3\n", "part 2 of 3\n", "part 3 of 3\n"}

// download sends a file whose size is known before its content is: a
// file relayed from elsewhere (object storage, another service) as it
// arrives, here made up of downloadParts with a pause between them. It
// declares its length, and sends each part as it gets it.
func download(r *vial.Request, pace func(ctx context.Context) bool) any {
	size := 0
	for _, p := range downloadParts {
		size += len(p)
	}
	var stream iter.Seq[string] = func(yield func(string) bool) {
		for i, part := range downloadParts {
			if i > 0 && !pace(r.Context()) {
				return // the response falls short of its length: the server aborts it
			}
			if !yield(part) {
				return
			}
		}
	}
	return vial.MakeResponse(stream, map[string]string{
		"Content-Type":        "text/plain; charset=utf-8",
		"Content-Length":      strconv.Itoa(size),
		"Content-Disposition": `attachment; filename="download.txt"`,
	})
}

// everySecond is the production pace of the streams.
func everySecond(ctx context.Context) bool {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
