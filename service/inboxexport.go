package service

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// CustomerInbox is one conversation of a customer with a business as the
// business inbox keeps it, opened, for the customer's own export.
type CustomerInbox struct {
	Conversation *ConversationView `json:"conversation"`
	Messages     []*MessageView    `json:"messages"` // oldest first; agents' notes about the customer included
}

// CustomerData returns every conversation the business inbox keeps with
// the customer (GDPR Art. 15): metadata, messages and agents' notes,
// decrypted from their at-rest seal.
func (s *Inbox) CustomerData(ctx context.Context, customer string) ([]CustomerInbox, error) {
	convs, err := s.store.CustomerConversations(ctx, customer)
	if err != nil {
		return nil, err
	}
	// A website chat the customer moved to the messenger is theirs too.
	for i := range convs {
		if convs[i].Linked == "" || parley.IsWebCustomer(convs[i].Customer) {
			continue
		}
		if web, err := s.store.Conversation(ctx, convs[i].Linked); err == nil && parley.IsWebCustomer(web.Customer) {
			convs = append(convs, *web)
		} else if err != nil && !parley.Match(err, parley.ENOTFOUND) {
			return nil, err
		}
	}
	out := make([]CustomerInbox, 0, len(convs))
	for i := range convs {
		ci := CustomerInbox{Conversation: s.conversationView(&convs[i]), Messages: []*MessageView{}}
		var before time.Time
		for {
			page, err := s.store.InboxMessages(ctx, convs[i].ID, before, 500)
			if err != nil {
				return nil, err
			}
			for j := range page {
				ci.Messages = append(ci.Messages, s.messageView(&page[j]))
			}
			if len(page) < 500 {
				break
			}
			// Pages are newest first and hold what was created before
			// `before`; the next starts just after the oldest one's time,
			// so messages of that same microsecond are read again (and
			// dropped below) rather than skipped.
			next := page[len(page)-1].CreatedAt.Add(time.Microsecond)
			if !before.IsZero() && !next.Before(before) {
				break // 500 messages in one microsecond: nothing older can be reached this way
			}
			before = next
		}
		ci.Messages = oldestFirst(ci.Messages)
		out = append(out, ci)
	}
	return out, nil
}

// oldestFirst reverses newest-first pages and drops repeated ids.
func oldestFirst(ms []*MessageView) []*MessageView {
	seen := map[string]bool{}
	out := make([]*MessageView, 0, len(ms))
	for i := len(ms) - 1; i >= 0; i-- {
		if !seen[ms[i].ID] {
			seen[ms[i].ID] = true
			out = append(out, ms[i])
		}
	}
	return out
}
