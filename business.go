package parley

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// The business platform: businesses reach people through an API that is
// wire-compatible with WhatsApp's Cloud API. Its objects carry Graph ids:
// decimal strings of 16 digits, random and unguessable, unique across
// every kind of object so that GET /{id} can tell them apart.

// Business is a WhatsApp Business Account (WABA): the owner of phone
// numbers, templates and access tokens. Every Cloud API request is scoped
// to one business by its token.
type Business struct {
	ID        string // Graph id
	Name      string
	CreatedAt time.Time
}

// Validate checks the operator-supplied fields.
func (b *Business) Validate() error {
	if !ValidGraphID(b.ID) {
		return Errorf(EINVALID, "business id must be a Graph id")
	}
	if b.Name = strings.TrimSpace(b.Name); b.Name == "" || utf8.RuneCountInString(b.Name) > 128 {
		return Errorf(EINVALID, "business name must have 1 to 128 characters")
	}
	return nil
}

// Quality ratings of a business number.
const (
	QualityGreen  = "GREEN"
	QualityYellow = "YELLOW"
	QualityRed    = "RED"
)

// Messaging-limit tiers (unique customers reached outside the service
// window per rolling 24 hours).
var MessagingTiers = []string{"TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"}

// DefaultThroughput is Meta's default per-number throughput, in messages
// per second.
const DefaultThroughput = 80

// BusinessNumber is a business's phone number: a Parley account (the
// same digits) that a hosted business device serves, addressed in the
// Cloud API by its phone_number_id.
type BusinessNumber struct {
	ID            string // phone_number_id (Graph id)
	Business      string // the WABA
	Account       string // the Parley account id: E.164 digits
	DisplayPhone  string // display_phone_number, "+" and digits
	VerifiedName  string
	Quality       string // QualityGreen, ...
	Throughput    int    // messages per second; DefaultThroughput when 0
	MessagingTier string // one of MessagingTiers

	// WebhookURL overrides the app's callback URL for this number
	// (webhook_configuration); "" when not set.
	WebhookURL         string
	WebhookVerifyToken string
	CreatedAt          time.Time
}

// Validate checks the number's fields.
func (n *BusinessNumber) Validate() error {
	switch {
	case !ValidGraphID(n.ID):
		return Errorf(EINVALID, "phone number id must be a Graph id")
	case !ValidGraphID(n.Business):
		return Errorf(EINVALID, "business id must be a Graph id")
	case !ValidAccountID(n.Account):
		return Errorf(EINVALID, "phone number must be E.164 digits")
	case utf8.RuneCountInString(n.VerifiedName) > 128:
		return Errorf(EINVALID, "verified name is longer than 128 characters")
	case n.Throughput < 0 || n.Throughput > 100_000:
		return Errorf(EINVALID, "throughput must be between 1 and 100000 messages per second")
	}
	switch n.Quality {
	case QualityGreen, QualityYellow, QualityRed:
	default:
		return Errorf(EINVALID, "quality rating must be GREEN, YELLOW or RED")
	}
	ok := false
	for _, t := range MessagingTiers {
		ok = ok || t == n.MessagingTier
	}
	if !ok {
		return Errorf(EINVALID, "messaging limit tier must be one of %s", strings.Join(MessagingTiers, ", "))
	}
	return nil
}

// Rate returns the number's throughput in messages per second.
func (n *BusinessNumber) Rate() int {
	if n.Throughput <= 0 {
		return DefaultThroughput
	}
	return n.Throughput
}

// App is a developer app: it receives webhooks at its callback URL,
// signed with its secret. The secret is needed in clear to sign, so the
// store keeps it sealed with the at-rest key (Sealer), never in clear.
type App struct {
	ID           string // Graph id
	Business     string // the business whose operator created it; its tokens may manage it
	Name         string
	SecretSealed []byte // the app secret, sealed (Sealer) with AAD AppSecretAAD(ID)

	// The app's webhook subscription (POST /{app-id}/subscriptions with
	// object whatsapp_business_account).
	CallbackURL string
	VerifyToken string
	Fields      []string // subscribed webhook fields
	// MaxChangesPerPost opts the app's endpoint into batched webhook POSTs
	// (a Parley extension, docs/webhooks.md): up to this many consecutive
	// changes of one conversation in one POST. 0 or 1: one change per
	// POST, as Meta's documentation leads receivers to expect.
	MaxChangesPerPost int
	CreatedAt         time.Time
}

// MaxWebhookBatch bounds App.MaxChangesPerPost.
const MaxWebhookBatch = 100

// AppSecretAAD binds a sealed app secret to its app, so that a sealed
// value copied to another row does not open.
func AppSecretAAD(appID string) []byte { return []byte("parley app secret " + appID) }

// Subscription is an app subscribed to a business's webhooks
// (/{waba-id}/subscribed_apps), optionally with its own callback URL for
// this business (override_callback_uri).
type Subscription struct {
	Business            string
	App                 string
	OverrideCallbackURL string
	VerifyToken         string
	CreatedAt           time.Time
}

// AccessToken is a system-user access token scoped to one business. The
// store keeps only the SHA-256 hash of its secret.
type AccessToken struct {
	ID        string // public part of the token, selects the row
	Business  string
	Name      string
	Hash      []byte
	CreatedAt time.Time
	RevokedAt time.Time // zero while valid
}

// BusinessProfile is a number's public profile
// (/{phone-number-id}/whatsapp_business_profile).
type BusinessProfile struct {
	Number        string // phone_number_id
	About         string
	Address       string
	Description   string
	Email         string
	Websites      []string
	Vertical      string
	PictureHandle string
	// Hours are the opening hours, a Parley extension (opening_hours);
	// zero when none are published.
	Hours     OpeningHours
	UpdatedAt time.Time
}

// Verticals are the industries a business profile may name.
var Verticals = []string{"UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN", "FINANCE",
	"GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL", "TRAVEL", "RESTAURANT", "NOT_A_BIZ"}

// Validate checks the profile against Meta's limits.
func (p *BusinessProfile) Validate() error {
	switch {
	case utf8.RuneCountInString(p.About) > 139:
		return Errorf(EINVALID, "about must have at most 139 characters")
	case utf8.RuneCountInString(p.Address) > 256:
		return Errorf(EINVALID, "address must have at most 256 characters")
	case utf8.RuneCountInString(p.Description) > 512:
		return Errorf(EINVALID, "description must have at most 512 characters")
	case utf8.RuneCountInString(p.Email) > 128:
		return Errorf(EINVALID, "email must have at most 128 characters")
	case len(p.Websites) > 2:
		return Errorf(EINVALID, "websites may list at most 2 URLs")
	case len(p.PictureHandle) > 1024:
		return Errorf(EINVALID, "profile_picture_handle is too long")
	}
	if p.Email != "" {
		if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email {
			return Errorf(EINVALID, "email is not a valid email address")
		}
	}
	for _, w := range p.Websites {
		if len(w) > 256 || !(strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://")) || strings.ContainsAny(w, " \t\r\n") {
			return Errorf(EINVALID, "websites must be http:// or https:// URLs of at most 256 characters")
		}
	}
	if !p.Hours.IsZero() {
		if err := p.Hours.Validate(); err != nil {
			return err
		}
	}
	if p.Vertical != "" {
		ok := false
		for _, v := range Verticals {
			ok = ok || v == p.Vertical
		}
		if !ok {
			return Errorf(EINVALID, "vertical must be one of %s", strings.Join(Verticals, ", "))
		}
	}
	return nil
}

// ValidGraphID reports whether id looks like a Graph id: 15 or 16
// decimal digits, not starting with 0.
func ValidGraphID(id string) bool {
	if len(id) < 15 || len(id) > 16 || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// Reasons refine error codes for the Cloud API (Error.Reason). The Cloud
// API transport maps each to Meta's numeric code in one table.
const (
	ReasonObject            = "object"            // ENOTFOUND: unknown (or foreign) Graph object id → 100/33
	ReasonTokenRevoked      = "token_revoked"     // EUNAUTHORIZED: a revoked access token
	ReasonTemplateMissing   = "template_missing"  // ENOTFOUND: no approved template of that name and language → 132001
	ReasonTemplateParams    = "template_params"   // EINVALID: parameter count mismatch → 132000
	ReasonTemplateFormat    = "template_format"   // EINVALID: named vs positional mismatch → 132012
	ReasonTemplateParam     = "template_param"    // EINVALID: a parameter value is invalid → 132008
	ReasonTemplatePaused    = "template_paused"   // EINVALID → 132015
	ReasonTemplateDisabled  = "template_disabled" // EINVALID → 132016
	ReasonTemplateExists    = "template_exists"   // ECONFLICT: same name and language → 100/2388024
	ReasonThroughput        = "throughput"        // ERATELIMIT: per-number throughput → 130429
	ReasonPairRate          = "pair_rate"         // ERATELIMIT: per-recipient pair limit → 131056
	ReasonCallLimit         = "call_limit"        // ERATELIMIT: too many API calls or failed tokens → 4
	ReasonRecipientIsSender = "recipient_sender"  // EINVALID: sending to the business's own number → 131021
	ReasonCallbackVerify    = "callback_verify"   // EINVALID: the webhook handshake failed → 2200
	ReasonUnknownPath       = "unknown_path"      // ENOTFOUND: no such edge → 2500
	ReasonUnsupportedType   = "unsupported_type"  // EINVALID: a message type Parley cannot deliver → 131051
)

// reasonError returns an *Error with a Reason.
func reasonError(code, reason, format string, args ...any) *Error {
	e := Errorf(code, format, args...)
	e.Reason = reason
	return e
}

// BusinessStore keeps businesses, their numbers, apps, tokens,
// subscriptions and profiles. Lookups by id return ENOTFOUND (with
// Reason ReasonObject) for unknown ids; scoping to the caller's business
// is the service's job.
type BusinessStore interface {
	// CreateBusiness commits a new business with its first app, number
	// and access token in one transaction. The number's account must
	// exist. ECONFLICT when the number is taken by another business.
	CreateBusiness(ctx context.Context, b *Business, app *App, n *BusinessNumber, tok *AccessToken) error
	Business(ctx context.Context, id string) (*Business, error)
	// Businesses lists every business by id.
	Businesses(ctx context.Context) ([]Business, error)

	// AddBusinessNumber adds a number to an existing business; ECONFLICT
	// when the account already is a business number.
	AddBusinessNumber(ctx context.Context, n *BusinessNumber) error
	BusinessNumber(ctx context.Context, id string) (*BusinessNumber, error)
	// BusinessNumberByAccount finds the number of a Parley account.
	BusinessNumberByAccount(ctx context.Context, account string) (*BusinessNumber, error)
	// BusinessNumbers lists a business's numbers, newest first.
	BusinessNumbers(ctx context.Context, business string) ([]BusinessNumber, error)
	// UpdateBusinessNumber stores the mutable fields: verified name,
	// quality, throughput, tier and webhook override.
	UpdateBusinessNumber(ctx context.Context, n *BusinessNumber) error

	App(ctx context.Context, id string) (*App, error)
	// Apps lists the apps a business created, oldest first.
	Apps(ctx context.Context, business string) ([]App, error)
	// UpdateAppSubscription stores the app's callback URL, verify token
	// and fields.
	UpdateAppSubscription(ctx context.Context, a *App) error

	CreateAccessToken(ctx context.Context, t *AccessToken) error
	AccessToken(ctx context.Context, id string) (*AccessToken, error)
	// AccessTokens lists a business's tokens (revoked ones too), by creation.
	AccessTokens(ctx context.Context, business string) ([]AccessToken, error)
	// RevokeAccessToken marks the token revoked; ENOTFOUND when unknown.
	RevokeAccessToken(ctx context.Context, id string, at time.Time) error

	// Subscribe inserts or replaces the subscription of (Business, App).
	Subscribe(ctx context.Context, s *Subscription) error
	// Unsubscribe removes it; ENOTFOUND when there was none.
	Unsubscribe(ctx context.Context, business, app string) error
	Subscriptions(ctx context.Context, business string) ([]Subscription, error)

	// Profile returns a number's profile, empty (not ENOTFOUND) when it
	// was never set.
	Profile(ctx context.Context, number string) (*BusinessProfile, error)
	PutProfile(ctx context.Context, p *BusinessProfile) error
	// PutProfileIf stores p only if the stored profile's UpdatedAt is
	// seen to the millisecond (zero: never saved), in one statement;
	// ECONFLICT otherwise.
	PutProfileIf(ctx context.Context, p *BusinessProfile, seen time.Time) error
}

// TemplateStore keeps message templates.
type TemplateStore interface {
	// CreateTemplate stores t; ECONFLICT (ReasonTemplateExists) when its
	// business has a template of that name and language.
	CreateTemplate(ctx context.Context, t *Template) error
	Template(ctx context.Context, id string) (*Template, error)
	// TemplateByName returns ENOTFOUND when the business has none of
	// that name and language.
	TemplateByName(ctx context.Context, business, name, language string) (*Template, error)
	// Templates lists the templates f selects, by id, and whether there
	// are more in the direction of paging.
	Templates(ctx context.Context, f TemplateFilter) ([]Template, bool, error)
	// SetTemplateStatus changes status and rejection reason.
	SetTemplateStatus(ctx context.Context, id, status, reason string, at time.Time) (*Template, error)
	// DeleteTemplates deletes the business's templates of that name (every
	// language) or, with id, that one template, and returns them.
	// ENOTFOUND when none matched.
	DeleteTemplates(ctx context.Context, business, name, id string) ([]Template, error)
}
