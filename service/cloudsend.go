package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/parley-chat/parley"
)

// Pair rate limit: Meta allows one message per 6 seconds to the same
// user, with bursts of up to 45 that borrow from later quota.
const (
	pairRate  = 1.0 / 6
	pairBurst = 45
)

// SendResult is the answer to an accepted send.
type SendResult struct {
	Input         string // "to" as sent
	WaID          string // the normalized recipient
	WAMID         string
	MessageStatus string // "accepted" for templates; "" otherwise
	Read          bool   // a mark-as-read request: answer {"success":true}
}

// NewWAMID returns a message id in the form of WhatsApp's: "wamid." and
// base64 of 48 bits of milliseconds and 96 random bits, so that ids sort
// roughly by time (cheap index inserts) and are unguessable.
func NewWAMID(now time.Time) string {
	var b [18]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return "wamid." + base64.StdEncoding.EncodeToString(b[:])
}

type cachedTemplate struct {
	t     *parley.Template
	shape *parley.TemplateShape
}

func templateKey(business, name, language string) string {
	return business + "|" + name + "|" + language
}

func (s *Business) template(ctx context.Context, business, name, language string) (*cachedTemplate, error) {
	return s.templates.get(templateKey(business, name, language), s.clock.Now(), func() (*cachedTemplate, error) {
		t, err := s.store.TemplateByName(ctx, business, name, language)
		if err != nil {
			return nil, err
		}
		sh, err := t.Shape()
		if err != nil {
			return nil, err
		}
		return &cachedTemplate{t, sh}, nil
	})
}

// Send accepts a Cloud API message from numberID: it validates m with
// Meta's rules, normalizes the recipient, checks a template send against
// its template, applies the synchronous policy (the number's throughput,
// the per-recipient pair limit) and commits the message to the outbound
// queue. Everything asynchronous (no Parley account, outside the
// customer-service window, marketing opt-out) is the delivery worker's,
// reported later as a failed status.
func (s *Business) Send(ctx context.Context, c *Caller, numberID string, m *parley.CloudMessage) (*SendResult, error) {
	n, err := s.number(ctx, c, numberID)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if m.IsRead() {
		o := &parley.Outbound{WAMID: NewWAMID(now), Number: n.ID, Type: parley.MessageRead, CreatedAt: now}
		if o.Body, err = json.Marshal(m); err != nil {
			return nil, err
		}
		if err := s.enqueue(ctx, o); err != nil {
			return nil, err
		}
		return &SendResult{Read: true}, nil
	}
	input := m.To
	to, err := parley.NormalizeRecipient(m.To, n.Account)
	if err != nil {
		return nil, err
	}
	if to == n.Account {
		e := parley.Errorf(parley.EINVALID, "Recipient cannot be sender.")
		e.Reason = parley.ReasonRecipientIsSender
		return nil, e
	}
	o := &parley.Outbound{Number: n.ID, To: to, Type: m.Type, BizOpaque: m.BizOpaque, CreatedAt: now}
	if m.Context != nil {
		o.ContextID = m.Context.MessageID
	}
	res := &SendResult{Input: input, WaID: to}
	if m.Type == parley.MessageTemplate {
		ct, err := s.template(ctx, n.Business, m.Template.Name, m.Template.Language.Code)
		if err != nil {
			return nil, err
		}
		if err := m.Template.CheckTemplate(ct.t, ct.shape); err != nil {
			return nil, err
		}
		o.Category = ct.t.Category
		res.MessageStatus = "accepted"
	}
	if err := s.checkProducts(ctx, n.Business, m); err != nil {
		return nil, err
	}

	// Policy last, so that invalid requests use no quota.
	rate := float64(n.Rate())
	numKey := "n|" + n.ID
	if !s.policy.allow(numKey, rate, rate, now) {
		e := parley.Errorf(parley.ERATELIMIT, "Cloud API message throughput has been reached.")
		e.Reason = parley.ReasonThroughput
		return nil, e
	}
	pairKey := "p|" + n.ID + "|" + to
	if !s.policy.allow(pairKey, pairRate, pairBurst, now) {
		s.policy.give(numKey)
		e := parley.Errorf(parley.ERATELIMIT, "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.")
		e.Reason = parley.ReasonPairRate
		return nil, e
	}

	m.To = to
	if o.Body, err = json.Marshal(m); err != nil {
		return nil, err
	}
	o.WAMID = NewWAMID(now)
	if err := s.enqueue(ctx, o); err != nil {
		s.policy.give(numKey)
		s.policy.give(pairKey)
		return nil, err
	}
	res.WAMID = o.WAMID
	return res, nil
}

func (s *Business) enqueue(ctx context.Context, o *parley.Outbound) error {
	if err := s.store.Enqueue(ctx, o); err != nil {
		return err
	}
	s.opt.Queue.Queued(o)
	return nil
}
