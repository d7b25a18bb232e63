package middleware_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/middleware"
)

const (
	mwHello       = "0123456789abcdefghij" // public/hello.txt, 20 bytes
	mwSecret      = "SECRET: outside the root"
	mwLastModText = "Tue, 02 Jan 2024 03:04:05 GMT"
)

var mwModTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// mwSharedDataTree builds
//
//	dir/go.mod, dir/secret.txt         outside the root, must never be served
//	dir/public/hello.txt               mwHello, modified at mwModTime
//	dir/public/css/site.css
//	dir/public/page                    HTML without an extension
//	dir/public/blob                    binary without an extension
//	dir/public/empty.txt
//	dir/public/sub/nested.txt
//	dir/public/inner -> hello.txt      symlink inside the root
//	dir/public/leak -> ../secret.txt   symlinks leading outside
//	dir/public/abs -> dir/secret.txt
//	dir/public/outdir -> ..
//	dir/public/passwd -> /etc/passwd
//
// and returns dir and dir/public. Symlinks are skipped where the system
// cannot make them.
func mwSharedDataTree(t *testing.T) (dir, public string) {
	t.Helper()
	dir = t.TempDir()
	public = filepath.Join(dir, "public")
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("go.mod", "module secret\n// "+mwSecret+"\n")
	write("secret.txt", mwSecret)
	write("public/hello.txt", mwHello)
	write("public/css/site.css", "body { color: black }\n")
	write("public/page", "<!DOCTYPE html><html><body>hi</body></html>")
	write("public/blob", "\x00\x01\x02\x03\xff\xfe")
	write("public/empty.txt", "")
	write("public/sub/nested.txt", "nested")
	require.NoError(t, os.Chtimes(filepath.Join(public, "hello.txt"), mwModTime, mwModTime))
	for link, target := range map[string]string{
		"inner":  "hello.txt",
		"leak":   "../secret.txt",
		"abs":    filepath.Join(dir, "secret.txt"),
		"outdir": "..",
		"passwd": "/etc/passwd",
	} {
		if err := os.Symlink(target, filepath.Join(public, link)); err != nil {
			t.Logf("no symlink %s: %v", link, err)
		}
	}
	return dir, public
}

// mwSharedData returns SharedData serving public under /static, and the
// probe it falls back to.
func mwSharedData(t *testing.T) (gateway.Application, *mwProbe) {
	t.Helper()
	_, public := mwSharedDataTree(t)
	fallback := &mwProbe{name: "app"}
	return middleware.SharedData(fallback, "/static", public), fallback
}

// mwGet runs a request with the given headers ("Name: value") directly.
func mwGet(t *testing.T, app gateway.Application, method, path string, headers ...string) mwRecorded {
	t.Helper()
	env := mwEnv(method, path)
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ": ")
		require.True(t, ok, h)
		env.Header.Add(name, value)
	}
	return mwRecord(t, app, env)
}

// mwAssertNoLeak checks that a response carries nothing from outside the
// root.
func mwAssertNoLeak(t *testing.T, body string) {
	t.Helper()
	assert.NotContains(t, body, "SECRET")
	assert.NotContains(t, body, "root:")
	assert.NotContains(t, body, "module")
}

func TestSharedDataServesFile(t *testing.T) {
	app, fallback := mwSharedData(t)
	rec := mwGet(t, app, "GET", "/static/hello.txt")

	require.Equal(t, 200, rec.Code)
	assert.Equal(t, mwHello, rec.Body)
	assert.Equal(t, "text/plain; charset=utf-8", rec.Headers.Get("Content-Type"))
	assert.Equal(t, "20", rec.Headers.Get("Content-Length"))
	assert.Equal(t, "bytes", rec.Headers.Get("Accept-Ranges"))
	assert.Equal(t, mwLastModText, rec.Headers.Get("Last-Modified"))
	etag := rec.Headers.Get("ETag")
	assert.Regexp(t, `^"[0-9a-f]+-14"$`, etag, "a strong, quoted tag of mtime and size")
	assert.NoError(t, rec.CloseErr)
	assert.Zero(t, fallback.calls)

	// The same file, unchanged, has the same tag.
	assert.Equal(t, etag, mwGet(t, app, "GET", "/static/hello.txt").Headers.Get("ETag"))
	// The symlink inside the root is served like its target.
	inner := mwGet(t, app, "GET", "/static/inner")
	if inner.Code != 200 || fallback.calls != 0 {
		t.Skip("no symlinks here")
	}
	assert.Equal(t, mwHello, inner.Body)
}

func TestSharedDataContentType(t *testing.T) {
	app, _ := mwSharedData(t)
	tests := map[string]string{
		"/static/hello.txt":      "text/plain; charset=utf-8",
		"/static/css/site.css":   "text/css; charset=utf-8",
		"/static/page":           "text/html; charset=utf-8", // sniffed
		"/static/blob":           "application/octet-stream", // sniffed
		"/static/sub/nested.txt": "text/plain; charset=utf-8",
		"/static/empty.txt":      "text/plain; charset=utf-8",
	}
	for path, want := range tests {
		rec := mwGet(t, app, "GET", path)
		require.Equal(t, 200, rec.Code, path)
		assert.Equal(t, want, rec.Headers.Get("Content-Type"), path)
	}
}

func TestSharedDataEmptyFile(t *testing.T) {
	app, _ := mwSharedData(t)
	rec := mwGet(t, app, "GET", "/static/empty.txt")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "0", rec.Headers.Get("Content-Length"))
	assert.Equal(t, "", rec.Body)

	// A Range on an empty file is ignored: there is no byte to send.
	rec = mwGet(t, app, "GET", "/static/empty.txt", "Range: bytes=-5")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "0", rec.Headers.Get("Content-Length"))
}

func TestSharedDataHead(t *testing.T) {
	app, _ := mwSharedData(t)
	rec := mwGet(t, app, "HEAD", "/static/hello.txt")
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, "20", rec.Headers.Get("Content-Length"))
	assert.Equal(t, "text/plain; charset=utf-8", rec.Headers.Get("Content-Type"))
	assert.NotEmpty(t, rec.Headers.Get("ETag"))

	// A HEAD's Body is empty, even when a server iterates it.
	b := app.ServeGateway(mwEnv("HEAD", "/static/hello.txt"), func(string, gateway.Headers, ...error) gateway.WriteFunc { return nil })
	assert.Equal(t, int64(0), gateway.BodyLen(b))
	assert.NoError(t, b.Close())

	rec = mwGet(t, app, "HEAD", "/static/hello.txt", "Range: bytes=2-5")
	require.Equal(t, 206, rec.Code)
	assert.Equal(t, "4", rec.Headers.Get("Content-Length"))
	assert.Equal(t, "bytes 2-5/20", rec.Headers.Get("Content-Range"))
}

func TestSharedDataConditional(t *testing.T) {
	app, _ := mwSharedData(t)
	etag := mwGet(t, app, "GET", "/static/hello.txt").Headers.Get("ETag")
	require.NotEmpty(t, etag)

	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{"If-None-Match", []string{"If-None-Match: " + etag}, 304},
		{"weak If-None-Match", []string{"If-None-Match: W/" + etag}, 304},
		{"If-None-Match list", []string{`If-None-Match: "other", ` + etag}, 304},
		{"If-None-Match lines", []string{`If-None-Match: "other"`, "If-None-Match: " + etag}, 304},
		{"If-None-Match star", []string{"If-None-Match: *"}, 304},
		{"other tag", []string{`If-None-Match: "other"`}, 200},
		{"unquoted tag", []string{"If-None-Match: " + strings.Trim(etag, `"`)}, 200},
		{"If-Modified-Since equal", []string{"If-Modified-Since: " + mwLastModText}, 304},
		{"If-Modified-Since later", []string{"If-Modified-Since: Wed, 03 Jan 2024 00:00:00 GMT"}, 304},
		{"If-Modified-Since earlier", []string{"If-Modified-Since: Tue, 02 Jan 2024 03:04:04 GMT"}, 200},
		{"If-Modified-Since garbage", []string{"If-Modified-Since: yesterday"}, 200},
		{"If-None-Match wins over If-Modified-Since", []string{`If-None-Match: "other"`, "If-Modified-Since: " + mwLastModText}, 200},
		{"before a Range", []string{"If-None-Match: " + etag, "Range: bytes=0-1"}, 304},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{"GET", "HEAD"} {
				rec := mwGet(t, app, method, "/static/hello.txt", tt.headers...)
				require.Equal(t, tt.want, rec.Code, method)
				assert.Equal(t, etag, rec.Headers.Get("ETag"))
				assert.Equal(t, mwLastModText, rec.Headers.Get("Last-Modified"))
				if tt.want == 304 {
					assert.Empty(t, rec.Body)
					assert.False(t, rec.Headers.Has("Content-Length"), "a 304 has no Content-Length")
				} else if method == "GET" {
					assert.Equal(t, mwHello, rec.Body)
				}
			}
		})
	}
}

func TestSharedDataRange(t *testing.T) {
	app, _ := mwSharedData(t)
	etag := mwGet(t, app, "GET", "/static/hello.txt").Headers.Get("ETag")

	tests := []struct {
		name         string
		headers      []string
		code         int
		contentRange string
		body         string
	}{
		{"first ten", []string{"Range: bytes=0-9"}, 206, "bytes 0-9/20", "0123456789"},
		{"suffix", []string{"Range: bytes=-5"}, 206, "bytes 15-19/20", "fghij"},
		{"open end", []string{"Range: bytes=10-"}, 206, "bytes 10-19/20", "abcdefghij"},
		{"one byte", []string{"Range: bytes=3-3"}, 206, "bytes 3-3/20", "3"},
		{"last byte", []string{"Range: bytes=19-"}, 206, "bytes 19-19/20", "j"},
		{"end past the size", []string{"Range: bytes=15-100"}, 206, "bytes 15-19/20", "fghij"},
		{"suffix longer than the file", []string{"Range: bytes=-100"}, 206, "bytes 0-19/20", mwHello},
		{"spaces", []string{"Range: bytes= 2 - 4 "}, 206, "bytes 2-4/20", "234"},
		{"unit case", []string{"Range: Bytes=0-0"}, 206, "bytes 0-0/20", "0"},
		{"start at the size", []string{"Range: bytes=20-"}, 416, "bytes */20", ""},
		{"start past the size", []string{"Range: bytes=25-30"}, 416, "bytes */20", ""},
		{"empty suffix", []string{"Range: bytes=-0"}, 416, "bytes */20", ""},
		{"several ranges: whole file", []string{"Range: bytes=0-1,5-6"}, 200, "", mwHello},
		{"end before start: ignored", []string{"Range: bytes=5-2"}, 200, "", mwHello},
		{"other unit: ignored", []string{"Range: items=0-1"}, 200, "", mwHello},
		{"garbage: ignored", []string{"Range: bytes=a-b"}, 200, "", mwHello},
		{"no dash: ignored", []string{"Range: bytes=5"}, 200, "", mwHello},
		{"negative: ignored", []string{"Range: bytes=--5"}, 200, "", mwHello},
		{"overflow: ignored", []string{"Range: bytes=0-99999999999999999999"}, 200, "", mwHello},
		{"If-Range tag matches", []string{"Range: bytes=0-1", "If-Range: " + etag}, 206, "bytes 0-1/20", "01"},
		{"If-Range date matches", []string{"Range: bytes=0-1", "If-Range: " + mwLastModText}, 206, "bytes 0-1/20", "01"},
		{"If-Range other tag", []string{"Range: bytes=0-1", `If-Range: "other"`}, 200, "", mwHello},
		{"If-Range weak tag", []string{"Range: bytes=0-1", "If-Range: W/" + etag}, 200, "", mwHello},
		{"If-Range other date", []string{"Range: bytes=0-1", "If-Range: Wed, 03 Jan 2024 00:00:00 GMT"}, 200, "", mwHello},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := mwGet(t, app, "GET", "/static/hello.txt", tt.headers...)
			require.Equal(t, tt.code, rec.Code)
			assert.Equal(t, tt.contentRange, rec.Headers.Get("Content-Range"))
			if tt.code == 416 {
				assert.Equal(t, fmt.Sprint(len(rec.Body)), rec.Headers.Get("Content-Length"))
				return
			}
			assert.Equal(t, tt.body, rec.Body)
			assert.Equal(t, fmt.Sprint(len(tt.body)), rec.Headers.Get("Content-Length"))
			assert.Equal(t, "text/plain; charset=utf-8", rec.Headers.Get("Content-Type"))
			assert.Equal(t, etag, rec.Headers.Get("ETag"))
		})
	}
}

// The Body owns the file: closing it closes the file (a second Close then
// fails as the file is already closed).
func TestSharedDataBodyClosesFile(t *testing.T) {
	app, _ := mwSharedData(t)
	for _, rng := range []string{"", "bytes=2-5"} {
		env := mwEnv("GET", "/static/hello.txt")
		if rng != "" {
			env.Header.Set("Range", rng)
		}
		b := app.ServeGateway(env, func(string, gateway.Headers, ...error) gateway.WriteFunc { return nil })
		var got strings.Builder
		b.Chunks(func(p []byte) bool { got.Write(p); return true })
		require.NoError(t, b.Close())
		assert.ErrorIs(t, b.Close(), os.ErrClosed, "range %q", rng)
	}
}

// No response path leaves a file open.
func TestSharedDataNoDescriptorLeak(t *testing.T) {
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd")
	}
	app, _ := mwSharedData(t)
	etag := mwGet(t, app, "GET", "/static/hello.txt").Headers.Get("ETag")
	countFDs := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(ents)
	}
	before := countFDs()
	for range 30 {
		mwGet(t, app, "GET", "/static/hello.txt")
		mwGet(t, app, "HEAD", "/static/hello.txt")
		mwGet(t, app, "GET", "/static/hello.txt", "Range: bytes=1-2")
		mwGet(t, app, "HEAD", "/static/hello.txt", "Range: bytes=1-2")
		mwGet(t, app, "GET", "/static/hello.txt", "Range: bytes=50-")
		mwGet(t, app, "GET", "/static/hello.txt", "If-None-Match: "+etag)
		mwGet(t, app, "POST", "/static/hello.txt")
		mwGet(t, app, "GET", "/static/sub")
		mwGet(t, app, "GET", "/static/leak")
	}
	assert.LessOrEqual(t, countFDs(), before+2)
}

// A special file is not served, and opening it does not block (a FIFO's
// open waits for a writer).
func TestSharedDataSpecialFile(t *testing.T) {
	mkfifo, err := exec.LookPath("mkfifo")
	if err != nil {
		t.Skip("no mkfifo")
	}
	dir := t.TempDir()
	require.NoError(t, exec.Command(mkfifo, filepath.Join(dir, "fifo")).Run())
	fallback := &mwProbe{name: "app"}
	app := middleware.SharedData(fallback, "/static", dir)

	done := make(chan mwRecorded, 1)
	go func() { done <- mwGet(t, app, "GET", "/static/fifo") }()
	select {
	case rec := <-done:
		assert.Equal(t, 404, rec.Code)
	case <-time.After(5 * time.Second):
		t.Fatal("serving a FIFO blocked")
	}
	assert.Zero(t, fallback.calls)
}

func TestSharedDataFallsBack(t *testing.T) {
	app, fallback := mwSharedData(t)
	paths := []string{
		"/",
		"/other",
		"/hello.txt",
		"/staticx/hello.txt", // not under the prefix
		"/static",            // the prefix itself is a directory
		"/static/",
		"/static/sub", // directories are the app's
		"/static/sub/",
		"/static/css/",
		"/static/missing.txt",
		"/static/sub/missing.txt",
		"/static/hello.txt/", // a trailing slash asks for a directory
		"/static/hello.txt/x",
		"/STATIC/hello.txt",
	}
	for _, p := range paths {
		before := fallback.calls
		rec := mwGet(t, app, "GET", p)
		assert.Equal(t, before+1, fallback.calls, "%s goes to the app", p)
		assert.Equal(t, "app  "+p, rec.Body, p)
	}
	// Other methods too, when there is no file.
	rec := mwGet(t, app, "POST", "/static/upload")
	assert.Equal(t, "app  /static/upload", rec.Body)
}

func TestSharedDataMethodNotAllowed(t *testing.T) {
	app, fallback := mwSharedData(t)
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"} {
		rec := mwGet(t, app, method, "/static/hello.txt")
		assert.Equal(t, 405, rec.Code, method)
		assert.Equal(t, "GET, HEAD", rec.Headers.Get("Allow"))
		assert.NotContains(t, rec.Body, mwHello)
	}
	assert.Zero(t, fallback.calls)
}

// Names that cannot be a file under the root are refused by SharedData
// itself, before any file system access: the app never sees them.
func TestSharedDataTraversalDirect(t *testing.T) {
	app, fallback := mwSharedData(t)
	tests := map[string]int{
		"/static/../go.mod":                 404,
		"/static/../secret.txt":             404,
		"/static/../../etc/passwd":          404,
		"/static/../../../../../etc/passwd": 404,
		"/static/..":                        404,
		"/static/../":                       404,
		"/static/../sub/":                   404,
		"/static/sub/../":                   404,
		"/static/sub//":                     404,
		"/static/./":                        404,
		"/static/sub/../hello.txt":          404, // even when it would stay inside
		"/static/./hello.txt":               404,
		"/static//etc/passwd":               404,
		"/static///etc/passwd":              404,
		"/static/sub//nested.txt":           404,
		`/static/..\go.mod`:                 404,
		`/static/..\..\etc\passwd`:          404,
		`/static/\etc\passwd`:               404,
		`/static/sub\nested.txt`:            404,
		"/static/hello.txt\x00":             400,
		"/static/\x00../go.mod":             400,
		"/static/../go.mod\x00.txt":         400,
	}
	for path, want := range tests {
		for _, method := range []string{"GET", "HEAD", "POST"} {
			rec := mwGet(t, app, method, path)
			assert.Equal(t, want, rec.Code, "%s %q", method, path)
			mwAssertNoLeak(t, rec.Body)
			assert.NotContains(t, rec.Body, mwHello)
		}
	}
	assert.Zero(t, fallback.calls)
}

func TestSharedDataSymlinksOutside(t *testing.T) {
	app, fallback := mwSharedData(t)
	if mwGet(t, app, "GET", "/static/inner").Code != 200 {
		t.Skip("no symlinks here")
	}
	for _, path := range []string{
		"/static/leak",
		"/static/abs",
		"/static/outdir/go.mod",
		"/static/outdir/secret.txt",
		"/static/outdir/public/hello.txt", // back inside, but through the outside
		"/static/passwd",
	} {
		for _, method := range []string{"GET", "HEAD", "POST"} {
			rec := mwGet(t, app, method, path)
			assert.Equal(t, 404, rec.Code, "%s %s", method, path)
			mwAssertNoLeak(t, rec.Body)
		}
	}
	assert.Zero(t, fallback.calls)
}

// mwRawRequest sends a request target exactly as given, bypassing any
// client-side cleaning, and returns the response.
func mwRawRequest(t *testing.T, addr, method, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", method, target)
	require.NoError(t, err)
	req, _ := http.NewRequest(method, "http://example.com/", nil)
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// Through net/http, with the request target on the wire as an attacker
// would write it: PATH_INFO is percent-decoded by the server, so encoded
// dots, slashes and backslashes arrive as such and are refused.
func TestSharedDataTraversalHTTP(t *testing.T) {
	app, fallback := mwSharedData(t)
	srv := httptest.NewServer(gateway.Handler(app))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	code, body := mwRawRequest(t, addr, "GET", "/static/hello.txt")
	require.Equal(t, 200, code)
	require.Equal(t, mwHello, body)

	haveLinks := mwGet(t, app, "GET", "/static/inner").Code == 200
	tests := []struct {
		target string
		want   int
		link   bool // needs the symlinks
	}{
		{"/static/../go.mod", 404, false},
		{"/static/%2e%2e/go.mod", 404, false},
		{"/static/%2E%2E/%2E%2E/etc/passwd", 404, false},
		{"/static/..%2fgo.mod", 404, false},
		{"/static/%2e%2e%2fgo.mod", 404, false},
		{"/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd", 404, false},
		{"/static/sub/%2e%2e/%2e%2e/secret.txt", 404, false},
		{"/static/%2e%2e/", 404, false},
		{"/static//etc/passwd", 404, false},
		{"/static/%2fetc/passwd", 404, false},
		{"/static/..%5cgo.mod", 404, false},
		{"/static/%5c..%5c..%5cetc%5cpasswd", 404, false},
		{`/static/..\go.mod`, 404, false},
		{"/static/hello.txt%00", 400, false},
		{"/static/%00/../go.mod", 400, false},
		{"/static/leak", 404, true},
		{"/static/abs", 404, true},
		{"/static/outdir/go.mod", 404, true},
		{"/static/passwd", 404, true},
	}
	for _, tt := range tests {
		if tt.link && !haveLinks {
			continue
		}
		for _, method := range []string{"GET", "HEAD"} {
			code, body := mwRawRequest(t, addr, method, tt.target)
			assert.Equal(t, tt.want, code, "%s %s", method, tt.target)
			mwAssertNoLeak(t, body)
		}
	}
	assert.Zero(t, fallback.calls)

	// And through the ordinary client.
	for _, target := range []string{"/static/../go.mod", "/static/%2e%2e/go.mod", "/static/%2e%2e%2fsecret.txt"} {
		resp, err := http.Get(srv.URL + target)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 404, resp.StatusCode, target)
		mwAssertNoLeak(t, string(b))
	}
}

func TestSharedDataHTTP(t *testing.T) {
	app, _ := mwSharedData(t)
	srv := httptest.NewServer(gateway.Handler(app))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/static/hello.txt")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, mwHello, string(body))
	assert.Equal(t, int64(20), resp.ContentLength)
	assert.Equal(t, mwLastModText, resp.Header.Get("Last-Modified"))
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)

	req, _ := http.NewRequest("GET", srv.URL+"/static/hello.txt", nil)
	req.Header.Set("Range", "bytes=-5")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 206, resp.StatusCode)
	assert.Equal(t, "bytes 15-19/20", resp.Header.Get("Content-Range"))
	assert.Equal(t, "fghij", string(body))

	req, _ = http.NewRequest("GET", srv.URL+"/static/hello.txt", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 304, resp.StatusCode)
	assert.Empty(t, body)

	req, _ = http.NewRequest("GET", srv.URL+"/static/hello.txt", nil)
	req.Header.Set("Range", "bytes=100-")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 416, resp.StatusCode)
	assert.Equal(t, "bytes */20", resp.Header.Get("Content-Range"))

	resp, err = http.Head(srv.URL + "/static/hello.txt")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, int64(20), resp.ContentLength)

	resp, err = http.Post(srv.URL+"/static/hello.txt", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 405, resp.StatusCode)
	assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))

	resp, err = http.Get(srv.URL + "/static/sub/")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "app  /static/sub/", string(body))
}

// A large file goes out whole through the server's file path, and a range
// of it through the section reader.
func TestSharedDataLargeFile(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(i * 7)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o644))
	srv := httptest.NewServer(gateway.Handler(middleware.SharedData(&mwProbe{name: "app"}, "/files", dir)))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/files/big.bin")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	assert.True(t, string(body) == string(data), "the whole file")

	req, _ := http.NewRequest("GET", srv.URL+"/files/big.bin", nil)
	req.Header.Set("Range", "bytes=1000000-2999999")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, 206, resp.StatusCode)
	assert.Equal(t, fmt.Sprintf("bytes 1000000-2999999/%d", len(data)), resp.Header.Get("Content-Range"))
	assert.True(t, string(body) == string(data[1000000:3000000]), "the range")
}

func TestSharedDataRootPrefix(t *testing.T) {
	_, public := mwSharedDataTree(t)
	fallback := &mwProbe{name: "app"}
	app := middleware.SharedData(fallback, "", public)

	rec := mwGet(t, app, "GET", "/hello.txt")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, mwHello, rec.Body)
	assert.Equal(t, "app  /", mwGet(t, app, "GET", "/").Body)
	assert.Equal(t, "app  /missing", mwGet(t, app, "GET", "/missing").Body)
	assert.Equal(t, "app  ", mwGet(t, app, "GET", "").Body)
	assert.Equal(t, 404, mwGet(t, app, "GET", "/../go.mod").Code)
	assert.Equal(t, 404, mwGet(t, app, "GET", "//etc/passwd").Code)
}

// Under a Dispatcher, SharedData matches what is left in PATH_INFO.
func TestSharedDataMounted(t *testing.T) {
	_, public := mwSharedDataTree(t)
	fallback := &mwProbe{name: "app"}
	d := middleware.Dispatcher(&mwProbe{name: "root"}, map[string]gateway.Application{
		"/site": middleware.SharedData(fallback, "/static", public),
	})
	rec := mwGet(t, d, "GET", "/site/static/hello.txt")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, mwHello, rec.Body)
	assert.Equal(t, "app /site /static/missing", mwGet(t, d, "GET", "/site/static/missing").Body)
	assert.Equal(t, "root  /static/hello.txt", mwGet(t, d, "GET", "/static/hello.txt").Body)
}

func TestSharedDataBadSetupPanics(t *testing.T) {
	_, public := mwSharedDataTree(t)
	app := &mwProbe{name: "app"}
	for _, prefix := range []string{"static", "/static/", "/"} {
		v := mwPanic(func() { middleware.SharedData(app, prefix, public) })
		assert.Contains(t, fmt.Sprint(v), fmt.Sprintf("prefix %q", prefix))
	}
	missing := filepath.Join(public, "nope")
	v := mwPanic(func() { middleware.SharedData(app, "/static", missing) })
	assert.Contains(t, fmt.Sprint(v), fmt.Sprintf("root %q", missing))
	v = mwPanic(func() { middleware.SharedData(app, "/static", filepath.Join(public, "hello.txt")) })
	assert.Contains(t, fmt.Sprint(v), "middleware: SharedData: root")
	v = mwPanic(func() { middleware.SharedData(nil, "/static", public) })
	assert.Contains(t, fmt.Sprint(v), "middleware: SharedData")
}
