package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// watcher is the app with the log it writes, as a user watching it sees it.
type watcher struct {
	out    bytes.Buffer
	client *vial.Client
}

// newWatcher builds the app; warm sends it a first request, so that the
// scenarios see the pipeline of every later request.
func newWatcher(t *testing.T, warm bool) *watcher {
	w := &watcher{}
	w.client = newApp(&w.out).TestClient()
	if warm {
		require.Equal(t, 200, w.client.Get("/").StatusCode)
	}
	return w
}

// get sends one request and returns its response, the event lines it
// logged (without the "[lifecycle] " prefix) and the other log lines.
func (w *watcher) get(path string, opts ...vial.RequestOption) (resp *vial.TestResponse, events, logs []string) {
	w.out.Reset()
	resp = w.client.Get(path, opts...)
	for _, line := range strings.Split(strings.TrimSuffix(w.out.String(), "\n"), "\n") {
		if event, ok := strings.CutPrefix(line, "[lifecycle] "); ok {
			events = append(events, event)
		} else if line != "" {
			logs = append(logs, line)
		}
	}
	return resp, events, logs
}

func TestNormalRequest(t *testing.T) {
	w := newWatcher(t, true)
	resp, events, logs := w.get("/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "Hello from the lifecycle example. Watch the log.\n", resp.Text())
	assert.Equal(t, []string{
		"appcontext-pushed GET /",
		"request-started GET /",
		"url-value-preprocessor endpoint=index",
		"before-request GET /",
		"view GET / index",
		"after-request GET / 200",
		"request-finished GET / 200",
		"teardown-request GET /",
		"request-tearing-down GET /",
		"teardown-appcontext GET /",
		"appcontext-tearing-down GET /",
		"appcontext-popped GET /",
	}, events)
	assert.Empty(t, logs)
}

func TestFirstRequestRunsBeforeFirstRequestOnce(t *testing.T) {
	w := newWatcher(t, false)
	_, events, _ := w.get("/")
	require.GreaterOrEqual(t, len(events), 3)
	assert.Equal(t, []string{
		"appcontext-pushed GET /",
		"before-first-request",
		"request-started GET /",
	}, events[:3])
	assert.Len(t, events, 13, "the normal request's twelve events, and before-first-request")

	_, events, _ = w.get("/")
	assert.NotContains(t, events, "before-first-request")
}

func TestBeforeRequestShortCircuits(t *testing.T) {
	w := newWatcher(t, true)
	resp, events, logs := w.get("/private")
	assert.Equal(t, 401, resp.StatusCode)
	assert.Contains(t, resp.Text(), "X-Token required")
	assert.Equal(t, []string{
		"appcontext-pushed GET /private",
		"request-started GET /private",
		"url-value-preprocessor endpoint=private",
		"before-request GET /private -> 401, the view is skipped",
		// no view: the hook's answer is the response
		"after-request GET /private 401",
		"request-finished GET /private 401",
		"teardown-request GET /private",
		"request-tearing-down GET /private",
		"teardown-appcontext GET /private",
		"appcontext-tearing-down GET /private",
		"appcontext-popped GET /private",
	}, events)
	assert.Empty(t, logs)

	resp, events, _ = w.get("/private", vial.WithHeader("X-Token", "secret"))
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "The token was right.\n", resp.Text())
	assert.Contains(t, events, "view GET /private private")
}

func TestHandledError(t *testing.T) {
	w := newWatcher(t, true)
	resp, events, logs := w.get("/order/cake")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "Sorry, we are out of cake.\n", resp.Text())
	assert.Equal(t, []string{
		"appcontext-pushed GET /order/cake",
		"request-started GET /order/cake",
		"url-value-preprocessor endpoint=order values=map[item:cake]",
		"before-request GET /order/cake",
		"view GET /order/cake order",
		"error-handler GET /order/cake out of cake",
		// handled: no got-request-exception, and no error at teardown
		"after-request GET /order/cake 404",
		"request-finished GET /order/cake 404",
		"teardown-request GET /order/cake",
		"request-tearing-down GET /order/cake",
		"teardown-appcontext GET /order/cake",
		"appcontext-tearing-down GET /order/cake",
		"appcontext-popped GET /order/cake",
	}, events)
	assert.Empty(t, logs)

	resp, _, _ = w.get("/order/tea")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "One tea, coming up.\n", resp.Text())
}

func TestPanic(t *testing.T) {
	w := newWatcher(t, true)
	resp, events, logs := w.get("/panic")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, "Something broke; it has been logged.\n", resp.Text())
	assert.Equal(t, []string{
		"appcontext-pushed GET /panic",
		"request-started GET /panic",
		"url-value-preprocessor endpoint=panic",
		"before-request GET /panic",
		"view GET /panic panic",
		"got-request-exception GET /panic panic: something went wrong",
		"error-handler GET /panic 500",
		"after-request GET /panic 500",
		"request-finished GET /panic 500",
		"teardown-request GET /panic error=panic: something went wrong",
		"request-tearing-down GET /panic error=panic: something went wrong",
		"teardown-appcontext GET /panic error=panic: something went wrong",
		"appcontext-tearing-down GET /panic error=panic: something went wrong",
		"appcontext-popped GET /panic",
	}, events)
	require.Len(t, logs, 1, "the App logs the unhandled error once")
	assert.Contains(t, logs[0], `msg="Exception on /panic [GET]"`)
	assert.Contains(t, logs[0], "stack=", "with the stack of the panic")

	resp, _, _ = w.get("/")
	assert.Equal(t, 200, resp.StatusCode, "the app keeps serving")
}

func TestStreamIsTornDownAfterTheLastChunk(t *testing.T) {
	w := newWatcher(t, true)
	resp, events, logs := w.get("/stream")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "*\n**\n***\n", resp.Text())
	assert.Equal(t, []string{
		"appcontext-pushed GET /stream",
		"request-started GET /stream",
		"url-value-preprocessor endpoint=stream",
		"before-request GET /stream",
		"view GET /stream stream",
		"after-request GET /stream 200",
		"request-finished GET /stream 200",
		// the body is made while it is sent, after the response is finished
		"stream-chunk GET /stream 1",
		"stream-chunk GET /stream 2",
		"stream-chunk GET /stream 3",
		"teardown-request GET /stream",
		"request-tearing-down GET /stream",
		"teardown-appcontext GET /stream",
		"appcontext-tearing-down GET /stream",
		"appcontext-popped GET /stream",
	}, events)
	assert.Empty(t, logs)
}

func TestNotFoundGoesThroughTheHooks(t *testing.T) {
	w := newWatcher(t, true)
	resp, events, _ := w.get("/nowhere")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, []string{
		"appcontext-pushed GET /nowhere",
		"request-started GET /nowhere",
		"url-value-preprocessor (no rule matched)",
		"before-request GET /nowhere",
		// no view matched: the 404 is the response
		"after-request GET /nowhere 404",
		"request-finished GET /nowhere 404",
		"teardown-request GET /nowhere",
		"request-tearing-down GET /nowhere",
		"teardown-appcontext GET /nowhere",
		"appcontext-tearing-down GET /nowhere",
		"appcontext-popped GET /nowhere",
	}, events)
}

func TestAppsDoNotHearEachOther(t *testing.T) {
	a, b := newWatcher(t, true), newWatcher(t, true)
	b.out.Reset()
	_, events, _ := a.get("/")
	assert.Len(t, events, 12)
	assert.Empty(t, b.out.String(), "b's signal receivers heard a's request")
}
