package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/internal/testutil"
)

const token = "t0ken"

// client returns a test client of a new App whose admin token is token.
func client(t *testing.T) *vial.Client {
	t.Helper()
	app := newApp()
	app.Config["ADMIN_TOKEN"] = token
	return app.TestClient()
}

func asAdmin() vial.RequestOption { return vial.WithHeader("Authorization", "Bearer "+token) }

// The App's index links to the blueprints' endpoints, built with URLFor.
func TestIndexLinksToTheBlueprints(t *testing.T) {
	resp := client(t).Get("/")
	require.Equal(t, 200, resp.StatusCode)
	for _, href := range []string{`href="/api/"`, `href="/api/v1/notes"`, `href="/admin/"`} {
		assert.Contains(t, resp.Text(), href)
	}
}

// ".v1.list" in a view of api is api.v1.list.
func TestAPIIndexLinksToTheNestedBlueprint(t *testing.T) {
	resp := client(t).Get("/api/")
	require.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"versions": {"v1": "/api/v1/notes"}}`, resp.Text())
}

// A note POSTed to the v1 API is created (201, Location), listed and got,
// its URL built relative to v1 (".get").
func TestNotesCreateListGet(t *testing.T) {
	c := client(t)
	assert.JSONEq(t, `{"notes": []}`, c.Get("/api/v1/notes").Text())

	resp := c.Post("/api/v1/notes", vial.WithJSON(map[string]string{"text": "buy milk"}))
	require.Equal(t, 201, resp.StatusCode, resp.Text())
	assert.Equal(t, "/api/v1/notes/1", resp.Location())
	assert.JSONEq(t, `{"id": 1, "text": "buy milk", "url": "/api/v1/notes/1"}`, resp.Text())
	c.Post("/api/v1/notes", vial.WithJSON(map[string]string{"text": "call Ann"}))

	assert.JSONEq(t, `{"notes": [
		{"id": 1, "text": "buy milk", "url": "/api/v1/notes/1"},
		{"id": 2, "text": "call Ann", "url": "/api/v1/notes/2"}]}`, c.Get("/api/v1/notes").Text())
	resp = c.Get("/api/v1/notes/2")
	require.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"id": 2, "text": "call Ann", "url": "/api/v1/notes/2"}`, resp.Text())
}

// A body that is not a note is a 400, in JSON: api's handler by type
// answers for v1's views.
func TestNotesBadBodyIsAJSON400(t *testing.T) {
	c := client(t)
	for name, opt := range map[string]vial.RequestOption{
		"not JSON":   vial.WithBody("text/plain", []byte("buy milk")),
		"malformed":  vial.WithBody("application/json", []byte(`{"text": `)),
		"empty text": vial.WithJSON(map[string]string{"text": " "}),
	} {
		resp := c.Post("/api/v1/notes", opt)
		assert.Equal(t, 400, resp.StatusCode, name)
		assert.Equal(t, "application/json", resp.Mimetype(), name)
		var body map[string]string
		require.NoError(t, resp.JSON(&body), name)
		assert.Equal(t, "Bad Request", body["error"], name)
		assert.NotEmpty(t, body["description"], name)
	}
	assert.JSONEq(t, `{"notes": []}`, c.Get("/api/v1/notes").Text(), "nothing was created")
}

// vial.Abort(404) in a view of v1 is answered by api's JSON handler; a URL
// under /api that matched no rule is no blueprint's, and gets the App's
// HTML page.
func TestAPI404IsJSONButAnUnmatchedURLGetsTheApps(t *testing.T) {
	c := client(t)
	resp := c.Get("/api/v1/notes/42")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Mimetype())
	assert.JSONEq(t, `{"error": "Not Found", "description": "there is no note 42"}`, resp.Text())

	for _, path := range []string{"/api/nothing", "/api/v1/notes/abc", "/api/v2/notes"} {
		resp = c.Get(path)
		assert.Equal(t, 404, resp.StatusCode, path)
		assert.Equal(t, "text/html", resp.Mimetype(), path)
		assert.Contains(t, resp.Text(), "Nothing at "+path, path)
	}
}

// admin's check refuses a request without the token (401, with
// WWW-Authenticate) and with a wrong one (403); the view and its decorator
// do not run then. With the token, the decorated view answers.
func TestAdminNeedsTheToken(t *testing.T) {
	c := client(t)
	resp := c.Get("/admin/")
	assert.Equal(t, 401, resp.StatusCode)
	assert.Equal(t, `Bearer realm="admin"`, resp.Header.Get("WWW-Authenticate"))
	assert.Empty(t, resp.Header.Get("Server-Timing"), "the check answered before the decorated view")
	for _, auth := range []string{"Bearer ", "Basic dDBrZW4=", token} {
		assert.Equal(t, 401, c.Get("/admin/", vial.WithHeader("Authorization", auth)).StatusCode, "no bearer token: %q", auth)
	}

	resp = c.Get("/admin/", vial.WithHeader("Authorization", "Bearer guess"))
	assert.Equal(t, 403, resp.StatusCode)
	assert.Equal(t, 403, c.Delete("/admin/notes/1", vial.WithHeader("Authorization", "Bearer guess")).StatusCode,
		"every view of admin is checked")

	resp = c.Get("/admin/", asAdmin())
	require.Equal(t, 200, resp.StatusCode, resp.Text())
	assert.Contains(t, resp.Text(), "<p>0 notes</p>")
	assert.Regexp(t, `^view;dur=\d+\.\d{3}$`, resp.Header.Get("Server-Timing"), "admin.Decorate wraps its views")
}

// Without a configured token, admin is closed to everyone.
func TestAdminWithoutAConfiguredTokenRefusesAll(t *testing.T) {
	app := newApp()
	app.Config["ADMIN_TOKEN"] = ""
	for _, given := range []string{"x", token} {
		assert.Equal(t, 403, app.TestClient().Get("/admin/", vial.WithHeader("Authorization", "Bearer "+given)).StatusCode, given)
	}
}

// admin's before-request check and decorator are admin's only: the App's
// and api's views need no token and get no Server-Timing.
func TestAdminHooksAreScopedToAdmin(t *testing.T) {
	c := client(t)
	for _, path := range []string{"/", "/api/", "/api/v1/notes"} {
		resp := c.Get(path)
		assert.Equal(t, 200, resp.StatusCode, path)
		assert.Empty(t, resp.Header.Get("Server-Timing"), path)
	}
	assert.Equal(t, 201, c.Post("/api/v1/notes", vial.WithJSON(map[string]string{"text": "x"})).StatusCode)
}

// admin deletes a note of the store it shares with the API; its 404 is the
// App's, for admin has no handler of its own. The dashboard escapes text.
func TestAdminDeletesANote(t *testing.T) {
	c := client(t)
	c.Post("/api/v1/notes", vial.WithJSON(map[string]string{"text": "<b>bold</b>"}))
	page := c.Get("/admin/", asAdmin()).Text()
	assert.Contains(t, page, `<li><a href="/api/v1/notes/1">1</a> &lt;b&gt;bold&lt;/b&gt;`)

	assert.Equal(t, 204, c.Delete("/admin/notes/1", asAdmin()).StatusCode)
	assert.Equal(t, 404, c.Get("/api/v1/notes/1").StatusCode, "gone from the API")
	resp := c.Delete("/admin/notes/1", asAdmin())
	assert.Equal(t, 404, resp.StatusCode)
	assert.Contains(t, resp.Text(), "Nothing at /admin/notes/1", "the App's page: the decorator passes the error on")
}

// `routes` lists the blueprints' endpoints under their full rules.
func TestRoutesListsTheBlueprints(t *testing.T) {
	var out, errs bytes.Buffer
	require.Equal(t, 0, newApp().RunCLI([]string{"routes"}, &out, &errs), errs.String())
	for _, re := range []string{
		`api\.v1\.get\s+GET\s+/api/v1/notes/<int:id>\n`,
		`api\.v1\.create\s+POST\s+/api/v1/notes\n`,
		`admin\.delete_note\s+DELETE\s+/admin/notes/<int:id>\n`,
		`\nindex\s+GET\s+/\n`,
	} {
		assert.Regexp(t, re, out.String())
	}
}

// TestProgram builds the example, runs it as its doc says (`run`, the
// token in $ADMIN_TOKEN) on a free loopback port, talks to it over HTTP,
// and stops it as Ctrl+C does.
func TestProgram(t *testing.T) {
	p := testutil.Start(t, testutil.Build(t, "."), []string{"ADMIN_TOKEN=" + token}, "run")
	base := "http://" + p.Addr

	resp, body := testutil.Fetch(t, nil, "POST", base+"/api/v1/notes", strings.NewReader(`{"text": "over HTTP"}`),
		"Content-Type", "application/json")
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	assert.JSONEq(t, `{"id": 1, "text": "over HTTP", "url": "/api/v1/notes/1"}`, body)

	resp, body = testutil.Fetch(t, nil, "GET", base+"/api/v1/notes/9", nil)
	assert.Equal(t, 404, resp.StatusCode)
	assert.JSONEq(t, `{"error": "Not Found", "description": "there is no note 9"}`, body)
	resp, body = testutil.Fetch(t, nil, "GET", base+"/api/nothing", nil)
	assert.Equal(t, 404, resp.StatusCode)
	assert.Contains(t, body, "Nothing at /api/nothing")

	resp, _ = testutil.Fetch(t, nil, "GET", base+"/admin/", nil)
	assert.Equal(t, 401, resp.StatusCode)
	resp, body = testutil.Fetch(t, nil, "GET", base+"/admin/", nil, "Authorization", "Bearer "+token)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, body, "over HTTP")
	assert.NotEmpty(t, resp.Header.Get("Server-Timing"))

	assert.NoError(t, p.Interrupt(t), "Ctrl+C is a clean exit")
	assert.Regexp(t, `"GET /api/v1/notes/9 HTTP/1\.1" 404 -`, p.Output.String())
}
