package vial

// The built-in converters, werkzeug's DEFAULT_CONVERTERS, one type each as
// werkzeug has one small class each: string (also the default), path, any,
// int, float and uuid; and the helpers that give a value its URL text.

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ---- string ----

// stringConverter is werkzeug's UnicodeConverter: one path segment,
// string(minlength=1, maxlength=None, length=None) characters long.
type stringConverter struct{ pattern string }

func newStringConverter(args ConverterArgs) (Converter, error) {
	if err := args.Expect("minlength", "maxlength", "length"); err != nil {
		return nil, err
	}
	minLen, hasMin, err := args.Int(0, "minlength")
	if err != nil {
		return nil, err
	}
	if !hasMin {
		minLen = 1
	}
	maxLen, hasMax, err := args.Int(1, "maxlength")
	if err != nil {
		return nil, err
	}
	length, hasLen, err := args.Int(2, "length")
	if err != nil {
		return nil, err
	}
	switch {
	case hasLen && length < 0, minLen < 0, hasMax && maxLen < 0:
		return nil, errors.New("lengths must not be negative")
	case hasMax && maxLen < minLen:
		return nil, fmt.Errorf("maxlength=%d is less than minlength=%d", maxLen, minLen)
	case hasLen:
		return stringConverter{"[^/]{" + strconv.Itoa(length) + "}"}, nil
	case hasMax:
		return stringConverter{"[^/]{" + strconv.Itoa(minLen) + "," + strconv.Itoa(maxLen) + "}"}, nil
	}
	return stringConverter{"[^/]{" + strconv.Itoa(minLen) + ",}"}, nil
}

func (c stringConverter) Pattern() string               { return c.pattern }
func (c stringConverter) ToValue(s string) (any, error) { return s, nil }
func (c stringConverter) ToURL(v any) (string, error) {
	return escapePath(toText(v), false), nil
}

// ---- path ----

// pathConverter is werkzeug's PathConverter: like string, but spanning
// segments, slashes included.
type pathConverter struct{}

func newPathConverter(args ConverterArgs) (Converter, error) {
	if err := args.Expect(); err != nil {
		return nil, err
	}
	return pathConverter{}, nil
}

// (?s:…) so that a decoded %0A does not end the match, as in werkzeug 2.1+.
func (pathConverter) Pattern() string               { return `[^/](?s:.*?)` }
func (pathConverter) Weight() int                   { return 200 }
func (pathConverter) ToValue(s string) (any, error) { return s, nil }
func (pathConverter) ToURL(v any) (string, error)   { return escapePath(toText(v), true), nil }

// ---- any ----

// anyConverter is werkzeug's AnyConverter: one of the listed words.
type anyConverter struct {
	choices []string
	pattern string
}

func newAnyConverter(args ConverterArgs) (Converter, error) {
	if len(args.Keyword) > 0 {
		return nil, errors.New("takes only positional arguments: the choices")
	}
	if len(args.Positional) == 0 {
		return nil, errors.New("needs at least one choice")
	}
	quoted := make([]string, len(args.Positional))
	for i, c := range args.Positional {
		quoted[i] = regexp.QuoteMeta(c)
	}
	return anyConverter{
		choices: append([]string(nil), args.Positional...),
		pattern: "(?:" + strings.Join(quoted, "|") + ")",
	}, nil
}

func (c anyConverter) Pattern() string { return c.pattern }

func (c anyConverter) ToValue(s string) (any, error) {
	if !slices.Contains(c.choices, s) {
		return nil, errNoMatch
	}
	return s, nil
}

func (c anyConverter) ToURL(v any) (string, error) {
	s := toText(v)
	if !slices.Contains(c.choices, s) {
		return "", fmt.Errorf("%q is not one of %q", s, c.choices)
	}
	return escapePath(s, false), nil
}

// ---- int and float ----

// intConverter is werkzeug's IntegerConverter:
// int(fixed_digits=0, min=None, max=None, signed=False). Values are int.
type intConverter struct {
	fixedDigits    int
	min, max       int
	hasMin, hasMax bool
	signed         bool
	pattern        string
}

func newIntConverter(args ConverterArgs) (Converter, error) {
	if err := args.Expect("fixed_digits", "min", "max", "signed"); err != nil {
		return nil, err
	}
	c := intConverter{pattern: `\d+`}
	var err error
	if c.fixedDigits, _, err = args.Int(0, "fixed_digits"); err != nil {
		return nil, err
	}
	if c.fixedDigits < 0 {
		return nil, errors.New("fixed_digits must not be negative")
	}
	if c.min, c.hasMin, err = args.Int(1, "min"); err != nil {
		return nil, err
	}
	if c.max, c.hasMax, err = args.Int(2, "max"); err != nil {
		return nil, err
	}
	if c.signed, _, err = args.Bool(3, "signed"); err != nil {
		return nil, err
	}
	if c.signed {
		c.pattern = `-?\d+`
	}
	return c, nil
}

func (c intConverter) Pattern() string { return c.pattern }
func (c intConverter) Weight() int     { return 50 }

func (c intConverter) ToValue(s string) (any, error) {
	if c.fixedDigits > 0 && len(s) != c.fixedDigits {
		return nil, errNoMatch
	}
	n, err := strconv.Atoi(s)
	if err != nil || c.hasMin && n < c.min || c.hasMax && n > c.max {
		return nil, errNoMatch
	}
	return n, nil
}

func (c intConverter) ToURL(v any) (string, error) {
	n, err := toInt(v)
	if err != nil {
		return "", err
	}
	if n < 0 && !c.signed {
		return "", fmt.Errorf("%d is negative and the converter is not signed", n)
	}
	if c.hasMin && n < int64(c.min) || c.hasMax && n > int64(c.max) {
		return "", fmt.Errorf("%d is out of the converter's range", n)
	}
	s := strconv.FormatInt(n, 10)
	if len(s) < c.fixedDigits { // Python's str.zfill: zeros after the sign
		digits := strings.TrimPrefix(s, "-")
		s = s[:len(s)-len(digits)] + strings.Repeat("0", c.fixedDigits-len(s)) + digits
	}
	return s, nil
}

// floatConverter is werkzeug's FloatConverter:
// float(min=None, max=None, signed=False). It wants a dot: "1" does not
// match, "1.0" does. Values are float64.
type floatConverter struct {
	min, max       float64
	hasMin, hasMax bool
	signed         bool
	pattern        string
}

func newFloatConverter(args ConverterArgs) (Converter, error) {
	if err := args.Expect("min", "max", "signed"); err != nil {
		return nil, err
	}
	c := floatConverter{pattern: `\d+\.\d+`}
	var err error
	if c.min, c.hasMin, err = args.Float(0, "min"); err != nil {
		return nil, err
	}
	if c.max, c.hasMax, err = args.Float(1, "max"); err != nil {
		return nil, err
	}
	if c.signed, _, err = args.Bool(2, "signed"); err != nil {
		return nil, err
	}
	if c.signed {
		c.pattern = `-?\d+\.\d+`
	}
	return c, nil
}

func (c floatConverter) Pattern() string { return c.pattern }
func (c floatConverter) Weight() int     { return 50 }

func (c floatConverter) ToValue(s string) (any, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || c.hasMin && f < c.min || c.hasMax && f > c.max {
		return nil, errNoMatch
	}
	return f, nil
}

func (c floatConverter) ToURL(v any) (string, error) {
	f, err := toFloat(v)
	if err != nil {
		return "", err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("%v has no URL form", f)
	}
	if f < 0 && !c.signed {
		return "", fmt.Errorf("%v is negative and the converter is not signed", f)
	}
	if c.hasMin && f < c.min || c.hasMax && f > c.max {
		return "", fmt.Errorf("%v is out of the converter's range", f)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64) // no exponent: 1e-05 → 0.00001
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s, nil
}

// ---- uuid ----

// uuidConverter is werkzeug's UUIDConverter; values are UUID.
type uuidConverter struct{}

func newUUIDConverter(args ConverterArgs) (Converter, error) {
	if err := args.Expect(); err != nil {
		return nil, err
	}
	return uuidConverter{}, nil
}

func (uuidConverter) Pattern() string {
	return `[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}`
}

func (uuidConverter) ToValue(s string) (any, error) {
	u, err := ParseUUID(s)
	if err != nil {
		return nil, errNoMatch
	}
	return u, nil
}

func (uuidConverter) ToURL(v any) (string, error) {
	switch v := v.(type) {
	case UUID:
		return v.String(), nil
	case *UUID:
		if v != nil {
			return v.String(), nil
		}
	case [16]byte:
		return UUID(v).String(), nil
	case string:
		u, err := ParseUUID(v)
		if err != nil {
			return "", err
		}
		return u.String(), nil
	case fmt.Stringer: // another package's UUID type
		return uuidConverter{}.ToURL(v.String())
	}
	return "", fmt.Errorf("%v (%T) is not a UUID", v, v)
}

// ---- value helpers ----

// toText is a value's text in a URL: strings as they are, numbers and
// booleans in Go's notation, Stringers by String, the rest by fmt.
func toText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case fmt.Stringer:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	}
	if n, err := toInt(v); err == nil {
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprint(v)
}

// toInt accepts Go's integer kinds and decimal text.
func toInt(v any) (int64, error) {
	if s, ok := v.(string); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", s)
		}
		return n, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return 0, fmt.Errorf("%d is too large", u)
		}
		return int64(u), nil
	}
	return 0, fmt.Errorf("%v (%T) is not an integer", v, v)
}

// toFloat accepts Go's number kinds and decimal text.
func toFloat(v any) (float64, error) {
	switch v := v.(type) {
	case float64:
		return v, nil
	case float32:
		return float64(v), nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", v)
		}
		return f, nil
	}
	n, err := toInt(v)
	if err != nil {
		return 0, fmt.Errorf("%v (%T) is not a number", v, v)
	}
	return float64(n), nil
}

// escapePath percent-encodes s for a URL path, keeping what the WHATWG
// path-segment set keeps (werkzeug's safe="!$&'()*+,/:;=@"), and "/" only
// when keepSlash is set. It returns s itself when nothing needs encoding.
func escapePath(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !pathSafe(s[i], keepSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; pathSafe(c, keepSlash) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

func pathSafe(c byte, keepSlash bool) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '/':
		return keepSlash
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}
