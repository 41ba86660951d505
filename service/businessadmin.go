package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/parley-chat/parley"
)

// Operator actions on the business platform (the admin API and
// `parley admin business`). They are not scoped to a caller: the
// operator token is checked by the transport.

// NewBusinessRequest describes a business to create with its first
// number.
type NewBusinessRequest struct {
	Name         string
	Phone        string // E.164 with +
	VerifiedName string // default: Name
	WebhookURL   string // optional: the app's callback URL (handshake first)
	VerifyToken  string
	Throughput   int // messages per second; default BusinessOptions.Throughput
}

// NewBusinessResult is everything a developer needs to point an SDK at
// the new business. AppSecret and AccessToken are shown only here.
type NewBusinessResult struct {
	Business    parley.Business
	App         parley.App
	AppSecret   string
	Number      parley.BusinessNumber
	AccessToken string
	TokenID     string
}

// CreateBusiness creates a business, its app (with a fresh secret), its
// first number and an access token, in one transaction. The number's
// Parley account is created unless it exists (it is reused: a person's
// number can become a business number). When a webhook URL is given the
// handshake runs first and the app is subscribed to the business.
// Hosted devices are told about the number after the commit.
func (s *Business) CreateBusiness(ctx context.Context, req NewBusinessRequest) (*NewBusinessResult, error) {
	now := s.clock.Now()
	phone, err := parley.ParsePhone(req.Phone)
	if err != nil {
		return nil, err
	}
	b := parley.Business{ID: NewGraphID(), Name: req.Name, CreatedAt: now}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if req.VerifiedName == "" {
		req.VerifiedName = b.Name
	}
	if req.Throughput == 0 {
		req.Throughput = s.opt.Throughput
	}
	n := parley.BusinessNumber{ID: NewGraphID(), Business: b.ID, Account: phone, DisplayPhone: "+" + phone,
		VerifiedName: req.VerifiedName, Quality: parley.QualityGreen, Throughput: req.Throughput, MessagingTier: "TIER_250", CreatedAt: now}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	if req.WebhookURL != "" {
		if err := s.verifyCallback(ctx, req.WebhookURL, req.VerifyToken); err != nil {
			return nil, err
		}
	}
	if s.sealer == nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "no at-rest key is configured")
	}
	var raw [16]byte
	rand.Read(raw[:])
	secret := hex.EncodeToString(raw[:])
	app := parley.App{ID: NewGraphID(), Business: b.ID, Name: b.Name, CreatedAt: now}
	if app.SecretSealed, err = s.sealer.Seal([]byte(secret), parley.AppSecretAAD(app.ID)); err != nil {
		return nil, err
	}
	if req.WebhookURL != "" {
		app.CallbackURL, app.VerifyToken, app.Fields = req.WebhookURL, req.VerifyToken, DefaultWebhookFields
	}
	tok, token := newAccessToken(b.ID, "created with the business", now)
	if _, _, err := s.store.EnsureAccount(ctx, phone, now); err != nil {
		return nil, err
	}
	if err := s.store.CreateBusiness(ctx, &b, &app, &n, tok); err != nil {
		return nil, err
	}
	// Every app of a business is subscribed to it, as Meta's embedded
	// signup does.
	if err := s.store.Subscribe(ctx, &parley.Subscription{Business: b.ID, App: app.ID, CreatedAt: now}); err != nil {
		return nil, err
	}
	if err := s.opt.Hosted.NumberCreated(ctx, &n); err != nil {
		s.log.Error("hosted device for a new business number", "number", n.ID, "err", err)
	}
	s.log.Info("business created", "business", b.ID, "number", n.ID, "app", app.ID)
	return &NewBusinessResult{Business: b, App: app, AppSecret: secret, Number: n, AccessToken: token, TokenID: tok.ID}, nil
}

// BusinessSummary is a business with its numbers, for the operator.
type BusinessSummary struct {
	Business parley.Business
	Numbers  []parley.BusinessNumber
	Apps     []parley.App
}

// ListBusinesses lists every business with its numbers and apps.
func (s *Business) ListBusinesses(ctx context.Context) ([]BusinessSummary, error) {
	bs, err := s.store.Businesses(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]BusinessSummary, 0, len(bs))
	for _, b := range bs {
		ns, err := s.store.BusinessNumbers(ctx, b.ID)
		if err != nil {
			return nil, err
		}
		apps, err := s.store.Apps(ctx, b.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, BusinessSummary{Business: b, Numbers: ns, Apps: apps})
	}
	return out, nil
}

// CreateToken issues a new access token for the business and returns it
// (shown only now) with its id.
func (s *Business) CreateToken(ctx context.Context, waba, name string) (token, id string, err error) {
	if _, err := s.store.Business(ctx, waba); err != nil {
		return "", "", err
	}
	if len(name) > 128 {
		return "", "", parley.Errorf(parley.EINVALID, "token name is longer than 128 characters")
	}
	t, tok := newAccessToken(waba, name, s.clock.Now())
	if err := s.store.CreateAccessToken(ctx, t); err != nil {
		return "", "", err
	}
	return tok, t.ID, nil
}

// RevokeToken revokes a token given by id or as the whole token. It
// takes effect at once on this node and within the cache TTL on others.
func (s *Business) RevokeToken(ctx context.Context, idOrToken string) error {
	id := idOrToken
	if tid, _, ok := parseAccessToken(idOrToken); ok {
		id = tid
	}
	if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
		return parley.Errorf(parley.EINVALID, "give a token id (16 hex digits) or the token")
	}
	if err := s.store.RevokeAccessToken(ctx, id, s.clock.Now()); err != nil {
		return err
	}
	s.tokens.invalidate(id)
	return nil
}

// Tokens lists a business's tokens (without secrets).
func (s *Business) Tokens(ctx context.Context, waba string) ([]parley.AccessToken, error) {
	if _, err := s.store.Business(ctx, waba); err != nil {
		return nil, err
	}
	return s.store.AccessTokens(ctx, waba)
}

// SetThroughput changes a number's throughput (messages per second).
func (s *Business) SetThroughput(ctx context.Context, numberID string, mps int) (*parley.BusinessNumber, error) {
	n, err := s.store.BusinessNumber(ctx, numberID)
	if err != nil {
		return nil, err
	}
	n.Throughput = mps
	if mps <= 0 {
		return nil, parley.Errorf(parley.EINVALID, "throughput must be at least 1 message per second")
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.UpdateBusinessNumber(ctx, n); err != nil {
		return nil, err
	}
	s.numbers.invalidate(numberID)
	return n, nil
}
