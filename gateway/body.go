package gateway

import (
	"errors"
	"io"
	"iter"
	"os"
	"sync"
	"syscall"
)

// A Body is a response body: a sequence of byte chunks and a close hook, as
// PEP 3333's iterable with close().
//
// Chunks is an [iter.Seq] of the chunks (range over the method value: for p
// := range body.Chunks). It produces them on demand, so a server transmits
// each chunk before the next is made and never holds the whole body. A
// server calls Chunks at most once, may stop early (yield returns false when
// the client has gone), and does not keep a chunk after yield returns: a
// producer may reuse its buffer. Empty chunks are allowed and send nothing.
//
// Close is called exactly once by the server: after the last chunk, after an
// error or panic, when the client disconnects, and also when the body was
// never iterated (a HEAD request, an error before the first chunk). It
// releases whatever the body holds; vial runs its teardown there.
//
// Two optional methods refine the contract. A Body with Err() error reports a
// failure to produce the rest of the body: the server checks it once Chunks
// returns and, when non-nil, treats the body as incomplete (an error, not a
// success). A Body that implements [io.WriterTo] lets the server hand it the
// connection instead of iterating, the analogue of wsgi.file_wrapper: [File]
// uses it so a file goes out through sendfile.
type Body interface {
	Chunks(yield func([]byte) bool)
	Close() error
}

// NoBody is an empty Body whose Close does nothing.
var NoBody Body = noBody{}

type noBody struct{}

func (noBody) Chunks(func([]byte) bool)         {}
func (noBody) Close() error                     { return nil }
func (noBody) WriteTo(io.Writer) (int64, error) { return 0, nil }
func (noBody) Len() int                         { return 0 }

// Bytes returns a Body of the given chunks, held in memory. It implements
// [io.WriterTo] and a Len() int method, so servers write it in one go and
// know its length.
func Bytes(chunks ...[]byte) Body {
	if len(chunks) == 1 {
		return &oneChunk{chunks[0]}
	}
	// Copy the slice so that the caller's variadic array does not escape:
	// the common one-chunk call then allocates only its body.
	return &manyChunks{append([][]byte(nil), chunks...)}
}

// Strings returns a Body of the given strings, one chunk each.
func Strings(chunks ...string) Body {
	bs := make([][]byte, len(chunks))
	for i, s := range chunks {
		bs[i] = []byte(s)
	}
	return Bytes(bs...)
}

type oneChunk struct{ p []byte }

func (b *oneChunk) Chunks(yield func([]byte) bool) { yield(b.p) }
func (b *oneChunk) Close() error                   { return nil }
func (b *oneChunk) Len() int                       { return len(b.p) }
func (b *oneChunk) WriteTo(w io.Writer) (int64, error) {
	if len(b.p) == 0 {
		return 0, nil
	}
	n, err := w.Write(b.p)
	return int64(n), err
}

type manyChunks struct{ chunks [][]byte }

func (b *manyChunks) Chunks(yield func([]byte) bool) {
	for _, p := range b.chunks {
		if !yield(p) {
			return
		}
	}
}
func (b *manyChunks) Close() error { return nil }
func (b *manyChunks) Len() int {
	n := 0
	for _, p := range b.chunks {
		n += len(p)
	}
	return n
}
func (b *manyChunks) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for _, p := range b.chunks {
		if len(p) == 0 {
			continue
		}
		n, err := w.Write(p)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Stream returns a Body that produces the chunks of seq and calls onClose
// (which may be nil) when the server closes it. The server stops pulling as
// soon as the client is gone, so an endless seq is fine.
func Stream(seq iter.Seq[[]byte], onClose func() error) Body {
	return &streamBody{seq: seq, onClose: onClose}
}

type streamBody struct {
	seq     iter.Seq[[]byte]
	onClose func() error
}

func (b *streamBody) Chunks(yield func([]byte) bool) { b.seq(yield) }
func (b *streamBody) Close() error {
	if b.onClose == nil {
		return nil
	}
	return b.onClose()
}

// readerChunkSize is the size of the chunks [Reader] produces.
const readerChunkSize = 32 << 10

// Reader returns a Body that streams r in chunks of up to 32 KiB. Close
// closes r when it is an [io.Closer]. A read error other than io.EOF ends
// the body and is reported by its Err method, so the server does not pass
// the truncated body off as complete.
func Reader(r io.Reader) Body {
	return &readerBody{r: r}
}

type readerBody struct {
	r   io.Reader
	err error
}

var chunkPool = sync.Pool{New: func() any { b := make([]byte, readerChunkSize); return &b }}

func (b *readerBody) Chunks(yield func([]byte) bool) {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	for {
		n, err := b.r.Read(buf)
		if n > 0 && !yield(buf[:n]) {
			return
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				b.err = err
			}
			return
		}
	}
}

func (b *readerBody) Err() error { return b.err }

func (b *readerBody) Close() error {
	if c, ok := b.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// File returns a Body that sends f from its current offset to its end and
// closes it. It implements [io.WriterTo], so a net/http server copies it
// with sendfile where the platform has it; other servers iterate it.
func File(f *os.File) Body {
	return &fileBody{readerBody{r: f}, f}
}

type fileBody struct {
	readerBody
	f *os.File
}

func (b *fileBody) WriteTo(w io.Writer) (int64, error) {
	// Hide File's own WriteTo so that io.Copy asks w for ReadFrom, which
	// is where net/http's sendfile lives; keep syscall.Conn, which the
	// sendfile path looks for.
	return io.Copy(w, struct {
		io.Reader
		syscall.Conn
	}{b.f, b.f})
}

// OnClose returns a Body that produces b's chunks and, on Close, closes b and
// then calls fn, even when b's Close fails or panics. It is the analogue of
// werkzeug's ClosingIterator: middleware uses it to run code when the
// response is done. The result has b's Err; b's WriterTo and Len stay
// reachable through its Unwrap method, which servers ([BodyLen], [Handler])
// follow.
func OnClose(b Body, fn func()) Body {
	return &closingBody{Body: b, fn: fn}
}

type closingBody struct {
	Body
	fn func()
}

func (c *closingBody) Close() error {
	defer c.fn()
	return c.Body.Close()
}

func (c *closingBody) Err() error {
	if e, ok := c.Body.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}

// Unwrap returns the wrapped Body, so servers can find its optional methods.
func (c *closingBody) Unwrap() Body { return c.Body }

// BodyErr returns b's Err() if it has one: the reason the body ended early.
func BodyErr(b Body) error {
	if e, ok := b.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}

// BodyLen returns the length of b in bytes when it knows it (a Len() int
// method, as [Bytes] bodies have, on b or a body it wraps), or -1.
func BodyLen(b Body) int64 {
	for {
		if l, ok := b.(interface{ Len() int }); ok {
			return int64(l.Len())
		}
		u, ok := b.(interface{ Unwrap() Body })
		if !ok {
			return -1
		}
		b = u.Unwrap()
	}
}

// BodyWriterTo returns b's io.WriterTo, or that of a body it wraps: how a
// server finds that a body can write itself (a file, a body in memory).
func BodyWriterTo(b Body) (io.WriterTo, bool) {
	// A plain loop, as BodyLen's: it runs on every request, and a generic
	// search, with its type assertion to a type parameter, costs about 150
	// instructions more (cachegrind).
	for {
		if wt, ok := b.(io.WriterTo); ok {
			return wt, true
		}
		u, ok := b.(interface{ Unwrap() Body })
		if !ok {
			return nil, false
		}
		b = u.Unwrap()
	}
}
