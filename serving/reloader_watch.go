package serving

// The watched files are, under the main module's directory: the .go files
// (not _test.go), go.mod, go.sum, go.work and the templates (*.html,
// *.tmpl, *.tpl), skipping vendor, testdata, node_modules, directories
// whose name starts with "." or "_" and directories holding another
// go.mod; plus Options.ExtraFiles (a directory there stands for every file
// under it); minus Options.ExcludePatterns. The files are polled every
// Options.ReloaderInterval, comparing modification times and sizes and
// noticing files that appear or disappear, as werkzeug's StatReloader does.

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// fileStat is what the poller compares: the modification time and size,
// and the file itself. A file's mtime comes from the kernel's coarse clock,
// which can give a write made milliseconds after another the same time; an
// editor that saves by writing a new file and renaming it over the old one
// is still seen, as another file (os.SameFile).
type fileStat struct {
	mtime time.Time
	size  int64
	info  os.FileInfo
}

func statOf(fi os.FileInfo) fileStat { return fileStat{fi.ModTime(), fi.Size(), fi} }

// same reports whether s and o describe the file unchanged.
func (s fileStat) same(o fileStat) bool {
	return s.mtime.Equal(o.mtime) && s.size == o.size && os.SameFile(s.info, o.info)
}

// watcher polls the files of a module directory and extra files, as
// werkzeug's StatReloader does.
type watcher struct {
	root    string   // the module directory, or ""
	extra   []string // absolute files or directories
	exclude []string // filepath.Match patterns
	files   map[string]fileStat
}

func newWatcher(root string, extra, exclude []string) *watcher {
	return &watcher{root: root, extra: extra, exclude: exclude}
}

// check takes a new snapshot and returns a path that was modified,
// created or removed since the previous one (the first in order, modified
// and created before removed), if any. The first check only takes the
// snapshot.
func (w *watcher) check() (string, bool) {
	old, cur := w.files, w.snapshot()
	w.files = cur
	if old == nil {
		return "", false
	}
	var changed []string
	for p, st := range cur {
		if o, ok := old[p]; !ok || !o.same(st) {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		for p := range old {
			if _, ok := cur[p]; !ok {
				changed = append(changed, p)
			}
		}
	}
	if len(changed) == 0 {
		return "", false
	}
	return slices.Min(changed), true
}

func (w *watcher) snapshot() map[string]fileStat {
	files := make(map[string]fileStat)
	if w.root != "" {
		w.walk(w.root, files, true)
	}
	for _, p := range w.extra {
		fi, err := os.Stat(p)
		switch {
		case err != nil || w.excluded(p):
		case fi.IsDir():
			w.walk(p, files, false)
		default:
			files[p] = statOf(fi)
		}
	}
	return files
}

// walk adds the watched files under root: with module, a module's sources
// (see the top of this file), else all files.
func (w *watcher) walk(root string, files map[string]fileStat, module bool) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && (w.excluded(p) || module && skipDir(p, d.Name())) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || module && !watchedFile(d.Name()) || w.excluded(p) {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			files[p] = statOf(fi)
		}
		return nil
	})
}

// skipDir reports whether a module directory is not part of the program's
// sources.
func skipDir(path, name string) bool {
	switch {
	case name == "vendor", name == "testdata", name == "node_modules",
		strings.HasPrefix(name, "."), strings.HasPrefix(name, "_"):
		return true
	}
	_, err := os.Stat(filepath.Join(path, "go.mod"))
	return err == nil // another module
}

// watchedFile reports whether a file in the module is watched.
func watchedFile(name string) bool {
	switch name {
	case "go.mod", "go.sum", "go.work", "go.work.sum":
		return true
	}
	switch filepath.Ext(name) {
	case ".go":
		return !strings.HasSuffix(name, "_test.go")
	case ".html", ".tmpl", ".tpl":
		return true
	}
	return false
}

// excluded reports whether an exclude pattern matches the path, the path
// relative to the module directory or the base name.
func (w *watcher) excluded(path string) bool {
	if len(w.exclude) == 0 {
		return false
	}
	names := []string{path, filepath.Base(path)}
	if w.root != "" {
		if rel, err := filepath.Rel(w.root, path); err == nil && !strings.HasPrefix(rel, "..") {
			names = append(names, rel)
		}
	}
	for _, pat := range w.exclude {
		for _, n := range names {
			if ok, _ := filepath.Match(pat, n); ok {
				return true
			}
		}
	}
	return false
}
