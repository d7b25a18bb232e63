package serving

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vial-go/vial/gateway"
)

// The debugger's page, as HTML (debugger.html, escaped by html/template)
// and as text.

//go:embed debugger.html
var debuggerHTML string

// debuggerTemplate parses the page's template on the first page, not at
// program start: every program that links vial would pay for it, and most
// never show the page. A broken debugger.html panics there, and renderPage
// answers with its fallback page, which names the parse error;
// TestDebuggerTemplateParses fails on it first.
var debuggerTemplate = sync.OnceValue(func() *template.Template {
	return parsePageTemplate(debuggerHTML)
})

// parsePageTemplate parses a page template, panicking if it is bad.
func parsePageTemplate(src string) *template.Template {
	return template.Must(template.New("debugger").Parse(src))
}

// pageView is what the page shows.
type pageView struct {
	What        string // "panic" or "unhandled error"
	Site        string // what the focused frame is: "panic site", …
	Endpoint    string // the request's endpoint, when the framework named it
	NoStack     string // why no stack is shown, when none is
	Type, Msg   string
	Chain       []errLink
	Method, URL string
	Remote      string
	Time        string
	StackOrigin string
	Groups      []frameGroup
	Elided      bool
	Raw         string
}

// frameGroup is a run of frames: the application's, shown, or the others',
// folded under a summary.
type frameGroup struct {
	App     bool
	Open    bool
	Summary string
	Frames  []frameView
}

type frameView struct {
	Pkg, Name string // Pkg ends with "." when not empty
	File      string
	Line      int
	CreatedBy bool
	Focus     bool   // the panic's site, or where the error was made
	Site      string // what the page calls that frame: pageView.Site
	Kind      frameKind
	Source    []sourceLine
}

// renderPage renders the page for rep as HTML or text and returns it with
// its Content-Type. Should rendering fail, the page is the raw stack.
func renderPage(rep *panicReport, env *gateway.Environ, contextLines int, html bool) (page []byte, ctype string) {
	defer func() {
		if v := recover(); v != nil {
			page = fmt.Appendf(nil, "500 Internal Server Error\n\n%s\n\n(the debugger failed to render its page: %v)\n%s\n\n%s",
				rep.headline(), v, debug.Stack(), rep.raw)
			ctype = "text/plain; charset=utf-8"
		}
	}()
	view := buildView(rep, env, contextLines)
	if html {
		var buf bytes.Buffer
		if err := debuggerTemplate().Execute(&buf, view); err != nil {
			panic(err)
		}
		return buf.Bytes(), "text/html; charset=utf-8"
	}
	return renderText(view), "text/plain; charset=utf-8"
}

func buildView(rep *panicReport, env *gateway.Environ, contextLines int) *pageView {
	v := &pageView{
		What:     rep.what(),
		Site:     "panic site",
		Endpoint: rep.endpoint,
		Type:     rep.typ,
		Msg:      rep.msg,
		Chain:    rep.chain,
		Method:   env.Method,
		URL:      env.RequestURL(),
		Remote:   env.RemoteAddr,
		Time:     time.Now().Format("2006-01-02 15:04:05 MST"),
		Elided:   rep.elided,
		Raw:      string(rep.raw),
	}
	switch {
	case rep.unhandled && rep.fromError:
		v.Site = "where the error was made"
		v.StackOrigin = "the stack the error recorded"
	case rep.unhandled:
		v.NoStack = "The error carries no stack: it was returned, not panicked, and records no place it came from. " +
			"Give it a StackTrace() []byte method (in the format of runtime/debug.Stack) to have it shown here."
	case rep.fromError:
		v.StackOrigin = "the stack recorded by the error where the panic was recovered"
	default:
		v.StackOrigin = "the stack where the debugger recovered the panic"
	}
	hasApp := false
	for _, f := range rep.frames {
		hasApp = hasApp || f.Kind == frameApp
	}
	src := sourceCache{}
	for i, f := range rep.frames {
		pkg, name := f.Package()
		if pkg != "" {
			pkg += "."
		}
		fv := frameView{
			Pkg: pkg, Name: name, File: f.File, Line: f.Line,
			CreatedBy: f.CreatedBy, Focus: i == rep.focus, Site: v.Site, Kind: f.Kind,
			Source: src.around(f.File, f.Line, contextLines),
		}
		app := f.Kind == frameApp
		if n := len(v.Groups); n == 0 || v.Groups[n-1].App != app {
			v.Groups = append(v.Groups, frameGroup{App: app})
		}
		g := &v.Groups[len(v.Groups)-1]
		g.Frames = append(g.Frames, fv)
		// Without a frame of the application's, the panic's site is
		// where to look: its group is unfolded.
		g.Open = g.Open || (!hasApp && fv.Focus)
	}
	for i := range v.Groups {
		if !v.Groups[i].App {
			v.Groups[i].Summary = groupSummary(v.Groups[i].Frames)
		}
	}
	return v
}

// groupSummary is "3 frames in net/http, runtime".
func groupSummary(frames []frameView) string {
	var pkgs []string
	seen := map[string]bool{}
	for _, f := range frames {
		p := strings.TrimSuffix(f.Pkg, ".")
		if p == "" {
			p = f.Name // panic
		}
		if !seen[p] {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) > 4 {
		pkgs = append(pkgs[:4], "…")
	}
	word := "frames"
	if len(frames) == 1 {
		word = "frame"
	}
	return fmt.Sprintf("%d %s in %s", len(frames), word, strings.Join(pkgs, ", "))
}

// renderText is the page for clients that do not take HTML: the same
// content, the source shown for the application's frames only (or for the
// panic's site when none is the application's).
func renderText(v *pageView) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "500 Internal Server Error: %s in the application (vial debugger)\n\n", v.What)
	fmt.Fprintf(&b, "%s: %s\n", v.Type, v.Msg)
	for _, l := range v.Chain {
		fmt.Fprintf(&b, "  wraps %s: %s\n", l.Type, l.Msg)
	}
	fmt.Fprintf(&b, "\nRequest: %s %s\n", v.Method, v.URL)
	if v.Endpoint != "" {
		fmt.Fprintf(&b, "Endpoint: %s\n", v.Endpoint)
	}
	fmt.Fprintf(&b, "Client:  %s\nTime:    %s\n\n", v.Remote, v.Time)
	if v.NoStack != "" {
		b.WriteString(v.NoStack + "\n\nThis page is the vial debugger's; it never runs code.\n")
		return b.Bytes()
	}
	fmt.Fprintf(&b, "Stack, most recent call first (%s).\n", v.StackOrigin)
	b.WriteString("Frames marked [std] are the Go runtime's and standard library's, [lib] vial's and other modules'.\n\n")
	width := sourceWidth(v.Groups)
	for _, g := range v.Groups {
		for _, f := range g.Frames {
			mark := "     "
			switch f.Kind {
			case frameStd:
				mark = "[std]"
			case frameLibrary:
				mark = "[lib]"
			}
			created := ""
			if f.CreatedBy {
				created = "created by "
			}
			site := ""
			if f.Focus {
				site = "   <- " + v.Site
			}
			fmt.Fprintf(&b, "%s %s%s%s%s\n        %s:%d\n", mark, created, f.Pkg, f.Name, site, f.File, f.Line)
			if g.App || g.Open && f.Focus {
				for _, l := range f.Source {
					cur := "  "
					if l.Current {
						cur = "> "
					}
					fmt.Fprintf(&b, "          %s%*d | %s\n", cur, width, l.N, strings.ReplaceAll(l.Text, "\t", "    "))
				}
			}
		}
	}
	if v.Elided {
		b.WriteString("      ... the runtime left further frames out ...\n")
	}
	b.WriteString("\nThis page is the vial debugger's; it never runs code.\n")
	return b.Bytes()
}

// sourceWidth is the width of the widest line number of the groups' source.
func sourceWidth(groups []frameGroup) int {
	width := 1
	for _, g := range groups {
		for _, f := range g.Frames {
			for _, l := range f.Source {
				width = max(width, len(strconv.Itoa(l.N)))
			}
		}
	}
	return width
}

// wantsHTML decides the page's format from the Accept header: HTML when
// the client names text/html (or application/xhtml+xml) and prefers it at
// least as much as text/plain, as browsers do; text otherwise, including a
// missing header and curl's "*/*", since a terminal reads text better.
func wantsHTML(accept string) bool {
	qHTML := 0.0
	qPlain, plainSpecificity := 0.0, 0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, _ := strings.Cut(part, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					q = f
				}
			}
		}
		spec := 0
		switch mt {
		case "text/html", "application/xhtml+xml":
			qHTML = max(qHTML, q)
			continue
		case "text/plain":
			spec = 3
		case "text/*":
			spec = 2
		case "*/*":
			spec = 1
		default:
			continue
		}
		if spec > plainSpecificity {
			qPlain, plainSpecificity = q, spec
		} else if spec == plainSpecificity {
			qPlain = max(qPlain, q)
		}
	}
	return qHTML > 0 && qHTML >= qPlain
}
