// Command todo is a JSON web service on SQLite, written as a Flask user
// writes one: the database path in the config, a connection per request
// opened by a before-request hook and released by a teardown hook, JSON
// errors from an error handler.
//
//	GET    /todos              the list; ?done=true or ?done=false filters it
//	POST   /todos              {"title": "…", "done": false} → 201, Location: the new todo
//	GET    /todos/<int:id>     one todo, or a 404
//	PATCH  /todos/<int:id>     {"title": "…"}, {"done": true} or both
//	DELETE /todos/<int:id>     204
//
// Run it (it has its own go.mod, so that its SQLite driver,
// modernc.org/sqlite, pure Go, stays out of the framework's):
//
//	cd examples/todo
//	TODO_DB=/tmp/todo.db go run . run --port 5000
//	curl -i -H 'Content-Type: application/json' -d '{"title": "write docs"}' http://127.0.0.1:5000/todos
//	curl http://127.0.0.1:5000/todos?done=false
//
// The database is the file Config["DATABASE"] names: $TODO_DB, else
// todo.db in the working directory. Its table is created on the first
// request. Every response carries an X-Request-ID: the client's, when it
// sent a usable one, else a new one.
//
// The tests run in-process with the test client, each on a database of its
// own, and run the built program as a process. From the repository's root,
// whose go.work includes this module:
//
//	go test -race -count=1 ./examples/todo/...
package main

import (
	"cmp"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vial-go/vial"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// maxTitle is the longest title accepted, in characters.
const maxTitle = 200

const schema = `
CREATE TABLE IF NOT EXISTS todos (
	id    INTEGER PRIMARY KEY AUTOINCREMENT,
	title TEXT    NOT NULL,
	done  INTEGER NOT NULL DEFAULT 0
)`

// A todoApp is the application with its database. The App is embedded, so
// a todoApp is served, tested and run (Main) as the App itself.
type todoApp struct {
	*vial.App
	// db is the connection pool; each request borrows a connection from it
	// (see connect).
	db *sql.DB
}

// newApp builds the application: Flask's create_app. config overrides the
// defaults, as app.config.from_mapping does; DATABASE defaults to $TODO_DB,
// else "todo.db". Nothing touches the database until the first request, so
// `todo routes` creates no file.
func newApp(config vial.Config) *todoApp {
	app := vial.New("todo")
	app.Config["DATABASE"] = cmp.Or(os.Getenv("TODO_DB"), "todo.db")
	maps.Copy(app.Config, config)

	// sql.Open only checks its arguments: the file is opened with the
	// first connection.
	db, err := sql.Open("sqlite", dsn(app.Config.String("DATABASE")))
	if err != nil {
		panic(err) // only for an unknown driver name: a programming error
	}
	a := &todoApp{App: app, db: db}

	app.BeforeFirstRequest(a.createSchema)
	app.BeforeRequest(a.connect)
	app.TeardownRequest(release)
	app.AfterRequest(requestID)
	app.ErrorHandler((*vial.HTTPError)(nil), jsonError)

	app.Get("/todos", listTodos)
	app.Post("/todos", createTodo)
	app.Get("/todos/<int:id>", getTodo)
	app.Patch("/todos/<int:id>", updateTodo)
	app.Delete("/todos/<int:id>", deleteTodo)
	return a
}

// dsn is the data source name for the file at path: SQLite waits up to
// five seconds for a lock instead of failing at once with "database is
// locked", and the write-ahead log lets readers and a writer work at the
// same time, which matters once the pool holds several connections. (The
// driver reads its parameters after a '?', so the path must not hold one.)
func dsn(path string) string {
	return path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
}

// Close closes the connection pool.
func (a *todoApp) Close() error { return a.db.Close() }

// createSchema creates the table, once, before the first request. If it
// fails, that request gets a 500 and the next one tries again.
func (a *todoApp) createSchema() {
	if _, err := a.db.Exec(schema); err != nil {
		panic(fmt.Errorf("creating the schema in %s: %w", a.Config.String("DATABASE"), err))
	}
}

// connect borrows a connection from the pool for the request and keeps it
// in r.G, where the views find it (conn). A request that matched no rule
// (a 404 or 405) needs none.
func (a *todoApp) connect(r *vial.Request) any {
	if r.URLRule == nil {
		return nil
	}
	c, err := a.db.Conn(r.Context())
	if err != nil {
		return fmt.Errorf("connecting to the database: %w", err) // a 500
	}
	r.G.Set("db", c)
	return nil
}

// release gives the request's connection back to the pool, once the
// response has been sent, whether the request succeeded or not.
func release(r *vial.Request, err error) {
	if c, ok := r.G.Pop("db").(*sql.Conn); ok {
		c.Close()
	}
}

// conn returns the request's database connection.
func conn(r *vial.Request) *sql.Conn { return r.G.Get("db").(*sql.Conn) }

// requestID gives every response an X-Request-ID: the one the client (or a
// proxy in front) sent, if it is usable, else a new random one.
func requestID(r *vial.Request, resp *vial.Response) *vial.Response {
	id := r.Header.Get("X-Request-ID")
	if !validRequestID(id) {
		id = rand.Text()
	}
	resp.Header.Set("X-Request-ID", id)
	return resp
}

// validRequestID accepts 1 to 128 visible ASCII characters, so that a
// request ID can be logged and echoed without surprises.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// jsonError answers every HTTP error (400, 404, 405, 500 …) in JSON, in the
// shape of Flask's documented JSON error handler:
//
//	{"code": 404, "name": "Not Found", "description": "todo 7 does not exist"}
//
// The error's headers (Allow for a 405) are kept. A 500 says nothing about
// its cause: the error is in the log.
func jsonError(r *vial.Request, err error) any {
	var he *vial.HTTPError
	errors.As(err, &he)
	return vial.MakeResponse(map[string]any{
		"code":        he.Code,
		"name":        he.Name(),
		"description": he.GetDescription(),
	}, he.Code, he.Header)
}

// A todo is one item of the list, as stored and as sent.
type todo struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Done  bool   `json:"done"`
}

func listTodos(r *vial.Request) any {
	query, args := "SELECT id, title, done FROM todos ORDER BY id", []any{}
	if v := r.Args().Get("done"); v != "" {
		done, err := strconv.ParseBool(v)
		if err != nil {
			return vial.Abort(400, fmt.Sprintf("done must be true or false, not %q", v))
		}
		query, args = "SELECT id, title, done FROM todos WHERE done = ? ORDER BY id", []any{done}
	}
	rows, err := conn(r).QueryContext(r.Context(), query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	todos := []todo{} // [] rather than null when there are none
	for rows.Next() {
		var t todo
		if err := rows.Scan(&t.ID, &t.Title, &t.Done); err != nil {
			return err
		}
		todos = append(todos, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return todos
}

func createTodo(r *vial.Request) any {
	var in todoFields
	if err := r.JSON(&in); err != nil {
		return err // a 400 saying what is wrong with the body
	}
	if in.Title == nil {
		return vial.Abort(400, `title is required: send {"title": "…"}`)
	}
	if err := in.check(); err != nil {
		return err
	}
	t := todo{Title: *in.Title, Done: in.Done != nil && *in.Done}
	err := conn(r).QueryRowContext(r.Context(),
		"INSERT INTO todos (title, done) VALUES (?, ?) RETURNING id", t.Title, t.Done).Scan(&t.ID)
	if err != nil {
		return err
	}
	location := r.URLFor("getTodo", "id", t.ID, vial.External(true))
	return vial.MakeResponse(vial.JSON(t), 201, map[string]string{"Location": location})
}

func getTodo(r *vial.Request) any {
	id := r.ViewArgs["id"].(int)
	var t todo
	err := conn(r).QueryRowContext(r.Context(),
		"SELECT id, title, done FROM todos WHERE id = ?", id).Scan(&t.ID, &t.Title, &t.Done)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(id)
	}
	if err != nil {
		return err
	}
	return vial.JSON(t)
}

// updateTodo changes the fields the body gives and leaves the others: {}
// changes nothing.
func updateTodo(r *vial.Request) any {
	id := r.ViewArgs["id"].(int)
	var in todoFields
	if err := r.JSON(&in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	// One statement, so that concurrent PATCHes of different fields do not
	// undo each other: a NULL parameter keeps the column as it is.
	var t todo
	err := conn(r).QueryRowContext(r.Context(),
		`UPDATE todos SET title = coalesce(?, title), done = coalesce(?, done)
		 WHERE id = ? RETURNING id, title, done`,
		in.Title, in.Done, id).Scan(&t.ID, &t.Title, &t.Done)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(id)
	}
	if err != nil {
		return err
	}
	return vial.JSON(t)
}

func deleteTodo(r *vial.Request) any {
	id := r.ViewArgs["id"].(int)
	res, err := conn(r).ExecContext(r.Context(), "DELETE FROM todos WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound(id)
	}
	return vial.MakeResponse("", 204)
}

func notFound(id int) error {
	return vial.Abort(404, fmt.Sprintf("todo %d does not exist", id))
}

// todoFields is the body of POST and PATCH: {"title": string, "done": bool},
// each field optional here (createTodo requires the title). A nil field was
// not sent.
type todoFields struct {
	Title *string
	Done  *bool
}

// UnmarshalJSON accepts an object with no other fields than "title", a
// string, and "done", a boolean; null is not a value for either. A typo in
// a field name or a wrong type is an error that says so, not a silent
// default. Request.JSON reports the error as a 400 ("Failed to decode JSON
// object: …"), after its own check that the body is well-formed JSON.
func (f *todoFields) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return fmt.Errorf(`the body must be a JSON object such as {"title": "…", "done": false}, not %s`, jsonKind(data))
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		raw := fields[name]
		switch name {
		case "title":
			var s string
			if json.Unmarshal(raw, &s) != nil || string(raw) == "null" {
				return fmt.Errorf("title must be a string, not %s", jsonKind(raw))
			}
			f.Title = &s
		case "done":
			var b bool
			if json.Unmarshal(raw, &b) != nil || string(raw) == "null" {
				return fmt.Errorf("done must be true or false, not %s", jsonKind(raw))
			}
			f.Done = &b
		default:
			return fmt.Errorf("unknown field %q: a todo has only title and done", name)
		}
	}
	return nil
}

// check validates the title, when there is one, and trims its spaces.
func (f *todoFields) check() error {
	if f.Title == nil {
		return nil
	}
	title := strings.TrimSpace(*f.Title)
	if title == "" {
		return vial.Abort(400, "title must not be empty")
	}
	if n := utf8.RuneCountInString(title); n > maxTitle {
		return vial.Abort(400, fmt.Sprintf("title is too long: %d characters, at most %d", n, maxTitle))
	}
	f.Title = &title
	return nil
}

// jsonKind names the kind of a well-formed JSON value: "a number".
func jsonKind(data []byte) string {
	s := strings.TrimSpace(string(data))
	switch {
	case s == "null":
		return "null"
	case s == "true" || s == "false":
		return "a boolean"
	case strings.HasPrefix(s, `"`):
		return "a string"
	case strings.HasPrefix(s, "["):
		return "an array"
	case strings.HasPrefix(s, "{"):
		return "an object"
	}
	return "a number"
}

func main() {
	newApp(nil).Main()
}
