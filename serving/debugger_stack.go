package serving

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/vial-go/vial/gateway"
	"github.com/vial-go/vial/internal/stack"
)

// The debugger's view of a panic: the value, the error it is as excInfo, and
// the stack parsed from the text of runtime/debug.Stack.

// A stackTracer is an error of another library that carries the stack it
// was raised on, in the format of runtime/debug.Stack.
type stackTracer interface {
	error
	StackTrace() []byte
}

// panicValueError is the excInfo for a panic whose value is not an error.
type panicValueError struct {
	value any
	stack []byte
}

func (e *panicValueError) Error() string      { return "panic: " + fmt.Sprint(e.value) }
func (e *panicValueError) StackTrace() []byte { return e.stack }

// An unhandledError is how a framework hands an error nothing handled up
// to the debugger as a panic (vial's HandleException does in debug mode):
// it wraps the error and names the request's endpoint. A
// *gateway.PanicError it wraps directly is shown as the panic it is, with
// its endpoint. Any other error was returned (even one whose chain holds a
// PanicError, recovered elsewhere): the debugger shows it as an unhandled error,
// not as a panic, since the stack where it was recovered is the
// framework's, which is not where anything went wrong, so only a stack the
// error carries is shown (see [Debugger]).
type unhandledError interface {
	error
	Unwrap() error
	Endpoint() string
}

// panicReport is everything the page and the log show about a panic, or
// about an unhandled error handed up as one.
type panicReport struct {
	unhandled bool      // an unhandledError: returned, not panicked
	endpoint  string    // the request's endpoint, when the framework named it
	err       error     // the panic as an error: excInfo
	typ, msg  string    // the type and text of what panicked
	chain     []errLink // the errors it wraps
	raw       []byte    // the stack text shown
	fromError bool      // raw is the error's own StackTrace
	frames    []frame   // raw, parsed, without the recovery's frames
	focus     int       // index in frames of the panic's site
	elided    bool      // the runtime left frames out
}

type errLink struct{ Type, Msg string }

func newPanicReport(v any, recovered []byte) *panicReport {
	rep := &panicReport{raw: recovered}
	err, isErr := v.(error)
	if !isErr {
		err = &panicValueError{value: v, stack: recovered}
	}
	rep.err = err
	shown := v
	if ue, ok := v.(unhandledError); ok && ue.Unwrap() != nil {
		rep.endpoint = ue.Endpoint()
		err, shown = ue.Unwrap(), ue.Unwrap()
		if _, panicked := err.(*gateway.PanicError); !panicked {
			// Returned, not panicked: the stack recovered is the framework's.
			rep.unhandled, rep.raw = true, nil
		}
	}
	if pe, ok := errors.AsType[*gateway.PanicError](err); isErr && ok {
		// A panic recovered by vial or a gateway server: show the value
		// that panicked, not the wrapper, and the stack where it did.
		if len(pe.Stack) > 0 {
			rep.raw, rep.fromError = pe.Stack, true
		}
		if pe.Value != nil && !rep.unhandled {
			shown = pe.Value
		}
	} else if st, ok := errors.AsType[stackTracer](err); isErr && ok {
		if s := st.StackTrace(); len(s) > 0 {
			rep.raw, rep.fromError = s, true
		}
	}
	rep.typ = fmt.Sprintf("%T", shown)
	rep.msg = fmt.Sprint(shown) // fmt survives a panicking Error method
	if e, ok := shown.(error); ok {
		rep.chain = unwrapChain(e)
	}
	frames, elided := parseStack(rep.raw)
	rep.frames, rep.focus = trimRecovery(frames)
	rep.elided = elided
	return rep
}

// headline is the one-line summary: "type: message".
func (rep *panicReport) headline() string { return rep.typ + ": " + rep.msg }

// what is what the report is about: "panic" or "unhandled error".
func (rep *panicReport) what() string {
	if rep.unhandled {
		return "unhandled error"
	}
	return "panic"
}

// unwrapChain lists the errors e wraps, outermost first, at most ten.
func unwrapChain(e error) []errLink {
	var links []errLink
	for len(links) < 10 {
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, w := range u.Unwrap() {
				if w != nil && len(links) < 10 {
					links = append(links, errLink{fmt.Sprintf("%T", w), fmt.Sprint(w)})
				}
			}
			return links
		default:
			return links
		}
		if e == nil {
			return links
		}
		links = append(links, errLink{fmt.Sprintf("%T", e), fmt.Sprint(e)})
	}
	return links
}

// frameKind sorts frames into the application's own and the rest.
type frameKind int

const (
	frameApp     frameKind = iota // the application's code: shown
	frameLibrary                  // vial and other modules: folded
	frameStd                      // the Go runtime and standard library: folded
)

// A frame is one call on the stack.
type frame struct {
	Func      string // the function, with its package path
	File      string
	Line      int
	CreatedBy bool // the go statement that started the goroutine
	Kind      frameKind
}

// Package returns the frame's package path and the function's name in it.
func (f frame) Package() (pkg, name string) {
	slash := strings.LastIndexByte(f.Func, '/')
	dot := strings.IndexByte(f.Func[slash+1:], '.')
	if dot < 0 {
		return "", f.Func
	}
	return f.Func[:slash+1+dot], f.Func[slash+1+dot+1:]
}

// parseStack reads the first goroutine of a traceback in the format of
// runtime/debug.Stack (see package internal/stack) as the debugger's
// frames.
func parseStack(b []byte) (frames []frame, elided bool) {
	parsed, elided := stack.Parse(b)
	frames = make([]frame, len(parsed))
	for i, f := range parsed {
		frames[i] = frame{Func: f.Func, File: f.File, Line: f.Line, CreatedBy: f.CreatedBy}
	}
	return frames, elided
}

// trimRecovery drops the frames of the recovery from a stack taken where a
// panic was recovered: everything down to the (first) panic frame, which
// are runtime/debug.Stack and the deferred functions that recovered. Frames
// between that and the last panic frame are kept: they are where a panic
// was re-raised, or where a second panic happened during the first. focus
// is the panic's site: the first frame after the last panic frame that is
// not the runtime's (runtime.sigpanic, runtime.panicmem, …). When a stack
// has a single panic frame, the runtime's frames before the site are
// dropped too. A stack without a panic frame (taken elsewhere than in a
// deferred function) loses only its leading runtime/debug.Stack.
func trimRecovery(frames []frame) ([]frame, int) {
	c := classifier()
	for i := range frames {
		frames[i].Kind = c.kind(frames[i])
	}
	first, last := -1, -1
	for i, f := range frames {
		if isPanicFrame(f.Func) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		for len(frames) > 1 && (frames[0].Func == "runtime/debug.Stack" || strings.HasPrefix(frames[0].Func, "runtime.Callers")) {
			frames = frames[1:]
		}
		return frames, 0
	}
	frames = frames[first+1:]
	focus := last - first
	for focus < len(frames)-1 && strings.HasPrefix(frames[focus].Func, "runtime.") {
		focus++
	}
	if first == last {
		frames, focus = frames[focus:], 0
	}
	if focus >= len(frames) {
		focus = 0
	}
	return frames, focus
}

func isPanicFrame(fn string) bool {
	return fn == "panic" || fn == "runtime.gopanic"
}

// frameClassifier tells the application's frames from the others.
type frameClassifier struct {
	goroot string   // the prefix of standard library files in this binary's tracebacks, "" if trimmed
	vial   string   // vial's module path
	main   string   // the main module's path, "" in a test binary
	deps   []string // the other modules' paths
}

var classifier = sync.OnceValue(func() *frameClassifier {
	c := &frameClassifier{}
	// Where this binary says the standard library's files are: the file
	// of a standard function, less its path in GOROOT/src.
	if fn := runtime.FuncForPC(reflect.ValueOf(strings.Cut).Pointer()); fn != nil {
		file, _ := fn.FileLine(fn.Entry())
		if root, ok := strings.CutSuffix(file, "strings/strings.go"); ok {
			c.goroot = root
		}
	}
	if fn := runtime.FuncForPC(reflect.ValueOf(parseStack).Pointer()); fn != nil {
		pkg, _ := frame{Func: fn.Name()}.Package()
		c.vial = strings.TrimSuffix(pkg, "/serving")
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		c.main = bi.Main.Path
		for _, m := range bi.Deps {
			c.deps = append(c.deps, m.Path)
		}
	}
	return c
})

// hasModuleVersion reports a path with a module version in it,
// "example.com/mod@v1.2.3/file.go", as -trimpath writes a dependency's files.
func hasModuleVersion(file string) bool {
	for {
		i := strings.Index(file, "@v")
		if i < 0 {
			return false
		}
		file = file[i+2:]
		if file != "" && file[0] >= '0' && file[0] <= '9' {
			return true
		}
	}
}

func inModule(pkg, mod string) bool {
	return mod != "" && (pkg == mod || strings.HasPrefix(pkg, mod+"/"))
}

func (c *frameClassifier) kind(f frame) frameKind {
	pkg, _ := f.Package()
	switch {
	case pkg == "" || pkg == "runtime" || strings.HasPrefix(pkg, "runtime/"):
		return frameStd
	case strings.HasSuffix(f.File, "_test.go"):
		return frameApp // a test is the code under development
	case inModule(pkg, c.vial):
		return frameLibrary // vial's own packages (its examples are package main)
	case c.goroot != "" && strings.HasPrefix(f.File, c.goroot):
		return frameStd
	case strings.Contains(f.File, "/pkg/mod/") || strings.Contains(f.File, "/vendor/") || hasModuleVersion(f.File):
		return frameLibrary
	case inModule(pkg, c.main):
		return frameApp
	}
	for _, d := range c.deps {
		if inModule(pkg, d) {
			return frameLibrary
		}
	}
	if c.goroot == "" && pkg != "main" && !strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") {
		return frameStd // -trimpath: a standard package has no dot in its first element
	}
	return frameApp
}

// sourceLine is one line of a frame's source.
type sourceLine struct {
	N       int
	Text    string
	Current bool
}

// sourceCache reads the files of one page's frames, each once.
type sourceCache map[string][]string

const maxSourceFile = 4 << 20

// around returns the lines of file from line-n to line+n, or nil when the
// file cannot be read.
func (sc sourceCache) around(file string, line, n int) []sourceLine {
	if n < 0 || line <= 0 || file == "" {
		return nil
	}
	lines, ok := sc[file]
	if !ok {
		path := sourcePath(file)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() <= maxSourceFile {
			if b, err := os.ReadFile(path); err == nil {
				lines = strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
			}
		}
		sc[file] = lines
	}
	if line > len(lines) {
		return nil
	}
	from, to := max(line-n, 1), min(line+n, len(lines))
	out := make([]sourceLine, 0, to-from+1)
	for i := from; i <= to; i++ {
		out = append(out, sourceLine{N: i, Text: lines[i-1], Current: i == line})
	}
	return out
}

// sourcePath is where file is on disk. A path in a traceback is absolute
// unless the program was built with -trimpath, which writes the main
// module's files as "module/path/file.go": those are looked for in the
// module around the working directory, where a development server runs.
func sourcePath(file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	mod, root := currentModule()
	if rest, ok := strings.CutPrefix(file, mod+"/"); ok && mod != "" {
		return filepath.Join(root, filepath.FromSlash(rest))
	}
	return file
}

// currentModule finds the go.mod of the working directory: its module path
// and directory.
var currentModule = sync.OnceValues(func() (mod, root string) {
	dir, err := os.Getwd()
	if err != nil {
		return "", ""
	}
	root, mod = findGoMod(dir)
	return mod, root
})

// isLoopback reports whether REMOTE_ADDR is a loopback address:
// 127.0.0.0/8 or ::1 (also as an IPv4-mapped or zoned address).
func isLoopback(remoteAddr string) bool {
	s := strings.TrimSuffix(strings.TrimPrefix(remoteAddr, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(remoteAddr)
		if err != nil {
			return false
		}
		a = ap.Addr()
	}
	return a.Unmap().IsLoopback()
}
