package gateway_test

import (
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/vial-go/vial/gateway"
)

// Validate stands between the server and the application. Here the
// application tries to split the response with a CR LF in a header value:
// the violation panics out of start, and the server answers 500 and logs
// the rule that was broken.
func ExampleValidate() {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{
			{Name: "Content-Type", Value: "text/plain"},
			{Name: "X-Note", Value: "line1\r\nline2"},
		})
		return gateway.Strings("hello")
	})

	var logged strings.Builder
	h := &gateway.HTTPHandler{App: gateway.Validate(app), ErrorLog: log.New(&logged, "", 0)}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))

	fmt.Println(rec.Code)
	first, _, _ := strings.Cut(logged.String(), "\n")
	fmt.Println(first)
	// Output:
	// 500
	// gateway: GET /: gateway.Validate: application broke start_response rule 2: header values must hold no CR or LF: header "X-Note": "line1\r\nline2"
}

// ValidateWith reports violations instead of panicking, and lets the
// request go on as it would without the check: here the application sends a
// body without saying what it is.
func ExampleValidateWith() {
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", nil)
		return gateway.Strings("what am I?")
	})

	report := func(v *gateway.Violation) {
		fmt.Printf("%s broke %q:\n%s\n", v.Side, v.Rule, v.Detail)
	}
	rec := httptest.NewRecorder()
	gateway.Handler(gateway.ValidateWith(app, report)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// application broke "start_response (as wsgiref.validate): a response with a body has a Content-Type":
	// WriteTo's Write of 10 bytes for status "200 OK", whose headers have no Content-Type
	// 200 what am I?
}
