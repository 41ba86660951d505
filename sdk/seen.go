package sdk

import "sync"

// SeenStore remembers the keys of items that were handled and
// acknowledged, so that an item the server sends again (because its ack
// was lost) is acknowledged without a second event. See the package
// documentation for the keys. Entries are needed only until the server
// has received the ack, so implementations may forget old keys.
type SeenStore interface {
	Seen(key string) (bool, error)
	// MarkSeen records key; it returns once the record is as durable as
	// the store can make it.
	MarkSeen(key string) error
}

// MemorySeen is a SeenStore in memory that keeps the newest Cap keys.
type MemorySeen struct {
	mu   sync.Mutex
	cap  int
	keys map[string]struct{}
	ring []string
	next int
}

var _ SeenStore = (*MemorySeen)(nil)

// NewMemorySeen returns a store keeping up to capacity keys (10000 if
// capacity ≤ 0).
func NewMemorySeen(capacity int) *MemorySeen {
	if capacity <= 0 {
		capacity = 10000
	}
	return &MemorySeen{cap: capacity, keys: make(map[string]struct{}), ring: make([]string, 0, min(capacity, 1024))}
}

// Seen reports whether key was marked.
func (s *MemorySeen) Seen(key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[key]
	return ok, nil
}

// MarkSeen records key, forgetting the oldest key when full.
func (s *MemorySeen) MarkSeen(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[key]; ok {
		return nil
	}
	if len(s.ring) < s.cap {
		s.ring = append(s.ring, key)
	} else {
		delete(s.keys, s.ring[s.next])
		s.ring[s.next] = key
		s.next = (s.next + 1) % s.cap
	}
	s.keys[key] = struct{}{}
	return nil
}
