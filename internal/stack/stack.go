// Package stack reads the tracebacks runtime/debug.Stack writes, frame by
// frame: the one parser of the dev server's debugger, which shows them,
// and of the panic-log limiter (internal/ratelog), which names a panic's
// site from them.
package stack

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// A Frame is one call of a traceback.
type Frame struct {
	Func      string // the function, with its package path, without arguments
	File      string
	Line      int
	CreatedBy bool // the go statement that started the goroutine
}

// Parse reads the first goroutine of a traceback in the format of
// runtime/debug.Stack, and reports whether the runtime left frames out
// ("...additional frames elided..."):
//
//	goroutine 1 [running]:
//	main.f(0x1, ...)
//		/path/to/main.go:12 +0x1d
//	created by main.main in goroutine 1
//		/path/to/main.go:20 +0x25
func Parse(b []byte) (frames []Frame, elided bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var cur *Frame
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, "\t"):
			if cur != nil {
				cur.File, cur.Line = parseFileLine(line[1:])
				frames = append(frames, *cur)
				cur = nil
			}
		case line == "":
			if len(frames) > 0 || cur != nil {
				return frames, elided // the next goroutine
			}
		case strings.HasPrefix(line, "goroutine "):
			// The header.
		case strings.HasPrefix(line, "...") && strings.Contains(line, "elided"):
			elided = true
		case strings.HasPrefix(line, "created by "):
			fn := strings.TrimPrefix(line, "created by ")
			if i := strings.Index(fn, " in goroutine "); i >= 0 {
				fn = fn[:i]
			}
			cur = &Frame{Func: fn, CreatedBy: true}
		default:
			cur = &Frame{Func: stripArgs(line)}
		}
	}
	return frames, elided
}

// stripArgs removes the argument list from a traceback's function line:
// "main.(*T).m(0xc000010000, ...)" is "main.(*T).m".
func stripArgs(line string) string {
	if !strings.HasSuffix(line, ")") {
		return line
	}
	depth := 0
	for i := len(line) - 1; i >= 0; i-- {
		switch line[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				if i == 0 {
					return line
				}
				return line[:i]
			}
		}
	}
	return line
}

// parseFileLine splits "/path/file.go:12 +0x1d" (the pc offset is missing
// for inlined calls).
func parseFileLine(s string) (string, int) {
	if i := strings.LastIndex(s, " +0x"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, 0
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return s, 0
	}
	return s[:i], n
}

// FromPanic returns the traceback b from the call that panicked: its
// header, then the frames after the last panic frame ("panic(…)" or
// runtime.gopanic), which leaves out the capture and the recovering
// functions above it. A traceback with no panic frame is returned as it is.
func FromPanic(b []byte) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	last := -1
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("panic(")) || bytes.HasPrefix(l, []byte("runtime.gopanic(")) {
			last = i
		}
	}
	if last < 1 || !bytes.HasPrefix(lines[0], []byte("goroutine ")) {
		return b
	}
	rest := last + 1
	if rest < len(lines) && bytes.HasPrefix(lines[rest], []byte("\t")) {
		rest++ // the panic frame's file line
	}
	out := append([]byte{}, lines[0]...)
	for _, l := range lines[rest:] {
		out = append(out, l...)
	}
	return out
}
