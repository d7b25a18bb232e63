package serving

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/vial-go/vial/gateway"
)

// Who may see the debugger's page when a reverse proxy runs on the same
// host: its requests all come from a loopback address, whoever its client
// is, so the client the proxy names in its forwarding headers decides.

// forwardingHeaders name the client a proxy forwards a request for.
var forwardingHeaders = [...]string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"}

// A forwardedClient is an address a forwarding header names as a client.
type forwardedClient struct{ header, addr string }

// forwardedClients returns every client address h's forwarding headers
// name (each hop of X-Forwarded-For, each for= of Forwarded, X-Real-IP),
// and the first of those headers present, "" if none is.
func forwardedClients(h http.Header) (clients []forwardedClient, first string) {
	for _, name := range forwardingHeaders {
		values := h.Values(name)
		if len(values) == 0 {
			continue
		}
		if first == "" {
			first = name
		}
		for _, v := range values {
			var addrs []string
			switch name {
			case "Forwarded":
				addrs = forwardedFor(v)
			default:
				addrs = strings.Split(v, ",")
			}
			for _, a := range addrs {
				if a = strings.TrimSpace(a); a != "" {
					clients = append(clients, forwardedClient{name, a})
				}
			}
		}
	}
	return clients, first
}

// forwardedFor returns the for= parameters of a Forwarded header's value,
// unquoted: "for=192.0.2.1, for=\"[2001:db8::1]:80\";proto=https" names
// 192.0.2.1 and [2001:db8::1]:80.
func forwardedFor(v string) []string {
	var addrs []string
	for _, elem := range splitUnquoted(v, ',') {
		for _, pair := range splitUnquoted(elem, ';') {
			key, val, ok := strings.Cut(pair, "=")
			if ok && strings.EqualFold(strings.TrimSpace(key), "for") {
				addrs = append(addrs, unquote(strings.TrimSpace(val)))
			}
		}
	}
	return addrs
}

// unquote returns the content of a quoted string, or v if it is not one.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		if v[i] == '\\' && i+1 < len(v)-1 {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// splitUnquoted splits s at each sep outside a quoted string.
func splitUnquoted(s string, sep byte) []string {
	var parts []string
	quoted, escaped, from := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			parts = append(parts, s[from:i])
			from = i + 1
		}
	}
	return append(parts, s[from:])
}

// refusal says why env's client may not see the page, or returns "" when
// it may: AllowRemote is set, or REMOTE_ADDR is loopback and either
// TrustLocalProxy is set or every client the forwarding headers name is
// loopback too. A forwarding header that names no client (Forwarded
// without for=, "unknown", an obfuscated name) is not loopback.
func (d *Debugger) refusal(env *gateway.Environ) string {
	if d.opts.AllowRemote {
		return ""
	}
	if !isLoopback(env.RemoteAddr) {
		return fmt.Sprintf("client %s is not a loopback address", env.RemoteAddr)
	}
	if d.opts.TrustLocalProxy || env.Header == nil {
		return ""
	}
	clients, first := forwardedClients(env.Header)
	if first != "" && len(clients) == 0 {
		return fmt.Sprintf("the proxy at %s names no client in %s", env.RemoteAddr, first)
	}
	for _, c := range clients {
		if !isLoopback(c.addr) {
			return fmt.Sprintf("client %s (%s, from the proxy at %s) is not a loopback address", c.addr, c.header, env.RemoteAddr)
		}
	}
	return ""
}

// warnProxy writes, once, a warning that a request came through a proxy on
// this host, which the debugger would take for a local client but for its
// forwarding headers. Nothing is written when the debugger is off, or shown
// to every client anyway (DebuggerAllowRemote).
func (s *Server) warnProxy(r *http.Request) {
	if !s.opts.UseDebugger || s.opts.DebuggerAllowRemote || s.proxyWarned.Load() || !isLoopback(r.RemoteAddr) {
		return
	}
	_, header := forwardedClients(r.Header)
	if header == "" || !s.proxyWarned.CompareAndSwap(false, true) {
		return
	}
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	shown := "the debugger is shown only to clients whose forwarded address is loopback"
	if s.opts.DebuggerTrustLocalProxy {
		shown = "the debugger is shown to every client of the proxy (DebuggerTrustLocalProxy)"
	}
	fmt.Fprintf(s.out, " * Warning: a request came through a proxy (%s from %s): %s\n", header, peer, shown)
}
