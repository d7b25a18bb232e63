package vial_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
)

// What a URI may not hold is percent-encoded in a redirect's Location, as
// werkzeug's iri_to_uri encodes it, so no control byte reaches a header.
func TestRedirectEncodesWhatAURIMayNotHold(t *testing.T) {
	app := vial.New("redirects")
	cases := []struct{ target, want string }{
		{"/x\x01y", "/x%01y"},
		{"/a b?q=\r\n", "/a%20b?q=%0D%0A"},
		{"/caf\u00e9", "/caf%C3%A9"},
		{"/del\x7f", "/del%7F"},
		{`/"<>\^` + "`{|}", "/%22%3C%3E%5C%5E%60%7B%7C%7D"},
		{"/ok?a=1&b=%20#frag", "/ok?a=1&b=%20#frag"},
		{"https://example.com/", "https://example.com/"},
	}
	app.Get("/to/<int:i>", func(r *vial.Request) any { return vial.Redirect(cases[r.ViewArgs["i"].(int)].target) })
	c := app.TestClient()
	for i, tc := range cases {
		resp := c.Get(fmt.Sprint("/to/", i))
		require.NoError(t, resp.Err, "%q", tc.target)
		assert.Equal(t, 302, resp.StatusCode, "%q", tc.target)
		assert.Equal(t, tc.want, resp.Location(), "%q", tc.target)
	}
}

// The slash redirect copies the request's query into its Location; a raw
// query holding NUL, CR or LF (a request built in code, CGI's QUERY_STRING)
// is encoded, not turned into a 500.
func TestSlashRedirectEncodesTheQuery(t *testing.T) {
	app := vial.New("slash")
	app.Get("/dir/", func(r *vial.Request) any { return "dir" })
	for raw, want := range map[string]string{
		"a=1\x00":       "a=1%00",
		"a=\r\nX: 1":    "a=%0D%0AX:%201",
		"plain=1&b=%41": "plain=1&b=%41",
	} {
		resp := app.TestClient().Get("/dir", vial.WithEnviron(func(env *gateway.Environ) { env.QueryString = raw }))
		require.NoError(t, resp.Err, "%q", raw)
		assert.Equal(t, 308, resp.StatusCode, "%q", raw)
		assert.Equal(t, "http://localhost/dir/?"+want, resp.Location(), "%q", raw)
	}
}
