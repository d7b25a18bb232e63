package main

import (
	"crypto/subtle"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
)

// newAdmin returns the admin blueprint, under /admin. Its before-request
// check runs for its own views only; its decorator wraps each of them.
func newAdmin(store *notes) *vial.Blueprint {
	admin := vial.NewBlueprint("admin", vial.URLPrefix("/admin"))
	admin.BeforeRequest(requireToken)
	admin.Decorate(serverTiming)
	views := adminViews{store}
	admin.Get("/", views.dashboard, vial.Endpoint("dashboard"))
	admin.Delete("/notes/<int:id>", views.deleteNote, vial.Endpoint("delete_note"))
	return admin
}

// requireToken is admin's before-request check: the request must carry
// "Authorization: Bearer <token>", the token Config["ADMIN_TOKEN"]. It
// answers 401 without a token, 403 with a wrong one, and 403 to everyone
// when no token is configured. A non-nil result answers in the view's
// place, so the view (and its decorators) never runs.
func requireToken(r *vial.Request) any {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return &vial.HTTPError{Code: 401, Description: "This page needs an admin token.",
			Header: gateway.Headers{{Name: "WWW-Authenticate", Value: `Bearer realm="admin"`}}}
	}
	want := r.App().Config.String("ADMIN_TOKEN")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return vial.Abort(403, "That is not the admin token.")
	}
	return nil
}

// serverTiming is admin's view decorator: it measures the view and says
// how long it took in a Server-Timing header, which browsers' developer
// tools show. An error the view returns is passed on as it is, for the
// error handlers.
func serverTiming(next vial.View) vial.View {
	return func(r *vial.Request) any {
		start := time.Now()
		rv := next(r)
		if err, ok := rv.(error); ok {
			return err
		}
		resp, err := r.App().MakeResponse(r, rv)
		if err != nil {
			return err
		}
		ms := float64(time.Since(start).Microseconds()) / 1000
		resp.Header.Set("Server-Timing", fmt.Sprintf("view;dur=%.3f", ms))
		return resp
	}
}

// adminViews is admin's views, over the store.
type adminViews struct {
	store *notes
}

// dashboard is GET /admin/: the notes, each with the API's URL for it.
func (v adminViews) dashboard(r *vial.Request) any {
	var b strings.Builder
	all := v.store.all()
	fmt.Fprintf(&b, "<!doctype html>\n<title>Admin</title>\n<h1>Admin</h1>\n<p>%d notes</p>\n<ul>\n", len(all))
	for _, n := range all {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%d</a> %s\n", r.URLFor("api.v1.get", "id", n.ID), n.ID, html.EscapeString(n.Text))
	}
	b.WriteString("</ul>\n")
	return b.String()
}

// deleteNote is DELETE /admin/notes/<int:id>: 204, or 404 when there is
// no such note (the App's page: admin has no 404 handler of its own).
func (v adminViews) deleteNote(r *vial.Request) any {
	if !v.store.remove(r.ViewArgs["id"].(int)) {
		return vial.Abort(404)
	}
	return vial.MakeResponse("", 204)
}
