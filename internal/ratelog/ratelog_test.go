package ratelog

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock whose time moves only when the test says, running
// the timers that come due.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers = append(c.timers, fakeTimer{c.now.Add(d), f})
}

// Advance moves the time on by d and runs the timers due by then, in order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	var due []func()
	for len(c.timers) > 0 && !c.timers[0].at.After(c.now) {
		due = append(due, c.timers[0].f)
		c.timers = c.timers[1:]
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// reports collects what a Limiter reports.
type reports struct {
	mu  sync.Mutex
	got []Summary
}

func (r *reports) add(s Summary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
}

func (r *reports) list() []Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Summary(nil), r.got...)
}

func newTestLimiter(maxSites int) (*Limiter, *fakeClock, *reports) {
	c, r := newFakeClock(), &reports{}
	return New(r.add, Options{MaxSites: maxSites, Now: c.Now, AfterFunc: c.AfterFunc}), c, r
}

func TestFirstIsFullRepeatsAreBrief(t *testing.T) {
	l, c, r := newTestLimiter(0)
	assert.Equal(t, Full, l.Note("a.go:1"))
	c.Advance(time.Second)
	for range 99 {
		assert.Equal(t, Brief, l.Note("a.go:1"))
	}
	assert.Equal(t, Full, l.Note("b.go:2"), "another site has its own window")
	assert.Equal(t, 1, c.pending(), "one timer: the end of a.go:1's window")
	assert.Empty(t, r.list(), "nothing is reported while the window lasts")
}

func TestTheCountIsReportedWhenTheWindowEnds(t *testing.T) {
	l, c, r := newTestLimiter(0)
	l.Note("a.go:1")
	c.Advance(10 * time.Second)
	for range 4211 {
		l.Note("a.go:1")
	}
	c.Advance(Window - 10*time.Second - time.Nanosecond)
	assert.Empty(t, r.list(), "the window is not over yet")
	c.Advance(time.Nanosecond)
	require.Equal(t, []Summary{{Site: "a.go:1", Repeats: 4211, Window: Window}}, r.list())
	assert.Equal(t, "repeated 4,211 times in the last minute", r.list()[0].String())

	assert.Equal(t, Full, l.Note("a.go:1"), "after the window, the stack is logged again")
	assert.Len(t, r.list(), 1, "the count is reported once")
}

func TestAWindowWithoutRepeatsReportsNothing(t *testing.T) {
	l, c, r := newTestLimiter(0)
	l.Note("a.go:1")
	c.Advance(2 * Window)
	assert.Zero(t, c.pending(), "no timer for a window without repeats")
	assert.Equal(t, Full, l.Note("a.go:1"))
	assert.Empty(t, r.list())
}

func TestALateTimerLeavesTheCountToNote(t *testing.T) {
	// The window is over but its timer has not run (a busy machine): the
	// next occurrence reports the count before its own full entry, and
	// the timer, when it runs, reports nothing more.
	c, r := newFakeClock(), &reports{}
	var timers []func()
	l := New(r.add, Options{Now: c.Now, AfterFunc: func(_ time.Duration, f func()) { timers = append(timers, f) }})
	l.Note("a.go:1")
	l.Note("a.go:1")
	l.Note("a.go:1")
	c.Advance(Window)
	assert.Equal(t, Full, l.Note("a.go:1"))
	assert.Equal(t, []Summary{{Site: "a.go:1", Repeats: 2, Window: Window}}, r.list())
	require.Len(t, timers, 1)
	timers[0]()
	assert.Len(t, r.list(), 1)
	assert.Equal(t, Brief, l.Note("a.go:1"), "the new window goes on")
}

func TestTheTableIsCapped(t *testing.T) {
	l, c, r := newTestLimiter(3)
	for i := range 3 {
		l.Note("s" + strconv.Itoa(i))
		c.Advance(time.Second)
	}
	l.Note("s0") // a repeat in the oldest window
	l.Note("s1")
	assert.Equal(t, Full, l.Note("s3"), "a fourth site evicts the oldest window")
	assert.Equal(t, []Summary{{Site: "s0", Repeats: 1, Window: Window}}, r.list(), "its count is reported at once")
	assert.Len(t, l.sites, 3)
	assert.Equal(t, 3, l.order.Len())
	assert.Equal(t, Brief, l.Note("s1"), "a site still in the table is still counted")
	c.Advance(Window)
	assert.Equal(t, []Summary{
		{Site: "s0", Repeats: 1, Window: Window},
		{Site: "s1", Repeats: 2, Window: Window},
	}, r.list(), "the timer of the evicted window reports nothing more")
	assert.Equal(t, Full, l.Note("s0"), "the evicted site starts over")
}

func TestManySitesStayBounded(t *testing.T) {
	l, c, _ := newTestLimiter(0)
	for i := range 5 * MaxSites {
		l.Note(fmt.Sprintf("f.go:%d", i))
		c.Advance(time.Millisecond)
	}
	assert.Len(t, l.sites, MaxSites)
	assert.Equal(t, MaxSites, l.order.Len())
}

func TestConcurrentNotes(t *testing.T) {
	l, c, r := newTestLimiter(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[Action]int{}
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				a := l.Note("hot.go:9")
				mu.Lock()
				counts[a]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, map[Action]int{Full: 1, Brief: 7999}, counts)
	c.Advance(Window)
	assert.Equal(t, []Summary{{Site: "hot.go:9", Repeats: 7999, Window: Window}}, r.list())
}

func TestBriefNote(t *testing.T) {
	assert.Equal(t, "its stack is logged once a minute", New(nil, Options{}).BriefNote())
	assert.Equal(t, "its stack is logged once every 2s", New(nil, Options{Window: 2 * time.Second}).BriefNote())
}

func TestSummaryString(t *testing.T) {
	assert.Equal(t, "repeated 1 time in the last minute", Summary{Repeats: 1, Window: time.Minute}.String())
	assert.Equal(t, "repeated 999 times in the last 30s", Summary{Repeats: 999, Window: 30 * time.Second}.String())
	assert.Equal(t, "repeated 1,234,567 times in the last minute", Summary{Repeats: 1234567, Window: time.Minute}.String())
	assert.Equal(t, "-1,000", groupThousands(-1000))
}

func TestRealClock(t *testing.T) {
	got := make(chan Summary, 1)
	l := New(func(s Summary) { got <- s }, Options{Window: 20 * time.Millisecond})
	l.Note("a.go:1")
	l.Note("a.go:1")
	select {
	case s := <-got:
		assert.Equal(t, Summary{Site: "a.go:1", Repeats: 1, Window: 20 * time.Millisecond}, s)
	case <-time.After(10 * time.Second):
		t.Fatal("the window's timer never reported")
	}
}

// recovered runs raise and returns the stack of its panic, taken in the
// deferred function that recovers it, as a server's recovery takes it.
func recovered(raise func()) (stack []byte) {
	defer func() {
		recover()
		stack = debug.Stack()
	}()
	raise()
	return nil
}

func TestSiteOfARecoveredPanic(t *testing.T) {
	var line int
	stack := recovered(func() {
		_, _, line, _ = runtime.Caller(0)
		panic("boom")
	})
	_, file, _, _ := runtime.Caller(0)
	assert.Equal(t, file+":"+strconv.Itoa(line+1), Site(stack))
}

// deref panics (p is nil) on the line after the one it stores in line.
//
//go:noinline
func deref(p *int, line *int) int {
	_, _, *line, _ = runtime.Caller(0)
	return *p
}

func TestSiteOfARuntimeError(t *testing.T) {
	var line int
	stack := recovered(func() {
		deref(nil, &line)
	})
	_, file, _, _ := runtime.Caller(0)
	assert.Equal(t, file+":"+strconv.Itoa(line+1), Site(stack))

	// A traceback that shows the runtime's frames (GOTRACEBACK=system)
	// has them between the panic and its site.
	assert.Equal(t, "/app/main.go:12", Site([]byte(`goroutine 7 [running]:
runtime/debug.Stack()
	/go/src/runtime/debug/stack.go:26 +0x5e
main.recoverer.func1()
	/app/main.go:30 +0x25
panic({0x62e8a0?, 0x889680?})
	/go/src/runtime/panic.go:860 +0x13a
runtime.panicmem(...)
	/go/src/runtime/panic.go:262
runtime.sigpanic()
	/go/src/runtime/signal_unix.go:925 +0x359
main.handler(0x0)
	/app/main.go:12 +0x12
created by main.main in goroutine 1
	/app/main.go:40 +0x25
`)))
}

func TestSiteOfARepanic(t *testing.T) {
	var line int
	stack := recovered(func() {
		defer func() { panic(recover()) }() // re-raised: the site is still the first panic's
		_, _, line, _ = runtime.Caller(0)
		panic("first")
	})
	_, file, _, _ := runtime.Caller(0)
	assert.Equal(t, 2, strings.Count(string(stack), "\npanic("), "the case this test is for")
	assert.Equal(t, file+":"+strconv.Itoa(line+1), Site(stack))
}

func TestSiteReadsTheFirstGoroutineOnly(t *testing.T) {
	assert.Equal(t, "/a/b.go:7", Site([]byte(`goroutine 1 [running]:
main.f(0x1)
	/a/b.go:7 +0x1d

goroutine 2 [running]:
panic({0x1, 0x2})
	/go/src/runtime/panic.go:860 +0x13a
main.g()
	/a/c.go:9 +0x1
`)))
}

func TestSiteWithoutAPanicFrame(t *testing.T) {
	_, file, line, _ := runtime.Caller(0)
	stack := debug.Stack()
	assert.Equal(t, file+":"+strconv.Itoa(line+1), Site(stack))
	assert.Empty(t, Site(nil))
}
