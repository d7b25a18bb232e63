package vial

import (
	"html/template"
	"slices"
)

// A FlashMessage is a message flashed by [Flash] for the next request,
// with its category ("message", "error", "info", "warning", or any other).
type FlashMessage struct {
	Category string `json:"category"`
	Message  string `json:"message"`
}

// Flashed is the payload of [MessageFlashed]: the request that flashed
// the message, and the message.
type Flashed struct {
	Request *Request
	FlashMessage
}

// flashesKey is the session key Flask keeps flashed messages under, as a
// list of (category, message) tuples.
const flashesKey = "_flashes"

// Flash records message for the next request to show, Flask's flash: it
// is added to the session under "_flashes" as Flask adds it, so that a
// Flask app with the same SECRET_KEY shows what a vial app flashed, and
// the other way round. The category is "message" unless one is given.
// It sends [MessageFlashed]. Like any write to the session, it panics with
// [ErrNoSecretKey] when the App has no SECRET_KEY.
func Flash(r *Request, message string, category ...string) {
	cat := "message"
	if len(category) > 0 {
		cat = category[0]
	}
	s := r.Session()
	old, _ := s.Get(flashesKey)
	list, _ := old.([]any)
	// A new slice: the old one may be shared with a copy of the session.
	flashes := append(slices.Clip(list), Tuple{cat, message})
	s.Set(flashesKey, flashes)
	if MessageFlashed.HasReceiversFor(r.app) {
		MessageFlashed.Send(r.app, &Flashed{Request: r, FlashMessage: FlashMessage{cat, message}})
	}
}

// FlashedMessages returns the messages flashed for this request, with
// their categories, Flask's get_flashed_messages(with_categories=True):
// the first call takes them out of the session (so they are shown once),
// and later calls in the same request return them again. Given
// categories, only the messages of those are returned (Flask's
// category_filter); the others are consumed all the same.
func (r *Request) FlashedMessages(categories ...string) []FlashMessage {
	s := r.Session()
	if !s.flashesRead {
		s.flashesRead = true
		if v, ok := s.Get(flashesKey); ok {
			s.flashes = readFlashes(v)
			s.Delete(flashesKey)
		}
	}
	if len(categories) == 0 {
		return slices.Clone(s.flashes)
	}
	var out []FlashMessage
	for _, f := range s.flashes {
		if slices.Contains(categories, f.Category) {
			out = append(out, f)
		}
	}
	return out
}

// readFlashes reads the "_flashes" list: (category, message) tuples, or
// lists as an older Flask may have stored them, a Markup message as its
// HTML; anything else is skipped.
func readFlashes(v any) []FlashMessage {
	list, _ := v.([]any)
	out := make([]FlashMessage, 0, len(list))
	for _, item := range list {
		var pair []any
		switch item := item.(type) {
		case Tuple:
			pair = item
		case []any:
			pair = item
		}
		if len(pair) != 2 {
			continue
		}
		cat, ok1 := pair[0].(string)
		msg, ok2 := pair[1].(string)
		if html, ok := pair[1].(template.HTML); ok { // flash(Markup(...))
			msg, ok2 = string(html), true
		}
		if ok1 && ok2 {
			out = append(out, FlashMessage{cat, msg})
		}
	}
	return out
}
