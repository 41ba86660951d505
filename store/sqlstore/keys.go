package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/parley-chat/parley"
)

// The key directory. Every transaction that changes a device's keys
// first locks (PostgreSQL) or writes (both) the device's device_keys row
// and only then reads or changes its one_time_prekeys, so that changes to
// one device run one after another: on PostgreSQL the row lock orders
// them, and each later statement of a READ COMMITTED transaction sees
// what the one before it committed; on SQLite the write transaction holds
// the database's write lock. Claims lock rows in device order, so claims
// for several devices of one account never deadlock.

var (
	qDeviceRevokedAt = newQuery(`SELECT revoked_at FROM devices WHERE account = ? AND id = ?`)

	// The identity key and registration id are written once: when they
	// differ, the WHERE leaves the row alone and RETURNING returns
	// nothing. A signed prekey stored again unchanged keeps its time, so
	// that retried uploads do not postpone its rotation.
	qPutDeviceKeys = newQuery(`INSERT INTO device_keys (account, device, identity_key, registration_id, signed_id, signed_key, signed_sig, signed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, device) DO UPDATE SET
			signed_at = CASE WHEN device_keys.signed_id = excluded.signed_id AND device_keys.signed_key = excluded.signed_key
				THEN device_keys.signed_at ELSE excluded.signed_at END,
			signed_id = excluded.signed_id, signed_key = excluded.signed_key, signed_sig = excluded.signed_sig
		WHERE device_keys.identity_key = excluded.identity_key AND device_keys.registration_id = excluded.registration_id
		RETURNING device`)
	qRotateSignedPrekey = newQuery(`UPDATE device_keys SET
			signed_at = CASE WHEN signed_id = ? AND signed_key = ? THEN signed_at ELSE ? END,
			signed_id = ?, signed_key = ?, signed_sig = ?
		WHERE account = ? AND device = ?`)

	// qLockDeviceKeys and qClaimDeviceKeys get the dialect's LockRows
	// appended (see lockText).
	qLockDeviceKeys  = newQuery(`SELECT device FROM device_keys WHERE account = ? AND device = ?`)
	qClaimDeviceKeys = newQuery(`SELECT identity_key, registration_id, signed_id, signed_key, signed_sig, signed_at
		FROM device_keys k WHERE account = ? AND device = ?
			AND EXISTS (SELECT 1 FROM devices d WHERE d.account = k.account AND d.id = k.device AND d.revoked_at = 0)`)
	qClaimPrekey = newQuery(`DELETE FROM one_time_prekeys WHERE account = ? AND device = ?
			AND id = (SELECT MIN(id) FROM one_time_prekeys WHERE account = ? AND device = ?)
		RETURNING id, public_key`)

	qCountPrekeys = newQuery(`SELECT COUNT(*) FROM one_time_prekeys WHERE account = ? AND device = ?`)
	qKeyStatus    = newQuery(`SELECT k.signed_at,
			(SELECT COUNT(*) FROM one_time_prekeys p WHERE p.account = k.account AND p.device = k.device)
		FROM device_keys k WHERE k.account = ? AND k.device = ?`)

	bInsertPrekeys = newBulk(`INSERT INTO one_time_prekeys (account, device, id, public_key) VALUES `, `(?, ?, ?, ?)`,
		` ON CONFLICT (account, device, id) DO NOTHING`)
)

// lockText is q with the dialect's row-locking clause.
func (s *Store) lockText(q query) string { return s.sql(q) + s.d.LockRows }

// PutKeys stores the device's identity key, registration id and signed
// prekey and adds prekeys to its pool, in one transaction (see
// parley.KeyStore).
func (s *Store) PutKeys(ctx context.Context, k *parley.DeviceKeys, prekeys []parley.OneTimePrekey) (int, error) {
	const name = "PutKeys"
	var held int
	err := s.writeTx(ctx, name, func(tx *sql.Tx) error {
		var revoked int64
		err := tx.QueryRowContext(ctx, s.sql(qDeviceRevokedAt), k.Account, int64(k.Device)).Scan(&revoked)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && revoked != 0) {
			return s.notFound(name, "no active device %s", parley.DeviceAddress(k.Account, k.Device))
		}
		if err != nil {
			return err
		}
		spk := &k.SignedPrekey
		var dev int64
		err = tx.QueryRowContext(ctx, s.sql(qPutDeviceKeys), k.Account, int64(k.Device), k.IdentityKey, int64(k.RegistrationID),
			int64(spk.ID), spk.PublicKey, spk.Signature, micros(spk.CreatedAt)).Scan(&dev)
		if errors.Is(err, sql.ErrNoRows) {
			e := parley.Errorf(parley.ECONFLICT, "this device already has a different identity key or registration id; a new identity needs a new device")
			e.Op = s.op(name)
			return e
		}
		if err != nil {
			return err
		}
		held, err = s.addPrekeys(ctx, tx, name, k.Account, k.Device, prekeys)
		return err
	})
	if err != nil {
		return 0, err
	}
	return held, nil
}

// AddPrekeys adds one-time prekeys to the pool of a device that has
// published keys, ignoring ids it holds already.
func (s *Store) AddPrekeys(ctx context.Context, account string, device uint32, prekeys []parley.OneTimePrekey) (int, error) {
	const name = "AddPrekeys"
	var held int
	err := s.writeTx(ctx, name, func(tx *sql.Tx) error {
		var dev int64
		err := tx.QueryRowContext(ctx, s.lockText(qLockDeviceKeys), account, int64(device)).Scan(&dev)
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound(name, "device %s has published no keys", parley.DeviceAddress(account, device))
		}
		if err != nil {
			return err
		}
		held, err = s.addPrekeys(ctx, tx, name, account, device, prekeys)
		return err
	})
	if err != nil {
		return 0, err
	}
	return held, nil
}

// addPrekeys inserts prekeys within tx, which holds the device's
// device_keys row, and returns the pool's size; ETOOLARGE when it would
// exceed parley.MaxOneTimePrekeys (the caller's transaction then rolls
// back).
func (s *Store) addPrekeys(ctx context.Context, tx *sql.Tx, name, account string, device uint32, prekeys []parley.OneTimePrekey) (int, error) {
	seen := make(map[uint32]bool, len(prekeys))
	rows := make([]any, 0, 4*len(prekeys))
	for _, p := range prekeys {
		if seen[p.ID] {
			continue // the first key of an id wins, as against the stored ones
		}
		seen[p.ID] = true
		rows = append(rows, account, int64(device), int64(p.ID), p.PublicKey)
	}
	err := s.eachChunk(bInsertPrekeys, nil, rows, func(text string, args []any) error {
		_, err := tx.ExecContext(ctx, text, args...)
		return err
	})
	if err != nil {
		return 0, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.sql(qCountPrekeys), account, int64(device)).Scan(&n); err != nil {
		return 0, err
	}
	if n > parley.MaxOneTimePrekeys {
		e := parley.Errorf(parley.ETOOLARGE, "a device holds at most %d one-time prekeys; this upload would make %d", parley.MaxOneTimePrekeys, n)
		e.Op = s.op(name)
		return 0, e
	}
	return n, nil
}

// RotateSignedPrekey replaces the device's signed prekey. A key stored
// again unchanged (same id and public key) keeps its CreatedAt.
func (s *Store) RotateSignedPrekey(ctx context.Context, account string, device uint32, k *parley.SignedPrekey) error {
	res, err := s.w.ExecContext(ctx, s.sql(qRotateSignedPrekey), int64(k.ID), k.PublicKey, micros(k.CreatedAt),
		int64(k.ID), k.PublicKey, k.Signature, account, int64(device))
	if err != nil {
		return s.wrap("RotateSignedPrekey", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("RotateSignedPrekey", err)
	} else if !ok {
		return s.notFound("RotateSignedPrekey", "device %s has published no keys", parley.DeviceAddress(account, device))
	}
	return nil
}

// ClaimBundles returns a bundle for each listed device of account that is
// active and has published keys, by device id, and deletes the one-time
// prekey handed out with each, in one transaction.
func (s *Store) ClaimBundles(ctx context.Context, account string, devices []uint32) ([]parley.Bundle, error) {
	devs := slices.Clone(devices)
	slices.Sort(devs) // the lock order
	devs = slices.Compact(devs)
	var out []parley.Bundle
	err := s.writeTx(ctx, "ClaimBundles", func(tx *sql.Tx) error {
		out = make([]parley.Bundle, 0, len(devs))
		for _, dev := range devs {
			b := parley.Bundle{Account: account, Device: dev}
			var reg, spkID, spkAt int64
			err := tx.QueryRowContext(ctx, s.lockText(qClaimDeviceKeys), account, int64(dev)).Scan(
				&b.IdentityKey, &reg, &spkID, &b.SignedPrekey.PublicKey, &b.SignedPrekey.Signature, &spkAt)
			if errors.Is(err, sql.ErrNoRows) {
				continue // no keys published, or revoked
			}
			if err != nil {
				return err
			}
			b.RegistrationID, b.SignedPrekey.ID, b.SignedPrekey.CreatedAt = uint32(reg), uint32(spkID), fromMicros(spkAt)
			var otp parley.OneTimePrekey
			var otpID int64
			err = tx.QueryRowContext(ctx, s.sql(qClaimPrekey), account, int64(dev), account, int64(dev)).Scan(&otpID, &otp.PublicKey)
			switch {
			case errors.Is(err, sql.ErrNoRows): // the pool is empty
			case err != nil:
				return err
			default:
				otp.ID = uint32(otpID)
				b.OneTimePrekey = &otp
			}
			if err := tx.QueryRowContext(ctx, s.sql(qCountPrekeys), account, int64(dev)).Scan(&b.Remaining); err != nil {
				return err
			}
			out = append(out, b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// KeyStatus returns the size of the device's pool and when its signed
// prekey was stored; ENOTFOUND when it has published no keys.
func (s *Store) KeyStatus(ctx context.Context, account string, device uint32) (*parley.KeyStatus, error) {
	var at int64
	var st parley.KeyStatus
	err := s.r.QueryRowContext(ctx, s.sql(qKeyStatus), account, int64(device)).Scan(&at, &st.OneTimePrekeys)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("KeyStatus", "device %s has published no keys", parley.DeviceAddress(account, device))
	}
	if err != nil {
		return nil, s.wrap("KeyStatus", err)
	}
	st.SignedPrekeyAt = fromMicros(at)
	return &st, nil
}
