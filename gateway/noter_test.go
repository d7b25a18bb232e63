package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vial-go/vial/gateway"
)

type notingWriter struct {
	http.ResponseWriter
	notes []string
}

func (w *notingWriter) Note(key, value string) { w.notes = append(w.notes, key+"="+value) }

type wrappingWriter struct{ http.ResponseWriter }

func (w wrappingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// An application's notes reach the Noter among the ResponseWriter and
// what it unwraps to; without one, Note does nothing.
func TestHandlerHandsNotesToTheWritersNoter(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		env.Note("endpoint", "index")
		start("204 No Content", nil)
		return gateway.NoBody
	})
	noting := &notingWriter{ResponseWriter: httptest.NewRecorder()}
	gateway.Handler(app).ServeHTTP(wrappingWriter{wrappingWriter{noting}}, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, []string{"endpoint=index"}, noting.notes)

	rec := httptest.NewRecorder()
	gateway.Handler(app).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, 204, rec.Code, "no Noter: the note is dropped")
}

// A writer type that wraps others is asked every time: the same wrapper
// around a Noter after one around net/http's writer still gets the note.
func TestHandlerAsksAWrappingWriterEachTime(t *testing.T) {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		env.Note("endpoint", "x")
		start("204 No Content", nil)
		return gateway.NoBody
	})
	h := gateway.Handler(app)
	h.ServeHTTP(wrappingWriter{httptest.NewRecorder()}, httptest.NewRequest("GET", "/", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) // a leaf with no Noter, kept
	noting := &notingWriter{ResponseWriter: httptest.NewRecorder()}
	h.ServeHTTP(wrappingWriter{noting}, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, []string{"endpoint=x"}, noting.notes)
}

// A clone of the environ, which may outlive the request, keeps no notes.
func TestEnvironCloneKeepsNoNoter(t *testing.T) {
	var clone *gateway.Environ
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		clone = env.Clone()
		start("204 No Content", nil)
		return gateway.NoBody
	})
	noting := &notingWriter{ResponseWriter: httptest.NewRecorder()}
	gateway.Handler(app).ServeHTTP(noting, httptest.NewRequest("GET", "/", nil))
	clone.Note("late", "x")
	assert.Nil(t, clone.Noter())
	assert.Empty(t, noting.notes)
}
