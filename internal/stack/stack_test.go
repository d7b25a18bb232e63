package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseReadsTheFirstGoroutine(t *testing.T) {
	text := "goroutine 1 [running]:\n" +
		"main.(*T).m(0xc000010000, {0x1, 0x2})\n\t/src/app/main.go:12 +0x1d\n" +
		"main.G[...](...)\n\t/src/app/g.go:3\n" +
		"...additional frames elided...\n" +
		"created by main.main in goroutine 1\n\t/src/app/main.go:20 +0x25\n" +
		"\ngoroutine 7 [chan receive]:\nmain.other()\n\t/x.go:1 +0x1\n"
	frames, elided := Parse([]byte(text))
	assert.True(t, elided)
	assert.Equal(t, []Frame{
		{Func: "main.(*T).m", File: "/src/app/main.go", Line: 12},
		{Func: "main.G[...]", File: "/src/app/g.go", Line: 3},
		{Func: "main.main", File: "/src/app/main.go", Line: 20, CreatedBy: true},
	}, frames)
}

func TestStripArgsAndFileLine(t *testing.T) {
	assert.Equal(t, "main.G[...]", stripArgs("main.G[...](...)"))
	file, line := parseFileLine("C:/src/app.go:12 +0x1d")
	assert.Equal(t, "C:/src/app.go", file)
	assert.Equal(t, 12, line)
	file, line = parseFileLine("/src/app.go")
	assert.Equal(t, "/src/app.go", file)
	assert.Zero(t, line)
}

func TestFromPanicStartsAtThePanickingCall(t *testing.T) {
	text := "goroutine 1 [running]:\n" +
		"runtime/debug.Stack()\n\t/go/src/runtime/debug/stack.go:26 +0x5e\n" +
		"vial.recovered()\n\t/src/vial/dispatch.go:134 +0x2f\n" +
		"panic({0x1, 0x2})\n\t/go/src/runtime/panic.go:860 +0x13a\n" +
		"main.view(0x1)\n\t/src/app/main.go:12 +0x25\n" +
		"main.main()\n\t/src/app/main.go:20 +0x85\n"
	assert.Equal(t, "goroutine 1 [running]:\n"+
		"main.view(0x1)\n\t/src/app/main.go:12 +0x25\n"+
		"main.main()\n\t/src/app/main.go:20 +0x85\n", string(FromPanic([]byte(text))))

	noPanic := "goroutine 1 [running]:\nmain.main()\n\t/src/app/main.go:20 +0x85\n"
	assert.Equal(t, noPanic, string(FromPanic([]byte(noPanic))), "no panic frame: unchanged")
}
