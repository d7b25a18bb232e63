package main

import (
	"maps"
	"slices"
	"sync"
)

// A note is one note of the store.
type note struct {
	ID   int
	Text string
}

// notes is the in-memory store the api and admin blueprints share; it is
// safe for concurrent requests.
type notes struct {
	mu   sync.Mutex
	last int // the last ID given
	byID map[int]note
}

func newNotes() *notes {
	return &notes{byID: map[int]note{}}
}

// add stores a note with text under a new ID and returns it.
func (s *notes) add(text string) note {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last++
	n := note{ID: s.last, Text: text}
	s.byID[n.ID] = n
	return n
}

// get returns the note with id, and whether there is one.
func (s *notes) get(id int) (note, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.byID[id]
	return n, ok
}

// all returns the notes, oldest first.
func (s *notes) all() []note {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]note, 0, len(s.byID))
	for _, id := range slices.Sorted(maps.Keys(s.byID)) {
		list = append(list, s.byID[id])
	}
	return list
}

// remove deletes the note with id, and reports whether there was one.
func (s *notes) remove(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.byID[id]
	delete(s.byID, id)
	return ok
}
