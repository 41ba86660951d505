package parley

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// The business inbox: conversations between a business number and its
// customers, worked by the business's agents in the browser. Message
// contents reach the store sealed with the at-rest key (Sealer); the
// store keeps metadata (who, when, type, status) in clear so that it can
// sort and filter.

// Conversation states.
const (
	ConversationOpen     = "open"
	ConversationPending  = "pending"
	ConversationResolved = "resolved"
)

// ValidConversationState reports whether s is a conversation state.
func ValidConversationState(s string) bool {
	return s == ConversationOpen || s == ConversationPending || s == ConversationResolved
}

// Conversation is the thread of one business number with one customer.
type Conversation struct {
	ID            string // ConversationID(Number, Customer)
	Business      string // the WABA
	Number        string // phone_number_id
	Customer      string // the customer's account (E.164 digits)
	State         string // Conversation*
	Assignee      string // agent id; "" when unassigned
	Labels        []string
	Unread        int
	LastSealed    []byte // the last message's preview, sealed with AAD ConversationAAD(ID)
	LastAt        time.Time
	LastInboundAt time.Time // the customer's last message: the 24-hour window
	AwaySentAt    time.Time // when the away message was last sent
	Version       int64     // incremented by every change (optimistic concurrency)
	Linked        string    // website chat: the conversation this one moved to (web) or continues (messenger); ""
	CreatedAt     time.Time
}

// ConversationID is the id of the conversation of number and customer:
// derived, so that every node computes the same one without a lookup.
func ConversationID(number, customer string) string {
	h := sha256.Sum256([]byte("parley inbox conversation\x00" + number + "\x00" + customer))
	return hex.EncodeToString(h[:12])
}

// ConversationAAD binds a sealed preview to its conversation.
func ConversationAAD(id string) []byte { return []byte("parley inbox preview " + id) }

// InboxMessageAAD binds a sealed message body to its message.
func InboxMessageAAD(id string) []byte { return []byte("parley inbox message " + id) }

// Directions of inbox messages.
const (
	DirectionIn   = "in"   // from the customer
	DirectionOut  = "out"  // to the customer (the inbox or the Cloud API)
	DirectionNote = "note" // an agents' internal note, never sent
)

// InboxMessage is one entry of a conversation's timeline: a customer's
// message, a message to the customer with its status, or a note.
type InboxMessage struct {
	ID           string // the wamid; "note." and a random id for notes
	Conversation string
	Business     string
	Direction    string // Direction*
	Type         string // Cloud API type (text, template, …); "note"
	Sealed       []byte // {"<type>": object, …} sealed with AAD InboxMessageAAD(ID)
	ContextID    string // the wamid it answers
	Status       string // Outbound* for outbound messages; "" otherwise
	ErrorCode    int
	Agent        string // the agent who sent it or wrote the note; "" for API sends
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// InboxRecord is what RecordInboxMessage did.
type InboxRecord struct {
	Conversation    *Conversation
	NewMessage      bool // false when the message was recorded before
	NewConversation bool // the customer's first contact with the number
}

// ConversationFilter selects a business's conversations, newest first.
type ConversationFilter struct {
	Business string // required
	State    string // "": any
	Assignee string // "": any; "none": unassigned
	Label    string
	Unread   bool   // only with unread messages
	Customer string // digits: customers whose number starts with it
	Before   time.Time
	Limit    int // 1..500, default 50
}

// Agent roles, by power.
const (
	AgentOwner  = "owner"
	AgentAdmin  = "admin"
	AgentMember = "agent"
)

// ValidAgentRole reports whether r is an agent role.
func ValidAgentRole(r string) bool { return r == AgentOwner || r == AgentAdmin || r == AgentMember }

// Agent is a person who works a business's inbox.
type Agent struct {
	ID             string
	Business       string
	Email          string // lower case; unique across businesses (it signs in)
	Name           string
	Role           string
	PasswordHash   string // argon2id, PHC string form
	TOTPSealed     []byte // the TOTP secret sealed with AAD AgentTOTPAAD(ID); nil: no second factor
	TOTPLastStep   int64  // the last time step accepted (no replay)
	Failures       int    // failed sign-ins since the last success
	LockedUntil    time.Time
	LastSeenAt     time.Time // last request or event-stream heartbeat: "online"
	LastAssignedAt time.Time // round-robin order
	CreatedAt      time.Time
}

// AgentTOTPAAD binds a sealed TOTP secret to its agent.
func AgentTOTPAAD(id string) []byte { return []byte("parley agent totp " + id) }

// Validate checks the fields an operator or owner sets.
func (a *Agent) Validate() error {
	a.Email = strings.ToLower(strings.TrimSpace(a.Email))
	a.Name = strings.TrimSpace(a.Name)
	if ad, err := mail.ParseAddress(a.Email); err != nil || ad.Address != a.Email || len(a.Email) > 254 {
		return Errorf(EINVALID, "email is not a valid email address")
	}
	if utf8.RuneCountInString(a.Name) > 128 {
		return Errorf(EINVALID, "name must have at most 128 characters")
	}
	if !ValidAgentRole(a.Role) {
		return Errorf(EINVALID, "role must be owner, admin or agent")
	}
	return nil
}

// AgentSession is a signed-in browser. The store keeps the SHA-256 of
// its token only.
type AgentSession struct {
	ID         string // public id, to list and revoke
	Hash       []byte // SHA-256 of the token
	CSRFHash   []byte // SHA-256 of the CSRF token
	Agent      string
	Business   string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time
}

// AuditEntry is one agent action, appended and never changed.
type AuditEntry struct {
	Seq      int64
	Business string
	Agent    string // "" for the operator
	Action   string // e.g. "conversation.assign"
	Target   string // the object acted on
	Detail   string
	At       time.Time
}

// Label is a business's conversation label.
type Label struct {
	Business string
	Name     string
	Color    string // #rrggbb
}

var labelColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate checks a label.
func (l *Label) Validate() error {
	l.Name = strings.TrimSpace(l.Name)
	if l.Name == "" || utf8.RuneCountInString(l.Name) > 32 || strings.ContainsAny(l.Name, "\x00\n\r\t,") {
		return Errorf(EINVALID, "label name must have 1 to 32 characters, without commas or line breaks")
	}
	if !labelColor.MatchString(l.Color) {
		return Errorf(EINVALID, "label colour must be #rrggbb")
	}
	l.Color = strings.ToLower(l.Color)
	return nil
}

// Quick-reply limits.
const (
	MaxQuickReplies    = 500
	MaxQuickReplyText  = 4096 // a Cloud API text body's limit
	MaxStandardMessage = 4096
)

var shortcutRE = regexp.MustCompile(`^/[a-z0-9_-]{1,32}$`)

// QuickReply is a saved message an agent inserts with its /shortcut.
// Its text may hold {{name}} (the customer's name or number).
type QuickReply struct {
	Business  string
	Shortcut  string // "/" and 1 to 32 of a-z 0-9 _ -
	Text      string
	UpdatedAt time.Time
}

// Validate checks a quick reply.
func (q *QuickReply) Validate() error {
	q.Shortcut = strings.ToLower(strings.TrimSpace(q.Shortcut))
	if !shortcutRE.MatchString(q.Shortcut) {
		return Errorf(EINVALID, "shortcut must be / and 1 to 32 of a-z, 0-9, _ and -")
	}
	if strings.TrimSpace(q.Text) == "" {
		return Errorf(EINVALID, "quick reply text is empty")
	}
	if utf8.RuneCountInString(q.Text) > MaxQuickReplyText || !utf8.ValidString(q.Text) {
		e := Errorf(ETOOLARGE, "quick reply text must have at most %d characters", MaxQuickReplyText)
		return e
	}
	return nil
}

// ExpandVariables fills {{name}} in a standard message's text.
func ExpandVariables(text, name string) string {
	return strings.ReplaceAll(text, "{{name}}", name)
}

// InboxSettings are a business's standard messages.
type InboxSettings struct {
	Business        string
	GreetingEnabled bool
	Greeting        string // sent on a customer's first contact
	AwayEnabled     bool
	Away            string // sent when the business is closed
	// RetentionDays deletes a resolved conversation, with its messages
	// and notes, this many days after its last message or note (0: kept
	// until the business or the customer erases it).
	RetentionDays int
	Version       int64
	UpdatedAt     time.Time
}

// MaxRetentionDays bounds InboxSettings.RetentionDays (ten years).
const MaxRetentionDays = 3650

// InboxSwept is what one retention sweep deleted of one business's inbox
// (InboxStore.SweepInbox).
type InboxSwept struct {
	Business      string
	Conversations int // resolved conversations past the business's retention
	Web           int // website visitors' conversations past the operator's web-chat retention
	Messages      int // their messages and notes
}

// Validate checks the settings.
func (s *InboxSettings) Validate() error {
	for _, t := range []struct{ name, text string }{{"greeting", s.Greeting}, {"away message", s.Away}} {
		if utf8.RuneCountInString(t.text) > MaxStandardMessage || !utf8.ValidString(t.text) {
			return Errorf(ETOOLARGE, "%s must have at most %d characters", t.name, MaxStandardMessage)
		}
	}
	if s.GreetingEnabled && strings.TrimSpace(s.Greeting) == "" {
		return Errorf(EINVALID, "an enabled greeting needs a text")
	}
	if s.AwayEnabled && strings.TrimSpace(s.Away) == "" {
		return Errorf(EINVALID, "an enabled away message needs a text")
	}
	if s.RetentionDays < 0 || s.RetentionDays > MaxRetentionDays {
		return Errorf(EINVALID, "retention must be between 0 (keep) and %d days", MaxRetentionDays)
	}
	return nil
}

// InboxStore keeps the inbox: conversations and their messages, agents,
// sessions, the audit log, labels, quick replies and settings. Scoping
// to the agent's business is the service's job; methods that take a
// business use it in their WHERE clause as well.
type InboxStore interface {
	// RecordInboxMessage commits m (unless a message with its id exists)
	// and creates or updates its conversation c (ID, Business, Number,
	// Customer, LastSealed) in one transaction: an inbound message
	// raises Unread, sets LastInboundAt and reopens a resolved
	// conversation; in and out messages set the preview and LastAt;
	// notes change only the version. A message recorded before keeps
	// its content; only a missing Agent is filled in (an agent's reply
	// may be recorded first from its status).
	RecordInboxMessage(ctx context.Context, c *Conversation, m *InboxMessage) (*InboxRecord, error)
	// SetInboxStatus moves an outbound message's status forward (see
	// OutboundRank); ENOTFOUND when there is no such message.
	SetInboxStatus(ctx context.Context, id, status string, code int, at time.Time) (m *InboxMessage, changed bool, err error)
	// RecordInboxStatuses records outbound messages and moves each to a
	// status, all in one transaction: for every i, RecordInboxMessage(
	// &cs[i], m) and then SetInboxStatus(m.ID, ms[i].Status,
	// ms[i].ErrorCode, ms[i].UpdatedAt), where m is ms[i] with status
	// accepted, no error code and UpdatedAt = CreatedAt. It returns what
	// each recording did and, where the status moved, the message after
	// the move (nil elsewhere); ms[i].Conversation and Business are set.
	RecordInboxStatuses(ctx context.Context, cs []Conversation, ms []InboxMessage) ([]InboxRecord, []*InboxMessage, error)
	Conversation(ctx context.Context, id string) (*Conversation, error)
	Conversations(ctx context.Context, f ConversationFilter) ([]Conversation, error)
	// UpdateConversation stores State, Assignee, Labels, Unread and
	// AwaySentAt if the stored version is c.Version (ECONFLICT
	// otherwise) and writes the new version into c.
	UpdateConversation(ctx context.Context, c *Conversation) error
	// InboxMessages returns up to limit messages of a conversation
	// created before before (zero: any), newest first.
	InboxMessages(ctx context.Context, conversation string, before time.Time, limit int) ([]InboxMessage, error)
	// CustomerConversations returns the customer's conversations with
	// every business (for the customer's own export, GDPR Art. 15).
	CustomerConversations(ctx context.Context, customer string) ([]Conversation, error)
	// RecentInboxMessages returns the business's latest limit in and out
	// messages, newest first.
	RecentInboxMessages(ctx context.Context, business string, limit int) ([]InboxMessage, error)

	// CreateAgent stores a; ECONFLICT when its business has an agent with
	// its email (the same email may be an agent of other businesses).
	CreateAgent(ctx context.Context, a *Agent) error
	Agent(ctx context.Context, id string) (*Agent, error)
	// AgentsByEmail returns the agents with email (one per business at
	// most), oldest first, up to limit.
	AgentsByEmail(ctx context.Context, email string, limit int) ([]Agent, error)
	// Agents lists a business's agents by email.
	Agents(ctx context.Context, business string) ([]Agent, error)
	// UpdateAgent stores Name, PasswordHash, TOTPSealed and
	// TOTPLastStep; the role changes only through SetAgentRole, so that a
	// concurrent sign-in's update cannot undo a role change.
	UpdateAgent(ctx context.Context, a *Agent) error
	// SetAgentRole changes the role of the business's agent id and
	// returns the old one: ENOTFOUND when the business has no such agent,
	// ECONFLICT when it would leave the business without an owner. The
	// check and the change are one transaction that locks the business's
	// owners, so two owners demoting each other at once cannot both win.
	SetAgentRole(ctx context.Context, business, id, role string) (old string, err error)
	// RemoveTeamAgent deletes the business's agent id and its sessions
	// unless it is the business's last owner (ECONFLICT), in the same
	// kind of transaction as SetAgentRole; ENOTFOUND when the business has
	// no such agent. (DeleteAgent is the operator's, without the check.)
	RemoveTeamAgent(ctx context.Context, business, id string) error
	// DeleteAgent deletes the agent and its sessions; ENOTFOUND when
	// unknown.
	DeleteAgent(ctx context.Context, id string) error
	// AgentLoginFailed counts a failed sign-in; the max-th in a row
	// locks the agent until lockUntil (and starts counting again).
	AgentLoginFailed(ctx context.Context, id string, max int, lockUntil time.Time) (locked bool, err error)
	// AgentLoginSucceeded clears the failure count.
	AgentLoginSucceeded(ctx context.Context, id string) error
	// TouchAgent records that the agent is online at at.
	TouchAgent(ctx context.Context, id string, at time.Time) error
	// NextAgent picks, for round-robin assignment, the business's agent
	// seen since onlineSince that was assigned longest ago, and records
	// the assignment at at; ENOTFOUND when no agent is online.
	NextAgent(ctx context.Context, business string, onlineSince, at time.Time) (*Agent, error)

	CreateAgentSession(ctx context.Context, s *AgentSession) error
	// AgentSession returns the session whose token hashes to hash,
	// revoked or expired ones too (the service decides); ENOTFOUND when
	// none.
	AgentSession(ctx context.Context, hash []byte) (*AgentSession, error)
	// AgentSessions lists an agent's sessions that are not revoked and
	// expire after now, newest first.
	AgentSessions(ctx context.Context, agent string, now time.Time) ([]AgentSession, error)
	// TouchAgentSession records use of the session and extends it.
	TouchAgentSession(ctx context.Context, id string, seen, expires time.Time) error
	// RevokeAgentSession revokes one session of agent ("" id: all of
	// them); ENOTFOUND when id names none of the agent's live sessions.
	RevokeAgentSession(ctx context.Context, agent, id string, at time.Time) error

	// AppendAudit adds an entry (its Seq is filled in). The log has no
	// update or delete.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Audit returns a business's entries with Seq < before (0: any),
	// newest first.
	Audit(ctx context.Context, business string, before int64, limit int) ([]AuditEntry, error)

	PutLabel(ctx context.Context, l *Label) error
	Labels(ctx context.Context, business string) ([]Label, error)
	// DeleteLabel removes it (and from every conversation);
	// ENOTFOUND when unknown.
	DeleteLabel(ctx context.Context, business, name string) error

	// PutQuickReply inserts or replaces; ETOOLARGE beyond
	// MaxQuickReplies per business.
	PutQuickReply(ctx context.Context, q *QuickReply) error
	QuickReplies(ctx context.Context, business string) ([]QuickReply, error)
	DeleteQuickReply(ctx context.Context, business, shortcut string) error

	// InboxSettings returns the business's settings, empty with
	// Version 0 when never set.
	InboxSettings(ctx context.Context, business string) (*InboxSettings, error)
	// PutInboxSettings stores s if the stored version is s.Version
	// (ECONFLICT otherwise) and writes the new version into s.
	PutInboxSettings(ctx context.Context, s *InboxSettings) error

	// SweepInbox deletes, in batches of at most limit conversations per
	// transaction, the resolved conversations whose business keeps them
	// RetentionDays and whose last activity is older than that before
	// now, and the website visitors' conversations (any state) last active
	// before webBefore together with the visitors last seen before it
	// (zero webBefore: none). Messages and notes go with their
	// conversation. It reports what it deleted per business.
	SweepInbox(ctx context.Context, now, webBefore time.Time, limit int) ([]InboxSwept, error)
}
