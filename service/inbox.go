package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// InboxStore is what the inbox needs from storage.
type InboxStore interface {
	parley.InboxStore
	parley.RateStore
	BusinessNumber(ctx context.Context, id string) (*parley.BusinessNumber, error)
	Business(ctx context.Context, id string) (*parley.Business, error)
}

// CloudSender accepts Cloud API messages: *Business. The inbox sends
// through it, so that its replies take the same path as API sends
// (validation, policy, the outbound queue, status webhooks).
type CloudSender interface {
	Send(ctx context.Context, c *Caller, numberID string, m *parley.CloudMessage) (*SendResult, error)
}

// OpenHours tells whether a business number is open at a time (its
// opening hours). The inbox sends the away message only while it is
// closed; without OpenHours the business counts as always open.
type OpenHours interface {
	IsOpen(ctx context.Context, number *parley.BusinessNumber, at time.Time) (bool, error)
}

// OpenHoursFunc adapts a function to OpenHours.
type OpenHoursFunc func(ctx context.Context, number *parley.BusinessNumber, at time.Time) (bool, error)

// IsOpen implements OpenHours.
func (f OpenHoursFunc) IsOpen(ctx context.Context, number *parley.BusinessNumber, at time.Time) (bool, error) {
	return f(ctx, number, at)
}

// InboundChat is a customer's message as the hosted business device
// decrypted it, shaped for the Cloud API.
type InboundChat struct {
	WAMID     string
	From      string
	Timestamp time.Time
	Type      string
	Object    json.RawMessage
	ContextID string
	// ReferralID is the referral's source_id when the message came from a
	// click-to-chat link, QR code or button (a website chat's handoff
	// reference starts with WebHandoffRefPrefix).
	ReferralID string
}

// AwayInterval is the least time between two away messages in one
// conversation.
const AwayInterval = time.Hour

// Inbox is the business inbox: it records business chats (customers'
// messages as the hosted business device decrypted them, messages sent
// through the Cloud API and their statuses) into conversations, sealed
// with the at-rest key, and lets a business's agents work them. Every
// method that takes an *AgentAuth is scoped to the agent's business: a
// conversation of another business is reported exactly like an unknown
// one.
type Inbox struct {
	store  InboxStore
	sealer parley.Sealer
	send   CloudSender
	hub    *InboxHub
	clock  parley.Clock
	log    *slog.Logger
	// Hours decides whether the away message is due; nil: always open.
	Hours OpenHours
	// SearchDepth is how many of a business's latest messages a text
	// search decrypts (2000).
	SearchDepth int
	// Web keeps website chat visitors (webchat.go); nil: no website chat.
	Web WebChatStore
	// Consent records the opt-in of a visitor who moved a website chat
	// to the messenger; nil: not recorded.
	Consent *Consent
	// WebRetention is how long a website visitor and its conversation
	// are kept after their last activity (Sweep; 0: kept).
	WebRetention time.Duration
}

// NewInbox returns the inbox. hub may be nil (no live updates).
func NewInbox(store InboxStore, sealer parley.Sealer, send CloudSender, hub *InboxHub, clock parley.Clock, log *slog.Logger) *Inbox {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Inbox{store: store, sealer: sealer, send: send, hub: hub, clock: clock, log: log, SearchDepth: 2000}
}

// ConversationView is a conversation as agents see it.
type ConversationView struct {
	ID              string   `json:"id"`
	Number          string   `json:"phone_number_id"`
	Customer        string   `json:"customer"`
	State           string   `json:"state"`
	Assignee        string   `json:"assignee,omitempty"`
	Labels          []string `json:"labels"`
	Unread          int      `json:"unread"`
	Preview         string   `json:"preview"`
	LastAt          int64    `json:"last_at"` // unix milliseconds
	LastInboundAt   int64    `json:"last_inbound_at,omitempty"`
	WindowOpen      bool     `json:"window_open"`                 // free-form replies are allowed
	WindowExpiresAt int64    `json:"window_expires_at,omitempty"` // unix milliseconds
	Version         int64    `json:"version"`
	// Website chat: "web" for a website visitor (customer "web:<visitor
	// id>", no 24-hour window), "messenger" otherwise; the messenger
	// conversation a web conversation moved to, and the web conversation
	// a messenger conversation continues.
	Channel   string `json:"channel"`
	MovedTo   string `json:"moved_to,omitempty"`
	MovedFrom string `json:"moved_from,omitempty"`
}

// MessageView is a timeline entry as agents see it.
type MessageView struct {
	ID           string          `json:"id"`
	Conversation string          `json:"conversation"`
	Direction    string          `json:"direction"`
	Type         string          `json:"type"`
	Content      json.RawMessage `json:"content"` // {"type":…, "<type>": {…}} as in the Cloud API
	ContextID    string          `json:"context_id,omitempty"`
	Status       string          `json:"status,omitempty"`
	ErrorCode    int             `json:"error_code,omitempty"`
	Agent        string          `json:"agent,omitempty"`
	CreatedAt    int64           `json:"created_at"`
}

func (s *Inbox) conversationView(c *parley.Conversation) *ConversationView {
	v := &ConversationView{ID: c.ID, Number: c.Number, Customer: c.Customer, State: c.State, Assignee: c.Assignee, Labels: c.Labels,
		Unread: c.Unread, LastAt: c.LastAt.UnixMilli(), Version: c.Version, Channel: parley.ChannelOf(c.Customer)}
	if v.Labels == nil {
		v.Labels = []string{}
	}
	if len(c.LastSealed) > 0 {
		if p, err := s.sealer.Open(c.LastSealed, parley.ConversationAAD(c.ID)); err == nil {
			v.Preview = string(p)
		} else {
			s.log.Warn("inbox: cannot open a preview", "conversation", c.ID, "err", err)
		}
	}
	if !c.LastInboundAt.IsZero() {
		v.LastInboundAt = c.LastInboundAt.UnixMilli()
		exp := c.LastInboundAt.Add(24 * time.Hour)
		v.WindowOpen = s.clock.Now().Before(exp)
		v.WindowExpiresAt = exp.UnixMilli()
	}
	if v.Channel == parley.ChannelWeb {
		v.WindowOpen, v.WindowExpiresAt, v.MovedTo = true, 0, c.Linked
	} else {
		v.MovedFrom = c.Linked
	}
	return v
}

func (s *Inbox) messageView(m *parley.InboxMessage) *MessageView {
	v := &MessageView{ID: m.ID, Conversation: m.Conversation, Direction: m.Direction, Type: m.Type, ContextID: m.ContextID, Status: m.Status,
		ErrorCode: m.ErrorCode, Agent: m.Agent, CreatedAt: m.CreatedAt.UnixMilli()}
	if b, err := s.sealer.Open(m.Sealed, parley.InboxMessageAAD(m.ID)); err == nil {
		v.Content = b
	} else {
		s.log.Warn("inbox: cannot open a message", "id", m.ID, "err", err)
		v.Content = json.RawMessage(`null`)
	}
	return v
}

// content returns the sealed form of a message: {"type": t, t: object}.
func content(typ string, object json.RawMessage) []byte {
	if len(object) == 0 {
		object = json.RawMessage(`{}`)
	}
	b, _ := json.Marshal(map[string]any{"type": typ, typ: object})
	return b
}

// preview is the one line a conversation list shows of a message.
func preview(typ string, object json.RawMessage) string {
	var p struct {
		Body    string `json:"body"`
		Caption string `json:"caption"`
		Emoji   string `json:"emoji"`
		Name    string `json:"name"`
		Type    string `json:"type"`
	}
	json.Unmarshal(object, &p)
	s := "[" + typ + "]"
	switch {
	case typ == "text" && p.Body != "":
		s = p.Body
	case typ == "reaction" && p.Emoji != "":
		s = p.Emoji
	case typ == "template" && p.Name != "":
		s = "[template " + p.Name + "]"
	case p.Caption != "":
		s = "[" + typ + "] " + p.Caption
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 100 {
		r := []rune(s)
		s = string(r[:100]) + "…"
	}
	return s
}

// record seals and commits a message into its conversation and tells
// the business's agents.
func (s *Inbox) record(ctx context.Context, n *parley.BusinessNumber, customer string, m *parley.InboxMessage, object json.RawMessage, agent string) (*parley.InboxRecord, error) {
	c := &parley.Conversation{ID: parley.ConversationID(n.ID, customer), Business: n.Business, Number: n.ID, Customer: customer}
	if err := s.seal(c, m, object); err != nil {
		return nil, err
	}
	rec, err := s.store.RecordInboxMessage(ctx, c, m)
	if err != nil {
		return nil, err
	}
	if rec.NewMessage {
		s.publish(n.Business, &InboxEvent{Type: "message", Conversation: s.conversationView(rec.Conversation), Message: s.messageView(m), Agent: agent})
	}
	return rec, nil
}

// seal seals m's content and, unless m is a note, c's preview of it.
func (s *Inbox) seal(c *parley.Conversation, m *parley.InboxMessage, object json.RawMessage) error {
	var err error
	if m.Sealed, err = s.sealer.Seal(content(m.Type, object), parley.InboxMessageAAD(m.ID)); err != nil {
		return err
	}
	if m.Direction != parley.DirectionNote {
		if c.LastSealed, err = s.sealer.Seal([]byte(preview(m.Type, object)), parley.ConversationAAD(c.ID)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Inbox) publish(business string, ev *InboxEvent) {
	if s.hub != nil {
		ev.At = s.clock.Now().UnixMilli()
		s.hub.Publish(business, ev)
	}
}

// RecordInbound records a customer's message (the hosted business
// device calls it for every message it decrypted, after the webhook).
// A customer's first message triggers the greeting, and a message while
// the business is closed the away message, both sent through the Cloud
// API path.
func (s *Inbox) RecordInbound(ctx context.Context, n *parley.BusinessNumber, in InboundChat) error {
	m := &parley.InboxMessage{ID: in.WAMID, Direction: parley.DirectionIn, Type: in.Type, ContextID: in.ContextID,
		CreatedAt: in.Timestamp, UpdatedAt: in.Timestamp}
	rec, err := s.record(ctx, n, in.From, m, in.Object, "")
	if err != nil || !rec.NewMessage {
		return err
	}
	if in.ReferralID != "" {
		// After the greeting and away message, which update the
		// conversation at the version recorded.
		defer s.claimWebHandoff(ctx, n, in, rec.Conversation)
	}
	settings, err := s.store.InboxSettings(ctx, n.Business)
	if err != nil {
		return err
	}
	name := "+" + in.From
	if rec.NewConversation && settings.GreetingEnabled {
		if _, err := s.sendText(ctx, n, in.From, parley.ExpandVariables(settings.Greeting, name), ""); err != nil {
			s.log.Warn("inbox: greeting not sent", "number", n.ID, "err", err)
		}
	}
	if settings.AwayEnabled && s.Hours != nil {
		open, err := s.Hours.IsOpen(ctx, n, in.Timestamp)
		if err != nil {
			s.log.Warn("inbox: opening hours unknown", "number", n.ID, "err", err)
			return nil
		}
		if AwayDue(open, settings, rec.Conversation, s.clock.Now()) {
			c := *rec.Conversation
			c.AwaySentAt = s.clock.Now()
			// Only the node whose update wins sends it (two messages at once
			// send one away message).
			if err := s.store.UpdateConversation(ctx, &c); err == nil {
				if _, err := s.sendText(ctx, n, in.From, parley.ExpandVariables(settings.Away, name), ""); err != nil {
					s.log.Warn("inbox: away message not sent", "number", n.ID, "err", err)
				}
			}
		}
	}
	return nil
}

// AwayDue reports whether a customer's message to a business that is
// open (or not) calls for the away message: it is enabled, the business
// is closed, and the conversation had none in the last AwayInterval.
func AwayDue(open bool, st *parley.InboxSettings, c *parley.Conversation, now time.Time) bool {
	return !open && st.AwayEnabled && strings.TrimSpace(st.Away) != "" && (c.AwaySentAt.IsZero() || now.Sub(c.AwaySentAt) >= AwayInterval)
}

// RecordStatus records an outbound message's status change (the hosted
// business device calls it for sent, delivered, read and failed). A
// message sent through the Cloud API by an integration enters the inbox
// here, with its first status.
func (s *Inbox) RecordStatus(ctx context.Context, n *parley.BusinessNumber, o *parley.Outbound, status string, at time.Time, code int) error {
	if o.Type == parley.MessageRead || o.To == "" {
		return nil
	}
	if _, err := s.recordOutbound(ctx, n, o, ""); err != nil {
		return err
	}
	m, changed, err := s.store.SetInboxStatus(ctx, o.WAMID, status, code, at)
	if err != nil || !changed {
		return err
	}
	s.publish(n.Business, &InboxEvent{Type: "status", Message: s.messageView(m)})
	return nil
}

// OutboundStatus is a status of an outbound message as a hosted business
// device reports it: sent, delivered, read, or failed with a Cloud API
// error code.
type OutboundStatus struct {
	Outbound *parley.Outbound
	Status   string
	At       time.Time
	Code     int
}

// RecordStatuses is RecordStatus for many messages of the number, in one
// transaction; it publishes the same events, in the same order.
func (s *Inbox) RecordStatuses(ctx context.Context, n *parley.BusinessNumber, sts []OutboundStatus) error {
	cs := make([]parley.Conversation, 0, len(sts))
	ms := make([]parley.InboxMessage, 0, len(sts))
	for _, st := range sts {
		o := st.Outbound
		if o.Type == parley.MessageRead || o.To == "" {
			continue
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(o.Body, &body); err != nil {
			return err
		}
		c := parley.Conversation{ID: parley.ConversationID(n.ID, o.To), Business: n.Business, Number: n.ID, Customer: o.To}
		m := parley.InboxMessage{ID: o.WAMID, Direction: parley.DirectionOut, Type: o.Type, ContextID: o.ContextID,
			Status: st.Status, ErrorCode: st.Code, CreatedAt: o.CreatedAt, UpdatedAt: st.At}
		if err := s.seal(&c, &m, body[o.Type]); err != nil {
			return err
		}
		cs, ms = append(cs, c), append(ms, m)
	}
	if len(ms) == 0 {
		return nil
	}
	recs, moved, err := s.store.RecordInboxStatuses(ctx, cs, ms)
	if err != nil {
		return err
	}
	if s.hub == nil {
		return nil
	}
	for i := range ms {
		if recs[i].NewMessage {
			m := ms[i] // as RecordStatus publishes it: still accepted
			m.Status, m.ErrorCode, m.UpdatedAt = parley.OutboundAccepted, 0, m.CreatedAt
			s.publish(n.Business, &InboxEvent{Type: "message", Conversation: s.conversationView(recs[i].Conversation), Message: s.messageView(&m)})
		}
		if moved[i] != nil {
			s.publish(n.Business, &InboxEvent{Type: "status", Message: s.messageView(moved[i])})
		}
	}
	return nil
}

// recordOutbound records a message from the outbound queue (idempotent).
func (s *Inbox) recordOutbound(ctx context.Context, n *parley.BusinessNumber, o *parley.Outbound, agent string) (*parley.InboxRecord, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(o.Body, &body); err != nil {
		return nil, err
	}
	m := &parley.InboxMessage{ID: o.WAMID, Direction: parley.DirectionOut, Type: o.Type, ContextID: o.ContextID, Status: parley.OutboundAccepted,
		Agent: agent, CreatedAt: o.CreatedAt, UpdatedAt: o.CreatedAt}
	return s.record(ctx, n, o.To, m, body[o.Type], agent)
}

// sendText sends a text through the Cloud API path and records it.
func (s *Inbox) sendText(ctx context.Context, n *parley.BusinessNumber, to, text, agent string) (string, error) {
	msg := &parley.CloudMessage{MessagingProduct: "whatsapp", To: to, Type: parley.MessageText, Text: &parley.CloudText{Body: text}}
	return s.sendMessage(ctx, n, msg, agent)
}

func (s *Inbox) sendMessage(ctx context.Context, n *parley.BusinessNumber, msg *parley.CloudMessage, agent string) (string, error) {
	res, err := s.send.Send(ctx, &Caller{Business: n.Business}, n.ID, msg)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return "", err
	}
	o := &parley.Outbound{WAMID: res.WAMID, Number: n.ID, To: res.WaID, Type: msg.Type, Body: body, CreatedAt: s.clock.Now()}
	if msg.Context != nil {
		o.ContextID = msg.Context.MessageID
	}
	if _, err := s.recordOutbound(ctx, n, o, agent); err != nil {
		// The message is on its way; its first status records it.
		s.log.Warn("inbox: reply not recorded yet", "wamid", res.WAMID, "err", err)
	}
	return res.WAMID, nil
}

// newNoteID returns the id of a note.
func newNoteID() string {
	var b [12]byte
	rand.Read(b[:])
	return "note." + hex.EncodeToString(b[:])
}
