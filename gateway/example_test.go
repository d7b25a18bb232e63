package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/vial-go/vial/gateway"
)

// An application is a function of the environ and start; any net/http
// server runs it through gateway.Handler.
func Example() {
	hello := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Strings("Hello, ", env.Get("PATH_INFO").(string)[1:], "!\n")
	})

	srv := httptest.NewServer(gateway.Handler(hello))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/gopher")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.Status, "\n", string(text))
	// Output:
	// 200 OK
	// Hello, gopher!
}
