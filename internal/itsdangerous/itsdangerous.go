// Package itsdangerous is the part of Python's itsdangerous 2.2 that
// Flask's session cookie uses: a URLSafeTimedSerializer with the HMAC key
// derivation and HMAC-SHA1 signatures, as flask.sessions configures it.
//
// A token is payload "." timestamp "." signature, each part unpadded
// base64url: the payload is the serialized value (JSON for Flask), zlib
// compressed and prefixed with "." when that is shorter; the timestamp is
// the signing time in whole seconds, big-endian without leading zero bytes;
// the signature is HMAC-SHA1, under a key derived from the secret key and
// the salt, of everything before it. Tokens this package makes are the
// bytes itsdangerous makes for the same payload and time, except that a
// compressed payload, though readable by either, is compressed by Go's
// compress/zlib rather than Python's zlib and so differs in its bytes.
package itsdangerous

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// The errors of Loads. Each is also an ErrBadSignature, as itsdangerous'
// exceptions are subclasses of BadSignature: errors.Is(err,
// ErrBadSignature) holds for any token Loads refuses.
var (
	ErrBadSignature  = errors.New("itsdangerous: bad signature")
	ErrBadTimestamp  = fmt.Errorf("%w: malformed or missing timestamp", ErrBadSignature)
	ErrExpired       = fmt.Errorf("%w: signature expired", ErrBadSignature)
	ErrBadPayload    = fmt.Errorf("%w: bad payload", ErrBadSignature)
	errNoSep         = fmt.Errorf("%w: no \".\" found in value", ErrBadSignature)
	errSigMismatch   = fmt.Errorf("%w: signature does not match", ErrBadSignature)
	b64              = base64.RawURLEncoding
	maxDecompressLen = int64(1 << 20) // a cookie's payload never nears this
)

// A Serializer signs and verifies tokens with a list of secret keys,
// itsdangerous' URLSafeTimedSerializer(secret_keys, salt=salt,
// signer_kwargs={"key_derivation": "hmac", "digest_method": sha1}). It is
// safe for concurrent use.
type Serializer struct {
	derived [][]byte // the derived keys, newest first
}

// New returns a Serializer for keys, oldest first as itsdangerous takes
// them (Flask passes SECRET_KEY_FALLBACKS then SECRET_KEY): tokens are
// signed with the last key, and a token signed with any of them is
// accepted. There must be at least one key.
func New(keys [][]byte, salt string) *Serializer {
	if len(keys) == 0 {
		panic("itsdangerous: New needs at least one key")
	}
	s := &Serializer{}
	for i := len(keys) - 1; i >= 0; i-- {
		s.derived = append(s.derived, DeriveKey(keys[i], salt))
	}
	return s
}

// DeriveKey is itsdangerous' "hmac" key derivation with SHA-1:
// HMAC-SHA1(secret, salt).
func DeriveKey(secret []byte, salt string) []byte {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(salt))
	return mac.Sum(nil)
}

// Dumps returns the token for payload signed at now, with the newest key.
func (s *Serializer) Dumps(payload []byte, now time.Time) string {
	var b strings.Builder
	b.WriteString(encodePayload(payload))
	b.WriteByte('.')
	b.WriteString(b64.EncodeToString(intToBytes(now.Unix())))
	mac := hmac.New(sha1.New, s.derived[0])
	mac.Write([]byte(b.String()))
	b.WriteByte('.')
	b.WriteString(b64.EncodeToString(mac.Sum(nil)))
	return b.String()
}

// encodePayload is URLSafeSerializerMixin.dump_payload: the payload
// compressed with a "." in front when compressing saves more than a byte,
// base64url without padding.
func encodePayload(payload []byte) string {
	z := zlibs.Get().(*zlibWriter)
	defer zlibs.Put(z)
	z.buf.Reset()
	z.w.Reset(&z.buf)
	z.w.Write(payload)
	z.w.Close()
	if z.buf.Len() < len(payload)-1 {
		return "." + b64.EncodeToString(z.buf.Bytes())
	}
	return b64.EncodeToString(payload)
}

// A zlibWriter is a compressor with its output buffer, pooled: a new
// zlib.Writer allocates some 800 kB.
type zlibWriter struct {
	buf bytes.Buffer
	w   *zlib.Writer
}

var zlibs = sync.Pool{New: func() any {
	z := new(zlibWriter)
	z.w = zlib.NewWriter(&z.buf)
	return z
}}

// intToBytes is itsdangerous' int_to_bytes: big-endian, leading zero
// bytes dropped.
func intToBytes(n int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return bytes.TrimLeft(b[:], "\x00")
}

// Loads verifies token and returns its payload, decompressed. A maxAge of
// zero or more refuses a token signed more than maxAge (in whole seconds)
// before now, or after now, with ErrExpired, as TimestampSigner.unsign
// does with max_age; a negative one, Python's None, sets no limit.
func (s *Serializer) Loads(token string, maxAge time.Duration, now time.Time) ([]byte, error) {
	signed, sig, ok := cutLast(token)
	if !ok {
		return nil, errNoSep
	}
	if !s.verify(signed, sig) {
		return nil, errSigMismatch
	}
	value, ts, ok := cutLast(signed)
	if !ok {
		return nil, ErrBadTimestamp
	}
	tsBytes, err := b64.DecodeString(ts)
	if err != nil || len(tsBytes) > 8 {
		return nil, ErrBadTimestamp
	}
	var buf [8]byte
	copy(buf[8-len(tsBytes):], tsBytes)
	signedAt := int64(binary.BigEndian.Uint64(buf[:]))
	if maxAge >= 0 {
		age := now.Unix() - signedAt
		if age > int64(maxAge/time.Second) || age < 0 {
			return nil, fmt.Errorf("%w: signature age %d seconds, the limit %d", ErrExpired, age, int64(maxAge/time.Second))
		}
	}
	return decodePayload(value)
}

// cutLast splits s around its last ".".
func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// verify reports whether sig is the signature of value under one of the
// keys, newest first.
func (s *Serializer) verify(value, sig string) bool {
	want, err := b64.DecodeString(sig)
	if err != nil {
		return false
	}
	for _, key := range s.derived {
		mac := hmac.New(sha1.New, key)
		mac.Write([]byte(value))
		if hmac.Equal(mac.Sum(nil), want) {
			return true
		}
	}
	return false
}

// decodePayload is URLSafeSerializerMixin.load_payload, up to the JSON.
func decodePayload(value string) ([]byte, error) {
	compressed := strings.HasPrefix(value, ".")
	data, err := b64.DecodeString(strings.TrimPrefix(value, "."))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if !compressed {
		return data, nil
	}
	r, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecompressLen+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if int64(len(out)) > maxDecompressLen {
		return nil, fmt.Errorf("%w: decompressed payload over %d bytes", ErrBadPayload, maxDecompressLen)
	}
	return out, nil
}
