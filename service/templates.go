package service

import (
	"context"

	"github.com/parley-chat/parley"
)

// CreateTemplate creates a template of the caller's business. With
// automatic review (the default) the template is APPROVED or REJECTED
// in the answer itself; with manual review it stays PENDING until an
// operator decides (ReviewTemplate). A status other than PENDING is
// announced through BusinessEvents.
func (s *Business) CreateTemplate(ctx context.Context, c *Caller, waba string, req *parley.TemplateRequest) (*parley.Template, error) {
	if _, err := s.WABA(ctx, c, waba); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	t := &parley.Template{ID: NewGraphID(), Business: waba, Name: req.Name, Language: req.Language, Category: req.Category,
		ParameterFormat: req.ParameterFormat, Components: req.Components, SendTTL: req.SendTTL, CreatedAt: now, UpdatedAt: now,
		Status: parley.TemplatePending, RejectedReason: parley.RejectNone}
	if !s.opt.ManualReview {
		t.Status, t.RejectedReason = req.Review()
	}
	if err := s.store.CreateTemplate(ctx, t); err != nil {
		return nil, err
	}
	s.templates.invalidate(templateKey(waba, t.Name, t.Language))
	if t.Status != parley.TemplatePending {
		s.opt.Events.TemplateStatusChanged(ctx, parley.TemplateEvent{Business: waba, Template: *t, Event: t.Status, Reason: t.RejectedReason, At: now})
	}
	return t, nil
}

// Templates lists templates of the caller's business.
func (s *Business) Templates(ctx context.Context, c *Caller, f parley.TemplateFilter) ([]parley.Template, bool, error) {
	if _, err := s.WABA(ctx, c, f.Business); err != nil {
		return nil, false, err
	}
	return s.store.Templates(ctx, f)
}

// Template returns a template of the caller's business by id.
func (s *Business) Template(ctx context.Context, c *Caller, id string) (*parley.Template, error) {
	if !parley.ValidGraphID(id) || c == nil || c.Business == "" {
		return nil, objectNotFound(id)
	}
	t, err := s.store.Template(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.Business != c.Business {
		return nil, objectNotFound(id)
	}
	return t, nil
}

// DeleteTemplates deletes the caller's templates of a name (every
// language) or, with hsmID, one template. Each deletion is announced.
func (s *Business) DeleteTemplates(ctx context.Context, c *Caller, waba, name, hsmID string) error {
	if _, err := s.WABA(ctx, c, waba); err != nil {
		return err
	}
	if name == "" && hsmID == "" {
		return parley.Errorf(parley.EINVALID, "The parameter name is required.")
	}
	ts, err := s.store.DeleteTemplates(ctx, waba, name, hsmID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	for _, t := range ts {
		s.templates.invalidate(templateKey(waba, t.Name, t.Language))
		s.opt.Events.TemplateStatusChanged(ctx, parley.TemplateEvent{Business: waba, Template: t, Event: parley.TemplateDeleted, At: now})
	}
	return nil
}

// ReviewTemplate is the operator's manual review: it approves the
// template or rejects it with a reason (RejectInvalidFormat and the
// others), and announces the change. Only PENDING templates are reviewed
// unless force is set (an operator may also pause, disable or reinstate
// one by setting its status directly with SetTemplateStatus).
func (s *Business) ReviewTemplate(ctx context.Context, id string, approve bool, reason string) (*parley.Template, error) {
	t, err := s.store.Template(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.Status != parley.TemplatePending {
		return nil, parley.Errorf(parley.ECONFLICT, "template %s is %s, not PENDING", id, t.Status)
	}
	status := parley.TemplateApproved
	if !approve {
		status = parley.TemplateRejected
		switch reason {
		case "":
			reason = parley.RejectInvalidFormat
		case parley.RejectInvalidFormat, parley.RejectIncorrectCategory, parley.RejectAbusiveContent, "PROMOTIONAL", "SCAM", "TAG_CONTENT_MISMATCH":
		default:
			return nil, parley.Errorf(parley.EINVALID, "reason must be INVALID_FORMAT, INCORRECT_CATEGORY, ABUSIVE_CONTENT, PROMOTIONAL, SCAM or TAG_CONTENT_MISMATCH")
		}
	} else {
		reason = parley.RejectNone
	}
	return s.SetTemplateStatus(ctx, id, status, reason)
}

// SetTemplateStatus sets a template's status (operator action) and
// announces it.
func (s *Business) SetTemplateStatus(ctx context.Context, id, status, reason string) (*parley.Template, error) {
	switch status {
	case parley.TemplateApproved, parley.TemplateRejected, parley.TemplatePaused, parley.TemplateDisabled, parley.TemplatePending:
	default:
		return nil, parley.Errorf(parley.EINVALID, "status must be APPROVED, REJECTED, PAUSED, DISABLED or PENDING")
	}
	if reason == "" {
		reason = parley.RejectNone
	}
	now := s.clock.Now()
	t, err := s.store.SetTemplateStatus(ctx, id, status, reason, now)
	if err != nil {
		return nil, err
	}
	s.templates.invalidate(templateKey(t.Business, t.Name, t.Language))
	s.opt.Events.TemplateStatusChanged(ctx, parley.TemplateEvent{Business: t.Business, Template: *t, Event: status, Reason: reason, At: now})
	return t, nil
}
