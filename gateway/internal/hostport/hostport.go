// Package hostport splits and joins the host and port of a request the way
// the gateway's servers and middleware need them: without allocating, and
// with IPv6 addresses in brackets where a URL has them.
package hostport

import "strings"

// Split is net.SplitHostPort without the allocation of its error:
// it splits "host:port", "[v6]:port", and returns the host alone (brackets
// removed) with ok false when there is no port.
func Split(hostport string) (host, port string, ok bool) {
	// The common cases first, with IndexByte, which is vectorised: no
	// colon, or one colon and no brackets.
	i := strings.IndexByte(hostport, ':')
	if i < 0 {
		return hostport, "", false
	}
	if hostport[0] != '[' && strings.IndexByte(hostport[i+1:], ':') < 0 {
		return hostport[:i], hostport[i+1:], true
	}
	i = strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return hostport, "", false
	}
	if hostport[0] == '[' {
		end := strings.IndexByte(hostport, ']')
		switch {
		case end < 0:
			return hostport, "", false
		case end+1 == len(hostport):
			return hostport[1:end], "", false
		case end+1 != i:
			return hostport, "", false
		}
		return hostport[1:end], hostport[i+1:], true
	}
	if strings.IndexByte(hostport[:i], ':') >= 0 {
		return hostport, "", false // an IPv6 address without brackets or port
	}
	return hostport[:i], hostport[i+1:], true
}

// DefaultPort is the port a URL of scheme leaves out.
func DefaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// Bracket puts an IPv6 address in brackets, as a URL's host has it.
func Bracket(name string) string {
	if strings.IndexByte(name, ':') >= 0 {
		return "[" + name + "]"
	}
	return name
}
