package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

var (
	qEnsureAccount = newQuery(`INSERT INTO accounts (id, name, presence, created_at) VALUES (?, '', ?, ?)
		ON CONFLICT (id) DO NOTHING
		RETURNING id, name, presence, created_at`)
	qAccount       = newQuery(`SELECT id, name, presence, created_at FROM accounts WHERE id = ?`)
	qUpdateAccount = newQuery(`UPDATE accounts SET name = ?, presence = ? WHERE id = ?`)

	qNextDeviceID = newQuery(`UPDATE accounts SET next_device = next_device + 1 WHERE id = ? RETURNING next_device - 1`)
	qInsertDevice = newQuery(`INSERT INTO devices (account, id, name, platform, created_at, last_seen_at, expires_at, revoked_at, token_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qDevice  = newQuery(`SELECT ` + deviceColumns + ` FROM devices WHERE account = ? AND id = ?`)
	qDevices = newQuery(`SELECT ` + deviceColumns + `,
		EXISTS (SELECT 1 FROM device_keys k WHERE k.account = devices.account AND k.device = devices.id)
		FROM devices WHERE account = ? AND revoked_at = 0 ORDER BY id`)

	qRevokeDevice      = newQuery(`UPDATE devices SET revoked_at = ?, node = '' WHERE account = ? AND id = ? AND revoked_at = 0`)
	qDeviceExists      = newQuery(`SELECT COUNT(*) FROM devices WHERE account = ? AND id = ?`)
	qDeleteMailboxOf   = newQuery(`DELETE FROM mailbox WHERE account = ? AND device = ?`)
	qTouchDevice       = newQuery(`UPDATE devices SET last_seen_at = ?, expires_at = ? WHERE account = ? AND id = ? AND revoked_at = 0`)
	qActiveDeviceIDsOf = newQuery(`SELECT id FROM devices WHERE account = ? AND revoked_at = 0 ORDER BY id`)
)

const deviceColumns = `account, id, name, platform, created_at, last_seen_at, expires_at, revoked_at, token_hash`

// EnsureAccount returns the account, creating it when it does not exist.
func (s *Store) EnsureAccount(ctx context.Context, id string, now time.Time) (*parley.Account, bool, error) {
	a, err := scanAccount(s.w.QueryRowContext(ctx, s.sql(qEnsureAccount), id, parley.PresenceEveryone, micros(now)))
	if err == nil {
		return a, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, s.wrap("EnsureAccount", err)
	}
	// It existed. Accounts are never deleted, so reading it through the
	// write pool (which saw the conflict) cannot miss it.
	a, err = scanAccount(s.w.QueryRowContext(ctx, s.sql(qAccount), id))
	if err != nil {
		return nil, false, s.wrap("EnsureAccount", err)
	}
	return a, false, nil
}

// Account returns ENOTFOUND when there is no such account.
func (s *Store) Account(ctx context.Context, id string) (*parley.Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, s.sql(qAccount), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Account", "account not found")
	}
	if err != nil {
		return nil, s.wrap("Account", err)
	}
	return a, nil
}

// UpdateAccount stores the name and presence setting of a.
func (s *Store) UpdateAccount(ctx context.Context, a *parley.Account) error {
	res, err := s.w.ExecContext(ctx, s.sql(qUpdateAccount), a.Name, a.Presence, a.ID)
	if err != nil {
		return s.wrap("UpdateAccount", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("UpdateAccount", err)
	} else if !ok {
		return s.notFound("UpdateAccount", "account not found")
	}
	return nil
}

func scanAccount(row scanner) (*parley.Account, error) {
	var a parley.Account
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &a.Presence, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// CreateDevice takes the account's next device id, which is never handed
// out again, and stores d with it.
func (s *Store) CreateDevice(ctx context.Context, d *parley.Device) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("CreateDevice", err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, s.sql(qNextDeviceID), d.Account).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return s.notFound("CreateDevice", "account not found")
	}
	if err != nil {
		return s.wrap("CreateDevice", err)
	}
	_, err = tx.ExecContext(ctx, s.sql(qInsertDevice), d.Account, id, d.Name, d.Platform,
		micros(d.CreatedAt), micros(d.LastSeenAt), micros(d.ExpiresAt), micros(d.RevokedAt), blob(d.TokenHash))
	if err != nil {
		return s.wrap("CreateDevice", err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("CreateDevice", err)
	}
	d.ID = uint32(id)
	return nil
}

// Device returns a device, active or revoked; ENOTFOUND when unknown.
func (s *Store) Device(ctx context.Context, account string, id uint32) (*parley.Device, error) {
	var d parley.Device
	err := scanDevice(s.r.QueryRowContext(ctx, s.sql(qDevice), account, int64(id)), &d)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Device", "device not found")
	}
	if err != nil {
		return nil, s.wrap("Device", err)
	}
	return &d, nil
}

// Devices lists the account's active devices by id; it is empty, not an
// error, for an unknown account.
func (s *Store) Devices(ctx context.Context, account string) ([]parley.Device, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qDevices), account)
	if err != nil {
		return nil, s.wrap("Devices", err)
	}
	defer rows.Close()
	ds := []parley.Device{}
	for rows.Next() {
		var d parley.Device
		if err := scanDevice(rows, &d, &d.HasKeys); err != nil {
			return nil, s.wrap("Devices", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("Devices", err)
	}
	return ds, nil
}

// scanDevice scans deviceColumns into d, then the extra columns.
func scanDevice(row scanner, d *parley.Device, extra ...any) error {
	var id, created, seen, expires, revoked int64
	if err := row.Scan(append([]any{&d.Account, &id, &d.Name, &d.Platform, &created, &seen, &expires, &revoked, &d.TokenHash}, extra...)...); err != nil {
		return err
	}
	d.ID = uint32(id)
	d.CreatedAt, d.LastSeenAt, d.ExpiresAt, d.RevokedAt = fromMicros(created), fromMicros(seen), fromMicros(expires), fromMicros(revoked)
	d.TokenHash = blob(d.TokenHash)
	return nil
}

// RevokeDevice marks the device revoked, takes it offline and deletes its
// mailbox, in one transaction. Revoking a revoked device changes nothing.
func (s *Store) RevokeDevice(ctx context.Context, account string, id uint32, at time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("RevokeDevice", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.sql(qRevokeDevice), micros(at), account, int64(id))
	if err != nil {
		return s.wrap("RevokeDevice", err)
	}
	revoked, err := rowsAffected(res)
	if err != nil {
		return s.wrap("RevokeDevice", err)
	}
	if !revoked {
		var n int
		if err := tx.QueryRowContext(ctx, s.sql(qDeviceExists), account, int64(id)).Scan(&n); err != nil {
			return s.wrap("RevokeDevice", err)
		}
		if n == 0 {
			return s.notFound("RevokeDevice", "device not found")
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.sql(qDeleteMailboxOf), account, int64(id)); err != nil {
		return s.wrap("RevokeDevice", err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("RevokeDevice", err)
	}
	return nil
}

// TouchDevice records use of an active device and extends its
// credential; ENOTFOUND when the device is unknown or revoked.
func (s *Store) TouchDevice(ctx context.Context, account string, id uint32, seenAt, expiresAt time.Time) error {
	res, err := s.w.ExecContext(ctx, s.sql(qTouchDevice), micros(seenAt), micros(expiresAt), account, int64(id))
	if err != nil {
		return s.wrap("TouchDevice", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("TouchDevice", err)
	} else if !ok {
		return s.notFound("TouchDevice", "no active device %s", parley.DeviceAddress(account, id))
	}
	return nil
}

// activeDeviceIDs lists the active device ids of each account, for the
// Devices field of an ESTALE error.
func (s *Store) activeDeviceIDs(ctx context.Context, accounts []string) (map[string][]uint32, error) {
	m := make(map[string][]uint32, len(accounts))
	for _, a := range accounts {
		if _, ok := m[a]; ok {
			continue
		}
		rows, err := s.r.QueryContext(ctx, s.sql(qActiveDeviceIDsOf), a)
		if err != nil {
			return nil, err
		}
		ids := []uint32{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			ids = append(ids, uint32(id))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		m[a] = ids
	}
	return m, nil
}
