package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/parley-chat/parley"
)

var (
	qAppendSandbox = newQuery(`INSERT INTO sandbox_inbox (account, ref, message_id, from_account, line, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, ref) DO NOTHING`)
	qSandboxLines = newQuery(`SELECT ` + sandboxColumns + ` FROM sandbox_inbox WHERE account = ? AND seq > ? ORDER BY seq LIMIT ?`)
	qSandboxLine  = newQuery(`SELECT ` + sandboxColumns + ` FROM sandbox_inbox WHERE account = ? AND ref = ?`)
)

const sandboxColumns = `seq, account, ref, message_id, from_account, line, created_at`

func scanSandbox(r scanner, l *parley.SandboxLine) error {
	var created int64
	if err := r.Scan(&l.Seq, &l.Account, &l.Ref, &l.MessageID, &l.From, &l.Line, &created); err != nil {
		return err
	}
	l.CreatedAt = fromMicros(created)
	return nil
}

// AppendSandbox adds a line unless one with its ref exists.
func (s *Store) AppendSandbox(ctx context.Context, l *parley.SandboxLine) error {
	_, err := s.w.ExecContext(ctx, s.sql(qAppendSandbox), l.Account, l.Ref, l.MessageID, l.From, l.Line, micros(l.CreatedAt))
	if err != nil {
		return s.wrap("AppendSandbox", err)
	}
	return nil
}

// SandboxLines returns lines of account after seq.
func (s *Store) SandboxLines(ctx context.Context, account string, after int64, limit int) ([]parley.SandboxLine, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qSandboxLines), account, after, limit)
	if err != nil {
		return nil, s.wrap("SandboxLines", err)
	}
	var out []parley.SandboxLine
	err = scanAll(rows, func(r scanner) error {
		var l parley.SandboxLine
		if err := scanSandbox(r, &l); err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	if err != nil {
		return nil, s.wrap("SandboxLines", err)
	}
	return out, nil
}

// SandboxLine returns one line by ref.
func (s *Store) SandboxLine(ctx context.Context, account, ref string) (*parley.SandboxLine, error) {
	var l parley.SandboxLine
	err := scanSandbox(s.r.QueryRowContext(ctx, s.sql(qSandboxLine), account, ref), &l)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("SandboxLine", "%s received no message %s", account, ref)
	}
	if err != nil {
		return nil, s.wrap("SandboxLine", err)
	}
	return &l, nil
}
