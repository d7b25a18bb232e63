// Command lifecycle wires up every hook and signal of vial's request
// lifecycle and logs one line per event, so you can watch a request go
// through the pipeline. Serve it:
//
//	go run ./examples/lifecycle run
//
// and, in another terminal, request each URL while you watch the log:
//
//	curl http://127.0.0.1:5000/                              # a normal request
//	curl http://127.0.0.1:5000/private                       # 401 from a before-request hook
//	curl -H 'X-Token: secret' http://127.0.0.1:5000/private  # ... let through
//	curl http://127.0.0.1:5000/order/cake                    # an error the view returns, handled
//	curl http://127.0.0.1:5000/panic                         # a panic: got-request-exception, a 500
//	curl http://127.0.0.1:5000/stream                        # torn down after the last chunk
//
// A normal request logs, in this order (the first request of the process
// also runs before-first-request, after appcontext-pushed):
//
//	[lifecycle] appcontext-pushed GET /
//	[lifecycle] request-started GET /
//	[lifecycle] url-value-preprocessor endpoint=index
//	[lifecycle] before-request GET /
//	[lifecycle] view GET / index
//	[lifecycle] after-request GET / 200
//	[lifecycle] request-finished GET / 200
//	[lifecycle] teardown-request GET /
//	[lifecycle] request-tearing-down GET /
//	[lifecycle] teardown-appcontext GET /
//	[lifecycle] appcontext-tearing-down GET /
//	[lifecycle] appcontext-popped GET /
//
// Hooks are the App's own (BeforeRequest, TeardownRequest …); signals are
// for observers outside it, and ConnectVia(app, …) makes them hear this App
// only. Run it without --debug to see the 500 handler answer /panic: with
// --debug, the panic goes to the debugger instead.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/vial-go/vial"
)

// OutOfStockError is what the /order view returns for an item it does not
// have; an error handler registered for the type turns it into a 404.
type OutOfStockError struct {
	Item string
}

// Error returns "out of ITEM".
func (e *OutOfStockError) Error() string { return "out of " + e.Item }

// newApp builds the application, logging each event to w.
func newApp(w io.Writer) *vial.App {
	app := vial.New("lifecycle")
	app.Logger = slog.New(slog.NewTextHandler(w, nil)) // the log of unhandled errors
	events := eventLog{w}
	addHooks(app, events)
	connectSignals(app, events)
	addViews(app, events)
	return app
}

// eventLog writes the event lines.
type eventLog struct{ w io.Writer }

// logf writes one event line: "[lifecycle] EVENT METHOD PATH DETAIL".
func (l eventLog) logf(event string, r *vial.Request, detail ...any) {
	line := "[lifecycle] " + event
	if r != nil {
		line += " " + r.Method + " " + r.Path
	}
	for _, d := range detail {
		line += " " + fmt.Sprint(d)
	}
	fmt.Fprintln(l.w, line)
}

// withErr is the detail of a teardown: the error that ended the request.
func withErr(err error) []any {
	if err == nil {
		return nil
	}
	return []any{"error=" + err.Error()}
}

// addHooks registers the App's hooks, in the order they run.
func addHooks(app *vial.App, events eventLog) {
	logf := events.logf
	app.BeforeFirstRequest(func() { logf("before-first-request", nil) })
	app.URLValuePreprocessor(func(r *vial.Request, endpoint string, values map[string]any) {
		// The preprocessor sees the request, the endpoint and the view
		// arguments, which it may change.
		detail := "endpoint=" + endpoint
		if endpoint == "" {
			detail = "(no rule matched)"
		}
		if len(values) > 0 {
			detail += fmt.Sprintf(" values=%v", values)
		}
		logf("url-value-preprocessor", nil, detail)
	})
	app.BeforeRequest(func(r *vial.Request) any {
		if r.Endpoint == "private" && r.Header.Get("X-Token") != "secret" {
			logf("before-request", r, "-> 401, the view is skipped")
			return vial.Abort(401, "X-Token required")
		}
		logf("before-request", r)
		return nil
	})
	app.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		logf("after-request", r, resp.StatusCode)
		return resp
	})
	app.TeardownRequest(func(r *vial.Request, err error) {
		logf("teardown-request", r, withErr(err)...)
	})
	app.TeardownAppContext(func(r *vial.Request, err error) {
		logf("teardown-appcontext", r, withErr(err)...)
	})
	app.ErrorHandler((*OutOfStockError)(nil), func(r *vial.Request, err error) any {
		logf("error-handler", r, err)
		return vial.MakeResponse("Sorry, we are "+err.Error()+".\n", 404)
	})
	app.ErrorHandler(500, func(r *vial.Request, err error) any {
		logf("error-handler", r, 500)
		return vial.MakeResponse("Something broke; it has been logged.\n", 500)
	})
}

// connectSignals connects to the signals, in the order they are sent,
// through app: they hear this App only.
func connectSignals(app *vial.App, events eventLog) {
	logf := events.logf
	vial.AppContextPushed.ConnectVia(app, func(_ *vial.App, r *vial.Request) {
		logf("appcontext-pushed", r)
	})
	vial.RequestStarted.ConnectVia(app, func(_ *vial.App, r *vial.Request) {
		logf("request-started", r)
	})
	vial.GotRequestException.ConnectVia(app, func(_ *vial.App, e *vial.RequestError) {
		logf("got-request-exception", e.Request, e.Err)
	})
	vial.RequestFinished.ConnectVia(app, func(_ *vial.App, resp *vial.Response) {
		logf("request-finished", resp.Request, resp.StatusCode)
	})
	vial.RequestTearingDown.ConnectVia(app, func(_ *vial.App, td *vial.Teardown) {
		logf("request-tearing-down", td.Request, withErr(td.Err)...)
	})
	vial.AppContextTearingDown.ConnectVia(app, func(_ *vial.App, td *vial.Teardown) {
		logf("appcontext-tearing-down", td.Request, withErr(td.Err)...)
	})
	vial.AppContextPopped.ConnectVia(app, func(_ *vial.App, r *vial.Request) {
		logf("appcontext-popped", r)
	})
}

// addViews adds the views the curl lines above request.
func addViews(app *vial.App, events eventLog) {
	logf := events.logf
	app.Get("/", func(r *vial.Request) any {
		logf("view", r, r.Endpoint)
		return "Hello from the lifecycle example. Watch the log.\n"
	}, vial.Endpoint("index"))
	app.Get("/private", func(r *vial.Request) any {
		logf("view", r, r.Endpoint)
		return "The token was right.\n"
	}, vial.Endpoint("private"))
	app.Get("/order/<item>", func(r *vial.Request) any {
		logf("view", r, r.Endpoint)
		item := r.ViewArgs["item"].(string)
		if item != "tea" {
			return &OutOfStockError{Item: item} // handled by the error handler
		}
		return "One tea, coming up.\n"
	}, vial.Endpoint("order"))
	app.Get("/panic", func(r *vial.Request) any {
		logf("view", r, r.Endpoint)
		panic("something went wrong") // an unhandled error: a 500
	}, vial.Endpoint("panic"))
	app.Get("/stream", func(r *vial.Request) any {
		logf("view", r, r.Endpoint)
		// The body runs after the view has returned and the response
		// has been finished; the request is torn down after its last chunk.
		return func(yield func(string) bool) {
			for i := 1; i <= 3; i++ {
				logf("stream-chunk", r, i)
				if !yield(strings.Repeat("*", i) + "\n") {
					return
				}
			}
		}
	}, vial.Endpoint("stream"))
}

func main() {
	newApp(os.Stderr).Main()
}
