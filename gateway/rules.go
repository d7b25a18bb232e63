package gateway

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// ErrHeadersSent is wrapped by the error a server reports when an
// application calls start with excInfo after the headers went out: the
// response cannot be replaced, so the server aborts it.
var ErrHeadersSent = errors.New("gateway: start called with excInfo after the headers were sent")

// ErrShortBody is wrapped by the error a server reports when a body ends
// before the Content-Length the application declared.
var ErrShortBody = errors.New("gateway: body shorter than its Content-Length")

// ErrStartTwice is the panic value of a second call to start without excInfo.
var ErrStartTwice = errors.New("gateway: start called a second time without excInfo")

// ErrNoStart is wrapped by the error a server reports when an application
// produced a body, or returned, without calling start.
var ErrNoStart = errors.New("gateway: the application did not call start before its body")

// A HeaderError is a response status or header that a server refuses to put
// on the wire, because it would corrupt the response or split it.
type HeaderError struct {
	Rule  Rule   // the rule of the contract broken
	Name  string // the header's name, "" for the status
	Value string // the offending value
}

// Error names the rule and the offending status or header.
func (e *HeaderError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("gateway: %s: status %q", e.Rule, e.Value)
	}
	return fmt.Sprintf("gateway: %s: header %q: %q", e.Rule, e.Name, e.Value)
}

// A Rule is one rule of the gateway contract, worded as the package doc
// words it, and numbered as it numbers them ("start_response rule 2: …").
// [CheckResponse] and package validate report a broken rule by its Rule.
type Rule string

// Rules a server enforces on start, worded as the package doc words them.
const (
	RuleStatus        Rule = `start_response rule 1: status is "NNN Reason"`
	RuleHeaderName    Rule = "start_response rule 2: header names must be tokens"
	RuleHeaderControl Rule = "start_response rule 2: header values hold no control character but HTAB"
	RuleHopByHop      Rule = "start_response rule 2: the application must not send hop-by-hop headers"
	RuleStatusHdr     Rule = "start_response rule 2: the status goes in status, not in a Status header"
	RuleLength        Rule = "start_response rule 4: Content-Length must be a non-negative integer"
)

// CheckResponse checks a status and headers against the rules every server
// enforces: a well-formed status, token header names, no control byte but HTAB in
// values, no hop-by-hop headers, no Status header, a numeric Content-Length.
// It returns the status code and the declared Content-Length (-1 if none),
// or a *[HeaderError] naming the broken rule.
func CheckResponse(status string, headers Headers) (code int, contentLength int64, err error) {
	code, err = ParseStatus(status)
	if err != nil {
		return 0, -1, &HeaderError{Rule: RuleStatus, Value: status}
	}
	contentLength = -1
	for _, h := range headers {
		if isLength := h.Name == "Content-Length"; isLength || commonField(h.Name) {
			// A token, neither hop-by-hop nor Status: only the value can
			// be wrong.
			if hasControl(h.Value) {
				return 0, -1, &HeaderError{Rule: RuleHeaderControl, Name: h.Name, Value: h.Value}
			}
			if isLength {
				if contentLength, err = checkLength(h, contentLength); err != nil {
					return 0, -1, err
				}
			}
			continue
		}
		if !httpsyntax.IsToken(h.Name) {
			return 0, -1, &HeaderError{Rule: RuleHeaderName, Name: h.Name, Value: h.Value}
		}
		if hasControl(h.Value) {
			return 0, -1, &HeaderError{Rule: RuleHeaderControl, Name: h.Name, Value: h.Value}
		}
		if IsHopByHop(h.Name) {
			return 0, -1, &HeaderError{Rule: RuleHopByHop, Name: h.Name, Value: h.Value}
		}
		switch len(h.Name) {
		case len("Status"):
			if strings.EqualFold(h.Name, "Status") {
				return 0, -1, &HeaderError{Rule: RuleStatusHdr, Name: h.Name, Value: h.Value}
			}
		case len("Content-Length"):
			if strings.EqualFold(h.Name, "Content-Length") {
				if contentLength, err = checkLength(h, contentLength); err != nil {
					return 0, -1, err
				}
			}
		}
	}
	return code, contentLength, nil
}

// IsHopByHop reports whether name is a hop-by-hop header (RFC 9110 7.6.1),
// which belongs to one connection and which an application must not send:
// Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, and any
// Proxy-* header.
func IsHopByHop(name string) bool {
	switch len(name) {
	case 2:
		return strings.EqualFold(name, "TE")
	case 7:
		// "Proxy-X" is seven letters too: fall through to its check.
		if strings.EqualFold(name, "Trailer") || strings.EqualFold(name, "Upgrade") {
			return true
		}
	case 8:
		if strings.EqualFold(name, "Trailers") {
			return true
		}
	case 10:
		if strings.EqualFold(name, "Connection") || strings.EqualFold(name, "Keep-Alive") {
			return true
		}
	case 17:
		if strings.EqualFold(name, "Transfer-Encoding") {
			return true
		}
	}
	return len(name) > 6 && (name[0] == 'P' || name[0] == 'p') && strings.EqualFold(name[:6], "Proxy-")
}

// checkLength parses the Content-Length field h, which must be a
// non-negative integer that agrees with the one declared before it, if any
// (declared is -1 if none).
func checkLength(h Header, declared int64) (int64, error) {
	n, ok := smallDecimal(h.Value)
	if !ok {
		var err error
		if n, err = strconv.ParseInt(h.Value, 10, 64); err != nil {
			n = -1
		}
	}
	if n < 0 || (declared >= 0 && n != declared) {
		return -1, &HeaderError{Rule: RuleLength, Name: h.Name, Value: h.Value}
	}
	return n, nil
}

// smallDecimal parses s when it is one to eighteen decimal digits, which
// cannot overflow an int64: what a Content-Length nearly always is. Other
// strings (signs, longer numbers, junk) are left to strconv.
func smallDecimal(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// commonField reports whether name is one of the fields responses carry
// most, spelled as textproto.CanonicalMIMEHeaderKey spells it. Such a name
// is known to be a token that is neither hop-by-hop nor Status nor
// Content-Length, so a server checks its value only, and puts it in an
// http.Header as it is. One switch on the whole string is cheaper than
// scanning it byte by byte, and applications write these names this way.
func commonField(name string) bool {
	switch name {
	case "Content-Type", "Location", "Set-Cookie", "Cache-Control", "Vary", "Allow",
		"Etag", "Last-Modified", "Expires", "Content-Encoding", "Content-Disposition",
		"Content-Language", "Accept-Ranges", "Content-Range", "Www-Authenticate",
		"X-Content-Type-Options", "Access-Control-Allow-Origin":
		return true
	}
	return false
}

// hasControl reports whether a header value holds a control byte other
// than HTAB, which RFC 9110 does not allow in a field value: CR, LF and
// NUL, which could end the header line early, and the others, which
// clients read in ways of their own.
func hasControl(v string) bool {
	// Eight bytes at a time, while none is a control character: the test
	// (x - 0x20…) &^ x & 0x80… is non-zero exactly when some byte of x is
	// below 0x20, and the same test on x ^ 0x7f… when some byte is DEL.
	// The first word that has one (perhaps a harmless tab) is looked at
	// byte by byte from there on.
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := v[i : i+8] // of known length: no bounds checks below
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		d := x ^ 0x7f7f7f7f7f7f7f7f
		if ((x-0x2020202020202020)&^x|(d-0x0101010101010101)&^d)&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}
