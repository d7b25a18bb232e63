package vial

import (
	"fmt"
	"log"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
)

// The built-in signals, sent by every App as it serves a request. They are
// Flask's signals: connect to them to observe the request cycle without
// adding hooks to the application.
//
// Each payload lets a receiver reach the request, and the response or
// error where Flask passes one. The sender is the App that handles the
// request, so ConnectVia(app, ...) hears one application only.
//
// The *Request a payload carries belongs to its request, and so does the
// *Response RequestFinished sends when the App made it from what the view
// returned: the App recycles them once the request has ended (see
// [Request]). A receiver that hands work to another goroutine passes it
// what it needs, or a [Request.Copy].
//
// A receiver that panics is reported and the other receivers still run.
// For the signals sent while the response is still being made
// (AppContextPushed, RequestStarted, RequestFinished), the panic then makes
// the request fail like a panicking hook: an unhandled error, a 500. Panics
// in receivers of the other signals are only reported.
var (
	// RequestStarted is sent when the dispatch of a request begins, after
	// AppContextPushed and before preprocessing: the URL value
	// preprocessors and before-request functions (Flask's
	// request_started). The payload is the request.
	RequestStarted = NewSignal[*Request]("request-started")

	// RequestFinished is sent after the after-request functions have
	// processed the response, just before it goes to the server (Flask's
	// request_finished). The payload is the final response;
	// resp.Request is the request it answers.
	RequestFinished = NewSignal[*Response]("request-finished")

	// GotRequestException is sent when a view, hook or error handler
	// returns an error that no error handler registered for it handles,
	// or panics, before the 500 error handler or the default 500
	// response takes over (Flask's got_request_exception); and when a
	// streaming body panics halfway, before the response is aborted.
	// HTTP errors such as Abort(404) are responses, not exceptions, and
	// are not sent. The payload carries the request and the error; a
	// panic arrives as a *PanicError.
	GotRequestException = NewSignal[*RequestError]("got-request-exception")

	// RequestTearingDown is sent when the request ends, after the
	// teardown-request functions have run (Flask's
	// request_tearing_down). A request ends when the server closes the
	// response body, so a streamed response keeps its request until the
	// last chunk is out. The payload carries the request and the error
	// that ended it, nil on success.
	RequestTearingDown = NewSignal[*Teardown]("request-tearing-down")

	// AppContextTearingDown is sent when the application context of a
	// request is popped, after the teardown-appcontext functions have run
	// (Flask's appcontext_tearing_down). The payload carries the request
	// and the error that ended it, nil on success.
	AppContextTearingDown = NewSignal[*Teardown]("appcontext-tearing-down")

	// AppContextPushed is sent when the application context of a request
	// has been pushed, as its first event, before RequestStarted (Flask's
	// appcontext_pushed). The payload is the request the context serves.
	AppContextPushed = NewSignal[*Request]("appcontext-pushed")

	// AppContextPopped is sent when an application context has been
	// popped, after AppContextTearingDown, as the last event of a
	// request (Flask's appcontext_popped). The payload is the request the
	// context served.
	AppContextPopped = NewSignal[*Request]("appcontext-popped")

	// MessageFlashed is sent when Flash records a message (Flask's
	// message_flashed). The payload carries the request and the message
	// with its category.
	MessageFlashed = NewSignal[*Flashed]("message-flashed")
)

// RequestError is the payload of GotRequestException: the request and
// the unhandled error that ended it. It is itself an error that reads and
// unwraps as Err, so errors.Is and errors.As see through it.
type RequestError struct {
	Request *Request // the request being handled
	Err     error    // the unhandled error; a panic is wrapped in an error
}

// Error returns the text of the underlying error.
func (e *RequestError) Error() string {
	if e.Err == nil {
		return "vial: request error"
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *RequestError) Unwrap() error { return e.Err }

// Teardown is the payload of RequestTearingDown and
// AppContextTearingDown: the request that is ending and the error that
// ended it, nil when it succeeded. It carries what teardown functions
// receive.
type Teardown struct {
	Request *Request // the request that is ending
	Err     error    // the error that ended the request; nil on success
}

// A Signal is a named event that receivers can subscribe to: blinker's
// signal, as Flask uses it, with a typed payload. Receivers are functions
// of the sending App and a value of type T:
//
//	vial.RequestFinished.Connect(func(app *vial.App, resp *vial.Response) {
//		log.Printf("%s -> %d", resp.Request.Path, resp.StatusCode)
//	})
//
// Send calls the receivers connected at the moment it starts, one after
// the other in the order they were connected, on the sending goroutine.
// A receiver that panics is reported (see SetReceiverPanicHandler) and
// the others still run; Send itself never panics.
//
// All methods are safe for concurrent use. Connect and Disconnect copy
// the receiver list, so Send takes no lock and, when nobody listens, costs
// a single atomic load and allocates nothing: a library may send freely.
// A receiver may connect or disconnect receivers, on any signal, while it
// runs; the change applies from the next Send.
//
// Make signals with NewSignal, or NamespaceSignal for an application's
// own signals. A Signal must not be copied after first use. The zero
// value is a usable signal with an empty name.
type Signal[T any] struct {
	name string
	mu   sync.Mutex                    // serialises writers of receivers
	list atomic.Pointer[[]receiver[T]] // nil when there are no receivers; never mutated once stored
}

// A receiver is one connection of a function to a signal.
type receiver[T any] struct {
	id     uint64
	sender *App // nil: every sender
	fn     func(*App, T)
}

// NewSignal returns a new signal with no receivers. The name identifies
// it in reports of panicking receivers; it need not be unique.
func NewSignal[T any](name string) *Signal[T] {
	return &Signal[T]{name: name}
}

// Name returns the signal's name.
func (s *Signal[T]) Name() string { return s.name }

// A Connection identifies one connection of a receiver to a signal, to
// pass to Disconnect. Connections are comparable and unique across all
// signals, so they can be kept in a map or a slice. The zero Connection
// identifies nothing; disconnecting it does nothing.
//
// Go functions cannot be compared, so, unlike blinker, a Signal does not
// recognise the same function connected twice: each Connect makes a new
// connection, and the function is called once for each.
type Connection struct {
	id uint64
}

// connectionIDs numbers connections; 0 is left for the zero Connection.
var connectionIDs atomic.Uint64

// Connect subscribes fn to every send of s, whichever App sends it, and
// returns the connection to Disconnect it with. fn stays connected (and
// reachable, so not garbage collected) until it is disconnected. Connect
// panics if fn is nil.
func (s *Signal[T]) Connect(fn func(sender *App, value T)) Connection {
	return s.ConnectVia(nil, fn)
}

// ConnectVia subscribes fn to the sends of s by sender only, as blinker's
// connect(receiver, sender=app) does: sends from other Apps do not reach
// fn. A nil sender means every sender, as with Connect. ConnectVia
// panics if fn is nil.
func (s *Signal[T]) ConnectVia(sender *App, fn func(sender *App, value T)) Connection {
	if fn == nil {
		panic(fmt.Sprintf("vial: signal %q: Connect with a nil receiver", s.name))
	}
	r := receiver[T]{id: connectionIDs.Add(1), sender: sender, fn: fn}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []receiver[T]
	if old := s.list.Load(); old != nil {
		list = make([]receiver[T], 0, len(*old)+1)
		list = append(list, *old...)
	}
	list = append(list, r)
	s.list.Store(&list)
	return Connection{id: r.id}
}

// Disconnect removes the connection c from s. Disconnecting a connection
// that was already removed, that belongs to another signal, or the zero
// Connection does nothing. A Send already under way may still call the
// receiver; later sends do not.
func (s *Signal[T]) Disconnect(c Connection) {
	if c.id == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.list.Load()
	if old == nil {
		return
	}
	i := slices.IndexFunc(*old, func(r receiver[T]) bool { return r.id == c.id })
	if i < 0 {
		return
	}
	if len(*old) == 1 {
		s.list.Store(nil) // keep Send's no-receiver path a nil check
		return
	}
	list := slices.Delete(slices.Clone(*old), i, i+1)
	s.list.Store(&list)
}

// ConnectedTo connects fn to s for the duration of body and disconnects
// it when body returns, or panics (the panic then continues): blinker's
// connected_to, meant for tests.
//
//	var got []*vial.Response
//	vial.RequestFinished.ConnectedTo(func(_ *vial.App, resp *vial.Response) {
//		got = append(got, resp)
//	}, func() {
//		client.Get("/")
//	})
func (s *Signal[T]) ConnectedTo(fn func(sender *App, value T), body func()) {
	c := s.Connect(fn)
	defer s.Disconnect(c)
	body()
}

// Send calls, in connection order, every receiver connected to s for
// any sender or for sender, passing them sender and value. Each receiver
// runs to completion before the next one starts. A receiver that panics
// is reported to the receiver panic handler and the remaining receivers
// are called; Send does not panic. With no receivers, Send does nothing
// and allocates nothing.
func (s *Signal[T]) Send(sender *App, value T) {
	s.emit(sender, value)
}

// emit is Send returning the first receiver panic, so that the request
// pipeline can treat a receiver's failure as the request's (a 500), as it
// treats a hook's.
func (s *Signal[T]) emit(sender *App, value T) error {
	list := s.list.Load()
	if list == nil {
		return nil
	}
	var first error
	for i := range *list {
		r := &(*list)[i]
		if r.sender == nil || r.sender == sender {
			if p := s.call(r.fn, sender, value); p != nil && first == nil {
				first = p
			}
		}
	}
	return first
}

// call runs one receiver, turning a panic into a report.
func (s *Signal[T]) call(fn func(*App, T), sender *App, value T) (p *ReceiverPanic) {
	defer func() {
		if v := recover(); v != nil {
			p = &ReceiverPanic{
				Signal: s.name,
				Sender: sender,
				Value:  v,
				Stack:  debug.Stack(),
			}
			reportReceiverPanic(p)
		}
	}()
	fn(sender, value)
	return nil
}

// HasReceivers reports whether any receiver is connected to s, for any
// sender. A caller can skip building an expensive payload when it is
// false.
func (s *Signal[T]) HasReceivers() bool {
	return s.list.Load() != nil
}

// HasReceiversFor reports whether a Send by sender would call at least
// one receiver: one connected with Connect, or with ConnectVia(sender).
func (s *Signal[T]) HasReceiversFor(sender *App) bool {
	list := s.list.Load()
	if list == nil {
		return false
	}
	for i := range *list {
		if r := (*list)[i].sender; r == nil || r == sender {
			return true
		}
	}
	return false
}

// A ReceiverPanic describes a receiver that panicked during Send. It is
// what the receiver panic handler receives, and it is an error whose text
// names the signal and the panic value.
type ReceiverPanic struct {
	Signal string // the name of the signal being sent
	Sender *App   // the App that sent it
	Value  any    // the value the receiver panicked with
	Stack  []byte // the goroutine's stack at the panic, as debug.Stack formats it
}

// Error returns "vial: signal NAME: receiver panicked: VALUE".
func (p *ReceiverPanic) Error() string {
	return fmt.Sprintf("vial: signal %q: receiver panicked: %v", p.Signal, p.Value)
}

// Unwrap returns the panic value if it is an error, and nil otherwise.
func (p *ReceiverPanic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// receiverPanicHandler holds the handler set by SetReceiverPanicHandler;
// nil means the default, logging.
var receiverPanicHandler atomic.Pointer[func(*ReceiverPanic)]

// SetReceiverPanicHandler sets the function that Send calls, on the
// sending goroutine, when a receiver panics, and returns the previous
// one. The default handler, which a nil h restores (and which is returned
// as nil), writes the panic and its stack to the standard logger:
//
//	vial: signal "request-finished": receiver panicked: boom
//	goroutine 7 [running]:
//	...
//
// It is safe to call at any time; a test can capture reports and put the
// previous handler back:
//
//	prev := vial.SetReceiverPanicHandler(func(p *vial.ReceiverPanic) { reports = append(reports, p) })
//	defer func() { vial.SetReceiverPanicHandler(prev) }()
//
// (In a closure: a deferred call that returns a function reads to linters
// as a defer that forgot to call what it returns.)
//
// A panic in the handler itself is not recovered.
func SetReceiverPanicHandler(h func(*ReceiverPanic)) (previous func(*ReceiverPanic)) {
	var p *func(*ReceiverPanic)
	if h != nil {
		p = &h
	}
	if old := receiverPanicHandler.Swap(p); old != nil {
		return *old
	}
	return nil
}

// reportReceiverPanic passes p to the receiver panic handler.
func reportReceiverPanic(p *ReceiverPanic) {
	if h := receiverPanicHandler.Load(); h != nil {
		(*h)(p)
		return
	}
	log.Printf("%v\n%s", p, p.Stack)
}

// A Namespace holds an application's own signals by name, as blinker's
// Namespace does for Flask extensions. Get them with NamespaceSignal:
//
//	var signals = vial.NewNamespace()
//	var ModelSaved = vial.NamespaceSignal[*Model](signals, "model-saved")
//
// A Namespace is safe for concurrent use. The zero value is an empty
// namespace ready to use.
type Namespace struct {
	mu      sync.Mutex
	signals map[string]any // name → *Signal[T]
}

// NewNamespace returns a new, empty namespace.
func NewNamespace() *Namespace {
	return &Namespace{}
}

// NamespaceSignal returns the signal named name in ns, making it on first
// use: every call with the same name returns the same *Signal[T], so
// separate packages can share a signal by name. It is a function rather
// than a method of Namespace because Go methods cannot take type
// parameters.
//
// NamespaceSignal panics if name is already in ns with a different
// payload type: the message names the signal and both types.
func NamespaceSignal[T any](ns *Namespace, name string) *Signal[T] {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if got, ok := ns.signals[name]; ok {
		s, ok := got.(*Signal[T])
		if !ok {
			panic(fmt.Sprintf("vial: signal %q is already a %T in this namespace; cannot reuse it as a %T",
				name, got, (*Signal[T])(nil)))
		}
		return s
	}
	if ns.signals == nil {
		ns.signals = make(map[string]any)
	}
	s := NewSignal[T](name)
	ns.signals[name] = s
	return s
}
