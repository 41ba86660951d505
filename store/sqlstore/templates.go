package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

const templateColumns = `id, business, name, language, category, status, parameter_format, components, rejected_reason, send_ttl, created_at, updated_at`

var (
	qInsertTemplate = newQuery(`INSERT INTO message_templates (` + templateColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`)
	qTemplate          = newQuery(`SELECT ` + templateColumns + ` FROM message_templates WHERE id = ?`)
	qTemplateByName    = newQuery(`SELECT ` + templateColumns + ` FROM message_templates WHERE business = ? AND name = ? AND language = ?`)
	qSetTemplateStatus = newQuery(`UPDATE message_templates SET status = ?, rejected_reason = ?, updated_at = ? WHERE id = ?
		RETURNING ` + templateColumns)
	qDeleteTemplatesByName = newQuery(`DELETE FROM message_templates WHERE business = ? AND name = ? RETURNING ` + templateColumns)
	qDeleteTemplateByID    = newQuery(`DELETE FROM message_templates WHERE business = ? AND id = ? AND (? = '' OR name = ?)
		RETURNING ` + templateColumns)
)

// CreateTemplate stores t; ECONFLICT when (business, name, language) is taken.
func (s *Store) CreateTemplate(ctx context.Context, t *parley.Template) error {
	res, err := s.w.ExecContext(ctx, s.sql(qInsertTemplate), t.ID, t.Business, t.Name, t.Language, t.Category, t.Status,
		t.ParameterFormat, string(t.Components), t.RejectedReason, int64(t.SendTTL), micros(t.CreatedAt), micros(t.UpdatedAt))
	if err != nil {
		return s.wrap("CreateTemplate", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("CreateTemplate", err)
	} else if !ok {
		e := parley.Errorf(parley.ECONFLICT, "Content in this language already exists: a template named %s exists in %s", t.Name, t.Language)
		e.Op, e.Reason = s.op("CreateTemplate"), parley.ReasonTemplateExists
		return e
	}
	return nil
}

func scanTemplate(r scanner) (*parley.Template, error) {
	var t parley.Template
	var components string
	var ttl, created, updated int64
	if err := r.Scan(&t.ID, &t.Business, &t.Name, &t.Language, &t.Category, &t.Status, &t.ParameterFormat, &components,
		&t.RejectedReason, &ttl, &created, &updated); err != nil {
		return nil, err
	}
	t.Components = []byte(components)
	t.SendTTL, t.CreatedAt, t.UpdatedAt = int(ttl), fromMicros(created), fromMicros(updated)
	return &t, nil
}

// Template returns a template by id.
func (s *Store) Template(ctx context.Context, id string) (*parley.Template, error) {
	t, err := scanTemplate(s.r.QueryRowContext(ctx, s.sql(qTemplate), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.objectNotFound("Template", "template", id)
	}
	if err != nil {
		return nil, s.wrap("Template", err)
	}
	return t, nil
}

// TemplateByName returns the business's template of that name and language.
func (s *Store) TemplateByName(ctx context.Context, business, name, language string) (*parley.Template, error) {
	t, err := scanTemplate(s.r.QueryRowContext(ctx, s.sql(qTemplateByName), business, name, language))
	if errors.Is(err, sql.ErrNoRows) {
		e := parley.Errorf(parley.ENOTFOUND, "template name (%s) does not exist in %s", name, language)
		e.Op, e.Reason = s.op("TemplateByName"), parley.ReasonTemplateMissing
		return nil, e
	}
	if err != nil {
		return nil, s.wrap("TemplateByName", err)
	}
	return t, nil
}

// Templates lists templates by id; the filter's fields are ANDed. The
// query is built from fixed parts only, so it is safe to assemble.
func (s *Store) Templates(ctx context.Context, f parley.TemplateFilter) ([]parley.Template, bool, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 25
	}
	var where []string
	args := []any{f.Business}
	where = append(where, "business = ?")
	for _, c := range []struct{ col, v string }{{"name", f.Name}, {"status", f.Status}, {"category", f.Category}, {"language", f.Language}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	order := "ASC"
	switch {
	case f.After != "":
		where = append(where, "id > ?")
		args = append(args, f.After)
	case f.Before != "":
		where = append(where, "id < ?")
		args = append(args, f.Before)
		order = "DESC"
	}
	args = append(args, limit+1)
	q := s.d.rebind(`SELECT ` + templateColumns + ` FROM message_templates WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id ` + order + ` LIMIT ?`)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, s.wrap("Templates", err)
	}
	var out []parley.Template
	err = scanAll(rows, func(r scanner) error {
		t, err := scanTemplate(r)
		if err == nil {
			out = append(out, *t)
		}
		return err
	})
	if err != nil {
		return nil, false, s.wrap("Templates", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if order == "DESC" {
		slices.Reverse(out)
	}
	return out, more, nil
}

// SetTemplateStatus changes a template's status and returns it.
func (s *Store) SetTemplateStatus(ctx context.Context, id, status, reason string, at time.Time) (*parley.Template, error) {
	t, err := scanTemplate(s.w.QueryRowContext(ctx, s.sql(qSetTemplateStatus), status, reason, micros(at), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.objectNotFound("SetTemplateStatus", "template", id)
	}
	if err != nil {
		return nil, s.wrap("SetTemplateStatus", err)
	}
	return t, nil
}

// DeleteTemplates deletes by name (every language) or by id (and name,
// when given).
func (s *Store) DeleteTemplates(ctx context.Context, business, name, id string) ([]parley.Template, error) {
	var rows *sql.Rows
	var err error
	if id != "" {
		rows, err = s.w.QueryContext(ctx, s.sql(qDeleteTemplateByID), business, id, name, name)
	} else {
		rows, err = s.w.QueryContext(ctx, s.sql(qDeleteTemplatesByName), business, name)
	}
	if err != nil {
		return nil, s.wrap("DeleteTemplates", err)
	}
	var out []parley.Template
	err = scanAll(rows, func(r scanner) error {
		t, err := scanTemplate(r)
		if err == nil {
			out = append(out, *t)
		}
		return err
	})
	if err != nil {
		return nil, s.wrap("DeleteTemplates", err)
	}
	if len(out) == 0 {
		what := name
		if id != "" {
			what = id
		}
		return nil, s.objectNotFound("DeleteTemplates", "template", what)
	}
	return out, nil
}

var _ parley.TemplateStore = (*Store)(nil)
