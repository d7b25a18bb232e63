package validate

import (
	"io"
	"runtime"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// This file checks the Body the validated application returns, and the server's use of it.

// wrap returns the checking Body for body, with the optional methods body
// has.
func (st *vState) wrap(body gateway.Body) gateway.Body {
	b := &vBody{inner: body, st: st}
	runtime.AddCleanup(b, vNeverClosed, st.watch)
	_, hasWT := gateway.BodyWriterTo(body)
	switch hasLen := gateway.BodyLen(body) >= 0; {
	case hasLen && hasWT:
		return vBodyLenWriterTo{b}
	case hasLen:
		return vBodyLen{b}
	case hasWT:
		return vBodyWriterTo{b}
	}
	return b
}

// vBody is the Body a validated application returns.
type vBody struct {
	inner gateway.Body
	st    *vState
}

// Chunks checks the server's call and passes the application's chunks
// through a checking yield.
func (b *vBody) Chunks(yield func([]byte) bool) {
	st := b.st
	if !st.beginIteration("Chunks") {
		return
	}
	st.serverYield = yield
	n := gateway.BodyLen(b.inner)
	b.inner.Chunks(st.yieldFn)
	st.endOfBody(b.inner, n)
}

// Close checks that it is called once and closes the application's Body.
func (b *vBody) Close() error {
	st := b.st
	if st.watch.calls.Add(1) > 1 {
		st.v.server(RuleCloseOnce, "Close called a second time")
	}
	defer st.closed.Store(true)
	return b.inner.Close()
}

// Err is the application's Body's Err, if it has one.
func (b *vBody) Err() error { return gateway.BodyErr(b.inner) }

func (b *vBody) vLen() int { return int(gateway.BodyLen(b.inner)) }

func (b *vBody) vWriteTo(w io.Writer) (int64, error) {
	st := b.st
	if !st.beginIteration("WriteTo") {
		return 0, errVEnded
	}
	wt, _ := gateway.BodyWriterTo(b.inner)
	n := gateway.BodyLen(b.inner)
	var vw io.Writer = &vBodyWriter{st: st, w: w}
	if rf, ok := w.(io.ReaderFrom); ok {
		vw = &vBodyReaderFrom{vBodyWriter{st: st, w: w}, rf}
	}
	written, err := wt.WriteTo(vw)
	if err != nil {
		st.returned = true
		return written, err
	}
	st.endOfBody(b.inner, n)
	return written, nil
}

type vBodyLen struct{ *vBody }

// Len is the application's Body's length.
func (b vBodyLen) Len() int { return b.vLen() }

type vBodyWriterTo struct{ *vBody }

// WriteTo runs the application's Body's WriteTo, checking what it writes.
func (b vBodyWriterTo) WriteTo(w io.Writer) (int64, error) { return b.vWriteTo(w) }

type vBodyLenWriterTo struct{ *vBody }

// Len is the application's Body's length.
func (b vBodyLenWriterTo) Len() int { return b.vLen() }

// WriteTo runs the application's Body's WriteTo, checking what it writes.
func (b vBodyLenWriterTo) WriteTo(w io.Writer) (int64, error) { return b.vWriteTo(w) }

// vBodyWriter is the writer a WriterTo body writes to.
type vBodyWriter struct {
	st *vState
	w  io.Writer
}

func (w *vBodyWriter) Write(p []byte) (int, error) {
	st := w.st
	if st.returned || st.closed.Load() {
		st.v.application(RuleYield, nil, "Write of %d bytes after WriteTo returned", len(p))
		return 0, errVEnded
	}
	st.checkOut(p, "WriteTo's Write")
	st.chunkBytes += int64(len(p))
	n, err := w.w.Write(p)
	if err != nil {
		st.stopped = true
	}
	return n, err
}

// vBodyReaderFrom keeps the server's io.ReaderFrom (sendfile) for a body
// the response is allowed to have.
type vBodyReaderFrom struct {
	vBodyWriter
	rf io.ReaderFrom
}

func (w *vBodyReaderFrom) ReadFrom(r io.Reader) (int64, error) {
	st := w.st
	if !st.started || st.refused || st.aborted || st.returned || st.closed.Load() ||
		httpsyntax.BodyForbidden(st.code) || !st.hasType {
		// Let Write find what is wrong, if a byte comes.
		return io.Copy(&w.vBodyWriter, r)
	}
	before := st.total
	n, err := w.rf.ReadFrom(r)
	if n > 0 {
		st.bodySent, st.hdrsSent = true, true
	}
	st.total += n
	st.chunkBytes += n
	if err != nil {
		st.stopped = true
		return n, err
	}
	if st.cl >= 0 && before <= st.cl {
		over := st.total > st.cl
		if !over && st.total == st.cl {
			// The server stopped at the Content-Length: is there more?
			var one [1]byte
			k, _ := io.ReadFull(r, one[:])
			over = k > 0
		}
		if over {
			st.v.application(RuleLengthOver, nil, "WriteTo's ReadFrom has more than the body's Content-Length %d", st.cl)
		}
	}
	return n, nil
}
