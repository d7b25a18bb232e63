// Package testbin builds a package's test binary once, for the commands
// that run its benchmarks in many separate processes (internal/benchrounds,
// bench/cmd/table).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// A Binary is a built test binary and the directory of its package.
type Binary struct {
	Path string // the binary
	Dir  string // the package's directory, where go test would run it
	tmp  string
}

// Build builds pkg's test binary into a temporary directory; Remove
// deletes it.
func Build(pkg string) (*Binary, error) {
	list, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return nil, fmt.Errorf("finding %s: %w", pkg, err)
	}
	tmp, err := os.MkdirTemp("", "testbin")
	if err != nil {
		return nil, err
	}
	b := &Binary{Path: filepath.Join(tmp, "bench.test"), Dir: strings.TrimSpace(string(list)), tmp: tmp}
	build := exec.Command("go", "test", "-c", "-o", b.Path, pkg)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		b.Remove()
		return nil, fmt.Errorf("building the test binary of %s: %w", pkg, err)
	}
	return b, nil
}

// Command is the binary run with args in its package's directory, so
// that tests reading testdata find it.
func (b *Binary) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(b.Path, args...)
	cmd.Dir = b.Dir
	return cmd
}

// Remove deletes the binary.
func (b *Binary) Remove() { os.RemoveAll(b.tmp) }
