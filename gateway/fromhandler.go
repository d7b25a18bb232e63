package gateway

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// FromHandler returns an Application that runs h, so any net/http handler
// can be mounted, wrapped and tested like a gateway application.
//
// h sees the request [Environ.HTTPRequest] builds: mounted under a prefix
// (SCRIPT_NAME set, by
// [github.com/vial-go/vial/gateway/middleware.Dispatcher] say), its URL
// path is the path below the mount point, as [net/http.StripPrefix] would
// give it, and [ScriptName] returns the mount point. It gets a
// ResponseWriter that behaves as net/http's: the status and headers are
// taken when h calls WriteHeader (or first writes), a missing Content-Type
// is sniffed from the first bytes, a body written before h returns or
// flushes goes out with its Content-Length, and output is buffered (4 KiB)
// and sent on each Flush and when h returns, through the write callable of
// start, so it streams. Write reports [net/http.ErrBodyNotAllowed] and
// [net/http.ErrContentLength] as net/http does.
//
// Hop-by-hop headers (Connection, Transfer-Encoding, Trailer, …), which a
// gateway application must not send, are dropped: the server in front
// manages the connection. Trailers and 1xx informational responses are not
// relayed, and hijacking is not supported. A Flush before any output sends
// the headers (the write callable's first call does). A panic in h
// propagates to the server, as it would in net/http.
func FromHandler(h http.Handler) Application {
	return handlerApp{h}
}

type handlerApp struct{ h http.Handler }

func (a handlerApp) ServeGateway(env *Environ, start StartResponse) Body {
	rw := &responseAdapter{start: start, header: make(http.Header), contentLength: -1, head: env.Method == http.MethodHead}
	defer rw.release()
	a.h.ServeHTTP(rw, env.HTTPRequest())
	rw.finish()
	return NoBody
}

// adapterBufSize is the output buffer of a handler run by FromHandler, the
// size of net/http's.
const adapterBufSize = 4 << 10

var adapterBufPool = sync.Pool{New: func() any { b := make([]byte, 0, adapterBufSize); return &b }}

// responseAdapter is the http.ResponseWriter a handler run by FromHandler
// writes to.
type responseAdapter struct {
	start  StartResponse
	write  WriteFunc // set once start has been called
	header http.Header

	code          int     // the status h chose; 0 until WriteHeader
	snapshot      Headers // the headers when h chose the status
	haveType      bool    // h set Content-Type, or suppressed it with a nil value
	hasLength     bool    // h declared a Content-Length
	contentLength int64   // the length h declared, -1 if none
	written       int64   // bytes h wrote
	head          bool    // a HEAD request: no body, but h may write one

	bufp *[]byte // output not yet passed to write
	err  error   // the write callable's failure: the client has gone
}

func (rw *responseAdapter) Header() http.Header { return rw.header }

func (rw *responseAdapter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code)) // as net/http
	}
	if rw.code != 0 {
		return // superfluous: net/http ignores it too
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		return // informational responses are not relayed
	}
	rw.code = code
	_, rw.haveType = rw.header["Content-Type"]
	rw.snapshot = adapterHeaders(rw.header)
	if cl := rw.header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64); err == nil && n >= 0 {
			rw.hasLength, rw.contentLength = true, n
		}
	}
}

// adapterHeaders converts h to Headers, leaving out what a gateway
// application must not send and net/http would have handled itself.
func adapterHeaders(h http.Header) Headers {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	out := make(Headers, 0, n+2) // room for Content-Type and Content-Length
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if IsHopByHop(name) || strings.HasPrefix(name, http.TrailerPrefix) {
			continue
		}
		for _, v := range h[name] {
			out = append(out, Header{name, v})
		}
	}
	return out
}

func (rw *responseAdapter) Write(p []byte) (int, error) {
	if rw.code == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if httpsyntax.BodyForbidden(rw.code) {
		return 0, http.ErrBodyNotAllowed
	}
	if rw.err != nil {
		return 0, rw.err
	}
	if rw.contentLength >= 0 && rw.written+int64(len(p)) > rw.contentLength {
		return 0, http.ErrContentLength
	}
	rw.written += int64(len(p))
	if rw.bufp == nil {
		rw.bufp = adapterBufPool.Get().(*[]byte)
	}
	buf := *rw.bufp
	if len(buf)+len(p) > cap(buf) {
		if err := rw.flushBuf(); err != nil {
			return 0, err
		}
		buf = *rw.bufp
		if len(p) >= cap(buf) {
			if err := rw.send(p); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	*rw.bufp = append(buf, p...)
	return len(p), nil
}

// Flush sends what h has written so far.
func (rw *responseAdapter) Flush() { _ = rw.FlushError() }

// FlushError sends what h has written so far, the headers at least, and
// reports the server's failure to do so.
func (rw *responseAdapter) FlushError() error {
	if rw.code == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if err := rw.flushBuf(); err != nil {
		return err
	}
	if rw.write == nil {
		rw.startResponse(nil, false)
		if err := rw.write(nil); err != nil {
			rw.err = err
		}
	}
	return rw.err
}

// finish completes the response when h returns. When nothing has gone out
// yet, the whole body is in the buffer, and its length is known.
func (rw *responseAdapter) finish() {
	if rw.code == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.write == nil {
		var body []byte
		if rw.bufp != nil {
			body = *rw.bufp
		}
		rw.startResponse(body, true)
	}
	_ = rw.flushBuf()
}

func (rw *responseAdapter) release() {
	if rw.bufp != nil {
		*rw.bufp = (*rw.bufp)[:0]
		adapterBufPool.Put(rw.bufp)
		rw.bufp = nil
	}
}

// startResponse calls start with the status and headers h chose, completed
// as net/http would: a sniffed Content-Type and, when p is the whole body,
// its Content-Length.
func (rw *responseAdapter) startResponse(p []byte, whole bool) {
	headers := rw.snapshot
	if !rw.haveType && len(p) > 0 && !httpsyntax.BodyForbidden(rw.code) {
		headers = append(headers, Header{"Content-Type", http.DetectContentType(p)})
	}
	if whole && !rw.hasLength && !httpsyntax.BodyForbidden(rw.code) && (!rw.head || len(p) > 0) {
		headers = append(headers, Header{"Content-Length", strconv.Itoa(len(p))})
	}
	rw.write = rw.start(StatusLine(rw.code), headers)
}

// flushBuf passes the buffered output to the write callable.
func (rw *responseAdapter) flushBuf() error {
	if rw.bufp == nil || len(*rw.bufp) == 0 {
		return rw.err
	}
	err := rw.send(*rw.bufp)
	*rw.bufp = (*rw.bufp)[:0]
	return err
}

// send passes p to the write callable, starting the response first.
func (rw *responseAdapter) send(p []byte) error {
	if rw.err != nil {
		return rw.err
	}
	if rw.write == nil {
		rw.startResponse(p, false)
	}
	if err := rw.write(p); err != nil {
		rw.err = err
		return err
	}
	return nil
}
