package vial_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

func TestLoggerDefaultsToSlogDefault(t *testing.T) {
	app := vial.New("test")
	require.NotNil(t, app.Logger)
	app.Get("/log", func(r *vial.Request) any {
		r.App().Logger.Info("logged from a view", "path", r.Path)
		return "logged"
	})
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	resp := app.TestClient().Get("/log")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "logged", resp.Text())
	assert.Contains(t, buf.String(), "logged from a view", "a slog.SetDefault after New is followed")
	assert.Contains(t, buf.String(), "path=/log")
}

func TestLoggerSetAsTheDefaultDoesNotLoop(t *testing.T) {
	app := vial.New("test")
	old := slog.Default()
	slog.SetDefault(app.Logger)
	defer slog.SetDefault(old)
	app.Get("/log", func(r *vial.Request) any {
		r.App().Logger.With("k", "v").WithGroup("g").Debug("not enabled")
		r.App().Logger.Info("logged")
		return "logged"
	})
	assert.Equal(t, 200, app.TestClient().Get("/log").StatusCode)
}

func TestLoggerSetToNilFallsBack(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	app := vial.New("test")
	app.Logger = nil
	app.Get("/boom", func(r *vial.Request) any { panic("boom") })
	assert.Equal(t, 500, app.TestClient().Get("/boom").StatusCode)
	assert.Contains(t, buf.String(), "Exception on /boom")
}
