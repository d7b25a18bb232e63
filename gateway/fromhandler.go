package gateway

import (
	"bufio"
	"net/http"
)

// FromHandler returns an Application that runs h, so any net/http handler
// can be mounted, wrapped and tested like a gateway application.
//
// h sees the request [Environ.HTTPRequest] builds. Its response goes out
// through the write callable of start, so it streams: the status and headers
// when h first writes (or returns), its output buffered as net/http buffers
// it (4 KiB) and sent on each Flush and when h returns. A panic in h
// propagates to the server, as it would in net/http. Hijacking is not
// supported.
func FromHandler(h http.Handler) Application {
	return handlerApp{h}
}

type handlerApp struct{ h http.Handler }

func (a handlerApp) ServeGateway(env *Environ, start StartResponse) Body {
	rw := &responseAdapter{start: start, header: make(http.Header)}
	rw.buf = bufio.NewWriterSize(rawWriter{rw}, 4<<10)
	a.h.ServeHTTP(rw, env.HTTPRequest())
	rw.finish()
	return NoBody
}

// responseAdapter is the http.ResponseWriter a handler run by FromHandler
// writes to.
type responseAdapter struct {
	start   StartResponse
	write   WriteFunc
	header  http.Header
	code    int
	buf     *bufio.Writer
	err     error
	written bool
}

func (rw *responseAdapter) Header() http.Header { return rw.header }

func (rw *responseAdapter) WriteHeader(code int) {
	if rw.write != nil || code < 200 && code != http.StatusSwitchingProtocols {
		return // informational responses are not relayed; later calls are ignored, as net/http does
	}
	rw.code = code
	rw.write = rw.start(StatusLine(code), FromHTTPHeader(rw.header))
}

func (rw *responseAdapter) Write(p []byte) (int, error) {
	if rw.write == nil {
		if rw.header.Get("Content-Type") == "" && rw.header.Get("Transfer-Encoding") == "" && len(p) > 0 {
			rw.header.Set("Content-Type", http.DetectContentType(p))
		}
		rw.WriteHeader(http.StatusOK)
	}
	if rw.err != nil {
		return 0, rw.err
	}
	if len(p) > 0 {
		rw.written = true
	}
	return rw.buf.Write(p)
}

// Flush sends what h has written so far.
func (rw *responseAdapter) Flush() { _ = rw.FlushError() }

// FlushError sends what h has written so far and reports the server's
// failure to do so.
func (rw *responseAdapter) FlushError() error {
	if rw.write == nil {
		rw.WriteHeader(http.StatusOK)
	}
	if err := rw.buf.Flush(); err != nil {
		return err
	}
	return rw.err
}

func (rw *responseAdapter) finish() {
	if rw.write == nil {
		rw.WriteHeader(http.StatusOK)
	}
	_ = rw.buf.Flush()
}

// rawWriter passes the buffered output to the write callable.
type rawWriter struct{ rw *responseAdapter }

func (w rawWriter) Write(p []byte) (int, error) {
	if err := w.rw.write(p); err != nil {
		w.rw.err = err
		return 0, err
	}
	return len(p), nil
}
