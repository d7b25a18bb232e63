package vial

import (
	"errors"
	"maps"
	"slices"
)

// ErrNoSecretKey is what writing to the session panics with when the App
// has no SECRET_KEY: Flask's NullSession error. The App answers it with a
// 500, and its log and debugger name it.
var ErrNoSecretKey = errors.New(`vial: the session is unavailable because no secret key was set. ` +
	`Set app.Config["SECRET_KEY"] to something unique and secret`)

// A Session is the data kept for one client between requests, Flask's
// session: a map of string keys to values that [Request.Session] returns,
// loaded from the request by the App's [SessionInterface] and saved into
// the response by it. Values are what JSON carries plus the types Flask's
// session serializer adds: a [Tuple], []byte, html/template's HTML
// (Flask's Markup), a [UUID] and a time.Time; a value read back from a cookie is
// one of those, with objects as map[string]any, arrays as []any, whole
// numbers as int64 and others as float64. A Session belongs to its request
// and is not safe for concurrent use.
//
// Set, Delete, Clear and SetPermanent mark the session modified, as
// Flask's dict does; changing a map or slice held in the session does not:
// store it again, or call SetModified. The session of an App with no
// SECRET_KEY is Flask's null session: it reads as empty, and writing to it
// panics with [ErrNoSecretKey].
type Session struct {
	values   map[string]any
	modified bool
	accessed bool
	null     bool

	flashes     []FlashMessage // what FlashedMessages popped, for the rest of the request
	flashesRead bool
}

// NewSession returns a session holding values (nil for an empty one),
// neither modified nor accessed: what a [SessionInterface]'s OpenSession
// returns. The session keeps values and changes it.
func NewSession(values map[string]any) *Session {
	if values == nil {
		values = map[string]any{}
	}
	return &Session{values: values}
}

// write panics for the null session, before any change.
func (s *Session) write() {
	if s.null {
		panic(ErrNoSecretKey)
	}
}

// Get returns the value under key, and whether there is one.
func (s *Session) Get(key string) (any, bool) {
	v, ok := s.values[key]
	return v, ok
}

// Set stores v under key and marks the session modified.
func (s *Session) Set(key string, v any) {
	s.write()
	s.values[key] = v
	s.modified = true
}

// Delete removes key; the session is modified if key was there.
func (s *Session) Delete(key string) {
	s.write()
	if _, ok := s.values[key]; ok {
		delete(s.values, key)
		s.modified = true
	}
}

// Clear removes every key, "_permanent" included, and marks the session
// modified: the App then deletes the client's cookie (Flask's
// session.clear(), how a logout is written).
func (s *Session) Clear() {
	s.write()
	clear(s.values)
	s.modified = true
}

// String returns the value under key if it is a string, else "".
func (s *Session) String(key string) string { return Config(s.values).String(key) }

// Bool returns the value under key if it is a bool, else false.
func (s *Session) Bool(key string) bool { return Config(s.values).Bool(key) }

// Int returns the value under key as an int64, and whether it is one, as
// [Config.Int] reads it: an integer of any Go type, a whole float or a
// string of digits.
func (s *Session) Int(key string) (int64, bool) { return Config(s.values).Int(key) }

// Permanent reports whether the session outlives the browser session:
// the "_permanent" key, as Flask keeps it. A permanent session's cookie
// expires PERMANENT_SESSION_LIFETIME after it was last saved.
func (s *Session) Permanent() bool { return s.Bool("_permanent") }

// SetPermanent sets the "_permanent" key, as Flask's session.permanent =.
func (s *Session) SetPermanent(permanent bool) { s.Set("_permanent", permanent) }

// Modified reports whether the session was changed during the request, so
// that it must be saved.
func (s *Session) Modified() bool { return s.modified }

// SetModified marks the session modified or not, Flask's
// session.modified = True after changing a map or list held in it.
func (s *Session) SetModified(modified bool) { s.modified = modified }

// Accessed reports whether the request asked for its session; the
// response then gets Vary: Cookie.
func (s *Session) Accessed() bool { return s.accessed }

// IsNull reports whether s is the null session of an App with no
// SECRET_KEY (Flask's is_null_session): it is never saved.
func (s *Session) IsNull() bool { return s.null }

// Len returns the number of keys.
func (s *Session) Len() int { return len(s.values) }

// Keys returns the keys, sorted, those Flask keeps ("_permanent",
// "_flashes") included.
func (s *Session) Keys() []string { return slices.Sorted(maps.Keys(s.values)) }

// Values returns a copy of the session's data, Flask's dict(session): what
// a SessionInterface's SaveSession stores.
func (s *Session) Values() map[string]any { return maps.Clone(s.values) }

// Session returns the request's session, Flask's session. It is opened by
// the App's SessionInterface the first time it is asked for, so a request
// that does not use it does not pay for it; each call marks it accessed.
// An error opening it (a session store that is down) panics with that
// error, a 500 as in Flask. Without a SECRET_KEY, it is the null session.
func (r *Request) Session() *Session {
	if r.session == nil {
		r.session = r.app.openSession(r)
	}
	r.session.accessed = true
	return r.session
}

// A SessionInterface loads and saves the sessions of an App, Flask's
// session_interface; [App.SessionInterface] holds the App's, the signed
// cookie of [SecureCookieSessionInterface] unless it is replaced.
//
// OpenSession is called the first time a request asks for its session
// ([Request.Session]), and at the end of a request that did not, but sent
// a cookie named SESSION_COOKIE_NAME while SESSION_REFRESH_EACH_REQUEST
// is on, so that a permanent session is refreshed as Flask refreshes it.
// It returns the session, [NewSession](nil) for a new one; nil, nil for a
// null session (the App has not what the interface needs, say a secret
// key); an error fails the request. It must not fail for a bad cookie:
// a tampered, expired or unknown one is a new session.
//
// SaveSession is called for an opened session that is not null, in
// [App.ProcessResponse] after the after-request functions, as Flask's
// process_response calls save_session. It sets the response's cookie; an
// error fails the request (a 500). [SaveSessionCookie] is Flask's
// save_session logic, for a store that keeps the data elsewhere and a
// session id in the cookie:
//
//	func (st *Store) SaveSession(app *vial.App, s *vial.Session, resp *vial.Response) error {
//		return vial.SaveSessionCookie(app, s, resp, func() (string, error) {
//			id := st.idOf(s)                // a new id for a new session
//			err := st.put(id, s.Values(), app.PermanentSessionLifetime())
//			return st.sign(id), err
//		})
//	}
//
// Requests of one client may run at once: a store that is shared decides
// how concurrent saves of one session combine.
type SessionInterface interface {
	OpenSession(app *App, r *Request) (*Session, error)
	SaveSession(app *App, s *Session, resp *Response) error
}

// sessionInterface is the App's SessionInterface, the signed cookie when
// it is nil.
func (a *App) sessionInterface() SessionInterface {
	if a.SessionInterface != nil {
		return a.SessionInterface
	}
	return defaultSessionInterface
}

var defaultSessionInterface = &SecureCookieSessionInterface{}

// openSession opens r's session with the App's interface; nil is the null
// session.
func (a *App) openSession(r *Request) *Session {
	if a == nil {
		return &Session{values: map[string]any{}, null: true}
	}
	s, err := a.sessionInterface().OpenSession(a, r)
	if err != nil {
		panic(err)
	}
	if s == nil {
		return &Session{values: map[string]any{}, null: true}
	}
	if s.values == nil {
		s.values = map[string]any{}
	}
	return s
}

// saveSession saves r's session into resp, from ProcessResponse: Flask's
// "if not is_null_session(ctx.session): save_session(...)". A session the
// request did not open is opened only when saving it can do something:
// when the request sent the session cookie and SESSION_REFRESH_EACH_REQUEST
// may refresh a permanent session. A request without cookies costs a map
// lookup.
func (a *App) saveSession(r *Request, resp *Response) error {
	s := r.session
	if s == nil {
		if len(r.Header["Cookie"]) == 0 || !a.Config.Bool("SESSION_REFRESH_EACH_REQUEST") ||
			r.Cookie(sessionCookieName(a)) == "" {
			return nil
		}
		s = a.openSession(r)
		r.session = s
	}
	if s.null {
		return nil
	}
	return a.sessionInterface().SaveSession(a, s, resp)
}
