package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"
)

// TestProgram builds hello, runs it as the README says (`hello run`), and
// talks to it with a real HTTP client; Ctrl+C stops it cleanly.
func TestProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program; -short skips it")
	}
	p := testutil.Start(t, testutil.Build(t, "."), nil, "run")
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + p.Addr + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, body := get("/")
	assert.Equal(t, 200, code)
	assert.Equal(t, "Hello, World!", body)
	_, body = get("/user/3")
	assert.JSONEq(t, `{"id": 3, "self": "http://`+p.Addr+`/user/3"}`, body)
	code, _ = get("/user/0")
	assert.Equal(t, 404, code)

	assert.NoError(t, p.Interrupt(t), "Ctrl+C is a clean exit")
	out := p.Output.String()
	assert.Contains(t, out, "Serving vial app 'hello'")
	assert.Regexp(t, `"GET /user/3 HTTP/1\.1" 200 -`, out)
}
