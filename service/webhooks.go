package service

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
)

// Webhook configuration, as Meta does it: an app has one callback URL
// (POST /{app-id}/subscriptions), a business subscribes apps
// (/{waba-id}/subscribed_apps, optionally overriding the callback URL
// for that business), and a number may override it once more
// (webhook_configuration). Setting any URL runs the verification
// handshake first; a URL whose handshake fails is not stored.

// DefaultWebhookFields are subscribed when none are named.
var DefaultWebhookFields = []string{"messages", "message_template_status_update"}

// WebhookFields are the subscription fields Parley knows.
var WebhookFields = []string{"messages", "message_template_status_update", "message_template_quality_update",
	"message_template_components_update", "template_category_update", "phone_number_quality_update", "phone_number_name_update",
	"account_alerts", "account_update", "account_review_update", "business_capability_update", "security", "user_preferences",
	"history", "smb_app_state_sync", "smb_message_echoes", "partner_solutions", "payment_configuration_update", "automatic_events",
	"calls", "flows"}

func checkCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(raw) > 2048 {
		return parley.Errorf(parley.EINVALID, "callback_url must be an http(s) URL")
	}
	return nil
}

func (s *Business) verifyCallback(ctx context.Context, rawURL, verifyToken string) error {
	if err := checkCallbackURL(rawURL); err != nil {
		return err
	}
	if verifyToken == "" || len(verifyToken) > 256 {
		return parley.Errorf(parley.EINVALID, "verify_token is required (at most 256 characters)")
	}
	if s.opt.Verifier == nil {
		return parley.Errorf(parley.EUNAVAILABLE, "webhook verification is not configured on this node")
	}
	return s.opt.Verifier.VerifyCallback(ctx, rawURL, verifyToken)
}

// AppAccess checks that the caller may manage the app: the app's own
// token, or a token of the business that created it.
func (s *Business) AppAccess(ctx context.Context, c *Caller, appID string) (*parley.App, error) {
	if !parley.ValidGraphID(appID) || c == nil {
		return nil, objectNotFound(appID)
	}
	a, err := s.store.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	if c.App != a.ID && (c.Business == "" || c.Business != a.Business) {
		return nil, objectNotFound(appID)
	}
	return a, nil
}

// SetAppSubscription sets the app's callback URL, verify token and
// fields (object whatsapp_business_account), after the handshake.
func (s *Business) SetAppSubscription(ctx context.Context, c *Caller, appID, object, callbackURL, verifyToken string, fields []string, maxChangesPerPost int) error {
	a, err := s.AppAccess(ctx, c, appID)
	if err != nil {
		return err
	}
	if object != "whatsapp_business_account" {
		return parley.Errorf(parley.EINVALID, "object must be whatsapp_business_account")
	}
	if len(fields) == 0 {
		fields = DefaultWebhookFields
	}
	for _, f := range fields {
		if !slices.Contains(WebhookFields, f) {
			return parley.Errorf(parley.EINVALID, "unknown field %q", f)
		}
	}
	if maxChangesPerPost < 0 || maxChangesPerPost > parley.MaxWebhookBatch {
		return parley.Errorf(parley.EINVALID, "Param max_changes_per_post must be between 1 and %d.", parley.MaxWebhookBatch)
	}
	if err := s.verifyCallback(ctx, callbackURL, verifyToken); err != nil {
		return err
	}
	a.CallbackURL, a.VerifyToken, a.Fields, a.MaxChangesPerPost = callbackURL, verifyToken, slices.Clone(fields), maxChangesPerPost
	return s.store.UpdateAppSubscription(ctx, a)
}

// DeleteAppSubscription removes the app's callback URL.
func (s *Business) DeleteAppSubscription(ctx context.Context, c *Caller, appID string) error {
	a, err := s.AppAccess(ctx, c, appID)
	if err != nil {
		return err
	}
	a.CallbackURL, a.VerifyToken, a.Fields, a.MaxChangesPerPost = "", "", nil, 0
	return s.store.UpdateAppSubscription(ctx, a)
}

// AppSubscription returns the app (for its subscription fields).
func (s *Business) AppSubscription(ctx context.Context, c *Caller, appID string) (*parley.App, error) {
	return s.AppAccess(ctx, c, appID)
}

// subscribingApp is the app a business token subscribes: the one named,
// or the business's first app.
func (s *Business) subscribingApp(ctx context.Context, c *Caller, waba, appID string) (string, error) {
	if c.App != "" {
		return c.App, nil
	}
	if appID != "" {
		a, err := s.AppAccess(ctx, c, appID)
		if err != nil {
			return "", err
		}
		return a.ID, nil
	}
	apps, err := s.store.Apps(ctx, waba)
	if err != nil {
		return "", err
	}
	if len(apps) == 0 {
		return "", parley.Errorf(parley.EINVALID, "the business has no app to subscribe")
	}
	return apps[0].ID, nil
}

// wabaAccess checks that the caller may manage the business's
// subscriptions: a token of that business, or an app token of one of
// its apps.
func (s *Business) wabaAccess(ctx context.Context, c *Caller, waba string) error {
	if c == nil {
		return objectNotFound(waba)
	}
	if c.Business != "" {
		_, err := s.WABA(ctx, c, waba)
		return err
	}
	a, err := s.store.App(ctx, c.App)
	if err != nil || a.Business != waba {
		return objectNotFound(waba)
	}
	return nil
}

// Subscribe subscribes an app to the business's webhooks, optionally
// with an override callback URL (verified first).
func (s *Business) Subscribe(ctx context.Context, c *Caller, waba, appID, overrideURL, verifyToken string) error {
	if err := s.wabaAccess(ctx, c, waba); err != nil {
		return err
	}
	app, err := s.subscribingApp(ctx, c, waba, appID)
	if err != nil {
		return err
	}
	if overrideURL != "" {
		if err := s.verifyCallback(ctx, overrideURL, verifyToken); err != nil {
			return err
		}
	} else {
		verifyToken = ""
	}
	return s.store.Subscribe(ctx, &parley.Subscription{Business: waba, App: app, OverrideCallbackURL: overrideURL,
		VerifyToken: verifyToken, CreatedAt: s.clock.Now()})
}

// Unsubscribe removes the app's subscription to the business.
func (s *Business) Unsubscribe(ctx context.Context, c *Caller, waba, appID string) error {
	if err := s.wabaAccess(ctx, c, waba); err != nil {
		return err
	}
	app, err := s.subscribingApp(ctx, c, waba, appID)
	if err != nil {
		return err
	}
	return s.store.Unsubscribe(ctx, waba, app)
}

// SubscribedApp is an app subscribed to a business, as listed.
type SubscribedApp struct {
	App                 *parley.App
	OverrideCallbackURL string
}

// SubscribedApps lists the apps subscribed to the business.
func (s *Business) SubscribedApps(ctx context.Context, c *Caller, waba string) ([]SubscribedApp, error) {
	if err := s.wabaAccess(ctx, c, waba); err != nil {
		return nil, err
	}
	subs, err := s.store.Subscriptions(ctx, waba)
	if err != nil {
		return nil, err
	}
	out := make([]SubscribedApp, 0, len(subs))
	for _, sub := range subs {
		a, err := s.store.App(ctx, sub.App)
		if err != nil {
			return nil, err
		}
		out = append(out, SubscribedApp{App: a, OverrideCallbackURL: sub.OverrideCallbackURL})
	}
	return out, nil
}

// SetNumberWebhook sets (or, with an empty URL, removes) the number's
// override callback URL (webhook_configuration.override_callback_uri).
func (s *Business) SetNumberWebhook(ctx context.Context, c *Caller, numberID, callbackURL, verifyToken string) error {
	n, err := s.number(ctx, c, numberID)
	if err != nil {
		return err
	}
	if callbackURL != "" {
		if err := s.verifyCallback(ctx, callbackURL, verifyToken); err != nil {
			return err
		}
	} else {
		verifyToken = ""
	}
	up := *n
	up.WebhookURL, up.WebhookVerifyToken = callbackURL, verifyToken
	if err := s.store.UpdateBusinessNumber(ctx, &up); err != nil {
		return err
	}
	s.numbers.invalidate(n.ID)
	return nil
}

// WebhookTarget is where one app gets a business's webhooks, and the
// secret to sign them with.
type WebhookTarget struct {
	App        string
	URL        string
	AppSecret  string
	Fields     []string
	MaxChanges int // App.MaxChangesPerPost
}

// WebhookTargets returns, for each app subscribed to the business, where
// its webhooks about numberID ("" for business-level events) go: the
// number's override, else the subscription's override, else the app's
// callback URL (Meta's order). Apps without any URL are left out. This
// is what the webhook engine asks before it signs and posts.
func (s *Business) WebhookTargets(ctx context.Context, waba, numberID string) ([]WebhookTarget, error) {
	var numberURL string
	if numberID != "" {
		n, err := s.store.BusinessNumber(ctx, numberID)
		if err != nil {
			return nil, err
		}
		if n.Business != waba {
			return nil, objectNotFound(numberID)
		}
		numberURL = n.WebhookURL
	}
	subs, err := s.store.Subscriptions(ctx, waba)
	if err != nil {
		return nil, err
	}
	var out []WebhookTarget
	for _, sub := range subs {
		a, err := s.store.App(ctx, sub.App)
		if err != nil {
			return nil, err
		}
		u := firstNonEmpty(numberURL, sub.OverrideCallbackURL, a.CallbackURL)
		if u == "" {
			continue
		}
		secret, err := s.appSecret(a)
		if err != nil {
			return nil, err
		}
		fields := a.Fields
		if len(fields) == 0 {
			fields = DefaultWebhookFields
		}
		out = append(out, WebhookTarget{App: a.ID, URL: u, AppSecret: secret, Fields: fields, MaxChanges: a.MaxChangesPerPost})
	}
	return out, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
