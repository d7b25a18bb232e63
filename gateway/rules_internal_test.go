package gateway

import (
	"math/rand/v2"
	"net/textproto"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial/gateway/internal/httpsyntax"
)

// commonField lets a name skip the checks of CheckResponse and the
// canonicalisation of HTTPHandler: it must hold only names that would pass
// them unchanged.
func TestCommonFieldsNeedNoCheck(t *testing.T) {
	candidates := []string{
		"Content-Type", "Location", "Set-Cookie", "Cache-Control", "Vary", "Allow",
		"Etag", "Last-Modified", "Expires", "Content-Encoding", "Content-Disposition",
		"Content-Language", "Accept-Ranges", "Content-Range", "Www-Authenticate",
		"X-Content-Type-Options", "Access-Control-Allow-Origin",
		// Not common, or not spelled canonically: these take the full checks.
		// Every name a check refuses is here, so that adding one of them to
		// commonField fails the test.
		"content-type", "ETag", "WWW-Authenticate", "Content-Length", "Status",
		"Connection", "Keep-Alive", "Te", "TE", "Trailer", "Trailers", "Transfer-Encoding",
		"Upgrade", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
		"X-Custom", "", "Bad Name", "Bad:Name",
	}
	common := 0
	for _, name := range candidates {
		if !commonField(name) {
			continue
		}
		common++
		assert.Equal(t, textproto.CanonicalMIMEHeaderKey(name), name, "%q is not canonical", name)
		assert.True(t, httpsyntax.IsToken(name), name)
		assert.False(t, IsHopByHop(name), name)
		assert.NotEqual(t, "Status", name)
		assert.NotEqual(t, "Content-Length", name)
	}
	assert.Equal(t, 17, common, "the common names listed here and in commonField differ")
	for _, name := range []string{"content-type", "ETag", "WWW-Authenticate", "Content-Length", "Status", "Connection"} {
		assert.False(t, commonField(name), name)
	}
}

// hasControl reads eight bytes at a time: it must answer exactly as a
// byte-by-byte scan does, wherever the byte is and whatever its neighbours.
func TestHasControlMatchesAByteScan(t *testing.T) {
	slow := func(v string) bool {
		return strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
	}
	for n := 0; n <= 20; n++ {
		base := strings.Repeat("a", n)
		assert.False(t, hasControl(base))
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				v := base[:pos] + string(rune(c))[:1] + base[pos+1:]
				if c >= 0x80 {
					v = base[:pos] + string([]byte{byte(c)}) + base[pos+1:]
				}
				if got, want := hasControl(v), slow(v); got != want {
					t.Fatalf("hasControl(%q) = %v, want %v", v, got, want)
				}
			}
		}
	}
	// A tab (a control byte that is allowed) before a CR in the same word
	// and in a later one.
	assert.True(t, hasControl("a\tb\rcdefgh"))
	assert.True(t, hasControl("a\tbcdefghijklmn\n"))
	assert.False(t, hasControl("a\tbcdefghijklmn\xff\x80 "), "tab, non-ASCII and space are allowed")
	assert.True(t, hasControl("abcdefghijklmn\x7f"), "DEL")
	assert.True(t, hasControl("abcdefgh\x01"), "a control byte after a clean word")
}

// checkLength reads plain digits itself: on any value its verdict must be
// the one strconv.ParseInt gives.
func TestCheckLengthAgreesWithStrconv(t *testing.T) {
	values := []string{"", "0", "-0", "+0", "007", "1_0", "0x5", " 5", "5 ", "٣"}
	for n := 1; n <= 21; n++ {
		values = append(values, strings.Repeat("9", n), "1"+strings.Repeat("0", n-1))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789+-_ x"
	for range 20000 {
		b := make([]byte, 1+rng.IntN(20))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		values = append(values, string(b))
	}
	for _, v := range values {
		want, err := strconv.ParseInt(v, 10, 64)
		if err != nil || want < 0 {
			want = -1
		}
		got, gerr := checkLength(Header{Name: "Content-Length", Value: v}, -1)
		if want < 0 {
			require.Error(t, gerr, "%q", v)
			continue
		}
		require.NoError(t, gerr, "%q", v)
		require.Equal(t, want, got, "%q", v)
	}
}

// Content-Length values take a short path when they are plain digits: the
// result must be strconv's, and the rule's, either way.
func TestCheckResponseContentLength(t *testing.T) {
	good := map[string]int64{
		"0": 0, "25": 25, "007": 7, "+5": 5,
		"123456789012345678":  123456789012345678,
		"9223372036854775807": 9223372036854775807,
	}
	for v, want := range good {
		_, n, err := CheckResponse("200 OK", Headers{{Name: "Content-Length", Value: v}})
		if assert.NoError(t, err, v) {
			assert.Equal(t, want, n, v)
		}
	}
	for _, v := range []string{"", "-1", "1.5", "12a", " 12", "9223372036854775808", "99999999999999999999"} {
		_, _, err := CheckResponse("200 OK", Headers{{Name: "Content-Length", Value: v}})
		var he *HeaderError
		if assert.ErrorAs(t, err, &he, "%q", v) {
			assert.Equal(t, RuleLength, he.Rule)
		}
	}
	// Two fields must agree, whichever spelling of the name they use.
	_, n, err := CheckResponse("200 OK", Headers{{Name: "Content-Length", Value: "3"}, {Name: "content-length", Value: "3"}})
	assert.NoError(t, err)
	assert.EqualValues(t, 3, n)
	_, _, err = CheckResponse("200 OK", Headers{{Name: "content-length", Value: "3"}, {Name: "Content-Length", Value: "4"}})
	assert.Error(t, err)
	// A line break in the value is the CR/LF rule's, whatever the name's
	// spelling, before it is a bad number.
	for _, name := range []string{"Content-Length", "content-length"} {
		for _, v := range []string{"5\r\nX-Injected: 1", "5\x00"} {
			_, _, err = CheckResponse("200 OK", Headers{{Name: name, Value: v}})
			var he *HeaderError
			if assert.ErrorAs(t, err, &he, "%s: %q", name, v) {
				assert.Equal(t, RuleHeaderControl, he.Rule, "%s: %q", name, v)
			}
		}
	}
}

// Every Proxy-* name is hop-by-hop, whatever its length: "Proxy-X" has
// the length of Trailer and Upgrade, "Proxy-Ab" that of Trailers.
func TestIsHopByHopProxyNamesOfEveryLength(t *testing.T) {
	for _, name := range []string{"Proxy-X", "ProXY-0", "Proxy-Ab", "proxy-authenticate", "Proxy-Connection"} {
		assert.True(t, IsHopByHop(name), name)
	}
	for _, name := range []string{"Proxy-", "Proxies", "X-Proxy"} {
		assert.False(t, IsHopByHop(name), name)
	}
}
