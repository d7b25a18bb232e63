package vial_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
	"github.com/vial-go/vial/gateway"
)

// hostApp trusts example.com and its subdomains, and www.shop.test; its
// view answers with its own external URL.
func hostApp(trusted any) *vial.App {
	app := vial.New("hosts")
	app.Config["TRUSTED_HOSTS"] = trusted
	app.Get("/self", func(r *vial.Request) any {
		return r.URLFor("self", vial.External(true))
	}, vial.Endpoint("self"))
	return app
}

func TestTrustedHostsAllowed(t *testing.T) {
	app := hostApp([]string{".example.com", "www.shop.test"})
	c := app.TestClient()
	for _, host := range []string{"example.com", "api.example.com", "a.b.example.com", "www.shop.test", "API.Example.COM"} {
		resp := c.Get("/self", vial.WithHeader("Host", host))
		assert.Equal(t, 200, resp.StatusCode, host)
		assert.Equal(t, "http://"+host+"/self", resp.Text(), "URLFor(External) under a trusted host")
	}
}

func TestTrustedHostsIgnoreThePort(t *testing.T) {
	app := hostApp([]string{"example.com", "shop.test:8443"})
	c := app.TestClient()
	resp := c.Get("/self", vial.WithHeader("Host", "example.com:8080"))
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "http://example.com:8080/self", resp.Text())
	assert.Equal(t, 200, c.Get("/self", vial.WithHeader("Host", "shop.test")).StatusCode, "a trusted name's port is ignored too")
}

func TestTrustedHostsRejectForgedHosts(t *testing.T) {
	app := hostApp([]string{".example.com", "shop.test"})
	c := app.TestClient()
	for _, host := range []string{
		"evil.test",
		"example.com.evil.test",
		"notexample.com",   // a suffix, not a subdomain
		"www.shop.test",    // no leading dot: no subdomains
		"example.com/evil", // characters no host has
		"exa_mple.com",
		"example.com:80x",
		"[::1]:8080",
	} {
		// Set in the environ: the test client's Host header must parse.
		resp := c.Get("/self", vial.WithEnviron(func(env *gateway.Environ) { env.Host = host }))
		assert.Equal(t, 400, resp.StatusCode, host)
		assert.NotContains(t, resp.Text(), "/self", host)
	}
}

// The check is Flask's: the untrusted host is the request's routing error,
// so the before-request functions run, nothing is matched, and the 400
// goes through the error handlers as a 404 would.
func TestUntrustedHostIsARoutingErrorThroughTheHandlers(t *testing.T) {
	app := hostApp([]string{"example.com"})
	var endpoint *string
	app.BeforeRequest(func(r *vial.Request) any {
		endpoint = &r.Endpoint
		return nil
	})
	var handled error
	app.ErrorHandler(400, func(r *vial.Request, err error) any {
		handled = err
		return vial.MakeResponse("bad host: "+r.Host(), 400)
	})
	resp := app.TestClient().Get("/self", vial.WithHeader("Host", "evil.test"))
	assert.Equal(t, 400, resp.StatusCode)
	assert.Equal(t, "bad host: evil.test", resp.Text())
	require.NotNil(t, endpoint, "the before-request function ran")
	assert.Empty(t, *endpoint, "nothing was matched")
	require.Error(t, handled, "the 400 handler ran")
	assert.ErrorIs(t, handled, vial.ErrUntrustedHost)
	assert.ErrorIs(t, handled, vial.ErrBadRequest)
	assert.Contains(t, handled.Error(), `Host "evil.test" is not trusted.`)
}

// Without a handler, the default 400 page names the host (escaped), as
// werkzeug's SecurityError does.
func TestUntrustedHostDefaultPage(t *testing.T) {
	app := hostApp([]string{"example.com"})
	resp := app.TestClient().Get("/self", vial.WithHeader("Host", "evil.test"))
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, resp.Text(), "Host &#34;evil.test&#34; is not trusted.")
}

// A routing redirect (the missing trailing slash) takes its Location from
// the host: a forged one gets a 400 instead.
func TestUntrustedHostGetsNoRedirect(t *testing.T) {
	app := hostApp([]string{"example.com"})
	app.Get("/dir/", func(r *vial.Request) any { return "dir" })
	c := app.TestClient()
	resp := c.Get("/dir", vial.WithHeader("Host", "evil.test"))
	assert.Equal(t, 400, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	resp = c.Get("/dir", vial.WithHeader("Host", "example.com"))
	assert.Equal(t, 308, resp.StatusCode)
	assert.Equal(t, "http://example.com/dir/", resp.Header.Get("Location"))
}

func TestTrustedHostsNilOrEmptyChecksNothing(t *testing.T) {
	for _, trusted := range []any{nil, []string{}, []any{}} {
		resp := hostApp(trusted).TestClient().Get("/self", vial.WithHeader("Host", "anything.test"))
		assert.Equal(t, 200, resp.StatusCode, "%#v", trusted)
		assert.Equal(t, "http://anything.test/self", resp.Text())
	}
}

// Configuration read from JSON or TOML holds a list as []any; a single
// name is a list of one, as in werkzeug.
func TestTrustedHostsFromLoadedConfig(t *testing.T) {
	for _, trusted := range []any{[]any{"shop.test", ".example.com"}, "shop.test"} {
		c := hostApp(trusted).TestClient()
		assert.Equal(t, 200, c.Get("/self", vial.WithHeader("Host", "shop.test")).StatusCode, "%#v", trusted)
		assert.Equal(t, 400, c.Get("/self", vial.WithHeader("Host", "evil.test")).StatusCode, "%#v", trusted)
	}
}

// A TRUSTED_HOSTS of the wrong type is a setup mistake: a 500 whose logged
// error names the key, not a check silently skipped.
func TestTrustedHostsOfTheWrongTypeIsA500NamingTheKey(t *testing.T) {
	for _, trusted := range []any{42, []any{"shop.test", 7}, map[string]any{}} {
		app := hostApp(trusted)
		var got error
		vial.GotRequestException.ConnectVia(app, func(_ *vial.App, e *vial.RequestError) { got = e.Err })
		resp := app.TestClient().Get("/self", vial.WithHeader("Host", "shop.test"))
		assert.Equal(t, 500, resp.StatusCode, "%#v", trusted)
		require.Error(t, got)
		assert.Contains(t, got.Error(), `Config["TRUSTED_HOSTS"]`)
	}
}

// Over a real server, the Host header is what is checked; HTTP/1.0
// without one falls back on the address the client reached, as werkzeug
// falls back on SERVER_NAME.
func TestTrustedHostsOverHTTP(t *testing.T) {
	app := hostApp([]string{"shop.test"})
	srv := httptest.NewServer(app)
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL+"/self", nil)
	require.NoError(t, err)
	req.Host = "shop.test:8080"
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	req.Host = "evil.test"
	resp, err = srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
}

func TestHostIsTrusted(t *testing.T) {
	cases := []struct {
		host    string
		trusted []string
		want    bool
	}{
		{"example.com", []string{"example.com"}, true},
		{"example.com:443", []string{"example.com"}, true},
		{"sub.example.com", []string{"example.com"}, false},
		{"sub.example.com", []string{".example.com"}, true},
		{"example.com", []string{".example.com"}, true},
		{"xexample.com", []string{".example.com"}, false},
		{"xn--bcher-kva.example", []string{"bücher.example"}, true},
		{"xn--bcher-kva.example", []string{"BÜCHER.example"}, true},
		{"www.xn--mnchen-3ya.de", []string{".münchen.de"}, true},
		{"bücher.example", []string{"bücher.example"}, false}, // a Host header is ASCII
		{"[::1]:8080", []string{"[::1]"}, true},
		{"[::1]", []string{"[::2]"}, false},
		{"[::1", []string{"[::1]"}, false},
		{"127.0.0.1:5000", []string{"127.0.0.1"}, true},
		{"", []string{""}, false},
		{":80", []string{""}, false},
		{"example.com:", []string{"example.com"}, false},
		{"a b", []string{"a b"}, false},
		{"example.com", nil, true}, // no list: only the shape is checked, as in werkzeug
		{"example.com/x", nil, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, vial.HostIsTrusted(c.host, c.trusted...), "%q in %q", c.host, c.trusted)
	}
}
