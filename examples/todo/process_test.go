package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/internal/testutil"
)

// TestProcess builds the program, runs it as a user does (`todo run --port
// N`, the database in $TODO_DB), and talks to it over HTTP with a real
// client; then interrupts it, as Ctrl+C does, and expects a clean exit.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program; -short skips it")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "todo.db")
	require.NoError(t, os.Mkdir(filepath.Dir(db), 0o755))
	p := testutil.Start(t, testutil.Build(t, "."), []string{"TODO_DB=" + db}, "run")
	base := "http://" + p.Addr

	client := &http.Client{Timeout: 10 * time.Second}
	do := func(method, url, body string) (*http.Response, []byte) {
		t.Helper()
		var header []string
		if body != "" {
			header = []string{"Content-Type", "application/json"}
		}
		resp, data := testutil.Fetch(t, client, method, url, strings.NewReader(body), header...)
		return resp, []byte(data)
	}

	resp, body := do("POST", base+"/todos", `{"title": "try the real thing"}`)
	require.Equal(t, 201, resp.StatusCode, string(body))
	assert.JSONEq(t, `{"id": 1, "title": "try the real thing", "done": false}`, string(body))
	location := resp.Header.Get("Location")
	assert.Equal(t, base+"/todos/1", location, "the host and port the client used")
	assert.NotEmpty(t, resp.Header.Get("X-Request-ID"))

	resp, body = do("GET", location, "")
	require.Equal(t, 200, resp.StatusCode, string(body))
	assert.JSONEq(t, `{"id": 1, "title": "try the real thing", "done": false}`, string(body))

	do("POST", base+"/todos", `{"title": "and another", "done": true}`)
	resp, body = do("GET", base+"/todos?done=false", "")
	require.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `[{"id": 1, "title": "try the real thing", "done": false}]`, string(body))

	resp, body = do("DELETE", location, "")
	assert.Equal(t, 204, resp.StatusCode)
	assert.Empty(t, body)

	resp, body = do("GET", location, "")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var e errorBody
	require.NoError(t, json.Unmarshal(body, &e))
	assert.Equal(t, "todo 1 does not exist", e.Description)

	// Ctrl+C: a graceful shutdown, exit status 0.
	require.NoError(t, p.Interrupt(t), "the program's output:\n%s", p.Output)
	assert.Contains(t, p.Output.String(), `"POST /todos HTTP/1.1" 201`, "the access log")

	// What the program stored is in the file.
	a := newApp(map[string]any{"DATABASE": db})
	defer a.Close()
	assert.JSONEq(t, `[{"id": 2, "title": "and another", "done": true}]`, a.TestClient().Get("/todos").Text())
}
