package validate

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// This file checks what the server puts in the environ, and gateway.input as the application reads it.

// checkEnviron checks what the server put in env.
func (v *vApp) checkEnviron(env *gateway.Environ) {
	bad := func(rule gateway.Rule, key, value string) {
		v.server(rule, "%s = %q", key, value)
	}
	if !httpsyntax.IsToken(env.Method) {
		bad(RuleEnvMethod, "REQUEST_METHOD", env.Method)
	}
	if s := env.ScriptName; s != "" && (s[0] != '/' || s[len(s)-1] == '/') {
		bad(RuleEnvScriptName, "SCRIPT_NAME", s)
	}
	// "OPTIONS *" is the one request whose path is not absolute.
	if p := env.PathInfo; p != "" && p[0] != '/' && !(p == "*" && env.Method == http.MethodOptions && env.ScriptName == "") {
		bad(RuleEnvPathInfo, "PATH_INFO", p)
	}
	if strings.HasPrefix(env.QueryString, "?") {
		bad(RuleEnvQueryString, "QUERY_STRING", env.QueryString)
	}
	if env.ContentLength != "" && !httpsyntax.IsDigits(env.ContentLength) {
		bad(RuleEnvContentLength, "CONTENT_LENGTH", env.ContentLength)
	}
	if env.Input == http.NoBody && httpsyntax.IsDigits(strings.TrimLeft(env.ContentLength, "0")) {
		v.server(RuleInputEOF, "%s is http.NoBody, CONTENT_LENGTH = %q", gateway.KeyInput, env.ContentLength)
	}
	if env.ServerName == "" {
		bad(RuleEnvServer, "SERVER_NAME", env.ServerName)
	}
	if !httpsyntax.IsDigits(env.ServerPort) {
		bad(RuleEnvServer, "SERVER_PORT", env.ServerPort)
	}
	if !vIsProtocol(env.ServerProtocol) {
		bad(RuleEnvProtocol, "SERVER_PROTOCOL", env.ServerProtocol)
	}
	if env.URLScheme != "http" && env.URLScheme != "https" {
		bad(RuleEnvScheme, gateway.KeyURLScheme, env.URLScheme)
	}
	if env.Input == nil {
		v.server(RuleEnvStreams, "%s is nil", gateway.KeyInput)
	}
	if env.Errors == nil {
		v.server(RuleEnvStreams, "%s is nil", gateway.KeyErrors)
	}
	if !env.HasContext() {
		v.server(RuleEnvContext, "%s was never set (Environ.SetContext)", gateway.KeyContext)
	}
	for _, key := range [...]string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		if value, ok := env.Lookup(key); ok {
			v.server(RuleEnvContentHeader, "%s = %#v", key, value)
		}
	}
}

// vIsProtocol reports whether s is "HTTP/" 1*digit "." 1*digit (RFC 3875).
func vIsProtocol(s string) bool {
	rest, ok := strings.CutPrefix(s, "HTTP/")
	if !ok {
		return false
	}
	major, minor, ok := strings.Cut(rest, ".")
	return ok && httpsyntax.IsDigits(major) && httpsyntax.IsDigits(minor)
}

// vInput checks gateway.input as the application reads it.
type vInput struct {
	v     *vApp
	r     io.Reader
	limit int64 // CONTENT_LENGTH, or -1
	read  int64
	eof   bool
}

// vInputCloser is a vInput over an io.ReadCloser, which stays one.
type vInputCloser struct {
	*vInput
	c io.Closer
}

func (in vInputCloser) Close() error { return in.c.Close() }

func vWrapInput(v *vApp, r io.Reader, contentLength string) io.Reader {
	in := &vInput{v: v, r: r, limit: -1}
	if n, err := strconv.ParseInt(contentLength, 10, 64); err == nil {
		in.limit = n
	}
	if c, ok := r.(io.Closer); ok {
		return vInputCloser{in, c}
	}
	return in
}

func (in *vInput) Read(p []byte) (int, error) {
	n, err := in.r.Read(p)
	v := in.v
	if n < 0 || n > len(p) {
		v.server(RuleInputCount, "Read into %d bytes returned n = %d", len(p), n)
		return n, err
	}
	if in.eof && (n > 0 || err == nil && len(p) > 0) {
		v.server(RuleInputEOF, "Read returned %d bytes and error %v after io.EOF", n, err)
	}
	before := in.read
	in.read += int64(n)
	if in.limit >= 0 && before <= in.limit && in.read > in.limit {
		v.server(RuleInputPastEnd, "%d bytes read of a body whose CONTENT_LENGTH is %d", in.read, in.limit)
	}
	if err == io.EOF && !in.eof {
		in.eof = true
		if in.limit >= 0 && in.read < in.limit {
			v.server(RuleInputEOF, "io.EOF after %d bytes of a body whose CONTENT_LENGTH is %d (a truncated body is an error, such as io.ErrUnexpectedEOF)", in.read, in.limit)
		}
	}
	return n, err
}
