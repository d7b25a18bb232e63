package vial

import "strings"

// iriToURI percent-encodes what a URI may not hold, as werkzeug's
// iri_to_uri does for a redirect's Location: control bytes, space, DEL,
// the bytes of non-ASCII characters (UTF-8), and " < > \ ^ ` { | }. What a
// URI may hold is left as it is, an escape included, so a URI goes through
// unchanged and a header value never carries a control byte.
func iriToURI(s string) string {
	i := 0
	for i < len(s) && !mustEscapeInURI(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; mustEscapeInURI(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func mustEscapeInURI(c byte) bool {
	return c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>\^`+"`{|}", c) >= 0
}
