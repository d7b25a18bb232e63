package vial_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// A hot panicking route logs its stack once, then a short line per repeat:
// 100 panics do not write 100 stacks.
func TestAPanicSiteLogsItsStackOnce(t *testing.T) {
	var logs bytes.Buffer
	app := quietApp(&logs)
	app.Get("/boom", func(r *vial.Request) any { panic("hot panic") })
	app.Get("/other", func(r *vial.Request) any { panic("another site") })
	c := app.TestClient()
	for range 100 {
		require.Equal(t, 500, c.Get("/boom").StatusCode)
	}
	require.Equal(t, 500, c.Get("/other").StatusCode)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var stacks, brief int
	for _, l := range lines {
		switch {
		case strings.Contains(l, "goroutine "):
			stacks++
		case strings.Contains(l, "again_at="):
			brief++
			assert.Contains(t, l, "panic_log_test.go:", "the short line names the site")
		}
	}
	assert.Equal(t, 2, stacks, "one stack for each site")
	assert.Equal(t, 99, brief, "a short line for each repeat")
	assert.Less(t, logs.Len(), 100*200+2*8192, "the log stays short")
}
