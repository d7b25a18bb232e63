package httpsyntax

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsToken(t *testing.T) {
	for _, s := range []string{"Content-Type", "X-Custom_1", "!#$%&'*+-.^_`|~"} {
		assert.True(t, IsToken(s), s)
	}
	for _, s := range []string{"", "Bad Name", "Bad:Name", "é", "a\x7f", "(x)"} {
		assert.False(t, IsToken(s), s)
	}
}

func TestIsDigits(t *testing.T) {
	assert.True(t, IsDigits("0"))
	assert.True(t, IsDigits("8080"))
	for _, s := range []string{"", "+1", "-1", "1a", " 1", "٣"} {
		assert.False(t, IsDigits(s), s)
	}
}

func TestBodyForbidden(t *testing.T) {
	for _, code := range []int{100, 101, 199, 204, 304} {
		assert.True(t, BodyForbidden(code), code)
	}
	for _, code := range []int{200, 201, 206, 301, 404, 500} {
		assert.False(t, BodyForbidden(code), code)
	}
}
