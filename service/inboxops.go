package service

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// The agent's side of the inbox: every method checks that the object
// belongs to the agent's business (another business's conversation is
// "not found"), writes an audit entry for changes and tells every
// connected agent of the business.

func noConversation() error { return parley.Errorf(parley.ENOTFOUND, "no such conversation") }

// conversation returns a conversation of the agent's business.
func (s *Inbox) conversation(ctx context.Context, a *AgentAuth, id string) (*parley.Conversation, error) {
	c, err := s.store.Conversation(ctx, id)
	if parley.Match(err, parley.ENOTFOUND) || (err == nil && c.Business != a.Agent.Business) {
		return nil, noConversation()
	}
	return c, err
}

// Conversation returns one conversation.
func (s *Inbox) Conversation(ctx context.Context, a *AgentAuth, id string) (*ConversationView, error) {
	c, err := s.conversation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	return s.conversationView(c), nil
}

// ConversationQuery selects conversations; Search finds customers by
// number (digits) and conversations by message text.
type ConversationQuery struct {
	parley.ConversationFilter
	Search string
}

var digitsRE = regexp.MustCompile(`^\+?[0-9 ]+$`)

// Conversations lists the business's conversations, newest first. A
// text search decrypts the business's latest SearchDepth messages in
// memory (contents are sealed at rest, so the database cannot search
// them) and returns the conversations whose messages contain it.
func (s *Inbox) Conversations(ctx context.Context, a *AgentAuth, q ConversationQuery) ([]ConversationView, error) {
	f := q.ConversationFilter
	f.Business = a.Agent.Business
	if f.State != "" && !parley.ValidConversationState(f.State) {
		return nil, parley.Errorf(parley.EINVALID, "state must be open, pending or resolved")
	}
	if f.Assignee == "me" {
		f.Assignee = a.Agent.ID
	}
	search := strings.TrimSpace(q.Search)
	if utf8.RuneCountInString(search) > 100 {
		return nil, parley.Errorf(parley.EINVALID, "search must have at most 100 characters")
	}
	if search != "" && digitsRE.MatchString(search) {
		f.Customer = strings.NewReplacer("+", "", " ", "").Replace(search)
		search = ""
	}
	var only map[string]bool
	if search != "" {
		var err error
		if only, err = s.searchText(ctx, a.Agent.Business, search); err != nil {
			return nil, err
		}
		if len(only) == 0 {
			return []ConversationView{}, nil
		}
		f.Limit = 500
	}
	cs, err := s.store.Conversations(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]ConversationView, 0, len(cs))
	for i := range cs {
		if only != nil && !only[cs[i].ID] {
			continue
		}
		out = append(out, *s.conversationView(&cs[i]))
	}
	return out, nil
}

func (s *Inbox) searchText(ctx context.Context, business, text string) (map[string]bool, error) {
	ms, err := s.store.RecentInboxMessages(ctx, business, s.SearchDepth)
	if err != nil {
		return nil, err
	}
	needle := strings.ToLower(text)
	found := map[string]bool{}
	for i := range ms {
		m := &ms[i]
		if found[m.Conversation] {
			continue
		}
		b, err := s.sealer.Open(m.Sealed, parley.InboxMessageAAD(m.ID))
		if err != nil {
			continue
		}
		if strings.Contains(strings.ToLower(searchableText(b)), needle) {
			found[m.Conversation] = true
		}
	}
	return found, nil
}

// searchableText is the text in a message's content: every JSON string
// value but the type names and ids.
func searchableText(content []byte) string {
	var v any
	if json.Unmarshal(content, &v) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(k string, v any)
	walk = func(k string, v any) {
		switch x := v.(type) {
		case string:
			if k != "type" && k != "id" && k != "link" {
				b.WriteString(x)
				b.WriteByte('\n')
			}
		case map[string]any:
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				walk(k, e)
			}
		}
	}
	walk("", v)
	return b.String()
}

// Messages returns a conversation's timeline, newest first, before a
// time (0: the newest).
func (s *Inbox) Messages(ctx context.Context, a *AgentAuth, id string, before time.Time, limit int) ([]MessageView, error) {
	if _, err := s.conversation(ctx, a, id); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	ms, err := s.store.InboxMessages(ctx, id, before, limit)
	if err != nil {
		return nil, err
	}
	out := make([]MessageView, len(ms))
	for i := range ms {
		out[i] = *s.messageView(&ms[i])
	}
	return out, nil
}

// History lists every conversation of the business with a customer
// (across its numbers).
func (s *Inbox) History(ctx context.Context, a *AgentAuth, customer string) ([]ConversationView, error) {
	customer = strings.TrimPrefix(customer, "+")
	if !parley.ValidAccountID(customer) {
		return nil, parley.Errorf(parley.EINVALID, "customer must be a phone number in digits")
	}
	cs, err := s.store.Conversations(ctx, parley.ConversationFilter{Business: a.Agent.Business, Customer: customer, Limit: 500})
	if err != nil {
		return nil, err
	}
	out := []ConversationView{}
	for i := range cs {
		if cs[i].Customer == customer {
			out = append(out, *s.conversationView(&cs[i]))
		}
	}
	return out, nil
}

// Reply is what an agent sends: a text, a template (the only thing
// allowed outside the 24-hour window), or any other Cloud API message
// (a reaction, media by id, a location, …) in Message, validated as
// the Cloud API validates it.
type Reply struct {
	Text      string
	Template  *parley.CloudTemplate
	Message   *parley.CloudMessage
	ContextID string // the wamid it answers
}

// Reply sends an agent's message to the customer through the Cloud API
// path (service.Business.Send): the business's webhooks report its
// statuses as for any API send.
func (s *Inbox) Reply(ctx context.Context, a *AgentAuth, id string, r Reply) (*MessageView, error) {
	c, err := s.conversation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if parley.IsWebCustomer(c.Customer) {
		return s.webReply(ctx, a, c, r)
	}
	n, err := s.store.BusinessNumber(ctx, c.Number)
	if err != nil {
		return nil, err
	}
	msg := &parley.CloudMessage{MessagingProduct: "whatsapp", To: c.Customer}
	switch {
	case r.Template != nil && r.Text == "" && r.Message == nil:
		msg.Type, msg.Template = parley.MessageTemplate, r.Template
	case r.Template == nil && strings.TrimSpace(r.Text) != "" && r.Message == nil:
		msg.Type, msg.Text = parley.MessageText, &parley.CloudText{Body: r.Text}
	case r.Template == nil && r.Text == "" && r.Message != nil:
		if r.Message.IsRead() {
			return nil, parley.Errorf(parley.EINVALID, "mark the conversation read instead of sending a read receipt")
		}
		msg = r.Message
		msg.MessagingProduct, msg.To, msg.RecipientType = "whatsapp", c.Customer, ""
	default:
		return nil, parley.Errorf(parley.EINVALID, "send one of a text, a template or a message")
	}
	if msg.Type != parley.MessageTemplate && (c.LastInboundAt.IsZero() || s.clock.Now().Sub(c.LastInboundAt) > 24*time.Hour) {
		return nil, parley.Errorf(parley.EINVALID, "the customer has not written in the last 24 hours: only a template may be sent")
	}
	if r.ContextID != "" {
		msg.Context = &parley.CloudContext{MessageID: r.ContextID}
	}
	wamid, err := s.sendMessage(ctx, n, msg, a.Agent.ID)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, c.Business, a.Agent.ID, "conversation.reply", c.ID, wamid)
	ms, err := s.store.InboxMessages(ctx, c.ID, time.Time{}, 20)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if ms[i].ID == wamid {
			return s.messageView(&ms[i]), nil
		}
	}
	return &MessageView{ID: wamid, Conversation: c.ID, Direction: parley.DirectionOut, Type: msg.Type, Status: parley.OutboundAccepted,
		Agent: a.Agent.ID, Content: content(msg.Type, nil)}, nil
}

// update applies change to the conversation at version (0: the current
// one, retried on concurrent changes) and announces it.
func (s *Inbox) update(ctx context.Context, a *AgentAuth, id string, version int64, action, detail string, change func(c *parley.Conversation) error) (*ConversationView, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.conversation(ctx, a, id)
		if err != nil {
			return nil, err
		}
		if version != 0 && c.Version != version {
			return nil, parley.Errorf(parley.ECONFLICT, "the conversation was changed by someone else (version %d, not %d); reload it and try again", c.Version, version)
		}
		if err := change(c); err != nil {
			return nil, err
		}
		err = s.store.UpdateConversation(ctx, c)
		if parley.Match(err, parley.ECONFLICT) && version == 0 && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		if action != "" {
			s.audit(ctx, c.Business, a.Agent.ID, action, c.ID, detail)
		}
		v := s.conversationView(c)
		s.publish(c.Business, &InboxEvent{Type: "conversation", Conversation: v, Agent: a.Agent.ID})
		return v, nil
	}
}

// SetState moves a conversation to open, pending or resolved.
func (s *Inbox) SetState(ctx context.Context, a *AgentAuth, id, state string, version int64) (*ConversationView, error) {
	if !parley.ValidConversationState(state) {
		return nil, parley.Errorf(parley.EINVALID, "state must be open, pending or resolved")
	}
	return s.update(ctx, a, id, version, "conversation.state", state, func(c *parley.Conversation) error {
		c.State = state
		return nil
	})
}

// Assign gives a conversation to an agent of the business: an agent id,
// "" to unassign, or "auto" for the online agent assigned longest ago
// (round robin).
func (s *Inbox) Assign(ctx context.Context, a *AgentAuth, id, agent string, version int64) (*ConversationView, error) {
	if _, err := s.conversation(ctx, a, id); err != nil {
		return nil, err
	}
	switch agent {
	case "":
	case "auto":
		now := s.clock.Now()
		next, err := s.store.NextAgent(ctx, a.Agent.Business, now.Add(-AgentOnline), now)
		if err != nil {
			if parley.Match(err, parley.ENOTFOUND) {
				return nil, parley.Errorf(parley.ECONFLICT, "no agent is online to take the conversation")
			}
			return nil, err
		}
		agent = next.ID
	default:
		to, err := s.store.Agent(ctx, agent)
		if parley.Match(err, parley.ENOTFOUND) || (err == nil && to.Business != a.Agent.Business) {
			return nil, parley.Errorf(parley.EINVALID, "no such agent in this business")
		}
		if err != nil {
			return nil, err
		}
	}
	return s.update(ctx, a, id, version, "conversation.assign", agent, func(c *parley.Conversation) error {
		c.Assignee = agent
		return nil
	})
}

// SetLabels replaces a conversation's labels; each must be one of the
// business's labels.
func (s *Inbox) SetLabels(ctx context.Context, a *AgentAuth, id string, labels []string, version int64) (*ConversationView, error) {
	known, err := s.store.Labels(ctx, a.Agent.Business)
	if err != nil {
		return nil, err
	}
	set := []string{}
	for _, l := range labels {
		if !slices.ContainsFunc(known, func(k parley.Label) bool { return k.Name == l }) {
			return nil, parley.Errorf(parley.EINVALID, "no label %q; create it first", l)
		}
		if !slices.Contains(set, l) {
			set = append(set, l)
		}
	}
	return s.update(ctx, a, id, version, "conversation.labels", strings.Join(set, ","), func(c *parley.Conversation) error {
		c.Labels = set
		return nil
	})
}

// MarkRead clears the unread count and sends the customer a read
// receipt for their last message (as the Cloud API's mark-as-read); a
// conversation without unread messages is left as it is.
func (s *Inbox) MarkRead(ctx context.Context, a *AgentAuth, id string) (*ConversationView, error) {
	c, err := s.conversation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if c.Unread == 0 {
		return s.conversationView(c), nil
	}
	ms, err := s.store.InboxMessages(ctx, c.ID, time.Time{}, 50)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Direction == parley.DirectionIn && !parley.IsWebCustomer(c.Customer) {
			_, err := s.send.Send(ctx, &Caller{Business: c.Business}, c.Number,
				&parley.CloudMessage{MessagingProduct: "whatsapp", Status: "read", MessageID: m.ID})
			if err != nil {
				return nil, err
			}
			break
		}
	}
	return s.update(ctx, a, id, 0, "", "", func(c *parley.Conversation) error {
		c.Unread = 0
		return nil
	})
}

// MaxNote is the longest internal note, in characters.
const MaxNote = 4096

var mentionRE = regexp.MustCompile(`@([A-Za-z0-9._%+\-]+(?:@[A-Za-z0-9.\-]+)?)`)

// AddNote adds an internal note (never sent to the customer). "@name"
// mentions a colleague by the local part of their email (or the whole
// email); the note records the agents it mentions, and the event
// carries them so that their browsers can notify them.
func (s *Inbox) AddNote(ctx context.Context, a *AgentAuth, id, text string) (*MessageView, error) {
	c, err := s.conversation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, parley.Errorf(parley.EINVALID, "note is empty")
	}
	if utf8.RuneCountInString(text) > MaxNote || !utf8.ValidString(text) {
		return nil, parley.Errorf(parley.ETOOLARGE, "note must have at most %d characters", MaxNote)
	}
	agents, err := s.store.Agents(ctx, a.Agent.Business)
	if err != nil {
		return nil, err
	}
	mentions := []string{}
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		h := strings.ToLower(m[1])
		for _, ag := range agents {
			local, _, _ := strings.Cut(ag.Email, "@")
			if (h == ag.Email || h == local) && !slices.Contains(mentions, ag.ID) {
				mentions = append(mentions, ag.ID)
			}
		}
	}
	obj, _ := json.Marshal(map[string]any{"body": text, "mentions": mentions})
	now := s.clock.Now()
	m := &parley.InboxMessage{ID: newNoteID(), Direction: parley.DirectionNote, Type: "note", Agent: a.Agent.ID, CreatedAt: now, UpdatedAt: now}
	n := &parley.BusinessNumber{ID: c.Number, Business: c.Business}
	if _, err := s.record(ctx, n, c.Customer, m, obj, a.Agent.ID); err != nil {
		return nil, err
	}
	s.audit(ctx, c.Business, a.Agent.ID, "conversation.note", c.ID, m.ID)
	return s.messageView(m), nil
}

// Labels lists the business's labels.
func (s *Inbox) Labels(ctx context.Context, a *AgentAuth) ([]parley.Label, error) {
	return s.store.Labels(ctx, a.Agent.Business)
}

// PutLabel creates or recolours a label (owners and admins).
func (s *Inbox) PutLabel(ctx context.Context, a *AgentAuth, name, color string) (*parley.Label, error) {
	if err := a.require(parley.AgentAdmin); err != nil {
		return nil, err
	}
	l := &parley.Label{Business: a.Agent.Business, Name: name, Color: color}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.PutLabel(ctx, l); err != nil {
		return nil, err
	}
	s.audit(ctx, l.Business, a.Agent.ID, "label.put", l.Name, l.Color)
	return l, nil
}

// DeleteLabel deletes a label and takes it off every conversation.
func (s *Inbox) DeleteLabel(ctx context.Context, a *AgentAuth, name string) error {
	if err := a.require(parley.AgentAdmin); err != nil {
		return err
	}
	if err := s.store.DeleteLabel(ctx, a.Agent.Business, name); err != nil {
		return err
	}
	s.audit(ctx, a.Agent.Business, a.Agent.ID, "label.delete", name, "")
	return nil
}

// QuickReplies lists the business's quick replies.
func (s *Inbox) QuickReplies(ctx context.Context, a *AgentAuth) ([]parley.QuickReply, error) {
	return s.store.QuickReplies(ctx, a.Agent.Business)
}

// PutQuickReply creates or replaces a quick reply (any agent).
func (s *Inbox) PutQuickReply(ctx context.Context, a *AgentAuth, shortcut, text string) (*parley.QuickReply, error) {
	q := &parley.QuickReply{Business: a.Agent.Business, Shortcut: shortcut, Text: text, UpdatedAt: s.clock.Now()}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.PutQuickReply(ctx, q); err != nil {
		return nil, err
	}
	s.audit(ctx, q.Business, a.Agent.ID, "quick_reply.put", q.Shortcut, "")
	return q, nil
}

// DeleteQuickReply deletes a quick reply.
func (s *Inbox) DeleteQuickReply(ctx context.Context, a *AgentAuth, shortcut string) error {
	if err := s.store.DeleteQuickReply(ctx, a.Agent.Business, strings.ToLower(shortcut)); err != nil {
		if parley.Match(err, parley.ENOTFOUND) {
			return parley.Errorf(parley.ENOTFOUND, "no quick reply %s", shortcut)
		}
		return err
	}
	s.audit(ctx, a.Agent.Business, a.Agent.ID, "quick_reply.delete", shortcut, "")
	return nil
}

// ExpandQuickReply returns a quick reply's text for a conversation, its
// variables filled in: {{name}} is the customer's number.
func (s *Inbox) ExpandQuickReply(ctx context.Context, a *AgentAuth, conversation, shortcut string) (string, error) {
	c, err := s.conversation(ctx, a, conversation)
	if err != nil {
		return "", err
	}
	qs, err := s.store.QuickReplies(ctx, a.Agent.Business)
	if err != nil {
		return "", err
	}
	for _, q := range qs {
		if q.Shortcut == strings.ToLower(shortcut) {
			name := "+" + c.Customer
			if parley.IsWebCustomer(c.Customer) {
				name = "" // a website visitor has no number
			}
			return parley.ExpandVariables(q.Text, name), nil
		}
	}
	return "", parley.Errorf(parley.ENOTFOUND, "no quick reply %s", shortcut)
}

// Settings returns the business's greeting and away message.
func (s *Inbox) Settings(ctx context.Context, a *AgentAuth) (*parley.InboxSettings, error) {
	return s.store.InboxSettings(ctx, a.Agent.Business)
}

// PutSettings stores the greeting and away message (owners and admins)
// if st.Version is the stored version (ECONFLICT otherwise).
func (s *Inbox) PutSettings(ctx context.Context, a *AgentAuth, st *parley.InboxSettings) error {
	if err := a.require(parley.AgentAdmin); err != nil {
		return err
	}
	st.Business, st.UpdatedAt = a.Agent.Business, s.clock.Now()
	if err := st.Validate(); err != nil {
		return err
	}
	if err := s.store.PutInboxSettings(ctx, st); err != nil {
		return err
	}
	detail := "resolved conversations kept"
	if st.RetentionDays > 0 {
		detail = fmt.Sprintf("resolved conversations deleted after %d days", st.RetentionDays)
	}
	s.audit(ctx, st.Business, a.Agent.ID, "settings.put", "", detail)
	return nil
}

// Sweep applies the retention once (every node runs it once a minute,
// from app.Main.Sweep): resolved conversations past their business's
// RetentionDays, and website visitors with their conversations inactive
// longer than WebRetention, are deleted with their messages and notes;
// each business's audit log records what went. It returns the number of
// conversations deleted.
func (s *Inbox) Sweep(ctx context.Context) (int, error) {
	now := s.clock.Now()
	var web time.Time
	if s.WebRetention > 0 {
		web = now.Add(-s.WebRetention)
	}
	swept, err := s.store.SweepInbox(ctx, now, web, 200)
	total := 0
	for _, x := range swept {
		total += x.Conversations + x.Web
		s.audit(ctx, x.Business, "", "retention.sweep", "", fmt.Sprintf("deleted %d resolved and %d website conversations (%d messages and notes)",
			x.Conversations, x.Web, x.Messages))
	}
	return total, err
}

// Subscribe connects the agent to its business's live events.
func (s *Inbox) Subscribe(ctx context.Context, a *AgentAuth) (*InboxStream, error) {
	if s.hub == nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "live updates are not available")
	}
	return s.hub.Subscribe(a.Agent.Business, a.Agent.ID)
}

// TeamAgents lists the agent's colleagues.
func (s *Inbox) TeamAgents(ctx context.Context, a *AgentAuth) ([]parley.Agent, error) {
	return s.store.Agents(ctx, a.Agent.Business)
}

// AddTeamAgent adds a colleague (owners and admins; only an owner may
// add an owner).
func (s *Inbox) AddTeamAgent(ctx context.Context, a *AgentAuth, email, name, role, password string) (*parley.Agent, error) {
	if err := a.require(parley.AgentAdmin); err != nil {
		return nil, err
	}
	if role == parley.AgentOwner && !a.Can(parley.AgentOwner) {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only an owner may add an owner")
	}
	ag, err := s.createAgent(ctx, a.Agent.Business, email, name, role, password)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, a.Agent.Business, a.Agent.ID, "team.add", ag.ID, ag.Email+" "+ag.Role)
	return ag, nil
}

// RemoveTeamAgent removes a colleague (owners and admins; only an owner
// may remove an owner; nobody removes themselves).
func (s *Inbox) RemoveTeamAgent(ctx context.Context, a *AgentAuth, id string) error {
	if err := a.require(parley.AgentAdmin); err != nil {
		return err
	}
	ag, err := s.store.Agent(ctx, id)
	if parley.Match(err, parley.ENOTFOUND) || (err == nil && ag.Business != a.Agent.Business) {
		return parley.Errorf(parley.ENOTFOUND, "no such agent")
	}
	if err != nil {
		return err
	}
	switch {
	case ag.ID == a.Agent.ID:
		return parley.Errorf(parley.EINVALID, "you cannot remove yourself")
	case ag.Role == parley.AgentOwner && !a.Can(parley.AgentOwner):
		return parley.Errorf(parley.EFORBIDDEN, "only an owner may remove an owner")
	}
	if err := s.store.RemoveTeamAgent(ctx, a.Agent.Business, ag.ID); err != nil {
		return err
	}
	s.audit(ctx, a.Agent.Business, a.Agent.ID, "team.remove", ag.ID, ag.Email)
	return nil
}

// SetTeamRole changes a colleague's role (owners only; an owner may
// change its own). The business's last owner cannot be demoted, so that
// someone can always manage the team (checked in the store's
// transaction, SetAgentRole). The change applies to the agent's next
// request (roles are read with each session check).
func (s *Inbox) SetTeamRole(ctx context.Context, a *AgentAuth, id, role string) (*parley.Agent, error) {
	if !a.Can(parley.AgentOwner) {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only an owner may change roles")
	}
	if !parley.ValidAgentRole(role) {
		return nil, parley.Errorf(parley.EINVALID, "role must be owner, admin or agent")
	}
	old, err := s.store.SetAgentRole(ctx, a.Agent.Business, id, role)
	if err != nil {
		return nil, err
	}
	ag, err := s.store.Agent(ctx, id)
	if err != nil {
		return nil, err
	}
	if old != role {
		s.audit(ctx, a.Agent.Business, a.Agent.ID, "team.role", ag.ID, ag.Email+" "+old+" -> "+role)
	}
	return ag, nil
}
