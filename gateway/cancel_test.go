package gateway_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
)

// A producer that stops when the request's context ends (the usual Go
// pattern for event streams) must not leave the client believing the body
// is complete.
func TestStreamStoppedByTheContextIsNotPassedOffAsComplete(t *testing.T) {
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	app := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Stream(func(yield func([]byte) bool) {
			if !yield([]byte("part 1 of 10\n")) {
				return
			}
			<-env.Context().Done()
		}, nil)
	})
	srv := httptest.NewUnstartedServer(gateway.Handler(app))
	srv.Config.BaseContext = func(net.Listener) context.Context { return base }
	srv.Config.ErrorLog = hLogTo(io.Discard)
	srv.Start()
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "part 1 of 10\n", line)
	cancel()
	_, err = io.ReadAll(resp.Body)
	assert.Error(t, err, "the cut-short body ends in an error, not a clean end")
}
