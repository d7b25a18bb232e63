package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

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
		resp, body := testutil.Fetch(t, nil, "GET", "http://"+p.Addr+path, nil)
		return resp.StatusCode, body
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
