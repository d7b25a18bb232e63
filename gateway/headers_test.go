package gateway_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vial-go/vial/gateway"
)

func TestHeadersNamesIgnoreASCIICase(t *testing.T) {
	h := gateway.Headers{
		{Name: "Content-Type", Value: "text/plain"},
		{Name: "set-cookie", Value: "a=1"},
		{Name: "X-Trace", Value: "t"},
		{Name: "SET-COOKIE", Value: "b=2"},
	}
	assert.Equal(t, "text/plain", h.Get("content-type"))
	assert.Equal(t, "text/plain", h.Get("CONTENT-TYPE"))
	assert.Equal(t, []string{"a=1", "b=2"}, h.Values("Set-Cookie"))
	assert.True(t, h.Has("x-trace"))
	assert.False(t, h.Has("X-Trac"), "a prefix is another name")
	assert.False(t, h.Has("X-Traces"))
	assert.Equal(t, "", h.Get("Content-Length"))

	// Set replaces the first field of the name in place and drops the others.
	h.Set("Set-Cookie", "c=3")
	assert.Equal(t, gateway.Headers{
		{Name: "Content-Type", Value: "text/plain"},
		{Name: "set-cookie", Value: "c=3"},
		{Name: "X-Trace", Value: "t"},
	}, h)
	h.Del("X-TRACE")
	h.Add("Vary", "Accept")
	assert.Equal(t, gateway.Headers{
		{Name: "Content-Type", Value: "text/plain"},
		{Name: "set-cookie", Value: "c=3"},
		{Name: "Vary", Value: "Accept"},
	}, h)
}

// Field names are ASCII (RFC 9110 tokens): a Unicode letter that folds to
// an ASCII one (the Kelvin sign to "k") is not the same name.
func TestHeadersDoNotFoldUnicode(t *testing.T) {
	h := gateway.Headers{{Name: "\u212Aeep", Value: "1"}}
	assert.False(t, h.Has("keep"))
	assert.True(t, h.Has("\u212Aeep"))
}
