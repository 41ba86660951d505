package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

const uploadColumns = `id, business, app, file_name, file_type, file_length, data, handle, created_at, expires_at`

var (
	qInsertUpload = newQuery(`INSERT INTO upload_sessions (` + uploadColumns + `) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)`)
	qUpload       = newQuery(`SELECT ` + uploadColumns + ` FROM upload_sessions WHERE id = ?`)
	qUploadHandle = newQuery(`SELECT ` + uploadColumns + ` FROM upload_sessions WHERE handle = ?`)
	qFinishUpload = newQuery(`UPDATE upload_sessions SET data = ?, handle = ? WHERE id = ? AND handle IS NULL`)
	qUploadExists = newQuery(`SELECT 1 FROM upload_sessions WHERE id = ?`)
	qOpenUploads  = newQuery(`SELECT COUNT(*) FROM upload_sessions WHERE business = ? AND expires_at > ?`)
	qExpireUpload = newQuery(`DELETE FROM upload_sessions WHERE expires_at <= ?`)
	qPutPicture   = newQuery(`INSERT INTO business_pictures (number, mime_type, data, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (number) DO UPDATE SET mime_type = excluded.mime_type, data = excluded.data, updated_at = excluded.updated_at`)
	qDeletePicture   = newQuery(`DELETE FROM business_pictures WHERE number = ?`)
	qPicture         = newQuery(`SELECT number, mime_type, data, updated_at FROM business_pictures WHERE number = ?`)
	qPictureMetadata = newQuery(`SELECT number, mime_type, NULL, updated_at FROM business_pictures WHERE number = ?`)
)

func scanUpload(r scanner) (*parley.UploadSession, error) {
	var u parley.UploadSession
	var handle sql.NullString
	var created, expires int64
	if err := r.Scan(&u.ID, &u.Business, &u.App, &u.FileName, &u.FileType, &u.FileLength, &u.Data, &handle, &created, &expires); err != nil {
		return nil, err
	}
	u.Handle = handle.String
	u.CreatedAt, u.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &u, nil
}

// CreateUploadSession stores a new, empty session.
func (s *Store) CreateUploadSession(ctx context.Context, u *parley.UploadSession) error {
	_, err := s.w.ExecContext(ctx, s.sql(qInsertUpload), u.ID, u.Business, u.App, u.FileName, u.FileType, u.FileLength,
		micros(u.CreatedAt), micros(u.ExpiresAt))
	return s.wrapIf("CreateUploadSession", err)
}

// UploadSession returns a session with its data.
func (s *Store) UploadSession(ctx context.Context, id string) (*parley.UploadSession, error) {
	u, err := scanUpload(s.r.QueryRowContext(ctx, s.sql(qUpload), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("UploadSession", "upload session not found")
	}
	if err != nil {
		return nil, s.wrap("UploadSession", err)
	}
	return u, nil
}

// UploadByHandle returns the session that issued a handle.
func (s *Store) UploadByHandle(ctx context.Context, handle string) (*parley.UploadSession, error) {
	u, err := scanUpload(s.r.QueryRowContext(ctx, s.sql(qUploadHandle), handle))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("UploadByHandle", "upload handle not found")
	}
	if err != nil {
		return nil, s.wrap("UploadByHandle", err)
	}
	return u, nil
}

// FinishUpload stores the bytes and handle of an empty session.
func (s *Store) FinishUpload(ctx context.Context, id string, data []byte, handle string) error {
	if data == nil {
		data = []byte{}
	}
	res, err := s.w.ExecContext(ctx, s.sql(qFinishUpload), data, handle, id)
	if err != nil {
		return s.wrap("FinishUpload", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap("FinishUpload", err)
	} else if n == 1 {
		return nil
	}
	var one int
	err = s.w.QueryRowContext(ctx, s.sql(qUploadExists), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return s.notFound("FinishUpload", "upload session not found")
	}
	if err != nil {
		return s.wrap("FinishUpload", err)
	}
	e := parley.Errorf(parley.ECONFLICT, "the upload session already has its file")
	e.Op = s.op("FinishUpload")
	return e
}

// OpenUploads counts a business's sessions not expired at now.
func (s *Store) OpenUploads(ctx context.Context, business string, now time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.sql(qOpenUploads), business, micros(now)).Scan(&n)
	return n, s.wrapIf("OpenUploads", err)
}

// DeleteExpiredUploads deletes the sessions expired at now.
func (s *Store) DeleteExpiredUploads(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.sql(qExpireUpload), micros(now))
	if err != nil {
		return 0, s.wrap("DeleteExpiredUploads", err)
	}
	n, err := res.RowsAffected()
	return n, s.wrapIf("DeleteExpiredUploads", err)
}

// PutProfileWithPicture stores the profile and its picture in one
// transaction.
func (s *Store) PutProfileWithPicture(ctx context.Context, p *parley.BusinessProfile, pic *parley.ProfilePicture) error {
	args, err := profileArgs(p)
	if err != nil {
		return s.wrap("PutProfileWithPicture", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("PutProfileWithPicture", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.sql(qPutProfile), args...); err != nil {
		return s.wrap("PutProfileWithPicture", err)
	}
	if pic == nil {
		_, err = tx.ExecContext(ctx, s.sql(qDeletePicture), p.Number)
	} else {
		_, err = tx.ExecContext(ctx, s.sql(qPutPicture), p.Number, pic.MIMEType, pic.Data, micros(pic.UpdatedAt))
	}
	if err != nil {
		return s.wrap("PutProfileWithPicture", err)
	}
	return s.wrapIf("PutProfileWithPicture", tx.Commit())
}

// ProfilePicture returns a number's picture.
func (s *Store) ProfilePicture(ctx context.Context, number string, withData bool) (*parley.ProfilePicture, error) {
	q := qPictureMetadata
	if withData {
		q = qPicture
	}
	var p parley.ProfilePicture
	var updated int64
	err := s.r.QueryRowContext(ctx, s.sql(q), number).Scan(&p.Number, &p.MIMEType, &p.Data, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("ProfilePicture", "no profile picture")
	}
	if err != nil {
		return nil, s.wrap("ProfilePicture", err)
	}
	p.UpdatedAt = fromMicros(updated)
	return &p, nil
}
