package cloudapi

import (
	"net/http"
	"strconv"

	"github.com/parley-chat/parley"
)

// setAppSubscription is POST /{app-id}/subscriptions (object,
// callback_url, verify_token, fields, and Parley's max_changes_per_post):
// the handshake runs first.
func (a *API) setAppSubscription(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	batch := 0
	if p.has("max_changes_per_post") {
		if batch, err = strconv.Atoi(p.str("max_changes_per_post")); err != nil || batch < 1 {
			return parley.Errorf(parley.EINVALID, "Param max_changes_per_post must be between 1 and %d.", parley.MaxWebhookBatch)
		}
	}
	err = a.Business.SetAppSubscription(r.Context(), caller(r), r.PathValue("id"), p.str("object"), p.str("callback_url"),
		p.str("verify_token"), p.list("fields"), batch)
	if err != nil {
		return err
	}
	return success(w)
}

// getAppSubscriptions is GET /{app-id}/subscriptions.
func (a *API) getAppSubscriptions(w http.ResponseWriter, r *http.Request) error {
	app, err := a.Business.AppSubscription(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := []object{}
	if app.CallbackURL != "" {
		fields := make([]object, 0, len(app.Fields))
		for _, f := range app.Fields {
			fields = append(fields, object{"name": f, "version": versionOf(r)})
		}
		o := object{"object": "whatsapp_business_account", "callback_url": app.CallbackURL, "active": true, "fields": fields}
		if app.MaxChangesPerPost > 1 {
			o["max_changes_per_post"] = app.MaxChangesPerPost
		}
		data = append(data, o)
	}
	writeJSON(w, http.StatusOK, object{"data": data})
	return nil
}

// deleteAppSubscription is DELETE /{app-id}/subscriptions.
func (a *API) deleteAppSubscription(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	if o := p.str("object"); o != "" && o != "whatsapp_business_account" {
		return parley.Errorf(parley.EINVALID, "Param object must be whatsapp_business_account.")
	}
	if err := a.Business.DeleteAppSubscription(r.Context(), caller(r), r.PathValue("id")); err != nil {
		return err
	}
	return success(w)
}

// subscribeApp is POST /{waba-id}/subscribed_apps, optionally with
// override_callback_uri and verify_token (and app_id to name one of the
// business's apps when a business token is used).
func (a *API) subscribeApp(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	err = a.Business.Subscribe(r.Context(), caller(r), r.PathValue("id"), p.str("app_id"), p.str("override_callback_uri"), p.str("verify_token"))
	if err != nil {
		return err
	}
	return success(w)
}

// listSubscribedApps is GET /{waba-id}/subscribed_apps.
func (a *API) listSubscribedApps(w http.ResponseWriter, r *http.Request) error {
	subs, err := a.Business.SubscribedApps(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := make([]object, 0, len(subs))
	for _, s := range subs {
		o := object{"whatsapp_business_api_data": object{"id": s.App.ID, "name": s.App.Name, "link": ""}}
		if s.OverrideCallbackURL != "" {
			o["override_callback_uri"] = s.OverrideCallbackURL
		}
		data = append(data, o)
	}
	writeJSON(w, http.StatusOK, object{"data": data})
	return nil
}

// unsubscribeApp is DELETE /{waba-id}/subscribed_apps.
func (a *API) unsubscribeApp(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	if err := a.Business.Unsubscribe(r.Context(), caller(r), r.PathValue("id"), p.str("app_id")); err != nil {
		return err
	}
	return success(w)
}
