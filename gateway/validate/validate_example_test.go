package validate_test

import (
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/validate"
)

// Validate stands between the server and the application. Here the
// application tries to split the response with a CR LF in a header value:
// the violation panics out of start, and the server answers 500 and logs
// the rule that was broken.
func ExampleWrap() {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{
			{Name: "Content-Type", Value: "text/plain"},
			{Name: "X-Note", Value: "line1\r\nline2"},
		})
		return gateway.Strings("hello")
	})

	var logged strings.Builder
	h := &gateway.HTTPHandler{App: validate.Wrap(app), ErrorLog: log.New(&logged, "", 0)}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))

	fmt.Println(rec.Code)
	first, _, _ := strings.Cut(logged.String(), "\n")
	fmt.Println(first)
	// Output:
	// 500
	// gateway: GET /: validate: application broke start_response rule 2: header values hold no control character but HTAB: header "X-Note": "line1\r\nline2"
}

// ValidateWith reports violations instead of panicking, and lets the
// request go on as it would without the check: here the application sends a
// body without saying what it is.
func ExampleWrapWith() {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", nil)
		return gateway.Strings("what am I?")
	})

	report := func(v *validate.Violation) {
		fmt.Printf("%s broke %q:\n%s\n", v.Side, v.Rule, v.Detail)
	}
	rec := httptest.NewRecorder()
	gateway.Handler(validate.WrapWith(app, report)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// application broke "start_response (as wsgiref.validate): a response with a body has a Content-Type":
	// WriteTo's Write of 10 bytes for status "200 OK", whose headers have no Content-Type
	// 200 what am I?
}
