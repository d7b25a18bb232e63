package vial

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vial-go/vial/internal/itsdangerous"
)

// SecureCookieSessionInterface keeps the session in a signed cookie, Flask's
// default session interface, byte-compatible with Flask's: a vial App and a
// Flask app with the same SECRET_KEY read each other's sessions.
//
// The cookie is itsdangerous' URLSafeTimedSerializer as Flask sets it up:
// the data as Flask's tagged JSON (see [Session] for the types), zlib
// compressed when that is shorter, signed with HMAC-SHA1 under a key derived
// from SECRET_KEY and the salt "cookie-session", with the time of signing.
// The data is signed, not encrypted: the client can read it.
//
// SECRET_KEY (a string or []byte) signs; SECRET_KEY_FALLBACKS, a list of
// older keys, are accepted too (Flask 3.1's key rotation). A cookie signed
// more than PERMANENT_SESSION_LIFETIME ago, tampered with, signed with
// another key or unreadable opens as an empty session. Without a
// SECRET_KEY the session is the null session.
//
// The cookie is SESSION_COOKIE_NAME ("session") with SESSION_COOKIE_DOMAIN,
// SESSION_COOKIE_PATH (APPLICATION_ROOT when unset), SESSION_COOKIE_HTTPONLY
// (true), SESSION_COOKIE_SECURE, SESSION_COOKIE_SAMESITE ("Strict", "Lax",
// "None", an http.SameSite, or nil) and SESSION_COOKIE_PARTITIONED; a permanent session's
// expires PERMANENT_SESSION_LIFETIME (31 days; a time.Duration or seconds)
// after it is saved. A cookie longer than MAX_COOKIE_SIZE (4093 bytes) is
// logged as a warning, as werkzeug warns, since browsers drop it.
type SecureCookieSessionInterface struct {
	signer atomic.Pointer[cookieSigner] // for the keys last seen in the config
}

// cookieSigner is the serializer for one set of keys.
type cookieSigner struct {
	keys []string // SECRET_KEY_FALLBACKS then SECRET_KEY, as Flask orders them
	s    *itsdangerous.Serializer
}

const sessionSalt = "cookie-session"

// OpenSession reads the session from the request's cookie.
func (c *SecureCookieSessionInterface) OpenSession(app *App, r *Request) (*Session, error) {
	s := c.serializer(app)
	if s == nil {
		return nil, nil
	}
	val := r.Cookie(sessionCookieName(app))
	if val == "" {
		return NewSession(nil), nil
	}
	payload, err := s.Loads(val, app.PermanentSessionLifetime().Truncate(time.Second), time.Now())
	if err != nil {
		return NewSession(nil), nil
	}
	data, err := unmarshalTagged(payload)
	if err != nil {
		return NewSession(nil), nil
	}
	return NewSession(data), nil
}

// SaveSession writes the session into the response's cookie, as Flask's
// save_session (see [SaveSessionCookie]).
func (c *SecureCookieSessionInterface) SaveSession(app *App, s *Session, resp *Response) error {
	return SaveSessionCookie(app, s, resp, func() (string, error) {
		ser := c.serializer(app)
		if ser == nil {
			return "", ErrNoSecretKey
		}
		payload, err := marshalTagged(s.values)
		if err != nil {
			return "", err
		}
		return ser.Dumps(payload, time.Now()), nil
	})
}

// serializer returns the serializer for the App's keys, nil without a
// SECRET_KEY; it is made again only when the keys change.
func (c *SecureCookieSessionInterface) serializer(app *App) *itsdangerous.Serializer {
	secret := secretKey(app, "SECRET_KEY", app.Config["SECRET_KEY"])
	if secret == "" {
		return nil
	}
	keys := secretKeyFallbacks(app)
	keys = append(keys, secret)
	if cs := c.signer.Load(); cs != nil && slices.Equal(cs.keys, keys) {
		return cs.s
	}
	raw := make([][]byte, len(keys))
	for i, k := range keys {
		raw[i] = []byte(k)
	}
	cs := &cookieSigner{keys: keys, s: itsdangerous.New(raw, sessionSalt)}
	c.signer.Store(cs)
	return cs.s
}

// secretKey reads a key, a string or []byte; anything else is a
// configuration mistake, a 500 naming the setting.
func secretKey(app *App, name string, v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	}
	panic(fmt.Sprintf("vial: Config[%q] is %#v; it must be a string or []byte", name, v))
}

// secretKeyFallbacks reads SECRET_KEY_FALLBACKS: nil, or a list of keys.
func secretKeyFallbacks(app *App) []string {
	const name = "SECRET_KEY_FALLBACKS"
	var keys []string
	switch v := app.Config[name].(type) {
	case nil:
	case []string:
		keys = slices.Clone(v)
	case [][]byte:
		for _, k := range v {
			keys = append(keys, string(k))
		}
	case []any:
		for _, k := range v {
			keys = append(keys, secretKey(app, name, k))
		}
	default:
		panic(fmt.Sprintf("vial: Config[%q] is %#v; it must be a list of keys ([]string)", name, v))
	}
	return slices.DeleteFunc(keys, func(k string) bool { return k == "" })
}

// PermanentSessionLifetime is PERMANENT_SESSION_LIFETIME, Flask's
// permanent_session_lifetime: how long a permanent session lasts, and how
// old a session cookie may be; 31 days when unset.
func (a *App) PermanentSessionLifetime() time.Duration {
	const name = "PERMANENT_SESSION_LIFETIME"
	if a.Config[name] == nil {
		return 31 * 24 * time.Hour
	}
	d, ok := a.Config.Duration(name)
	if !ok {
		panic(fmt.Sprintf("vial: Config[%q] is %#v; it must be a time.Duration or a number of seconds", name, a.Config[name]))
	}
	return d
}

func sessionCookieName(a *App) string {
	if name := a.Config.String("SESSION_COOKIE_NAME"); name != "" {
		return name
	}
	return "session"
}

// SaveSessionCookie is Flask's save_session for a session carried by a
// cookie, the session itself or an id: Vary: Cookie when the session was
// accessed; when it is empty, the cookie deleted if the session was
// modified (emptied), else nothing; otherwise, when it was modified or is
// permanent with SESSION_REFRESH_EACH_REQUEST on, the cookie set to what
// value returns, with the SESSION_COOKIE_* attributes and, for a
// permanent session, an expiry PERMANENT_SESSION_LIFETIME from now. An
// error from value is returned and no cookie is set.
func SaveSessionCookie(app *App, s *Session, resp *Response, value func() (string, error)) error {
	cookie := sessionCookie(app)
	if s.accessed {
		addVary(resp, "Cookie")
	}
	if len(s.values) == 0 {
		if s.modified {
			cookie.MaxAge, cookie.Expires = -1, time.Unix(0, 0)
			resp.SetCookie(cookie)
			addVary(resp, "Cookie")
		}
		return nil
	}
	if !s.modified && !(s.Permanent() && app.Config.Bool("SESSION_REFRESH_EACH_REQUEST")) {
		return nil
	}
	v, err := value()
	if err != nil {
		return err
	}
	cookie.Value = v
	if s.Permanent() {
		cookie.Expires = time.Now().Add(app.PermanentSessionLifetime())
	}
	if line := cookie.String(); line != "" {
		warnLargeCookie(app, cookie, len(line))
		resp.Header.Add("Set-Cookie", line)
	}
	addVary(resp, "Cookie")
	return nil
}

// sessionCookie is the session cookie's attributes from the config.
func sessionCookie(app *App) *http.Cookie {
	c := &http.Cookie{
		Name:        sessionCookieName(app),
		Path:        app.Config.String("SESSION_COOKIE_PATH"),
		HttpOnly:    app.Config.Bool("SESSION_COOKIE_HTTPONLY"),
		Secure:      app.Config.Bool("SESSION_COOKIE_SECURE"),
		Partitioned: app.Config.Bool("SESSION_COOKIE_PARTITIONED"),
	}
	if c.Path == "" {
		c.Path = cmp.Or(app.Config.String("APPLICATION_ROOT"), "/")
	}
	if c.Partitioned {
		c.Secure = true // werkzeug's dump_cookie: a partitioned cookie is secure
	}
	// As werkzeug's dump_cookie: no port, no leading dot.
	domain, _, _ := strings.Cut(app.Config.String("SESSION_COOKIE_DOMAIN"), ":")
	c.Domain = strings.TrimLeft(domain, ".")
	switch v := app.Config["SESSION_COOKIE_SAMESITE"]; {
	case v == nil || v == "":
	case isSameSite(v):
		c.SameSite = v.(http.SameSite)
	case strings.EqualFold(fmt.Sprint(v), "strict"):
		c.SameSite = http.SameSiteStrictMode
	case strings.EqualFold(fmt.Sprint(v), "lax"):
		c.SameSite = http.SameSiteLaxMode
	case strings.EqualFold(fmt.Sprint(v), "none"):
		c.SameSite = http.SameSiteNoneMode
	default:
		panic(fmt.Sprintf(`vial: Config["SESSION_COOKIE_SAMESITE"] is %#v; it must be "Strict", "Lax", "None" or nil`, v))
	}
	return c
}

func isSameSite(v any) bool { _, ok := v.(http.SameSite); return ok }

// warnLargeCookie logs werkzeug's warning for a Set-Cookie line longer
// than MAX_COOKIE_SIZE (4093 when unset; 0 turns the check off).
func warnLargeCookie(app *App, c *http.Cookie, size int) {
	limit := int64(4093)
	if _, set := app.Config["MAX_COOKIE_SIZE"]; set {
		limit, _ = app.Config.Int("MAX_COOKIE_SIZE")
	}
	if limit <= 0 || int64(size) <= limit {
		return
	}
	app.logger().Warn(fmt.Sprintf("The %q cookie is too large: the value was %d bytes but the header required %d extra bytes. "+
		"The final size was %d bytes but the limit is %d bytes. Browsers may silently ignore cookies larger than this.",
		c.Name, len(c.Value), size-len(c.Value), size, limit))
}

// addVary adds field to the response's Vary header unless it is there,
// as werkzeug's response.vary.add.
func addVary(resp *Response, field string) {
	vary := strings.Join(resp.Header.Values("Vary"), ", ")
	for f := range strings.SplitSeq(vary, ",") {
		if strings.EqualFold(strings.TrimSpace(f), field) {
			return
		}
	}
	if vary == "" {
		resp.Header.Set("Vary", field)
	} else {
		resp.Header.Set("Vary", vary+", "+field)
	}
}
