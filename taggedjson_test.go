package vial

import (
	"html/template"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// taggedVector is what Flask 3.1's session serializer
// (flask.sessions.session_json_serializer.dumps, inside an app context as
// save_session runs it) wrote for the value of taggedValue, its Python
// twin in the comment, made by running with python3:
//
//	with Flask("v").app_context():
//	    print(session_json_serializer.dumps({
//	        "int": 42, "neg": -7, "big": 2**62, "float": 1.5, "whole": 1.0, "tiny": 1.5e-05, "huge": 1e16,
//	        "small": 0.0001, "str": 'caf\u00e9 \U0001F600 "q" \\ \n\t<a&b>\x7f\x01', "none": None, "yes": True,
//	        "tuple": ("a", 1), "bytes": b"\x00\xffhi", "markup": Markup("<b>x</b>"),
//	        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
//	        "when": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
//	        "tagkey": {" t": [1, 2]}, "nested": {"b": [1, {"c": (2,)}], "a": {}},
//	        "_flashes": [("message", "Hi")],
//	    }))
const taggedVector = `{"_flashes":[{" t":["message","Hi"]}],"big":4611686018427387904,"bytes":{" b":"AP9oaQ=="},"float":1.5,"huge":1e+16,"int":42,"markup":{" m":"<b>x</b>"},"neg":-7,"nested":{"a":{},"b":[1,{"c":{" t":[2]}}]},"none":null,"small":0.0001,"str":"caf\u00e9 \ud83d\ude00 \"q\" \\ \n\t<a&b>\u007f\u0001","tagkey":{" di":{" t__":[1,2]}},"tiny":1.5e-05,"tuple":{" t":["a",1]},"uuid":{" u":"12345678123456781234567812345678"},"when":{" d":"Mon, 06 May 2024 07:08:09 GMT"},"whole":1.0,"yes":true}`

func taggedValue(t *testing.T) map[string]any {
	u, err := ParseUUID("12345678-1234-5678-1234-567812345678")
	require.NoError(t, err)
	return map[string]any{
		"int": int64(42), "neg": int64(-7), "big": int64(1 << 62), "float": 1.5, "whole": 1.0,
		"tiny": 1.5e-05, "huge": 1e16, "small": 0.0001,
		"str":  "caf\u00e9 \U0001F600 \"q\" \\ \n\t<a&b>\x7f\x01",
		"none": nil, "yes": true,
		"tuple": Tuple{"a", int64(1)}, "bytes": []byte("\x00\xffhi"), "markup": template.HTML("<b>x</b>"),
		"uuid":     u,
		"when":     time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		"tagkey":   map[string]any{" t": []any{int64(1), int64(2)}},
		"nested":   map[string]any{"b": []any{int64(1), map[string]any{"c": Tuple{int64(2)}}}, "a": map[string]any{}},
		"_flashes": []any{Tuple{"message", "Hi"}},
	}
}

func TestTaggedJSONWritesFlasksBytes(t *testing.T) {
	got, err := marshalTagged(taggedValue(t))
	require.NoError(t, err)
	assert.Equal(t, taggedVector, string(got))
}

func TestTaggedJSONReadsFlasks(t *testing.T) {
	got, err := unmarshalTagged([]byte(taggedVector))
	require.NoError(t, err)
	assert.Equal(t, taggedValue(t), got)
}

func TestTaggedJSONGoTypes(t *testing.T) {
	type user struct {
		Name string `json:"name"`
		ID   int    `json:"id"`
	}
	local := time.FixedZone("CEST", 2*3600)
	got, err := marshalTagged(map[string]any{
		"ints":   []int{1, 2},
		"strs":   map[string]string{"b": "2", "a": "1"},
		"user":   user{"Ann", 7},
		"dur":    time.Second,
		"f32":    float32(0.5),
		"local":  time.Date(2024, 5, 6, 9, 8, 9, 500, local),
		"nilmap": map[string]any(nil),
	})
	require.NoError(t, err)
	assert.Equal(t, `{"dur":1000000000,"f32":0.5,"ints":[1,2],"local":{" d":"Mon, 06 May 2024 07:08:09 GMT"},`+
		`"nilmap":{},"strs":{"a":"1","b":"2"},"user":{"id":7,"name":"Ann"}}`, string(got))

	_, err = marshalTagged(map[string]any{"nan": math.NaN()})
	assert.ErrorContains(t, err, "NaN")
	_, err = marshalTagged(map[string]any{"ch": make(chan int)})
	assert.ErrorContains(t, err, "chan int cannot be stored")
}

func TestTaggedJSONRefuses(t *testing.T) {
	for _, data := range []string{
		`[1]`, `"x"`, `{"a":1} {}`, `{"a":`, `{"b":{" b":"%%%"}}`, `{"t":{" t":1}}`, `{"u":{" u":"xyz"}}`,
		"{\"a\":\"\xff\"}",
	} {
		_, err := unmarshalTagged([]byte(data))
		assert.Error(t, err, data)
	}
	got, err := unmarshalTagged([]byte(`{"d":{" d":"not a date"},"x":{" other":1}}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"d": nil, "x": map[string]any{" other": int64(1)}}, got,
		"an unreadable date is None, as werkzeug's parse_date gives; an unknown tag is a plain object")
}
