// Package interop tests vial together with modules of the net/http world
// that vial's own go.mod must not carry: chi's middleware around an App,
// and an App inside a chi router. It is a module of its own, joined to
// vial's by go.work, so that chi is a dependency of these tests only.
package interop
