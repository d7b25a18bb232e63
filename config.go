package vial

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
)

// Config is an App's configuration, keyed by upper-case names as in Flask.
//
// The loaders ([Config.FromFile], [Config.FromPrefixedEnv],
// [Config.FromMapping]) write into the map, so a nil Config panics as a
// nil map does; an App's, made by [New], is never nil. Numbers they load
// are int64 when whole and float64 otherwise, whatever the source, so that
// Config["PORT"] is the same type from a JSON file, a TOML file or the
// environment.
type Config map[string]any

func defaultConfig() Config {
	return Config{
		"DEBUG":                false,
		"TESTING":              false,
		"MAX_CONTENT_LENGTH":   nil,
		"MAX_FORM_MEMORY_SIZE": defaultMaxFormMemorySize,
		"MAX_FORM_PARTS":       defaultMaxFormParts,
		"SERVER_NAME":          "",
		"APPLICATION_ROOT":     "/",
		"PREFERRED_URL_SCHEME": "http",
		"PROPAGATE_EXCEPTIONS": nil,
		"TRUSTED_HOSTS":        nil,
		// Flask's subdomain_matching: match a request in the subdomain its
		// host has under SERVER_NAME (Rule.Subdomain). Off, every request is
		// matched in the default subdomain. Read once, when the App starts
		// serving (its first request), as Flask fixes it with the app.
		"SUBDOMAIN_MATCHING": false,
		// The session (SecureCookieSessionInterface), as Flask's defaults.
		"SECRET_KEY":                   nil,
		"SECRET_KEY_FALLBACKS":         nil,
		"PERMANENT_SESSION_LIFETIME":   31 * 24 * time.Hour,
		"SESSION_COOKIE_NAME":          "session",
		"SESSION_COOKIE_DOMAIN":        nil,
		"SESSION_COOKIE_PATH":          nil,
		"SESSION_COOKIE_HTTPONLY":      true,
		"SESSION_COOKIE_SECURE":        false,
		"SESSION_COOKIE_PARTITIONED":   false,
		"SESSION_COOKIE_SAMESITE":      nil,
		"SESSION_REFRESH_EACH_REQUEST": true,
		"MAX_COOKIE_SIZE":              4093,
	}
}

// String returns the value under key if it is a string, else "".
func (c Config) String(key string) string {
	s, _ := c[key].(string)
	return s
}

// Bool returns the value under key if it is a bool, else false.
func (c Config) Bool(key string) bool {
	b, _ := c[key].(bool)
	return b
}

// Int returns the value under key as an int64 when it is an integer of any
// size, a float holding a whole number (as JSON decoding gives), or a
// string of digits, and whether it is one.
func (c Config) Int(key string) (int64, bool) {
	v := reflect.ValueOf(c[key])
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		// Configuration read from JSON holds numbers as float64.
		if f := v.Float(); f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			return int64(f), true
		}
	case reflect.String:
		if n, err := strconv.ParseInt(strings.TrimSpace(v.String()), 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

// Float returns the value under key as a float64 when it is a number of
// any type or a string holding one, and whether it is one.
func (c Config) Float(key string) (float64, bool) {
	v := reflect.ValueOf(c[key])
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.String:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v.String()), 64); err == nil {
			return f, true
		}
		return 0, false
	}
	if n, ok := c.Int(key); ok {
		return float64(n), true
	}
	return 0, false
}

// Duration returns the value under key as a time.Duration, and whether it
// is one: a time.Duration as it is, a string time.ParseDuration reads
// ("30s", "1h30m"), or a number of seconds, as Flask's settings such as
// PERMANENT_SESSION_LIFETIME take a number of seconds.
func (c Config) Duration(key string) (time.Duration, bool) {
	switch v := c[key].(type) {
	case time.Duration:
		return v, true
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		return d, err == nil
	}
	if n, ok := c.Int(key); ok && math.Abs(float64(n)) < math.MaxInt64/float64(time.Second) {
		return time.Duration(n) * time.Second, true
	}
	if f, ok := c.Float(key); ok && math.Abs(f) < math.MaxInt64/float64(time.Second) {
		return time.Duration(f * float64(time.Second)), true
	}
	return 0, false
}

// FromMapping sets each upper-case key of m in c, as Flask's
// from_mapping: a key with a lower-case letter, or with no letter at all,
// is skipped (Python's str.isupper), so a mapping may hold helpers of its
// own beside the settings. Numbers are not normalised: m's values are
// stored as they are.
func (c Config) FromMapping(m map[string]any) {
	for k, v := range m {
		if isUpper(k) {
			c[k] = v
		}
	}
}

// isUpper is Python's str.isupper: there is a cased letter, and no letter
// is lower or title case.
func isUpper(s string) bool {
	cased := false
	for _, r := range s {
		switch {
		case unicode.IsLower(r), unicode.IsTitle(r):
			return false
		case unicode.IsUpper(r):
			cased = true
		}
	}
	return cased
}

// A FileOption changes how [Config.FromFile] loads a file.
type FileOption func(*fileOptions)

type fileOptions struct{ silent bool }

// Silent(true) lets the file be absent, Flask's silent=True: FromFile
// then loads nothing and returns nil. Any other failure (the file cannot
// be read or decoded) is still an error.
func Silent(silent bool) FileOption { return func(o *fileOptions) { o.silent = silent } }

// FromFile loads the upper-case top-level keys of a JSON (.json) or TOML
// (.toml) file into c, as Flask's from_file followed by from_mapping; the
// extension, in any case, chooses the decoder. The file's top level must
// be an object (a TOML document always is). A missing file is an error
// naming the path unless [Silent](true) is given; a file that does not
// decode is an error naming the path and the line.
//
//	app.Config.FromFile("config.toml")
//	app.Config.FromFile("instance/local.json", vial.Silent(true))
func (c Config) FromFile(path string, opts ...FileOption) error {
	var o fileOptions
	for _, opt := range opts {
		opt(&o)
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".json" && ext != ".toml" {
		return fmt.Errorf("vial: config file %s: unknown extension %q; .json and .toml are accepted", path, ext)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if o.silent && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("vial: config file: %w", err) // the *PathError names the path
	}
	var m map[string]any
	if ext == ".toml" {
		// toml's errors say "line N" themselves.
		if err := toml.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("vial: config file %s: %w", path, err)
		}
	} else if m, err = decodeJSONObject(data); err != nil {
		return fmt.Errorf("vial: config file %s: %w", path, err)
	}
	c.FromMapping(m)
	return nil
}

// decodeJSONObject decodes data, a JSON object, with numbers normalised
// (see normaliseNumbers); its errors name the line.
func decodeJSONObject(data []byte) (map[string]any, error) {
	var v any
	if err := decodeJSON(data, &v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("line %d: %w", lineAt(data, syn.Offset), err)
		}
		return nil, err
	}
	m, ok := normaliseNumbers(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the top level is %s; it must be an object of settings", jsonKind(v))
	}
	return m, nil
}

// lineAt is the line, counted from 1, of the byte at offset.
func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// jsonKind names the JSON type of a decoded value, for errors.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// normaliseNumbers turns each json.Number in v into an int64 when it is a
// whole number that fits, and a float64 otherwise, as TOML gives them.
func normaliseNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = normaliseNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normaliseNumbers(e)
		}
	}
	return v
}

// FromPrefixedEnv loads the environment variables named prefix + "_" +
// KEY as KEY, Flask 3's from_prefixed_env, in the sorted order of their
// names. A value that parses as JSON is stored decoded (VIAL_PORT=8000 an
// int64, VIAL_DEBUG=true a bool, VIAL_HOSTS='["a","b"]' a []any), any
// other stays a string (VIAL_NAME=abc). A "__" in KEY sets a key of a
// nested map, created when missing: VIAL_DB__HOST=x sets
// Config["DB"]["HOST"]. Keys keep their case, as Flask keeps them.
//
// When a "__" part names a value that is not a map (VIAL_DB=1 then
// VIAL_DB__HOST=x), it returns an error naming the variable, where Flask
// raises a TypeError; the variables sorted before it are loaded.
func (c Config) FromPrefixedEnv(prefix string) error {
	prefix += "_"
	var names []string
	values := map[string]string{}
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
			values[name] = value
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if err := c.setNested(strings.TrimPrefix(name, prefix), envValue(values[name])); err != nil {
			return fmt.Errorf("vial: environment variable %s: %w", name, err)
		}
	}
	return nil
}

// envValue is s decoded as JSON when it parses, else s.
func envValue(s string) any {
	var v any
	if decodeJSON([]byte(s), &v) != nil {
		return s
	}
	return normaliseNumbers(v)
}

// setNested sets value under key, whose "__" separate the keys of nested
// maps.
func (c Config) setNested(key string, value any) error {
	parts := strings.Split(key, "__")
	current := map[string]any(c)
	for i, part := range parts[:len(parts)-1] {
		next, ok := current[part]
		if !ok {
			next = map[string]any{}
			current[part] = next
		}
		switch m := next.(type) {
		case map[string]any:
			current = m
		case Config:
			current = m
		default:
			return fmt.Errorf("%s is %T, not a map, so %s cannot be set in it",
				strings.Join(parts[:i+1], "__"), next, parts[len(parts)-1])
		}
	}
	current[parts[len(parts)-1]] = value
	return nil
}
