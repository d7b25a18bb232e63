package vial_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

func TestConfigFromFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		file    string // written under dir unless empty
		content string
		opts    []vial.FileOption
		want    vial.Config // the keys expected; nil when an error is
		errHas  []string
	}{
		{name: "json, upper-case keys only", file: "c.json",
			content: `{"PORT": 8000, "RATIO": 0.5, "NAME": "x", "DB": {"HOST": "h", "port": 1}, "lower": 1, "Mixed": 2, "_": 3}`,
			want: vial.Config{"PORT": int64(8000), "RATIO": 0.5, "NAME": "x",
				"DB": map[string]any{"HOST": "h", "port": int64(1)}}},
		{name: "toml", file: "c.toml",
			content: "PORT = 8000\nRATIO = 0.5\nlower = 1\n[DB]\nHOST = \"h\"\n",
			want:    vial.Config{"PORT": int64(8000), "RATIO": 0.5, "DB": map[string]any{"HOST": "h"}}},
		{name: "extension in any case", file: "C.JSON", content: `{"A_1": true}`,
			want: vial.Config{"A_1": true}},
		{name: "json syntax error names path and line", file: "bad.json",
			content: "{\n  \"A\": 1,\n  \"B\": ]\n}", errHas: []string{"bad.json", "line 3"}},
		{name: "toml syntax error names path and line", file: "bad.toml",
			content: "A = 1\nB = = 2\n", errHas: []string{"bad.toml", "line 2"}},
		{name: "json top level not an object", file: "list.json", content: `[1]`,
			errHas: []string{"list.json", "an array", "object"}},
		{name: "unknown extension", file: "c.yaml", content: "A: 1",
			errHas: []string{"c.yaml", `".yaml"`, ".json", ".toml"}},
		{name: "missing file", content: "", errHas: []string{filepath.Join(dir, "absent.json")}},
		{name: "missing file, silent", opts: []vial.FileOption{vial.Silent(true)}, want: vial.Config{}},
		{name: "silent does not hide a bad file", file: "bad2.json", content: "{",
			opts: []vial.FileOption{vial.Silent(true)}, errHas: []string{"bad2.json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "absent.json")
			if c.file != "" {
				path = filepath.Join(dir, c.file)
				require.NoError(t, os.WriteFile(path, []byte(c.content), 0o600))
			}
			cfg := vial.Config{}
			err := cfg.FromFile(path, c.opts...)
			if c.errHas != nil {
				require.Error(t, err)
				for _, s := range c.errHas {
					assert.Contains(t, err.Error(), s)
				}
				assert.Empty(t, cfg, "nothing loaded from a file that fails")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, cfg)
		})
	}
}

func TestConfigFromFileNumbersWorkWithTheGetters(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"c.json", "c.toml"} {
		content := `{"MAX_CONTENT_LENGTH": 16, "TIMEOUT": 2.5}`
		if name == "c.toml" {
			content = "MAX_CONTENT_LENGTH = 16\nTIMEOUT = 2.5\n"
		}
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		app := vial.New("test")
		require.NoError(t, app.Config.FromFile(path))
		n, ok := app.Config.Int("MAX_CONTENT_LENGTH")
		assert.True(t, ok, name)
		assert.Equal(t, int64(16), n, name)
		f, ok := app.Config.Float("TIMEOUT")
		assert.True(t, ok, name)
		assert.Equal(t, 2.5, f, name)
		d, ok := app.Config.Duration("TIMEOUT")
		assert.True(t, ok, name)
		assert.Equal(t, 2500*time.Millisecond, d, name)

		// The App applies the limit it loaded.
		app.Post("/", func(r *vial.Request) any { r.Data(); return "ok" })
		resp := app.TestClient().Post("/", vial.WithBody("text/plain", make([]byte, 17)))
		assert.Equal(t, 413, resp.StatusCode, name)
	}
}

// The prefix is VIALTEST, not VIAL, so that a VIAL_DEBUG in the
// environment of the tests cannot change what they see.
func TestConfigFromPrefixedEnv(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    map[string]string
		start  vial.Config
		want   vial.Config
		errHas []string
	}{
		{name: "values decoded as JSON when they parse",
			env: map[string]string{"VIALTEST_PORT": "8000", "VIALTEST_DEBUG": "true", "VIALTEST_NAME": "abc",
				"VIALTEST_RATIO": "0.5", "VIALTEST_QUOTED": `"8000"`, "VIALTEST_HOSTS": `["a", "b"]`, "VIALTEST_NULL": "null",
				"VIALTEST_OBJ": `{"A": 1}`, "VIALTEST_BAD": "{", "VIALTEST_EMPTY": ""},
			want: vial.Config{"PORT": int64(8000), "DEBUG": true, "NAME": "abc", "RATIO": 0.5,
				"QUOTED": "8000", "HOSTS": []any{"a", "b"}, "NULL": nil,
				"OBJ": map[string]any{"A": int64(1)}, "BAD": "{", "EMPTY": ""}},
		{name: "other prefixes and the bare prefix ignored",
			env:  map[string]string{"VIALTESTX_A": "1", "OTHER_A": "1", "VIALTEST": "1", "VIALTEST_lower": "1"},
			want: vial.Config{"lower": int64(1)}},
		{name: "__ nests, creating maps",
			env:  map[string]string{"VIALTEST_DB__HOST": "x", "VIALTEST_DB__PORT": "5432", "VIALTEST_A__B__C": "true"},
			want: vial.Config{"DB": map[string]any{"HOST": "x", "PORT": int64(5432)}, "A": map[string]any{"B": map[string]any{"C": true}}}},
		{name: "__ into an existing map, keeping its other keys",
			env:   map[string]string{"VIALTEST_DB__HOST": "x"},
			start: vial.Config{"DB": map[string]any{"HOST": "old", "USER": "u"}},
			want:  vial.Config{"DB": map[string]any{"HOST": "x", "USER": "u"}}},
		{name: "sorted: a map set whole, then a key in it",
			env:  map[string]string{"VIALTEST_DB": `{"USER": "u"}`, "VIALTEST_DB__HOST": "x"},
			want: vial.Config{"DB": map[string]any{"HOST": "x", "USER": "u"}}},
		{name: "__ into a value that is not a map is an error naming the variable",
			env:    map[string]string{"VIALTEST_DB": "1", "VIALTEST_DB__HOST": "x"},
			want:   vial.Config{"DB": int64(1)},
			errHas: []string{"VIALTEST_DB__HOST", "DB", "int64", "HOST"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg := vial.Config{}
			for k, v := range c.start {
				cfg[k] = v
			}
			err := cfg.FromPrefixedEnv("VIALTEST")
			if c.errHas != nil {
				require.Error(t, err)
				for _, s := range c.errHas {
					assert.Contains(t, err.Error(), s)
				}
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, c.want, cfg)
		})
	}
}

func TestConfigFromMappingUpperCaseKeysOnly(t *testing.T) {
	cfg := vial.Config{"KEEP": 1}
	cfg.FromMapping(map[string]any{"SECRET_KEY": "s", "DB_2": 2, "lower": 3, "Title": 4, "123": 5, "ÉTÉ": 6})
	assert.Equal(t, vial.Config{"KEEP": 1, "SECRET_KEY": "s", "DB_2": 2, "ÉTÉ": 6}, cfg)
}

func TestConfigFloatAndDuration(t *testing.T) {
	cfg := vial.Config{"I": 3, "F": 1.5, "S": "2.5", "D": 90 * time.Second, "DS": "1m30s", "X": "abc", "B": true}
	for key, want := range map[string]float64{"I": 3, "F": 1.5, "S": 2.5} {
		f, ok := cfg.Float(key)
		assert.True(t, ok, key)
		assert.Equal(t, want, f, key)
	}
	for key, want := range map[string]time.Duration{"I": 3 * time.Second, "F": 1500 * time.Millisecond,
		"D": 90 * time.Second, "DS": 90 * time.Second} {
		d, ok := cfg.Duration(key)
		assert.True(t, ok, key)
		assert.Equal(t, want, d, key)
	}
	for _, key := range []string{"X", "B", "MISSING"} {
		_, ok := cfg.Float(key)
		assert.False(t, ok, key)
		_, ok = cfg.Duration(key)
		assert.False(t, ok, key)
	}
}
