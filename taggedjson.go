package vial

// Flask's TaggedJSONSerializer (flask/json/tag.py), the serializer of its
// session cookie: JSON with the Python types JSON lacks written as one-key
// objects whose key is a tag. The bytes are those Flask writes in a
// request (app.json.dumps with separators (",", ":")): compact, keys
// sorted, every character outside printable ASCII escaped as \uXXXX
// (ensure_ascii), floats as Python's repr writes them.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Tuple is a Python tuple as the session stores it (Flask's tag " t"): a
// list that comes back a Tuple rather than a []any. Flashed messages are
// stored as Tuple{category, message}.
type Tuple []any

// The tags of Flask's serializer, by key.
const (
	tagTuple  = " t"
	tagBytes  = " b"
	tagMarkup = " m"
	tagUUID   = " u"
	tagTime   = " d"
	tagDict   = " di"
)

func isTag(key string) bool {
	switch key {
	case tagTuple, tagBytes, tagMarkup, tagUUID, tagTime, tagDict:
		return true
	}
	return false
}

// marshalTagged writes v as Flask's TaggedJSONSerializer.dumps does.
// Besides JSON's types (nil, bool, strings, numbers of any Go type, slices
// and string-keyed maps of them) it takes Tuple (tag " t"), []byte (" b",
// standard base64), template.HTML (" m", Flask's Markup), UUID (" u", 32
// hex digits) and time.Time (" d", an HTTP date, in whole seconds, UTC).
// Any other value is converted with encoding/json first, as Flask's JSON
// provider converts a dataclass. A NaN or infinite float is an error.
func marshalTagged(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeTagged(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeTagged(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		writePyString(b, v)
	case template.HTML:
		return writeTag(b, tagMarkup, string(v))
	case []byte:
		return writeTag(b, tagBytes, base64.StdEncoding.EncodeToString(v))
	case UUID:
		return writeTag(b, tagUUID, hex.EncodeToString(v[:]))
	case time.Time:
		return writeTag(b, tagTime, v.UTC().Format(http.TimeFormat))
	case Tuple:
		b.WriteString(`{" t":`)
		if err := writeTaggedList(b, len(v), func(i int) any { return v[i] }); err != nil {
			return err
		}
		b.WriteByte('}')
	case []any:
		return writeTaggedList(b, len(v), func(i int) any { return v[i] })
	case map[string]any:
		return writeTaggedDict(b, v)
	case json.Number:
		if !json.Valid([]byte(v)) {
			return fmt.Errorf("vial: session: %q is not a JSON number", string(v))
		}
		b.WriteString(string(v))
	case float64:
		return writePyFloat(b, v)
	case float32:
		return writePyFloat(b, float64(v))
	default:
		return writeReflect(b, v)
	}
	return nil
}

func writeTag(b *bytes.Buffer, tag string, v any) error {
	b.WriteString(`{"`)
	b.WriteString(tag)
	b.WriteString(`":`)
	if err := writeTagged(b, v); err != nil {
		return err
	}
	b.WriteByte('}')
	return nil
}

func writeTaggedList(b *bytes.Buffer, n int, item func(int) any) error {
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeTagged(b, item(i)); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// writeTaggedDict writes m with sorted keys; a map of one key that is a tag is
// wrapped in " di", as Flask's TagDict does, so that it is not read back
// as the tagged value.
func writeTaggedDict(b *bytes.Buffer, m map[string]any) error {
	if len(m) == 1 {
		for k, v := range m {
			if isTag(k) {
				return writeTag(b, tagDict, map[string]any{k + "__": v})
			}
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // UTF-8 byte order is Python's code point order
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writePyString(b, k)
		b.WriteByte(':')
		if err := writeTagged(b, m[k]); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// writeReflect writes the values of other Go types: numbers and strings of
// named types, slices and arrays, string-keyed maps; anything else goes
// through encoding/json.
func writeReflect(b *bytes.Buffer, v any) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
		return nil
	case reflect.Float32, reflect.Float64:
		return writePyFloat(b, rv.Float())
	case reflect.Bool:
		return writeTagged(b, rv.Bool())
	case reflect.String:
		if _, ok := v.(json.Marshaler); !ok {
			writePyString(b, rv.String())
			return nil
		}
	case reflect.Slice, reflect.Array:
		if _, ok := v.(json.Marshaler); !ok && (rv.Kind() == reflect.Array || !rv.IsNil()) {
			return writeTaggedList(b, rv.Len(), func(i int) any { return rv.Index(i).Interface() })
		}
	case reflect.Map:
		if _, ok := v.(json.Marshaler); !ok && rv.Type().Key().Kind() == reflect.String && !rv.IsNil() {
			m := make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				m[it.Key().String()] = it.Value().Interface()
			}
			return writeTaggedDict(b, m)
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("vial: session: a %T cannot be stored: %w", v, err)
	}
	generic, err := decodeNumbers(data)
	if err != nil {
		return err
	}
	return writeTagged(b, generic)
}

// writePyFloat writes f as Python's float repr: the shortest digits that
// read back as f, in fixed notation from 1e-4 up to 1e16 (with ".0" when
// whole), in exponent notation outside ("1e+16", "1.5e-05").
func writePyFloat(b *bytes.Buffer, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("vial: session: %v cannot be stored: JSON has no NaN or infinity", f)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		b.WriteString(e)
		return nil
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	b.WriteString(s)
	if !strings.ContainsRune(s, '.') {
		b.WriteString(".0")
	}
	return nil
}

// writePyString writes s as Python's json.dumps with ensure_ascii: printable
// ASCII as it is, the short escapes \" \\ \n \r \t \b \f, anything else
// \u00XX, characters past U+FFFF as a surrogate pair.
func writePyString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	u := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hexDigits[r>>12&0xf])
		b.WriteByte(hexDigits[r>>8&0xf])
		b.WriteByte(hexDigits[r>>4&0xf])
		b.WriteByte(hexDigits[r&0xf])
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= ' ' && r <= '~':
			b.WriteByte(byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			u(r1)
			u(r2)
		default:
			u(r)
		}
	}
	b.WriteByte('"')
}

// errNotSession is a payload that decodes but is not a session object.
var errNotSession = errors.New("vial: session: the payload is not a JSON object")

// unmarshalTagged reads what TaggedJSONSerializer.loads reads: the tagged
// types come back as Tuple, []byte, template.HTML, UUID and time.Time (UTC);
// whole numbers as int64 (float64 past its range), other numbers as
// float64, objects as map[string]any, arrays as []any.
func unmarshalTagged(data []byte) (map[string]any, error) {
	v, err := decodeNumbers(data)
	if err != nil {
		return nil, err
	}
	v, err = untagScan(v)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errNotSession
	}
	return m, nil
}

// decodeNumbers decodes JSON with its numbers as int64 or float64.
func decodeNumbers(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("vial: session: the payload is not UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("vial: session: data after the JSON value")
	}
	return normaliseNumbers(v), nil
}

// untagScan is TaggedJSONSerializer._untag_scan: the values first, then
// the object itself.
func untagScan(v any) (any, error) {
	var err error
	switch v := v.(type) {
	case map[string]any:
		for k, item := range v {
			if v[k], err = untagScan(item); err != nil {
				return nil, err
			}
		}
		return untag(v)
	case []any:
		for i, item := range v {
			if v[i], err = untagScan(item); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// untag turns a one-key object whose key is a tag back into its value.
func untag(m map[string]any) (any, error) {
	if len(m) != 1 {
		return m, nil
	}
	for k, v := range m {
		s, isString := v.(string)
		switch {
		case k == tagTuple:
			if list, ok := v.([]any); ok {
				return Tuple(list), nil
			}
		case k == tagDict:
			if inner, ok := v.(map[string]any); ok && len(inner) == 1 {
				for ik, iv := range inner {
					return map[string]any{ik[:max(len(ik)-2, 0)]: iv}, nil // key[:-2]
				}
			}
		case !isTag(k):
			return m, nil
		case !isString:
		case k == tagBytes:
			return base64.StdEncoding.DecodeString(s)
		case k == tagMarkup:
			return template.HTML(s), nil
		case k == tagUUID:
			return parseUUIDHex(s)
		case k == tagTime:
			t, err := http.ParseTime(s)
			if err != nil {
				return nil, nil // werkzeug's parse_date gives None
			}
			return t.UTC(), nil
		}
		return nil, fmt.Errorf("vial: session: a malformed %q value", k)
	}
	return m, nil
}

// parseUUIDHex reads a UUID as Python's uuid.UUID(hex) does: 32 hex
// digits, hyphens, braces and a "urn:uuid:" prefix ignored.
func parseUUIDHex(s string) (UUID, error) {
	s = strings.TrimPrefix(s, "urn:uuid:")
	s = strings.Trim(s, "{}")
	s = strings.ReplaceAll(s, "-", "")
	var u UUID
	if len(s) != 32 {
		return u, fmt.Errorf("vial: session: %q is not a UUID", s)
	}
	if _, err := hex.Decode(u[:], []byte(s)); err != nil {
		return u, fmt.Errorf("vial: session: %q is not a UUID", s)
	}
	return u, nil
}
