package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

var (
	qRecordSMS = newQuery(`INSERT INTO sms_log (phone, body, sent_at) VALUES (?, ?, ?)
		ON CONFLICT (phone) DO UPDATE SET body = excluded.body, sent_at = excluded.sent_at`)
	qLastSMS = newQuery(`SELECT body, sent_at FROM sms_log WHERE phone = ?`)
)

// RecordSMS keeps text as the last message sent to phone, replacing the
// one before: the log exists to read back the latest code.
func (s *Store) RecordSMS(ctx context.Context, phone, text string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qRecordSMS), phone, text, micros(at)); err != nil {
		return s.wrap("RecordSMS", err)
	}
	return nil
}

// LastSMS returns ENOTFOUND when nothing was sent to phone.
func (s *Store) LastSMS(ctx context.Context, phone string) (string, time.Time, error) {
	var text string
	var at int64
	err := s.r.QueryRowContext(ctx, s.sql(qLastSMS), phone).Scan(&text, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, s.notFound("LastSMS", "no SMS sent to this number")
	}
	if err != nil {
		return "", time.Time{}, s.wrap("LastSMS", err)
	}
	return text, fromMicros(at), nil
}
