package sdk

import (
	"sync"
	"time"
)

// SentRecord is what a device keeps of a message it sent, so that it can
// encrypt it again for a device that could not decrypt it (a retry).
// It holds the plaintext: it stays on the device, like the chat history.
type SentRecord struct {
	ClientID  string    `json:"client_id"`
	To        string    `json:"to,omitempty"`    // the conversation: an account
	Group     string    `json:"group,omitempty"` // or a group
	Plaintext []byte    `json:"plaintext"`
	At        time.Time `json:"at"`
}

// SentStore keeps the newest sent messages by client id. Records older
// than the server's retention are useless (the server refuses resends of
// them), so implementations may forget old ones.
type SentStore interface {
	PutSent(r *SentRecord) error
	// Sent returns the record of clientID, or nil and no error.
	Sent(clientID string) (*SentRecord, error)
}

// MemorySent is a SentStore in memory keeping the newest records.
type MemorySent struct {
	mu   sync.Mutex
	cap  int
	m    map[string]*SentRecord
	ring []string
	next int
}

var _ SentStore = (*MemorySent)(nil)

// NewMemorySent keeps up to capacity records (1000 if capacity ≤ 0).
func NewMemorySent(capacity int) *MemorySent {
	if capacity <= 0 {
		capacity = 1000
	}
	return &MemorySent{cap: capacity, m: map[string]*SentRecord{}}
}

// PutSent stores r, forgetting the oldest record when full.
func (s *MemorySent) PutSent(r *SentRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[r.ClientID]; !ok {
		if len(s.ring) < s.cap {
			s.ring = append(s.ring, r.ClientID)
		} else {
			delete(s.m, s.ring[s.next])
			s.ring[s.next] = r.ClientID
			s.next = (s.next + 1) % s.cap
		}
	}
	s.m[r.ClientID] = r
	return nil
}

// Sent returns the record of clientID.
func (s *MemorySent) Sent(clientID string) (*SentRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[clientID], nil
}
