package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/parley-chat/parley"
)

var (
	qPutBusinessMedia = newQuery(`INSERT INTO business_media (id, business, number, blob, mime_type, filename, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	qBusinessMedia = newQuery(`SELECT b.id, b.business, b.number, b.blob, b.mime_type, b.filename, b.created_at, m.size, m.sha256
		FROM business_media b JOIN media m ON m.id = b.blob WHERE b.id = ? AND m.completed_at <> 0 AND m.deleted_at = 0`)
	qDeleteBusinessMedia     = newQuery(`DELETE FROM business_media WHERE id = ?`)
	qDeleteBusinessMediaBlob = newQuery(`DELETE FROM business_media WHERE blob = ?`)
)

// PutBusinessMedia stores a business media object.
func (s *Store) PutBusinessMedia(ctx context.Context, m *parley.BusinessMedia) error {
	_, err := s.w.ExecContext(ctx, s.sql(qPutBusinessMedia), m.ID, m.Business, m.Number, m.Blob, m.MIMEType, m.Filename, micros(m.CreatedAt))
	if err != nil {
		return s.wrap("PutBusinessMedia", err)
	}
	return nil
}

// BusinessMedia returns a business media object whose blob is servable.
func (s *Store) BusinessMedia(ctx context.Context, id string) (*parley.BusinessMedia, error) {
	var m parley.BusinessMedia
	var created int64
	err := s.r.QueryRowContext(ctx, s.sql(qBusinessMedia), id).Scan(&m.ID, &m.Business, &m.Number, &m.Blob, &m.MIMEType,
		&m.Filename, &created, &m.Size, &m.SHA256)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("BusinessMedia", "no business media %s", id)
	}
	if err != nil {
		return nil, s.wrap("BusinessMedia", err)
	}
	m.CreatedAt, m.SHA256 = fromMicros(created), blob(m.SHA256)
	return &m, nil
}

// DeleteBusinessMedia deletes a business media object (not its blob).
func (s *Store) DeleteBusinessMedia(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, s.sql(qDeleteBusinessMedia), id)
	if err != nil {
		return s.wrap("DeleteBusinessMedia", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("DeleteBusinessMedia", err)
	} else if !ok {
		return s.notFound("DeleteBusinessMedia", "no business media %s", id)
	}
	return nil
}
