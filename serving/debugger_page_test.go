package serving

import (
	"html/template"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The template is parsed on the first page, so nothing fails at program
// start if debugger.html is broken: this test does.
func TestDebuggerTemplateParses(t *testing.T) {
	var tmpl *template.Template
	require.NotPanics(t, func() { tmpl = debuggerTemplate() })
	assert.NotNil(t, tmpl.Lookup("debugger"))
	assert.Same(t, tmpl, debuggerTemplate(), "parsed once")
}

// A bad template is not served quietly: parsing it panics, and the page is
// renderPage's fallback, which names the parse error.
func TestDebuggerBadTemplateFailsLoudly(t *testing.T) {
	assert.PanicsWithError(t, "template: debugger:1: unclosed action", func() { parsePageTemplate("{{.Type") })

	saved := debuggerTemplate
	defer func() { debuggerTemplate = saved }()
	debuggerTemplate = func() *template.Template { return parsePageTemplate("{{.Type") }
	rep := newPanicReport("boom", []byte("goroutine 1 [running]:\n"))
	page, ctype := renderPage(rep, dbgRemoteEnviron("127.0.0.1", io.Discard), 2, true)
	assert.Equal(t, "text/plain; charset=utf-8", ctype)
	assert.Contains(t, string(page), "(the debugger failed to render its page: template: debugger:1: unclosed action)")
	assert.Contains(t, string(page), "goroutine 1 [running]:")
}
