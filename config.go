package vial

import (
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Config is an App's configuration, keyed by upper-case names as in Flask.
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
