//go:build !js && !plan9

package cgi_test

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/cgi"
	"github.com/vial-go/vial/gateway/validate"
)

// fzDigits reports whether s is one or more ASCII digits.
func fzDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// fzToken reports whether s is an RFC 9110 token.
func fzToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// fzCGIBroken returns the rules of the environ contract that the CGI
// variables, as RFC 3875 words them, break: what package validate may
// report of the environ the server makes of them. None for a well-formed
// request.
func fzCGIBroken(method, script, pathInfo, query, length, name, port, proto string) []gateway.Rule {
	var broken []gateway.Rule
	if !fzToken(method) {
		broken = append(broken, validate.RuleEnvMethod)
	}
	// SCRIPT_NAME = "" | "/" path; a trailing "/" is moved to PATH_INFO
	// by the server.
	if script != "" && script[0] != '/' {
		broken = append(broken, validate.RuleEnvScriptName)
	}
	if pathInfo != "" && pathInfo[0] != '/' && !strings.HasSuffix(script, "/") {
		broken = append(broken, validate.RuleEnvPathInfo)
	}
	if strings.HasPrefix(query, "?") {
		broken = append(broken, validate.RuleEnvQueryString)
	}
	if length != "" && !fzDigits(length) {
		broken = append(broken, validate.RuleEnvContentLength)
	}
	if name == "" || !fzDigits(port) {
		broken = append(broken, validate.RuleEnvServer)
	}
	major, minor, ok := strings.Cut(strings.TrimPrefix(proto, "HTTP/"), ".")
	if !strings.HasPrefix(proto, "HTTP/") || !ok || !fzDigits(major) || !fzDigits(minor) {
		broken = append(broken, validate.RuleEnvProtocol)
	}
	return broken
}

// FuzzCGIEnviron serves one request through cgi.Server from fuzzed CGI
// variables (and one more variable of any name), under validate.WrapWith.
// It must never panic. Without REQUEST_METHOD it must refuse with an error
// and run nothing; otherwise the environ the application gets may break
// only the rules that the variables themselves break (none for a
// well-formed request, see fzCGIBroken), the body must be the first
// CONTENT_LENGTH bytes of stdin (or fail with io.ErrUnexpectedEOF when
// stdin is shorter), and a well-formed request gets its 204.
func FuzzCGIEnviron(f *testing.F) {
	// Seeds from TestCGIEnvironFromVariables and TestCGIEnvironEdgeCases.
	f.Add("GET", "/app.cgi", "/x", "", "", "example.org", "80", "HTTP/1.1", "", "HTTP_USER_AGENT", "curl/8", "", true)
	f.Add("POST", "/", "a b", "q=1", "5", "example.org", "443", "HTTP/1.0", "on", "HTTP_CONTENT_TYPE", "text/plain", "hello, world", false)
	f.Add("DELETE", "/app/", "", "?q", "007", "h", "8080", "HTTP/2.0", "1", "gateway.input", "not a reader", "short", false)
	f.Add("", "/app.cgi", "/x", "", "", "example.org", "80", "HTTP/1.1", "", "PATH", "/bin", "", true)
	f.Add("G T", "app", "x", "", "-1", "", "http", "HTTP/1", "off", "=C:", "", "", false)
	f.Add("PUT", "/a", "/b", "x=%zz", "99999999999999999999", "::1", "0", "HTTP/1.1", "", "HTTP_", "v", "body", true)
	f.Add("GET", "", "", "", "0", "example.org", "80", "HTTP/1.1", "", "REQUEST_SCHEME", "https", "", false)
	f.Fuzz(func(t *testing.T, method, script, pathInfo, query, length, name, port, proto, https, extraName, extraValue, stdin string, withURI bool) {
		vars := []string{
			"GATEWAY_INTERFACE=CGI/1.1",
			"SCRIPT_NAME=" + script,
			"PATH_INFO=" + pathInfo,
			"QUERY_STRING=" + query,
			"CONTENT_LENGTH=" + length,
			"SERVER_NAME=" + name,
			"SERVER_PORT=" + port,
			"SERVER_PROTOCOL=" + proto,
			"REMOTE_ADDR=192.0.2.1",
			"HTTPS=" + https,
		}
		if method != "" {
			vars = append(vars, "REQUEST_METHOD="+method)
		}
		if withURI {
			vars = append(vars, "REQUEST_URI="+script+pathInfo)
		}
		// Last, so that it overrides nothing above: the first of a name wins.
		vars = append(vars, extraName+"="+extraValue)
		methodSet := method != "" || extraName == "REQUEST_METHOD" && extraValue != ""
		if method == "" && extraName == "REQUEST_METHOD" {
			method = extraValue
		}

		var seen *gateway.Environ
		var body []byte
		var readErr error
		var violations []*validate.Violation
		app := validate.WrapWith(gateway.AppFunc(func(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
			seen = env.Clone()
			body, readErr = io.ReadAll(env.Input)
			start("204 No Content", nil)
			return gateway.NoBody
		}), func(v *validate.Violation) { violations = append(violations, v) })
		var stdout, stderr bytes.Buffer
		err := (&cgi.Server{App: app, Env: vars, Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr}).Serve()

		if !methodSet {
			require.Error(t, err)
			require.Nil(t, seen, "no REQUEST_METHOD: not a CGI request")
			require.Contains(t, stderr.String(), "REQUEST_METHOD")
			return
		}
		require.NotNil(t, seen, "stderr: %s", stderr.String())
		broken := fzCGIBroken(method, script, pathInfo, query, length, name, port, proto)
		for _, v := range violations {
			require.Equal(t, validate.SideServer, v.Side, "%v", v)
			require.Contains(t, broken, v.Rule, "%v (the variables break only %q)", v, broken)
		}
		if len(broken) == 0 {
			require.NoError(t, err, "stderr: %s", stderr.String())
			require.True(t, strings.HasPrefix(stdout.String(), "Status: 204 No Content\r\n"), "%q", stdout.String())
		}

		// The typed fields hold the variables, SCRIPT_NAME without its
		// trailing slashes; url_scheme is http or https.
		require.Equal(t, method, seen.Method)
		require.Equal(t, strings.TrimRight(script, "/"), seen.ScriptName)
		require.True(t, strings.HasSuffix(seen.PathInfo, pathInfo) && len(seen.PathInfo)-len(pathInfo) <= 1, "PATH_INFO %q from %q", seen.PathInfo, pathInfo)
		require.Equal(t, query, seen.QueryString)
		require.Contains(t, []string{"http", "https"}, seen.URLScheme)
		wantHTTPS := strings.EqualFold(https, "on") || https == "1" ||
			extraName == "REQUEST_SCHEME" && strings.EqualFold(extraValue, "https")
		require.Equal(t, wantHTTPS, seen.URLScheme == "https", "HTTPS=%q", https)
		if withURI {
			require.Equal(t, script+pathInfo, seen.RequestURI)
		} else if extraName != "REQUEST_URI" && len(broken) == 0 {
			require.True(t, strings.HasPrefix(seen.RequestURI, "/"), "rebuilt REQUEST_URI %q", seen.RequestURI)
		}

		// The body: CONTENT_LENGTH bytes of stdin, never more.
		n, perr := strconv.ParseInt(length, 10, 64)
		switch {
		case length == "" || length == "0":
			require.NoError(t, readErr)
			require.Empty(t, body)
		case perr != nil || n < 0:
			require.Error(t, readErr, "CONTENT_LENGTH %q", length)
		case n <= int64(len(stdin)):
			require.NoError(t, readErr)
			require.Equal(t, stdin[:n], string(body))
		default:
			require.True(t, errors.Is(readErr, io.ErrUnexpectedEOF), "%v", readErr)
			require.Equal(t, stdin, string(body))
		}

		// The extra variable may be a header or an extension, but never
		// one of the server's gateway.* keys.
		if strings.HasPrefix(extraName, "gateway.") && extraName != gateway.KeyURLScheme {
			v, _ := seen.Lookup(extraName)
			require.NotEqual(t, extraValue, v, "%s set from the environment", extraName)
		}
	})
}
