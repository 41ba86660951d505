package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"

	"github.com/parley-chat/parley"
)

// The statements of a batch. Each runs over all the batch's rows at once,
// so a batch costs a handful of statements whatever its size.
var (
	// The device rows are read in (account, id) order, and on PostgreSQL
	// locked in that order, so that batches on different nodes cannot
	// deadlock on them.
	bLockDevices = newLockingBulk(`SELECT account, id, revoked_at, next_seq FROM devices WHERE (account, id) IN (VALUES `,
		`(?, CAST(? AS BIGINT))`, `) ORDER BY account, id`)
	bFindKeys = newBulk(`SELECT from_account, from_device, client_id, message_id, sent_at FROM idempotency
		WHERE (from_account, from_device, client_id) IN (VALUES `, `(?, CAST(? AS BIGINT), ?)`, `)`)
	bInsertKeys  = newBulk(`INSERT INTO idempotency (from_account, from_device, client_id, message_id, sent_at) VALUES `, `(?, ?, ?, ?, ?)`, ``)
	bInsertItems = newBulk(`INSERT INTO mailbox (`+itemColumns+`) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``)
	bDeleteItems = newBulk(`DELETE FROM mailbox WHERE (account, device, seq) IN (VALUES `,
		`(?, CAST(? AS BIGINT), CAST(? AS BIGINT))`, `)`)
	bSetNextSeq = newBulk(`UPDATE devices SET next_seq = v.column3 FROM (VALUES `,
		`(?, CAST(? AS BIGINT), CAST(? AS BIGINT))`, `) AS v WHERE devices.account = v.column1 AND devices.id = v.column2`)
)

type deviceKey struct {
	account string
	id      uint32
}

func compareDeviceKeys(a, b deviceKey) int {
	return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.id, b.id))
}

type deviceState struct {
	active    bool // exists and is not revoked
	next, was uint64
}

type idemKey struct {
	from     string
	device   uint32
	clientID string
}

type idemRecord struct {
	messageID string
	at        int64
}

// apply writes ops in tx as if each ran alone, in queue order: sequence
// numbers are handed out in that order, and a key delivered earlier in
// the batch makes a later delivery with the same key a duplicate. An op
// that must fail (ESTALE) writes nothing and gets o.err; only a database
// error fails the transaction. apply sets every result field, so it can
// run again on the same ops after a failed attempt.
func (s *Store) apply(ctx context.Context, tx *sql.Tx, ops []*op) error {
	devices, err := s.lockDevices(ctx, tx, ops)
	if err != nil {
		return err
	}
	known, err := s.findKeys(ctx, tx, ops)
	if err != nil {
		return err
	}

	var keyRows, itemRows, deleteRows []any
	for _, o := range ops {
		o.err, o.duplicate = nil, false
		for i := range o.items {
			o.items[i].Seq = 0
		}
		if !o.deliver {
			st := devices[deviceKey{o.account, o.device}]
			if !st.active {
				o.err = staleError(deviceKey{o.account, o.device})
				continue
			}
			for _, seq := range o.seqs {
				deleteRows = append(deleteRows, o.account, int64(o.device), int64(seq))
			}
			for i := range o.items {
				if st := devices[deviceKey{o.items[i].Account, o.items[i].Device}]; st.active {
					itemRows = appendItem(itemRows, &o.items[i], st)
				}
			}
			continue
		}
		k := idemKey{o.from, o.fromDevice, o.clientID}
		if rec, ok := known[k]; ok && o.clientID != "" {
			o.duplicate, o.messageID, o.timestamp = true, rec.messageID, fromMicros(rec.at)
			continue
		}
		if stale, ok := firstStale(o.items, devices); ok {
			o.err = staleError(stale)
			continue
		}
		for i := range o.items {
			itemRows = appendItem(itemRows, &o.items[i], devices[deviceKey{o.items[i].Account, o.items[i].Device}])
		}
		if o.clientID != "" {
			known[k] = idemRecord{o.messageID, micros(o.timestamp)}
			keyRows = append(keyRows, o.from, int64(o.fromDevice), o.clientID, o.messageID, micros(o.timestamp))
		}
	}

	// Deletes first: an ack cannot name an item of its own batch.
	if _, err := s.execBulk(ctx, tx, bDeleteItems, deleteRows); err != nil {
		return err
	}
	if _, err := s.execBulk(ctx, tx, bInsertKeys, keyRows); err != nil {
		return err // a key committed by another node meanwhile: the ops are retried alone
	}
	if _, err := s.execBulk(ctx, tx, bInsertItems, itemRows); err != nil {
		return err
	}
	var seqRows []any
	for _, k := range sortedKeys(devices) {
		if st := devices[k]; st.next != st.was {
			seqRows = append(seqRows, k.account, int64(k.id), int64(st.next))
		}
	}
	_, err = s.execBulk(ctx, tx, bSetNextSeq, seqRows)
	return err
}

// appendItem assigns it the device's next sequence number and adds its row.
func appendItem(rows []any, it *parley.Item, st *deviceState) []any {
	it.Seq = st.next
	st.next++
	return append(rows, it.Account, int64(it.Device), int64(it.Seq), string(it.Kind), it.MessageID, it.ClientID,
		it.From, int64(it.FromDevice), it.To, micros(it.Timestamp), blob(it.Body))
}

func firstStale(items []parley.Item, devices map[deviceKey]*deviceState) (deviceKey, bool) {
	for _, it := range items {
		k := deviceKey{it.Account, it.Device}
		if !devices[k].active {
			return k, true
		}
	}
	return deviceKey{}, false
}

func staleError(k deviceKey) *parley.Error {
	return parley.Errorf(parley.ESTALE, "device %s is revoked or unknown", parley.DeviceAddress(k.account, k.id))
}

// lockDevices reads, and where the dialect needs it locks, every device
// the ops touch. Devices that do not exist get an inactive state.
func (s *Store) lockDevices(ctx context.Context, tx *sql.Tx, ops []*op) (map[deviceKey]*deviceState, error) {
	devices := make(map[deviceKey]*deviceState)
	inactive := &deviceState{}
	for _, o := range ops {
		if !o.deliver {
			devices[deviceKey{o.account, o.device}] = inactive
		}
		for _, it := range o.items {
			devices[deviceKey{it.Account, it.Device}] = inactive
		}
	}
	keys := sortedKeys(devices)
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, k.account, int64(k.id))
	}
	err := s.queryBulk(ctx, tx, bLockDevices, args, func(r scanner) error {
		var k deviceKey
		var id, revoked, next int64
		if err := r.Scan(&k.account, &id, &revoked, &next); err != nil {
			return err
		}
		k.id = uint32(id)
		devices[k] = &deviceState{active: revoked == 0, next: uint64(next), was: uint64(next)}
		return nil
	})
	return devices, err
}

func sortedKeys(devices map[deviceKey]*deviceState) []deviceKey {
	keys := make([]deviceKey, 0, len(devices))
	for k := range devices {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareDeviceKeys)
	return keys
}

// findKeys returns the idempotency records already committed for the
// keys of the batch's deliveries.
func (s *Store) findKeys(ctx context.Context, tx *sql.Tx, ops []*op) (map[idemKey]idemRecord, error) {
	known := make(map[idemKey]idemRecord)
	seen := make(map[idemKey]bool)
	var args []any
	for _, o := range ops {
		k := idemKey{o.from, o.fromDevice, o.clientID}
		if o.deliver && o.clientID != "" && !seen[k] {
			seen[k] = true
			args = append(args, k.from, int64(k.device), k.clientID)
		}
	}
	err := s.queryBulk(ctx, tx, bFindKeys, args, func(r scanner) error {
		var k idemKey
		var device int64
		var rec idemRecord
		if err := r.Scan(&k.from, &device, &k.clientID, &rec.messageID, &rec.at); err != nil {
			return err
		}
		k.device = uint32(device)
		known[k] = rec
		return nil
	})
	return known, err
}
