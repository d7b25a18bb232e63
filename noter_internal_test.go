package vial

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vial-go/vial/gateway"
)

// noteWriter is a server's ResponseWriter that keeps notes, as the dev
// server's access log does.
type noteWriter struct {
	*httptest.ResponseRecorder
	notes map[string]string
}

func (w *noteWriter) Note(key, value string) { w.notes[key] = value }

// Served as the dev server serves it, the App's stack behind a bridge,
// with Use middleware on bridges of its own, the App's note of its
// endpoint reaches the server's writer.
func TestTheEndpointNoteCrossesTheUseBridges(t *testing.T) {
	app := New("noted")
	app.Use(func(next http.Handler) http.Handler { return next })
	app.Get("/", func(r *Request) any { return "ok" }, Endpoint("index"))
	w := &noteWriter{httptest.NewRecorder(), map[string]string{}}
	gateway.Handler(app.gatewayStack(app)).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, map[string]string{"endpoint": "index"}, w.notes)
}
