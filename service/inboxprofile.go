package service

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// InboxProfiles lets a business's agents read and edit the business
// profiles of its numbers from the business app (docs/inbox.md,
// "Business app"). Every agent may read them; owners and admins may
// change them. A change is audited (profile.update).
type InboxProfiles struct {
	Inbox    *Inbox
	Business *Business
}

func agentCaller(a *AgentAuth) *Caller { return &Caller{Business: a.Agent.Business} }

// Numbers lists the numbers of the agent's business.
func (p *InboxProfiles) Numbers(ctx context.Context, a *AgentAuth) ([]parley.BusinessNumber, error) {
	return p.Business.store.BusinessNumbers(ctx, a.Agent.Business)
}

// Profile returns a number of the agent's business and its profile (an
// empty one with a zero UpdatedAt when none was ever saved); another
// business's number is ENOTFOUND, like an unknown one.
func (p *InboxProfiles) Profile(ctx context.Context, a *AgentAuth, numberID string) (*parley.BusinessNumber, *parley.BusinessProfile, error) {
	n, err := p.Business.number(ctx, agentCaller(a), numberID)
	if err != nil {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "no such number")
	}
	prof, err := p.Business.store.Profile(ctx, n.ID)
	if parley.Match(err, parley.ENOTFOUND) {
		prof, err = &parley.BusinessProfile{Number: n.ID}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return n, prof, nil
}

// Now is the clock's time (for "open now" in the answers).
func (p *InboxProfiles) Now() time.Time { return p.Business.clock.Now() }

// PutProfile replaces every field of the number's profile except the
// picture with prof's. seen is the UpdatedAt (unix milliseconds) of the
// profile the agent edited, 0 for one never saved: when the profile
// changed since (another agent, or an integration through the Cloud
// API), nothing is written and the answer is ECONFLICT. The write
// repeats the check in its statement (PutProfileIf), so of two saves of
// the same version on two nodes only one is stored.
func (p *InboxProfiles) PutProfile(ctx context.Context, a *AgentAuth, numberID string, prof *parley.BusinessProfile, seen int64) (*parley.BusinessProfile, error) {
	if err := a.require(parley.AgentAdmin); err != nil {
		return nil, err
	}
	n, cur, err := p.Profile(ctx, a, numberID)
	if err != nil {
		return nil, err
	}
	if v := stamp(cur.UpdatedAt); v != seen {
		return nil, parley.Errorf(parley.ECONFLICT, "the profile was changed by someone else since you opened it; reload it and make your changes again")
	}
	next := *prof
	next.Number = n.ID
	next.PictureHandle = cur.PictureHandle
	if next.Websites == nil {
		next.Websites = []string{}
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	now := p.Business.clock.Now()
	if stamp(now) <= seen { // keep versions increasing even if the clock stands still
		now = time.UnixMilli(seen + 1)
	}
	next.UpdatedAt = now
	var seenAt time.Time
	if seen != 0 {
		seenAt = time.UnixMilli(seen)
	}
	if err := p.Business.store.PutProfileIf(ctx, &next, seenAt); err != nil {
		return nil, err
	}
	p.Inbox.audit(ctx, a.Agent.Business, a.Agent.ID, "profile.update", n.ID, "")
	return &next, nil
}

func stamp(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
