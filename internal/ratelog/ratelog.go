// Package ratelog keeps a hot failure from flooding a log. The first time
// an entry comes from a site (a panic's file:line, see [Site]) it is logged
// in full, stack and all; the repeats from that site in the [Window] that
// follows are logged as one short line each, and counted; when the window
// ends, its count is reported once ("repeated 4,211 times in the last
// minute"). The next occurrence after that is logged in full again, so a
// site that keeps failing shows its stack once a window.
//
// It lives in the module's internal tree so that the dev server (serving),
// the framework and the gateway can share it: it needs only the standard
// library.
package ratelog

import (
	"container/list"
	"strconv"
	"sync"
	"time"
)

const (
	// Window is how long the repeats of a site are counted after it was
	// logged in full: a panicking route shows its stack once a minute.
	Window = time.Minute
	// MaxSites caps the sites a Limiter remembers, so that memory stays
	// bounded however many sites fail; past it the oldest window ends
	// early (its count reported).
	MaxSites = 1000
)

// Action is what the caller logs for one occurrence.
type Action int

const (
	// Full is the first occurrence in its window: log it in full.
	Full Action = iota
	// Brief is a repeat in the window: log one short line, without the
	// stack (see [Limiter.BriefNote]).
	Brief
)

// A Summary is a window that ended with repeats: what to log about them.
type Summary struct {
	Site    string        // as given to Note
	Repeats int           // the occurrences after the first, in the window
	Window  time.Duration // the window's length
}

// String describes the repeats: "repeated 4,211 times in the last minute".
func (s Summary) String() string {
	times := " times"
	if s.Repeats == 1 {
		times = " time"
	}
	return "repeated " + groupThousands(s.Repeats) + times + " in the last " + windowName(s.Window)
}

func windowName(d time.Duration) string {
	if d == time.Minute {
		return "minute"
	}
	return d.String()
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Options configures a [Limiter]; the zero value is Window, MaxSites and
// the real clock.
type Options struct {
	Window   time.Duration // Window if zero
	MaxSites int           // MaxSites if zero

	// Now and AfterFunc are the clock, time.Now and time.AfterFunc if
	// nil: a test injects its own to end windows without waiting.
	Now       func() time.Time
	AfterFunc func(d time.Duration, f func())
}

// A Limiter decides, occurrence by occurrence, what to log. It is safe for
// concurrent use.
type Limiter struct {
	report func(Summary)
	opts   Options

	mu    sync.Mutex
	sites map[string]*list.Element // of *window
	order list.List                // the windows, oldest first
}

// window is one site's current window.
type window struct {
	site    string
	start   time.Time
	repeats int
}

// New returns a Limiter that hands each window that ended with repeats to
// report: from a timer when the window's time is up (on a goroutine of its
// own), or from a call of Note that ends it first (a late timer, a full
// table). report is called without the Limiter's lock held, once per such
// window; it must be safe for concurrent use.
func New(report func(Summary), opts Options) *Limiter {
	if opts.Window <= 0 {
		opts.Window = Window
	}
	if opts.MaxSites <= 0 {
		opts.MaxSites = MaxSites
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AfterFunc == nil {
		opts.AfterFunc = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	return &Limiter{report: report, opts: opts, sites: make(map[string]*list.Element)}
}

// BriefNote is what the short line of a Brief occurrence says of the
// entry's stack: "its stack is logged once a minute".
func (l *Limiter) BriefNote() string {
	if l.opts.Window == time.Minute {
		return "its stack is logged once a minute"
	}
	return "its stack is logged once every " + l.opts.Window.String()
}

// Note records an occurrence at site and returns what to log for it. The
// summaries of windows it ends (the site's own, elapsed, whose timer has
// not fired yet; the oldest, when the table is full) are reported before
// it returns, so that a count comes out before the next full entry.
func (l *Limiter) Note(site string) Action {
	now := l.opts.Now()
	l.mu.Lock()
	ended := l.expire(now)
	act := Full
	if e, ok := l.sites[site]; ok {
		w := e.Value.(*window)
		w.repeats++
		act = Brief
		if w.repeats == 1 {
			l.opts.AfterFunc(w.start.Add(l.opts.Window).Sub(now), func() { l.end(w) })
		}
	} else {
		if l.order.Len() >= l.opts.MaxSites {
			ended = l.remove(l.order.Front(), ended)
		}
		l.sites[site] = l.order.PushBack(&window{site: site, start: now})
	}
	l.mu.Unlock()
	l.send(ended)
	return act
}

// expire removes the windows that ended by now, adding the summaries of
// those with repeats to the ones returned. The list is in start order, so
// they are at its front.
func (l *Limiter) expire(now time.Time) []Summary {
	var ended []Summary
	for e := l.order.Front(); e != nil; e = l.order.Front() {
		if now.Sub(e.Value.(*window).start) < l.opts.Window {
			break
		}
		ended = l.remove(e, ended)
	}
	return ended
}

// remove drops a window from the table, adding its summary to ended when it
// had repeats.
func (l *Limiter) remove(e *list.Element, ended []Summary) []Summary {
	w := l.order.Remove(e).(*window)
	delete(l.sites, w.site)
	if w.repeats > 0 {
		ended = append(ended, Summary{Site: w.site, Repeats: w.repeats, Window: l.opts.Window})
	}
	return ended
}

// end is the timer of w: it ends w, unless a call of Note already did.
func (l *Limiter) end(w *window) {
	l.mu.Lock()
	e, ok := l.sites[w.site]
	var ended []Summary
	if ok && e.Value.(*window) == w {
		ended = l.remove(e, nil)
	}
	l.mu.Unlock()
	l.send(ended)
}

func (l *Limiter) send(ended []Summary) {
	for _, s := range ended {
		l.report(s)
	}
}
