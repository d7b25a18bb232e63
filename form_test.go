package vial_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
)

// formApp answers /form with the number of fields and the length of the
// field "big", and /files with the uploaded file's size.
func formApp(t *testing.T) *vial.App {
	app := vial.New("forms")
	app.Post("/form", func(r *vial.Request) any {
		return fmt.Sprintf("%d fields, big %d", len(r.Form()), len(r.Form().Get("big")))
	})
	app.Post("/files", func(r *vial.Request) any {
		f := r.File("upload")
		require.NotNil(t, f)
		return fmt.Sprintf("%s %d, note %q", f.Filename, f.Size, r.Form().Get("note"))
	})
	return app
}

func urlencodedFields(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "f%d=v", i)
	}
	return b.String()
}

func TestURLEncodedFormLimits(t *testing.T) {
	app := formApp(t)
	c := app.TestClient()
	post := func(body string) *vial.TestResponse {
		return c.Post("/form", vial.WithBody("application/x-www-form-urlencoded", []byte(body)))
	}

	resp := post("big=" + strings.Repeat("x", 500_000-len("big=")))
	assert.Equal(t, 200, resp.StatusCode, "a body of exactly MAX_FORM_MEMORY_SIZE")
	resp = post("big=" + strings.Repeat("x", 500_000))
	assert.Equal(t, 413, resp.StatusCode, "past MAX_FORM_MEMORY_SIZE")
	assert.Contains(t, resp.Text(), "MAX_FORM_MEMORY_SIZE")

	assert.Equal(t, "1000 fields, big 0", post(urlencodedFields(1000)).Text())
	resp = post(urlencodedFields(1001))
	assert.Equal(t, 413, resp.StatusCode, "past MAX_FORM_PARTS")
	assert.Contains(t, resp.Text(), "MAX_FORM_PARTS")

	app.Config["MAX_FORM_PARTS"] = 5
	app.Config["MAX_FORM_MEMORY_SIZE"] = nil
	assert.Equal(t, 413, post(urlencodedFields(6)).StatusCode, "the limits come from the config")
	assert.Equal(t, "1 fields, big 2000000", post("big="+strings.Repeat("x", 2_000_000)).Text(), "nil: no limit")
}

// Without a Content-Length the limit holds as the body is read: the App
// stops reading past it, so a huge form costs what the limit allows.
func TestURLEncodedFormOfUnknownLengthStopsAtTheLimit(t *testing.T) {
	app := formApp(t)
	body := &countingReader{r: strings.NewReader(urlencodedFields(1_000_000))}
	before := allocated()
	resp := app.TestClient().Post("/form", vial.WithEnviron(func(env *gateway.Environ) {
		env.ContentType = "application/x-www-form-urlencoded"
		env.Input = body
	}))
	grown := allocated() - before
	assert.Equal(t, 413, resp.StatusCode)
	assert.Less(t, body.n, int64(600_000), "the App read no further than the limit")
	assert.Less(t, grown, uint64(4<<20), "memory for the rejected body stays within a few MiB")
}

func TestMultipartFormLimits(t *testing.T) {
	app := formApp(t)
	c := app.TestClient()

	resp := c.Post("/form", vial.WithFormValue("big", strings.Repeat("x", 500_000)), vial.WithFile("f", "f.txt", []byte("x")))
	require.Equal(t, "1 fields, big 500000", resp.Text(), "a field of exactly MAX_FORM_MEMORY_SIZE")
	resp = c.Post("/form", vial.WithFormValue("big", strings.Repeat("x", 500_001)), vial.WithFile("f", "f.txt", []byte("x")))
	assert.Equal(t, 413, resp.StatusCode, "a field past MAX_FORM_MEMORY_SIZE")

	big := bytes.Repeat([]byte("0123456789"), 200_000)
	resp = c.Post("/files", vial.WithFile("upload", "big.bin", big), vial.WithFormValue("note", "hi"))
	assert.Equal(t, `big.bin 2000000, note "hi"`, resp.Text(), "files are not held to the field limit")

	many := url.Values{}
	for i := range 1000 {
		many.Set(fmt.Sprint("f", i), "v")
	}
	resp = c.Post("/form", vial.WithForm(many), vial.WithFile("f", "f.txt", []byte("x")))
	assert.Equal(t, 413, resp.StatusCode, "1,001 parts")
	many.Del("f0")
	resp = c.Post("/form", vial.WithForm(many), vial.WithFile("f", "f.txt", []byte("x")))
	assert.Equal(t, "999 fields, big 0", resp.Text(), "1,000 parts")

	app.Config["MAX_FORM_PARTS"] = 2
	resp = c.Post("/form", vial.WithFormValue("a", "1"), vial.WithFormValue("b", "2"), vial.WithFile("f", "f.txt", []byte("x")))
	assert.Equal(t, 413, resp.StatusCode, "the part limit comes from the config")
}

// A multipart body that rejected a field leaves no temporary file behind,
// nor does one that was read whole (the App removes them at teardown).
func TestMultipartSpoolIsRemoved(t *testing.T) {
	app := formApp(t)
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	c := app.TestClient()
	c.Post("/files", vial.WithFile("upload", "big.bin", make([]byte, 3<<20)), vial.WithFormValue("note", "x"))
	c.Post("/files", vial.WithFile("upload", "a.bin", []byte("a")), vial.WithFormValue("note", strings.Repeat("x", 600_000)))
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "temporary files left behind")
}

func TestMultipartContentTypeThatFailsToParseIsA400(t *testing.T) {
	app := formApp(t)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	require.NoError(t, w.WriteField("a", "1"))
	require.NoError(t, w.Close())
	for _, ct := range []string{
		`multipart/form-data; boundary="unterminated`,
		`multipart/form-data; boundary`,
		`multipart/form-data; =x`,
		`multipart/form-data`,
	} {
		resp := app.TestClient().Post("/form", vial.WithBody(ct, body.Bytes()))
		assert.Equal(t, 400, resp.StatusCode, ct)
	}
	resp := app.TestClient().Post("/form", vial.WithBody(w.FormDataContentType(), body.Bytes()))
	assert.Equal(t, "1 fields, big 0", resp.Text())
}

func TestQueryStringFieldsAreBounded(t *testing.T) {
	app := vial.New("args")
	app.Get("/", func(r *vial.Request) any { return fmt.Sprint(len(r.Args())) })
	c := app.TestClient()
	assert.Equal(t, "10000", c.Get("/?"+urlencodedFields(10_000)).Text())
	assert.Equal(t, 400, c.Get("/?"+urlencodedFields(10_001)).StatusCode)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// allocated is the bytes allocated so far by the whole process.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// A body read whole first (Data) is still held to the form limit by Form,
// and Data goes on returning it.
func TestFormLimitHoldsAfterData(t *testing.T) {
	app := vial.New("data-then-form")
	app.Config["MAX_FORM_MEMORY_SIZE"] = 10
	app.Post("/", func(r *vial.Request) any {
		data := r.Data()
		err := r.ParseForm()
		return fmt.Sprintf("%d %v %d", len(data), err != nil, len(r.Data()))
	})
	resp := app.TestClient().Post("/", vial.WithBody("application/x-www-form-urlencoded", []byte("big=0123456789")))
	assert.Equal(t, "14 true 14", resp.Text())
}
