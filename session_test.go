package vial_test

import (
	"bytes"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vial-go/vial"
)

// flaskCookie is the Set-Cookie of Flask 3.1 for session["user_id"] = 42,
// session["name"] = "Zoë", flash("Hi", "info"), SECRET_KEY "flask-secret",
// signed at 1700000000 (itsdangerous' get_timestamp patched to return it),
// made with python3 by a Flask app's test client.
const flaskCookie = "eyJfZmxhc2hlcyI6W3siIHQiOlsiaW5mbyIsIkhpIl19XSwibmFtZSI6IlpvXHUwMGViIiwidXNlcl9pZCI6NDJ9.ZVPxAA.-EdL8hy8HcMyhVAF5_HeWg4TdlE"

func sessionApp(secret string) *vial.App {
	app := vial.New("sessions")
	if secret != "" {
		app.Config["SECRET_KEY"] = secret
	}
	app.Get("/set", func(r *vial.Request) any {
		s := r.Session()
		for k, v := range r.Args() {
			s.Set(k, v[0])
		}
		return "set"
	})
	app.Get("/get/<key>", func(r *vial.Request) any {
		v, ok := r.Session().Get(r.ViewArgs["key"].(string))
		if !ok {
			return "missing"
		}
		return v.(string)
	})
	app.Get("/none", func(r *vial.Request) any { return "untouched" })
	app.Get("/clear", func(r *vial.Request) any { r.Session().Clear(); return "cleared" })
	app.Get("/permanent", func(r *vial.Request) any {
		r.Session().SetPermanent(true)
		r.Session().Set("user", "ann")
		return "permanent"
	})
	return app
}

// setCookie returns the response's session Set-Cookie line, "" for none.
func setCookie(resp *vial.TestResponse) string {
	for _, line := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "session=") {
			return line
		}
	}
	return ""
}

func TestSessionRoundTrip(t *testing.T) {
	c := sessionApp("secret").TestClient()
	resp := c.Get("/set?user=ann")
	require.Equal(t, 200, resp.StatusCode)
	line := setCookie(resp)
	require.NotEmpty(t, line)
	assert.Contains(t, line, "; HttpOnly")
	assert.Contains(t, line, "; Path=/")
	assert.NotContains(t, line, "Expires", "a session that is not permanent ends with the browser's")
	assert.Equal(t, "Cookie", resp.Header.Get("Vary"))

	assert.Equal(t, "ann", c.Get("/get/user").Text())
	assert.Equal(t, "missing", c.Get("/get/other").Text())
}

func TestSessionUntouchedCostsNoHeaders(t *testing.T) {
	c := sessionApp("secret").TestClient()
	c.Get("/set?user=ann")
	resp := c.Get("/none")
	assert.Empty(t, resp.Header.Values("Set-Cookie"))
	assert.Empty(t, resp.Header.Values("Vary"))

	// Read, not written: Vary: Cookie (Flask's CVE-2023-30861), no cookie.
	resp = c.Get("/get/user")
	assert.Empty(t, resp.Header.Values("Set-Cookie"))
	assert.Equal(t, "Cookie", resp.Header.Get("Vary"))
}

func TestSessionVaryJoinsTheResponses(t *testing.T) {
	app := sessionApp("secret")
	app.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		resp.Header.Set("Vary", "Accept-Encoding")
		return resp
	})
	resp := app.TestClient().Get("/get/x")
	assert.Equal(t, []string{"Accept-Encoding, Cookie"}, resp.Header.Values("Vary"))
}

func TestSessionClearDeletesTheCookie(t *testing.T) {
	app := sessionApp("secret")
	app.Config["SESSION_COOKIE_DOMAIN"] = "example.com"
	c := app.TestClient()
	c.Get("/set?user=ann")
	resp := c.Get("/clear")
	line := setCookie(resp)
	assert.Contains(t, line, "session=;")
	assert.Contains(t, line, "Max-Age=0")
	assert.Contains(t, line, "Expires=Thu, 01 Jan 1970 00:00:00 GMT")
	assert.Contains(t, line, "Domain=example.com", "deleted with the attributes it was set with")
	assert.Equal(t, "Cookie", resp.Header.Get("Vary"))

	// A new session cleared: still "modified to be empty", deleted again;
	// an empty session only read: nothing.
	assert.NotEmpty(t, setCookie(app.TestClient().Get("/clear")))
	assert.Empty(t, setCookie(app.TestClient().Get("/get/x")))
}

func TestSessionPermanent(t *testing.T) {
	app := sessionApp("secret")
	app.Config["PERMANENT_SESSION_LIFETIME"] = 3600 // seconds, as in Flask
	c := app.TestClient()
	resp := c.Get("/permanent")
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	assert.WithinDuration(t, time.Now().Add(time.Hour), cookies[0].Expires, 2*time.Second)

	// SESSION_REFRESH_EACH_REQUEST: a permanent session's cookie is set
	// again on every request, even one that does not touch the session.
	resp = c.Get("/none")
	assert.NotEmpty(t, setCookie(resp), "refreshed")
	assert.Equal(t, "Cookie", resp.Header.Get("Vary"), "set, so Vary: Cookie, as Flask")
	assert.Equal(t, "ann", c.Get("/get/user").Text())

	app.Config["SESSION_REFRESH_EACH_REQUEST"] = false
	assert.Empty(t, setCookie(c.Get("/none")))
	assert.Empty(t, setCookie(c.Get("/get/user")))

	// A session that is not permanent is not refreshed.
	app.Config["SESSION_REFRESH_EACH_REQUEST"] = true
	c2 := app.TestClient()
	c2.Get("/set?user=bob")
	assert.Empty(t, setCookie(c2.Get("/none")))
}

func TestSessionLifetimeExpiresCookies(t *testing.T) {
	app := sessionApp("flask-secret")
	c := app.TestClient()
	c.SetCookie("session", flaskCookie) // signed in 2023
	assert.Equal(t, "missing", c.Get("/get/name").Text(), "older than 31 days")
	app.Config["PERMANENT_SESSION_LIFETIME"] = 100 * 365 * 24 * time.Hour
	assert.Equal(t, "Zoë", c.Get("/get/name").Text(), "Flask's cookie, read")
}

func TestSessionReadsFlasksCookie(t *testing.T) {
	app := vial.New("flask-cookie")
	app.Config["SECRET_KEY"] = "flask-secret"
	app.Config["PERMANENT_SESSION_LIFETIME"] = 100 * 365 * 24 * time.Hour
	var id int64
	var keys []string
	var flashes []vial.FlashMessage
	app.Get("/", func(r *vial.Request) any {
		id, _ = r.Session().Int("user_id")
		keys = r.Session().Keys()
		flashes = r.FlashedMessages()
		return r.Session().String("name")
	})
	resp := app.TestClient().Get("/", vial.WithCookie("session", flaskCookie))
	assert.Equal(t, "Zoë", resp.Text())
	assert.Equal(t, int64(42), id)
	assert.Equal(t, []string{"_flashes", "name", "user_id"}, keys)
	assert.Equal(t, []vial.FlashMessage{{Category: "info", Message: "Hi"}}, flashes)
}

func TestSessionBadCookiesAreEmptySessions(t *testing.T) {
	app := sessionApp("secret")
	c := app.TestClient()
	c.Get("/set?user=ann")
	good := c.Cookie("session")
	require.NotEmpty(t, good)
	payload, rest, _ := strings.Cut(good, ".")
	for name, cookie := range map[string]string{
		"tampered":    strings.ToUpper(payload[:4]) + payload[4:] + "." + rest,
		"foreign key": flaskCookie,
		"garbage":     "not-a-session",
		"no sig":      payload,
	} {
		resp := app.TestClient().Get("/get/user", vial.WithCookie("session", cookie))
		assert.Equal(t, 200, resp.StatusCode, name)
		assert.Equal(t, "missing", resp.Text(), name)
	}
}

func TestSessionWithoutSecretKey(t *testing.T) {
	app := sessionApp("")
	var got error
	app.ErrorHandler(vial.ErrNoSecretKey, func(r *vial.Request, err error) any {
		got = err
		return vial.MakeResponse("no key", 500)
	})
	c := app.TestClient()
	resp := c.Get("/get/user")
	assert.Equal(t, "missing", resp.Text(), "reading the null session is allowed")
	assert.Empty(t, resp.Header.Values("Set-Cookie"))

	resp = c.Get("/set?user=ann")
	assert.Equal(t, 500, resp.StatusCode)
	require.ErrorIs(t, got, vial.ErrNoSecretKey)
	assert.Contains(t, got.Error(), `no secret key was set. Set app.Config["SECRET_KEY"]`)
	assert.Empty(t, resp.Header.Values("Set-Cookie"))
}

func TestSessionKeyRotation(t *testing.T) {
	app := sessionApp("old")
	c := app.TestClient()
	c.Get("/set?user=ann")
	oldCookie := c.Cookie("session")

	app.Config["SECRET_KEY"] = "new"
	assert.Equal(t, "missing", c.Get("/get/user").Text(), "the old key is no longer accepted")
	app.Config["SECRET_KEY_FALLBACKS"] = []string{"old"}
	assert.Equal(t, "ann", c.Get("/get/user").Text(), "accepted as a fallback")

	c.Get("/set?user=bob") // signed with the newest key
	assert.NotEqual(t, oldCookie, c.Cookie("session"))
	app.Config["SECRET_KEY_FALLBACKS"] = nil
	assert.Equal(t, "bob", c.Get("/get/user").Text())
	app.Config["SECRET_KEY_FALLBACKS"] = []any{"other", []byte("old")}
	assert.Equal(t, "ann", app.TestClient().Get("/get/user", vial.WithCookie("session", oldCookie)).Text())
}

func TestSessionCookieAttributes(t *testing.T) {
	app := sessionApp("secret")
	app.Config["SESSION_COOKIE_NAME"] = "sid"
	app.Config["SESSION_COOKIE_DOMAIN"] = ".example.com:8080"
	app.Config["APPLICATION_ROOT"] = "/app"
	app.Config["SESSION_COOKIE_HTTPONLY"] = false
	app.Config["SESSION_COOKIE_SAMESITE"] = "lax"
	app.Config["SESSION_COOKIE_PARTITIONED"] = true
	resp := app.TestClient().Get("/set?user=ann")
	line := resp.Header.Get("Set-Cookie")
	assert.True(t, strings.HasPrefix(line, "sid="), line)
	for _, attr := range []string{"; Path=/app", "; Domain=example.com", "; SameSite=Lax", "; Secure", "; Partitioned"} {
		assert.Contains(t, line, attr)
	}
	assert.NotContains(t, line, "HttpOnly")

	app.Config["SESSION_COOKIE_PATH"] = "/p"
	app.Config["SESSION_COOKIE_SAMESITE"] = "sometimes"
	resp = app.TestClient().Get("/set?user=ann")
	assert.Equal(t, 500, resp.StatusCode, "a SameSite Flask refuses is a setup error")
	app.Config["SESSION_COOKIE_SAMESITE"] = nil
	line = app.TestClient().Get("/set?user=ann").Header.Get("Set-Cookie")
	assert.Contains(t, line, "; Path=/p")
	assert.NotContains(t, line, "SameSite")
	app.Config["SESSION_COOKIE_SAMESITE"] = http.SameSiteStrictMode
	assert.Contains(t, app.TestClient().Get("/set?user=ann").Header.Get("Set-Cookie"), "; SameSite=Strict")
}

func TestSessionLargeCookieWarns(t *testing.T) {
	app := sessionApp("secret")
	var log bytes.Buffer
	app.Logger = slog.New(slog.NewTextHandler(&log, nil))
	c := app.TestClient()
	c.Get("/set?small=x")
	assert.Empty(t, log.String())
	// Random letters, which zlib cannot shrink much.
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range 6000 {
		b.WriteByte(letters[rng.IntN(len(letters))])
	}
	resp := c.Get("/set?big=" + b.String())
	require.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, log.String(), "level=WARN")
	assert.Contains(t, log.String(), `The \"session\" cookie is too large`)
	assert.Contains(t, log.String(), "the limit is 4093 bytes")
}

func TestSessionSavedAfterTheAfterRequestFunctions(t *testing.T) {
	app := sessionApp("secret")
	app.AfterRequest(func(r *vial.Request, resp *vial.Response) *vial.Response {
		r.Session().Set("seen", "after")
		return resp
	})
	c := app.TestClient()
	c.Get("/none")
	assert.Equal(t, "after", c.Get("/get/seen").Text())
}

// memoryStore is a server-side SessionInterface: the data in a map, the
// id in a plain cookie (a real store signs it).
type memoryStore struct {
	data map[string]map[string]any
	fail error
}

func (m *memoryStore) OpenSession(app *vial.App, r *vial.Request) (*vial.Session, error) {
	if m.fail != nil {
		return nil, m.fail
	}
	return vial.NewSession(m.data[r.Cookie("session")]), nil
}

func (m *memoryStore) SaveSession(app *vial.App, s *vial.Session, resp *vial.Response) error {
	return vial.SaveSessionCookie(app, s, resp, func() (string, error) {
		id := "sid" + string(rune('0'+len(m.data)))
		m.data[id] = s.Values()
		return id, nil
	})
}

func TestSessionInterfaceIsPluggable(t *testing.T) {
	app := sessionApp("")
	store := &memoryStore{data: map[string]map[string]any{}}
	app.SessionInterface = store
	c := app.TestClient()
	c.Get("/set?user=ann")
	assert.Equal(t, "sid0", c.Cookie("session"))
	assert.Equal(t, map[string]any{"user": "ann"}, store.data["sid0"])
	assert.Equal(t, "ann", c.Get("/get/user").Text())

	store.fail = errors.New("store down")
	assert.Equal(t, 500, c.Get("/get/user").StatusCode)
}

// A Request's session does not survive into the request that reuses the
// Request (served through net/http, where Requests are recycled).
func TestSessionNotRecycled(t *testing.T) {
	app := sessionApp("secret")
	var cookie string
	for range 50 {
		w := httptest.NewRecorder()
		app.ServeHTTP(w, httptest.NewRequest("GET", "/set?user=ann", nil))
		cookie = w.Header().Get("Set-Cookie")
		require.NotEmpty(t, cookie)
		w = httptest.NewRecorder()
		app.ServeHTTP(w, httptest.NewRequest("GET", "/get/user", nil))
		require.Equal(t, "missing", w.Body.String())
		require.Empty(t, w.Header().Values("Set-Cookie"))
	}
	req := httptest.NewRequest("GET", "/get/user", nil)
	req.Header.Set("Cookie", strings.Split(cookie, ";")[0])
	w := httptest.NewRecorder()
	app.ServeHTTP(w, req)
	assert.Equal(t, "ann", w.Body.String())
	assert.Equal(t, http.StatusOK, w.Code)
}
