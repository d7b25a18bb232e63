package vial_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vial-go/vial"
)

type note struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
}

func TestViewReturnsAStruct(t *testing.T) {
	app := vial.New("test")
	app.Logger = quietLogger()
	app.Get("/struct", func(r *vial.Request) any { return note{1, "tea"} })
	app.Get("/pointer", func(r *vial.Request) any { return &note{2, "cake"} })
	app.Get("/slice", func(r *vial.Request) any { return []note{{3, "a"}, {4, "b"}} })
	app.Get("/pointers", func(r *vial.Request) any { return []*note{{5, "c"}} })
	app.Get("/anonymous", func(r *vial.Request) any { return struct{ OK bool }{true} })
	app.Get("/made", func(r *vial.Request) any { return vial.MakeResponse(note{6, "made"}, 201) })
	c := app.TestClient()
	for path, want := range map[string]string{
		"/struct":    `{"id":1,"text":"tea"}` + "\n",
		"/pointer":   `{"id":2,"text":"cake"}` + "\n",
		"/slice":     `[{"id":3,"text":"a"},{"id":4,"text":"b"}]` + "\n",
		"/pointers":  `[{"id":5,"text":"c"}]` + "\n",
		"/anonymous": `{"OK":true}` + "\n",
		"/made":      `{"id":6,"text":"made"}` + "\n",
	} {
		resp := c.Get(path)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), path)
		assert.Equal(t, want, resp.Text(), path)
	}
	assert.Equal(t, 201, c.Get("/made").StatusCode)
}

func TestViewReturnsANilPointerOrAnUnsupportedValue(t *testing.T) {
	for path, want := range map[string][]string{
		"/nil-pointer": {"nil *vial_test.note", "vial.Abort(404)", "endpoint"},
		"/chan":        {"chan int", "iter.Seq"},
		"/func":        {"func() string", "iter.Seq", "http.HandlerFunc"},
		"/int":         {"not int", "a struct"},
		"/bad-json":    {"JSON", "chan"},
	} {
		var logs bytes.Buffer
		app := quietApp(&logs)
		app.Get("/nil-pointer", func(r *vial.Request) any { return (*note)(nil) })
		app.Get("/chan", func(r *vial.Request) any { return make(chan int) })
		app.Get("/func", func(r *vial.Request) any { return func() string { return "x" } })
		app.Get("/int", func(r *vial.Request) any { return 42 })
		app.Get("/bad-json", func(r *vial.Request) any { return struct{ C chan int }{} })
		resp := app.TestClient().Get(path)
		assert.Equal(t, 500, resp.StatusCode, path)
		for _, w := range want {
			assert.Contains(t, logs.String(), w, path)
		}
	}
	assert.True(t, strings.Contains(vial.MakeResponse(&note{}).Text(), `"id":0`))
}
