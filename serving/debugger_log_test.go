package serving

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/ratelog"
	"github.com/vial-go/vial/internal/testutil"

	"github.com/vial-go/vial/gateway"
)

// The debugger's log of a hot panic: one stack, then one short line a
// repeat, then their count.

func TestDebuggerLogsAHotPanicsStackOnce(t *testing.T) {
	var line atomic.Int64
	srv, logs := dbgDebugServer(t, dbgPanickingApp(&line), false)
	c := &http.Client{Timeout: 10 * time.Second}
	for range 100 {
		resp, err := c.Get(srv.URL + "/hot")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 500, resp.StatusCode)
	}
	got := logs.String()
	site := "debugger_test.go:" + strconv.Itoa(int(line.Load()))
	assert.Equal(t, 1, strings.Count(got, "[running]:"), "one stack:\n%s", got)
	assert.Equal(t, 100, strings.Count(got, "vial debugger: GET /hot: string: boom"), "one entry a panic")
	again := regexp.MustCompile(`(?m)^vial debugger: GET /hot: string: boom <script>alert\(1\)</script> \(again at \S+` +
		regexp.QuoteMeta(site) + `: its stack is logged once a minute\)$`)
	assert.Len(t, again.FindAllString(got, -1), 99, "each repeat is one line")
}

func TestDebuggerLogsTheCountWhenTheWindowEnds(t *testing.T) {
	var line atomic.Int64
	d := NewDebugger(dbgPanickingApp(&line), DebuggerOptions{})
	var mu sync.Mutex
	var timers []func()
	d.limit = ratelog.New(d.logRepeats, ratelog.Options{
		Now: func() time.Time { return time.Unix(1e9, 0) }, // the window never ends by itself
		AfterFunc: func(_ time.Duration, f func()) {
			mu.Lock()
			defer mu.Unlock()
			timers = append(timers, f)
		},
	})
	var first, rest testutil.SyncBuffer
	for i := range 100 {
		errs := &rest
		if i == 0 {
			errs = &first
		}
		d.ServeGateway(dbgRemoteEnviron("127.0.0.1", errs), (&dbgRecorder{}).start).Close()
	}
	assert.Contains(t, first.String(), "[running]:", "the first panic's stack")
	assert.NotContains(t, rest.String(), "[running]:", "no other stack")
	assert.Equal(t, 99, strings.Count(rest.String(), "\n"), "one line a repeat:\n%s", rest.String())

	mu.Lock()
	require.Len(t, timers, 1, "the window's end is scheduled")
	end := timers[0]
	mu.Unlock()
	end()
	site := "debugger_test.go:" + strconv.Itoa(int(line.Load()))
	assert.Regexp(t, `\nvial debugger: the panic at \S+`+site+` repeated 99 times in the last minute\n$`, rest.String(),
		"the count goes to the latest panic's gateway.errors")
}

func TestDebuggerLogsEachSitesStack(t *testing.T) {
	app := routes{
		"/a": func(*gateway.Environ, gateway.StartResponse) gateway.Body { panic("a") },
		"/b": func(*gateway.Environ, gateway.StartResponse) gateway.Body { panic("b") },
	}
	d := DebuggedApplication(app, false)
	var errs testutil.SyncBuffer // the window's timer may write to it
	serve := func(addr, path string) {
		env := dbgRemoteEnviron(addr, &errs)
		env.PathInfo, env.RequestURI = path, path
		d.ServeGateway(env, (&dbgRecorder{}).start).Close()
	}
	serve("127.0.0.1", "/a")
	serve("127.0.0.1", "/b")
	assert.Equal(t, 2, strings.Count(errs.String(), "[running]:"), "two sites, two stacks")

	before := len(errs.String())
	serve("10.1.2.3", "/a")
	again := errs.String()[before:]
	assert.NotContains(t, again, "[running]:", "a repeat from a remote client is a repeat too")
	assert.Regexp(t, `^vial debugger: GET /a: string: a \(no page: client 10.1.2.3 is not a loopback address\) \(again at \S+debugger_log_test.go:\d+: its stack is logged once a minute\)\n$`, again)
}
