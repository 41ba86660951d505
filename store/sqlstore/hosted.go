package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// Hosted devices. Leases are taken row by row with a conditional UPDATE
// (expired, or already ours), so that of several nodes asking at once
// exactly one gets each device; saves are fenced by the lease in the same
// way.

var (
	qPutHosted = newQuery(`INSERT INTO hosted_devices (account, device, kind, sealed, version, lease_node, lease_until, created_at)
		VALUES (?, ?, ?, ?, 0, '', 0, ?) ON CONFLICT DO NOTHING`)
	qHosted = newQuery(`SELECT ` + hostedColumns + ` FROM hosted_devices WHERE account = ?`)
	// Candidates, then a conditional claim per row.
	qHostedCandidates = newQuery(`SELECT account, device, kind FROM hosted_devices
		WHERE lease_until < ? OR lease_node = ? ORDER BY lease_until LIMIT ?`)
	qLeaseHosted = newQuery(`UPDATE hosted_devices SET lease_node = ?, lease_until = ?
		WHERE account = ? AND device = ? AND (lease_until < ? OR lease_node = ?)
		RETURNING ` + hostedColumns)
	qSaveHosted = newQuery(`UPDATE hosted_devices SET sealed = ?, version = version + 1
		WHERE account = ? AND device = ? AND lease_node = ? AND lease_until >= ?`)
	qReleaseHosted = newQuery(`UPDATE hosted_devices SET lease_node = '', lease_until = 0 WHERE lease_node = ?`)
)

const hostedColumns = `account, device, kind, sealed, version, lease_node, lease_until, created_at`

func scanHosted(r scanner, h *parley.HostedDevice) error {
	var dev, until, created int64
	if err := r.Scan(&h.Account, &dev, &h.Kind, &h.Sealed, &h.Version, &h.LeaseNode, &until, &created); err != nil {
		return err
	}
	h.Device, h.LeaseUntil, h.CreatedAt = uint32(dev), fromMicros(until), fromMicros(created)
	return nil
}

// PutHosted stores a new hosted device.
func (s *Store) PutHosted(ctx context.Context, h *parley.HostedDevice) error {
	res, err := s.w.ExecContext(ctx, s.sql(qPutHosted), h.Account, int64(h.Device), h.Kind, h.Sealed, micros(h.CreatedAt))
	if err != nil {
		return s.wrap("PutHosted", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("PutHosted", err)
	} else if !ok {
		e := parley.Errorf(parley.ECONFLICT, "%s has a hosted device already", h.Account)
		e.Op = s.op("PutHosted")
		return e
	}
	return nil
}

// Hosted returns the hosted device of an account.
func (s *Store) Hosted(ctx context.Context, account string) (*parley.HostedDevice, error) {
	var h parley.HostedDevice
	err := scanHosted(s.r.QueryRowContext(ctx, s.sql(qHosted), account), &h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Hosted", "%s has no hosted device", account)
	}
	if err != nil {
		return nil, s.wrap("Hosted", err)
	}
	return &h, nil
}

// LeaseHosted leases up to limit hosted devices to node.
func (s *Store) LeaseHosted(ctx context.Context, node string, kinds []string, now, until time.Time, limit int) ([]parley.HostedDevice, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	// Kinds are filtered here, not in SQL: there are two, and most nodes
	// run both. The scan looks further so that others' kinds do not
	// crowd ours out.
	rows, err := s.r.QueryContext(ctx, s.sql(qHostedCandidates), micros(now), node, 4*limit)
	if err != nil {
		return nil, s.wrap("LeaseHosted", err)
	}
	type key struct {
		account string
		device  int64
	}
	var cands []key
	err = scanAll(rows, func(r scanner) error {
		var k key
		var kind string
		if err := r.Scan(&k.account, &k.device, &kind); err != nil {
			return err
		}
		if slices.Contains(kinds, kind) && len(cands) < limit {
			cands = append(cands, k)
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap("LeaseHosted", err)
	}
	var out []parley.HostedDevice
	for _, k := range cands {
		var h parley.HostedDevice
		err := scanHosted(s.w.QueryRowContext(ctx, s.sql(qLeaseHosted), node, micros(until), k.account, k.device, micros(now), node), &h)
		if errors.Is(err, sql.ErrNoRows) {
			continue // another node was quicker
		}
		if err != nil {
			return out, s.wrap("LeaseHosted", err)
		}
		out = append(out, h)
	}
	return out, nil
}

// SaveHosted replaces the sealed state while node holds the lease.
func (s *Store) SaveHosted(ctx context.Context, account string, device uint32, node string, now time.Time, sealed []byte) error {
	res, err := s.w.ExecContext(ctx, s.sql(qSaveHosted), sealed, account, int64(device), node, micros(now))
	if err != nil {
		return s.wrap("SaveHosted", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("SaveHosted", err)
	} else if !ok {
		e := parley.Errorf(parley.ECONFLICT, "the lease of %s.%d is lost", account, device)
		e.Op = s.op("SaveHosted")
		return e
	}
	return nil
}

// ReleaseHosted ends node's leases.
func (s *Store) ReleaseHosted(ctx context.Context, node string) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qReleaseHosted), node); err != nil {
		return s.wrap("ReleaseHosted", err)
	}
	return nil
}
