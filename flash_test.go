package vial_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

func flashApp() *vial.App {
	app := vial.New("flash")
	app.Config["SECRET_KEY"] = "secret"
	app.Post("/save", func(r *vial.Request) any {
		vial.Flash(r, "Saved.")
		vial.Flash(r, "Check the date.", "warning")
		vial.Flash(r, "Bad name.", "error")
		return "ok"
	})
	app.Get("/show", func(r *vial.Request) any {
		var out []string
		for _, f := range r.FlashedMessages() {
			out = append(out, f.Category+":"+f.Message)
		}
		// Again in the same request: the same messages.
		return fmt.Sprintf("%s (again: %d)", strings.Join(out, "|"), len(r.FlashedMessages()))
	})
	app.Get("/errors", func(r *vial.Request) any {
		var out []string
		for _, f := range r.FlashedMessages("error", "warning") {
			out = append(out, f.Message)
		}
		return strings.Join(out, "|")
	})
	return app
}

func TestFlashShownOnce(t *testing.T) {
	app := flashApp()
	c := app.TestClient()
	c.Post("/save")
	resp := c.Get("/show")
	assert.Equal(t, "message:Saved.|warning:Check the date.|error:Bad name. (again: 3)", resp.Text())
	assert.NotEmpty(t, resp.Header.Get("Set-Cookie"), "taken out of the session")
	assert.Equal(t, " (again: 0)", c.Get("/show").Text(), "shown once")
}

func TestFlashCategoryFilter(t *testing.T) {
	c := flashApp().TestClient()
	c.Post("/save")
	assert.Equal(t, "Check the date.|Bad name.", c.Get("/errors").Text())
	assert.Equal(t, "", c.Get("/errors").Text(), "the others were consumed too, as in Flask")
}

func TestFlashSignal(t *testing.T) {
	app := flashApp()
	var got []vial.FlashMessage
	conn := vial.MessageFlashed.ConnectVia(app, func(a *vial.App, f *vial.Flashed) {
		require.NotNil(t, f.Request)
		got = append(got, f.FlashMessage)
	})
	t.Cleanup(func() { vial.MessageFlashed.Disconnect(conn) })
	app.TestClient().Post("/save")
	assert.Equal(t, []vial.FlashMessage{
		{Category: "message", Message: "Saved."},
		{Category: "warning", Message: "Check the date."},
		{Category: "error", Message: "Bad name."},
	}, got)
}

func TestFlashWithoutSecretKey(t *testing.T) {
	app := flashApp()
	delete(app.Config, "SECRET_KEY")
	resp := app.TestClient().Post("/save")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, "", app.TestClient().Get("/errors").Text(), "reading flashes of the null session is allowed")
}

// A view may return the flashed messages as JSON: lower-case fields.
func TestFlashMessagesAsJSON(t *testing.T) {
	app := flashApp()
	app.Get("/json", func(r *vial.Request) any { return r.FlashedMessages("error") })
	c := app.TestClient()
	c.Post("/save")
	assert.JSONEq(t, `[{"category":"error","message":"Bad name."}]`, c.Get("/json").Text())
}
