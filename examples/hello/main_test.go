package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHello(t *testing.T) {
	c := newApp().TestClient()

	resp := c.Get("/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "Hello, World!", resp.Text())

	assert.Equal(t, "Hello, gopher!", c.Get("/hello/gopher").Text())

	resp = c.Get("/user/7")
	assert.Equal(t, "application/json", resp.Mimetype())
	assert.JSONEq(t, `{"id": 7, "self": "http://localhost/user/7"}`, resp.Text())

	assert.Equal(t, 404, c.Get("/user/0").StatusCode, "int(min=1) refuses 0")
	assert.Equal(t, 404, c.Get("/user/abc").StatusCode)
}
