package vial_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// subdomainApp serves example.com: an index on the default subdomain and
// on "api", an "/items" rule on each with other methods, a page on "api"
// only, a profile for any user's subdomain, and a shard number. Each view
// answers with its endpoint and view arguments.
func subdomainApp(matching bool) *vial.App {
	app := vial.New("subdomains")
	app.Config["SERVER_NAME"] = "example.com"
	app.Config["SUBDOMAIN_MATCHING"] = matching
	show := func(r *vial.Request) any { return fmt.Sprintf("%s %v", r.Endpoint, r.ViewArgs) }
	app.Get("/", show, vial.Endpoint("index"))
	app.Get("/", show, vial.Endpoint("api_index"), vial.RuleSubdomain("api"))
	app.Get("/items", show, vial.Endpoint("items"))
	app.Post("/items", show, vial.Endpoint("api_items"), vial.RuleSubdomain("api"))
	app.Get("/only-api", show, vial.Endpoint("only_api"), vial.RuleSubdomain("api"))
	app.Get("/dir/", show, vial.Endpoint("api_dir"), vial.RuleSubdomain("api"))
	app.Get("/profile", show, vial.Endpoint("profile"), vial.RuleSubdomain("<user>"))
	app.Get("/profile", show, vial.Endpoint("api_profile"), vial.RuleSubdomain("api"))
	app.Get("/posts/<int:id>", show, vial.Endpoint("post"), vial.RuleSubdomain("<user>"))
	app.Get("/files/<path:name>", show, vial.Endpoint("file"), vial.RuleSubdomain("<user>"))
	app.Get("/x", show, vial.Endpoint("shard"), vial.RuleSubdomain("shard<int:n>"))
	return app
}

func TestSubdomainMatchingOffMatchesOnlyTheDefaultSubdomain(t *testing.T) {
	c := subdomainApp(false).TestClient()
	for _, host := range []string{"example.com", "api.example.com", "other.org"} {
		resp := c.Get("http://" + host + "/")
		assert.Equal(t, 200, resp.StatusCode, host)
		assert.Equal(t, "index map[]", resp.Text(), host)
		assert.Equal(t, 404, c.Get("http://"+host+"/only-api").StatusCode, host)
		assert.Equal(t, 404, c.Get("http://"+host+"/profile").StatusCode, host)
	}
}

func TestSubdomainMatchingPicksTheRulesOfTheHostsSubdomain(t *testing.T) {
	c := subdomainApp(true).TestClient()
	for host, want := range map[string]string{
		"example.com":        "index map[]",
		"Example.COM:80":     "index map[]",
		"api.example.com":    "api_index map[]",
		"API.example.com:80": "api_index map[]",
	} {
		resp := c.Get("/", vial.WithHeader("Host", host))
		assert.Equal(t, 200, resp.StatusCode, host)
		assert.Equal(t, want, resp.Text(), host)
	}
	assert.Equal(t, "only_api map[]", c.Get("http://api.example.com/only-api").Text())
	assert.Equal(t, 404, c.Get("http://example.com/only-api").StatusCode, "an api rule is not the default subdomain's")
	assert.Equal(t, 404, c.Get("http://www.example.com/").StatusCode, "no rule of www: the default one's do not count")
}

func TestSubdomainMatchingOnAPortThatIsNotTheDefault(t *testing.T) {
	app := subdomainApp(true)
	app.Config["SERVER_NAME"] = "example.com:8080"
	c := app.TestClient()
	assert.Equal(t, "api_index map[]", c.Get("http://api.example.com:8080/").Text())
	assert.Equal(t, "index map[]", c.Get("http://example.com:8080/").Text())
	assert.Equal(t, 404, c.Get("http://api.example.com/").StatusCode, "port 80 is not under example.com:8080")
}

func TestSubdomainVariablesAreViewArguments(t *testing.T) {
	c := subdomainApp(true).TestClient()
	resp := c.Get("http://alice.example.com/profile")
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "profile map[user:alice]", resp.Text())
	assert.Equal(t, "api_profile map[]", c.Get("http://api.example.com/profile").Text(), "a static subdomain before a variable one")
	assert.Equal(t, "post map[id:7 user:bob]", c.Get("http://bob.example.com/posts/7").Text())
	assert.Equal(t, "file map[name:a/b.txt user:bob]", c.Get("http://bob.example.com/files/a/b.txt").Text())
	assert.Equal(t, "shard map[n:3]", c.Get("http://shard3.example.com/x").Text())
	assert.Equal(t, 404, c.Get("http://shardx.example.com/x").StatusCode, "the int converter refuses x")
	assert.Equal(t, 404, c.Get("http://example.com/profile").StatusCode, "<user> does not match the empty subdomain")

	var n any
	app := subdomainApp(true)
	app.Get("/w", show("name"), vial.Endpoint("w_name"), vial.RuleSubdomain("<name>"))
	app.Get("/w", show("int"), vial.Endpoint("w_int"), vial.RuleSubdomain("<int:id>"))
	app.Get("/n", func(r *vial.Request) any { n = r.ViewArgs["n"]; return "" }, vial.RuleSubdomain("shard<int:n>"))
	c = app.TestClient()
	assert.Equal(t, "int", c.Get("http://5.example.com/w").Text(), "int before string, whatever the order of registration")
	assert.Equal(t, "name", c.Get("http://five.example.com/w").Text())
	require.Equal(t, 200, c.Get("http://shard12.example.com/n").StatusCode)
	assert.Equal(t, 12, n, "converted by its converter")
}

// show is a view answering with text.
func show(text string) vial.View { return func(*vial.Request) any { return text } }

func TestSubdomainMatchingForeignHostIsNotFound(t *testing.T) {
	c := subdomainApp(true).TestClient()
	for _, host := range []string{"other.org", "example.com.evil.org", "notexample.com"} {
		assert.Equal(t, 404, c.Get("http://"+host+"/").StatusCode, host)
		assert.Equal(t, 404, c.Get("http://"+host+"/profile").StatusCode, host+": not even a variable subdomain")
	}
}

func TestSubdomainMethodNotAllowedListsTheSubdomainsRules(t *testing.T) {
	c := subdomainApp(true).TestClient()
	resp := c.Post("http://example.com/items")
	assert.Equal(t, 405, resp.StatusCode)
	assert.Equal(t, "GET, HEAD, OPTIONS", resp.Header.Get("Allow"))
	resp = c.Get("http://api.example.com/items")
	assert.Equal(t, 405, resp.StatusCode)
	assert.Equal(t, "OPTIONS, POST", resp.Header.Get("Allow"))
	assert.Equal(t, "api_items map[]", c.Post("http://api.example.com/items").Text())
}

func TestSubdomainRedirectsWithinTheSubdomainOnly(t *testing.T) {
	c := subdomainApp(true).TestClient()
	resp := c.Get("http://api.example.com/dir")
	assert.Equal(t, 308, resp.StatusCode)
	assert.Equal(t, "http://api.example.com/dir/", resp.Header.Get("Location"))
	assert.Equal(t, 404, c.Get("http://example.com/dir").StatusCode, "the api rule does not redirect the default subdomain")
}

func TestURLMapMatchSubdomain(t *testing.T) {
	m := vial.NewURLMap()
	m.Add(&vial.Rule{Rule: "/a", Endpoint: "default"})
	m.Add(&vial.Rule{Rule: "/a", Endpoint: "api", Subdomain: "api", Methods: []string{"POST"}})
	m.Add(&vial.Rule{Rule: "/a", Endpoint: "user", Subdomain: "<user>"})

	r, _, err := m.Match("/a", "GET")
	require.NoError(t, err)
	assert.Equal(t, "default", r.Endpoint)
	r, args, err := m.MatchSubdomain("api", "/a", "GET")
	require.NoError(t, err)
	assert.Equal(t, "user", r.Endpoint, "api's rule takes no GET: the variable subdomain's is next, as in werkzeug")
	assert.Equal(t, map[string]any{"user": "api"}, args)
	r, _, err = m.MatchSubdomain("api", "/a", "POST")
	require.NoError(t, err)
	assert.Equal(t, "api", r.Endpoint)
	_, _, err = m.MatchSubdomain("<invalid>", "/a", "GET")
	var he *vial.HTTPError
	require.True(t, errors.As(err, &he))
	assert.Equal(t, 404, he.Code)
	assert.Equal(t, []string{"GET", "HEAD", "POST"}, m.AllowedMethodsSubdomain("api", "/a"))
	assert.Equal(t, []string{"GET", "HEAD"}, m.AllowedMethods("/a"))
	both := &vial.Rule{Rule: "/<x>", Endpoint: "both", Subdomain: "<user>"}
	m.Add(both)
	assert.Equal(t, []string{"user", "x"}, both.Arguments())
}

func TestURLForAnotherSubdomainIsExternal(t *testing.T) {
	app := subdomainApp(true)
	var urls []string
	app.Get("/urls", func(r *vial.Request) any {
		urls = []string{
			r.URLFor("only_api"),
			r.URLFor("index"),
			r.URLFor("profile", "user", "bob", "tab", "posts"),
			r.URLFor("post", "user", "bob", "id", 3),
		}
		return ""
	}, vial.Endpoint("urls"))
	app.Get("/urls", func(r *vial.Request) any {
		urls = []string{r.URLFor("only_api"), r.URLFor("index"), r.URLFor("only_api", vial.External(true))}
		return ""
	}, vial.Endpoint("api_urls"), vial.RuleSubdomain("api"))
	c := app.TestClient()

	require.Equal(t, 200, c.Get("http://example.com/urls").StatusCode)
	assert.Equal(t, []string{
		"http://api.example.com/only-api",
		"/",
		"http://bob.example.com/profile?tab=posts",
		"http://bob.example.com/posts/3",
	}, urls)

	require.Equal(t, 200, c.Get("https://api.example.com/urls").StatusCode)
	assert.Equal(t, []string{"/only-api", "https://example.com/", "https://api.example.com/only-api"}, urls,
		"relative within the subdomain; the request's scheme for another")

	assert.Equal(t, "http://api.example.com/only-api", app.URLFor("only_api"), "outside a request, from the default subdomain")
	assert.Equal(t, "/", app.URLFor("index"))
	assert.Equal(t, "https://api.example.com/only-api", app.URLFor("only_api", vial.Scheme("https")))
}

func TestURLForAnotherSubdomainWithMatchingOff(t *testing.T) {
	app := subdomainApp(false)
	var got string
	app.Get("/u", func(r *vial.Request) any { got = r.URLFor("only_api"); return "" }, vial.Endpoint("u"))
	require.Equal(t, 200, app.TestClient().Get("http://api.example.com/u").StatusCode)
	assert.Equal(t, "http://api.example.com/only-api", got, "every request is of the default subdomain, as in Flask")
}

func TestURLForAnotherSubdomainNeedsServerName(t *testing.T) {
	app := subdomainApp(true)
	app.Config["SERVER_NAME"] = ""
	_, err := app.BuildURL("only_api")
	var be *vial.BuildError
	require.True(t, errors.As(err, &be), "%v", err)
	assert.Contains(t, err.Error(), "SERVER_NAME")
	assert.Contains(t, err.Error(), `"only_api"`)

	_, err = app.BuildURL("profile")
	require.True(t, errors.As(err, &be), "%v", err)
	assert.Equal(t, []string{"user"}, be.Missing, "the subdomain's variable is a value to give")
}

func TestRuleSubdomainRefusedAtRegistration(t *testing.T) {
	for sub, want := range map[string]string{
		"API":            "lower-case",
		"a/b":            `"/"`,
		"<path:p>":       `"/"`,
		"<x>.<x>":        `"x" used twice`,
		"<nope:x>":       `unknown converter "nope"`,
		"<unclosed":      "unclosed",
		"example.com:80": `":"`,
	} {
		m := vial.NewURLMap()
		func() {
			defer func() {
				p := recover()
				require.NotNil(t, p, sub)
				assert.Contains(t, fmt.Sprint(p), want, sub)
				assert.Contains(t, fmt.Sprint(p), fmt.Sprintf("subdomain %q", sub), sub)
			}()
			m.Add(&vial.Rule{Rule: "/", Endpoint: "e", Subdomain: sub})
		}()
	}
	m := vial.NewURLMap()
	assert.Panics(t, func() { m.Add(&vial.Rule{Rule: "/<x>", Endpoint: "e", Subdomain: "<x>"}) }, "a name in the subdomain and the path")
}

// SUBDOMAIN_MATCHING is read when the App starts serving: a URL built
// during setup, before the config is complete, does not fix it earlier.
func TestSubdomainMatchingIsReadWhenServingStarts(t *testing.T) {
	app := subdomainApp(false)
	u, err := app.BuildURL("index")
	require.NoError(t, err)
	assert.Equal(t, "/", u)
	app.Config["SUBDOMAIN_MATCHING"] = true
	resp := app.TestClient().Get("http://api.example.com/")
	assert.Equal(t, "api_index map[]", resp.Text())
	app.Config["SUBDOMAIN_MATCHING"] = false // too late: read once
	resp = app.TestClient().Get("http://api.example.com/")
	assert.Equal(t, "api_index map[]", resp.Text())
}
