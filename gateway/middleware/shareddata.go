package middleware

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// SharedData returns an Application that serves the files under the
// directory root for URL paths under prefix, werkzeug's
// SharedDataMiddleware, and passes every other request to app.
//
// prefix is matched against PATH_INFO on a path-segment boundary, as
// [Dispatcher] matches: with prefix "/static", "/static/css/site.css" is the
// file css/site.css under root; "/staticx" is not under the prefix. prefix
// "" serves the whole site from root and falls back to app for what is not
// a file there.
//
// What happens to a request under the prefix:
//
//   - A regular file is served to GET and HEAD; any other method gets 405
//     Method Not Allowed with "Allow: GET, HEAD".
//   - A name that does not exist, a directory (the prefix itself, a path
//     ending in "/", or a name that is a directory) goes to app, which may
//     serve it or answer 404. There are no directory listings.
//   - A name that could not be a file under root is refused without
//     consulting app: a NUL byte gets 400 Bad Request; empty, "." or ".."
//     segments (so "//" and "/../"), and backslashes get 404 Not Found, as
//     does a symbolic link that leads outside root, a special file (device,
//     FIFO, socket) and a file that cannot be opened. PATH_INFO is already
//     percent-decoded, so "%2e%2e" is "..". The files are opened through an
//     [os.Root], which guarantees nothing outside root is ever opened.
//
// A file's response has Content-Type (from the extension with
// [mime.TypeByExtension], else sniffed with [net/http.DetectContentType]),
// Content-Length, Accept-Ranges, a strong ETag made of the file's size and
// modification time, and Last-Modified (unless the file system gives no
// modification time). It honours, in this order:
//
//   - If-None-Match (an entity tag in the list, or "*"), else
//     If-Modified-Since: 304 Not Modified, with ETag and Last-Modified and no
//     body or Content-Length.
//   - Range with a single byte range ("bytes=0-9", "bytes=10-", "bytes=-5"):
//     206 Partial Content with Content-Range, unless an If-Range does not
//     match the current ETag or Last-Modified. A range that starts past the
//     end gets 416 Range Not Satisfiable with "Content-Range: bytes */size".
//     A request for several ranges, a malformed Range, or a Range on an
//     empty file is answered with the whole file, 200, as RFC 9110 allows.
//
// A full response's Body is [gateway.File], which net/http servers send with
// sendfile; a range is read through an [io.SectionReader]. Either closes the
// file when the server closes the Body. A HEAD request gets the same headers
// and an empty Body.
//
// prefix must be "" or start with "/" and not end with "/", and root must be
// a directory that can be opened: SharedData panics otherwise, as these are
// setup mistakes. The directory stays open for the life of the Application,
// so the files served are those under the directory root named when
// SharedData was called, even if it is later renamed.
func SharedData(app gateway.Application, prefix string, root string) gateway.Application {
	if app == nil {
		panic("middleware: SharedData: the application is nil")
	}
	if prefix != "" && (!strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/")) {
		panic(fmt.Sprintf("middleware: SharedData: prefix %q must be \"\" or start with \"/\" and not end with \"/\"", prefix))
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		panic(fmt.Sprintf("middleware: SharedData: root %q: %v", root, err))
	}
	return &sharedData{app: app, prefix: prefix, root: r}
}

type sharedData struct {
	app    gateway.Application
	prefix string
	root   *os.Root
}

// ServeGateway serves a file under the prefix, or passes the request on.
func (s *sharedData) ServeGateway(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	name, ok := s.name(env.PathInfo)
	if !ok || name == "" {
		return s.app.ServeGateway(env, start)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return sharedDataError(start, http.StatusBadRequest)
	}
	if dir := strings.TrimSuffix(name, "/"); dir == "." || strings.IndexByte(name, '\\') >= 0 || !fs.ValidPath(dir) {
		return sharedDataError(start, http.StatusNotFound)
	}
	if strings.HasSuffix(name, "/") {
		return s.app.ServeGateway(env, start) // a directory
	}
	fi, err := s.root.Stat(name)
	switch {
	case err != nil && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)):
		return s.app.ServeGateway(env, start)
	case err != nil:
		return sharedDataError(start, http.StatusNotFound) // escapes root, or no permission
	case fi.IsDir():
		return s.app.ServeGateway(env, start)
	case !fi.Mode().IsRegular():
		return sharedDataError(start, http.StatusNotFound)
	}
	if env.Method != http.MethodGet && env.Method != http.MethodHead {
		return sharedDataError(start, http.StatusMethodNotAllowed, gateway.Header{Name: "Allow", Value: "GET, HEAD"})
	}
	f, err := s.root.Open(name)
	if err != nil {
		return sharedDataError(start, http.StatusNotFound)
	}
	// Stat again through the descriptor: the name may have changed since.
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return sharedDataError(start, http.StatusNotFound)
	}
	return sharedDataServe(env, start, f, fi, name)
}

// name returns the file name under root that path asks for, and whether
// path is under the prefix at all.
func (s *sharedData) name(p string) (string, bool) {
	if !strings.HasPrefix(p, s.prefix) {
		return "", false
	}
	rest := p[len(s.prefix):]
	switch {
	case rest == "":
		return "", true
	case rest[0] == '/':
		return rest[1:], true
	}
	return "", false
}

// sharedDataServe answers a GET or HEAD for the open regular file f, and
// owns f from then on.
func sharedDataServe(env *gateway.Environ, start gateway.StartResponse, f *os.File, fi fs.FileInfo, name string) gateway.Body {
	size := fi.Size()
	modTime := fi.ModTime()
	etag := sharedDataETag(size, modTime)
	headers := make(gateway.Headers, 0, 7)
	headers = append(headers, gateway.Header{Name: "ETag", Value: etag})
	hasModTime := !modTime.IsZero() && !modTime.Equal(time.Unix(0, 0))
	if hasModTime {
		headers = append(headers, gateway.Header{Name: "Last-Modified", Value: modTime.UTC().Format(http.TimeFormat)})
	}

	if sharedDataNotModified(env, etag, modTime, hasModTime) {
		f.Close()
		start(gateway.StatusLine(http.StatusNotModified), headers)
		return gateway.NoBody
	}

	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		var buf [512]byte
		n, _ := f.ReadAt(buf[:], 0)
		ctype = http.DetectContentType(buf[:n])
	}
	headers = append(headers, gateway.Header{Name: "Accept-Ranges", Value: "bytes"}, gateway.Header{Name: "Content-Type", Value: ctype})

	first, length, kind := int64(0), size, sharedDataRangeNone
	if rng := env.Header.Get("Range"); rng != "" && size > 0 && sharedDataIfRange(env, etag, modTime, hasModTime) {
		first, length, kind = sharedDataParseRange(rng, size)
	}
	switch kind {
	case sharedDataRangeUnsatisfiable:
		f.Close()
		return sharedDataError(start, http.StatusRequestedRangeNotSatisfiable,
			gateway.Header{Name: "Content-Range", Value: "bytes */" + strconv.FormatInt(size, 10)})
	case sharedDataRangeOne:
		headers = append(headers,
			gateway.Header{Name: "Content-Range", Value: fmt.Sprintf("bytes %d-%d/%d", first, first+length-1, size)},
			gateway.Header{Name: "Content-Length", Value: strconv.FormatInt(length, 10)})
		start(gateway.StatusLine(http.StatusPartialContent), headers)
		if env.Method == http.MethodHead {
			f.Close()
			return gateway.NoBody
		}
		return gateway.Reader(sharedDataSection{io.NewSectionReader(f, first, length), f})
	default:
		headers = append(headers, gateway.Header{Name: "Content-Length", Value: strconv.FormatInt(size, 10)})
		start(gateway.StatusLine(http.StatusOK), headers)
		if env.Method == http.MethodHead {
			f.Close()
			return gateway.NoBody
		}
		return gateway.File(f)
	}
}

// sharedDataSection reads a range of a file and closes the file.
type sharedDataSection struct {
	*io.SectionReader
	io.Closer
}

// sharedDataETag makes a strong entity tag from a file's size and
// modification time.
func sharedDataETag(size int64, modTime time.Time) string {
	return `"` + strconv.FormatInt(modTime.UnixNano(), 16) + "-" + strconv.FormatInt(size, 16) + `"`
}

// sharedDataNotModified evaluates If-None-Match, or when it is absent
// If-Modified-Since (RFC 9110 13.2.2).
func sharedDataNotModified(env *gateway.Environ, etag string, modTime time.Time, hasModTime bool) bool {
	if inm := env.Header.Values("If-None-Match"); len(inm) > 0 {
		for _, v := range inm {
			if sharedDataETagMatch(v, etag) {
				return true
			}
		}
		return false
	}
	ims := env.Header.Get("If-Modified-Since")
	if ims == "" || !hasModTime {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !modTime.Truncate(time.Second).After(t)
}

// sharedDataETagMatch reports whether the If-None-Match list holds etag,
// by weak comparison (a W/ prefix is ignored), or is "*".
func sharedDataETagMatch(list, etag string) bool {
	for {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return false
		}
		if list[0] == '*' {
			return true
		}
		list = strings.TrimPrefix(list, "W/")
		if list == "" || list[0] != '"' {
			return false // malformed
		}
		end := strings.IndexByte(list[1:], '"')
		if end < 0 {
			return false
		}
		if list[:end+2] == etag {
			return true
		}
		list = list[end+2:]
	}
}

// sharedDataIfRange reports whether a Range may be honoured: there is no
// If-Range, or it holds the current strong ETag, or the exact
// Last-Modified date.
func sharedDataIfRange(env *gateway.Environ, etag string, modTime time.Time, hasModTime bool) bool {
	ir := strings.TrimSpace(env.Header.Get("If-Range"))
	switch {
	case ir == "":
		return true
	case strings.HasPrefix(ir, `"`):
		return ir == etag
	case strings.HasPrefix(ir, "W/"):
		return false // a weak tag never matches for a range
	}
	t, err := http.ParseTime(ir)
	return err == nil && hasModTime && t.Equal(modTime.Truncate(time.Second))
}

const (
	sharedDataRangeNone          = iota // serve the whole file
	sharedDataRangeOne                  // serve one range
	sharedDataRangeUnsatisfiable        // 416
)

// sharedDataParseRange parses a Range header against a file of size bytes
// (size > 0). It returns the first byte and the length of a single range;
// several ranges, and anything malformed, give sharedDataRangeNone.
func sharedDataParseRange(h string, size int64) (first, length int64, kind int) {
	const unit = "bytes="
	if len(h) < len(unit) || !strings.EqualFold(h[:len(unit)], unit) {
		return 0, size, sharedDataRangeNone
	}
	spec := strings.TrimSpace(h[len(unit):])
	if strings.IndexByte(spec, ',') >= 0 {
		return 0, size, sharedDataRangeNone
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, size, sharedDataRangeNone
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" { // suffix: the last b bytes
		n, ok := sharedDataDigits(b)
		switch {
		case !ok:
			return 0, size, sharedDataRangeNone
		case n == 0:
			return 0, 0, sharedDataRangeUnsatisfiable
		case n > size:
			n = size
		}
		return size - n, n, sharedDataRangeOne
	}
	start, ok := sharedDataDigits(a)
	if !ok {
		return 0, size, sharedDataRangeNone
	}
	last := size - 1
	if b != "" {
		if last, ok = sharedDataDigits(b); !ok || last < start {
			return 0, size, sharedDataRangeNone
		}
	}
	if start >= size {
		return 0, 0, sharedDataRangeUnsatisfiable
	}
	if last >= size {
		last = size - 1
	}
	return start, last - start + 1, sharedDataRangeOne
}

// sharedDataDigits parses a non-empty run of decimal digits.
func sharedDataDigits(s string) (int64, bool) {
	if !httpsyntax.IsDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// sharedDataError answers with code and a short text body.
func sharedDataError(start gateway.StartResponse, code int, extra ...gateway.Header) gateway.Body {
	text := http.StatusText(code) + "\n"
	headers := gateway.Headers{
		{Name: "Content-Type", Value: "text/plain; charset=utf-8"},
		{Name: "Content-Length", Value: strconv.Itoa(len(text))},
	}
	start(gateway.StatusLine(code), append(headers, extra...))
	return gateway.Strings(text)
}
