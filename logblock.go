package vial

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"
)

// This file makes a logged stack readable in text logs. A slog.TextHandler
// quotes a value with newlines into one line (a panic's stack becomes some
// 2,400 characters of \n and \t); the handlers here write the record's line
// as slog would, then each multi-line value of the record as an indented
// block under it, in one write so that concurrent records do not interleave:
//
//	2026/12/04 10:00:00 ERROR Exception on /boom [GET] method=GET path=/boom error="panic: boom"
//	  stack:
//	    goroutine 7 [running]:
//	    main.boom(...)
//	    	/src/main.go:12 +0x25
//
// A JSON handler needs none of this: there the stack stays one attribute.

// NewLogHandler returns a text handler for an App's Logger: slog's
// TextHandler on w with opts, except that an attribute of the record whose
// value is a string of several lines (the stack of a logged panic) is
// written after the record's line as an indented block, not quoted into it.
//
//	app.Logger = slog.New(vial.NewLogHandler(os.Stderr, nil))
//
// An App whose Logger is left as New made it, logging to slog's default
// handler as it is when nothing has replaced it, writes stacks this way
// without it.
func NewLogHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	buf := new(bytes.Buffer)
	return &blockHandler{mu: new(sync.Mutex), buf: buf, text: slog.NewTextHandler(buf, opts), out: w.Write}
}

// blockHandler formats the line with text, into buf, and hands line and
// blocks to out in one call. Handlers made by WithAttrs and WithGroup share
// mu and buf.
type blockHandler struct {
	mu   *sync.Mutex
	buf  *bytes.Buffer
	text slog.Handler
	out  func([]byte) (int, error)
	head func(*bytes.Buffer, slog.Record) // writes what precedes text's output, if set
}

func (h *blockHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.text.Enabled(ctx, level)
}

func (h *blockHandler) Handle(ctx context.Context, rec slog.Record) error {
	line, blocks := splitBlocks(rec)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	if h.head != nil {
		h.head(h.buf, rec)
	}
	if err := h.text.Handle(ctx, line); err != nil {
		return err
	}
	if h.head != nil && bytes.HasSuffix(h.buf.Bytes(), []byte(" \n")) {
		// No attributes followed the head: drop its separating space.
		h.buf.Truncate(h.buf.Len() - 2)
		h.buf.WriteByte('\n')
	}
	appendBlocks(h.buf, blocks)
	_, err := h.out(h.buf.Bytes())
	return err
}

func (h *blockHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.text = h.text.WithAttrs(attrs)
	return &c
}

func (h *blockHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.text = h.text.WithGroup(name)
	return &c
}

// splitBlocks returns rec without its multi-line string attributes, and
// those attributes.
func splitBlocks(rec slog.Record) (slog.Record, []slog.Attr) {
	if !hasBlocks(rec) {
		return rec, nil
	}
	var blocks []slog.Attr
	rec.Attrs(func(a slog.Attr) bool {
		if isBlock(a) {
			blocks = append(blocks, a)
		}
		return true
	})
	line := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		if !isBlock(a) {
			line.AddAttrs(a)
		}
		return true
	})
	return line, blocks
}

func hasBlocks(rec slog.Record) bool {
	found := false
	rec.Attrs(func(a slog.Attr) bool {
		found = isBlock(a)
		return !found
	})
	return found
}

func isBlock(a slog.Attr) bool {
	return a.Value.Kind() == slog.KindString && strings.Contains(strings.TrimRight(a.Value.String(), "\n"), "\n")
}

// appendBlocks appends each block to buf, which holds one line ending in a
// newline: its key, then its lines indented.
func appendBlocks(buf *bytes.Buffer, blocks []slog.Attr) {
	for _, b := range blocks {
		buf.WriteString("  " + b.Key + ":\n")
		for l := range strings.Lines(strings.TrimRight(b.Value.String(), "\n")) {
			buf.WriteString("    ")
			buf.WriteString(l)
		}
		buf.WriteByte('\n')
	}
}

// builtinDefault is slog's default handler as the program starts, which
// writes through the log package: the handler an App logs to while nothing
// has called slog.SetDefault.
var builtinDefault = slog.Default().Handler()

// builtinBlocks writes records as builtinDefault does ("LEVEL message
// key=value …", handed to log.Default(), which adds the date and time),
// with their multi-line attributes as blocks under the line. Only records
// with blocks come here (handleBuiltin).
var builtinBlocks = func() *blockHandler {
	buf := new(bytes.Buffer)
	text := slog.NewTextHandler(buf, &slog.HandlerOptions{
		Level: slog.LevelDebug, // builtinDefault's Enabled has decided
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		},
	})
	out := func(p []byte) (int, error) { return len(p), log.Default().Output(4, string(p)) }
	return &blockHandler{mu: new(sync.Mutex), buf: buf, text: text, out: out, head: levelAndMessage}
}()

// levelAndMessage starts the line as slog's default handler does.
func levelAndMessage(buf *bytes.Buffer, rec slog.Record) {
	buf.WriteString(rec.Level.String())
	buf.WriteByte(' ')
	buf.WriteString(rec.Message)
	buf.WriteByte(' ')
}

// handleBuiltin logs rec as builtinDefault would, with its blocks under it.
func handleBuiltin(ctx context.Context, rec slog.Record) error {
	if !hasBlocks(rec) {
		return builtinDefault.Handle(ctx, rec)
	}
	return builtinBlocks.Handle(ctx, rec)
}
