package middleware

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vial-go/vial/gateway"
)

// Dispatcher returns an Application that mounts applications under path
// prefixes, werkzeug's DispatcherMiddleware.
//
// A request goes to the application of the longest key of mounts that is a
// prefix of its PATH_INFO ending on a path-segment boundary: "/api" takes
// "/api" and "/api/users", not "/apix". The prefix moves from PATH_INFO to
// SCRIPT_NAME, so the mounted application sees itself at the root: for
// "/api/users" under "/api", SCRIPT_NAME gains "/api" and PATH_INFO is
// "/users"; for "/api" itself PATH_INFO is "". A net/http handler mounted
// through [gateway.FromHandler] sees the same: r.URL.Path "/users", as
// behind [net/http.StripPrefix], and [gateway.ScriptName] "/api". Any
// request no key matches
// goes to app, untouched. Dispatchers nest: a mounted Dispatcher matches
// against what its parent left in PATH_INFO.
//
// The environ is changed in place before the chosen application is called
// (it belongs to the request); the application's Body is returned as is.
//
// Keys must start with "/" and must not end with "/"; app and every mounted
// application must be non-nil. A key or application that breaks this is a
// setup mistake, so Dispatcher panics, naming it, as [regexp.MustCompile]
// does. mounts is copied: changing it later does not affect the Dispatcher.
func Dispatcher(app gateway.Application, mounts map[string]gateway.Application) gateway.Application {
	if app == nil {
		panic("middleware: Dispatcher: the fallback application is nil")
	}
	d := &dispatcher{app: app, mounts: make(map[string]gateway.Application, len(mounts))}
	for prefix, mounted := range mounts {
		switch {
		case !strings.HasPrefix(prefix, "/"):
			panic(fmt.Sprintf("middleware: Dispatcher: mount point %s does not start with \"/\"", strconv.Quote(prefix)))
		case strings.HasSuffix(prefix, "/"):
			panic(fmt.Sprintf("middleware: Dispatcher: mount point %s ends with \"/\"", strconv.Quote(prefix)))
		case mounted == nil:
			panic(fmt.Sprintf("middleware: Dispatcher: the application mounted at %s is nil", strconv.Quote(prefix)))
		}
		d.mounts[prefix] = mounted
	}
	return d
}

type dispatcher struct {
	app    gateway.Application
	mounts map[string]gateway.Application
}

// ServeGateway routes the request to the application of the longest
// matching mount point, or to the fallback.
func (d *dispatcher) ServeGateway(env *gateway.Environ, start gateway.StartResponse) gateway.Body {
	if prefix, mounted, ok := d.match(env.PathInfo); ok {
		env.ScriptName += prefix
		env.PathInfo = env.PathInfo[len(prefix):]
		return mounted.ServeGateway(env, start)
	}
	return d.app.ServeGateway(env, start)
}

// match finds the longest mount point that is path itself or a prefix of
// it followed by "/". It tries path, then path cut before each "/" from the
// right, so the first hit is the longest; the lookups do not allocate.
func (d *dispatcher) match(path string) (string, gateway.Application, bool) {
	if len(d.mounts) == 0 {
		return "", nil, false
	}
	for cand := path; cand != ""; {
		if a, ok := d.mounts[cand]; ok {
			return cand, a, true
		}
		i := strings.LastIndexByte(cand, '/')
		if i < 0 {
			break
		}
		cand = cand[:i]
	}
	return "", nil, false
}
