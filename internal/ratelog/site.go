package ratelog

import (
	"strconv"
	"strings"

	"github.com/vial-go/vial/internal/stack"
)

// Site returns the site of a panic, "file:line", from its stack in the
// format of runtime/debug.Stack taken where it was recovered (a
// gateway.PanicError's Stack): the first frame after the last panic frame
// that is not the runtime's (runtime.sigpanic, runtime.panicmem, …), which
// is the debugger's "panic site" too. A stack with no panic frame gives its
// first frame that is not runtime/debug.Stack or runtime.Callers. Only the
// first goroutine is read; "" means no frame was found.
func Site(trace []byte) string {
	frames, _ := stack.Parse(trace)
	from := 0
	for i, f := range frames {
		if f.Func == "panic" || f.Func == "runtime.gopanic" {
			from = i + 1
		}
	}
	for _, f := range frames[from:] {
		if from > 0 && strings.HasPrefix(f.Func, "runtime.") {
			continue // the runtime raising the panic
		}
		if from == 0 && (f.Func == "runtime/debug.Stack" || strings.HasPrefix(f.Func, "runtime.Callers")) {
			continue // the capture
		}
		if f.Line == 0 {
			return f.File
		}
		return f.File + ":" + strconv.Itoa(f.Line)
	}
	return ""
}
