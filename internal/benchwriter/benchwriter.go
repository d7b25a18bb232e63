// Package benchwriter is the ResponseWriter vial's benchmarks serve into,
// in the root package and in the bench module alike: the cheapest one
// there is, so that what is timed is the handler.
package benchwriter

import "net/http"

// A Writer is a minimal, reusable ResponseWriter: it keeps the header map
// and the status between requests and counts the body's bytes. Like
// net/http's own, it is a Flusher and a StringWriter.
type Writer struct {
	header http.Header
	Code   int // the status written, 0 until then
	N      int // the body bytes written
}

// New returns a Writer with an empty header map.
func New() *Writer { return &Writer{header: make(http.Header)} }

// Header returns the header map, kept from one request to the next.
func (w *Writer) Header() http.Header { return w.header }

// WriteHeader records the first status written.
func (w *Writer) WriteHeader(code int) {
	if w.Code == 0 {
		w.Code = code
	}
}

// Write counts p, with a 200 if no status was written.
func (w *Writer) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.N += len(p)
	return len(p), nil
}

// WriteString counts s, as Write.
func (w *Writer) WriteString(s string) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.N += len(s)
	return len(s), nil
}

// Flush does nothing: there is nothing buffered.
func (w *Writer) Flush() {}

// Reset readies w for the next request, keeping its header map.
func (w *Writer) Reset() {
	clear(w.header)
	w.Code, w.N = 0, 0
}
