package vial_test

import (
	"bytes"
	"encoding/json"
	"log"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// countingWriter records each Write call separately.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func panickingApp(logger *slog.Logger) *vial.App {
	app := vial.New("blocks")
	if logger != nil {
		app.Logger = logger
	}
	app.Get("/boom", func(r *vial.Request) any { panic("boom") })
	return app
}

// With NewLogHandler, a panic's stack is an indented block under the
// record's line, written with it in one call, from the panicking view down.
func TestNewLogHandlerWritesTheStackAsABlock(t *testing.T) {
	w := &countingWriter{}
	app := panickingApp(slog.New(vial.NewLogHandler(w, nil)))
	require.Equal(t, 500, app.TestClient().Get("/boom").StatusCode)

	require.Len(t, w.writes, 1, "the line and its block go out in one write")
	lines := strings.Split(strings.TrimSuffix(w.writes[0], "\n"), "\n")
	assert.Contains(t, lines[0], `level=ERROR msg="Exception on /boom [GET]"`)
	assert.Contains(t, lines[0], `error="panic: boom"`)
	assert.NotContains(t, lines[0], "stack=", "the stack is not quoted into the line")
	require.GreaterOrEqual(t, len(lines), 4)
	assert.Equal(t, "  stack:", lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "    goroutine "), lines[2])
	assert.Contains(t, lines[3], "panickingApp.func1", "the first frame is the view, not the recovery")
	assert.Contains(t, lines[4], "logblock_test.go:")
	assert.NotContains(t, w.writes[0], `\n`, "no escaped newlines")
}

// A record without multi-line values is slog's text line, and loggers made
// with With keep the blocks.
func TestNewLogHandlerLeavesOneLineRecordsAlone(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(vial.NewLogHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("hello", "n", 1, "s", "a b")
	logger.With("app", "x").Warn("two", "text", "first\nsecond\n")
	assert.Equal(t, "level=INFO msg=hello n=1 s=\"a b\"\n"+
		"level=WARN msg=two app=x\n  text:\n    first\n    second\n", buf.String())
}

// With a JSON handler the stack stays one attribute of the record.
func TestJSONLogKeepsTheStackOneAttribute(t *testing.T) {
	var buf bytes.Buffer
	app := panickingApp(slog.New(slog.NewJSONHandler(&buf, nil)))
	require.Equal(t, 500, app.TestClient().Get("/boom").StatusCode)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec), "one JSON record")
	stack, _ := rec["stack"].(string)
	assert.Contains(t, stack, "goroutine ")
	assert.Contains(t, stack, "\n\t", "the stack keeps its lines, inside the one attribute")
}

// An App left with New's Logger, while slog's default handler is still
// the one Go starts with, writes its stacks as blocks through the log
// package, date first as log writes it.
func TestDefaultLoggerWritesTheStackAsABlock(t *testing.T) {
	w := &countingWriter{}
	out, flags := log.Writer(), log.Flags()
	log.SetOutput(w)
	log.SetFlags(log.LstdFlags) // as a program starts; another test may have changed them
	t.Cleanup(func() { log.SetOutput(out); log.SetFlags(flags) })

	app := panickingApp(nil)
	require.Equal(t, 500, app.TestClient().Get("/boom").StatusCode)
	app.Logger.Info("plain", "k", "v")

	require.Len(t, w.writes, 2)
	lines := strings.Split(w.writes[0], "\n")
	assert.Regexp(t, `^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ERROR Exception on /boom \[GET\] method=GET path=/boom error="panic: boom"$`, lines[0])
	assert.Equal(t, "  stack:", lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "    goroutine "))
	assert.Regexp(t, `^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d INFO plain k=v\n$`, w.writes[1], "a record without blocks is slog's own")
}
