package vial

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConverterArgs(t *testing.T) {
	cases := []struct {
		in    string
		pos   []string
		kw    map[string]string
		error string
	}{
		{in: ""},
		{in: "  "},
		{in: "1", pos: []string{"1"}},
		{in: "min=1,max=99", kw: map[string]string{"min": "1", "max": "99"}},
		{in: " min = 1 , max = 99 , ", kw: map[string]string{"min": "1", "max": "99"}},
		{in: `'a', "b", c`, pos: []string{"a", "b", "c"}},
		{in: `'a,b', "c)d"`, pos: []string{"a,b", "c)d"}},
		{in: "4, signed=True", pos: []string{"4"}, kw: map[string]string{"signed": "True"}},
		{in: "min=-5, max=2.5", kw: map[string]string{"min": "-5", "max": "2.5"}},
		{in: "x=None", kw: map[string]string{"x": "None"}},
		{in: `'unclosed`, error: "unclosed quote"},
		{in: "a=1, b", error: "follows keyword argument"},
		{in: "a=1, a=2", error: "repeated"},
		{in: "a b", error: "cannot parse"},
		{in: "a=", error: "missing value"},
		{in: "a,,b", error: "cannot parse"},
		{in: "(x)", error: "cannot parse"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			a, err := parseConverterArgs(c.in)
			if c.error != "" {
				assert.ErrorContains(t, err, c.error)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.pos, a.Positional)
			assert.Equal(t, c.kw, a.Keyword)
		})
	}
}

func TestConverterArgsGetters(t *testing.T) {
	a, err := parseConverterArgs(`3, 1.5, True, max=None, s='x', n=abc`)
	require.NoError(t, err)

	v, ok, err := a.Int(0, "first")
	assert.Equal(t, []any{3, true, nil}, []any{v, ok, err})
	_, ok, err = a.Int(-1, "missing")
	assert.False(t, ok)
	assert.NoError(t, err)
	_, _, err = a.Int(-1, "n")
	assert.EqualError(t, err, "argument n=abc is not an integer")
	_, ok, _ = a.Int(7, "max")
	assert.False(t, ok, "None is absent")

	f, ok, err := a.Float(1, "second")
	assert.Equal(t, []any{1.5, true, nil}, []any{f, ok, err})
	_, _, err = a.Float(-1, "n")
	assert.EqualError(t, err, "argument n=abc is not a number")

	b, ok, err := a.Bool(2, "third")
	assert.Equal(t, []any{true, true, nil}, []any{b, ok, err})
	_, _, err = a.Bool(-1, "s")
	assert.EqualError(t, err, "argument s=x is not True or False")

	s, ok := a.Lookup(-1, "s")
	assert.Equal(t, "x", s)
	assert.True(t, ok)
	s, ok = a.Lookup(0, "s")
	assert.Equal(t, "x", s, "the keyword wins")
	assert.True(t, ok)

	assert.NoError(t, a.Expect("a", "b", "c", "max", "s", "n"))
	assert.EqualError(t, a.Expect("a", "b"), "takes at most 2 arguments (3 given)")
	assert.EqualError(t, ConverterArgs{Keyword: map[string]string{"z": "1"}}.Expect("a"), `got an unexpected keyword argument "z"`)
	assert.EqualError(t, ConverterArgs{Positional: []string{"1"}, Keyword: map[string]string{"a": "1"}}.Expect("a"),
		`got multiple values for argument "a"`)
}

// conv makes a built-in converter from its rule syntax arguments.
func conv(t *testing.T, name, args string) Converter {
	t.Helper()
	a, err := parseConverterArgs(args)
	require.NoError(t, err)
	c, err := defaultConverters()[name](a)
	require.NoError(t, err)
	return c
}

// accepts reports whether c takes s: its pattern matches and ToValue
// agrees, as the matcher asks.
func accepts(t *testing.T, c Converter, s string) (any, bool) {
	t.Helper()
	m := NewURLMap()
	m.Converters["c"] = func(ConverterArgs) (Converter, error) { return c, nil }
	m.Add(&Rule{Rule: "/x/<c:v>", Endpoint: "x"})
	_, args, err := m.Match("/x/"+s, "GET")
	if err != nil {
		return nil, false
	}
	return args["v"], true
}

func TestStringConverter(t *testing.T) {
	c := conv(t, "string", "")
	assert.Equal(t, "[^/]{1,}", c.Pattern())
	v, ok := accepts(t, c, "héllo wörld")
	assert.True(t, ok)
	assert.Equal(t, "héllo wörld", v)
	_, ok = accepts(t, c, "")
	assert.False(t, ok)
	assert.Equal(t, 100, converterWeight(c))

	two := conv(t, "string", "length=2")
	_, ok = accepts(t, two, "fr")
	assert.True(t, ok)
	_, ok = accepts(t, two, "éé")
	assert.True(t, ok, "length counts characters, not bytes")
	_, ok = accepts(t, two, "fra")
	assert.False(t, ok)

	between := conv(t, "string", "minlength=2, maxlength=3")
	for s, want := range map[string]bool{"a": false, "ab": true, "abc": true, "abcd": false} {
		_, ok = accepts(t, between, s)
		assert.Equal(t, want, ok, s)
	}
	atLeast := conv(t, "string", "3")
	_, ok = accepts(t, atLeast, "ab")
	assert.False(t, ok, "positional minlength")
	_, ok = accepts(t, atLeast, "abcdefgh")
	assert.True(t, ok)

	u, err := c.ToURL("a/b c")
	require.NoError(t, err)
	assert.Equal(t, "a%2Fb%20c", u)
	u, _ = c.ToURL(12)
	assert.Equal(t, "12", u)
}

func TestIntConverter(t *testing.T) {
	c := conv(t, "int", "")
	assert.Equal(t, `\d+`, c.Pattern())
	assert.Equal(t, 50, converterWeight(c))
	v, ok := accepts(t, c, "42")
	assert.Equal(t, 42, v)
	assert.True(t, ok)
	for _, s := range []string{"-1", "4.2", "x", "", "99999999999999999999999"} {
		_, ok = accepts(t, c, s)
		assert.False(t, ok, s)
	}

	signed := conv(t, "int", "signed=True")
	v, ok = accepts(t, signed, "-7")
	assert.True(t, ok)
	assert.Equal(t, -7, v)

	fixed := conv(t, "int", "fixed_digits=3")
	v, ok = accepts(t, fixed, "007")
	assert.True(t, ok)
	assert.Equal(t, 7, v)
	_, ok = accepts(t, fixed, "7")
	assert.False(t, ok)
	_, ok = accepts(t, fixed, "0007")
	assert.False(t, ok)

	ranged := conv(t, "int", "min=1, max=99")
	for s, want := range map[string]bool{"0": false, "1": true, "99": true, "100": false} {
		_, ok = accepts(t, ranged, s)
		assert.Equal(t, want, ok, s)
	}
	positional := conv(t, "int", "2, 10")
	_, ok = accepts(t, positional, "05")
	assert.False(t, ok, "fixed_digits=2, min=10: 5 is below")
	_, ok = accepts(t, positional, "12")
	assert.True(t, ok)

	for in, want := range map[any]string{42: "42", int8(-0): "0", uint16(7): "7", "13": "13"} {
		s, err := c.ToURL(in)
		require.NoError(t, err)
		assert.Equal(t, want, s)
	}
	s, err := fixed.ToURL(5)
	require.NoError(t, err)
	assert.Equal(t, "005", s)
	s, err = conv(t, "int", "fixed_digits=4, signed=True").ToURL(-5)
	require.NoError(t, err)
	assert.Equal(t, "-005", s, "zeros after the sign, as Python's zfill")
	_, err = c.ToURL(-1)
	assert.ErrorContains(t, err, "not signed")
	_, err = ranged.ToURL(100)
	assert.ErrorContains(t, err, "out of the converter's range")
	_, err = c.ToURL(1.5)
	assert.ErrorContains(t, err, "not an integer")
	_, err = c.ToURL(uint64(math.MaxUint64))
	assert.ErrorContains(t, err, "too large")
}

func TestFloatConverter(t *testing.T) {
	c := conv(t, "float", "")
	assert.Equal(t, `\d+\.\d+`, c.Pattern())
	assert.Equal(t, 50, converterWeight(c))
	v, ok := accepts(t, c, "1.5")
	assert.True(t, ok)
	assert.Equal(t, 1.5, v)
	for _, s := range []string{"1", "-1.5", ".5", "1.", "1e5", "x"} {
		_, ok = accepts(t, c, s)
		assert.False(t, ok, s)
	}
	signed := conv(t, "float", "signed=True")
	v, ok = accepts(t, signed, "-0.25")
	assert.True(t, ok)
	assert.Equal(t, -0.25, v)

	ranged := conv(t, "float", "min=0.5, max=2")
	for s, want := range map[string]bool{"0.4": false, "0.5": true, "2.0": true, "2.01": false} {
		_, ok = accepts(t, ranged, s)
		assert.Equal(t, want, ok, s)
	}

	for in, want := range map[any]string{1.5: "1.5", 2: "2.0", float32(0.25): "0.25", 1e-7: "0.0000001", "3.25": "3.25"} {
		s, err := c.ToURL(in)
		require.NoError(t, err)
		assert.Equal(t, want, s)
	}
	_, err := c.ToURL(-1.0)
	assert.ErrorContains(t, err, "not signed")
	_, err = c.ToURL(math.Inf(1))
	assert.Error(t, err)
	_, err = ranged.ToURL(3.0)
	assert.ErrorContains(t, err, "range")
	s, err := signed.ToURL(-2.5)
	require.NoError(t, err)
	assert.Equal(t, "-2.5", s)
}

func TestPathConverter(t *testing.T) {
	c := conv(t, "path", "")
	assert.Equal(t, 200, converterWeight(c))
	assert.True(t, patternMatchesSlash(c.Pattern()))
	v, ok := accepts(t, c, "a/b/c")
	assert.True(t, ok)
	assert.Equal(t, "a/b/c", v)
	_, ok = accepts(t, c, "")
	assert.False(t, ok)
	s, err := c.ToURL("a b/c?d")
	require.NoError(t, err)
	assert.Equal(t, "a%20b/c%3Fd", s)
}

func TestUUIDConverter(t *testing.T) {
	c := conv(t, "uuid", "")
	v, ok := accepts(t, c, "123E4567-e89b-12d3-a456-426614174000")
	require.True(t, ok)
	require.IsType(t, UUID{}, v)
	assert.Equal(t, "123e4567-e89b-12d3-a456-426614174000", v.(UUID).String())
	for _, s := range []string{"123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400", "x23e4567-e89b-12d3-a456-426614174000"} {
		_, ok = accepts(t, c, s)
		assert.False(t, ok, s)
	}
	u := v.(UUID)
	for _, in := range []any{u, &u, [16]byte(u), "123E4567-E89B-12D3-A456-426614174000"} {
		s, err := c.ToURL(in)
		require.NoError(t, err)
		assert.Equal(t, "123e4567-e89b-12d3-a456-426614174000", s)
	}
	_, err := c.ToURL("nope")
	assert.Error(t, err)
	_, err = c.ToURL(42)
	assert.ErrorContains(t, err, "not a UUID")
}

func TestUUIDType(t *testing.T) {
	u, err := ParseUUID("00112233-4455-6677-8899-AABBCCDDEEFF")
	require.NoError(t, err)
	assert.Equal(t, UUID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}, u)
	assert.Equal(t, "00112233-4455-6677-8899-aabbccddeeff", u.String())

	b, err := json.Marshal(map[string]any{"id": u})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id": "00112233-4455-6677-8899-aabbccddeeff"}`, string(b))
	var back struct{ ID UUID }
	require.NoError(t, json.Unmarshal([]byte(`{"ID": "00112233-4455-6677-8899-aabbccddeeff"}`), &back))
	assert.Equal(t, u, back.ID)
	assert.Error(t, json.Unmarshal([]byte(`{"ID": "zz"}`), &back))

	for _, bad := range []string{"", "00112233-4455-6677-8899-AABBCCDDEEF", "00112233_4455-6677-8899-AABBCCDDEEFF", "0011223g-4455-6677-8899-AABBCCDDEEFF"} {
		_, err := ParseUUID(bad)
		assert.Error(t, err, bad)
	}
}

func TestAnyConverter(t *testing.T) {
	c := conv(t, "any", `about, 'help', "a.b"`)
	assert.Equal(t, `(?:about|help|a\.b)`, c.Pattern())
	for s, want := range map[string]bool{"about": true, "help": true, "a.b": true, "axb": false, "abouts": false, "": false} {
		v, ok := accepts(t, c, s)
		assert.Equal(t, want, ok, s)
		if want {
			assert.Equal(t, s, v)
		}
	}
	s, err := c.ToURL("help")
	require.NoError(t, err)
	assert.Equal(t, "help", s)
	_, err = c.ToURL("other")
	assert.ErrorContains(t, err, "is not one of")
}

func TestNewConverter(t *testing.T) {
	c, err := NewConverter(`[a-z]+`, nil, nil)(ConverterArgs{})
	require.NoError(t, err)
	v, err := c.ToValue("abc")
	assert.Equal(t, "abc", v, "identity by default")
	assert.NoError(t, err)
	s, err := c.ToURL("a b")
	assert.Equal(t, "a%20b", s, "one encoded segment by default")
	assert.NoError(t, err)
	assert.Equal(t, 100, converterWeight(c))
	_, err = NewConverter(`x`, nil, nil)(ConverterArgs{Positional: []string{"1"}})
	assert.EqualError(t, err, "takes no arguments")
}

func TestPatternMatchesSlash(t *testing.T) {
	for pattern, want := range map[string]bool{
		`[^/]+`: false, `[^/]{1,}`: false, `\d+`: false, `[a-z]+`: false, `(?:a|b)`: false,
		`[^/](?s:.*?)`: true, `.+`: true, `[a-z/]+`: true, `a/b`: true, `[\x00-\x7f]+`: true, `\S+`: true,
	} {
		assert.Equal(t, want, patternMatchesSlash(pattern), pattern)
	}
}

func TestEscapePath(t *testing.T) {
	assert.Equal(t, "abc-._~!$&'()*+,;=:@", escapePath("abc-._~!$&'()*+,;=:@", false))
	assert.Equal(t, "a%2Fb", escapePath("a/b", false))
	assert.Equal(t, "a/b", escapePath("a/b", true))
	assert.Equal(t, "%25%20%3F%23%5B%5D%22%3C%3E%5C%5E%60%7B%7C%7D", escapePath(`% ?#[]"<>\^`+"`{|}", false))
	assert.Equal(t, "%C3%A9", escapePath("é", false))
	assert.Equal(t, "%0A", escapePath("\n", true))
}
