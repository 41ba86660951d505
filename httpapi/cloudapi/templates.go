package cloudapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// listTemplates is GET /{waba-id}/message_templates with Graph paging
// (limit, after, before) and the filters name, status, category and
// language; unknown parameters (summary, offset, ...) are ignored.
func (a *API) listTemplates(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := parley.TemplateFilter{Business: r.PathValue("id"), Name: q.Get("name"), Status: strings.ToUpper(q.Get("status")),
		Category: strings.ToUpper(q.Get("category")), Language: q.Get("language"), Limit: 25}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return parley.Errorf(parley.EINVALID, "Param limit must be a positive number.")
		}
		f.Limit = min(n, 1000)
	}
	var err error
	if c := q.Get("after"); c != "" {
		if f.After, err = parseCursor(c); err != nil {
			return err
		}
	} else if c := q.Get("before"); c != "" {
		if f.Before, err = parseCursor(c); err != nil {
			return err
		}
	}
	ts, more, err := a.Business.Templates(r.Context(), caller(r), f)
	if err != nil {
		return err
	}
	fields := q.Get("fields")
	data := make([]object, 0, len(ts))
	for i := range ts {
		data = append(data, pick(templateObject(&ts[i]), fields, templateDefaultFields))
	}
	out := object{"data": data}
	if len(ts) > 0 {
		first, last := cursor(ts[0].ID), cursor(ts[len(ts)-1].ID)
		paging := object{"cursors": object{"before": first, "after": last}}
		// more is in the direction of paging: forward unless before was given.
		backward := f.Before != ""
		if !backward && more || backward {
			paging["next"] = pageURL(r, "after", last)
		}
		if backward && more || !backward && f.After != "" {
			paging["previous"] = pageURL(r, "before", first)
		}
		out["paging"] = paging
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createTemplate is POST /{waba-id}/message_templates.
func (a *API) createTemplate(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	req := &parley.TemplateRequest{Name: p.str("name"), Language: p.str("language"), Category: p.str("category"),
		ParameterFormat: p.str("parameter_format"), Components: p.raw("components")}
	if s := p.str("message_send_ttl_seconds"); s != "" {
		if req.SendTTL, err = strconv.Atoi(s); err != nil {
			return parley.Errorf(parley.EINVALID, "Param message_send_ttl_seconds must be a number.")
		}
	}
	t, err := a.Business.CreateTemplate(r.Context(), caller(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, object{"id": t.ID, "status": t.Status, "category": t.Category})
	return nil
}

// deleteTemplates is DELETE /{waba-id}/message_templates?name=…[&hsm_id=…].
func (a *API) deleteTemplates(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(w, r)
	if err != nil {
		return err
	}
	if err := a.Business.DeleteTemplates(r.Context(), caller(r), r.PathValue("id"), p.str("name"), p.str("hsm_id")); err != nil {
		return err
	}
	return success(w)
}

// getWABATemplate is GET /{waba-id}/message_templates/{template-id}, the
// path @kapso/whatsapp-cloud-api's templates.get uses; it answers as
// GET /{template-id} does, for a template of that business only.
func (a *API) getWABATemplate(w http.ResponseWriter, r *http.Request) error {
	ctx, c, waba, id := r.Context(), caller(r), r.PathValue("id"), r.PathValue("template")
	if _, err := a.Business.WABA(ctx, c, waba); err != nil {
		return err
	}
	t, err := a.Business.Template(ctx, c, id)
	if err != nil {
		return err
	}
	if t.Business != waba {
		return unsupported(id)
	}
	writeJSON(w, http.StatusOK, pick(templateObject(t), r.URL.Query().Get("fields"), templateDefaultFields))
	return nil
}
