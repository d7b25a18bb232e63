package hostport

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		in, host, port string
		ok             bool
	}{
		{"example.com", "example.com", "", false},
		{"example.com:8080", "example.com", "8080", true},
		{"192.0.2.1:1234", "192.0.2.1", "1234", true},
		{":80", "", "80", true},
		{"[::1]:80", "::1", "80", true},
		{"[::1]", "::1", "", false},
		{"::1", "::1", "", false},
		{"[::1]x:80", "[::1]x:80", "", false},
		{"[::1", "[::1", "", false},
		{"", "", "", false},
	}
	for _, c := range cases {
		host, port, ok := Split(c.in)
		assert.Equal(t, []any{c.host, c.port, c.ok}, []any{host, port, ok}, c.in)
	}
}

func TestDefaultPortAndBracket(t *testing.T) {
	assert.Equal(t, "443", DefaultPort("https"))
	assert.Equal(t, "80", DefaultPort("http"))
	assert.Equal(t, "[::1]", Bracket("::1"))
	assert.Equal(t, "example.com", Bracket("example.com"))
}
