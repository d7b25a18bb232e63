package middleware

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/gateway/internal/hostport"
	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// ProxyFixOptions says how many proxies in front of the application set
// each X-Forwarded-* header. Each proxy appends its value to the right of
// the list, so with N trusted proxies the Nth value from the right is the
// one the outermost trusted proxy saw; anything further left came from the
// client and may be forged.
//
// Zero, the default, trusts nobody: that header is ignored. (werkzeug
// trusts one proxy for For and Proto by default; here every count is
// explicit, so ProxyFixOptions{For: 1, Proto: 1} is werkzeug's default.)
type ProxyFixOptions struct {
	For    int // X-Forwarded-For: sets REMOTE_ADDR (and REMOTE_PORT)
	Proto  int // X-Forwarded-Proto: sets gateway.url_scheme
	Host   int // X-Forwarded-Host: sets HTTP_HOST, SERVER_NAME, SERVER_PORT
	Port   int // X-Forwarded-Port: sets the port of HTTP_HOST and SERVER_PORT
	Prefix int // X-Forwarded-Prefix: sets SCRIPT_NAME
}

// KeyProxyFixOrig is the environ key under which [ProxyFix] keeps the
// values it replaced, as a [ProxyFixOrig].
const KeyProxyFixOrig = "gateway.proxy_fix.orig"

// ProxyFixOrig holds the environ values as the server set them, before
// [ProxyFix] changed them: what the connection from the nearest proxy said.
// ProxyFix stores it under [KeyProxyFixOrig] on every request.
type ProxyFixOrig struct {
	RemoteAddr string // REMOTE_ADDR
	RemotePort string // REMOTE_PORT
	URLScheme  string // gateway.url_scheme
	Host       string // HTTP_HOST
	ServerName string // SERVER_NAME
	ServerPort string // SERVER_PORT
	ScriptName string // SCRIPT_NAME
}

// ProxyFix returns an Application that corrects the environ of a request
// that came through trusted reverse proxies, werkzeug's ProxyFix, then
// calls app.
//
// For each header, opts gives the number N of proxies that set it. ProxyFix
// takes exactly the Nth value from the right of that header, never one
// further left: if the header holds fewer than N values it is ignored, as
// is a header whose N is zero. Repeated header lines count as one list,
// joined with ", " in order. The value taken must be well-formed, or the
// header is ignored rather than trusted:
//
//   - X-Forwarded-For: an IP address, optionally with a port ("[::1]:80",
//     "192.0.2.1:8080"). It sets REMOTE_ADDR, and REMOTE_PORT to that port
//     or "" (the proxy's port belongs to another connection).
//   - X-Forwarded-Proto: "http" or "https", in any case. It sets
//     gateway.url_scheme.
//   - X-Forwarded-Host: a host name or IP address, optionally with a port.
//     It sets HTTP_HOST, SERVER_NAME (without brackets) and SERVER_PORT (the
//     port given, else the default port of the request's scheme).
//   - X-Forwarded-Port: a port from 1 to 65535. It replaces the port of
//     HTTP_HOST (dropping it when it is the scheme's default) and sets
//     SERVER_PORT.
//   - X-Forwarded-Prefix: a path starting with "/", percent-decoded as
//     SCRIPT_NAME is, trailing slashes removed ("/" means the root). It
//     replaces SCRIPT_NAME.
//
// The headers are applied in that order, so X-Forwarded-Port overrides a
// port in X-Forwarded-Host. The X-Forwarded-* headers themselves stay in the
// environ. The values the server had set are kept under [KeyProxyFixOrig]
// as a [ProxyFixOrig]. The environ is changed in place (it belongs to the
// request).
//
// Trust only what your proxies set: with more trusted proxies than there
// are, a client can choose its own address. A negative count is a setup
// mistake and panics.
func ProxyFix(app gateway.Application, opts ProxyFixOptions) gateway.Application {
	if app == nil {
		panic("middleware: ProxyFix: the application is nil")
	}
	for _, n := range []struct {
		name string
		n    int
	}{{"For", opts.For}, {"Proto", opts.Proto}, {"Host", opts.Host}, {"Port", opts.Port}, {"Prefix", opts.Prefix}} {
		if n.n < 0 {
			panic(fmt.Sprintf("middleware: ProxyFix: ProxyFixOptions.%s is negative (%d)", n.name, n.n))
		}
	}
	return &proxyFix{app: app, opts: opts}
}

type proxyFix struct {
	app  gateway.Application
	opts ProxyFixOptions
}

// ServeGateway fixes the environ, then calls the application.
func (p *proxyFix) ServeGateway(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	env.Set(KeyProxyFixOrig, ProxyFixOrig{
		RemoteAddr: env.RemoteAddr,
		RemotePort: env.RemotePort,
		URLScheme:  env.URLScheme,
		Host:       env.Host,
		ServerName: env.ServerName,
		ServerPort: env.ServerPort,
		ScriptName: env.ScriptName,
	})

	if v, ok := proxyFixValue(env, "X-Forwarded-For", p.opts.For); ok {
		if addr, port, ok := proxyFixParseFor(v); ok {
			env.RemoteAddr, env.RemotePort = addr, port
		}
	}
	if v, ok := proxyFixValue(env, "X-Forwarded-Proto", p.opts.Proto); ok {
		switch scheme := strings.ToLower(v); scheme {
		case "http", "https":
			env.URLScheme = scheme
		}
	}
	if v, ok := proxyFixValue(env, "X-Forwarded-Host", p.opts.Host); ok {
		if name, port, ok := proxyFixParseHost(v); ok {
			env.Host, env.ServerName, env.ServerPort = v, name, port
			if port == "" {
				env.ServerPort = hostport.DefaultPort(env.URLScheme)
			}
		}
	}
	if v, ok := proxyFixValue(env, "X-Forwarded-Port", p.opts.Port); ok {
		if proxyFixValidPort(v) {
			if name, _, ok := proxyFixParseHost(env.Host); ok {
				env.Host = hostport.Bracket(name)
				if v != hostport.DefaultPort(env.URLScheme) {
					env.Host += ":" + v
				}
			}
			env.ServerPort = v
		}
	}
	if v, ok := proxyFixValue(env, "X-Forwarded-Prefix", p.opts.Prefix); ok {
		if prefix, ok := proxyFixParsePrefix(v); ok {
			env.ScriptName = prefix
		}
	}
	return p.app.ServeGateway(env, start)
}

// proxyFixValue returns the value trusted values from the right of the
// comma-separated list in header name's lines, or false when trusted is
// zero or there are fewer values than that.
func proxyFixValue(env *gateway.Environ, name string, trusted int) (string, bool) {
	if trusted <= 0 {
		return "", false
	}
	lines := env.Header.Values(name)
	// Walk the lines, and the values within each, from the right.
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for {
			j := strings.LastIndexByte(line, ',')
			trusted--
			if trusted == 0 {
				return strings.TrimSpace(line[j+1:]), true
			}
			if j < 0 {
				break
			}
			line = line[:j]
		}
	}
	return "", false
}

// proxyFixParseFor accepts an IP address, "ip:port" or "[ipv6]:port", and
// returns the address (unbracketed) and port ("" if none).
func proxyFixParseFor(v string) (addr, port string, ok bool) {
	if ip := net.ParseIP(v); ip != nil {
		return v, "", true
	}
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		if ip := net.ParseIP(v[1 : len(v)-1]); ip != nil {
			return v[1 : len(v)-1], "", true
		}
		return "", "", false
	}
	h, p, err := net.SplitHostPort(v)
	if err != nil || net.ParseIP(h) == nil || !proxyFixValidPort(p) {
		return "", "", false
	}
	return h, p, true
}

// proxyFixParseHost accepts a Host value: a name or IP address, IPv6 in
// brackets, optionally followed by ":port". It returns the name without
// brackets and the port ("" if none).
func proxyFixParseHost(v string) (name, port string, ok bool) {
	hostPart := v
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return "", "", false
		}
		hostPart, name = v[:end+1], v[1:end]
		if net.ParseIP(name) == nil || strings.IndexByte(name, ':') < 0 {
			return "", "", false
		}
	} else {
		if i := strings.IndexByte(v, ':'); i >= 0 {
			hostPart = v[:i]
		}
		name = hostPart
		if !proxyFixValidName(name) {
			return "", "", false
		}
	}
	rest := v[len(hostPart):]
	switch {
	case rest == "":
		return name, "", true
	case rest[0] == ':' && proxyFixValidPort(rest[1:]):
		return name, rest[1:], true
	}
	return "", "", false
}

// proxyFixValidName reports whether s is a plausible host name or IPv4
// address: letters, digits, '-', '_' and '.', not empty.
func proxyFixValidName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// proxyFixValidPort reports whether s is a decimal port from 1 to 65535.
func proxyFixValidPort(s string) bool {
	if len(s) > 5 || !httpsyntax.IsDigits(s) {
		return false
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

// proxyFixParsePrefix accepts a path prefix starting with "/" and returns
// it percent-decoded without trailing slashes. It refuses "//…", which
// would turn URLs built from SCRIPT_NAME into links to another host, and
// control characters, backslashes and dot segments.
func proxyFixParsePrefix(v string) (string, bool) {
	p, err := url.PathUnescape(v)
	if err != nil || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "", false
		}
	}
	return strings.TrimRight(p, "/"), true
}
