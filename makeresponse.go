package vial

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"reflect"
	"slices"

	"github.com/vial-go/vial/gateway"
)

// This file turns what a view returns into a Response: toResponse, behind
// App.MakeResponse, and MakeResponse, the function, for Flask's tuples.

// MakeResponse builds a response from Flask's tuple forms: (body), (body,
// status), (body, headers), (body, status, headers). body is anything a view
// may return (see [App.MakeResponse]); status is an int or a status line
// ("202 ACCEPTED"); headers are a map[string]string, an [net/http.Header] or
// [gateway.Headers]; each name given replaces that header of the body's
// response, all its values kept (two Set-Cookie fields stay two).
//
// It panics on arguments of other shapes, a programming error.
func MakeResponse(args ...any) *Response {
	if len(args) == 0 || len(args) > 3 {
		panic(fmt.Sprintf("vial: MakeResponse takes (body), (body, status), (body, headers) or (body, status, headers), not %d values", len(args)))
	}
	resp, err := toResponse(nil, args[0])
	if err != nil {
		resp = newResponse()
		resp.more().err = err
		return resp
	}
	rest := args[1:]
	if len(rest) > 0 {
		if err := resp.SetStatus(rest[0]); err == nil {
			rest = rest[1:]
		} else if len(rest) == 2 {
			panic("vial: MakeResponse: " + err.Error())
		}
	}
	if len(rest) > 0 {
		if !applyHeaders(resp, rest[0]) {
			panic(fmt.Sprintf("vial: MakeResponse: a status is an int or a string and headers a map[string]string, http.Header or gateway.Headers, not %T", rest[0]))
		}
	}
	return resp
}

func applyHeaders(resp *Response, h any) bool {
	switch h := h.(type) {
	case map[string]string:
		for _, k := range slices.Sorted(maps.Keys(h)) {
			resp.Header.Set(k, h[k])
		}
	case http.Header:
		for _, k := range slices.Sorted(maps.Keys(h)) {
			resp.Header.Del(k)
			for _, v := range h[k] {
				resp.Header.Add(k, v)
			}
		}
	case gateway.Headers:
		replaced := map[string]bool{}
		for _, f := range h {
			if key := http.CanonicalHeaderKey(f.Name); !replaced[key] {
				resp.Header.Del(f.Name)
				replaced[key] = true
			}
			resp.Header.Add(f.Name, f.Value)
		}
	default:
		return false
	}
	return true
}

// toResponse converts what a view returned, for req (nil outside a
// request). A nil or an error is not converted here: the pipeline handles
// those before.
func toResponse(req *Request, rv any) (*Response, error) {
	switch v := rv.(type) {
	case *Response:
		if v == nil {
			return nil, errors.New("vial: a nil *Response is not a valid response")
		}
		if req != nil {
			v.resolveJSON(req.app) // JSON's, now that the App is known
		}
		if err := v.buildErr(); err != nil {
			return nil, err
		}
		return v, nil
	case string:
		r := req.newResponse()
		r.Header = append(r.Header, gateway.Header{Name: "Content-Type", Value: "text/html; charset=utf-8"})
		r.kind, r.text = kindText, v
		return r, nil
	case []byte:
		r := req.newResponse()
		r.Header = append(r.Header, gateway.Header{Name: "Content-Type", Value: "text/html; charset=utf-8"})
		r.data = v
		return r, nil
	case *HTTPError:
		return v.GetResponse(), nil
	case map[string]any:
		return checked(jsonResponse(req, req.newResponse(), v))
	case iter.Seq[[]byte]:
		return streamed(req.newResponse(), v), nil
	case func(func([]byte) bool):
		return streamed(req.newResponse(), v), nil
	case iter.Seq[string]:
		return streamed(req.newResponse(), stringChunks(v)), nil
	case func(func(string) bool):
		return streamed(req.newResponse(), stringChunks(v)), nil
	case io.Reader:
		r := req.newResponse()
		r.SetMimetype("")
		r.SetReader(v)
		return r, nil
	case gateway.Application:
		r := req.newResponse()
		r.kind, r.more().app = kindApp, v
		return r, nil
	case http.Handler:
		r := req.newResponse()
		r.kind, r.more().app = kindApp, gateway.FromHandler(v)
		return r, nil
	}
	return toJSONResponse(req, rv)
}

// toJSONResponse converts the values that go as JSON, Flask's dicts and
// lists: a map, a struct or a pointer to one, a slice or an array. Any other
// value is an error that says what a view may return.
func toJSONResponse(req *Request, rv any) (*Response, error) {
	if rv == nil {
		return nil, unsupported(rv)
	}
	t := reflect.TypeOf(rv)
	switch t.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct:
		return checked(jsonResponse(req, req.newResponse(), rv))
	case reflect.Pointer:
		if t.Elem().Kind() != reflect.Struct {
			break
		}
		if reflect.ValueOf(rv).IsNil() {
			// Not JSON's null: Flask refuses a view's None, and a nil
			// pointer is most often a lookup that found nothing, which a
			// 200 with null would hide from the client and from the log.
			return nil, fmt.Errorf("vial: a nil %s is not a response; "+
				"return an error such as vial.Abort(404) when there is nothing to send", t)
		}
		return checked(jsonResponse(req, req.newResponse(), rv))
	}
	return nil, unsupported(rv)
}

// unsupported is the error for a value no view may return.
func unsupported(rv any) error {
	hint := ""
	if rv != nil {
		switch reflect.TypeOf(rv).Kind() {
		case reflect.Chan:
			hint = "; to stream what a channel receives, return an iter.Seq[string] or iter.Seq[[]byte] that ranges over it"
		case reflect.Func:
			hint = "; a function is sent only as an iter.Seq[string] or iter.Seq[[]byte] (a stream), " +
				"an http.HandlerFunc or a gateway.AppFunc: convert it to one, or call it and return its result"
		}
	}
	return fmt.Errorf("vial: a view may return a string or []byte (HTML), a map, a struct, a pointer to a struct, "+
		"a slice or an array (JSON), a *Response, an iter.Seq[string] or iter.Seq[[]byte] or io.Reader (streamed), "+
		"an error, an http.Handler or a gateway.Application, not %T%s", rv, hint)
}

func checked(r *Response) (*Response, error) {
	if err := r.buildErr(); err != nil {
		return nil, err
	}
	return r, nil
}

// streamed makes r, a new response, the stream of seq's chunks.
func streamed(r *Response, seq iter.Seq[[]byte]) *Response {
	r.SetMimetype("")
	r.kind, r.more().stream = kindStream, seq
	return r
}

// stringChunks yields each string as a writable copy (see withTextBytes).
func stringChunks(seq iter.Seq[string]) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		more := true
		for s := range seq {
			withTextBytes(s, func(p []byte) { more = yield(p) })
			if !more {
				return
			}
		}
	}
}
