package itsdangerous

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The vectors were made with Python's itsdangerous 2.2.0 by
// the script below, run with python3: a URLSafeTimedSerializer
// as Flask configures it (salt "cookie-session", key derivation "hmac",
// digest SHA-1), with a serializer that passes the payload string through
// and a TimestampSigner whose get_timestamp returns 1700000000:
//
//	class Fixed(TimestampSigner):
//	    def get_timestamp(self): return 1700000000
//	def ser(keys):
//	    return URLSafeTimedSerializer(keys, salt="cookie-session", serializer=Raw, signer=Fixed,
//	        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1})
//	ser(["secret"]).dumps('{"a":1}')
//	ser(["secret"]).dumps('{"k":"' + "abc" * 100 + '"}')
//	ser(["old", "new"]).dumps('{"user":42}')
//	ser(["old"]).dumps('{"user":42}')
//	Fixed("secret", salt="cookie-session", key_derivation="hmac", digest_method=hashlib.sha1).derive_key().hex()
const (
	vecPlain      = "eyJhIjoxfQ.ZVPxAA.hG4LXFRbN7aPAMuhb5V_1Ol-cgU"
	vecCompressed = ".eJyrVspWslJKTEoeRUQipVoAQTt0_g.ZVPxAA.T92N0GVGPqkGooq6grXT93nktJE"
	vecRotated    = "eyJ1c2VyIjo0Mn0.ZVPxAA.Zm4esEm24S1-8ukJxo0GkMTWFGc"
	vecOldKey     = "eyJ1c2VyIjo0Mn0.ZVPxAA.x7JkH83j4kzJ1bDdgesJghuG-gI"
	vecDerived    = "76bf4b286c860f1c747b43f516ab8a80afc83484"
)

var signedAt = time.Unix(1700000000, 0)

func keys(ks ...string) [][]byte {
	var out [][]byte
	for _, k := range ks {
		out = append(out, []byte(k))
	}
	return out
}

func TestDeriveKey(t *testing.T) {
	assert.Equal(t, vecDerived, hex.EncodeToString(DeriveKey([]byte("secret"), "cookie-session")))
}

func TestDumpsMatchesPython(t *testing.T) {
	assert.Equal(t, vecPlain, New(keys("secret"), "cookie-session").Dumps([]byte(`{"a":1}`), signedAt))
	// Rotation: the newest key, the last, signs.
	assert.Equal(t, vecRotated, New(keys("old", "new"), "cookie-session").Dumps([]byte(`{"user":42}`), signedAt))
}

func TestLoadsPython(t *testing.T) {
	s := New(keys("secret"), "cookie-session")
	got, err := s.Loads(vecPlain, -1, signedAt)
	require.NoError(t, err)
	assert.Equal(t, `{"a":1}`, string(got))

	got, err = s.Loads(vecCompressed, -1, signedAt)
	require.NoError(t, err)
	assert.Equal(t, `{"k":"`+strings.Repeat("abc", 100)+`"}`, string(got))
}

func TestCompressedRoundTrip(t *testing.T) {
	s := New(keys("secret"), "cookie-session")
	payload := []byte(`{"k":"` + strings.Repeat("abc", 100) + `"}`)
	token := s.Dumps(payload, signedAt)
	assert.True(t, strings.HasPrefix(token, "."), "a compressible payload is compressed: %s", token)
	assert.Less(t, len(token), len(payload))
	got, err := s.Loads(token, -1, signedAt)
	require.NoError(t, err)
	assert.Equal(t, payload, got)
	// Incompressible: sent as it is.
	assert.False(t, strings.HasPrefix(s.Dumps([]byte(`{"a":1}`), signedAt), "."))
}

func TestKeyRotation(t *testing.T) {
	rotated := New(keys("old", "new"), "cookie-session")
	got, err := rotated.Loads(vecOldKey, -1, signedAt)
	require.NoError(t, err, "a token signed with a fallback key is accepted")
	assert.Equal(t, `{"user":42}`, string(got))

	_, err = New(keys("new"), "cookie-session").Loads(vecOldKey, -1, signedAt)
	assert.ErrorIs(t, err, ErrBadSignature, "once the old key is dropped, its tokens are refused")
}

func TestLoadsRefuses(t *testing.T) {
	s := New(keys("secret"), "cookie-session")
	tampered := "eyJhIjoyfQ" + vecPlain[len("eyJhIjoxfQ"):] // {"a":2}
	for name, token := range map[string]string{
		"tampered payload": tampered,
		"no separator":     "eyJhIjoxfQ",
		"no timestamp":     "eyJhIjoxfQ.hG4LXFRbN7aPAMuhb5V_1Ol-cgU",
		"bad base64 sig":   vecPlain[:len(vecPlain)-1] + "!",
		"empty":            "",
	} {
		_, err := s.Loads(token, -1, signedAt)
		assert.ErrorIs(t, err, ErrBadSignature, name)
	}
	_, err := New(keys("other"), "cookie-session").Loads(vecPlain, -1, signedAt)
	assert.ErrorIs(t, err, ErrBadSignature, "another key")
	_, err = New(keys("secret"), "other-salt").Loads(vecPlain, -1, signedAt)
	assert.ErrorIs(t, err, ErrBadSignature, "another salt")
}

func TestLoadsMaxAge(t *testing.T) {
	s := New(keys("secret"), "cookie-session")
	_, err := s.Loads(vecPlain, 10*time.Second, signedAt.Add(10*time.Second))
	assert.NoError(t, err, "exactly max_age old is still valid, as age > max_age is refused")
	_, err = s.Loads(vecPlain, 10*time.Second, signedAt.Add(11*time.Second))
	assert.ErrorIs(t, err, ErrExpired)
	assert.ErrorIs(t, err, ErrBadSignature)
	_, err = s.Loads(vecPlain, 10*time.Second, signedAt.Add(-time.Second))
	assert.ErrorIs(t, err, ErrExpired, "signed in the future")
	_, err = s.Loads(vecPlain, 0, signedAt.Add(time.Second))
	assert.ErrorIs(t, err, ErrExpired, "a max_age of 0 refuses a token a second old")
	_, err = s.Loads(vecPlain, -1, signedAt.Add(1000*time.Hour))
	assert.NoError(t, err, "no limit")
}

func TestTimestampEncoding(t *testing.T) {
	assert.Equal(t, []byte{0x65, 0x53, 0xf1, 0x00}, intToBytes(1700000000))
	assert.Equal(t, []byte{0x01}, intToBytes(1))
}
