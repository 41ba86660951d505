package sqlstore

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/parley-chat/parley"
)

// The statements of a batch. Each runs over all the batch's rows at once,
// so that a batch costs a handful of statements whatever its size.
var (
	// Where the dialect locks rows (PostgreSQL), the batch first locks
	// every device it touches, in (account, id) order, so that batches of
	// different nodes wait for each other instead of deadlocking.
	bLockDevices = newLockingBulk(`SELECT account, id, revoked_at FROM devices WHERE (account, id) IN (VALUES `,
		`(?, CAST(? AS BIGINT))`, `) ORDER BY account, id`)
	// The device rows of follow-ups (receipts) that bLockDevices did not
	// lock, without waiting (Dialect.LockRowsNoWait).
	bLockLateDevices = newNoWaitBulk(`SELECT account, id FROM devices WHERE (account, id) IN (VALUES `,
		`(?, CAST(? AS BIGINT))`, `) ORDER BY account, id`)
	// Keys already committed are not inserted and not returned; their
	// deliveries are duplicates. bInsertNewKeys returns nothing: the
	// count of inserted rows tells whether every key was new.
	bInsertKeys = newBulk(`INSERT INTO idempotency (from_account, from_device, client_id, message_id, sent_at) VALUES `,
		`(?, ?, ?, ?, ?)`, ` ON CONFLICT DO NOTHING RETURNING from_account, from_device, client_id`)
	bInsertNewKeys = newBulk(`INSERT INTO idempotency (from_account, from_device, client_id, message_id, sent_at) VALUES `,
		`(?, ?, ?, ?, ?)`, ` ON CONFLICT DO NOTHING`)
	bFindKeys = newBulk(`SELECT from_account, from_device, client_id, message_id, sent_at FROM idempotency
		WHERE (from_account, from_device, client_id) IN (VALUES `, `(?, CAST(? AS BIGINT), ?)`, `)`)
	// Takes n sequence numbers from every active device at once; a device
	// that is revoked or unknown returns no row.
	bTakeSeqs = newBulk(`UPDATE devices SET next_seq = devices.next_seq + v.column3 FROM (VALUES `,
		`(?, CAST(? AS BIGINT), CAST(? AS BIGINT))`,
		`) AS v WHERE devices.account = v.column1 AND devices.id = v.column2 AND devices.revoked_at = 0
		RETURNING devices.account, devices.id, devices.next_seq`)
	bInsertItems = newBulk(`INSERT INTO mailbox (`+itemColumns+`, has_media) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``)
	// Most items are plain messages: no group, no expiry, no media. Their
	// constant columns are written into the statement, as binding a value
	// costs the SQLite driver more than SQLite's own work for it.
	bInsertMessages = newBulk(`INSERT INTO mailbox (account, device, seq, message_id, client_id, from_account, from_device,
		to_account, sent_at, body, kind, group_id, expires_at, has_media) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '`+string(parley.KindMessage)+`', '', 0, 0)`, ``)
	bDeleteItems = newBulk(`DELETE FROM mailbox WHERE (account, device, seq) IN (VALUES `,
		`(?, CAST(? AS BIGINT), CAST(? AS BIGINT))`,
		`) AND span = 1 RETURNING account, device, seq, kind, message_id, from_account, from_device, group_id`)
	// An ack of consecutive seqs, as clients usually send them, deletes
	// them as one range: no list of values to look up one by one, and only
	// the columns the device does not tell.
	qDeleteRun = newQuery(`DELETE FROM mailbox WHERE account = ? AND device = ? AND seq >= ? AND seq <= ? AND span = 1
		RETURNING seq, kind, message_id, from_account, from_device, group_id`)
	// The same for an ack whose items the caller knows (op.known): the
	// count of deleted rows is all it needs back.
	qDeleteKnownRun = newQuery(`DELETE FROM mailbox WHERE account = ? AND device = ? AND seq >= ? AND seq <= ? AND span = 1`)
	// Across a network (PostgreSQL) each statement is a round trip, and a
	// batch acks a few runs per device: there the runs go into bulk
	// statements instead, joined with their rows (DELETE ... USING, which
	// SQLite does not have; there a statement per run costs less than a
	// join with a list). Rows of known acks come back with their key only.
	bDeleteKnownRuns = newBulk(`DELETE FROM mailbox USING (VALUES `, runValues, runJoin+`
		RETURNING mailbox.account, mailbox.device, mailbox.seq`)
	bDeleteRuns = newBulk(`DELETE FROM mailbox USING (VALUES `, runValues, runJoin+`
		RETURNING mailbox.account, mailbox.device, mailbox.seq, mailbox.kind, mailbox.message_id, mailbox.from_account,
		mailbox.from_device, mailbox.group_id`)
	// The active devices of accounts, to expand follow-ups addressed to
	// every device of an account (Device 0).
	bActiveDevices = newBulk(`SELECT account, id FROM devices WHERE revoked_at = 0 AND account IN (`, `?`, `) ORDER BY account, id`)
)

const (
	runValues = `(?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))`
	runJoin   = `) AS v WHERE mailbox.account = v.column1 AND mailbox.device = v.column2
		AND mailbox.seq >= v.column3 AND mailbox.seq <= v.column4 AND mailbox.span = 1`
)

// errRestart makes attempt roll back and run the batch again: apply
// found operations addressed to devices that are gone after it had
// written for them (it has marked them stale; the next run skips them),
// or device rows of follow-ups locked by another transaction (lockLate;
// the next run locks them with the others).
var errRestart = errors.New("sqlstore: batch has stale operations; run it again without them")

// errKnownKeys makes attempt roll back and run the batch again with
// careful set: claimKeys found keys that were committed before, which
// only the careful claim tells apart.
var errKnownKeys = errors.New("sqlstore: batch has known idempotency keys; run it again carefully")

// errAcksMissing makes attempt roll back and run the batch again with
// careful set: an ack whose items the caller knew (op.known) deleted
// fewer than it named, so which ones went must be read back.
var errAcksMissing = errors.New("sqlstore: an ack with known items found some gone; run it again carefully")

type deviceKey struct {
	account string
	id      uint32
}

func compareDeviceKeys(a, b deviceKey) int {
	return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.id, b.id))
}

type idemKey struct {
	from     string
	device   uint32
	clientID string
}

func (o *op) key() idemKey { return idemKey{o.from, o.fromDevice, o.clientID} }

type idemRecord struct {
	messageID string
	at        int64
}

// apply writes ops in tx as if each ran alone, in queue order: sequence
// numbers are handed out in that order, and a key delivered earlier in
// the batch makes a later delivery with the same key a duplicate. An op
// that must fail (ESTALE) writes nothing and gets o.err; only a database
// error fails the transaction. apply sets every result field, so it can
// run again on the same ops after a failed attempt. Ops marked stale by a
// previous run (o.stale) are skipped. careful: claim keys as claimKeys
// says.
func (s *Store) apply(t wtx, ops []*op, careful bool) error {
	for _, o := range ops {
		o.duplicate = false
		o.err = nil
		if o.stale {
			o.err = staleError(o.staleDevice)
		}
		for i := range o.items {
			o.items[i].Seq = 0
		}
	}
	var locked map[deviceKey]bool
	if s.d.LockRows != "" {
		var err error
		if locked, err = s.lockDevices(t, ops); err != nil {
			return err
		}
	}
	if err := s.claimKeys(t, ops, careful); err != nil {
		return err
	}
	// Acks delete first (an ack cannot name an item of its own batch), so
	// that follow-ups can be made from what was deleted.
	if err := s.deleteAcks(t, ops, careful); err != nil {
		return err
	}
	if locked != nil {
		if err := s.lockLate(t, ops, locked); err != nil {
			return err
		}
	}

	// Every device the batch takes sequence numbers from gets an index
	// (the acking devices too, with none needed, so that their state is
	// reported): items refer to theirs through devOf, from o.dev0 on, so
	// that a device's key is hashed once per item rather than at each
	// step below. Counted too: plain messages (bInsertMessages) and the
	// other items but receipts that may share a row (bInsertItems), for
	// their rows.
	devs := make(map[deviceKey]int32, 64)
	var keys []deviceKey
	index := func(k deviceKey) int32 {
		i, ok := devs[k]
		if !ok {
			i = int32(len(keys))
			devs[k] = i
			keys = append(keys, k)
		}
		return i
	}
	devOf := s.scratch.devOf[:0]
	nmsgs, nother := 0, 0
	for _, o := range ops {
		if o.err != nil || o.duplicate {
			continue
		}
		if !o.deliver {
			o.ackDev = index(deviceKey{o.account, o.device})
		}
		o.dev0 = len(devOf)
		for i := range o.items {
			it := &o.items[i]
			devOf = append(devOf, index(deviceKey{it.Account, it.Device}))
			switch {
			case len(o.media) == 0 && plainMessage(it):
				nmsgs++
			case len(o.media) > 0 || !spannable(it):
				nother++
			}
		}
	}
	if cap(devOf) <= 16*maxBatch { // a batch's worth; a rare bigger one is let go
		s.scratch.devOf = devOf
	}
	need := make([]int64, len(keys))
	for _, d := range devOf {
		need[d]++
	}
	order := make([]int32, len(keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareDeviceKeys(keys[a], keys[b]) })
	args := make([]any, 0, 3*len(keys))
	for _, i := range order {
		args = append(args, keys[i].account, int64(keys[i].id), need[i])
	}
	// The first seq this batch hands out, per device that is active.
	next := make([]uint64, len(keys))
	active := make([]bool, len(keys))
	err := s.queryBulk(t, bTakeSeqs, args, func(r scanner) error {
		var k deviceKey
		var id, after int64
		if err := r.Scan(&k.account, &id, &after); err != nil {
			return err
		}
		k.id = uint32(id)
		i, ok := devs[k]
		if !ok {
			return fmt.Errorf("sqlstore: took seqs of device %s, which the batch did not name", parley.DeviceAddress(k.account, k.id))
		}
		next[i], active[i] = uint64(after-need[i]), true
		return nil
	})
	if err != nil {
		return err
	}

	restart := false
	for _, o := range ops {
		if o.err != nil || o.duplicate {
			continue
		}
		if !o.deliver {
			if !active[o.ackDev] {
				o.markStale(keys[o.ackDev])
				restart = true
			}
			continue
		}
		for i := range o.items {
			if d := devOf[o.dev0+i]; !active[d] {
				o.markStale(keys[d])
				restart = true
				break
			}
		}
	}
	if restart {
		return errRestart
	}

	// Plain messages first, the other items after them in the same
	// buffer; receipts that may share a row go to spanRows.
	rows := s.scratch.rows(bInsertMessages.width*nmsgs + bInsertItems.width*nother) // at most (items to gone devices are dropped)
	defer s.scratch.keepRows(rows)
	msgRows := rows[: 0 : bInsertMessages.width*nmsgs]
	itemRows := rows[cap(msgRows):cap(msgRows):len(rows)]
	var spanRows []any
	var sp spanner
	for _, o := range ops {
		if o.err != nil || o.duplicate {
			continue
		}
		hasMedia := 0
		if len(o.media) > 0 {
			hasMedia = 1
		}
		for i := range o.items {
			it := &o.items[i]
			d := devOf[o.dev0+i]
			if !active[d] {
				continue // a follow-up to a device that is gone: dropped
			}
			it.Seq = next[d]
			next[d]++
			if hasMedia == 0 && spannable(it) {
				sp.add(it)
				continue
			}
			if hasMedia == 0 && plainMessage(it) {
				msgRows = append(msgRows, it.Account, int64(it.Device), int64(it.Seq), it.MessageID, it.ClientID, it.From,
					int64(it.FromDevice), it.To, micros(it.Timestamp), blob(it.Body))
				continue
			}
			itemRows = append(itemRows, it.Account, int64(it.Device), int64(it.Seq), string(it.Kind), it.MessageID, it.ClientID,
				it.From, int64(it.FromDevice), it.To, micros(it.Timestamp), blob(it.Body), it.Group, expiresAt(it), hasMedia)
		}
		sp.reset() // spans never cross operations
	}
	spanRows = sp.rows(spanRows)
	if _, err = s.execBulk(t, bInsertMessages, msgRows); err != nil {
		return err
	}
	if _, err = s.execBulk(t, bInsertItems, itemRows); err != nil {
		return err
	}
	if _, err = s.execBulk(t, bInsertSpans, spanRows); err != nil {
		return err
	}
	if err := s.linkMedia(t, ops); err != nil {
		return err
	}
	return s.batchWebhooks(t, ops)
}

// plainMessage reports whether it is a message that bInsertMessages
// writes (no group, no expiry; media is the op's).
func plainMessage(it *parley.Item) bool {
	return it.Kind == parley.KindMessage && it.Group == "" && expiresAt(it) == 0
}

// expiresAt is the mailbox row's expires_at: 0 for items that do not
// expire.
func expiresAt(it *parley.Item) int64 {
	if it.ExpiresIn <= 0 {
		return 0
	}
	return micros(it.Timestamp.Add(it.ExpiresIn))
}

type itemKey struct {
	account string
	device  uint32
	seq     uint64
}

// deleteAcks deletes the items every ack op names and, for AckWith ops,
// sets o.items to what o.followFn makes of the rows the op deleted, with
// follow-ups for Device 0 expanded to the account's active devices. A
// row named by several ops of the batch counts for the first.
//
// The rows an op deletes are read back (RETURNING) unless the caller
// knew them (o.known): then the op's deletes only count, and when every
// item it named was there its known items are what it deleted. Else
// deleteAcks returns errAcksMissing, and the careful run that follows
// reads every op's rows back.
func (s *Store) deleteAcks(t wtx, ops []*op, careful bool) error {
	n := 0
	for _, o := range ops {
		if !o.deliver && o.err == nil {
			n += len(o.seqs)
		}
	}
	if n == 0 {
		return nil
	}
	// owner holds every (device, seq) an op named with the first op that
	// named it, but for the items known ops own that are rows of their
	// own: those are in knownRuns only, by device, as the runs of seqs
	// the known ops named, which saves three map operations per item.
	owner := make(map[itemKey]*op, n)
	knownRuns := make(map[deviceKey][][2]uint64)
	ownerDevices := make(map[deviceKey]bool) // devices with seqs in owner
	takenByKnown := func(d deviceKey, seq uint64) bool {
		for _, r := range knownRuns[d] {
			if r[0] <= seq && seq <= r[1] {
				return true
			}
		}
		return false
	}
	// firstToName reports whether no op before o named any of the seqs
	// of o, whose runs are r (else the first op's delete would count the
	// row, o's would miss it), and whether knownRuns can take r.
	firstToName := func(o *op, d deviceKey, r [][2]uint64) bool {
		if len(knownRuns[d])+len(r) > maxKnownRuns || overlaps(knownRuns[d], r) {
			return false
		}
		return !ownerDevices[d] || !slices.ContainsFunc(o.seqs, func(seq uint64) bool { return has(owner, itemKey{d.account, d.id, seq}) })
	}
	var rows []any    // (account, device, seq) for the bulk delete
	var runs []ackRun // for the range deletes
	var known []knownAck
	for _, o := range ops {
		if o.deliver || o.err != nil {
			continue
		}
		o.knownRun, o.spanAcked = false, 0
		r := seqRuns(o.seqs)
		d := deviceKey{o.account, o.device}
		if o.known != nil && !careful && (len(r) <= 2 || len(r)*4 <= len(o.seqs)) && firstToName(o, d, r) {
			// Its items of span rows are left to ackSpans, which finds
			// them in owner.
			knownRuns[d] = append(knownRuns[d], r...)
			for i := range o.known {
				if it := &o.known[i]; spannable(it) {
					owner[itemKey{o.account, o.device, it.Seq}] = o
					ownerDevices[d] = true
				}
			}
			o.knownRun = true
			known = append(known, knownAck{o: o, runs: r})
			continue
		}
		for _, seq := range o.seqs {
			k := itemKey{o.account, o.device, seq}
			if _, ok := owner[k]; !ok && !takenByKnown(d, seq) {
				owner[k] = o
				ownerDevices[d] = true
			}
		}
		if len(r)*4 <= len(o.seqs) {
			for _, run := range r {
				runs = append(runs, ackRun{o.account, o.device, run[0], run[1]})
			}
			continue
		}
		for _, seq := range o.seqs {
			rows = append(rows, o.account, int64(o.device), int64(seq))
		}
	}
	// Known acks first: their rows are theirs, as no op before them named
	// them, and the deletes after them find them gone.
	if err := s.deleteKnownRuns(t, known); err != nil {
		return err
	}
	deleted := make(map[*op][]parley.Item)
	// got attributes a deleted row to the first op that named it.
	got := func(it parley.Item) {
		k := itemKey{it.Account, it.Device, it.Seq}
		if o := owner[k]; o != nil {
			d := deleted[o]
			if d == nil {
				d = make([]parley.Item, 0, len(o.seqs))
			}
			deleted[o] = append(d, it)
			delete(owner, k)
		}
	}
	// scanItem reads a deleted row of bDeleteItems or bDeleteRuns.
	scanItem := func(r scanner) error {
		var it parley.Item
		var device, seq, fromDevice int64
		var kind string
		if err := r.Scan(&it.Account, &device, &seq, &kind, &it.MessageID, &it.From, &fromDevice, &it.Group); err != nil {
			return err
		}
		it.Device, it.Seq, it.Kind, it.FromDevice = uint32(device), uint64(seq), parley.Kind(kind), uint32(fromDevice)
		got(it)
		return nil
	}
	if s.d.LocalWrites {
		for _, run := range runs {
			err := t.query(s.sql(qDeleteRun), []any{run.account, int64(run.device), int64(run.lo), int64(run.hi)}, func(r scanner) error {
				it := parley.Item{Account: run.account, Device: run.device}
				var seq, fromDevice int64
				var kind string
				if err := r.Scan(&seq, &kind, &it.MessageID, &it.From, &fromDevice, &it.Group); err != nil {
					return err
				}
				it.Seq, it.Kind, it.FromDevice = uint64(seq), parley.Kind(kind), uint32(fromDevice)
				got(it)
				return nil
			})
			if err != nil {
				return err
			}
		}
	} else if len(runs) > 0 {
		args := make([]any, 0, 4*len(runs))
		for _, run := range runs {
			args = append(args, run.account, int64(run.device), int64(run.lo), int64(run.hi))
		}
		if err := s.queryBulk(t, bDeleteRuns, args, scanItem); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		if err := s.queryBulk(t, bDeleteItems, rows, scanItem); err != nil {
			return err
		}
	}
	// What is left may be items of span rows (span.go), or gone already.
	if len(owner) > 0 {
		if err := s.ackSpans(t, owner, deleted); err != nil {
			return err
		}
	}
	for _, k := range known {
		named := 0
		for _, run := range k.runs {
			named += int(run[1] - run[0] + 1)
		}
		if k.rows+int64(k.o.spanAcked) != int64(named) {
			return errAcksMissing
		}
		deleted[k.o] = k.o.known
	}
	wild := make(map[string][]uint32)
	for _, o := range ops {
		if o.followFn == nil || o.err != nil {
			continue
		}
		d := deleted[o]
		slices.SortFunc(d, func(a, b parley.Item) int { return cmp.Compare(a.Seq, b.Seq) })
		o.items = o.followFn(d)
		for _, it := range o.items {
			if it.Device == 0 {
				wild[it.Account] = nil
			}
		}
	}
	if len(wild) == 0 {
		return nil
	}
	args := make([]any, 0, len(wild))
	for a := range wild {
		args = append(args, a)
	}
	err := s.queryBulk(t, bActiveDevices, args, func(r scanner) error {
		var account string
		var id int64
		if err := r.Scan(&account, &id); err != nil {
			return err
		}
		wild[account] = append(wild[account], uint32(id))
		return nil
	})
	if err != nil {
		return err
	}
	for _, o := range ops {
		if o.followFn == nil || o.err != nil {
			continue
		}
		if !slices.ContainsFunc(o.items, func(it parley.Item) bool { return it.Device == 0 && len(wild[it.Account]) != 1 }) {
			for i := range o.items { // one active device each, as a rule: in place
				if it := &o.items[i]; it.Device == 0 {
					it.Device = wild[it.Account][0]
				}
			}
			continue
		}
		out := make([]parley.Item, 0, len(o.items))
		for _, it := range o.items {
			if it.Device != 0 {
				out = append(out, it)
				continue
			}
			for _, id := range wild[it.Account] {
				c := it
				c.Device = id
				out = append(out, c)
			}
		}
		o.items = out
	}
	return nil
}

// batchScratch holds buffers of the mailbox batch from one batch to the
// next, so that a batch does not allocate them anew.
type batchScratch struct {
	itemRows []any
	devOf    []int32 // apply's device index of every item
	// lockAlso are devices that a run of the batch being attempted found
	// it had to lock late (lockLate); the runs after it lock them first.
	lockAlso []deviceKey
}

// rows returns n nil values, for the batch to append rows to parts of.
func (b *batchScratch) rows(n int) []any {
	if cap(b.itemRows) < n {
		return make([]any, n)
	}
	return b.itemRows[:n]
}

// keepRows keeps rows, which rows returned, for the next batch, without
// the values the batch put in.
func (b *batchScratch) keepRows(rows []any) {
	clear(rows)
	if cap(rows) <= 16*maxBatch { // a batch's worth; a rare bigger one is let go
		b.itemRows = rows[:0]
	}
}

// knownAck is an ack op whose items the caller knew (op.known), with the
// runs of its seqs and the rows their deletes counted.
type knownAck struct {
	o    *op
	runs [][2]uint64
	rows int64
}

// deleteKnownRuns deletes the rows of the known acks' runs and counts
// them per ack (knownAck.rows). No two of the runs overlap (firstToName).
func (s *Store) deleteKnownRuns(t wtx, known []knownAck) error {
	if s.d.LocalWrites {
		for i := range known {
			k := &known[i]
			for _, run := range k.runs {
				c, err := t.exec(s.sql(qDeleteKnownRun), []any{k.o.account, int64(k.o.device), int64(run[0]), int64(run[1])})
				if err != nil {
					return err
				}
				k.rows += c
			}
		}
		return nil
	}
	if len(known) == 0 {
		return nil
	}
	// Each returned row is counted for the ack whose run holds it.
	type knownRun struct {
		lo, hi uint64
		k      *knownAck
	}
	runsOf := make(map[deviceKey][]knownRun)
	var args []any
	for i := range known {
		k := &known[i]
		d := deviceKey{k.o.account, k.o.device}
		for _, run := range k.runs {
			runsOf[d] = append(runsOf[d], knownRun{run[0], run[1], k})
			args = append(args, k.o.account, int64(k.o.device), int64(run[0]), int64(run[1]))
		}
	}
	return s.queryBulk(t, bDeleteKnownRuns, args, func(r scanner) error {
		var d deviceKey
		var device, seq int64
		if err := r.Scan(&d.account, &device, &seq); err != nil {
			return err
		}
		d.id = uint32(device)
		for _, kr := range runsOf[d] {
			if kr.lo <= uint64(seq) && uint64(seq) <= kr.hi {
				kr.k.rows++
				return nil
			}
		}
		return fmt.Errorf("sqlstore: deleted %s/%d seq %d, which no known ack named", d.account, d.id, seq)
	})
}

// ackRun is a range of consecutive seqs that one ack op names.
type ackRun struct {
	account string
	device  uint32
	lo, hi  uint64
}

// maxKnownRuns bounds the runs of seqs the known ops of a batch may name
// for one device; acks past it take the path of unknown ones. It keeps
// the searches of knownRuns short whatever a client sends.
const maxKnownRuns = 64

// overlaps reports whether any of the runs a and b, [lo, hi] pairs, share
// a number.
func overlaps(a, b [][2]uint64) bool {
	for _, x := range a {
		for _, y := range b {
			if x[0] <= y[1] && y[0] <= x[1] {
				return true
			}
		}
	}
	return false
}

// seqRuns returns the runs of consecutive numbers in seqs, as [lo, hi]
// pairs (seqs in any order, repeats allowed).
func seqRuns(seqs []uint64) [][2]uint64 {
	sorted := slices.Clone(seqs)
	slices.Sort(sorted)
	var runs [][2]uint64
	for i, seq := range sorted {
		switch {
		case i > 0 && seq == sorted[i-1]:
		case len(runs) > 0 && seq == runs[len(runs)-1][1]+1:
			runs[len(runs)-1][1] = seq
		default:
			runs = append(runs, [2]uint64{seq, seq})
		}
	}
	return runs
}

func has[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// markStale fails o with ESTALE for device k, in this run and in any
// later run of the same batch.
func (o *op) markStale(k deviceKey) {
	o.stale, o.staleDevice = true, k
	o.err = staleError(k)
}

func staleError(k deviceKey) *parley.Error {
	return parley.Errorf(parley.ESTALE, "device %s is revoked or unknown", parley.DeviceAddress(k.account, k.id))
}

// lockDevices locks every device the ops touch, those of their known
// acks' senders and those of scratch.lockAlso, in order, and marks the ops
// addressed to devices that are gone stale before anything is written, so
// that no run has to be repeated. It returns the devices it locked.
func (s *Store) lockDevices(t wtx, ops []*op) (map[deviceKey]bool, error) {
	active := make(map[deviceKey]bool)
	for _, o := range ops {
		if !o.deliver {
			active[deviceKey{o.account, o.device}] = false
		}
		for _, it := range o.items {
			active[deviceKey{it.Account, it.Device}] = false
		}
	}
	for _, k := range s.scratch.lockAlso {
		if _, ok := active[k]; !ok {
			active[k] = false
		}
	}
	// The follow-ups of acks whose items are known go, as a rule, to
	// the devices of those items' senders: locked now, in order with the
	// rest, they need no late lock (lockLate), which would make the batch
	// run again whenever another node's batch holds one of them.
	if s.d.LockRowsNoWait != "" {
		var senders []any
		seen := make(map[string]bool)
		for _, o := range ops {
			if o.deliver || o.followFn == nil || o.err != nil {
				continue
			}
			for _, it := range o.known {
				if !seen[it.From] {
					seen[it.From] = true
					senders = append(senders, it.From)
				}
			}
		}
		if len(senders) > 0 {
			err := s.queryBulk(t, bActiveDevices, senders, func(r scanner) error {
				var k deviceKey
				var id int64
				if err := r.Scan(&k.account, &id); err != nil {
					return err
				}
				k.id = uint32(id)
				if _, ok := active[k]; !ok {
					active[k] = false
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	keys := make([]deviceKey, 0, len(active))
	for k := range active {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareDeviceKeys)
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, k.account, int64(k.id))
	}
	err := s.queryBulk(t, bLockDevices, args, func(r scanner) error {
		var k deviceKey
		var id, revoked int64
		if err := r.Scan(&k.account, &id, &revoked); err != nil {
			return err
		}
		k.id = uint32(id)
		active[k] = revoked == 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, o := range ops {
		if o.err != nil {
			continue
		}
		if !o.deliver {
			if k := (deviceKey{o.account, o.device}); !active[k] {
				o.markStale(k)
			}
			continue
		}
		for _, it := range o.items {
			if k := (deviceKey{it.Account, it.Device}); !active[k] {
				o.markStale(k)
				break
			}
		}
	}
	return active, nil
}

// lockLate locks the devices of the ops' items that lockDevices did not
// (those of follow-ups, known only once deleteAcks has run) without
// waiting: this batch holds rows locked in order already, and waiting for
// one out of order could deadlock with another node's batch. When one is
// locked by another transaction, the batch runs again, locking these
// rows with the others (see Dialect.LockRowsNoWait).
func (s *Store) lockLate(t wtx, ops []*op, locked map[deviceKey]bool) error {
	var late []deviceKey
	for _, o := range ops {
		if o.err != nil {
			continue
		}
		for _, it := range o.items {
			k := deviceKey{it.Account, it.Device}
			if _, ok := locked[k]; !ok {
				locked[k] = false // once in late
				late = append(late, k)
			}
		}
	}
	if len(late) == 0 {
		return nil
	}
	slices.SortFunc(late, compareDeviceKeys)
	args := make([]any, 0, 2*len(late))
	for _, k := range late {
		args = append(args, k.account, int64(k.id))
	}
	err := s.queryBulk(t, bLockLateDevices, args, func(scanner) error { return nil })
	if err != nil && s.d.LockBusy != nil && s.d.LockBusy(err) {
		s.scratch.lockAlso = append(s.scratch.lockAlso, late...)
		return errRestart
	}
	return err
}

// claimKeys inserts the idempotency key of every delivery that has one,
// and marks duplicate the deliveries whose key was committed before or
// comes earlier in the batch, copying the stored message id and time.
//
// Usually every key is new, and then the count of inserted rows says so
// without reading anything back (the RETURNING clause cost about a fifth
// of the claim). When the count falls short, claimKeys returns
// errKnownKeys, and the batch runs again with careful set: the insert
// returns the keys it inserted, and the others are read.
func (s *Store) claimKeys(t wtx, ops []*op, careful bool) error {
	n := 0
	for _, o := range ops {
		if o.deliver && o.clientID != "" && o.err == nil {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	first := make(map[idemKey]*op, n)
	args := make([]any, 0, bInsertKeys.width*n)
	for _, o := range ops {
		o.dupOf = nil
		if !o.deliver || o.clientID == "" || o.err != nil {
			continue
		}
		k := o.key()
		if f, ok := first[k]; ok {
			o.dupOf = f
			continue
		}
		first[k] = o
		args = append(args, o.from, int64(o.fromDevice), o.clientID, o.messageID, micros(o.timestamp))
	}
	if len(first) == 0 {
		return nil
	}
	if !careful {
		n, err := s.execBulk(t, bInsertNewKeys, args)
		if err != nil {
			return err
		}
		if n != int64(len(first)) {
			return errKnownKeys
		}
		for _, o := range ops {
			if f := o.dupOf; f != nil { // an earlier delivery of this batch has the key
				o.duplicate, o.messageID, o.timestamp = true, f.messageID, fromMicros(micros(f.timestamp))
			}
		}
		return nil
	}
	inserted := make(map[idemKey]bool, len(first))
	err := s.queryBulk(t, bInsertKeys, args, func(r scanner) error {
		var k idemKey
		var device int64
		if err := r.Scan(&k.from, &device, &k.clientID); err != nil {
			return err
		}
		k.device = uint32(device)
		inserted[k] = true
		return nil
	})
	if err != nil {
		return err
	}
	known := make(map[idemKey]idemRecord)
	args = args[:0]
	for k, o := range first {
		if inserted[k] {
			known[k] = idemRecord{o.messageID, micros(o.timestamp)}
		} else {
			args = append(args, k.from, int64(k.device), k.clientID)
		}
	}
	if len(args) > 0 {
		err := s.queryBulk(t, bFindKeys, args, func(r scanner) error {
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
		if err != nil {
			return err
		}
	}
	for _, o := range ops {
		if !o.deliver || o.clientID == "" || o.err != nil {
			continue
		}
		if inserted[o.key()] && first[o.key()] == o {
			continue // this delivery's key; it goes ahead
		}
		rec, ok := known[o.key()]
		if !ok {
			// Neither inserted nor found: the key was purged or its
			// transaction rolled back between the two statements.
			return errRestart
		}
		o.duplicate, o.messageID, o.timestamp = true, rec.messageID, fromMicros(rec.at)
	}
	return nil
}
