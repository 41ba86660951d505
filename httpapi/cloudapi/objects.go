package cloudapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

var (
	numberDefaultFields = []string{"id", "display_phone_number", "verified_name", "quality_rating"}
	numberListFields    = []string{"id", "verified_name", "code_verification_status", "display_phone_number", "quality_rating",
		"platform_type", "throughput", "webhook_configuration"}
	wabaDefaultFields     = []string{"id", "name"}
	templateDefaultFields = []string{"id", "name", "parameter_format", "components", "language", "status", "category"}
)

func numberObject(ctx context.Context, a *API, c *service.Caller, n *parley.BusinessNumber) object {
	level := "STANDARD"
	if n.Rate() >= 1000 {
		level = "HIGH"
	}
	wh := object{}
	if n.WebhookURL != "" {
		wh["phone_number"] = n.WebhookURL
	}
	if apps, err := a.Business.SubscribedApps(ctx, c, n.Business); err == nil {
		for _, s := range apps {
			if s.OverrideCallbackURL != "" {
				wh["whatsapp_business_account"] = s.OverrideCallbackURL
			}
			if s.App.CallbackURL != "" {
				wh["application"] = s.App.CallbackURL
			}
			break
		}
	}
	// The operator's verified badge (parley admin business verify) is
	// what Meta calls an Official Business Account.
	official := false
	if a.Directory != nil {
		if l, err := a.Directory.Listing(ctx, c, n.ID); err == nil {
			official = l.Verified
		}
	}
	return object{
		"id":                           n.ID,
		"display_phone_number":         n.DisplayPhone,
		"verified_name":                n.VerifiedName,
		"quality_rating":               n.Quality,
		"code_verification_status":     "VERIFIED",
		"platform_type":                "CLOUD_API",
		"throughput":                   object{"level": level},
		"webhook_configuration":        wh,
		"name_status":                  "APPROVED",
		"status":                       "CONNECTED",
		"account_mode":                 "LIVE",
		"is_official_business_account": official,
		"messaging_limit_tier":         n.MessagingTier,
		"whatsapp_business_manager_messaging_limit": n.MessagingTier,
		"last_onboarded_time":                       n.CreatedAt.UTC().Format("2006-01-02T15:04:05-0700"),
	}
}

func templateObject(t *parley.Template) object {
	o := object{
		"id":                       t.ID,
		"name":                     t.Name,
		"language":                 t.Language,
		"status":                   t.Status,
		"category":                 t.Category,
		"parameter_format":         t.ParameterFormat,
		"components":               json.RawMessage(t.Components),
		"rejected_reason":          t.RejectedReason,
		"quality_score":            object{"score": "UNKNOWN", "date": t.UpdatedAt.Unix()},
		"sub_category":             "CUSTOM",
		"message_send_ttl_seconds": t.SendTTL,
	}
	if t.SendTTL == 0 {
		delete(o, "message_send_ttl_seconds")
	}
	return o
}

// getObject is GET /{id}: a phone number, a business, a template, a
// media object or an app, whichever of the caller's the id names.
func (a *API) getObject(w http.ResponseWriter, r *http.Request) error {
	ctx, c, id := r.Context(), caller(r), r.PathValue("id")
	if service.IsUploadID(id) {
		return a.uploadStatus(w, r, id)
	}
	fields := r.URL.Query().Get("fields")
	if n, err := a.Business.Number(ctx, c, id); err == nil {
		writeJSON(w, http.StatusOK, pick(numberObject(ctx, a, c, n), fields, numberDefaultFields))
		return nil
	} else if !parley.Match(err, parley.ENOTFOUND) {
		return err
	}
	if b, err := a.Business.WABA(ctx, c, id); err == nil {
		o := object{"id": b.ID, "name": b.Name, "message_template_namespace": "parley_" + b.ID, "currency": "USD", "timezone_id": "1",
			"account_review_status": "APPROVED", "business_verification_status": "verified"}
		writeJSON(w, http.StatusOK, pick(o, fields, wabaDefaultFields))
		return nil
	} else if !parley.Match(err, parley.ENOTFOUND) {
		return err
	}
	if t, err := a.Business.Template(ctx, c, id); err == nil {
		writeJSON(w, http.StatusOK, pick(templateObject(t), fields, templateDefaultFields))
		return nil
	} else if !parley.Match(err, parley.ENOTFOUND) {
		return err
	}
	if m, err := a.Business.MediaInfo(ctx, c, id, r.URL.Query().Get("phone_number_id")); err == nil {
		writeJSON(w, http.StatusOK, mediaObject(a, r, m))
		return nil
	} else if !parley.Match(err, parley.ENOTFOUND) {
		return err
	}
	app, err := a.Business.AppAccess(ctx, c, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pick(object{"id": app.ID, "name": app.Name}, fields, []string{"id", "name"}))
	return nil
}

// updateObject is POST /{id}; for phone numbers Parley supports
// webhook_configuration (the per-number callback override).
func (a *API) updateObject(w http.ResponseWriter, r *http.Request) error {
	if id := r.PathValue("id"); service.IsUploadID(id) {
		return a.uploadFile(w, r, id)
	}
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	ctx, c, id := r.Context(), caller(r), r.PathValue("id")
	if _, err := a.Business.Number(ctx, c, id); err != nil {
		return err
	}
	raw := p.raw("webhook_configuration")
	if raw == nil {
		return parley.Errorf(parley.EINVALID, "Parley supports only webhook_configuration on POST /{phone-number-id}.")
	}
	var cfg struct {
		URL         string `json:"override_callback_uri"`
		VerifyToken string `json:"verify_token"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return parley.Errorf(parley.EINVALID, "Param webhook_configuration must be an object with override_callback_uri and verify_token.")
	}
	if err := a.Business.SetNumberWebhook(ctx, c, id, cfg.URL, cfg.VerifyToken); err != nil {
		return err
	}
	return success(w)
}

// listNumbers is GET /{waba-id}/phone_numbers.
func (a *API) listNumbers(w http.ResponseWriter, r *http.Request) error {
	ctx, c := r.Context(), caller(r)
	ns, err := a.Business.Numbers(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	fields := r.URL.Query().Get("fields")
	data := make([]object, 0, len(ns))
	for i := range ns {
		data = append(data, pick(numberObject(ctx, a, c, &ns[i]), fields, numberListFields))
	}
	out := object{"data": data}
	if len(ns) > 0 {
		out["paging"] = object{"cursors": object{"before": cursor(ns[0].ID), "after": cursor(ns[len(ns)-1].ID)}}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getProfile is GET /{phone-number-id}/whatsapp_business_profile.
func (a *API) getProfile(w http.ResponseWriter, r *http.Request) error {
	n, err := a.Business.Number(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := a.Business.Profile(r.Context(), caller(r), n.ID)
	if err != nil {
		return err
	}
	websites := p.Websites
	if websites == nil {
		websites = []string{}
	}
	o := object{"about": p.About, "address": p.Address, "description": p.Description, "email": p.Email,
		"websites": websites, "vertical": p.Vertical, "messaging_product": "whatsapp"}
	if p.Vertical == "" {
		o["vertical"] = "UNDEFINED"
	}
	if u := a.pictureURL(r, n); u != "" {
		o["profile_picture_url"] = u
	} else if p.PictureHandle != "" {
		o["profile_picture_url"] = ""
	}
	if !p.Hours.IsZero() {
		o["opening_hours"] = p.Hours // a Parley extension
	}
	fields := r.URL.Query().Get("fields")
	o = pick(o, fields, nil)
	o["messaging_product"] = "whatsapp"
	writeJSON(w, http.StatusOK, object{"data": []object{o}})
	return nil
}

// updateProfile is POST /{phone-number-id}/whatsapp_business_profile:
// only the fields sent change.
func (a *API) updateProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	if mp := p.str("messaging_product"); mp != "" && mp != "whatsapp" {
		return parley.Errorf(parley.EINVALID, "Param messaging_product must be \"whatsapp\".")
	}
	var u service.ProfileUpdate
	for name, dst := range map[string]**string{"about": &u.About, "address": &u.Address, "description": &u.Description,
		"email": &u.Email, "vertical": &u.Vertical, "profile_picture_handle": &u.PictureHandle} {
		if p.has(name) {
			v := p.str(name)
			*dst = &v
		}
	}
	if p.has("websites") {
		ws := p.list("websites")
		u.Websites = &ws
	}
	if p.has("opening_hours") { // a Parley extension; null or {} removes them
		h, err := parley.ParseOpeningHours([]byte(p.str("opening_hours")))
		if err != nil {
			return err
		}
		u.Hours = h
	}
	if err := a.Business.UpdateProfile(r.Context(), caller(r), r.PathValue("id"), u); err != nil {
		return err
	}
	return success(w)
}
