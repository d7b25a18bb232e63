package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/vial-go/vial"
)

// newAPI returns the api blueprint, under /api, with v1 nested in it under
// /v1: Flask's
//
//	api = Blueprint("api", __name__, url_prefix="/api")
//	v1 = Blueprint("v1", __name__, url_prefix="/v1")
//	api.register_blueprint(v1)
//
// Its error handlers answer in JSON for the views of both.
func newAPI(store *notes) *vial.Blueprint {
	api := vial.NewBlueprint("api", vial.URLPrefix("/api"))
	api.Get("/", apiIndex, vial.Endpoint("index"))
	// By code for 404, because the App's 404 handler is by code too, and
	// the App's by code is looked up before a blueprint's by type; by type
	// for the other HTTP errors (the 400 of a malformed body).
	api.ErrorHandler(404, jsonError)
	api.ErrorHandler((*vial.HTTPError)(nil), jsonError)

	v1 := vial.NewBlueprint("v1", vial.URLPrefix("/v1"))
	views := notesAPI{store}
	v1.Get("/notes", views.list, vial.Endpoint("list"))
	v1.Post("/notes", views.create, vial.Endpoint("create"))
	v1.Get("/notes/<int:id>", views.get, vial.Endpoint("get"))
	api.RegisterBlueprint(v1)
	return api
}

// apiIndex lists the API's versions. ".v1.list" is relative to the
// request's blueprint, api: "api.v1.list".
func apiIndex(r *vial.Request) any {
	return map[string]any{"versions": map[string]string{"v1": r.URLFor(".v1.list")}}
}

// jsonError answers an HTTP error raised in a view of api (or of v1) in
// JSON: {"error": "Not Found", "description": "…"}, with its status.
func jsonError(r *vial.Request, err error) any {
	var he *vial.HTTPError
	if !errors.As(err, &he) {
		return err
	}
	body := map[string]any{"error": he.Name(), "description": he.GetDescription()}
	return vial.MakeResponse(body, he.Code)
}

// notesAPI is the views of v1, over the store.
type notesAPI struct {
	store *notes
}

// noteJSON is a note as the API sends it, with the URL of its own.
type noteJSON struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
	URL  string `json:"url"`
}

func asJSON(r *vial.Request, n note) noteJSON {
	return noteJSON{ID: n.ID, Text: n.Text, URL: r.URLFor(".get", "id", n.ID)}
}

// list is GET /api/v1/notes: {"notes": [...]}, oldest first.
func (v notesAPI) list(r *vial.Request) any {
	out := []noteJSON{}
	for _, n := range v.store.all() {
		out = append(out, asJSON(r, n))
	}
	return map[string]any{"notes": out}
}

// get is GET /api/v1/notes/<int:id>: the note, or a 404 that api's error
// handler turns into JSON.
func (v notesAPI) get(r *vial.Request) any {
	id := r.ViewArgs["id"].(int)
	n, ok := v.store.get(id)
	if !ok {
		return vial.Abort(404, "there is no note "+strconv.Itoa(id))
	}
	return asJSON(r, n)
}

// create is POST /api/v1/notes with {"text": "…"}: 201, the note, and its
// URL in Location. A body that is not such JSON is a 400.
func (v notesAPI) create(r *vial.Request) any {
	var in struct {
		Text string `json:"text"`
	}
	if err := r.JSON(&in); err != nil {
		return err // a 400 *vial.HTTPError saying what is wrong
	}
	if strings.TrimSpace(in.Text) == "" {
		return vial.Abort(400, `"text" must not be empty`)
	}
	out := asJSON(r, v.store.add(in.Text))
	return vial.MakeResponse(out, 201, map[string]string{"Location": out.URL})
}
