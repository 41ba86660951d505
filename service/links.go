package service

import (
	"context"

	"github.com/parley-chat/parley"
)

// Links holds QR codes and short links (the Cloud API's message_qrdls)
// and the public reads behind click-to-chat: a business's public card
// and a code's number and prefilled message, for people who are not
// signed in. Management is scoped to the caller's business like every
// Cloud API object: another business's code is answered exactly like an
// unknown one. Public reads are rate-limited per client address (in
// memory, per node, like the Cloud API's other limits).
type Links struct {
	biz    *Business
	store  parley.QRLinkStore
	clock  parley.Clock
	public *limiter
	// PublicRate and PublicBurst bound public reads per client address:
	// requests a second and the burst (1/s, 60).
	PublicRate, PublicBurst float64
}

// NewLinks returns the links service of the business platform biz.
func NewLinks(biz *Business, store parley.QRLinkStore) *Links {
	return &Links{biz: biz, store: store, clock: biz.clock, public: newLimiter(), PublicRate: 1, PublicBurst: 60}
}

// codeNotFound is the Graph error for codes that are unknown, deleted or
// another business's.
func codeNotFound(code string) error { return objectNotFound(code) }

// own returns a live code of the caller's number.
func (s *Links) own(ctx context.Context, c *Caller, numberID, code string) (*parley.QRLink, error) {
	if _, err := s.biz.number(ctx, c, numberID); err != nil {
		return nil, err
	}
	if !parley.ValidQRCode(code) {
		return nil, codeNotFound(code)
	}
	l, err := s.store.QRLink(ctx, code)
	if parley.Match(err, parley.ENOTFOUND) || err == nil && (l.Number != numberID || !l.DeletedAt.IsZero()) {
		return nil, codeNotFound(code)
	}
	return l, err
}

// Create makes a new code for the caller's number.
func (s *Links) Create(ctx context.Context, c *Caller, numberID, prefilled string) (*parley.QRLink, error) {
	n, err := s.biz.number(ctx, c, numberID)
	if err != nil {
		return nil, err
	}
	if err := parley.ValidatePrefilled(prefilled); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	for range 3 { // a collision of 72 random bits is not expected; retry anyway
		l := &parley.QRLink{Code: parley.NewQRCode(), Business: n.Business, Number: n.ID, Account: n.Account, Prefilled: prefilled,
			CreatedAt: now, UpdatedAt: now}
		err = s.store.CreateQRLink(ctx, l, parley.MaxQRLinks)
		if err == nil {
			return l, nil
		}
		if parley.Match(err, parley.ERATELIMIT) {
			return nil, parley.Errorf(parley.EINVALID, "Phone number %s has %d QR codes and short links, the most it can have: delete some first.", n.ID, parley.MaxQRLinks)
		}
		if !parley.Match(err, parley.ECONFLICT) {
			return nil, err
		}
	}
	return nil, err
}

// Update changes the prefilled message of a code of the caller's number.
func (s *Links) Update(ctx context.Context, c *Caller, numberID, code, prefilled string) (*parley.QRLink, error) {
	l, err := s.own(ctx, c, numberID, code)
	if err != nil {
		return nil, err
	}
	if err := parley.ValidatePrefilled(prefilled); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if err := s.store.UpdateQRLink(ctx, code, prefilled, now); parley.Match(err, parley.ENOTFOUND) {
		return nil, codeNotFound(code) // deleted meanwhile
	} else if err != nil {
		return nil, err
	}
	l.Prefilled, l.UpdatedAt = prefilled, now
	return l, nil
}

// Get returns a live code of the caller's number.
func (s *Links) Get(ctx context.Context, c *Caller, numberID, code string) (*parley.QRLink, error) {
	return s.own(ctx, c, numberID, code)
}

// List lists the live codes of the caller's number, newest first.
func (s *Links) List(ctx context.Context, c *Caller, numberID, after string, limit int) ([]parley.QRLink, bool, error) {
	if _, err := s.biz.number(ctx, c, numberID); err != nil {
		return nil, false, err
	}
	if after != "" && !parley.ValidQRCode(after) {
		return nil, false, parley.Errorf(parley.EINVALID, "Param after is not a valid cursor.")
	}
	return s.store.QRLinks(ctx, numberID, after, min(max(limit, 1), 1000))
}

// Delete deletes a code of the caller's number; its link says it
// expired from then on.
func (s *Links) Delete(ctx context.Context, c *Caller, numberID, code string) error {
	if _, err := s.own(ctx, c, numberID, code); err != nil {
		return err
	}
	if err := s.store.DeleteQRLink(ctx, code, s.clock.Now()); parley.Match(err, parley.ENOTFOUND) {
		return codeNotFound(code)
	} else if err != nil {
		return err
	}
	return nil
}

// allowPublic takes one public read of the client address addr.
func (s *Links) allowPublic(addr string) error {
	if !s.public.allow("public|"+addr, s.PublicRate, s.PublicBurst, s.clock.Now()) {
		return parley.Errorf(parley.ERATELIMIT, "too many requests; try again in a minute")
	}
	return nil
}

// PublicCode returns a live code for anyone who has it (the code is the
// capability), with its business's card: what a click-to-chat landing
// page shows. A deleted code is EEXPIRED.
func (s *Links) PublicCode(ctx context.Context, code, addr string) (*parley.QRLink, *BusinessCard, error) {
	if err := s.allowPublic(addr); err != nil {
		return nil, nil, err
	}
	l, err := s.liveCode(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	card, err := s.biz.Card(ctx, l.Account)
	if err != nil {
		return nil, nil, err
	}
	return l, card, nil
}

// liveCode returns a live code; ENOTFOUND when unknown, EEXPIRED when
// deleted.
func (s *Links) liveCode(ctx context.Context, code string) (*parley.QRLink, error) {
	if !parley.ValidQRCode(code) {
		return nil, parley.Errorf(parley.ENOTFOUND, "there is no QR code or short link %q", clipCode(code))
	}
	l, err := s.store.QRLink(ctx, code)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, parley.Errorf(parley.ENOTFOUND, "there is no QR code or short link %s", code)
	}
	if err != nil {
		return nil, err
	}
	if !l.DeletedAt.IsZero() {
		return nil, parley.Errorf(parley.EEXPIRED, "this QR code or short link has expired")
	}
	return l, nil
}

func clipCode(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// PublicCard returns the public card of a business number for anyone
// (the landing page of a click-to-chat link). Accounts that are not
// businesses are ENOTFOUND: whether a person has an account is not told.
func (s *Links) PublicCard(ctx context.Context, account, addr string) (*BusinessCard, error) {
	if err := s.allowPublic(addr); err != nil {
		return nil, err
	}
	if !parley.ValidAccountID(account) {
		return nil, parley.Errorf(parley.EINVALID, "the number must be 8 to 15 digits with the country code")
	}
	return s.biz.Card(ctx, account)
}

// QRImage returns the live code an image is asked for (rate-limited
// like the other public reads).
func (s *Links) QRImage(ctx context.Context, code, addr string) (*parley.QRLink, error) {
	if err := s.allowPublic(addr); err != nil {
		return nil, err
	}
	return s.liveCode(ctx, code)
}
