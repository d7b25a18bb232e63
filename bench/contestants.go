package bench

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/julienschmidt/httprouter"
	"github.com/labstack/echo/v4"
	"github.com/vial-go/vial"
)

// The answers of the two small cases, and the type every contestant gives
// them: the one vial gives a view that returns a string.
const (
	helloBody = "Hello, World!"
	htmlType  = "text/html; charset=utf-8"
)

func paramBody(id string) string { return "User " + id }

// A contestant is one router, written as its users write it. basic builds
// a handler with the two small routes, "/" and "/user/<int:id>"; github
// builds one with the routes of a table, each answering its route's body.
// github is nil where the contestant does not apply (raw net/http has no
// table).
type contestant struct {
	name   string
	basic  func() http.Handler
	github func(routes []route) http.Handler
}

// contestants, in the order each case runs them.
var contestants = []contestant{
	{"vial", func() http.Handler { return App() }, githubVial},
	{"gin", basicGin, githubGin},
	{"echo", basicEcho, githubEcho},
	{"chi", basicChi, githubChi},
	{"httprouter", basicHTTPRouter, githubHTTPRouter},
	{"servemux", basicServeMux, githubServeMux},
	{"gorilla", basicGorilla, githubGorilla},
	{"raw", basicRaw, nil},
}

// Handler returns the named contestant's handler for "/" and
// "/user/<int:id>", or nil if there is no such contestant. The names are
// vial, gin, echo, chi, httprouter, servemux, gorilla and raw.
func Handler(name string) http.Handler {
	for _, c := range contestants {
		if c.name == name {
			return c.basic()
		}
	}
	return nil
}

// App returns a vial App serving "/" and "/user/<int:id>", as Handler("vial")
// does; bench/cmd/server runs it on vial's development server.
func App() *vial.App {
	app := vial.New("bench")
	app.Get("/", func(r *vial.Request) any { return helloBody })
	app.Get("/user/<int:id>", func(r *vial.Request) any {
		return paramBody(strconv.Itoa(r.ViewArgs["id"].(int)))
	})
	return app
}

func githubVial(routes []route) http.Handler {
	app := vial.New("bench")
	for _, rt := range routes {
		// The text as an interface value made once, as a string constant
		// is: converting the captured string on each call would be an
		// allocation of the benchmark's, not of vial's.
		var body any = rt.body()
		app.AddURLRule(rt.rule, rt.body(), func(r *vial.Request) any { return body }, vial.Methods(rt.method))
	}
	return app
}

// writeHTML is how a net/http handler answers: the same Content-Type and
// body as a vial view returning a string.
func writeHTML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", htmlType)
	io.WriteString(w, body)
}

// htmlHandler answers every request with body.
func htmlHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeHTML(w, body) }
}

// basicRaw is a plain http.HandlerFunc that switches on the path, checking
// the id's digits as vial's int converter does.
func basicRaw() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		const prefix = "/user/"
		switch p := r.URL.Path; {
		case p == "/":
			writeHTML(w, helloBody)
		case strings.HasPrefix(p, prefix) && isDigits(p[len(prefix):]):
			writeHTML(w, paramBody(p[len(prefix):]))
		default:
			http.NotFound(w, r)
		}
	})
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func init() {
	// Release mode: no debug line for each route registered.
	gin.SetMode(gin.ReleaseMode)
}

// ginHTML answers as the others do: gin's String keeps a Content-Type
// already set, and writes a format without arguments as it is.
func ginHTML(c *gin.Context, body string) {
	c.Header("Content-Type", htmlType)
	c.String(http.StatusOK, body)
}

func basicGin() http.Handler {
	e := gin.New()
	e.GET("/", func(c *gin.Context) { ginHTML(c, helloBody) })
	e.GET("/user/:id", func(c *gin.Context) { ginHTML(c, paramBody(c.Param("id"))) })
	return e
}

func githubGin(routes []route) http.Handler {
	e := gin.New()
	for _, rt := range routes {
		body := rt.body()
		e.Handle(rt.method, colonRule(rt.rule), func(c *gin.Context) { ginHTML(c, body) })
	}
	return e
}

// echo's HTML converts the string to a []byte, which may cost an
// allocation: that is what its users pay.
func basicEcho() http.Handler {
	e := echo.New()
	e.GET("/", func(c echo.Context) error { return c.HTML(http.StatusOK, helloBody) })
	e.GET("/user/:id", func(c echo.Context) error { return c.HTML(http.StatusOK, paramBody(c.Param("id"))) })
	return e
}

func githubEcho(routes []route) http.Handler {
	e := echo.New()
	for _, rt := range routes {
		body := rt.body()
		e.Add(rt.method, colonRule(rt.rule), func(c echo.Context) error { return c.HTML(http.StatusOK, body) })
	}
	return e
}

func basicChi() http.Handler {
	r := chi.NewRouter()
	r.Get("/", htmlHandler(helloBody))
	r.Get("/user/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeHTML(w, paramBody(chi.URLParam(r, "id")))
	})
	return r
}

func githubChi(routes []route) http.Handler {
	r := chi.NewRouter()
	for _, rt := range routes {
		r.Method(rt.method, braceRule(rt.rule), htmlHandler(rt.body()))
	}
	return r
}

func basicHTTPRouter() http.Handler {
	r := httprouter.New()
	r.Handler(http.MethodGet, "/", htmlHandler(helloBody))
	r.GET("/user/:id", func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		writeHTML(w, paramBody(ps.ByName("id")))
	})
	return r
}

func githubHTTPRouter(routes []route) http.Handler {
	r := httprouter.New()
	for _, rt := range routes {
		body := rt.body()
		r.Handle(rt.method, colonRule(rt.rule), func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
			writeHTML(w, body)
		})
	}
	return r
}

func basicServeMux() http.Handler {
	m := http.NewServeMux()
	m.Handle("GET /{$}", htmlHandler(helloBody))
	m.HandleFunc("GET /user/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeHTML(w, paramBody(r.PathValue("id")))
	})
	return m
}

func githubServeMux(routes []route) http.Handler {
	m := http.NewServeMux()
	for _, rt := range routes {
		m.Handle(rt.method+" "+braceRule(rt.rule), htmlHandler(rt.body()))
	}
	return m
}

func basicGorilla() http.Handler {
	r := mux.NewRouter()
	r.Handle("/", htmlHandler(helloBody)).Methods(http.MethodGet)
	r.HandleFunc("/user/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeHTML(w, paramBody(mux.Vars(r)["id"]))
	}).Methods(http.MethodGet)
	return r
}

func githubGorilla(routes []route) http.Handler {
	r := mux.NewRouter()
	for _, rt := range routes {
		r.Handle(braceRule(rt.rule), htmlHandler(rt.body())).Methods(rt.method)
	}
	return r
}
