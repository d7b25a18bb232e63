package vial_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// The bytes below are what Flask 3 sends (checked with Python's json and
// DefaultJSONProvider's arguments).

func TestJSONResponseIsFlasksBytes(t *testing.T) {
	app := vial.New("test")
	app.Get("/", func(r *vial.Request) any { return map[string]any{"b": 1, "a": "é<"} })
	resp := app.TestClient().Get("/")
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "{\"a\":\"\\u00e9<\",\"b\":1}\n", resp.Text())
}

func TestJSONEncodingTable(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
		want string
	}{
		{"astral character as a surrogate pair, no HTML escaping",
			map[string]any{"d": "😀&>"}, `{"d":"\ud83d\ude00&>"}`},
		{"DEL and control bytes escaped as Python escapes them",
			map[string]any{"s": "\u2028\x7f\x01\b\f\t\"\\/"}, `{"s":"\u2028\u007f\u0001\b\f\t\"\\/"}`},
		{"nested maps sorted", map[string]any{"z": map[string]int{"y": 1, "x": 2}, "a": []any{}},
			`{"a":[],"z":{"x":2,"y":1}}`},
		{"struct fields in declaration order", struct {
			Z int `json:"z"`
			A int `json:"a"`
		}{1, 2}, `{"z":1,"a":2}`},
		{"plain ASCII untouched", []string{"abc"}, `["abc"]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := (&vial.DefaultJSONProvider{}).Dumps(c.v)
			require.NoError(t, err)
			assert.Equal(t, c.want, string(got))
		})
	}
}

func TestJSONDebugModeIndentsAsFlask(t *testing.T) {
	v := map[string]any{"b": []any{1, map[string]any{"d": "😀&>", "c": []any{}}}, "a": map[string]any{}}
	const indented = "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"c\": [],\n      \"d\": \"\\ud83d\\ude00&>\"\n    }\n  ]\n}\n"
	const compact = "{\"a\":{},\"b\":[1,{\"c\":[],\"d\":\"\\ud83d\\ude00&>\"}]}\n"
	for _, c := range []struct {
		name    string
		debug   bool
		compact *bool
		want    string
	}{
		{"nil, debug off: compact", false, nil, compact},
		{"nil, debug on: indented", true, nil, indented},
		{"true, debug on: compact", true, new(true), compact},
		{"false, debug off: indented", false, new(false), indented},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := vial.New("test")
			app.Config["DEBUG"] = c.debug
			app.SetJSONProvider(&vial.DefaultJSONProvider{Compact: c.compact})
			app.Get("/map", func(r *vial.Request) any { return v })
			app.Get("/json", func(r *vial.Request) any { return vial.JSON(v) })
			assert.Equal(t, c.want, app.TestClient().Get("/map").Text())
			assert.Equal(t, c.want, app.TestClient().Get("/json").Text(), "vial.JSON goes through the App's provider")
		})
	}
}

func TestJSONProviderOptions(t *testing.T) {
	app := vial.New("test")
	app.SetJSONProvider(&vial.DefaultJSONProvider{KeepNonASCII: true, Mimetype: "application/vnd.api+json"})
	app.Get("/", func(r *vial.Request) any { return map[string]any{"a": "é😀"} })
	resp := app.TestClient().Get("/")
	assert.Equal(t, "application/vnd.api+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "{\"a\":\"é😀\"}\n", resp.Text())
}

// upperProvider is a user's provider: it tags every response and decodes
// with json.Unmarshal, to show the App calls it for each use.
type upperProvider struct{ loads int }

func (p *upperProvider) Dumps(v any) ([]byte, error) { return json.Marshal(v) }
func (p *upperProvider) Loads(data []byte, v any) error {
	p.loads++
	return json.Unmarshal(data, v)
}
func (p *upperProvider) Response(resp *vial.Response, v any, debug bool) error {
	data, err := p.Dumps(v)
	if err != nil {
		return err
	}
	resp.SetMimetype("application/x-mine")
	resp.SetData(data)
	return nil
}

func TestJSONProviderReplaced(t *testing.T) {
	p := &upperProvider{}
	app := vial.New("test")
	app.SetJSONProvider(p)
	assert.Same(t, p, app.JSONProvider())
	app.Get("/slice", func(r *vial.Request) any { return []int{1} })
	app.Get("/json", func(r *vial.Request) any { return vial.MakeResponse(vial.JSON([]int{2}), 201) })
	app.Post("/in", func(r *vial.Request) any {
		var n float64
		if err := r.JSON(&n); err != nil {
			return err
		}
		return []float64{n}
	})
	c := app.TestClient()
	resp := c.Get("/slice")
	assert.Equal(t, "application/x-mine", resp.Header.Get("Content-Type"))
	assert.Equal(t, "[1]", resp.Text())
	resp = c.Get("/json")
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, "application/x-mine", resp.Header.Get("Content-Type"))
	assert.Equal(t, "[2]", resp.Text())
	assert.Equal(t, "[3.5]", c.Post("/in", vial.WithJSON(3.5)).Text())
	assert.Equal(t, 1, p.loads, "request bodies are decoded with the provider's Loads")

	app2 := vial.New("test")
	app2.SetJSONProvider(nil)
	assert.IsType(t, &vial.DefaultJSONProvider{}, app2.JSONProvider(), "nil restores the default")
}

func TestJSONOutsideTheApp(t *testing.T) {
	resp := vial.JSON(map[string]any{"b": 1, "a": "<é>"})
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "{\"a\":\"<\\u00e9>\",\"b\":1}\n", resp.Text(), "the default provider's bytes")

	// A Content-Type set after JSON, before the App encodes, is kept.
	app := vial.New("test")
	app.Get("/", func(r *vial.Request) any {
		resp := vial.JSON(map[string]any{"title": "x"})
		resp.SetMimetype("application/problem+json")
		return resp
	})
	got := app.TestClient().Get("/")
	assert.Equal(t, "application/problem+json", got.Header.Get("Content-Type"))
	assert.Equal(t, "{\"title\":\"x\"}\n", got.Text())
}

func TestJSONUnsupportedValueIsA500NamingIt(t *testing.T) {
	var logs bytes.Buffer
	app := quietApp(&logs)
	app.Get("/", func(r *vial.Request) any { return vial.JSON(map[string]any{"c": make(chan int)}) })
	resp := app.TestClient().Get("/")
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, logs.String(), "JSON")
	assert.Contains(t, logs.String(), "chan int")
}

func TestJSONLoads(t *testing.T) {
	p := &vial.DefaultJSONProvider{}
	var v any
	require.NoError(t, p.Loads([]byte(` {"n": 12345678901234567890} `), &v))
	assert.Equal(t, json.Number("12345678901234567890"), v.(map[string]any)["n"], "numbers kept exact")
	assert.Error(t, p.Loads([]byte(`{} x`), &v), "extra data")
	var syn *json.SyntaxError
	assert.True(t, errors.As(p.Loads([]byte(`{"a":]`), &v), &syn), "a *json.SyntaxError, for the 400's message")
}

func ExampleDefaultJSONProvider() {
	app := vial.New("hello")
	app.Get("/", func(r *vial.Request) any {
		return map[string]any{"b": 1, "a": "é<"}
	})
	fmt.Print(app.TestClient().Get("/").Text()) // Flask's bytes: sorted, ASCII, compact

	// Flask's app.json.ensure_ascii = False and compact = False:
	app = vial.New("hello")
	app.SetJSONProvider(&vial.DefaultJSONProvider{KeepNonASCII: true, Compact: new(false)})
	app.Get("/", func(r *vial.Request) any {
		return vial.JSON(map[string]any{"b": 1, "a": "é<"})
	})
	fmt.Print(app.TestClient().Get("/").Text())
	// Output:
	// {"a":"\u00e9<","b":1}
	// {
	//   "a": "é<",
	//   "b": 1
	// }
}
