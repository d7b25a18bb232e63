package vial

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// A Converter turns one variable of a URL rule into a Go value and back:
// werkzeug's BaseConverter. In "/user/<int:id>" the converter is "int".
//
// Pattern is the regular expression (RE2 syntax, no capturing groups; use
// (?:…)) a variable's text must match, anchored at both ends. A pattern
// that can match a "/" (like path's) makes the variable span segments; any
// other stays within one path segment.
//
// ToValue converts the matched, percent-decoded text to the value the view
// gets in Request.ViewArgs. An error means "this rule does not match": the
// matcher goes on with the next candidate rule, as werkzeug does on a
// ValidationError.
//
// ToURL converts a value given to URLFor to its text in a URL, already
// percent-encoded. An error makes the rule unusable for those values.
//
// A converter may also have a method Weight() int that orders it against
// the others at the same place in a rule: lower is tried first. The
// built-in weights are werkzeug's: int and float 50, string, any and uuid
// 100 (the default), path 200.
//
// A Converter must be safe for concurrent use once its rule is added: the
// matcher calls it from every request.
type Converter interface {
	Pattern() string
	ToValue(s string) (any, error)
	ToURL(v any) (string, error)
}

// A ConverterFactory makes the Converter for one variable of a rule from
// the arguments written in the rule: for "<int(min=1):id>" the "int"
// factory gets Keyword {"min": "1"}. An error panics the rule's
// registration with a message naming the rule.
//
// URLMap.Converters maps converter names to factories; add an entry to
// make a custom converter available to rules. [NewConverter] makes a
// factory from a pattern and two functions.
type ConverterFactory func(args ConverterArgs) (Converter, error)

// ConverterArgs are the arguments of a converter in a rule, parsed the way
// werkzeug parses them (Python call syntax): in `any('a', "b", c)` the
// Positional arguments are a, b and c; in `int(min=1, signed=True)` the
// Keyword arguments are min=1 and signed=True. Quotes are removed; values
// stay text, read them with the typed getters. The value None counts as
// absent.
type ConverterArgs struct {
	Positional []string          // positional arguments, in order
	Keyword    map[string]string // keyword arguments by name
}

// Lookup returns the argument given by keyword name, or else the pos'th
// positional argument (pos < 0: keyword only). ok is false when the
// argument is absent or None.
func (a ConverterArgs) Lookup(pos int, name string) (value string, ok bool) {
	if v, found := a.Keyword[name]; found {
		value, ok = v, true
	} else if pos >= 0 && pos < len(a.Positional) {
		value, ok = a.Positional[pos], true
	}
	if ok && value == "None" {
		return "", false
	}
	return value, ok
}

// Int returns the argument (see Lookup) as an int. ok is false when it is
// absent; err says why a given value is not an integer.
func (a ConverterArgs) Int(pos int, name string) (v int, ok bool, err error) {
	s, ok := a.Lookup(pos, name)
	if !ok {
		return 0, false, nil
	}
	v, err = strconv.Atoi(s)
	if err != nil {
		return 0, false, fmt.Errorf("argument %s=%s is not an integer", name, s)
	}
	return v, true, nil
}

// Float returns the argument (see Lookup) as a float64. ok is false when it
// is absent; err says why a given value is not a number.
func (a ConverterArgs) Float(pos int, name string) (v float64, ok bool, err error) {
	s, ok := a.Lookup(pos, name)
	if !ok {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, fmt.Errorf("argument %s=%s is not a number", name, s)
	}
	return v, true, nil
}

// Bool returns the argument (see Lookup) as a bool: True, False (Python's
// spelling), true, false, 1 or 0. ok is false when it is absent.
func (a ConverterArgs) Bool(pos int, name string) (v bool, ok bool, err error) {
	s, ok := a.Lookup(pos, name)
	if !ok {
		return false, false, nil
	}
	switch s {
	case "True", "true", "1":
		return true, true, nil
	case "False", "false", "0":
		return false, true, nil
	}
	return false, false, fmt.Errorf("argument %s=%s is not True or False", name, s)
}

// Expect checks the arguments against a converter's parameters, in order,
// as Python checks a call: no more positional arguments than parameters,
// no unknown keyword, no parameter given twice.
func (a ConverterArgs) Expect(params ...string) error {
	if len(a.Positional) > len(params) {
		return fmt.Errorf("takes at most %d arguments (%d given)", len(params), len(a.Positional))
	}
	for name := range a.Keyword {
		i := slices.Index(params, name)
		if i < 0 {
			return fmt.Errorf("got an unexpected keyword argument %q", name)
		}
		if i < len(a.Positional) {
			return fmt.Errorf("got multiple values for argument %q", name)
		}
	}
	return nil
}

// parseConverterArgs parses the text between a converter's parentheses,
// Python style: `1, min=2, name='x', flag=True`. A trailing comma is fine.
func parseConverterArgs(s string) (ConverterArgs, error) {
	var a ConverterArgs
	i := skipSpace(s, 0)
	for i < len(s) {
		name := ""
		if isIdentStart(s[i]) {
			j := scanIdent(s, i)
			if k := skipSpace(s, j); k < len(s) && s[k] == '=' {
				name = s[i:j]
				i = skipSpace(s, k+1)
			}
		}
		if i == len(s) {
			return a, fmt.Errorf("missing value for argument %q", name)
		}
		var value string
		if q := s[i]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				return a, fmt.Errorf("unclosed quote in converter arguments %q", s)
			}
			value = s[i+1 : i+1+end]
			i += end + 2
		} else {
			j := i
			for j < len(s) && (isIdentChar(s[j]) || s[j] == '.' || s[j] == '-' || s[j] == '+') {
				j++
			}
			if j == i {
				return a, fmt.Errorf("cannot parse converter argument at %q", s[i:])
			}
			value = s[i:j]
			i = j
		}
		if name != "" {
			if _, dup := a.Keyword[name]; dup {
				return a, fmt.Errorf("keyword argument %q repeated", name)
			}
			if a.Keyword == nil {
				a.Keyword = make(map[string]string)
			}
			a.Keyword[name] = value
		} else {
			if len(a.Keyword) > 0 {
				return a, fmt.Errorf("positional argument %q follows keyword argument", value)
			}
			a.Positional = append(a.Positional, value)
		}
		i = skipSpace(s, i)
		if i == len(s) {
			break
		}
		if s[i] != ',' {
			return a, fmt.Errorf("cannot parse converter argument at %q", s[i:])
		}
		i = skipSpace(s, i+1)
	}
	return a, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

func scanIdent(s string, i int) int {
	for i < len(s) && isIdentChar(s[i]) {
		i++
	}
	return i
}

// errNoMatch is what the built-in converters' ToValue returns for text
// their pattern accepts but their options refuse.
var errNoMatch = errors.New("vial: value refused by the converter")

// weighted is the optional Weight method of a Converter.
type weighted interface{ Weight() int }

// converterWeight is c's weight, 100 by default as in werkzeug.
func converterWeight(c Converter) int {
	if w, ok := c.(weighted); ok {
		return w.Weight()
	}
	return 100
}

// patternMatchesSlash reports whether the regular expression can match a
// text containing "/": werkzeug's part_isolating = False. It reads the
// parsed expression rather than the text, so "[^/]+" stays in one segment
// while "[^/].*?" (path) or "[a-z/]+" span segments.
func patternMatchesSlash(pattern string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return false // the caller reports the compile error
	}
	var walk func(*syntax.Regexp) bool
	walk = func(re *syntax.Regexp) bool {
		switch re.Op {
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			return true
		case syntax.OpLiteral:
			for _, r := range re.Rune {
				if r == '/' {
					return true
				}
			}
		case syntax.OpCharClass:
			for i := 0; i+1 < len(re.Rune); i += 2 {
				if re.Rune[i] <= '/' && '/' <= re.Rune[i+1] {
					return true
				}
			}
		}
		for _, sub := range re.Sub {
			if walk(sub) {
				return true
			}
		}
		return false
	}
	return walk(re)
}

// defaultConverters is werkzeug's DEFAULT_CONVERTERS.
func defaultConverters() map[string]ConverterFactory {
	return map[string]ConverterFactory{
		"default": newStringConverter,
		"string":  newStringConverter,
		"int":     newIntConverter,
		"float":   newFloatConverter,
		"path":    newPathConverter,
		"uuid":    newUUIDConverter,
		"any":     newAnyConverter,
	}
}

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

// UUID is the value of a <uuid:…> variable: the 16 bytes of a UUID.
// String gives the canonical lower-case form; it marshals to JSON as that
// string.
type UUID [16]byte

// ParseUUID parses the hyphenated form, 8-4-4-4-12 hex digits in either
// case, as the uuid converter matches it.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("vial: %q is not a UUID", s)
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return UUID{}, fmt.Errorf("vial: %q is not a UUID", s)
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// String returns the canonical form, "123e4567-e89b-12d3-a456-426614174000".
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// MarshalText returns the canonical form, so a UUID is a string in JSON.
func (u UUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText parses the hyphenated form.
func (u *UUID) UnmarshalText(b []byte) error {
	v, err := ParseUUID(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

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

// ---- custom converters ----

// NewConverter returns a factory for a converter without arguments: the
// easy way to add one to URLMap.Converters. pattern is its regular
// expression (see [Converter]); toValue turns matched text into the view's
// value (nil: the text itself), an error meaning no match; toURL turns a
// value into URL text (nil: the value's text, percent-encoded as one path
// segment). Its weight is 100, as a string's.
//
//	app.URLMap.Converters["list"] = vial.NewConverter(`[^/]+(?:\+[^/]+)*`,
//		func(s string) (any, error) { return strings.Split(s, "+"), nil },
//		func(v any) (string, error) { return strings.Join(v.([]string), "+"), nil })
//	app.Get("/tags/<list:tags>", showTags)
func NewConverter(pattern string, toValue func(string) (any, error), toURL func(any) (string, error)) ConverterFactory {
	c := &funcConverter{pattern: pattern, toValue: toValue, toURL: toURL}
	return func(args ConverterArgs) (Converter, error) {
		if len(args.Positional) > 0 || len(args.Keyword) > 0 {
			return nil, errors.New("takes no arguments")
		}
		return c, nil
	}
}

type funcConverter struct {
	pattern string
	toValue func(string) (any, error)
	toURL   func(any) (string, error)
}

func (c *funcConverter) Pattern() string { return c.pattern }

func (c *funcConverter) ToValue(s string) (any, error) {
	if c.toValue == nil {
		return s, nil
	}
	return c.toValue(s)
}

func (c *funcConverter) ToURL(v any) (string, error) {
	if c.toURL == nil {
		return escapePath(toText(v), false), nil
	}
	return c.toURL(v)
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
