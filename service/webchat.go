package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// Website chat (docs/inbox.md, "Website chat"): visitors of a business's
// website chat with its agents through the embed widget. A visitor's
// messages are inbox conversations of the number with the customer
// "web:<visitor id>", sealed at rest like every other; agents answer
// them through the inbox's Reply, which records the answer for the
// visitor instead of sending it through the Cloud API. A visitor moves
// to the messenger by writing to the business from the messenger with
// a one-time reference (WebHandoff, claimWebHandoff).

// WebChatStore is what the website chat needs from storage.
type WebChatStore interface {
	parley.WebChatStore
	BusinessNumberByAccount(ctx context.Context, account string) (*parley.BusinessNumber, error)
}

// Website chat limits.
const (
	MaxWebText          = 2000 // characters of a visitor's message
	WebHandoffTTL       = time.Hour
	WebHandoffRefPrefix = "webchat-" // the click-to-chat ref (referral source_id) of a handoff
	webHistory          = 100        // messages a visitor can read back

	webSessionsPerAddrHour = 20
	webSendsPerVisitorMin  = 20
	webSendsPerAddrMin     = 60
	webReadsPerVisitorMin  = 60
	webReadsPerAddrMin     = 300
	webHandoffsPerHour     = 5
)

// WebSession is a new visitor's identity: the browser keeps both.
type WebSession struct {
	VisitorID string `json:"visitor_id"`
	Token     string `json:"token"`
}

// WebMessageView is a message as the visitor sees it.
type WebMessageView struct {
	ID        string `json:"id"`
	From      string `json:"from"` // "visitor" or "business"
	Text      string `json:"text"`
	CreatedAt int64  `json:"created_at"` // unix milliseconds
}

// WebHandoff is what a visitor needs to continue in the messenger: a
// click-to-chat link to the business's number carrying Ref.
type WebHandoff struct {
	Ref       string // WebHandoffRefPrefix and 32 hex digits; shown once
	Account   string // the business number's digits
	ExpiresAt time.Time
}

func (s *Inbox) webStore() (WebChatStore, error) {
	if s.Web == nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "website chat is not available on this server")
	}
	return s.Web, nil
}

func (s *Inbox) hit(ctx context.Context, key string, window time.Duration, limit int) error {
	ok, _, err := s.store.Hit(ctx, key, window, limit, s.clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return parley.Errorf(parley.ERATELIMIT, "too many requests; wait a minute")
	}
	return nil
}

// WebNumber returns the business number with the digits account, and
// whether origin is one of its business's allowed website origins.
// Unknown numbers are ENOTFOUND.
func (s *Inbox) WebNumber(ctx context.Context, account, origin string) (*parley.BusinessNumber, bool, error) {
	w, err := s.webStore()
	if err != nil {
		return nil, false, err
	}
	if !parley.ValidAccountID(account) {
		return nil, false, parley.Errorf(parley.ENOTFOUND, "no such business number")
	}
	n, err := w.BusinessNumberByAccount(ctx, account)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, false, parley.Errorf(parley.ENOTFOUND, "no such business number")
	}
	if err != nil {
		return nil, false, err
	}
	origins, err := w.WebOrigins(ctx, n.Business)
	if err != nil {
		return nil, false, err
	}
	for _, o := range origins {
		if o == strings.ToLower(origin) {
			return n, true, nil
		}
	}
	return n, false, nil
}

// StartWebVisitor creates a visitor of number n's website chat from
// origin (an allowed one, checked by the caller) and address addr.
func (s *Inbox) StartWebVisitor(ctx context.Context, n *parley.BusinessNumber, origin, addr string) (*WebSession, error) {
	w, err := s.webStore()
	if err != nil {
		return nil, err
	}
	if err := s.hit(ctx, "webchat|session|ip|"+addr, time.Hour, webSessionsPerAddrHour); err != nil {
		return nil, err
	}
	var id [12]byte
	rand.Read(id[:])
	tok := newSecret()
	v := &parley.WebVisitor{ID: hex.EncodeToString(id[:]), Business: n.Business, Number: n.ID, Hash: hashSecret(tok), Origin: origin,
		CreatedAt: s.clock.Now()}
	if err := w.CreateWebVisitor(ctx, v); err != nil {
		return nil, err
	}
	return &WebSession{VisitorID: v.ID, Token: tok}, nil
}

// WebAuthenticate returns the visitor of number n whose token is token.
// An unknown token and a token of another number (another business)
// are the same EUNAUTHORIZED.
func (s *Inbox) WebAuthenticate(ctx context.Context, n *parley.BusinessNumber, token string) (*parley.WebVisitor, error) {
	w, err := s.webStore()
	if err != nil {
		return nil, err
	}
	if len(token) < 16 || len(token) > 128 {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "unknown visitor token; start a new session")
	}
	v, err := w.WebVisitor(ctx, hashSecret(token))
	if parley.Match(err, parley.ENOTFOUND) || (err == nil && v.Number != n.ID) {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "unknown visitor token; start a new session")
	}
	if err != nil {
		return nil, err
	}
	if now := s.clock.Now(); now.Sub(v.LastSeenAt) > time.Minute {
		if err := w.TouchWebVisitor(ctx, v.ID, now); err != nil {
			s.log.Warn("webchat: touch", "err", err)
		}
	}
	return v, nil
}

// WebConversationID is the id of a visitor's conversation.
func WebConversationID(v *parley.WebVisitor) string {
	return parley.ConversationID(v.Number, parley.WebCustomer(v.ID))
}

func newWebMessageID() string {
	var b [12]byte
	rand.Read(b[:])
	return "web." + hex.EncodeToString(b[:])
}

// WebSend records a visitor's message in its conversation (a new one
// triggers the greeting, a message while the business is closed the
// away message, both recorded for the visitor) and tells the agents.
func (s *Inbox) WebSend(ctx context.Context, n *parley.BusinessNumber, v *parley.WebVisitor, text, addr string) (*WebMessageView, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, parley.Errorf(parley.EINVALID, "text is empty")
	}
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return nil, parley.Errorf(parley.EINVALID, "text must be UTF-8 without NUL characters")
	}
	if utf8.RuneCountInString(text) > MaxWebText {
		return nil, parley.Errorf(parley.ETOOLARGE, "text must have at most %d characters", MaxWebText)
	}
	if err := s.hit(ctx, "webchat|send|v|"+v.ID, time.Minute, webSendsPerVisitorMin); err != nil {
		return nil, err
	}
	if err := s.hit(ctx, "webchat|send|ip|"+addr, time.Minute, webSendsPerAddrMin); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	obj, _ := json.Marshal(parley.CloudText{Body: text})
	m := &parley.InboxMessage{ID: newWebMessageID(), Direction: parley.DirectionIn, Type: parley.MessageText, CreatedAt: now, UpdatedAt: now}
	customer := parley.WebCustomer(v.ID)
	rec, err := s.record(ctx, n, customer, m, obj, "")
	if err != nil {
		return nil, err
	}
	settings, err := s.store.InboxSettings(ctx, n.Business)
	if err != nil {
		return webView(s.messageView(m)), nil
	}
	if rec.NewConversation && settings.GreetingEnabled && strings.TrimSpace(settings.Greeting) != "" {
		if _, err := s.webOut(ctx, n, customer, parley.ExpandVariables(settings.Greeting, ""), ""); err != nil {
			s.log.Warn("webchat: greeting not recorded", "err", err)
		}
	}
	if settings.AwayEnabled && s.Hours != nil {
		if open, err := s.Hours.IsOpen(ctx, n, now); err == nil && AwayDue(open, settings, rec.Conversation, now) {
			c := *rec.Conversation
			c.AwaySentAt = now
			if err := s.store.UpdateConversation(ctx, &c); err == nil {
				if _, err := s.webOut(ctx, n, customer, parley.ExpandVariables(settings.Away, ""), ""); err != nil {
					s.log.Warn("webchat: away message not recorded", "err", err)
				}
			}
		}
	}
	return webView(s.messageView(m)), nil
}

// webOut records a text for a visitor: there is no network leg (the
// widget reads it from the timeline or the event stream), so its
// status is "sent" at once.
func (s *Inbox) webOut(ctx context.Context, n *parley.BusinessNumber, customer, text, agent string) (*parley.InboxMessage, error) {
	now := s.clock.Now()
	obj, _ := json.Marshal(parley.CloudText{Body: text})
	m := &parley.InboxMessage{ID: newWebMessageID(), Direction: parley.DirectionOut, Type: parley.MessageText, Status: parley.OutboundSent,
		Agent: agent, CreatedAt: now, UpdatedAt: now}
	if _, err := s.record(ctx, n, customer, m, obj, agent); err != nil {
		return nil, err
	}
	return m, nil
}

// webReply is Reply for a website visitor's conversation: text only
// (the widget shows text), no 24-hour window (the visitor reads it when
// they come back), nothing sent through the Cloud API.
func (s *Inbox) webReply(ctx context.Context, a *AgentAuth, c *parley.Conversation, r Reply) (*MessageView, error) {
	text := r.Text
	if r.Message != nil && r.Template == nil && text == "" && r.Message.Type == parley.MessageText && r.Message.Text != nil {
		text = r.Message.Text.Body
	} else if r.Template != nil || r.Message != nil {
		return nil, parley.Errorf(parley.EINVALID, "a website visitor can receive text only")
	}
	if strings.TrimSpace(text) == "" {
		return nil, parley.Errorf(parley.EINVALID, "send one of a text, a template or a message")
	}
	if utf8.RuneCountInString(text) > 4096 || !utf8.ValidString(text) {
		return nil, parley.Errorf(parley.ETOOLARGE, "text must have at most 4096 characters")
	}
	n := &parley.BusinessNumber{ID: c.Number, Business: c.Business}
	m, err := s.webOut(ctx, n, c.Customer, text, a.Agent.ID)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, c.Business, a.Agent.ID, "conversation.reply", c.ID, m.ID)
	return s.messageView(m), nil
}

func webView(m *MessageView) *WebMessageView {
	var c struct {
		Text struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	json.Unmarshal(m.Content, &c)
	from := "business"
	if m.Direction == parley.DirectionIn {
		from = "visitor"
	}
	return &WebMessageView{ID: m.ID, From: from, Text: c.Text.Body, CreatedAt: m.CreatedAt}
}

// WebMessages returns the visitor's messages (never agents' notes) from
// the millisecond after on (included: dedupe by id), oldest first; at
// most the latest webHistory.
func (s *Inbox) WebMessages(ctx context.Context, v *parley.WebVisitor, after int64, addr string) ([]WebMessageView, error) {
	if err := s.webReadLimit(ctx, v, addr); err != nil {
		return nil, err
	}
	ms, err := s.store.InboxMessages(ctx, WebConversationID(v), time.Time{}, webHistory)
	if err != nil {
		return nil, err
	}
	out := []WebMessageView{}
	for i := len(ms) - 1; i >= 0; i-- {
		m := &ms[i]
		if m.Direction == parley.DirectionNote || m.CreatedAt.UnixMilli() < after {
			continue
		}
		out = append(out, *webView(s.messageView(m)))
	}
	return out, nil
}

func (s *Inbox) webReadLimit(ctx context.Context, v *parley.WebVisitor, addr string) error {
	if err := s.hit(ctx, "webchat|read|v|"+v.ID, time.Minute, webReadsPerVisitorMin); err != nil {
		return err
	}
	return s.hit(ctx, "webchat|read|ip|"+addr, time.Minute, webReadsPerAddrMin)
}

// WebSubscribe connects a visitor to the live events of its business;
// WebEvent picks out what the visitor may see.
func (s *Inbox) WebSubscribe(ctx context.Context, v *parley.WebVisitor, addr string) (*InboxStream, error) {
	if s.hub == nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "live updates are not available")
	}
	if err := s.webReadLimit(ctx, v, addr); err != nil {
		return nil, err
	}
	return s.hub.Subscribe(v.Business, "visitor:"+v.ID)
}

// WebEvent returns the message a business event carries for visitor v:
// only messages of its own conversation, the business's and its own
// (sent from another tab), never agents' notes, never another
// conversation's.
func WebEvent(v *parley.WebVisitor, ev []byte) (*WebMessageView, bool) {
	var e InboxEvent
	if json.Unmarshal(ev, &e) != nil || e.Type != "message" || e.Message == nil {
		return nil, false
	}
	if e.Message.Conversation != WebConversationID(v) || (e.Message.Direction != parley.DirectionOut && e.Message.Direction != parley.DirectionIn) {
		return nil, false
	}
	return webView(e.Message), true
}

// WebHandoff starts moving a visitor's chat to the messenger: it keeps
// the number the visitor gave and returns a one-time reference for a
// click-to-chat link to the business. Nothing is sent to that number:
// the chat moves only when the number's owner writes to the business
// from the messenger with the reference (claimWebHandoff).
func (s *Inbox) WebHandoff(ctx context.Context, n *parley.BusinessNumber, v *parley.WebVisitor, phone string) (*WebHandoff, error) {
	w, err := s.webStore()
	if err != nil {
		return nil, err
	}
	p, err := normalizeWaID(phone)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "phone must be a phone number with the country code, e.g. +49 151 23456789")
	}
	if p == n.Account {
		return nil, parley.Errorf(parley.EINVALID, "phone is the business's own number")
	}
	if err := s.hit(ctx, "webchat|handoff|v|"+v.ID, time.Hour, webHandoffsPerHour); err != nil {
		return nil, err
	}
	var b [16]byte
	rand.Read(b[:])
	ref := WebHandoffRefPrefix + hex.EncodeToString(b[:])
	exp := s.clock.Now().Add(WebHandoffTTL)
	if err := w.SetWebHandoff(ctx, v.ID, p, hashSecret(ref), exp); err != nil {
		return nil, err
	}
	return &WebHandoff{Ref: ref, Account: n.Account, ExpiresAt: exp}, nil
}

// WebHandoffPurpose is the consent purpose recorded when a visitor
// moves a website chat to the messenger.
const WebHandoffPurpose = "website chat"

// claimWebHandoff links a web conversation to the messenger
// conversation of a customer whose message carried the web
// conversation's handoff reference, when the customer's number is the
// one the visitor gave: the customer proved they own the number by
// writing from it. It records the opt-in in the consent ledger and
// notes the move in both conversations. Anything that does not match
// leaves the message an ordinary one.
func (s *Inbox) claimWebHandoff(ctx context.Context, n *parley.BusinessNumber, in InboundChat, conv *parley.Conversation) {
	if s.Web == nil || !strings.HasPrefix(in.ReferralID, WebHandoffRefPrefix) || parley.IsWebCustomer(in.From) {
		return
	}
	now := s.clock.Now()
	v, err := s.Web.ClaimWebHandoff(ctx, n.ID, hashSecret(in.ReferralID), in.From, conv.ID, now)
	if err != nil {
		if !parley.Match(err, parley.ENOTFOUND) {
			s.log.Warn("webchat: handoff", "err", err)
		}
		return
	}
	web := WebConversationID(v)
	if s.Consent != nil {
		_, err := s.Consent.RecordAsOperator(ctx, n.ID, ConsentRequest{WaID: in.From, Action: parley.ConsentOptIn,
			Purposes: []string{WebHandoffPurpose}, Source: parley.ConsentSource{Type: parley.SourceWebsiteForm, ID: "webchat:" + n.ID,
				Evidence: "web conversation " + web + "; number given on " + v.Origin + "; confirmed by message " + in.WAMID}})
		if err != nil {
			s.log.Warn("webchat: opt-in not recorded", "conversation", web, "err", err)
		}
	}
	s.systemNote(ctx, n, parley.WebCustomer(v.ID), "The visitor continued this chat in the messenger as +"+in.From+".", conv.ID)
	s.systemNote(ctx, n, in.From, "Continued from the website chat ("+v.Origin+"); its history is in the linked conversation.", web)
}

// systemNote records a note without an agent (the server's) that links
// to another conversation, and tells the agents.
func (s *Inbox) systemNote(ctx context.Context, n *parley.BusinessNumber, customer, text, link string) {
	obj, _ := json.Marshal(map[string]any{"body": text, "mentions": []string{}, "conversation": link})
	now := s.clock.Now()
	m := &parley.InboxMessage{ID: newNoteID(), Direction: parley.DirectionNote, Type: "note", CreatedAt: now, UpdatedAt: now}
	if _, err := s.record(ctx, n, customer, m, obj, ""); err != nil {
		s.log.Warn("webchat: note", "err", err)
	}
}

// WebOrigins lists the agent's business's allowed website origins.
func (s *Inbox) WebOrigins(ctx context.Context, a *AgentAuth) ([]string, error) {
	w, err := s.webStore()
	if err != nil {
		return nil, err
	}
	return w.WebOrigins(ctx, a.Agent.Business)
}

// WebOriginsOf lists a business's allowed website origins (operator).
func (s *Inbox) WebOriginsOf(ctx context.Context, business string) ([]string, error) {
	w, err := s.webStore()
	if err != nil {
		return nil, err
	}
	if _, err := s.store.Business(ctx, business); err != nil {
		return nil, err
	}
	return w.WebOrigins(ctx, business)
}

// SetWebOrigins replaces the business's allowed website origins
// (owners and admins); an empty list turns the website chat off.
func (s *Inbox) SetWebOrigins(ctx context.Context, a *AgentAuth, origins []string) ([]string, error) {
	if err := a.require(parley.AgentAdmin); err != nil {
		return nil, err
	}
	return s.SetWebOriginsAsOperator(ctx, a.Agent.Business, a.Agent.ID, origins)
}

// SetWebOriginsAsOperator replaces a business's allowed origins; agent
// is "" for the operator (the audit log says who).
func (s *Inbox) SetWebOriginsAsOperator(ctx context.Context, business, agent string, origins []string) ([]string, error) {
	w, err := s.webStore()
	if err != nil {
		return nil, err
	}
	if _, err := s.store.Business(ctx, business); err != nil {
		return nil, err
	}
	if err := w.SetWebOrigins(ctx, business, origins); err != nil {
		return nil, err
	}
	out, err := w.WebOrigins(ctx, business)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, business, agent, "webchat.origins", "", strings.Join(out, " "))
	return out, nil
}
