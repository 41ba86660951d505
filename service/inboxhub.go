package service

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"

	"github.com/parley-chat/parley"
)

// InboxEvent is what a connected agent's browser receives: a new message
// (customer, reply or note), a status change, or a conversation change
// (state, assignee, labels, unread count).
type InboxEvent struct {
	Type         string            `json:"type"` // "message", "status", "conversation"
	Conversation *ConversationView `json:"conversation,omitempty"`
	Message      *MessageView      `json:"message,omitempty"`
	Agent        string            `json:"agent,omitempty"` // who did it; "" for customers and the API
	At           int64             `json:"at"`              // unix milliseconds, when the node published it
}

// inboxSubjectPrefix names the bus subject of a business's inbox events.
const inboxSubjectPrefix = "parley.inbox."

// InboxHub fans inbox events out to the agents connected to this node,
// across nodes through the bus: a node subscribes to a business's subject
// while at least one of its agents is connected here. Events travel
// between nodes sealed with the at-rest key (every node has it, as it
// runs any hosted device), so that message text never crosses the NATS
// links in clear. Delivery is at most once: a stream whose agent does not
// keep up is closed (Dropped), and the browser reconnects and reloads
// from the API.
type InboxHub struct {
	ps     parley.PubSub
	sealer parley.Sealer
	log    *slog.Logger

	mu   sync.Mutex
	subs map[string]map[*InboxStream]struct{} // by business
}

// InboxStream is one agent's connection.
type InboxStream struct {
	Business string
	Agent    string
	ch       chan []byte
	hub      *InboxHub
	once     sync.Once
	dropped  bool
}

// streamBuffer bounds the events waiting for one agent's connection.
const streamBuffer = 64

// NewInboxHub returns a hub publishing through ps. Set its Dispatch as
// the bus handler of subjects that start with "parley.inbox.".
func NewInboxHub(ps parley.PubSub, sealer parley.Sealer, log *slog.Logger) *InboxHub {
	if log == nil {
		log = slog.Default()
	}
	return &InboxHub{ps: ps, sealer: sealer, log: log, subs: map[string]map[*InboxStream]struct{}{}}
}

// IsInboxSubject reports whether a bus subject carries inbox events.
func IsInboxSubject(subject string) bool { return strings.HasPrefix(subject, inboxSubjectPrefix) }

func inboxAAD(business string) []byte { return []byte("parley inbox event " + business) }

// Publish sends ev to every agent of the business on every node.
func (h *InboxHub) Publish(business string, ev *InboxEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		h.log.Error("inbox event", "err", err)
		return
	}
	sealed, err := h.sealer.Seal(b, inboxAAD(business))
	if err != nil {
		h.log.Error("inbox event: seal", "err", err)
		return
	}
	if err := h.ps.Publish(inboxSubjectPrefix+business, sealed); err != nil {
		h.log.Warn("inbox event: publish", "business", business, "err", err)
	}
}

// Dispatch delivers an event from the bus to this node's streams.
func (h *InboxHub) Dispatch(subject string, data []byte) {
	business := strings.TrimPrefix(subject, inboxSubjectPrefix)
	b, err := h.sealer.Open(data, inboxAAD(business))
	if err != nil {
		h.log.Warn("inbox event: cannot open", "business", business, "err", err)
		return
	}
	h.mu.Lock()
	var slow []*InboxStream
	for s := range h.subs[business] {
		select {
		case s.ch <- b:
		default:
			// Slow consumer: never block the bus; the browser reconnects
			// and reloads.
			s.dropped = true
			slow = append(slow, s)
		}
	}
	h.mu.Unlock()
	for _, s := range slow {
		s.Close()
	}
}

// Subscribe connects an agent of business. Events published after it
// returns reach the stream.
func (h *InboxHub) Subscribe(business, agent string) (*InboxStream, error) {
	// The bus counts interest per subject: one NATS subscription serves
	// every stream of the business on this node.
	if err := h.ps.Subscribe(inboxSubjectPrefix + business); err != nil {
		return nil, err
	}
	s := &InboxStream{Business: business, Agent: agent, ch: make(chan []byte, streamBuffer), hub: h}
	h.mu.Lock()
	if h.subs[business] == nil {
		h.subs[business] = map[*InboxStream]struct{}{}
	}
	h.subs[business][s] = struct{}{}
	h.mu.Unlock()
	return s, nil
}

// Events returns the stream's events (JSON); it is closed when the
// stream is closed or dropped.
func (s *InboxStream) Events() <-chan []byte { return s.ch }

// Dropped reports whether the stream was closed because it fell behind.
func (s *InboxStream) Dropped() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.dropped
}

// Close disconnects the stream; calls after the first do nothing.
func (s *InboxStream) Close() {
	s.once.Do(func() {
		h := s.hub
		h.mu.Lock()
		delete(h.subs[s.Business], s)
		if len(h.subs[s.Business]) == 0 {
			delete(h.subs, s.Business)
		}
		close(s.ch)
		h.mu.Unlock()
		h.ps.Unsubscribe(inboxSubjectPrefix + s.Business)
	})
}
