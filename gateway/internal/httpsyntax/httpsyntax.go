// Package httpsyntax holds the small rules of HTTP syntax that the gateway's
// packages (the contract, the CGI server, the validator and the middleware)
// all check: tokens, digits, and the statuses that carry no body.
package httpsyntax

// IsToken reports whether s is an RFC 9110 token (a valid field name).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return false
		}
	}
	return true
}

// tokenChars[c] reports whether the byte c may appear in a token. It has
// all 256 entries, so that indexing it needs no bounds check.
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// BodyForbidden reports whether a response with this status has no body:
// 1xx, 204 and 304.
func BodyForbidden(code int) bool {
	return code < 200 || code == 204 || code == 304
}

// IsDigits reports whether s is one or more ASCII digits: the only form
// the contract allows a number in a header or a port (strconv also takes
// a sign).
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
