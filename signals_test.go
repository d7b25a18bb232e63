package vial_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// call records one receiver call.
type call struct {
	receiver string
	sender   *vial.App
	value    int
}

// recorder collects receiver calls; safe for concurrent use.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) receiver(name string) func(*vial.App, int) {
	return func(sender *vial.App, v int) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls = append(r.calls, call{name, sender, v})
	}
}

func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := []string{}
	for _, c := range r.calls {
		names = append(names, c.receiver)
	}
	return names
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// capturePanics replaces the receiver panic handler for the test.
func capturePanics(t *testing.T) *[]*vial.ReceiverPanic {
	t.Helper()
	var mu sync.Mutex
	reports := []*vial.ReceiverPanic{}
	prev := vial.SetReceiverPanicHandler(func(p *vial.ReceiverPanic) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, p)
	})
	t.Cleanup(func() { vial.SetReceiverPanicHandler(prev) })
	return &reports
}

func TestSignalName(t *testing.T) {
	assert.Equal(t, "model-saved", vial.NewSignal[int]("model-saved").Name())
	var zero vial.Signal[int]
	assert.Equal(t, "", zero.Name())
}

func TestSignalCallsReceiversInConnectionOrderWithSenderAndValue(t *testing.T) {
	sig := vial.NewSignal[int]("ordered")
	app := vial.New("ordered")
	var rec recorder
	for _, name := range []string{"first", "second", "third", "fourth", "fifth"} {
		sig.Connect(rec.receiver(name))
	}

	sig.Send(app, 42)

	require.Len(t, rec.calls, 5)
	assert.Equal(t, []string{"first", "second", "third", "fourth", "fifth"}, rec.names())
	for _, c := range rec.calls {
		assert.Same(t, app, c.sender, c.receiver)
		assert.Equal(t, 42, c.value, c.receiver)
	}
}

func TestSignalConnectViaHearsOnlyThatSender(t *testing.T) {
	sig := vial.NewSignal[int]("via")
	app1, app2 := vial.New("one"), vial.New("two")
	require.NotSame(t, app1, app2)
	var rec recorder
	sig.ConnectVia(app1, rec.receiver("via-app1"))
	sig.Connect(rec.receiver("any"))
	sig.ConnectVia(app2, rec.receiver("via-app2"))
	sig.ConnectVia(nil, rec.receiver("via-nil")) // nil sender: every sender

	sig.Send(app1, 1)
	assert.Equal(t, []string{"via-app1", "any", "via-nil"}, rec.names(), "sent by app1")

	rec.reset()
	sig.Send(app2, 2)
	assert.Equal(t, []string{"any", "via-app2", "via-nil"}, rec.names(), "sent by app2")

	rec.reset()
	sig.Send(nil, 3)
	assert.Equal(t, []string{"any", "via-nil"}, rec.names(), "sent with no sender")
}

func TestSignalDisconnect(t *testing.T) {
	sig := vial.NewSignal[int]("disconnect")
	var rec recorder
	a := sig.Connect(rec.receiver("a"))
	b := sig.Connect(rec.receiver("b"))
	c := sig.Connect(rec.receiver("c"))

	sig.Disconnect(b)
	sig.Send(nil, 0)
	assert.Equal(t, []string{"a", "c"}, rec.names())

	// Disconnecting again, the zero Connection, or another signal's
	// connection changes nothing.
	other := vial.NewSignal[int]("other")
	foreign := other.Connect(rec.receiver("foreign"))
	sig.Disconnect(b)
	sig.Disconnect(vial.Connection{})
	sig.Disconnect(foreign)
	rec.reset()
	sig.Send(nil, 0)
	assert.Equal(t, []string{"a", "c"}, rec.names())
	assert.True(t, other.HasReceivers(), "the other signal keeps its receiver")

	sig.Disconnect(a)
	sig.Disconnect(c)
	assert.False(t, sig.HasReceivers())
	rec.reset()
	sig.Send(nil, 0)
	assert.Empty(t, rec.names())
}

func TestSignalConnectionsAreDistinctForTheSameFunction(t *testing.T) {
	sig := vial.NewSignal[int]("twice")
	var n int
	fn := func(*vial.App, int) { n++ }
	c1 := sig.Connect(fn)
	c2 := sig.Connect(fn)
	require.NotEqual(t, c1, c2)
	require.NotEqual(t, vial.Connection{}, c1)

	sig.Send(nil, 0)
	assert.Equal(t, 2, n, "connected twice, called twice")

	sig.Disconnect(c1)
	sig.Send(nil, 0)
	assert.Equal(t, 3, n, "still connected once")

	// Connections are comparable: usable as map keys.
	seen := map[vial.Connection]bool{c1: true}
	assert.False(t, seen[c2])
}

func TestSignalConnectNilPanics(t *testing.T) {
	sig := vial.NewSignal[int]("nil-receiver")
	assert.PanicsWithValue(t, `vial: signal "nil-receiver": Connect with a nil receiver`, func() {
		sig.Connect(nil)
	})
	assert.False(t, sig.HasReceivers())
}

func TestSignalConnectedTo(t *testing.T) {
	sig := vial.NewSignal[int]("scoped")
	var got []int
	sig.ConnectedTo(func(_ *vial.App, v int) { got = append(got, v) }, func() {
		assert.True(t, sig.HasReceivers(), "connected inside body")
		sig.Send(nil, 1)
		sig.Send(nil, 2)
	})
	sig.Send(nil, 3)

	assert.Equal(t, []int{1, 2}, got)
	assert.False(t, sig.HasReceivers(), "disconnected after body")
}

func TestSignalConnectedToDisconnectsWhenBodyPanics(t *testing.T) {
	sig := vial.NewSignal[int]("scoped-panic")
	var got []int
	assert.PanicsWithValue(t, "body failed", func() {
		sig.ConnectedTo(func(_ *vial.App, v int) { got = append(got, v) }, func() {
			sig.Send(nil, 1)
			panic("body failed")
		})
	})
	sig.Send(nil, 2)

	assert.Equal(t, []int{1}, got)
	assert.False(t, sig.HasReceivers(), "disconnected although body panicked")
}

func TestSignalHasReceivers(t *testing.T) {
	sig := vial.NewSignal[int]("has")
	app1, app2 := vial.New("one"), vial.New("two")
	noop := func(*vial.App, int) {}

	assert.False(t, sig.HasReceivers())
	assert.False(t, sig.HasReceiversFor(app1))

	via := sig.ConnectVia(app1, noop)
	assert.True(t, sig.HasReceivers())
	assert.True(t, sig.HasReceiversFor(app1))
	assert.False(t, sig.HasReceiversFor(app2), "only app1 is listened to")
	assert.False(t, sig.HasReceiversFor(nil))

	anyc := sig.Connect(noop)
	assert.True(t, sig.HasReceiversFor(app2), "a receiver for every sender hears app2")
	assert.True(t, sig.HasReceiversFor(nil))

	sig.Disconnect(anyc)
	sig.Disconnect(via)
	assert.False(t, sig.HasReceivers())
	assert.False(t, sig.HasReceiversFor(app1))
}

func TestSignalZeroValueIsUsable(t *testing.T) {
	var sig vial.Signal[string]
	var got string
	c := sig.Connect(func(_ *vial.App, v string) { got = v })
	sig.Send(nil, "hello")
	assert.Equal(t, "hello", got)
	sig.Disconnect(c)
	assert.False(t, sig.HasReceivers())
}

func TestSignalPanickingReceiverIsReportedAndOthersRun(t *testing.T) {
	reports := capturePanics(t)
	sig := vial.NewSignal[int]("fragile")
	app := vial.New("fragile")
	var rec recorder
	sig.Connect(rec.receiver("before"))
	sig.Connect(func(*vial.App, int) { panic("receiver exploded") })
	sig.Connect(rec.receiver("after"))

	require.NotPanics(t, func() { sig.Send(app, 7) })

	assert.Equal(t, []string{"before", "after"}, rec.names())
	require.Len(t, *reports, 1)
	p := (*reports)[0]
	assert.Equal(t, "fragile", p.Signal)
	assert.Same(t, app, p.Sender)
	assert.Equal(t, "receiver exploded", p.Value)
	assert.Contains(t, string(p.Stack), "TestSignalPanickingReceiverIsReportedAndOthersRun",
		"the stack shows the receiver that panicked")
	assert.Equal(t, `vial: signal "fragile": receiver panicked: receiver exploded`, p.Error())
	assert.NoError(t, p.Unwrap(), "a string panic value is not an error")
}

func TestSignalReceiverPanicWithErrorUnwraps(t *testing.T) {
	reports := capturePanics(t)
	sig := vial.NewSignal[int]("error-panic")
	errBoom := errors.New("boom")
	sig.Connect(func(*vial.App, int) { panic(fmt.Errorf("saving: %w", errBoom)) })
	sig.Connect(func(*vial.App, int) { panic(errBoom) })

	require.NotPanics(t, func() { sig.Send(nil, 0) })

	require.Len(t, *reports, 2, "each panicking receiver is reported")
	for _, p := range *reports {
		assert.ErrorIs(t, p, errBoom)
	}
}

func TestSignalReceiverPanicIsLoggedByDefault(t *testing.T) {
	var buf bytes.Buffer
	prevOut, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	log.SetFlags(0)
	t.Cleanup(func() {
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
	})
	prev := vial.SetReceiverPanicHandler(nil) // the default
	t.Cleanup(func() { vial.SetReceiverPanicHandler(prev) })

	sig := vial.NewSignal[int]("logged")
	called := false
	sig.Connect(func(*vial.App, int) { panic("disk full") })
	sig.Connect(func(*vial.App, int) { called = true })
	require.NotPanics(t, func() { sig.Send(nil, 0) })

	assert.True(t, called)
	out := buf.String()
	assert.Contains(t, out, `vial: signal "logged": receiver panicked: disk full`)
	assert.Contains(t, out, "goroutine ", "the stack is logged")
	assert.Contains(t, out, "TestSignalReceiverPanicIsLoggedByDefault")
}

func TestSetReceiverPanicHandlerReturnsThePreviousOne(t *testing.T) {
	prev := vial.SetReceiverPanicHandler(nil)
	t.Cleanup(func() { vial.SetReceiverPanicHandler(prev) })

	var hits int
	h := func(*vial.ReceiverPanic) { hits++ }
	assert.Nil(t, vial.SetReceiverPanicHandler(h), "nil stands for the default")
	got := vial.SetReceiverPanicHandler(nil)
	require.NotNil(t, got)
	got(nil)
	assert.Equal(t, 1, hits, "the handler returned is the one that was set")
}

func TestSignalReceiverMayConnectAndDisconnectWhileSending(t *testing.T) {
	sig := vial.NewSignal[int]("reentrant")
	var rec recorder
	late := rec.receiver("late")
	var self vial.Connection
	self = sig.Connect(func(app *vial.App, v int) {
		rec.receiver("once")(app, v)
		sig.Disconnect(self) // no deadlock: Send holds no lock
		sig.Connect(late)
	})
	sig.Connect(rec.receiver("steady"))

	sig.Send(nil, 1)
	assert.Equal(t, []string{"once", "steady"}, rec.names(), "changes apply from the next Send")

	rec.reset()
	sig.Send(nil, 2)
	assert.Equal(t, []string{"steady", "late"}, rec.names())
}

func TestSignalConcurrentConnectSendDisconnect(t *testing.T) {
	const (
		workers = 8
		rounds  = 200
	)
	sig := vial.NewSignal[int]("concurrent")

	// A receiver connected throughout hears every send.
	var steady atomic.Int64
	c := sig.Connect(func(*vial.App, int) { steady.Add(1) })

	var wg sync.WaitGroup
	var sends atomic.Int64
	for w := range workers {
		app := vial.New(fmt.Sprint("worker-", w))
		wg.Go(func() {
			for i := range rounds {
				// Only this worker sends as app, so mine counts exactly
				// this worker's sends while it is connected.
				var mine atomic.Int64
				conn := sig.ConnectVia(app, func(sender *vial.App, _ int) {
					if sender != app {
						t.Errorf("worker %d: receiver for its app called by another sender", w)
					}
					mine.Add(1)
				})
				sig.Send(app, i)
				sends.Add(1)
				if !sig.HasReceiversFor(app) {
					t.Errorf("worker %d round %d: no receiver for own app while connected", w, i)
				}
				sig.Disconnect(conn)
				sig.Send(app, i)
				sends.Add(1)
				if got := mine.Load(); got != 1 {
					t.Errorf("worker %d round %d: own receiver called %d times, want 1", w, i, got)
					return
				}
			}
		})
	}
	wg.Wait()

	assert.Equal(t, sends.Load(), steady.Load(), "the steady receiver heard every send")
	sig.Disconnect(c)
	assert.False(t, sig.HasReceivers(), "every connection was removed")
}

func TestNamespaceSignalSameNameSameSignal(t *testing.T) {
	ns := vial.NewNamespace()
	saved := vial.NamespaceSignal[string](ns, "model-saved")
	again := vial.NamespaceSignal[string](ns, "model-saved")
	deleted := vial.NamespaceSignal[string](ns, "model-deleted")

	assert.Same(t, saved, again)
	assert.NotSame(t, saved, deleted)
	assert.Equal(t, "model-saved", saved.Name())
	assert.Equal(t, "model-deleted", deleted.Name())

	// A receiver connected through one lookup hears sends through another.
	var got string
	saved.Connect(func(_ *vial.App, v string) { got = v })
	again.Send(nil, "user 1")
	assert.Equal(t, "user 1", got)

	// Separate namespaces keep separate signals.
	assert.NotSame(t, saved, vial.NamespaceSignal[string](vial.NewNamespace(), "model-saved"))
}

func TestNamespaceSignalTypeMismatchPanics(t *testing.T) {
	ns := vial.NewNamespace()
	vial.NamespaceSignal[string](ns, "model-saved")
	assert.PanicsWithValue(t,
		`vial: signal "model-saved" is already a *vial.Signal[string] in this namespace; cannot reuse it as a *vial.Signal[int]`,
		func() { vial.NamespaceSignal[int](ns, "model-saved") })
	// The original is untouched.
	assert.NotPanics(t, func() { vial.NamespaceSignal[string](ns, "model-saved") })
}

func TestNamespaceZeroValueAndConcurrentLookups(t *testing.T) {
	var ns vial.Namespace
	const n = 16
	got := make([]*vial.Signal[int], n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i] = vial.NamespaceSignal[int](&ns, "tick") })
	}
	wg.Wait()
	for i := range n {
		assert.Same(t, got[0], got[i])
	}
}

func TestBuiltinSignalNames(t *testing.T) {
	names := map[string]string{
		vial.RequestStarted.Name():        "request-started",
		vial.RequestFinished.Name():       "request-finished",
		vial.GotRequestException.Name():   "got-request-exception",
		vial.RequestTearingDown.Name():    "request-tearing-down",
		vial.AppContextTearingDown.Name(): "appcontext-tearing-down",
		vial.AppContextPushed.Name():      "appcontext-pushed",
		vial.AppContextPopped.Name():      "appcontext-popped",
	}
	require.Len(t, names, 7, "the names are distinct")
	for got, want := range names {
		assert.Equal(t, want, got)
	}
}

func TestRequestErrorIsTheErrorItCarries(t *testing.T) {
	errDB := errors.New("database down")
	e := &vial.RequestError{Request: new(vial.Request), Err: errDB}
	assert.Equal(t, "database down", e.Error())
	assert.ErrorIs(t, e, errDB)
	assert.Equal(t, "vial: request error", (&vial.RequestError{}).Error())
}

func TestSendWithoutReceiversAllocatesNothing(t *testing.T) {
	sig := vial.NewSignal[*vial.Request]("idle")
	app, req := vial.New("idle"), new(vial.Request)
	allocs := testing.AllocsPerRun(1000, func() { sig.Send(app, req) })
	assert.Zero(t, allocs)

	// Nor does a send to receivers that do not allocate.
	var n int
	c := sig.Connect(func(*vial.App, *vial.Request) { n++ })
	sig.ConnectVia(vial.New("other"), func(*vial.App, *vial.Request) { n++ })
	allocs = testing.AllocsPerRun(1000, func() { sig.Send(app, req) })
	assert.Zero(t, allocs)
	assert.Positive(t, n)

	// A signal emptied by Disconnect is free again.
	sig.Disconnect(c)
	allocs = testing.AllocsPerRun(1000, func() { sig.Send(app, req) })
	assert.Zero(t, allocs)
}

// Benchmarks. Send's cost when nobody listens is the figure that matters:
// the framework sends seven signals per request.

func BenchmarkSendNoReceivers(b *testing.B) {
	sig := vial.NewSignal[*vial.Request]("bench")
	app, req := vial.New("bench"), new(vial.Request)
	b.ReportAllocs()
	for b.Loop() {
		sig.Send(app, req)
	}
}

func BenchmarkSendNoReceiversParallel(b *testing.B) {
	sig := vial.NewSignal[*vial.Request]("bench")
	app, req := vial.New("bench"), new(vial.Request)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sig.Send(app, req)
		}
	})
}

func benchmarkSend(b *testing.B, receivers int) {
	sig := vial.NewSignal[*vial.Request]("bench")
	app, req := vial.New("bench"), new(vial.Request)
	var n atomic.Int64
	for range receivers {
		sig.Connect(func(*vial.App, *vial.Request) { n.Add(1) })
	}
	b.ReportAllocs()
	for b.Loop() {
		sig.Send(app, req)
	}
}

func BenchmarkSendOneReceiver(b *testing.B)      { benchmarkSend(b, 1) }
func BenchmarkSendFourReceivers(b *testing.B)    { benchmarkSend(b, 4) }
func BenchmarkSendSixteenReceivers(b *testing.B) { benchmarkSend(b, 16) }

func BenchmarkSendOtherSenderOnly(b *testing.B) {
	sig := vial.NewSignal[*vial.Request]("bench")
	app, other, req := vial.New("bench"), vial.New("other"), new(vial.Request)
	for range 4 {
		sig.ConnectVia(other, func(*vial.App, *vial.Request) {})
	}
	b.ReportAllocs()
	for b.Loop() {
		sig.Send(app, req)
	}
}

func BenchmarkConnectDisconnect(b *testing.B) {
	sig := vial.NewSignal[int]("bench")
	for range 4 {
		sig.Connect(func(*vial.App, int) {})
	}
	fn := func(*vial.App, int) {}
	b.ReportAllocs()
	for b.Loop() {
		sig.Disconnect(sig.Connect(fn))
	}
}
