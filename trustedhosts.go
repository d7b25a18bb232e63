package vial

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// This file is Config["TRUSTED_HOSTS"], Flask 3.1's host allow-list: when
// it is set, the request's host is checked before its URL is matched, as
// Flask's create_url_adapter calls werkzeug's get_host with the list. A
// host not on it makes the request's routing error a 400, raised where a
// 404 would be (after the before-request functions, through the error
// handlers), so a forged Host header never reaches URLFor(External(true))
// or a redirect's Location.

// ErrUntrustedHost is the error behind the 400 of a request whose host is
// not in Config["TRUSTED_HOSTS"] (werkzeug's SecurityError): the
// *HTTPError's Err, so an error handler can tell it from other 400s with
// errors.Is.
var ErrUntrustedHost = errors.New("vial: the request's host is not in TRUSTED_HOSTS")

// checkHost returns the error that keeps r from being matched when
// TRUSTED_HOSTS is set and r's host is not on it. Unset, it costs one map
// lookup and one nil check.
func (a *App) checkHost(r *Request) error {
	if list := a.Config["TRUSTED_HOSTS"]; list != nil {
		return checkTrustedHost(r, list)
	}
	return nil
}

// checkTrustedHost checks r's host, as werkzeug's get_host does: the Host
// header, else SERVER_NAME with SERVER_PORT; its port is ignored. An empty
// list trusts every host, as in werkzeug.
func checkTrustedHost(r *Request, list any) error {
	host := strings.TrimPrefix(r.Environ.HostURL(), r.Environ.URLScheme+"://")
	var trusted bool
	switch l := list.(type) {
	case string:
		trusted = HostIsTrusted(host, l)
	case []string:
		trusted = len(l) == 0 || HostIsTrusted(host, l...)
	case []any:
		names, ok := stringsOf(l)
		if !ok {
			return badTrustedHosts(list)
		}
		trusted = len(names) == 0 || HostIsTrusted(host, names...)
	default:
		return badTrustedHosts(list)
	}
	if trusted {
		return nil
	}
	return &HTTPError{Code: http.StatusBadRequest, Description: fmt.Sprintf("Host %q is not trusted.", host), Err: ErrUntrustedHost}
}

// stringsOf returns l's strings, if it holds nothing else (JSON or TOML
// configuration gives a list as []any).
func stringsOf(l []any) ([]string, bool) {
	names := make([]string, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		names[i] = s
	}
	return names, true
}

// badTrustedHosts is the error of a TRUSTED_HOSTS of the wrong type: a
// setup mistake, answered with a 500 that names the key (as a bad
// MAX_CONTENT_LENGTH is) rather than a check silently skipped.
func badTrustedHosts(v any) error {
	return fmt.Errorf("vial: Config[%q] is %#v; it must be a list of host names ([]string, or []any of strings), a single name, or nil for no check", "TRUSTED_HOSTS", v)
}

// HostIsTrusted reports whether host (a Host header's "name:port", the
// port optional) is one of trusted, werkzeug's host_is_trusted: host must
// be made of the characters a host name or IP address may have (letters,
// digits, "-" and ".", or an IPv6 literal in brackets); its port is
// ignored; a trusted name with a leading "." matches itself and every
// subdomain (".example.com" matches "example.com" and "a.b.example.com").
// Trusted names are IDNA-encoded when they are not ASCII ("bücher.example"
// matches "xn--bcher-kva.example"), and may carry a port, also ignored.
// With no trusted names, only the shape of host is checked.
//
// Unlike werkzeug, names compare without regard to ASCII case, as DNS
// names do; and the IDNA encoding lowercases a name without NFKC
// normalisation, so a name that needs it is best given in its xn-- form.
func HostIsTrusted(host string, trusted ...string) bool {
	name, ok := hostName(host)
	if !ok || len(trusted) == 0 {
		return ok
	}
	for _, ref := range trusted {
		ref, suffix := strings.CutPrefix(ref, ".")
		ref, ok := trustedName(ref)
		if !ok {
			continue
		}
		if strings.EqualFold(name, ref) {
			return true
		}
		if suffix && len(name) > len(ref) && name[len(name)-len(ref)-1] == '.' && strings.EqualFold(name[len(name)-len(ref):], ref) {
			return true
		}
	}
	return false
}

// hostName returns the name of "name[:port]" if it has the shape
// werkzeug's _host_re admits, [a-z0-9.-]+ or a bracketed IPv6 literal,
// then an optional :digits.
func hostName(host string) (string, bool) {
	name, port := host, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", false
		}
		name, port = host[:end+1], host[end+1:]
		if !isIPv6Literal(name[1:end]) {
			return "", false
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 {
		name, port = host[:i], host[i:]
		if name == "" || !allOf(name, isNameByte) {
			return "", false
		}
	} else if name == "" || !allOf(name, isNameByte) {
		return "", false
	}
	if port != "" && (port[0] != ':' || len(port) == 1 || !allOf(port[1:], isDigit)) {
		return "", false
	}
	return name, true
}

// isIPv6Literal is werkzeug's [a-f0-9]*:[a-f0-9.:]+ inside the brackets.
func isIPv6Literal(s string) bool {
	i := strings.IndexByte(s, ':')
	return i >= 0 && i+1 < len(s) && allOf(s[:i], isHexByte) &&
		allOf(s[i+1:], func(c byte) bool { return isHexByte(c) || c == '.' || c == ':' })
}

// trustedName is a trusted entry as it compares: without a port, and
// IDNA-encoded when it is not ASCII.
func trustedName(ref string) (string, bool) {
	if name, ok := hostName(ref); ok {
		return name, true
	}
	if ref == "" || !utf8.ValidString(ref) {
		return "", false
	}
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && allOf(ref[i+1:], isDigit) {
		ref = ref[:i]
	}
	return idnaEncode(ref)
}

func allOf(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool   { return '0' <= c && c <= '9' }
func isHexByte(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }
func isNameByte(c byte) bool {
	return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' || c == '-' || c == '.'
}

// idnaEncode is Python's "idna" codec for a trusted name, which werkzeug
// applies to each: every label that is not ASCII lowercased and
// Punycode-encoded with the xn-- prefix (RFC 3490's ToASCII, without
// nameprep's normalisation).
func idnaEncode(name string) (string, bool) {
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if allOf(l, func(c byte) bool { return c < utf8.RuneSelf }) {
			continue
		}
		labels[i] = "xn--" + punycode(strings.ToLower(l))
	}
	name = strings.Join(labels, ".")
	return name, allOf(name, isNameByte)
}

// punycode encodes a label, RFC 3492 section 6.3: its ASCII characters,
// a "-", then the others as deltas in base 36.
func punycode(label string) string {
	const base, tmin, tmax = 36, 1, 26
	runes := []rune(label)
	var out []byte
	for _, r := range runes {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
		}
	}
	basic := len(out)
	if basic > 0 {
		out = append(out, '-')
	}
	n, delta, bias := rune(128), 0, 72
	for h := basic; h < len(runes); {
		m := rune(utf8.MaxRune)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := min(max(k-bias, tmin), tmax)
				if q < t {
					break
				}
				out = append(out, punyDigit(t+(q-t)%(base-t)))
				q = (q - t) / (base - t)
			}
			out = append(out, punyDigit(q))
			bias = punyAdapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out)
}

func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

// punyAdapt is RFC 3492's bias adaptation.
func punyAdapt(delta, points int, first bool) int {
	const base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
	if first {
		delta /= damp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > (base-tmin)*tmax/2 {
		delta /= base - tmin
		k += base
	}
	return k + (base-tmin+1)*delta/(delta+skew)
}
