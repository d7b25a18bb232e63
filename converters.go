package vial

// Converters, as werkzeug's converters.py defines them: the interface a
// converter implements, the arguments a rule gives it, the map's default
// set and NewConverter for custom ones. The built-in types are in
// converter_types.go.

import (
	"errors"
	"fmt"
	"math"
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
