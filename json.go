package vial

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vial-go/vial/gateway"
)

// A JSONProvider encodes and decodes JSON for an App, Flask's app.json (a
// flask.json.provider.JSONProvider). The App uses its provider for the
// maps, slices and structs views return, for [JSON] responses, and for
// request bodies ([Request.JSON], [Request.GetJSON]). [New] gives an App a
// *[DefaultJSONProvider]; [App.SetJSONProvider] replaces it, with one that
// configures the default or with a provider of the user's (another JSON
// module, say). A provider is called from many goroutines at once.
type JSONProvider interface {
	// Dumps returns v encoded as JSON, without a trailing newline.
	Dumps(v any) ([]byte, error)
	// Loads decodes data, one JSON value, into v, as json.Unmarshal does.
	Loads(data []byte, v any) error
	// Response makes resp, a 200 response without a body, the response
	// that sends v: its body and its Content-Type. debug is the App's
	// debug mode (Config DEBUG), for a provider that formats differently
	// then. An error leaves resp unsent: the App answers with a 500.
	Response(resp *Response, v any, debug bool) error
}

// DefaultJSONProvider encodes JSON as Flask's DefaultJSONProvider does,
// its zero value byte for byte: map keys sorted, non-ASCII characters
// escaped as \uXXXX (astral ones as a surrogate pair, DEL too, as Python's
// json writes them), '<', '>' and '&' left alone. A response is compact
// (separators "," and ":"), or in debug mode indented by two spaces, and
// ends with a newline.
//
// Two differences are deliberate. A struct's fields go in their
// declaration order, not sorted: its author chose that order and it is
// already stable, which is what Flask sorts keys for, and sorting would
// cost a second encoding. And Dumps is compact, where Flask's dumps has
// Python's default ", " and ": ": the bytes a Go program most often wants.
// Map keys are always sorted, as encoding/json sorts them: a Go map has
// no order to keep, so Flask's sort_keys=False has no equivalent.
//
// Encoding is encoding/json's: struct tags, json.Marshaler and
// encoding.TextMarshaler apply, and numbers are written as Go writes them
// (a float64 1 as 1, where Python writes 1.0). Loads keeps numbers decoded into an
// interface as json.Number, exact, and refuses anything but white space
// after the value.
type DefaultJSONProvider struct {
	// KeepNonASCII writes non-ASCII characters as UTF-8 instead of
	// escaping them: Flask's ensure_ascii = False.
	KeepNonASCII bool
	// Compact chooses the layout of responses, Flask's compact: nil for
	// compact except in debug mode, where responses are indented; true
	// for always compact; false for always indented.
	Compact *bool
	// Mimetype is the Content-Type of responses; "" means
	// "application/json".
	Mimetype string
}

var defaultJSON = &DefaultJSONProvider{}

// Dumps returns v encoded as compact JSON, without a newline.
func (p *DefaultJSONProvider) Dumps(v any) ([]byte, error) {
	return p.encode(v, false, false)
}

// Loads decodes data into v: one JSON value and nothing after it but
// white space, with numbers as json.Number in an interface.
func (p *DefaultJSONProvider) Loads(data []byte, v any) error {
	return decodeJSON(data, v)
}

// Response sets resp's body to v encoded, with a trailing newline, and its
// Content-Type to the provider's mimetype.
func (p *DefaultJSONProvider) Response(resp *Response, v any, debug bool) error {
	indent := debug
	if p.Compact != nil {
		indent = !*p.Compact
	}
	data, err := p.encode(v, indent, true)
	if err != nil {
		return err
	}
	mimetype := p.Mimetype
	if mimetype == "" {
		mimetype = "application/json"
	}
	resp.Header.Set("Content-Type", mimetype)
	resp.resetBody()
	resp.kind, resp.data = kindBytes, data
	return nil
}

// jsonEncoder is an Encoder writing into its own buffer, pooled: the
// encoding then costs one allocation, the bytes handed back.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncoders = sync.Pool{New: func() any {
	e := &jsonEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false) // Python's json leaves <, > and & alone
	return e
}}

// maxPooledJSON is the largest buffer put back in the pool, so one huge
// response does not stay in memory for good.
const maxPooledJSON = 64 << 10

// encode returns v as JSON, indented by two spaces or compact, with the
// newline Encoder writes or without it.
func (p *DefaultJSONProvider) encode(v any, indent, newline bool) ([]byte, error) {
	e := jsonEncoders.Get().(*jsonEncoder)
	defer func() {
		if e.buf.Cap() <= maxPooledJSON {
			jsonEncoders.Put(e)
		}
	}()
	e.buf.Reset()
	if indent {
		e.enc.SetIndent("", "  ")
	} else {
		e.enc.SetIndent("", "")
	}
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	b := e.buf.Bytes()
	if !newline {
		b = b[:len(b)-1]
	}
	if p.KeepNonASCII {
		return bytes.Clone(b), nil
	}
	return appendASCII(nil, b), nil
}

// appendASCII appends src, valid JSON text, to dst with each non-ASCII
// character (and DEL) escaped as Python's ensure_ascii escapes it. Such characters
// only occur inside strings, where an escape means the same character.
func appendASCII(dst, src []byte) []byte {
	i := 0
	for i < len(src) && plainASCII(src[i]) {
		i++
	}
	if i == len(src) {
		return append(dst, src...) // the common case: one copy
	}
	dst = append(make([]byte, 0, len(src)+16), src[:i]...)
	for i < len(src) {
		c := src[i]
		if plainASCII(c) {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		i += size
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			dst = appendEscape(appendEscape(dst, r1), r2)
		} else {
			dst = appendEscape(dst, r)
		}
	}
	return dst
}

// plainASCII reports whether c is sent as it is: Python escapes DEL
// (0x7f) too, and encoding/json has escaped the control bytes already.
func plainASCII(c byte) bool { return c < 0x7f }

// appendEscape appends \u and the four lower-case hex digits of r, a
// character of the Basic Multilingual Plane or half of a surrogate pair.
func appendEscape(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// errJSONExtraData reports more than white space after a JSON value.
var errJSONExtraData = errors.New("extra data after the JSON value")

// decodeJSON decodes data, one JSON value and nothing after it but white
// space, into v, with numbers as json.Number in an interface. (Decoder.More
// would let a stray "]" or "}" through: it reports the end of an array or
// object.)
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) > 0 {
		return errJSONExtraData
	}
	return nil
}

// JSONProvider returns the App's JSON provider, Flask's app.json.
func (a *App) JSONProvider() JSONProvider {
	if a == nil || a.json == nil {
		return defaultJSON
	}
	return a.json
}

// SetJSONProvider makes p the App's JSON provider; nil restores a
// [DefaultJSONProvider]. Set it before the App serves, as routes are.
//
//	app.SetJSONProvider(&vial.DefaultJSONProvider{KeepNonASCII: true})
func (a *App) SetJSONProvider(p JSONProvider) {
	a.checkSetup("SetJSONProvider")
	if p == nil {
		p = &DefaultJSONProvider{}
	}
	a.json = p
}

// JSON returns a 200 response that sends v as JSON, Flask's jsonify. The
// App that sends it encodes v with its [JSONProvider] (so in debug mode,
// indented), when its view or hook returns the response; until then the
// Content-Type is "application/json" and [Response.Data] gives v as the
// [DefaultJSONProvider] encodes it. If v cannot be encoded, the App
// answers with a 500 that names the error.
func JSON(v any) *Response {
	r := newResponse()
	r.Header = append(r.Header, jsonContentType)
	r.kind, r.more().json = kindJSON, v
	return r
}

var jsonContentType = gateway.Header{Name: "Content-Type", Value: "application/json"}

// jsonResponse makes r, a new response, the JSON response for v, encoded
// with req's App's provider; outside a request (req nil), it is left for
// the App that sends it, as [JSON] leaves it.
func jsonResponse(req *Request, r *Response, v any) *Response {
	if req == nil || req.app == nil {
		r.Header = append(r.Header, jsonContentType)
		r.kind, r.more().json = kindJSON, v
		return r
	}
	r.encodeJSON(req.app.JSONProvider(), v, req.app.Config.Bool("DEBUG"))
	return r
}

// resolveJSON encodes the pending JSON body of r, if it has one, with the
// provider of a (the default one when a is nil).
func (r *Response) resolveJSON(a *App) {
	if r.kind != kindJSON {
		return
	}
	v := r.rare.json
	r.rare.json = nil
	ct := r.Header.Get("Content-Type")
	r.kind = kindBytes
	r.encodeJSON(a.JSONProvider(), v, a != nil && a.Config.Bool("DEBUG"))
	if ct != jsonContentType.Value && ct != "" {
		r.Header.Set("Content-Type", ct) // set after JSON made the response
	}
}

// encodeJSON makes r's body v, encoded by p; an error is kept for
// MakeResponse to report.
func (r *Response) encodeJSON(p JSONProvider, v any, debug bool) {
	if err := p.Response(r, v, debug); err != nil {
		r.more().err = fmt.Errorf("vial: JSON: %w", err)
	}
}

// app is the App of r's request, or nil.
func (r *Response) app() *App {
	if r.Request == nil {
		return nil
	}
	return r.Request.app
}
