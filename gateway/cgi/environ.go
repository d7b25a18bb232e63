//go:build !js && !plan9

package cgi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway"
)

// This file builds the request's environ from the CGI variables.

// errNotCGI is returned by Serve when the environment has no
// REQUEST_METHOD: the program was not started by a CGI server.
var errNotCGI = errors.New("gateway: cgi: no REQUEST_METHOD in the environment: not started by a CGI server")

// fillEnviron builds the environ from the CGI variables.
func fillEnviron(e *gateway.Environ, vars []string, stdin io.Reader) error {
	seen := copyVars(e, vars)
	if e.Method == "" {
		return errNotCGI
	}
	e.URLScheme = "http"
	if on := e.GetString("HTTPS"); strings.EqualFold(on, "on") || on == "1" ||
		strings.EqualFold(e.GetString("REQUEST_SCHEME"), "https") {
		e.URLScheme = "https"
	}
	if strings.HasSuffix(e.ScriptName, "/") {
		// SCRIPT_NAME never ends in "/": the slash belongs to PATH_INFO.
		e.ScriptName = strings.TrimRight(e.ScriptName, "/")
		if !strings.HasPrefix(e.PathInfo, "/") {
			e.PathInfo = "/" + e.PathInfo
		}
	}
	if !seen["REQUEST_URI"] {
		e.RequestURI = (&url.URL{Path: e.Path()}).EscapedPath()
		if e.RequestURI == "" {
			e.RequestURI = "/"
		}
		if e.QueryString != "" {
			e.RequestURI += "?" + e.QueryString
		}
	}
	if e.ContentType != "" {
		e.Header["Content-Type"] = []string{e.ContentType}
	}
	setInput(e, stdin)
	e.Multithread = false
	e.Multiprocess = true
	e.RunOnce = true
	return nil
}

// copyVars sets each variable in e, the first of a name given twice, and
// returns the names it saw.
func copyVars(e *gateway.Environ, vars []string) map[string]bool {
	seen := make(map[string]bool, len(vars))
	e.Header = make(http.Header)
	for _, kv := range vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || seen[k] {
			continue
		}
		seen[k] = true
		switch {
		case strings.HasPrefix(k, "gateway."):
			// The gateway.* keys are the server's to set, not the
			// environment's (and most are not strings).
			continue
		case k == "HTTP_CONTENT_TYPE" || k == "HTTP_CONTENT_LENGTH":
			continue // those are CONTENT_TYPE and CONTENT_LENGTH
		}
		e.Set(k, v) // a typed field, a header for HTTP_*, else an extension
	}
	return seen
}

// setInput makes gateway.input read CONTENT_LENGTH bytes of stdin.
func setInput(e *gateway.Environ, stdin io.Reader) {
	if e.ContentLength == "0" {
		// lighttpd, for one, sets CONTENT_LENGTH=0 on every request
		// without a body: the environ says "" for a length the client
		// did not send. An explicit 0 reads the same, an empty body.
		e.ContentLength = ""
	}
	if e.ContentLength == "" {
		e.Input = http.NoBody
		return
	}
	n, err := strconv.ParseInt(e.ContentLength, 10, 64)
	if err != nil || n < 0 {
		e.Input = errReader{fmt.Errorf("gateway: cgi: invalid CONTENT_LENGTH %q", e.ContentLength)}
	} else {
		e.Input = &bodyInput{r: stdin, total: n, left: n}
	}
	e.Header["Content-Length"] = []string{e.ContentLength}
}

// bodyInput reads the request body from standard input: CONTENT_LENGTH
// bytes and not one more, the server may keep stdin open after them.
type bodyInput struct {
	r           io.Reader
	total, left int64
}

func (in *bodyInput) Read(p []byte) (int, error) {
	if in.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > in.left {
		p = p[:in.left]
	}
	n, err := in.r.Read(p)
	in.left -= int64(n)
	if err == io.EOF {
		if in.left > 0 {
			err = fmt.Errorf("gateway: cgi: the request body ended after %d of its %d bytes: %w",
				in.total-in.left, in.total, io.ErrUnexpectedEOF)
		} else if n > 0 {
			err = nil // report EOF on the next call, as readers usually do
		}
	}
	return n, err
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
