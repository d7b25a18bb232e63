package serving

// What the reloader builds. The first child is the running executable
// itself (os.Executable), so startup costs no build. The rebuilt program
// is the main package recorded in the executable's build information
// (debug.ReadBuildInfo), built in the working directory the program was
// started in (so a go.work or the go.mod there, with its replace
// directives, is honoured) with the build flags recorded there too (-race,
// -tags, -trimpath, -gcflags, -ldflags, CGO_ENABLED). A program built from
// files ("go run main.go": the package is "command-line-arguments") is
// rebuilt from the directory of the file holding func main (found from the
// call stack), or else the working directory: the whole directory, not
// just the files named to go run.
//
// When the program cannot be rebuilt (no build information, a test binary,
// no main module found), the reloader says so and restarts the same
// executable when a watched file changes.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// buildTarget is how to rebuild the running program: go build -o EXE
// flags... pkg, run in dir with env added.
type buildTarget struct {
	dir    string   // where go build runs
	pkg    string   // the main package: an import path or a directory
	flags  []string // the recorded build flags
	env    []string // the recorded environment (CGO_ENABLED)
	modDir string   // the main module's directory, watched
	name   string   // the executable's base name
}

// findBuildTarget works out how to rebuild the program described by bi,
// started in cwd, whose func main is in mainFile ("" if unknown).
func findBuildTarget(bi *debug.BuildInfo, cwd, mainFile string) (*buildTarget, error) {
	if bi == nil || bi.Path == "" {
		return nil, errors.New("no build information")
	}
	if strings.HasSuffix(bi.Path, ".test") {
		return nil, errors.New("a test binary")
	}
	mainDir := ""
	if mainFile != "" && filepath.IsAbs(mainFile) {
		if _, err := os.Stat(mainFile); err == nil {
			mainDir = filepath.Dir(mainFile)
		}
	}
	t := &buildTarget{pkg: bi.Path, name: filepath.Base(bi.Path)}
	if bi.Path == "command-line-arguments" {
		dir := mainDir
		if dir == "" {
			dir = cwd
		}
		t.pkg, t.name = dir, filepath.Base(dir)
	}
	t.flags, t.env = buildFlags(bi)

	// The main module: its go.mod is above func main's file, or above the
	// working directory, or go list knows where it is.
	for _, start := range []string{mainDir, cwd} {
		if start == "" {
			continue
		}
		if dir, path := findGoMod(start); dir != "" && (bi.Main.Path == "" || path == bi.Main.Path) {
			t.modDir = dir
			break
		}
	}
	if t.modDir == "" && bi.Main.Path != "" && bi.Main.Path != "command-line-arguments" {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", bi.Main.Path)
		cmd.Dir = cwd
		if out, err := cmd.Output(); err == nil {
			t.modDir = strings.TrimSpace(string(out))
		}
	}
	if t.modDir == "" {
		return nil, fmt.Errorf("main module %q not found from %s", bi.Main.Path, cwd)
	}

	// Build where the program was started, so that its go.work or go.mod
	// (replace directives) applies, unless that is outside the module and
	// any workspace.
	t.dir = t.modDir
	if within(t.modDir, cwd) || findUp(cwd, "go.work") != "" {
		t.dir = cwd
	}
	return t, nil
}

// buildFlags returns the flags and environment of the original build that
// matter to the rebuild.
func buildFlags(bi *debug.BuildInfo) (flags, env []string) {
	for _, s := range bi.Settings {
		switch s.Key {
		case "-race", "-msan", "-asan", "-trimpath":
			if s.Value == "true" {
				flags = append(flags, s.Key)
			}
		case "-tags", "-gcflags", "-ldflags":
			if s.Value != "" {
				flags = append(flags, s.Key+"="+s.Value)
			}
		case "CGO_ENABLED":
			env = append(env, s.Key+"="+s.Value)
		}
	}
	return flags, env
}

// findGoMod returns the directory of the go.mod governing dir, and its
// module path.
func findGoMod(dir string) (modDir, modPath string) {
	gomod := findUp(dir, "go.mod")
	if gomod == "" {
		return "", ""
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", ""
	}
	return filepath.Dir(gomod), modulePath(data)
}

// findUp returns the path of name in dir or the nearest parent holding it.
func findUp(dir, name string) string {
	for {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// modulePath returns the path in a go.mod's module directive.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if s, err := strconv.Unquote(rest); err == nil {
			return s
		}
		return rest
	}
	return ""
}

// within reports whether path is dir or under it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}
