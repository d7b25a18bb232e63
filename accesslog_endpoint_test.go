package vial_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/serving"
)

// accessRecords parses the JSON access log in buf, one record a line.
func accessRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		recs = append(recs, rec)
	}
	return recs
}

// The access log names the endpoint that answered, a blueprint's too,
// whether it sits right around the App or outside its Use middleware.
func TestAccessLogNamesTheEndpoint(t *testing.T) {
	build := func(logs *bytes.Buffer, inUse bool) http.Handler {
		app := vial.New("logged")
		api := vial.NewBlueprint("api", vial.URLPrefix("/api"))
		api.Get("/users", func(r *vial.Request) any { return "users" }, vial.Endpoint("users"))
		app.RegisterBlueprint(api)
		log := serving.AccessLog(slog.New(slog.NewJSONHandler(logs, nil)))
		if inUse {
			app.Use(log, func(next http.Handler) http.Handler { // wraps the recorder
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(&unwrappingWriter{w}, r)
				})
			})
			return app
		}
		return log(app)
	}
	for _, inUse := range []bool{false, true} {
		var logs bytes.Buffer
		srv := httptest.NewServer(build(&logs, inUse))
		for _, path := range []string{"/api/users", "/nothing"} {
			resp, err := http.Get(srv.URL + path)
			require.NoError(t, err)
			resp.Body.Close()
		}
		srv.Close()
		recs := accessRecords(t, &logs)
		require.Len(t, recs, 2)
		assert.Equal(t, "api.users", recs[0]["endpoint"], "in Use: %v", inUse)
		assert.NotContains(t, recs[1], "endpoint", "no rule matched: no endpoint")
	}
}

// unwrappingWriter is a middleware's ResponseWriter, which says what it
// wraps as http.ResponseController expects.
type unwrappingWriter struct{ http.ResponseWriter }

func (w *unwrappingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
