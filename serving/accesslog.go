package serving

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The access log has one record per request, at level Info. Its message is
// werkzeug's line,
//
//	127.0.0.1 - - [21/Nov/2026 10:00:00] "GET /path?q=1 HTTP/1.1" 200 -
//
// (the client's address, the local time, the request line with its target
// shown as an IRI, the status, and "-" where werkzeug puts the size), and
// its attributes are:
//
//	remote_addr  the client's address, without the port
//	method       the request method
//	uri          the request target as sent
//	proto        "HTTP/1.1", "HTTP/2.0", …
//	status       the status sent (0 when none was: the connection dropped)
//	bytes        the body bytes written
//	duration     the time spent in the request handler
//	endpoint     the endpoint that answered, when the application notes it
//	             (vial does, through gateway.Environ.Note)
//
// [Options.AccessLog] receives the dev server's records; by default they go
// to Output through [NewAccessLogHandler]. [AccessLog] makes the same
// records for any net/http server.

// AccessLog returns net/http middleware that logs each request to logger
// (slog.Default() at the time of the request when nil) with the dev
// server's record, above: the same message and attributes, whatever server
// runs the handler. The record is written when the handler returns (a
// handler that wrote nothing is logged with net/http's implicit 200), or
// panics (the panic goes on, and the status is what was sent, 0 if none). The status and size are read from a thin
// wrapper of the ResponseWriter that keeps [net/http.Flusher] (streamed
// bodies still stream), [io.ReaderFrom] (sendfile) and [net/http.Hijacker]
// working, and unwraps for [net/http.ResponseController].
//
//	app.Use(serving.AccessLog(nil))
//
// remote_addr is the request's RemoteAddr: behind a reverse proxy, that of
// the proxy, unless the middleware runs inside what corrects it from
// X-Forwarded-For.
func AccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return &accessLogHandler{logger: logger, h: h}
	}
}

// LogRequests returns h with the server's access log: [AccessLog] with the
// logger the server's options choose, [Options.AccessLog] or the line
// handler on Output.
func (s *Server) LogRequests(h http.Handler) http.Handler {
	return AccessLog(s.accessLog)(h)
}

type accessLogHandler struct {
	logger *slog.Logger // nil: slog.Default()
	h      http.Handler
}

var recorderPool = sync.Pool{New: func() any { return new(responseRecorder) }}

func (a *accessLogHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := recorderPool.Get().(*responseRecorder)
	rec.w = w
	start := time.Now()
	returned := false
	defer func() {
		// Also on a panic (an aborted response, PassthroughErrors): the
		// request is logged with what was sent, and the panic goes on.
		now := time.Now()
		if returned && rec.status == 0 {
			// The handler wrote nothing: net/http sends a 200.
			rec.status = http.StatusOK
		}
		logRequest(a.logger, now, r, rec.status, rec.size, now.Sub(start), rec.notes[:rec.nnotes]...)
		if returned {
			*rec = responseRecorder{}
			recorderPool.Put(rec)
		}
	}()
	a.h.ServeHTTP(rec, r)
	returned = true
}

// responseRecorder notes the status and the size of a response on its way
// to the client.
type responseRecorder struct {
	w      http.ResponseWriter
	status int
	size   int64
	notes  [2]slog.Attr // what the application noted (gateway.Environ.Note)
	nnotes int
}

// Note keeps a note of the application's about the request (vial notes
// the endpoint) for its record: it makes the recorder a gateway.Noter. A
// few are kept; more are dropped.
func (w *responseRecorder) Note(key, value string) {
	if w.nnotes < len(w.notes) {
		w.notes[w.nnotes] = slog.String(key, value)
		w.nnotes++
	}
}

func (w *responseRecorder) Header() http.Header { return w.w.Header() }

func (w *responseRecorder) WriteHeader(code int) {
	// 1xx responses other than 101 are informational: the final status
	// comes later.
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.w.WriteHeader(code)
}

func (w *responseRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.w.Write(p)
	w.size += int64(n)
	return n, err
}

// Flush sends what is buffered to the client.
func (w *responseRecorder) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.w.(http.Flusher); ok {
		f.Flush()
		return
	}
	_ = http.NewResponseController(w.w).Flush()
}

// ReadFrom lets net/http copy a file with sendfile.
func (w *responseRecorder) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.w}, r)
	}
	w.size += n
	return n, err
}

// Hijack hands the connection over, where the protocol allows it.
func (w *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.w).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

// Unwrap returns the wrapped ResponseWriter, for ResponseController.
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.w }

type writerOnly struct{ io.Writer }

// LogRequest writes the access log record of one request: r as received,
// the status sent (0 if none), the body bytes written and the time it took.
// A custom request handler calls it to log as the default one does.
func (s *Server) LogRequest(r *http.Request, status int, size int64, elapsed time.Duration) {
	logRequest(s.accessLog, time.Now(), r, status, size, elapsed)
}

// logRequest writes the access record of r to logger (slog.Default() when
// nil): the one place the record is made.
func logRequest(logger *slog.Logger, now time.Time, r *http.Request, status int, size int64, elapsed time.Duration, notes ...slog.Attr) {
	if logger == nil {
		logger = slog.Default()
	}
	h := logger.Handler()
	ctx := r.Context()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	remote, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		remote = r.RemoteAddr
	}
	bp := lineBufPool.Get().(*[]byte)
	buf := appendAccessLine((*bp)[:0], now, remote, r, status)
	msg := string(buf)
	*bp = buf
	lineBufPool.Put(bp)

	rec := slog.NewRecord(now, slog.LevelInfo, msg, 0)
	rec.AddAttrs(
		slog.String("remote_addr", remote),
		slog.String("method", r.Method),
		slog.String("uri", r.RequestURI),
		slog.String("proto", r.Proto),
		slog.Int("status", status),
		slog.Int64("bytes", size),
		slog.Duration("duration", elapsed),
	)
	rec.AddAttrs(notes...)
	_ = h.Handle(ctx, rec)
}

var lineBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendAccessLine appends werkzeug's access log line (without newline).
func appendAccessLine(buf []byte, now time.Time, remote string, r *http.Request, status int) []byte {
	if remote == "" {
		remote = "<local>"
	}
	buf = append(buf, remote...)
	buf = append(buf, " - - ["...)
	buf = now.AppendFormat(buf, "02/Jan/2006 15:04:05")
	buf = append(buf, "] \""...)
	// net/http admits only a token as the method and HTTP/x.y as the
	// protocol: nothing in them needs escaping.
	buf = append(buf, r.Method...)
	buf = append(buf, ' ')
	target := r.RequestURI
	if target == "" && r.URL != nil {
		target = r.URL.RequestURI()
	}
	buf = appendIRI(buf, target)
	buf = append(buf, ' ')
	buf = append(buf, r.Proto...)
	buf = append(buf, "\" "...)
	if status > 0 {
		buf = strconv.AppendInt(buf, int64(status), 10)
	} else {
		buf = append(buf, '-')
	}
	return append(buf, " -"...)
}

// appendIRI appends a request target for display, as werkzeug's
// uri_to_iri shows it: percent-escapes are decoded, except those of
// characters that would change the meaning ("%/;?" in the path, the
// delimiters in the query) and of bytes that are not UTF-8; control
// characters and backslashes are then escaped (\xNN, \\), so the line stays
// one line.
func appendIRI(buf []byte, target string) []byte {
	if plainTarget(target) {
		return append(buf, target...)
	}
	path, query, hasQuery := strings.Cut(target, "?")
	buf = appendUnquoted(buf, path, "%/;?")
	if hasQuery {
		buf = append(buf, '?')
		buf = appendUnquoted(buf, query, "%;/?:@&=+,$#")
	}
	return buf
}

// plainTarget reports whether target shows as it is: no escapes, no
// control characters, nothing beyond ASCII, no backslash.
func plainTarget(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '\\' || c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func appendUnquoted(buf []byte, s, keep string) []byte {
	var dec []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b := unhex(s[i+1])<<4 | unhex(s[i+2])
			if b < utf8.RuneSelf && strings.IndexByte(keep, b) >= 0 {
				dec = append(dec, s[i:i+3]...)
			} else {
				dec = append(dec, b)
			}
			i += 2
			continue
		}
		dec = append(dec, c)
	}
	for len(dec) > 0 {
		r, n := utf8.DecodeRune(dec)
		switch {
		case r == utf8.RuneError && n <= 1:
			buf = append(buf, '%', upperHex[dec[0]>>4], upperHex[dec[0]&15])
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			buf = append(buf, '\\', 'x', lowerHex[r>>4], lowerHex[r&15])
		case r == '\\':
			buf = append(buf, '\\', '\\')
		default:
			buf = append(buf, dec[:n]...)
		}
		dec = dec[n:]
	}
	return buf
}

const (
	upperHex = "0123456789ABCDEF"
	lowerHex = "0123456789abcdef"
)

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// NewAccessLogHandler returns the [log/slog.Handler] the server logs
// requests with when [Options.AccessLog] is nil: it writes each record's
// message on a line of its own to w, exactly, at level Info and above. An
// access record (one with a "status" attribute, see [Server.LogRequest])
// is written as its message alone; with color set, its request line is
// coloured by status class as werkzeug colours it: 1xx bold, 2xx plain,
// 304 cyan, other 3xx green, 404 yellow, other 4xx bold red, anything else
// bold magenta. Other records get their attributes appended as key=value.
// Writes are serialised, so w need not be safe for concurrent use.
func NewAccessLogHandler(w io.Writer, color bool) slog.Handler {
	return newLineHandler(w, color)
}

func newLineHandler(w io.Writer, color bool) *lineHandler {
	return &lineHandler{w: w, color: color, mu: new(sync.Mutex)}
}

type lineHandler struct {
	w     io.Writer
	color bool
	mu    *sync.Mutex
	attrs []slog.Attr
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], as...)
	return &h2
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	status, isAccess := 0, false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "status" && a.Value.Kind() == slog.KindInt64 {
			status, isAccess = int(a.Value.Int64()), true
			return false
		}
		return true
	})
	bp := lineBufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	switch {
	case isAccess && h.color:
		buf = appendColoured(buf, r.Message, status)
	default:
		buf = append(buf, r.Message...)
	}
	if !isAccess {
		appendAttr := func(a slog.Attr) bool {
			buf = append(buf, ' ')
			buf = append(buf, a.Key...)
			buf = append(buf, '=')
			buf = append(buf, a.Value.String()...)
			return true
		}
		for _, a := range h.attrs {
			appendAttr(a)
		}
		r.Attrs(appendAttr)
	}
	buf = append(buf, '\n')
	h.mu.Lock()
	_, err := h.w.Write(buf)
	h.mu.Unlock()
	*bp = buf
	lineBufPool.Put(bp)
	return err
}

// appendColoured appends an access line with its quoted request line
// styled for status.
func appendColoured(buf []byte, msg string, status int) []byte {
	i := strings.Index(msg, "] \"")
	j := strings.LastIndex(msg, "\" ")
	if i < 0 || j < i+3 {
		return append(buf, msg...)
	}
	buf = append(buf, msg[:i+3]...)
	buf = append(buf, ansiStyle(true, msg[i+3:j], statusStyles(status)...)...)
	return append(buf, msg[j:]...)
}

// statusStyles returns werkzeug's styles for a status. werkzeug leaves only
// 200 itself plain (its other 2xx fall through to bold magenta, with the
// 5xx); here every 2xx is plain, as its comments intend.
func statusStyles(code int) []string {
	switch {
	case code >= 100 && code < 200:
		return []string{ansiBold}
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusNotModified:
		return []string{ansiCyan}
	case code >= 300 && code < 400:
		return []string{ansiGreen}
	case code == http.StatusNotFound:
		return []string{ansiYellow}
	case code >= 400 && code < 500:
		return []string{ansiBold, ansiRed}
	}
	return []string{ansiBold, ansiMagenta}
}
