package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// BusinessStore is what the business platform needs from storage.
type BusinessStore interface {
	EnsureAccount(ctx context.Context, id string, now time.Time) (*parley.Account, bool, error)
	parley.BusinessStore
	parley.TemplateStore
	parley.OutboundQueue
	parley.BusinessMediaStore
	parley.PictureStore
	parley.CatalogStore
	Listing(ctx context.Context, number string) (*parley.DirectoryListing, error)
}

// HostedDevices provisions the hosted business device of a number: the
// device that holds the number's Signal keys at the platform and
// encrypts and decrypts on the business's behalf. The business service
// calls NumberCreated after a number was committed; an error is logged
// (the number exists either way) and the call may be repeated.
type HostedDevices interface {
	NumberCreated(ctx context.Context, n *parley.BusinessNumber) error
}

// BusinessEvents receives business events after they were committed, to
// turn them into webhooks (message_template_status_update). It must not
// block for long: it is called on the request's path.
type BusinessEvents interface {
	TemplateStatusChanged(ctx context.Context, ev parley.TemplateEvent)
}

// OutboundListener is told about every message committed to the
// outbound queue, so that the number's delivery worker can wake up
// instead of polling. It must not block.
type OutboundListener interface {
	Queued(o *parley.Outbound)
}

// CallbackVerifier performs Meta's webhook verification handshake: a GET
// of url with hub.mode=subscribe, hub.verify_token and hub.challenge,
// succeeding only when the challenge comes back. It refuses URLs on
// private addresses unless the operator allows them.
type CallbackVerifier interface {
	VerifyCallback(ctx context.Context, url, verifyToken string) error
}

type noHosted struct{}

func (noHosted) NumberCreated(context.Context, *parley.BusinessNumber) error { return nil }

type noEvents struct{}

func (noEvents) TemplateStatusChanged(context.Context, parley.TemplateEvent) {}

type noListener struct{}

func (noListener) Queued(*parley.Outbound) {}

// BusinessOptions configure the business service. Zero values take the
// defaults noted.
type BusinessOptions struct {
	Hosted   HostedDevices    // no-op
	Events   BusinessEvents   // no-op
	Queue    OutboundListener // no-op
	Verifier CallbackVerifier // nil: callback URLs cannot be set
	Media    *Media           // the blob store of business media; nil: the media API is unavailable
	// ManualReview leaves new templates PENDING until an operator
	// approves or rejects them; otherwise the automatic review decides
	// at once.
	ManualReview bool
	// Throughput of new numbers, messages per second (80).
	Throughput int
	// AuthFailures is how many failed token checks one client address
	// may make per minute before it is refused (30).
	AuthFailures int
	// CacheTTL bounds how long a node keeps tokens, numbers and
	// templates it read (5s); changes made on this node apply at once.
	CacheTTL time.Duration
}

// Business is the business platform: businesses and their numbers, apps,
// tokens, webhook configuration, profiles and templates, and the
// acceptance path of Cloud API sends (validation, policy, the outbound
// queue). Every method that takes a Caller is scoped to its business: an
// object of another business is reported exactly like an unknown one.
type Business struct {
	store  BusinessStore
	sealer parley.Sealer
	clock  parley.Clock
	log    *slog.Logger
	opt    BusinessOptions

	tokens    *ttlCache[*parley.AccessToken]
	numbers   *ttlCache[*parley.BusinessNumber]
	templates *ttlCache[*cachedTemplate]
	policy    *limiter // throughput and pair rate
	failures  *limiter // failed token checks per client address
}

// NewBusiness returns the business service. sealer keeps app secrets.
func NewBusiness(store BusinessStore, sealer parley.Sealer, clock parley.Clock, log *slog.Logger, opt BusinessOptions) *Business {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	if opt.Hosted == nil {
		opt.Hosted = noHosted{}
	}
	if opt.Events == nil {
		opt.Events = noEvents{}
	}
	if opt.Queue == nil {
		opt.Queue = noListener{}
	}
	if opt.Throughput <= 0 {
		opt.Throughput = parley.DefaultThroughput
	}
	if opt.AuthFailures <= 0 {
		opt.AuthFailures = 30
	}
	if opt.CacheTTL <= 0 {
		opt.CacheTTL = 5 * time.Second
	}
	return &Business{store: store, sealer: sealer, clock: clock, log: log, opt: opt,
		tokens: newTTLCache[*parley.AccessToken](opt.CacheTTL), numbers: newTTLCache[*parley.BusinessNumber](opt.CacheTTL),
		templates: newTTLCache[*cachedTemplate](opt.CacheTTL), policy: newLimiter(), failures: newLimiter()}
}

// Caller is who a Cloud API request acts for: a business (system-user
// access token) or an app (app access token "app-id|app-secret").
type Caller struct {
	Business string // the token's business; "" for app tokens
	App      string // the app of an app token; ""
	TokenID  string
}

// NewGraphID returns a random Graph id: 16 decimal digits, the first
// not 0, about 53 bits of randomness, and below 2^53. Meta's payloads
// carry some ids as JSON numbers (message_template_id in template
// webhooks), and JavaScript parses numbers as doubles: an id above 2^53
// would arrive changed in every Node.js integration.
func NewGraphID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(maxGraphID-minGraphID))
	return n.Add(n, big.NewInt(minGraphID)).String()
}

const (
	minGraphID = 1_000_000_000_000_000 // the smallest id of 16 digits
	maxGraphID = 1 << 53               // 9,007,199,254,740,992: exact in a float64
)

// Access tokens have the form "PAT" + 16 hex digits (the token id, which
// selects the row) + 43 characters of base64url secret, whose SHA-256
// the store keeps.
const tokenPrefix = "PAT"

func newAccessToken(business, name string, now time.Time) (*parley.AccessToken, string) {
	var id [8]byte
	rand.Read(id[:])
	var sec [32]byte
	rand.Read(sec[:])
	tid := hex.EncodeToString(id[:])
	secret := base64.RawURLEncoding.EncodeToString(sec[:])
	h := sha256.Sum256([]byte(secret))
	return &parley.AccessToken{ID: tid, Business: business, Name: name, Hash: h[:], CreatedAt: now}, tokenPrefix + tid + secret
}

func parseAccessToken(tok string) (id, secret string, ok bool) {
	if len(tok) != len(tokenPrefix)+16+43 || !strings.HasPrefix(tok, tokenPrefix) {
		return "", "", false
	}
	return tok[3:19], tok[19:], true
}

func unauthorized(msg string) error {
	return parley.Errorf(parley.EUNAUTHORIZED, "%s", msg)
}

// Authenticate checks an access token (or an app token) presented by
// the client at addr. Clients that fail too often are refused for a
// while (ERATELIMIT) before their token is even looked at.
func (s *Business) Authenticate(ctx context.Context, token, addr string) (*Caller, error) {
	now := s.clock.Now()
	if s.failures.exhausted("auth|"+addr, float64(s.opt.AuthFailures)/60, float64(s.opt.AuthFailures), now) {
		e := parley.Errorf(parley.ERATELIMIT, "Application request limit reached")
		e.Reason = parley.ReasonCallLimit
		return nil, e
	}
	c, err := s.authenticate(ctx, token)
	if parley.Match(err, parley.EUNAUTHORIZED) {
		s.failures.allow("auth|"+addr, float64(s.opt.AuthFailures)/60, float64(s.opt.AuthFailures), now)
	}
	return c, err
}

func (s *Business) authenticate(ctx context.Context, token string) (*Caller, error) {
	if token == "" {
		return nil, unauthorized("An active access token must be used to query information about the current user.")
	}
	if appID, secret, ok := strings.Cut(token, "|"); ok {
		return s.authenticateApp(ctx, appID, secret)
	}
	id, secret, ok := parseAccessToken(token)
	if !ok {
		return nil, unauthorized("Invalid OAuth access token - Cannot parse access token")
	}
	t, err := s.tokens.get(id, s.clock.Now(), func() (*parley.AccessToken, error) { return s.store.AccessToken(ctx, id) })
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, unauthorized("Invalid OAuth access token - Cannot parse access token")
	} else if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(h[:], t.Hash) != 1 {
		return nil, unauthorized("Invalid OAuth access token - Cannot parse access token")
	}
	if !t.RevokedAt.IsZero() {
		e := parley.Errorf(parley.EUNAUTHORIZED, "Error validating access token: The session has been invalidated because the token was revoked.")
		e.Reason = parley.ReasonTokenRevoked
		return nil, e
	}
	return &Caller{Business: t.Business, TokenID: t.ID}, nil
}

func (s *Business) authenticateApp(ctx context.Context, appID, secret string) (*Caller, error) {
	if !parley.ValidGraphID(appID) {
		return nil, unauthorized("Invalid OAuth access token - Cannot parse access token")
	}
	a, err := s.store.App(ctx, appID)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, unauthorized("Invalid OAuth access token - Cannot parse access token")
	} else if err != nil {
		return nil, err
	}
	want, err := s.appSecret(a)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		return nil, unauthorized("Invalid OAuth access token - Cannot parse access token")
	}
	return &Caller{App: a.ID}, nil
}

func (s *Business) appSecret(a *parley.App) (string, error) {
	if s.sealer == nil {
		return "", parley.Errorf(parley.EUNAVAILABLE, "no at-rest key is configured")
	}
	b, err := s.sealer.Open(a.SecretSealed, parley.AppSecretAAD(a.ID))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AppSecret returns an app's secret in clear, to sign its webhooks.
func (s *Business) AppSecret(ctx context.Context, appID string) (string, error) {
	a, err := s.store.App(ctx, appID)
	if err != nil {
		return "", err
	}
	return s.appSecret(a)
}

// objectNotFound is the Graph error for ids that are unknown or belong
// to another business.
func objectNotFound(id string) error {
	e := parley.Errorf(parley.ENOTFOUND, "Object with ID '%s' does not exist", id)
	e.Reason = parley.ReasonObject
	return e
}

// number returns a number of the caller's business.
func (s *Business) number(ctx context.Context, c *Caller, id string) (*parley.BusinessNumber, error) {
	if !parley.ValidGraphID(id) {
		return nil, objectNotFound(id)
	}
	n, err := s.numbers.get(id, s.clock.Now(), func() (*parley.BusinessNumber, error) { return s.store.BusinessNumber(ctx, id) })
	if err != nil {
		return nil, err
	}
	if c == nil || c.Business == "" || n.Business != c.Business {
		return nil, objectNotFound(id)
	}
	return n, nil
}

// Number returns a phone number of the caller's business.
func (s *Business) Number(ctx context.Context, c *Caller, id string) (*parley.BusinessNumber, error) {
	return s.number(ctx, c, id)
}

// WABA returns the caller's business by id.
func (s *Business) WABA(ctx context.Context, c *Caller, id string) (*parley.Business, error) {
	if c == nil || c.Business != id {
		return nil, objectNotFound(id)
	}
	return s.store.Business(ctx, id)
}

// Numbers lists the numbers of the caller's business.
func (s *Business) Numbers(ctx context.Context, c *Caller, waba string) ([]parley.BusinessNumber, error) {
	if _, err := s.WABA(ctx, c, waba); err != nil {
		return nil, err
	}
	return s.store.BusinessNumbers(ctx, waba)
}

// BusinessCard is what a customer's client shows of a business it chats
// with: its verified name, that a hosted service (the platform) encrypts
// and decrypts for it, and its public profile.
type BusinessCard struct {
	Account      string
	VerifiedName string
	Hosted       bool // the number's messages are handled by the platform's hosted device
	Profile      *parley.BusinessProfile
	Listing      *parley.DirectoryListing // its directory listing: Verified always, the rest when Listed
	Picture      *parley.ProfilePicture   // without its bytes; nil: none
	Now          time.Time                // when the card was made, for "open now"
}

// Card returns the business card of an account, for any signed-in
// client; ENOTFOUND when the account is not a business number. It reveals
// only what a business publishes (its profile), as WhatsApp shows it.
func (s *Business) Card(ctx context.Context, account string) (*BusinessCard, error) {
	n, err := s.store.BusinessNumberByAccount(ctx, account)
	if err != nil {
		if parley.Match(err, parley.ENOTFOUND) {
			return nil, parley.Errorf(parley.ENOTFOUND, "+%s is not a business", account)
		}
		return nil, err
	}
	card := &BusinessCard{Account: account, VerifiedName: n.VerifiedName, Hosted: true, Now: s.clock.Now()}
	if p, err := s.store.Profile(ctx, n.ID); err == nil {
		card.Profile = p
	} else if !parley.Match(err, parley.ENOTFOUND) {
		return nil, err
	}
	if card.Picture, err = s.PictureInfo(ctx, n.ID); err != nil {
		return nil, err
	}
	l, err := s.store.Listing(ctx, n.ID)
	if err != nil {
		return nil, err
	}
	card.Listing = l
	return card, nil
}

// Profile returns a number's business profile.
func (s *Business) Profile(ctx context.Context, c *Caller, numberID string) (*parley.BusinessProfile, error) {
	if _, err := s.number(ctx, c, numberID); err != nil {
		return nil, err
	}
	return s.store.Profile(ctx, numberID)
}

// ProfileUpdate holds the fields of a profile update; nil fields are
// left as they are.
type ProfileUpdate struct {
	About, Address, Description, Email, Vertical, PictureHandle *string
	Websites                                                    *[]string
	Hours                                                       *parley.OpeningHours // the zero value removes them
}

// UpdateProfile changes the fields u names.
func (s *Business) UpdateProfile(ctx context.Context, c *Caller, numberID string, u ProfileUpdate) error {
	p, err := s.Profile(ctx, c, numberID)
	if err != nil {
		return err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.About, u.About)
	set(&p.Address, u.Address)
	set(&p.Description, u.Description)
	set(&p.Email, u.Email)
	set(&p.Vertical, u.Vertical)
	oldHandle := p.PictureHandle
	set(&p.PictureHandle, u.PictureHandle)
	if u.Websites != nil {
		p.Websites = *u.Websites
	}
	if u.Hours != nil {
		p.Hours = *u.Hours
	}
	if err := p.Validate(); err != nil {
		return err
	}
	p.UpdatedAt = s.clock.Now()
	if u.PictureHandle == nil || *u.PictureHandle == oldHandle { // the same handle keeps the picture
		return s.store.PutProfile(ctx, p)
	}
	pic, err := s.pictureOf(ctx, c.Business, p.Number, *u.PictureHandle, p.UpdatedAt)
	if err != nil {
		return err
	}
	return s.store.PutProfileWithPicture(ctx, p, pic)
}

// ttlCache keeps values read from the store for a short time, so that
// the hot path (every send authenticates a token and reads its number)
// does not read the store each time. Errors are not cached.
type ttlCache[V any] struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

const ttlCacheMax = 100_000

func newTTLCache[V any](ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, m: map[string]ttlEntry[V]{}}
}

func (c *ttlCache[V]) get(key string, now time.Time, load func() (V, error)) (V, error) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if ok && now.Sub(e.at) < c.ttl && !now.Before(e.at) {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if len(c.m) >= ttlCacheMax {
		clear(c.m) // a crude bound; entries are cheap to reload
	}
	c.m[key] = ttlEntry[V]{v, now}
	c.mu.Unlock()
	return v, nil
}

func (c *ttlCache[V]) invalidate(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

func (c *ttlCache[V]) invalidateAll() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
