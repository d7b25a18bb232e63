package main

import (
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/internal/testutil"
)

// newTestApp returns the app on a database of its own in a temporary
// directory, closed when the test ends.
func newTestApp(t *testing.T, config ...vial.Config) *todoApp {
	t.Helper()
	cfg := vial.Config{"DATABASE": filepath.Join(t.TempDir(), "todo.db"), "TESTING": true}
	for _, c := range config {
		maps.Copy(cfg, c)
	}
	a := newApp(cfg)
	t.Cleanup(func() { a.Close() })
	return a
}

// errorBody is the JSON of an error response.
type errorBody struct {
	Code        int    `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// requireError checks that resp is a JSON error with that status, and
// returns its description.
func requireError(t *testing.T, resp *vial.TestResponse, code int) string {
	t.Helper()
	require.Equal(t, code, resp.StatusCode, resp.Text())
	require.Equal(t, "application/json", resp.Mimetype(), resp.Text())
	var e errorBody
	require.NoError(t, resp.JSON(&e))
	assert.Equal(t, code, e.Code)
	assert.Equal(t, http.StatusText(code), e.Name)
	assert.NotEmpty(t, e.Description)
	return e.Description
}

// create posts a todo and returns it.
func create(t *testing.T, c *vial.Client, title string, done bool) todo {
	t.Helper()
	resp := c.Post("/todos", vial.WithJSON(map[string]any{"title": title, "done": done}))
	require.Equal(t, 201, resp.StatusCode, resp.Text())
	var got todo
	require.NoError(t, resp.JSON(&got))
	return got
}

func TestDatabaseFromConfig(t *testing.T) {
	t.Setenv("TODO_DB", "")
	a := newApp(nil)
	defer a.Close()
	assert.Equal(t, "todo.db", a.Config["DATABASE"], "the default")

	t.Setenv("TODO_DB", "/srv/todo/todo.db")
	a = newApp(nil)
	defer a.Close()
	assert.Equal(t, "/srv/todo/todo.db", a.Config["DATABASE"], "from $TODO_DB")

	a = newApp(vial.Config{"DATABASE": "other.db"})
	defer a.Close()
	assert.Equal(t, "other.db", a.Config["DATABASE"], "the config passed in wins")
}

func TestCreate(t *testing.T) {
	c := newTestApp(t).TestClient()

	resp := c.Post("/todos", vial.WithJSON(map[string]any{"title": "  write the docs  "}))
	require.Equal(t, 201, resp.StatusCode, resp.Text())
	assert.Equal(t, "application/json", resp.Mimetype())
	assert.JSONEq(t, `{"id": 1, "title": "write the docs", "done": false}`, resp.Text(), "spaces trimmed, done false by default")
	assert.Equal(t, "http://localhost/todos/1", resp.Location(), "an absolute URL, built by URLFor")

	resp = c.Post("/todos", vial.WithJSON(map[string]any{"title": "ship", "done": true}))
	require.Equal(t, 201, resp.StatusCode, resp.Text())
	assert.JSONEq(t, `{"id": 2, "title": "ship", "done": true}`, resp.Text())
	assert.Equal(t, "http://localhost/todos/2", resp.Location())

	// The Location leads to the todo.
	resp = c.Get(resp.Location())
	require.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"id": 2, "title": "ship", "done": true}`, resp.Text())

	long := strings.Repeat("é", maxTitle) // characters, not bytes
	assert.Equal(t, 201, c.Post("/todos", vial.WithJSON(map[string]any{"title": long})).StatusCode)
}

func TestCreateRefusesBadInput(t *testing.T) {
	c := newTestApp(t).TestClient()
	json := func(body string) vial.RequestOption { return vial.WithBody("application/json", []byte(body)) }

	for _, tc := range []struct {
		name string
		body vial.RequestOption
		want string // in the description
	}{
		{"malformed", json(`{"title": "x",}`), "Failed to decode JSON object: invalid character '}'"},
		{"truncated", json(`{"title": "x"`), "unexpected end of JSON input"},
		{"empty body", json(``), "the body is empty"},
		{"two values", json(`{"title": "x"} {}`), "extra data after the JSON value"},
		{"not JSON", vial.WithBody("text/plain", []byte(`{"title": "x"}`)), "Content-Type was not 'application/json'"},
		{"an array", json(`[{"title": "x"}]`), "the body must be a JSON object such as {\"title\": \"…\", \"done\": false}, not an array"},
		{"null", json(`null`), "must be a JSON object"},
		{"missing title", json(`{"done": true}`), `title is required`},
		{"empty object", json(`{}`), `title is required`},
		{"empty title", json(`{"title": ""}`), "title must not be empty"},
		{"blank title", json(`{"title": " \t\n"}`), "title must not be empty"},
		{"long title", json(fmt.Sprintf(`{"title": %q}`, strings.Repeat("x", maxTitle+1))), "title is too long: 201 characters, at most 200"},
		{"title a number", json(`{"title": 42}`), "title must be a string, not a number"},
		{"title null", json(`{"title": null}`), "title must be a string, not null"},
		{"title an object", json(`{"title": {"text": "x"}}`), "title must be a string, not an object"},
		{"done a string", json(`{"title": "x", "done": "yes"}`), "done must be true or false, not a string"},
		{"done a number", json(`{"title": "x", "done": 1}`), "done must be true or false, not a number"},
		{"unknown field", json(`{"title": "x", "due": "tomorrow"}`), `unknown field "due": a todo has only title and done`},
		{"misspelt field", json(`{"tilte": "x"}`), `unknown field "tilte"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desc := requireError(t, c.Post("/todos", tc.body), 400)
			assert.Contains(t, desc, tc.want)
		})
	}
	assert.Equal(t, "[]\n", c.Get("/todos").Text(), "nothing was created")
}

func TestGet(t *testing.T) {
	c := newTestApp(t).TestClient()
	create(t, c, "one", false)

	resp := c.Get("/todos/1")
	require.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"id": 1, "title": "one", "done": false}`, resp.Text())

	assert.Equal(t, "todo 2 does not exist", requireError(t, c.Get("/todos/2"), 404))
	assert.Contains(t, requireError(t, c.Get("/todos/abc"), 404), "The requested URL was not found",
		"an id that is not an int matches no rule")
}

func TestList(t *testing.T) {
	c := newTestApp(t).TestClient()

	resp := c.Get("/todos")
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Mimetype())
	assert.JSONEq(t, `[]`, resp.Text(), "an empty list, not null")

	create(t, c, "a", false)
	create(t, c, "b", true)
	create(t, c, "c", false)

	assert.JSONEq(t, `[{"id": 1, "title": "a", "done": false}, {"id": 2, "title": "b", "done": true},
		{"id": 3, "title": "c", "done": false}]`, c.Get("/todos").Text())
	assert.JSONEq(t, `[{"id": 2, "title": "b", "done": true}]`, c.Get("/todos?done=true").Text())
	assert.JSONEq(t, `[{"id": 1, "title": "a", "done": false}, {"id": 3, "title": "c", "done": false}]`,
		c.Get("/todos", vial.WithQuery("done", "false")).Text())

	assert.Equal(t, `done must be true or false, not "maybe"`, requireError(t, c.Get("/todos?done=maybe"), 400))
}

func TestUpdate(t *testing.T) {
	c := newTestApp(t).TestClient()
	create(t, c, "draft", false)

	resp := c.Patch("/todos/1", vial.WithJSON(map[string]any{"done": true}))
	require.Equal(t, 200, resp.StatusCode, resp.Text())
	assert.JSONEq(t, `{"id": 1, "title": "draft", "done": true}`, resp.Text(), "the title is kept")

	resp = c.Patch("/todos/1", vial.WithJSON(map[string]any{"title": " final "}))
	assert.JSONEq(t, `{"id": 1, "title": "final", "done": true}`, resp.Text(), "done is kept")

	resp = c.Patch("/todos/1", vial.WithJSON(map[string]any{"title": "again", "done": false}))
	assert.JSONEq(t, `{"id": 1, "title": "again", "done": false}`, resp.Text())

	resp = c.Patch("/todos/1", vial.WithJSON(map[string]any{}))
	require.Equal(t, 200, resp.StatusCode, "an empty patch changes nothing")
	assert.JSONEq(t, `{"id": 1, "title": "again", "done": false}`, resp.Text())

	assert.JSONEq(t, `{"id": 1, "title": "again", "done": false}`, c.Get("/todos/1").Text(), "stored")

	assert.Equal(t, "todo 9 does not exist", requireError(t, c.Patch("/todos/9", vial.WithJSON(map[string]any{"done": true})), 404))
	assert.Equal(t, "title must not be empty", requireError(t, c.Patch("/todos/1", vial.WithJSON(map[string]any{"title": ""})), 400))
	assert.Contains(t, requireError(t, c.Patch("/todos/1", vial.WithJSON(map[string]any{"done": "no"})), 400), "done must be true or false")
	assert.Contains(t, requireError(t, c.Patch("/todos/1", vial.WithJSON(map[string]any{"id": 2})), 400), `unknown field "id"`)
	assert.Contains(t, requireError(t, c.Patch("/todos/1", vial.WithBody("application/json", []byte("{"))), 400), "Failed to decode JSON object")
	assert.JSONEq(t, `{"id": 1, "title": "again", "done": false}`, c.Get("/todos/1").Text(), "refused patches change nothing")
}

func TestDelete(t *testing.T) {
	c := newTestApp(t).TestClient()
	create(t, c, "a", false)
	create(t, c, "b", false)

	resp := c.Delete("/todos/1")
	assert.Equal(t, 204, resp.StatusCode)
	assert.Empty(t, resp.Body)

	requireError(t, c.Get("/todos/1"), 404)
	assert.Equal(t, "todo 1 does not exist", requireError(t, c.Delete("/todos/1"), 404), "deleting twice")
	assert.JSONEq(t, `[{"id": 2, "title": "b", "done": false}]`, c.Get("/todos").Text())

	assert.Equal(t, int64(3), create(t, c, "c", false).ID, "ids are not reused")
}

func TestErrorsAreJSON(t *testing.T) {
	c := newTestApp(t).TestClient()

	assert.Contains(t, requireError(t, c.Get("/nowhere"), 404), "The requested URL was not found on the server.")

	resp := c.Put("/todos/1")
	assert.Equal(t, "The method is not allowed for the requested URL.", requireError(t, resp, 405))
	assert.Equal(t, "DELETE, GET, HEAD, OPTIONS, PATCH", resp.Header.Get("Allow"), "the 405's Allow header is kept")
	resp = c.Delete("/todos")
	requireError(t, resp, 405)
	assert.Equal(t, "GET, HEAD, OPTIONS, POST", resp.Header.Get("Allow"))
}

// TestServerError checks that an unexpected failure is a 500 in JSON that
// says nothing about its cause, and that the cause is logged. TESTING is
// off: in testing mode errors propagate to the test, as in Flask.
func TestServerError(t *testing.T) {
	var log testutil.SyncBuffer
	quiet := func(a *todoApp) { a.Logger = slog.New(slog.NewTextHandler(&log, nil)) }

	t.Run("no database", func(t *testing.T) {
		// The database's directory does not exist: creating the schema,
		// before the first request, fails.
		a := newTestApp(t, vial.Config{"TESTING": false, "DATABASE": filepath.Join(t.TempDir(), "missing", "todo.db")})
		quiet(a)
		c := a.TestClient()
		for range 2 { // the next request tries again, and fails again
			resp := c.Get("/todos")
			desc := requireError(t, resp, 500)
			assert.Contains(t, desc, "The server encountered an internal error")
			assert.NotContains(t, desc, "missing", "the cause is not shown to the client")
			assert.NotEmpty(t, resp.Header.Get("X-Request-ID"), "after-request hooks run for a 500 too")
		}
		assert.Contains(t, log.String(), "creating the schema in "+a.Config.String("DATABASE"))
	})

	t.Run("query fails", func(t *testing.T) {
		a := newTestApp(t, vial.Config{"TESTING": false})
		quiet(a)
		c := a.TestClient()
		create(t, c, "a", false)
		_, err := a.db.Exec("DROP TABLE todos") // behind the app's back
		require.NoError(t, err)

		desc := requireError(t, c.Get("/todos/1"), 500)
		assert.NotContains(t, desc, "todos")
		assert.Contains(t, log.String(), "no such table: todos")
		assert.Zero(t, a.db.Stats().InUse, "the connection went back to the pool")
	})
}

func TestRequestID(t *testing.T) {
	c := newTestApp(t).TestClient()

	resp := c.Get("/todos", vial.WithHeader("X-Request-ID", "abc-123"))
	assert.Equal(t, "abc-123", resp.Header.Get("X-Request-ID"), "the client's is kept")

	seen := map[string]bool{}
	for _, resp := range []*vial.TestResponse{
		c.Get("/todos"),
		c.Get("/nowhere"),
		c.Post("/todos", vial.WithJSON(map[string]any{"title": ""})),
		c.Post("/todos", vial.WithJSON(map[string]any{"title": "x"})),
		c.Get("/todos", vial.WithHeader("X-Request-ID", strings.Repeat("x", 129))),
		c.Get("/todos", vial.WithHeader("X-Request-ID", "two words")),
	} {
		id := resp.Header.Get("X-Request-ID")
		assert.Len(t, id, 26, "generated: %d %s", resp.StatusCode, resp.Request.URL) // rand.Text
		assert.False(t, seen[id], "a new one each time")
		seen[id] = true
	}
}

// TestConnectionPerRequest checks that every request gives its connection
// back, whatever its outcome, and that concurrent requests each get their
// own.
func TestConnectionPerRequest(t *testing.T) {
	a := newTestApp(t)
	// Registered after the app's own hooks: a request's connection is in
	// r.G here, and is still its own in the teardown, which runs first.
	var mu sync.Mutex
	inUse := map[*sql.Conn]bool{}
	shared, peak := 0, 0
	a.BeforeRequest(func(r *vial.Request) any {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := r.G.Get("db").(*sql.Conn); ok {
			if inUse[c] {
				shared++
			}
			inUse[c] = true
			peak = max(peak, len(inUse))
		}
		return nil
	})
	a.TeardownRequest(func(r *vial.Request, err error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := r.G.Get("db").(*sql.Conn); ok {
			delete(inUse, c)
		}
	})
	c := a.TestClient()

	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp := c.Post("/todos", vial.WithJSON(map[string]any{"title": fmt.Sprint("todo ", i)}))
			assert.Equal(t, 201, resp.StatusCode, resp.Text())
			c.Get("/todos")
			c.Get(fmt.Sprintf("/todos/%d", i+1))
		})
	}
	wg.Wait()
	var todos []todo
	require.NoError(t, c.Get("/todos").JSON(&todos))
	assert.Len(t, todos, n)

	c.Post("/todos", vial.WithBody("application/json", []byte("{")))
	c.Get("/todos/999")
	c.Delete("/todos/1")
	stats := a.db.Stats()
	assert.Zero(t, stats.InUse, "every connection went back to the pool")
	assert.Positive(t, stats.OpenConnections)
	assert.Zero(t, shared, "two requests held one connection at once")
	assert.Greater(t, peak, 1, "no two requests ran at once: this test checked nothing")
}
