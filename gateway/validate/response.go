package validate

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// This file checks one response as it goes: start, write and the chunks, on both sides.

// vState is one request's state as Wrap sees it from between the server
// and the application.
type vState struct {
	v           *vApp
	method      string
	serverStart gateway.StartResponse
	serverWrite gateway.WriteFunc
	serverYield func([]byte) bool
	startFn     gateway.StartResponse
	writeFn     gateway.WriteFunc
	yieldFn     func([]byte) bool
	watch       *vCloseWatch

	started  bool   // start has been called
	status   string // as last recorded
	code     int
	cl       int64 // the declared Content-Length, or -1
	hasType  bool  // the headers have a Content-Type
	refused  bool  // the status or headers broke a rule (the server answers 500)
	aborted  bool  // start with excInfo after the body began: the server aborts
	bodySent bool  // a non-empty chunk or write went out
	hdrsSent bool  // the headers went out: with the body, or an empty write

	total      int64 // body bytes, through chunks, WriteTo and write
	chunkBytes int64 // body bytes through chunks and WriteTo only

	iterated   bool // Chunks or WriteTo has been called
	returned   bool // and has returned
	yieldFalse bool // yield returned false
	stopped    bool // the server stopped the body early: yield said false, a write failed
	closed     atomic.Bool
}

// vCloseWatch is what the garbage collector cleanup of a Body sees: it
// holds nothing that could keep the Body alive.
type vCloseWatch struct {
	calls  atomic.Int32
	v      *vApp
	errors io.Writer
}

// vNeverClosed runs when the server dropped the Body.
func vNeverClosed(w *vCloseWatch) {
	if w.calls.Load() != 0 {
		return
	}
	viol := &Violation{Rule: RuleCloseOnce, Side: SideServer, Detail: "the Body was dropped without a call to Close"}
	if w.v.report != nil {
		w.v.report(viol)
		return
	}
	out := w.errors
	if out == nil {
		out = os.Stderr
	}
	fmt.Fprintln(out, viol.Error())
}

// start is the StartResponse the application gets.
func (st *vState) start(status string, headers gateway.Headers, excInfo ...error) gateway.WriteFunc {
	v := st.v
	exc := false
	for _, e := range excInfo {
		exc = exc || e != nil
	}
	if st.closed.Load() {
		v.application(RuleAfterClose, nil, "start(%q) called after the Body was closed", status)
		return st.writeFn // the server's start may serve another request by now
	}
	if st.started && !exc {
		v.application(RuleStartTwice, gateway.ErrStartTwice, "start(%q) called after start(%q), without excInfo", status, st.status)
	}
	code, cl, err := gateway.CheckResponse(status, headers)
	var he *gateway.HeaderError
	if errors.As(err, &he) {
		detail := fmt.Sprintf("header %q: %q", he.Name, he.Value)
		if he.Name == "" {
			detail = fmt.Sprintf("status %q", he.Value)
		}
		v.raise(&Violation{Rule: he.Rule, Side: SideApplication, Detail: detail, Err: he})
	}
	if !st.hdrsSent {
		st.started, st.status, st.code, st.cl = true, status, code, cl
		st.refused = err != nil
		st.hasType = headers.Has("Content-Type")
	} else if exc {
		st.aborted = true
	}
	w := st.serverStart(status, headers, excInfo...)
	if w == nil {
		v.server(RuleServerWrite, "start(%q) returned a nil WriteFunc", status)
	}
	st.serverWrite = w
	return st.writeFn
}

// errVEnded is what write returns, after WrapWith's report, when the
// response is over.
var errVEnded = errors.New("validate: the response has ended")

// write is the write callable the application gets.
func (st *vState) write(p []byte) error {
	if st.closed.Load() {
		st.v.application(RuleAfterClose, nil, "write of %d bytes after the Body was closed", len(p))
		return errVEnded
	}
	st.checkOut(p, "write")
	if st.started {
		st.hdrsSent = true // as PEP 3333 has it, even an empty write sends them
	}
	if st.serverWrite == nil {
		return errors.New("validate: the server's start returned no write function")
	}
	err := st.serverWrite(p)
	if err != nil {
		st.stopped = true
	}
	return err
}

// checkOut checks body bytes on their way to the server, through yield,
// write or WriteTo, and counts them.
func (st *vState) checkOut(p []byte, via string) {
	v := st.v
	if len(p) == 0 {
		return
	}
	n := int64(len(p))
	switch {
	case !st.started:
		v.application(RuleNoStart, gateway.ErrNoStart, "%s of %d bytes before start", via, len(p))
	case st.refused || st.aborted:
	default:
		if !st.bodySent {
			st.bodySent, st.hdrsSent = true, true
			if httpsyntax.BodyForbidden(st.code) {
				v.application(RuleNoBodyStatus, nil, "%s of %d bytes for status %q", via, len(p), st.status)
			} else if !st.hasType {
				v.application(RuleContentType, nil, "%s of %d bytes for status %q, whose headers have no Content-Type", via, len(p), st.status)
			}
		}
		if st.cl >= 0 && st.total <= st.cl && st.total+n > st.cl {
			v.application(RuleLengthOver, nil, "%s of %d bytes after %d takes the body past its Content-Length %d", via, len(p), st.total, st.cl)
		}
	}
	st.total += n
}

// yield is the yield function the application's Chunks gets.
func (st *vState) yield(p []byte) bool {
	switch {
	case st.closed.Load():
		st.v.application(RuleAfterClose, nil, "yield of %d bytes after the Body was closed", len(p))
		return false
	case st.returned:
		st.v.application(RuleYield, nil, "yield of %d bytes after Chunks returned", len(p))
		return false
	case st.yieldFalse:
		st.v.application(RuleYield, nil, "yield of %d bytes after yield returned false", len(p))
		return false
	}
	st.checkOut(p, "yield")
	st.chunkBytes += int64(len(p))
	ok := st.serverYield(p)
	if !ok {
		st.yieldFalse, st.stopped = true, true
	}
	return ok
}

// beginIteration checks a server's call to Chunks or WriteTo.
// It returns false for a call after Close, which must go no further: the
// application's Body may serve another request by then.
func (st *vState) beginIteration(method string) bool {
	switch {
	case st.watch.calls.Load() > 0:
		st.v.server(RuleAfterClose, "%s called after Close", method)
		return false
	case st.iterated:
		st.v.server(RuleIterateOnce, "%s called on a body already iterated", method)
	}
	st.iterated, st.returned, st.yieldFalse = true, false, false
	return true
}

// endOfBody checks a body whose Chunks or WriteTo has returned normally;
// lenBefore is what its Len said before, or -1.
func (st *vState) endOfBody(body gateway.Body, lenBefore int64) {
	st.returned = true
	if st.stopped || gateway.BodyErr(body) != nil {
		return // stopped by the server, or failed and says so
	}
	v := st.v
	if !st.started {
		v.application(RuleNoStart, gateway.ErrNoStart, "the body ended without a call to start")
		return
	}
	if lenBefore >= 0 && st.chunkBytes != lenBefore {
		v.application(RuleBodyLen, nil, "Len() was %d, the chunks held %d bytes", lenBefore, st.chunkBytes)
	}
	if !st.refused && !st.aborted && st.cl >= 0 && st.total < st.cl &&
		st.method != http.MethodHead && !httpsyntax.BodyForbidden(st.code) {
		v.application(RuleLengthShort, gateway.ErrShortBody, "the body ended after %d bytes of its Content-Length %d", st.total, st.cl)
	}
}
