package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

const itemColumns = `account, device, seq, kind, message_id, client_id, from_account, from_device, to_account, sent_at, body, group_id, expires_at`

var (
	qSent = newQuery(`SELECT message_id, sent_at FROM idempotency WHERE from_account = ? AND from_device = ? AND client_id = ?`)
	// A span row (span.go) that starts up to maxSpan-1 before the first
	// seq wanted may still hold items after it.
	qFetch = newQuery(`SELECT ` + itemColumns + `, span FROM mailbox WHERE account = ? AND device = ? AND seq > ?
		AND seq + span - 1 > ? AND (expires_at = 0 OR expires_at > ?) ORDER BY seq LIMIT ?`)

	// Purge deletes in slices so that it never holds SQLite's write lock,
	// or PostgreSQL row locks, for long.
	qPurgeItems = newQuery(`DELETE FROM mailbox WHERE (account, device, seq) IN
		(SELECT account, device, seq FROM mailbox WHERE sent_at < ? LIMIT ?)`)
	// Where the mailbox has no index on sent_at (Dialect.PurgeInRowOrder):
	// the items past the retention among the oldest rows.
	qPurgeItemsInRowOrder = newQuery(`DELETE FROM mailbox WHERE sent_at < ? AND rowid IN
		(SELECT rowid FROM mailbox ORDER BY rowid LIMIT ?)`)
	qPurgeKeys = newQuery(`DELETE FROM idempotency WHERE (from_account, from_device, client_id) IN
		(SELECT from_account, from_device, client_id FROM idempotency WHERE sent_at < ? LIMIT ?)`)
	qPurgeKeysInRowOrder = newQuery(`DELETE FROM idempotency WHERE sent_at < ? AND rowid IN
		(SELECT rowid FROM idempotency ORDER BY rowid LIMIT ?)`)
	// Served by the partial index on expires_at, which holds only the
	// items of disappearing messages.
	qPurgeExpired = newQuery(`DELETE FROM mailbox WHERE (account, device, seq) IN
		(SELECT account, device, seq FROM mailbox WHERE expires_at <> 0 AND expires_at <= ? LIMIT ?)`)
)

const purgeSlice = 1000

// Deliver commits d through the batcher (see the package doc): the
// idempotency key unless d.ClientID is empty, and every item with the
// next sequence number of its device, written back into d.Items. When the
// key was committed before, it inserts nothing, sets d.Duplicate and
// copies the stored MessageID and Timestamp into d. When any item is
// addressed to a revoked or unknown device it writes nothing and returns
// ESTALE, with the current device lists of the items' accounts.
//
// If ctx ends first, Deliver returns its error without knowing whether
// the delivery was committed; a retry with the same key is safe.
func (s *Store) Deliver(ctx context.Context, d *parley.Delivery) error {
	return s.DeliverAsync(ctx, d)()
}

// DeliverAsync queues d like Deliver and returns a function that waits
// for the result and fills d as Deliver does. Deliveries queued one after
// another by one goroutine commit in that order, so a caller can pipeline
// them. ctx must stay alive until the returned function has returned.
func (s *Store) DeliverAsync(ctx context.Context, d *parley.Delivery) func() error {
	o, err := deliverOp(d, true)
	if err == nil {
		err = s.b.submit(ctx, o)
	}
	return func() error {
		if err == nil {
			err = s.b.wait(ctx, o)
		}
		return s.delivered(ctx, d, o, err)
	}
}

// DeliverThen queues d like DeliverAsync and hands the result to then
// once the commit is done, with the other callbacks of its batch
// (parley.Burst): then should be quick, as the batch's other callbacks
// wait for it (an ESTALE result reads the current device lists first). An
// error means d was not queued, and then is not called; else then is
// called once. ctx must stay alive until then has returned, and d is the
// store's until then: its items are written as they are, without a copy.
func (s *Store) DeliverThen(ctx context.Context, d *parley.Delivery, then func(b *parley.Burst, err error)) error {
	o, err := deliverOp(d, false)
	if err != nil {
		return s.wrap("Deliver", err)
	}
	o.then = func(b *parley.Burst, err error) { then(b, s.delivered(ctx, d, o, err)) }
	if err := s.b.submit(ctx, o); err != nil {
		return s.opError(ctx, "Deliver", o, err)
	}
	return nil
}

// deliverOp makes the op of d, with a copy of its items unless the
// caller leaves d to the store until the op is answered (clone false).
func deliverOp(d *parley.Delivery, clone bool) (*op, error) {
	webhooks, err := prepareWebhooks(d.Webhooks)
	if err != nil {
		return nil, err
	}
	items := d.Items
	if clone {
		items = slices.Clone(items)
	}
	return &op{
		deliver:    true,
		from:       d.From,
		fromDevice: d.FromDevice,
		clientID:   d.ClientID,
		messageID:  d.MessageID,
		timestamp:  d.Timestamp,
		items:      items,
		media:      slices.Clone(d.Media),
		webhooks:   webhooks,
	}, nil
}

// delivered fills d from its committed op o, as Deliver does, or
// completes err.
func (s *Store) delivered(ctx context.Context, d *parley.Delivery, o *op, err error) error {
	if err != nil {
		if o == nil {
			return s.wrap("Deliver", err)
		}
		return s.opError(ctx, "Deliver", o, err)
	}
	if o.duplicate {
		d.Duplicate = true
		d.MessageID = o.messageID
		d.Timestamp = o.timestamp
		return nil
	}
	for i := range d.Items {
		d.Items[i].Seq = o.items[i].Seq
	}
	for i := range d.Webhooks {
		d.Webhooks[i].ID = o.webhooks[i].ID
	}
	return nil
}

// Ack deletes the device's items with the given sequence numbers and, in
// the same transaction, delivers followUps, writing their Seq in place.
// Follow-ups addressed to devices that are revoked or unknown by then are
// dropped (their Seq stays 0): a receipt for a device that is gone must
// not make the ack fail forever. ESTALE when the acking device itself is
// revoked or unknown.
func (s *Store) Ack(ctx context.Context, account string, device uint32, seqs []uint64, followUps []parley.Item) error {
	o := &op{
		account: account,
		device:  device,
		seqs:    slices.Clone(seqs),
		items:   slices.Clone(followUps),
	}
	if err := s.b.do(ctx, o); err != nil {
		return s.opError(ctx, "Ack", o, err)
	}
	for i := range followUps {
		followUps[i].Seq = o.items[i].Seq
	}
	return nil
}

// AckWith deletes the named items and, in the same transaction, delivers
// what followUps makes of the deleted ones (see parley.Mailbox). An item
// with Device 0 is expanded to every active device of its Account.
func (s *Store) AckWith(ctx context.Context, account string, device uint32, seqs []uint64, followUps func(deleted []parley.Item) []parley.Item) ([]parley.Item, error) {
	return s.AckWithAsync(ctx, account, device, seqs, followUps)()
}

// AckWithAsync queues AckWith's operation behind everything queued before
// it and returns a function that waits for its result. ctx must stay
// alive until that function has returned.
func (s *Store) AckWithAsync(ctx context.Context, account string, device uint32, seqs []uint64, followUps func(deleted []parley.Item) []parley.Item) func() ([]parley.Item, error) {
	o := ackWithOp(account, device, seqs, followUps)
	err := s.b.submit(ctx, o)
	return func() ([]parley.Item, error) {
		if err == nil {
			err = s.b.wait(ctx, o)
		}
		return s.acked(ctx, o, err)
	}
}

// AckWithThen queues AckWith's operation like AckWithAsync and hands the
// result to then as DeliverThen does.
//
// known, when not nil, holds the items that seqs name as the device was
// sent them (Seq, Kind, MessageID, From, FromDevice and Group set), one
// for each seq. The store then does not read the rows back: when every
// item named was there, followUps gets known. Items that differ from the
// stored ones would make wrong follow-ups, so pass only what this device
// was sent; known is ignored when its seqs are not those of seqs. The
// store keeps known until then has run: the caller must not change it.
func (s *Store) AckWithThen(ctx context.Context, account string, device uint32, seqs []uint64, known []parley.Item, followUps func(deleted []parley.Item) []parley.Item, then func(b *parley.Burst, sent []parley.Item, err error)) error {
	o := ackWithOp(account, device, seqs, followUps)
	o.known = knownItems(seqs, known)
	o.then = func(b *parley.Burst, err error) {
		sent, err := s.acked(ctx, o, err)
		then(b, sent, err)
	}
	if err := s.b.submit(ctx, o); err != nil {
		return s.opError(ctx, "AckWith", o, err)
	}
	return nil
}

func ackWithOp(account string, device uint32, seqs []uint64, followUps func(deleted []parley.Item) []parley.Item) *op {
	return &op{
		account:  account,
		device:   device,
		seqs:     slices.Clone(seqs),
		followFn: followUps,
	}
}

// knownItems returns known sorted by Seq (known itself when it is), or
// nil unless it holds one item for each of seqs (repeats in seqs
// allowed) and no other.
func knownItems(seqs []uint64, known []parley.Item) []parley.Item {
	if len(known) == 0 {
		return nil
	}
	bySeq := func(a, b parley.Item) int { return cmp.Compare(a.Seq, b.Seq) }
	out := known
	if !slices.IsSortedFunc(out, bySeq) {
		out = slices.Clone(known)
		slices.SortFunc(out, bySeq)
	}
	want := seqs // as acks usually come: increasing, no repeats
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			want = slices.Compact(slices.Sorted(slices.Values(seqs)))
			break
		}
	}
	if len(out) != len(want) {
		return nil
	}
	for i := range out {
		if out[i].Seq != want[i] {
			return nil
		}
	}
	return out
}

// acked returns the follow-ups that AckWith's committed op o delivered,
// or completes err.
func (s *Store) acked(ctx context.Context, o *op, err error) ([]parley.Item, error) {
	if err != nil {
		return nil, s.opError(ctx, "AckWith", o, err)
	}
	// Seq 0: addressed to a device that is gone, dropped. The op is done
	// with its items, so they are returned as they are when none is.
	if !slices.ContainsFunc(o.items, func(it parley.Item) bool { return it.Seq == 0 }) {
		return o.items, nil
	}
	out := make([]parley.Item, 0, len(o.items))
	for _, it := range o.items {
		if it.Seq != 0 {
			out = append(out, it)
		}
	}
	return out, nil
}

// opError completes the error of a Deliver or Ack: ESTALE gets the
// current device lists of the accounts involved, so that the client can
// re-encrypt and retry.
func (s *Store) opError(ctx context.Context, name string, o *op, err error) error {
	if e, ok := err.(*parley.Error); ok && e.Code == parley.ESTALE {
		accounts := []string{o.account}
		if o.deliver {
			accounts = accounts[:0]
			for _, it := range o.items {
				accounts = append(accounts, it.Account)
			}
		}
		// Best effort: without the lists the client refetches them.
		if m, lerr := s.activeDeviceIDs(ctx, accounts); lerr == nil {
			e.Devices = m
		}
		e.Op = s.op(name)
		return e
	}
	return s.wrap(name, err)
}

// Fetch returns up to limit items of a device with Seq > after, by Seq,
// without those expired at now.
func (s *Store) Fetch(ctx context.Context, account string, device uint32, after uint64, limit int, now time.Time) ([]parley.Item, error) {
	if limit <= 0 {
		return nil, &parley.Error{Code: parley.EINVALID, Op: s.op("Fetch"), Message: "limit must be positive"}
	}
	rows, err := s.r.QueryContext(ctx, s.sql(qFetch), account, int64(device), int64(after)-maxSpan, int64(after), micros(now), limit)
	if err != nil {
		return nil, s.wrap("Fetch", err)
	}
	items := make([]parley.Item, 0, min(limit, 64))
	if err := scanAll(rows, func(r scanner) error {
		return scanItem(r, &items, after)
	}); err != nil {
		return nil, s.wrap("Fetch", err)
	}
	if len(items) > limit { // span rows hold several items
		items = items[:limit]
	}
	return items, nil
}

// Sent returns the message id and time committed with a client id.
func (s *Store) Sent(ctx context.Context, from string, device uint32, clientID string) (string, time.Time, error) {
	var id string
	var at int64
	err := s.r.QueryRowContext(ctx, s.sql(qSent), from, int64(device), clientID).Scan(&id, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, &parley.Error{Code: parley.ENOTFOUND, Op: s.op("Sent"), Message: "no message with this client id"}
	}
	if err != nil {
		return "", time.Time{}, s.wrap("Sent", err)
	}
	return id, fromMicros(at), nil
}

// scanItem appends the items of a row (itemColumns and span) with
// sequence numbers above after.
func scanItem(r scanner, items *[]parley.Item, after uint64) error {
	var it parley.Item
	var device, seq, fromDevice, at, expires, span int64
	var kind string
	if err := r.Scan(&it.Account, &device, &seq, &kind, &it.MessageID, &it.ClientID, &it.From, &fromDevice, &it.To, &at, &it.Body, &it.Group, &expires, &span); err != nil {
		return err
	}
	it.Device, it.Seq, it.Kind, it.FromDevice, it.Timestamp = uint32(device), uint64(seq), parley.Kind(kind), uint32(fromDevice), fromMicros(at)
	if span > 1 {
		*items = expandSpan(*items, it, span, it.Body, after)
		return nil
	}
	it.Body = blob(it.Body)
	if expires != 0 {
		it.ExpiresIn = time.Duration(expires-at) * time.Microsecond
	}
	*items = append(*items, it)
	return nil
}

// Purge deletes mailbox items and idempotency keys older than before and
// returns how many rows it deleted.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	items, keys := qPurgeItems, qPurgeKeys
	if s.d.PurgeInRowOrder {
		items, keys = qPurgeItemsInRowOrder, qPurgeKeysInRowOrder
	}
	return s.purge(ctx, "Purge", micros(before), items, keys)
}

// PurgeExpired deletes the items of disappearing messages that have
// expired at now and returns how many it deleted.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	return s.purge(ctx, "PurgeExpired", micros(now), qPurgeExpired)
}

// purge runs each query, which deletes up to purgeSlice rows selected by
// a time, until it deletes fewer.
func (s *Store) purge(ctx context.Context, name string, t int64, qs ...query) (int64, error) {
	var total int64
	for _, q := range qs {
		for {
			res, err := s.w.ExecContext(ctx, s.sql(q), t, purgeSlice)
			if err != nil {
				return total, s.wrap(name, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, s.wrap(name, err)
			}
			total += n
			if n < purgeSlice {
				break
			}
		}
	}
	return total, nil
}
