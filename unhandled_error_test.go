package vial_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/serving"
)

// uePage serves app (in debug mode) behind the debugger and returns the
// text page for path.
func uePage(t *testing.T, app *vial.App, path string) string {
	t.Helper()
	app.Config["DEBUG"] = true
	srv := httptest.NewServer(gateway.Handler(serving.NewDebugger(app, serving.DebuggerOptions{})))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 500, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("X-Vial-Debugger"), "the debugger's page")
	return string(b)
}

// ueStackErr is an error that records its stack where it is made.
type ueStackErr struct{ stack []byte }

func (e *ueStackErr) Error() string      { return "stacked failure" }
func (e *ueStackErr) StackTrace() []byte { return e.stack }

func ueMakeStackErr() error { return &ueStackErr{stack: debug.Stack()} }

// A view that returns an error nothing handles is shown as an unhandled
// error of its endpoint, not as a panic of vial's HandleException.
func TestDebuggerShowsAReturnedErrorAsUnhandled(t *testing.T) {
	app := quietApp(&bytes.Buffer{})
	app.Get("/fail", func(r *vial.Request) any { return errors.New("database down") }, vial.Endpoint("failing"))
	page := uePage(t, app, "/fail")
	head, _, _ := strings.Cut(page, "\n")
	assert.Contains(t, head, "unhandled error")
	assert.NotContains(t, head, "panic")
	assert.Contains(t, page, "*errors.errorString: database down")
	assert.Contains(t, page, "Endpoint: failing")
	assert.Contains(t, page, "carries no stack")
	assert.NotContains(t, page, "panic site")
	assert.NotContains(t, page, "HandleException", "vial's internals are not shown as where it happened")
}

// An error that carries its stack is shown with it: where it was made.
func TestDebuggerShowsWhereAReturnedErrorWasMade(t *testing.T) {
	app := quietApp(&bytes.Buffer{})
	app.Get("/fail", func(r *vial.Request) any { return ueMakeStackErr() }, vial.Endpoint("stacked"))
	page := uePage(t, app, "/fail")
	assert.Contains(t, page, "unhandled error")
	assert.Contains(t, page, "Endpoint: stacked")
	assert.Contains(t, page, "ueMakeStackErr   <- where the error was made")
	assert.NotContains(t, page, "panic site")
	assert.NotContains(t, page, "HandleException")
}

// A returned error that wraps a recovered panic shows that panic's stack.
func TestDebuggerShowsTheStackOfAPanicErrorInAReturnedChain(t *testing.T) {
	app := quietApp(&bytes.Buffer{})
	app.Get("/fail", func(r *vial.Request) any {
		return fmt.Errorf("worker: %w", &vial.PanicError{Value: "in a worker", Stack: debug.Stack()})
	})
	page := uePage(t, app, "/fail")
	assert.Contains(t, page, "unhandled error")
	assert.Contains(t, page, "*fmt.wrapError: worker: panic: in a worker")
	assert.Contains(t, page, "wraps *gateway.PanicError: panic: in a worker")
	assert.Contains(t, page, "TestDebuggerShowsTheStackOfAPanicErrorInAReturnedChain.func1   <- where the error was made")
}

// A panic in a view is still a panic, at its site.
func TestDebuggerStillShowsAViewsPanicAsAPanic(t *testing.T) {
	app := quietApp(&bytes.Buffer{})
	app.Get("/boom", func(r *vial.Request) any { panic("kaboom") })
	page := uePage(t, app, "/boom")
	head, _, _ := strings.Cut(page, "\n")
	assert.Contains(t, head, "panic in the application")
	assert.Contains(t, page, "TestDebuggerStillShowsAViewsPanicAsAPanic.func1   <- panic site")
}

// The error a test sees is the view's (errors.Is finds it) in testing mode.
func TestAPropagatedErrorIsTheViews(t *testing.T) {
	sentinel := errors.New("sentinel")
	app := quietApp(&bytes.Buffer{})
	app.Config["TESTING"] = true
	app.Get("/", func(r *vial.Request) any { return sentinel })
	var got any
	func() {
		defer func() { got = recover() }()
		app.TestClient().Get("/")
	}()
	err, ok := got.(error)
	require.True(t, ok)
	assert.ErrorIs(t, err, sentinel)
	assert.Equal(t, "sentinel", err.Error())
}

// Under TESTING (not DEBUG) a returned error reaches the test as itself,
// as in Flask, not in the debugger's wrapper.
func TestAReturnedErrorReachesATestAsItself(t *testing.T) {
	app := vial.New("testing")
	app.Config["TESTING"] = true
	failure := errors.New("the view failed")
	app.Get("/", func(r *vial.Request) any { return failure })
	assert.PanicsWithValue(t, failure, func() { app.TestClient().Get("/") })
}

// A panic in a blueprint's view is shown as a panic, naming the
// blueprint's endpoint, with the panicking frame.
func TestDebuggerNamesTheEndpointOfAPanic(t *testing.T) {
	app := quietApp(&bytes.Buffer{})
	api := vial.NewBlueprint("api", vial.URLPrefix("/api"))
	api.Get("/boom", func(r *vial.Request) any { panic("blueprint trouble") }, vial.Endpoint("boom"))
	app.RegisterBlueprint(api)
	page := uePage(t, app, "/api/boom")
	assert.Contains(t, page, "panic in the application")
	assert.NotContains(t, page, "unhandled error")
	assert.Contains(t, page, "Endpoint: api.boom")
	assert.Contains(t, page, "string: blueprint trouble")
	assert.Contains(t, page, "TestDebuggerNamesTheEndpointOfAPanic.func1   <- panic site")
}
