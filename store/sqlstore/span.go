package sqlstore

import (
	"bytes"
	"strings"

	"github.com/parley-chat/parley"
)

// Receipt spans. An ack of n messages from one sender makes n delivery
// receipts for every device of the sender, each an item with a sequence
// number of its own. Stored one row each, they would cost as much as the
// messages themselves: an insert now and a delete when the sender
// acknowledges them, each in three b-trees on SQLite. Instead the
// receipts of one operation for one device, which take consecutive
// sequence numbers, are stored as one row: seq is the first of them,
// span how many, and the body their message ids, one per line. Nothing
// outside this package sees the difference: Fetch hands out one item per
// sequence number, and an ack names them one by one. Acknowledging some
// of a span's items empties their lines; the row is deleted with its
// last one.
//
// Only receipts that differ in nothing but their message id share a row
// (same device, sender, time, no group, client id, body or expiry).

// maxSpan bounds the items of one span row, so that Fetch knows how far
// before its start a row may begin.
const maxSpan = 1024

var (
	// Receipts that can share a row differ in nothing else than these
	// columns; the others are written into the statement (see
	// bInsertMessages). A lone one is a row of span 1.
	bInsertSpans = newBulk(`INSERT INTO mailbox (account, device, seq, message_id, from_account, from_device, to_account,
		sent_at, body, span, kind, client_id, group_id, expires_at, has_media) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '`+string(parley.KindDelivered)+`', '', '', 0, 0)`, ``)
	// The span rows of one device that may hold any of the sequence
	// numbers in (lo + maxSpan - 1 … hi].
	qSpans = newQuery(`SELECT account, device, seq, span, kind, message_id, from_account, from_device, group_id, body
		FROM mailbox WHERE account = ? AND device = ? AND seq > ? AND seq <= ? AND span > 1 ORDER BY seq`)
	qSetSpanBody    = newQuery(`UPDATE mailbox SET body = ? WHERE account = ? AND device = ? AND seq = ?`)
	qDeleteSpanItem = newQuery(`DELETE FROM mailbox WHERE account = ? AND device = ? AND seq = ?`)
	// The same two for all devices of a batch at once, where a statement
	// is a round trip (see bDeleteRuns): the span rows in (lo … hi] of
	// each listed device, and the deletes of rows whose items are all
	// acknowledged.
	bSpans = newBulk(`SELECT mailbox.account, mailbox.device, seq, span, kind, message_id, from_account, from_device, group_id, body
		FROM mailbox JOIN (VALUES `, runValues, `) AS v ON mailbox.account = v.column1 AND mailbox.device = v.column2
		AND mailbox.seq > v.column3 AND mailbox.seq <= v.column4 WHERE mailbox.span > 1 ORDER BY mailbox.account, mailbox.device, seq`)
	bDeleteSpanRows = newBulk(`DELETE FROM mailbox WHERE (account, device, seq) IN (VALUES `, `(?, CAST(? AS BIGINT), CAST(? AS BIGINT))`, `)`)
)

// spannable reports whether it may share a row with other receipts.
func spannable(it *parley.Item) bool {
	return it.Kind == parley.KindDelivered && it.Group == "" && it.ClientID == "" && len(it.Body) == 0 &&
		it.ExpiresIn == 0 && it.MessageID != "" && !strings.Contains(it.MessageID, "\n")
}

// extends reports whether it, spannable, can join the span that ends with
// last: the next sequence number of the same device, and equal in
// everything but the message id.
func extends(last, it *parley.Item) bool {
	return it.Seq == last.Seq+1 && it.Account == last.Account && it.Device == last.Device && it.From == last.From &&
		it.FromDevice == last.FromDevice && it.To == last.To && it.Timestamp.Equal(last.Timestamp)
}

// span is a row being built from consecutive items.
type span struct {
	first *parley.Item
	last  *parley.Item
	ids   []string
}

// spanner groups the spannable items of one operation by device.
type spanner struct {
	open  []int // the span each device's next item may extend, by index
	spans []span
	// byDevice indexes open by device once an operation has opened more
	// than a few spans (a device back online acknowledging messages from
	// hundreds of senders), so that add does not search them all.
	byDevice map[deviceKey]int
}

// searchOpen is how many open spans add searches in turn before it
// indexes them.
const searchOpen = 8

// add takes a spannable item with its Seq set: it extends the device's
// open span or starts one. An operation's receipts usually go to a few
// devices (those the acknowledged messages came from), whose open spans
// are searched in turn.
func (sp *spanner) add(it *parley.Item) {
	j := -1
	if sp.byDevice != nil {
		if i, ok := sp.byDevice[deviceKey{it.Account, it.Device}]; ok {
			j = i
		}
	} else {
		for i, o := range sp.open {
			if l := sp.spans[o].last; l.Account == it.Account && l.Device == it.Device {
				j = i
				break
			}
		}
	}
	if j >= 0 {
		s := &sp.spans[sp.open[j]]
		if len(s.ids) < maxSpan && extends(s.last, it) {
			s.last = it
			s.ids = append(s.ids, it.MessageID)
			return
		}
		sp.open[j] = len(sp.spans) // the device's span from now on
		sp.spans = append(sp.spans, span{first: it, last: it, ids: []string{it.MessageID}})
		return
	}
	sp.open = append(sp.open, len(sp.spans))
	sp.spans = append(sp.spans, span{first: it, last: it, ids: []string{it.MessageID}})
	switch {
	case sp.byDevice != nil:
		sp.byDevice[deviceKey{it.Account, it.Device}] = len(sp.open) - 1
	case len(sp.open) > searchOpen:
		sp.byDevice = make(map[deviceKey]int, 2*len(sp.open))
		for i, o := range sp.open {
			l := sp.spans[o].last
			sp.byDevice[deviceKey{l.Account, l.Device}] = i
		}
	}
}

// reset forgets the open spans (at the end of an operation) but keeps the
// collected ones.
func (sp *spanner) reset() {
	sp.open = sp.open[:0]
	sp.byDevice = nil
}

// rows appends the collected spans to rows, as bInsertSpans rows. A span
// of one item is an ordinary row: span 1, the message id in its column,
// no body.
func (sp *spanner) rows(rows []any) []any {
	for _, s := range sp.spans {
		it := s.first
		var body []byte
		if len(s.ids) > 1 {
			body = []byte(strings.Join(s.ids, "\n"))
		}
		rows = append(rows, it.Account, int64(it.Device), int64(it.Seq), it.MessageID, it.From, int64(it.FromDevice), it.To,
			micros(it.Timestamp), body, int64(len(s.ids)))
	}
	return rows
}

// expandSpan appends the items of a span row (it holds the row's
// columns, body the message ids) with sequence numbers above after.
func expandSpan(items []parley.Item, it parley.Item, n int64, body []byte, after uint64) []parley.Item {
	first := it.Seq
	for i, id := range bytes.Split(body, []byte("\n")) {
		seq := first + uint64(i)
		if len(id) == 0 || seq <= after || int64(i) >= n {
			continue
		}
		c := it
		c.Seq, c.MessageID, c.Body = seq, string(id), nil
		items = append(items, c)
	}
	return items
}

// ackSpans acknowledges the items of span rows that the ack ops of a
// batch name: left holds every (device, seq) named and not deleted as a
// row of its own, with the op it counts for. What it removes is added to
// deleted, as deleteAcks does for whole rows, or only counted in
// o.spanAcked for an op whose items are known (o.knownRun).
func (s *Store) ackSpans(t wtx, left map[itemKey]*op, deleted map[*op][]parley.Item) error {
	devs := make(map[deviceKey]spanBounds)
	for k := range left {
		d := deviceKey{k.account, k.device}
		b, ok := devs[d]
		if !ok {
			b = spanBounds{k.seq, k.seq}
		}
		b.lo, b.hi = min(b.lo, k.seq), max(b.hi, k.seq)
		devs[d] = b
	}
	found, err := s.spanRows(t, devs)
	if err != nil {
		return err
	}
	var gone []any // (account, device, seq) of emptied rows, where deleted in bulk
	for _, x := range found {
		d := deviceKey{x.it.Account, x.it.Device}
		ids := bytes.Split(x.body, []byte("\n"))
		changed, remaining := false, 0
		for i, id := range ids {
			if len(id) == 0 || int64(i) >= x.n {
				continue
			}
			k := itemKey{d.account, d.id, x.it.Seq + uint64(i)}
			o := left[k]
			if o == nil {
				remaining++
				continue
			}
			delete(left, k) // counts once, for the first op that named it
			ids[i], changed = nil, true
			if o.knownRun {
				o.spanAcked++ // its known items are what it deleted
				continue
			}
			c := x.it
			c.Seq, c.MessageID = k.seq, string(id)
			d := deleted[o]
			if d == nil {
				d = make([]parley.Item, 0, len(o.seqs))
			}
			deleted[o] = append(d, c)
		}
		if !changed {
			continue
		}
		if remaining == 0 && !s.d.LocalWrites {
			gone = append(gone, d.account, int64(d.id), int64(x.it.Seq))
			continue
		}
		q, args := qSetSpanBody, []any{bytes.Join(ids, []byte("\n")), d.account, int64(d.id), int64(x.it.Seq)}
		if remaining == 0 {
			q, args = qDeleteSpanItem, args[1:]
		}
		if _, err := t.exec(s.sql(q), args); err != nil {
			return err
		}
	}
	if len(gone) > 0 {
		if _, err := s.execBulk(t, bDeleteSpanRows, gone); err != nil {
			return err
		}
	}
	return nil
}

// spanRow is a span row as ackSpans reads it: it holds the row's columns,
// n its span, body its message ids.
type spanRow struct {
	it   parley.Item
	n    int64
	body []byte
}

// spanRows reads the span rows that may hold sequence numbers in
// [lo, hi] of each device of devs: one statement per device where
// statements are local, else one for all of them (bSpans).
func (s *Store) spanRows(t wtx, devs map[deviceKey]spanBounds) ([]spanRow, error) {
	var found []spanRow
	scan := func(r scanner) error {
		var x spanRow
		var device, seq, fromDevice int64
		var kind string
		if err := r.Scan(&x.it.Account, &device, &seq, &x.n, &kind, &x.it.MessageID, &x.it.From, &fromDevice, &x.it.Group, &x.body); err != nil {
			return err
		}
		x.it.Device, x.it.Seq, x.it.Kind = uint32(device), uint64(seq), parley.Kind(kind)
		x.it.FromDevice = uint32(fromDevice)
		found = append(found, x)
		return nil
	}
	if !s.d.LocalWrites {
		args := make([]any, 0, 4*len(devs))
		for d, b := range devs {
			args = append(args, d.account, int64(d.id), int64(b.lo)-maxSpan, int64(b.hi))
		}
		err := s.queryBulk(t, bSpans, args, scan)
		return found, err
	}
	for d, b := range devs {
		if err := t.query(s.sql(qSpans), []any{d.account, int64(d.id), int64(b.lo) - maxSpan, int64(b.hi)}, scan); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// spanBounds are the lowest and highest sequence numbers an ack names
// of one device.
type spanBounds struct{ lo, hi uint64 }
