package simpleserver_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/simpleserver"
	"github.com/vial-go/vial/internal/testutil"
)

// MakeServer binds at once; ServeForever serves until Shutdown.
func ExampleMakeServer() {
	hello := gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Strings("Hello from ", env.PathInfo, "\n")
	})
	srv, err := simpleserver.MakeServer("127.0.0.1", 0, hello) // port 0: any free port
	if err != nil {
		panic(err)
	}
	done := make(chan error)
	go func() { done <- srv.ServeForever() }()

	resp, err := http.Get("http://" + srv.Addr() + "/example")
	if err != nil {
		panic(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(text))

	if err := srv.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println("ServeForever returned", <-done)
	// Output:
	// Hello from /example
	// ServeForever returned <nil>
}

// hMakeServer starts a Server on a free loopback port and returns it
// with the channel ServeForever's result arrives on.
func hMakeServer(t *testing.T, app gateway.Application) (*simpleserver.Server, <-chan error) {
	t.Helper()
	srv, err := simpleserver.MakeServer("127.0.0.1", 0, app)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.ServeForever() }()
	t.Cleanup(func() { srv.Close() })
	return srv, done
}

func TestMakeServerServes(t *testing.T) {
	srv, _ := hMakeServer(t, gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return gateway.Strings(env.Method, " ", env.PathInfo, " ", strconv.FormatBool(env.Multithread))
	}))
	resp, got, err := get(t, "http://"+srv.Addr()+"/path")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "GET /path true", string(got))
}

func TestMakeServerPortZero(t *testing.T) {
	srv, _ := hMakeServer(t, gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", nil)
		return gateway.Strings(env.ServerPort)
	}))
	host, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	assert.NotZero(t, n, "the real port, not 0")
	_, got, err := get(t, "http://"+srv.Addr()+"/")
	require.NoError(t, err)
	assert.Equal(t, port, string(got))

	// The port is bound as soon as MakeServer returns: taking it again fails.
	_, err = simpleserver.MakeServer("127.0.0.1", n, gateway.AppFunc(nil))
	assert.Error(t, err)
}

func TestMakeServerBindsBeforeServing(t *testing.T) {
	srv, err := simpleserver.MakeServer("127.0.0.1", 0, gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", nil)
		return gateway.Strings("late")
	}))
	require.NoError(t, err)
	defer srv.Close()
	// A client can connect before ServeForever: the listener queues it.
	conn, err := net.DialTimeout("tcp", srv.Addr(), testutil.Timeout)
	require.NoError(t, err)
	conn.Close()

	// Shutdown without ServeForever releases the port.
	require.NoError(t, srv.Shutdown(context.Background()))
	ln, err := net.Listen("tcp", srv.Addr())
	require.NoError(t, err, "the port is free again")
	ln.Close()
}

func TestMakeServerErrors(t *testing.T) {
	app := gateway.AppFunc(func(*gateway.Environ, gateway.StartResponse) gateway.Body { return gateway.NoBody })
	_, err := simpleserver.MakeServer("127.0.0.1", 0, nil)
	assert.Error(t, err)
	_, err = simpleserver.MakeServer("127.0.0.1", -1, app)
	assert.Error(t, err)
	_, err = simpleserver.MakeServer("127.0.0.1", 70000, app)
	assert.Error(t, err)
	_, err = simpleserver.MakeServer("not a host name!", 0, app)
	assert.Error(t, err)
}

func TestMakeServerShutdownIsGraceful(t *testing.T) {
	inFlight := make(chan struct{})
	release := make(chan struct{})
	srv, done := hMakeServer(t, gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/plain"}})
		close(inFlight)
		<-release
		return gateway.Strings("finished")
	}))

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + srv.Addr() + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{string(b), err}
	}()
	testutil.Wait(t, inFlight, "the request")

	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
		defer cancel()
		shutdown <- srv.Shutdown(ctx)
	}()
	// ServeForever returns as soon as the listener is closed; Shutdown
	// itself waits for the request in flight.
	assert.NoError(t, testutil.Wait(t, done, "ServeForever to return"))
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	// No new connections are accepted.
	_, err := net.DialTimeout("tcp", srv.Addr(), time.Second)
	assert.Error(t, err, "the listener is closed")

	close(release)
	r := testutil.Wait(t, got, "the response")
	require.NoError(t, r.err)
	assert.Equal(t, "finished", r.body, "the request in flight finished")
	assert.NoError(t, testutil.Wait(t, shutdown, "Shutdown"))
}

func TestMakeServerClose(t *testing.T) {
	srv, done := hMakeServer(t, gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", nil)
		return gateway.NoBody
	}))
	_, _, err := get(t, "http://"+srv.Addr()+"/")
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	assert.NoError(t, testutil.Wait(t, done, "ServeForever to return"))
}

func TestMakeServerShutdownDeadlineStopsStreams(t *testing.T) {
	stopped := make(chan error, 1)
	srv, done := hMakeServer(t, gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
		start("200 OK", gateway.Headers{{Name: "Content-Type", Value: "text/event-stream"}})
		return gateway.Stream(func(yield func([]byte) bool) {
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for yield([]byte("data: tick\n\n")) { // endless
				select {
				case <-tick.C:
				case <-env.Context().Done():
				}
			}
			stopped <- env.Context().Err()
		}, nil)
	}))
	resp, err := http.Get("http://" + srv.Addr() + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.ReadFull(resp.Body, make([]byte, 24))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, srv.Shutdown(ctx), context.DeadlineExceeded, "the stream never ends by itself")
	assert.NoError(t, testutil.Wait(t, done, "ServeForever to return"))
	assert.ErrorIs(t, testutil.Wait(t, stopped, "the stream to stop"), context.Canceled)
	_, err = io.Copy(io.Discard, resp.Body)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the cut stream is not passed off as complete")
}

// get sends a GET for url and reads the whole response.
func get(t *testing.T, url string) (*http.Response, []byte, error) {
	t.Helper()
	client := &http.Client{Timeout: testutil.Timeout}
	resp, err := client.Get(url)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}
