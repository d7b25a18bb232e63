package vial

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/internal/ratelog"
)

// A View handles the requests of one endpoint. What it returns becomes the
// response, as [App.MakeResponse] describes: a string, bytes, a map, a
// struct or a pointer to one, or a slice (JSON), a *Response, a stream, an
// http.Handler or gateway.Application, an error (an HTTP error from [Abort],
// or one for the error handlers), …
type View func(r *Request) any

// An App is a vial application, Flask's Flask object: the URL rules and
// their views, the hooks of the request lifecycle, the error handlers and
// the configuration. It is a [gateway.Application] (ServeGateway runs
// Flask's full_dispatch_request) and an [net/http.Handler].
//
// An App is a [Scaffold]: routes and hooks are registered with the
// methods it shares with [Blueprint]. Register everything before the first
// request: once the App has served one, its tables are read without locks
// and registering panics.
type App struct {
	Scaffold
	// Name names the application in logs and on the dev server's banner,
	// like Flask(__name__).
	Name string
	// Config holds settings, Flask's app.config: DEBUG, TESTING,
	// PROPAGATE_EXCEPTIONS, MAX_CONTENT_LENGTH (nil: no limit),
	// MAX_FORM_MEMORY_SIZE (500,000 bytes for a urlencoded body and for
	// each multipart field that is not a file) and MAX_FORM_PARTS (1,000),
	// which answer a body past them with a 413 (nil: no limit),
	// SERVER_NAME, APPLICATION_ROOT, PREFERRED_URL_SCHEME,
	// SUBDOMAIN_MATCHING (false: every request is matched against the
	// default subdomain's rules; true, with SERVER_NAME: against those of
	// its host's subdomain, see Rule.Subdomain; read once, when the App
	// starts serving), TRUSTED_HOSTS, and the application's own.
	Config Config
	// URLMap holds the URL rules; URLMap.Converters takes custom converters.
	URLMap *URLMap
	// Logger receives the errors the App handles (unhandled errors with
	// their stack, failures in teardown), and is there for views and hooks
	// to log to, Flask's app.logger. New sets it to a logger that writes to
	// slog.Default() as it is when each record is logged, so that a
	// slog.SetDefault made after New (an App made at package level) is
	// followed. Set to nil, the App logs to slog.Default() all the same.
	// A panic's stack, from the panicking call down, is the record's
	// "stack" attribute: one string in a JSON log, and a block of lines
	// under the record with [NewLogHandler] or slog's default handler.
	Logger *slog.Logger
	// CLI holds the commands Main and RunCLI offer beside run and routes,
	// Flask's app.cli.
	CLI *CLI
	// SessionInterface opens and saves the sessions of requests, Flask's
	// session_interface: New sets a SecureCookieSessionInterface, the
	// signed cookie Flask uses, configured by SECRET_KEY,
	// SECRET_KEY_FALLBACKS, SESSION_COOKIE_* and PERMANENT_SESSION_LIFETIME.
	// Replace it before the first request to keep sessions elsewhere (see
	// SessionInterface); nil is the signed cookie too.
	SessionInterface SessionInterface

	json JSONProvider // Flask's app.json: see JSONProvider and SetJSONProvider

	viewFunctions map[string]View

	beforeFirstRequest []func()
	teardownAppContext []func(*Request, error)
	blueprints         map[string]*Blueprint // by registered name, dotted for nested ones
	blueprintHooks     map[string]*hookSet   // the hooks of each registered name
	scopes             scopes                // the hooks in request order, per blueprint (scopes.go)

	serving     atomic.Bool // the first request has arrived: setup is over
	gotFirst    atomic.Bool // before-first-request functions have run
	firstLock   sync.Mutex
	handler     gateway.HTTPHandler
	use         []func(http.Handler) http.Handler               // Use's middleware, outermost first
	wraps       []func(gateway.Application) gateway.Application // Wrap's and Mount's, outermost last
	mounted     map[string]bool                                 // Mount's prefixes
	lastMount   *mountLayer                                     // Mount's newest layer, at wraps[lastMountAt]
	lastMountAt int
	stackOnce   sync.Once
	stack       http.Handler     // what ServeHTTP serves when there is middleware
	panicLog    *ratelog.Limiter // of the panics logException logs, by site
}

// New returns an App named name (Flask(__name__)).
func New(name string) *App {
	a := &App{
		Name:          name,
		Config:        defaultConfig(),
		URLMap:        NewURLMap(),
		viewFunctions: map[string]View{},
		Logger:        defaultLogger,
		CLI:           &CLI{},
		json:          &DefaultJSONProvider{},
	}
	a.SessionInterface = &SecureCookieSessionInterface{}
	a.Scaffold = Scaffold{addURLRule: a.addURLRule, check: a.checkSetup}
	a.handler.App = a
	a.panicLog = ratelog.New(a.logPanicRepeats, ratelog.Options{})
	return a
}

// maxContentLength is MAX_CONTENT_LENGTH, or -1 for no limit.
func (a *App) maxContentLength() int64 { return a.configLimit("MAX_CONTENT_LENGTH") }

// configLimit is the limit the config sets under key, or -1 for none (nil,
// or a negative number). A value that is not a whole number is a
// configuration mistake: it panics (a 500 naming the key) rather than leave
// request bodies unlimited.
func (a *App) configLimit(key string) int64 {
	if a.Config[key] == nil {
		return -1
	}
	n, ok := a.Config.Int(key)
	if !ok {
		panic(fmt.Sprintf("vial: Config[%q] is %#v; it must be a whole number, or nil for no limit", key, a.Config[key]))
	}
	if n >= 0 {
		return n
	}
	return -1
}

func (a *App) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// defaultLogger is the Logger New gives an App.
var defaultLogger = slog.New(followDefault{})

// followDefault is a slog.Handler that hands each call to the handler of
// slog.Default() at the time of the call. A logger made with With or
// WithGroup keeps the default handler of the time it was made.
type followDefault struct{}

// target is slog.Default()'s handler. When that is followDefault itself
// (slog.SetDefault(app.Logger)), following it would recurse without end:
// records then go to standard error as text.
func (followDefault) target() slog.Handler {
	h := slog.Default().Handler()
	if _, self := h.(followDefault); self {
		return stderrLog
	}
	return h
}

var stderrLog = NewLogHandler(os.Stderr, nil)

func (f followDefault) Enabled(ctx context.Context, level slog.Level) bool {
	return f.target().Enabled(ctx, level)
}

// Handle writes a stack in rec as a block under its line when the target
// is slog's own default handler (logblock.go).
func (f followDefault) Handle(ctx context.Context, rec slog.Record) error {
	h := f.target()
	if h == builtinDefault {
		return handleBuiltin(ctx, rec)
	}
	return h.Handle(ctx, rec)
}

func (f followDefault) WithAttrs(attrs []slog.Attr) slog.Handler { return f.target().WithAttrs(attrs) }

func (f followDefault) WithGroup(name string) slog.Handler { return f.target().WithGroup(name) }

// A RouteOption configures a URL rule at registration.
type RouteOption func(*Rule)

// Methods sets the HTTP methods a rule answers (GET by default). HEAD is
// added whenever GET is there, and OPTIONS is answered automatically unless
// it is listed: a view that names OPTIONS answers it itself (a CORS
// preflight, say), as in Flask.
func Methods(methods ...string) RouteOption {
	return func(r *Rule) {
		r.Methods = nil
		for _, m := range methods {
			r.Methods = append(r.Methods, m) // normalized when the rule is added
			if strings.EqualFold(strings.TrimSpace(m), "OPTIONS") {
				r.ProvideAutomaticOptions = false
			}
		}
	}
}

// Endpoint names the rule's endpoint, instead of the view function's name.
func Endpoint(name string) RouteOption {
	return func(r *Rule) { r.Endpoint = name }
}

// Defaults gives values for the view arguments the rule does not capture,
// so that two rules can share a view: "/users/" with Defaults{"page": 1} and
// "/users/page/<int:page>".
func Defaults(values map[string]any) RouteOption {
	return func(r *Rule) { r.Defaults = values }
}

// StrictSlashes sets whether a rule ending in "/" redirects requests for
// the path without it (true, the default).
func StrictSlashes(strict bool) RouteOption {
	return func(r *Rule) { r.StrictSlashes = strict }
}

// ProvideAutomaticOptions sets whether OPTIONS requests get an automatic
// answer listing the allowed methods (true, the default). Turn it off to
// handle OPTIONS in the view.
func ProvideAutomaticOptions(provide bool) RouteOption {
	return func(r *Rule) { r.ProvideAutomaticOptions = provide }
}

// addURLRule is the App's AddURLRule: rule r, its options applied, for
// view.
func (a *App) addURLRule(rule, endpoint string, view View, opts []RouteOption) {
	a.checkSetup("AddURLRule(" + rule + ")")
	r := newRule(rule, endpoint, opts)
	methodsOfView(r, view)
	if r.Endpoint == "" {
		r.Endpoint = endpointFor(view, r)
	}
	a.addRule(r, view)
}

// newRule is the rule string with its options applied.
func newRule(rule, endpoint string, opts []RouteOption) *Rule {
	r := &Rule{Rule: rule, Endpoint: endpoint, StrictSlashes: true, ProvideAutomaticOptions: true}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// methodsOfView gives r, when its options name no methods, those of
// view's type if view is a [MethodView].
func methodsOfView(r *Rule, view View) {
	if r.Methods == nil {
		if m := viewMethods(view); m != nil {
			Methods(m...)(r) // also turns automatic OPTIONS off when the type has Options
		}
	}
}

// addRule adds r, its endpoint named, to the URL map, with view as its
// endpoint's view.
func (a *App) addRule(r *Rule, view View) {
	if view != nil {
		if old, ok := a.viewFunctions[r.Endpoint]; ok {
			checkViewCollision(old, view, r)
		}
	}
	a.URLMap.Add(r)
	if view == nil {
		if v := a.viewFunctions[r.Endpoint]; v != nil {
			r.view, r.viewApp = v, a
		}
		return
	}
	a.viewFunctions[r.Endpoint] = view
	for _, other := range a.URLMap.byEndpoint[r.Endpoint] {
		other.view, other.viewApp = view, a
	}
}

// ViewFunction returns the view registered for endpoint, or nil.
func (a *App) ViewFunction(endpoint string) View { return a.viewFunctions[endpoint] }

// checkSetup panics once the App has served a request: the tables are read
// without locks from then on.
func (a *App) checkSetup(what string) {
	if a.serving.Load() {
		panic("vial: " + what + " called after the app served its first request; " +
			"register every rule, hook and handler before the app starts serving")
	}
}

// ServeHTTP serves a request through the gateway bridge, so an App is an
// [net/http.Handler] that any net/http server can run; the middleware of
// [App.Use] and [App.Wrap] around it, when there is some.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.hasMiddleware() {
		a.httpStack().ServeHTTP(w, r)
		return
	}
	a.handler.ServeHTTP(w, r)
}
