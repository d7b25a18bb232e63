package ratelog

import (
	"bufio"
	"bytes"
	"strings"
)

// Site returns the site of a panic, "file:line", from its stack in the
// format of runtime/debug.Stack taken where it was recovered (a
// gateway.PanicError's Stack): the first frame after the last panic frame
// that is not the runtime's (runtime.sigpanic, runtime.panicmem, …), which
// is the debugger's "panic site" too. A stack with no panic frame gives its
// first frame that is not runtime/debug.Stack or runtime.Callers. Only the
// first goroutine is read; "" means no frame was found.
func Site(stack []byte) string {
	frames := stackFrames(stack)
	from := 0
	for i, f := range frames {
		if f.fn == "panic" || f.fn == "runtime.gopanic" {
			from = i + 1
		}
	}
	for _, f := range frames[from:] {
		if from > 0 && strings.HasPrefix(f.fn, "runtime.") {
			continue // the runtime raising the panic
		}
		if from == 0 && (f.fn == "runtime/debug.Stack" || strings.HasPrefix(f.fn, "runtime.Callers")) {
			continue // the capture
		}
		return f.at
	}
	return ""
}

type stackFrame struct{ fn, at string }

// stackFrames reads the first goroutine's frames: the function (without its
// arguments) and "file:line" (without the pc offset).
func stackFrames(stack []byte) []stackFrame {
	var frames []stackFrame
	sc := bufio.NewScanner(bytes.NewReader(stack))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	fn := ""
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == "":
			if len(frames) > 0 {
				return frames // the next goroutine
			}
		case strings.HasPrefix(line, "\t"):
			if fn != "" {
				at, _, _ := strings.Cut(strings.TrimSpace(line), " +0x")
				frames = append(frames, stackFrame{fn: fn, at: at})
				fn = ""
			}
		case strings.HasPrefix(line, "goroutine "):
		default:
			fn = line
			if i := strings.LastIndex(line, "("); i > 0 && strings.HasSuffix(line, ")") {
				fn = line[:i]
			}
		}
	}
	return frames
}
