package vial_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The tests in this file keep the Go code of README.md honest: every
// ```go block must compile against the package as it is, and be
// gofmt-formatted. Other blocks (```python, ```sh, ```nginx …) are left
// alone.
//
// A block is one of:
//
//   - a whole program, starting with its package clause: compiled as it is;
//   - top-level declarations (types, funcs, vars): put in a package of their
//     own;
//   - statements: put in the body of a function;
//   - declarations, a blank line, then statements: both of the above.
//
// A fragment may use the packages of readmeImports by their names, and
// app (a *vial.App) and newApp (a func() *vial.App) without declaring them,
// as the README's prose does; the scaffold imports and declares only what
// the block uses and does not declare itself.
//
// Each block becomes one package of a throwaway module that requires the
// repository by a replace directive, with //line directives that make the
// compiler's positions README.md's. One `go build ./...` compiles them all,
// then one `go vet` checks the packages that compiled; a failure names the
// block by the line of its opening fence.

// readmeImports are the packages a fragment may use without importing them,
// by name.
var readmeImports = map[string]string{
	"vial":       "github.com/vial-go/vial",
	"gateway":    "github.com/vial-go/vial/gateway",
	"cgi":        "github.com/vial-go/vial/gateway/cgi",
	"middleware": "github.com/vial-go/vial/gateway/middleware",
	"serving":    "github.com/vial-go/vial/serving",
	"context":    "context",
	"errors":     "errors",
	"fmt":        "fmt",
	"http":       "net/http",
	"io":         "io",
	"iter":       "iter",
	"json":       "encoding/json",
	"log":        "log",
	"net":        "net",
	"os":         "os",
	"signal":     "os/signal",
	"slog":       "log/slog",
	"strconv":    "strconv",
	"strings":    "strings",
	"sync":       "sync",
	"syscall":    "syscall",
	"testing":    "testing",
	"time":       "time",
	"httptest":   "net/http/httptest",
}

// readmeNames are the names a fragment may use without declaring them.
var readmeNames = map[string]string{
	"app":    `var app = vial.New("readme")`,
	"newApp": `func newApp() *vial.App { return vial.New("readme") }`,
}

// A goBlock is a ```go block of the README.
type goBlock struct {
	fence int    // the line of the opening ```go, 1-based
	code  string // the lines between the fences
	lines int    // how many lines code has
}

// first is the README line of the block's first line of code.
func (b goBlock) first() int { return b.fence + 1 }

// goBlocks returns the ```go blocks of the markdown file at path.
func goBlocks(t *testing.T, path string) []goBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		blocks []goBlock
		fence  string   // the fence of the open block, "" outside blocks
		isGo   bool     // the open block is a ```go block
		open   int      // its opening line
		code   []string // its lines so far
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if fence == "" {
			trimmed := strings.TrimLeft(line, " ")
			if len(line)-len(trimmed) > 3 {
				continue // an indented code block
			}
			if f := fenceOf(trimmed); f != "" {
				fence, open, code = f, n, nil
				isGo = strings.TrimSpace(trimmed[len(f):]) == "go"
			}
			continue
		}
		if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
			if isGo {
				blocks = append(blocks, goBlock{fence: open, code: strings.Join(code, "\n") + "\n", lines: len(code)})
			}
			fence = ""
			continue
		}
		code = append(code, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if fence != "" {
		t.Fatalf("README.md:%d: the code block is never closed", open)
	}
	return blocks
}

// fenceOf returns the fence that opens a code block at the start of line:
// three or more backquotes or tildes; "" if there is none.
func fenceOf(line string) string {
	for _, c := range "`~" {
		n := len(line) - len(strings.TrimLeft(line, string(c)))
		if n >= 3 {
			return line[:n]
		}
	}
	return ""
}

// A readmeSource is a block as a Go source file: the declarations and
// statements it was split into, and the file the scaffold makes of them.
type readmeSource struct {
	program bool   // the block is a whole program
	decls   string // its top-level declarations
	stmts   string // its statements
	split   int    // the README line where stmts start
}

// splitBlock sorts the code of b into a program, declarations and
// statements, or says why it cannot.
func splitBlock(b goBlock) (readmeSource, error) {
	fset := token.NewFileSet()
	if _, err := parser.ParseFile(fset, "", b.code, parser.PackageClauseOnly); err == nil {
		return readmeSource{program: true}, nil
	}
	if parses(fset, "package p\n"+b.code) {
		return readmeSource{decls: b.code}, nil
	}
	if parses(fset, "package p\nfunc _() {\n"+b.code+"}\n") {
		return readmeSource{stmts: b.code, split: b.first()}, nil
	}
	// Declarations then statements: split at the last blank line that
	// works, so that a var declaration before the statements stays
	// top-level.
	lines := strings.SplitAfter(b.code, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			continue
		}
		decls, stmts := strings.Join(lines[:i], ""), strings.Join(lines[i+1:], "")
		if parses(fset, "package p\n"+decls) && parses(fset, "package p\nfunc _() {\n"+stmts+"}\n") {
			return readmeSource{decls: decls, stmts: stmts, split: b.first() + i + 1}, nil
		}
	}
	// Neither: report the parser's errors on the block as statements, in
	// README lines.
	_, err := parser.ParseFile(fset, "README.md", fmt.Sprintf("package p\nfunc _() {\n//line README.md:%d:1\n%s}\n", b.first(), b.code), 0)
	return readmeSource{}, fmt.Errorf("neither a program, nor declarations, nor statements, nor declarations then statements: %v", err)
}

func parses(fset *token.FileSet, src string) bool {
	_, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	return err == nil
}

// file returns the Go file for the block: readme is the README's path for
// the //line directives.
func (s readmeSource) file(b goBlock, readme string) string {
	directive := func(line int) string { return fmt.Sprintf("//line %s:%d:1\n", readme, line) }
	if s.program {
		return directive(b.first()) + b.code
	}
	// Parse the fragment as the scaffold will hold it, to learn which
	// names it uses without declaring them.
	var body strings.Builder
	if s.decls != "" {
		body.WriteString(directive(b.first()) + s.decls)
	}
	if s.stmts != "" {
		body.WriteString("func _() {\n" + directive(s.split) + s.stmts + "}\n")
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package readme\n"+body.String(), 0)
	if err != nil {
		panic("the block parsed before: " + err.Error())
	}
	var imports, extra []string
	for _, id := range f.Unresolved {
		if path, ok := readmeImports[id.Name]; ok {
			imports = append(imports, strconv.Quote(path))
		}
		if decl, ok := readmeNames[id.Name]; ok {
			extra = append(extra, decl)
			imports = append(imports, strconv.Quote(readmeImports["vial"])) // the declarations use it
		}
	}
	slices.Sort(imports)
	imports = slices.Compact(imports)
	slices.Sort(extra)
	extra = slices.Compact(extra)

	var src strings.Builder
	src.WriteString("// Code generated by readme_test.go from a block of README.md. DO NOT EDIT.\n\npackage readme\n\n")
	if len(imports) > 0 {
		src.WriteString("import (\n\t" + strings.Join(imports, "\n\t") + "\n)\n\n")
	}
	for _, decl := range extra {
		src.WriteString(decl + "\n\n")
	}
	src.WriteString(body.String())
	return src.String()
}

// TestReadmeGoBlocksCompile builds and vets every ```go block of README.md.
func TestReadmeGoBlocksCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd, err := exec.LookPath("go") // go test puts its own go first on $PATH
	if err != nil {
		t.Skip("no go command on $PATH")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(root, "README.md")
	blocks := goBlocks(t, readme)
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go blocks")
	}

	// The throwaway module: the repository's requirements and go.sum, and
	// the repository itself in place of its module.
	mod := t.TempDir()
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	modPath := regexp.MustCompile(`(?m)^module\s+(\S+)\s*$`).FindSubmatch(gomod)
	if modPath == nil {
		t.Fatal("go.mod has no module line")
	}
	gomod = regexp.MustCompile(`(?m)^module\s+\S+\s*$`).ReplaceAll(gomod, []byte("module readme.example"))
	gomod = fmt.Appendf(gomod, "\nrequire %s v0.0.0\n\nreplace %[1]s => %q\n", modPath[1], root)
	writeFile(t, filepath.Join(mod, "go.mod"), gomod)
	if sum, err := os.ReadFile(filepath.Join(root, "go.sum")); err == nil {
		writeFile(t, filepath.Join(mod, "go.sum"), sum)
	}

	failed := map[int][]string{} // what went wrong, by the fence line of the block
	for _, b := range blocks {
		s, err := splitBlock(b)
		if err != nil {
			failed[b.fence] = append(failed[b.fence], err.Error())
			continue
		}
		writeFile(t, filepath.Join(mod, fmt.Sprintf("l%d", b.fence), "readme.go"), []byte(s.file(b, readme)))
	}

	// The compiler reports every error of a package; vet then checks the
	// packages that compiled.
	run := func(args ...string) (ok bool) {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		out, err := cmd.CombinedOutput()
		if err == nil {
			return true
		}
		if placed, unplaced := attribute(blocks, readme, mod, string(out), failed); placed == 0 || unplaced != "" {
			t.Errorf("go %s in %s: %v\n%s", strings.Join(args, " "), mod, err, out)
			return false
		}
		return true // the failures are the blocks'
	}
	if run("build", "./...") {
		vet := []string{"vet"}
		for _, b := range blocks {
			if len(failed[b.fence]) == 0 {
				vet = append(vet, fmt.Sprintf("./l%d", b.fence))
			}
		}
		if len(vet) > 1 {
			run(vet...)
		}
	}
	for _, b := range blocks {
		if msgs := failed[b.fence]; len(msgs) > 0 {
			t.Errorf("README.md:%d: the ```go block fails to compile or vet:\n\t%s", b.fence, strings.Join(msgs, "\n\t"))
		}
	}
	if !t.Failed() {
		t.Logf("%d ```go blocks of README.md compile and pass vet", len(blocks))
	}
}

// attribute adds each line of the go command's output to the block it is
// about, in failed: by the README line it names, else by the package header
// ("# readme.example/l42") above it. It returns how many lines it placed,
// and the lines about no block.
func attribute(blocks []goBlock, readme, mod, out string, failed map[int][]string) (placed int, unplaced string) {
	at := regexp.MustCompile(regexp.QuoteMeta(readme) + `:(\d+)`)
	header := regexp.MustCompile(`^# \[?readme\.example/l(\d+)\]?$`)
	current := 0 // the block of the last header
	var rest []string
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		if m := header.FindStringSubmatch(line); m != nil {
			current, _ = strconv.Atoi(m[1])
			continue
		}
		block := current
		if m := at.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			for _, b := range blocks {
				if b.first() <= n && n < b.first()+b.lines {
					block = b.fence
				}
			}
		}
		line = strings.ReplaceAll(line, readme, "README.md")
		line = strings.ReplaceAll(line, mod+string(filepath.Separator), "")
		if block == 0 {
			rest = append(rest, line)
			continue
		}
		failed[block] = append(failed[block], line)
		placed++
	}
	return placed, strings.Join(rest, "\n")
}

// TestReadmeGoBlocksGofmt checks that every ```go block of README.md is as
// gofmt formats it.
func TestReadmeGoBlocksGofmt(t *testing.T) {
	for _, b := range goBlocks(t, "README.md") {
		s, err := splitBlock(b)
		if err != nil {
			continue // TestReadmeGoBlocksCompile reports it
		}
		want, err := s.gofmt(b)
		if err != nil {
			continue // a syntax error: TestReadmeGoBlocksCompile reports it
		}
		if want != b.code {
			t.Errorf("README.md:%d: the ```go block is not gofmt-formatted; gofmt makes it:\n%s", b.fence, want)
		}
	}
}

// gofmt returns the code of block b as gofmt formats it: statements as in
// a function body, one level of indentation less.
func (s readmeSource) gofmt(b goBlock) (string, error) {
	if s.program {
		out, err := format.Source([]byte(b.code))
		return string(out), err
	}
	var parts []string
	if s.decls != "" {
		const clause = "package p\n\n"
		out, err := format.Source([]byte(clause + s.decls))
		if err != nil {
			return "", err
		}
		parts = append(parts, strings.TrimPrefix(string(out), clause))
	}
	if s.stmts != "" {
		const open, end = "package p\n\nfunc _() {\n", "}\n"
		out, err := format.Source([]byte(open + s.stmts + end))
		if err != nil {
			return "", err
		}
		var body strings.Builder
		for line := range strings.Lines(strings.TrimSuffix(strings.TrimPrefix(string(out), open), end)) {
			body.WriteString(strings.TrimPrefix(line, "\t"))
		}
		parts = append(parts, body.String())
	}
	return strings.Join(parts, "\n"), nil // a blank line between declarations and statements
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
