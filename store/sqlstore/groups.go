package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/parley-chat/parley"
)

// Groups. A change to a group first locks its chat_groups row (PostgreSQL:
// FOR UPDATE; SQLite: the write transaction holds the database's write
// lock), then reads the members, so two changes to one group run one
// after another on any node and each sees what the one before committed:
// a member cap checked by the change function holds.
//
// Group events are delivered in the same transaction (deliverTx), so a
// membership change is never committed without its events. That
// transaction locks device rows like a mailbox batch does: after the
// group row, in (account, id) order. Batches never lock group rows, so
// the two cannot deadlock.

var (
	qInsertGroup  = newQuery(`INSERT INTO chat_groups (id, name, created_at, version, invite) VALUES (?, ?, ?, ?, NULL)`)
	qGroup        = newQuery(`SELECT id, name, created_at, version, COALESCE(invite, '') FROM chat_groups WHERE id = ?`)
	qGroupMembers = newQuery(`SELECT account, role, joined_at FROM group_members WHERE group_id = ? ORDER BY joined_at, account`)
	// One statement, so one snapshot: the version always matches the members.
	qGroupWithMembers = newQuery(`SELECT g.id, g.name, g.created_at, g.version, COALESCE(g.invite, ''),
			COALESCE(m.account, ''), COALESCE(m.role, ''), COALESCE(m.joined_at, 0)
		FROM chat_groups g LEFT JOIN group_members m ON m.group_id = g.id
		WHERE g.id = ? ORDER BY m.joined_at, m.account`)
	qGroupInvite = newQuery(`SELECT id FROM chat_groups WHERE invite = ?`)
	qGroupsOf    = newQuery(`SELECT g.id, g.name, g.created_at, g.version, COALESCE(g.invite, '')
		FROM group_members m JOIN chat_groups g ON g.id = m.group_id WHERE m.account = ? ORDER BY g.id`)
	qUpdateGroup = newQuery(`UPDATE chat_groups SET name = ?, version = ?, invite = ? WHERE id = ?`)
	qDeleteGroup = newQuery(`DELETE FROM chat_groups WHERE id = ?`)
	qSetRole     = newQuery(`UPDATE group_members SET role = ? WHERE group_id = ? AND account = ?`)
	qDelMember   = newQuery(`DELETE FROM group_members WHERE group_id = ? AND account = ?`)
	// A member without active devices has one row with id 0.
	qGroupDevices = newQuery(`SELECT m.account, COALESCE(d.id, 0) FROM group_members m
		LEFT JOIN devices d ON d.account = m.account AND d.revoked_at = 0
		WHERE m.group_id = ? ORDER BY m.account, d.id`)

	bInsertMembers = newBulk(`INSERT INTO group_members (group_id, account, role, joined_at) VALUES `, `(?, ?, ?, ?)`, ``)
	// The active devices of accounts, locked where the dialect locks rows,
	// in the order mailbox batches lock them.
	bLockActiveDevices = newLockingBulk(`SELECT account, id FROM devices WHERE revoked_at = 0 AND account IN (`, `?`, `) ORDER BY account, id`)
)

// groupTx runs fn in a write transaction and commits it.
func (s *Store) groupTx(ctx context.Context, name string, fn func(tx *sql.Tx) error) error {
	return s.writeTx(ctx, name, fn)
}

// CreateGroup stores g with its members and delivers events in the same
// transaction.
func (s *Store) CreateGroup(ctx context.Context, g *parley.Group, events []parley.Item) ([]parley.Item, error) {
	var out []parley.Item
	err := s.groupTx(ctx, "CreateGroup", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(qInsertGroup), g.ID, g.Name, micros(g.CreatedAt), int64(g.Version)); err != nil {
			return err
		}
		if err := s.insertMembers(ctx, tx, g.ID, g.Members); err != nil {
			return err
		}
		var err error
		out, err = s.deliverTx(ctx, tx, events)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) insertMembers(ctx context.Context, tx *sql.Tx, group string, ms []parley.GroupMember) error {
	rows := make([]any, 0, 4*len(ms))
	for _, m := range ms {
		rows = append(rows, group, m.Account, m.Role, micros(m.JoinedAt))
	}
	return s.eachChunk(bInsertMembers, nil, rows, func(text string, args []any) error {
		_, err := tx.ExecContext(ctx, text, args...)
		return err
	})
}

// Group returns the group with its members.
func (s *Store) Group(ctx context.Context, id string) (*parley.Group, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qGroupWithMembers), id)
	if err != nil {
		return nil, s.wrap("Group", err)
	}
	var g *parley.Group
	err = scanAll(rows, func(r scanner) error {
		var x parley.Group
		var m parley.GroupMember
		var created, version, joined int64
		if err := r.Scan(&x.ID, &x.Name, &created, &version, &x.Invite, &m.Account, &m.Role, &joined); err != nil {
			return err
		}
		if g == nil {
			x.CreatedAt, x.Version, x.Members = fromMicros(created), uint64(version), []parley.GroupMember{}
			g = &x
		}
		if m.Account != "" {
			m.JoinedAt = fromMicros(joined)
			g.Members = append(g.Members, m)
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap("Group", err)
	}
	if g == nil {
		return nil, s.notFound("Group", "no such group")
	}
	return g, nil
}

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readGroup reads a group (with text, which locks its row) and its
// members, within a transaction: the lock keeps the members from changing
// between the two statements.
func (s *Store) readGroup(ctx context.Context, q querier, text, id string) (*parley.Group, error) {
	var g parley.Group
	var created, version int64
	err := q.QueryRowContext(ctx, text, id).Scan(&g.ID, &g.Name, &created, &version, &g.Invite)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Group", "no such group")
	}
	if err != nil {
		return nil, err
	}
	g.CreatedAt, g.Version = fromMicros(created), uint64(version)
	rows, err := q.QueryContext(ctx, s.sql(qGroupMembers), id)
	if err != nil {
		return nil, err
	}
	g.Members = []parley.GroupMember{}
	err = scanAll(rows, func(r scanner) error {
		var m parley.GroupMember
		var joined int64
		if err := r.Scan(&m.Account, &m.Role, &joined); err != nil {
			return err
		}
		m.JoinedAt = fromMicros(joined)
		g.Members = append(g.Members, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// GroupByInvite returns the id of the group with the invite code.
func (s *Store) GroupByInvite(ctx context.Context, code string) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, s.sql(qGroupInvite), code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", s.notFound("GroupByInvite", "no group has this invite link; it may have been revoked")
	}
	if err != nil {
		return "", s.wrap("GroupByInvite", err)
	}
	return id, nil
}

// GroupsOf lists account's groups by id, without members.
func (s *Store) GroupsOf(ctx context.Context, account string) ([]parley.Group, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qGroupsOf), account)
	if err != nil {
		return nil, s.wrap("GroupsOf", err)
	}
	gs := []parley.Group{}
	err = scanAll(rows, func(r scanner) error {
		var g parley.Group
		var created, version int64
		if err := r.Scan(&g.ID, &g.Name, &created, &version, &g.Invite); err != nil {
			return err
		}
		g.CreatedAt, g.Version = fromMicros(created), uint64(version)
		gs = append(gs, g)
		return nil
	})
	if err != nil {
		return nil, s.wrap("GroupsOf", err)
	}
	return gs, nil
}

// ChangeGroup locks and reads the group, asks change what to do and does
// it with its events, in one transaction.
func (s *Store) ChangeGroup(ctx context.Context, id string, change func(g *parley.Group) (*parley.GroupChange, error)) (*parley.Group, []parley.Item, error) {
	var after *parley.Group
	var out []parley.Item
	err := s.groupTx(ctx, "ChangeGroup", func(tx *sql.Tx) error {
		g, err := s.readGroup(ctx, tx, s.lockText(qGroup), id)
		if err != nil {
			return err
		}
		c, err := change(g)
		if err != nil {
			return err
		}
		if c.Delete {
			// Members follow by cascade.
			if _, err := tx.ExecContext(ctx, s.sql(qDeleteGroup), id); err != nil {
				return err
			}
		} else {
			if err := s.applyGroupChange(ctx, tx, g, c); err != nil {
				return err
			}
		}
		if out, err = s.deliverTx(ctx, tx, c.Events); err != nil {
			return err
		}
		if !c.Delete {
			after, err = s.readGroup(ctx, tx, s.sql(qGroup), id)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return after, out, nil
}

func (s *Store) applyGroupChange(ctx context.Context, tx *sql.Tx, g *parley.Group, c *parley.GroupChange) error {
	name, invite, version := g.Name, g.Invite, g.Version
	if c.Name != nil {
		name = *c.Name
	}
	if c.Invite != nil {
		invite = *c.Invite
	}
	if c.Version != 0 {
		version = c.Version
	}
	if name != g.Name || invite != g.Invite || version != g.Version {
		var inv any // NULL: no invite; NULLs never collide in the unique index
		if invite != "" {
			inv = invite
		}
		if _, err := tx.ExecContext(ctx, s.sql(qUpdateGroup), name, int64(version), inv, g.ID); err != nil {
			return err
		}
	}
	for _, a := range c.Remove {
		if _, err := tx.ExecContext(ctx, s.sql(qDelMember), g.ID, a); err != nil {
			return err
		}
	}
	for a, role := range c.Roles {
		if _, err := tx.ExecContext(ctx, s.sql(qSetRole), role, g.ID, a); err != nil {
			return err
		}
	}
	return s.insertMembers(ctx, tx, g.ID, c.Add)
}

// GroupDevices returns the active devices of every member of the group.
func (s *Store) GroupDevices(ctx context.Context, id string) (map[string][]uint32, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qGroupDevices), id)
	if err != nil {
		return nil, s.wrap("GroupDevices", err)
	}
	m := map[string][]uint32{}
	err = scanAll(rows, func(r scanner) error {
		var acct string
		var dev int64
		if err := r.Scan(&acct, &dev); err != nil {
			return err
		}
		if dev == 0 {
			m[acct] = []uint32{}
		} else {
			m[acct] = append(m[acct], uint32(dev))
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap("GroupDevices", err)
	}
	if len(m) == 0 {
		// Every group has a member: an empty answer means no group.
		return nil, s.notFound("GroupDevices", "no such group")
	}
	return m, nil
}

// deliverTx delivers items within tx, outside the batcher: each item with
// Device 0 goes to every active device of its Account, each device's item
// taking its next sequence number. Items for devices that are not active
// are dropped. It returns the items delivered, with their Seq.
//
// Its statements run as text (a group change is rare), not through the
// write pool's prepared statements (s.stmt).
func (s *Store) deliverTx(ctx context.Context, tx *sql.Tx, items []parley.Item) ([]parley.Item, error) {
	if len(items) == 0 {
		return nil, nil
	}
	var accounts []string
	for _, it := range items {
		accounts = append(accounts, it.Account)
	}
	slices.Sort(accounts) // chunks lock in order only if the whole list is sorted
	accounts = slices.Compact(accounts)
	args := make([]any, len(accounts))
	for i, a := range accounts {
		args[i] = a
	}
	active := make(map[string][]uint32, len(accounts))
	err := s.eachChunk(bLockActiveDevices, nil, args, func(text string, args []any) error {
		rows, err := tx.QueryContext(ctx, text, args...)
		if err != nil {
			return err
		}
		return scanAll(rows, func(r scanner) error {
			var acct string
			var id int64
			if err := r.Scan(&acct, &id); err != nil {
				return err
			}
			active[acct] = append(active[acct], uint32(id))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	var out []parley.Item
	for _, it := range items {
		ids := active[it.Account]
		if it.Device != 0 {
			if !slices.Contains(ids, it.Device) {
				continue
			}
			ids = []uint32{it.Device}
		}
		for _, id := range ids {
			c := it
			c.Device = id
			out = append(out, c)
		}
	}
	need := make(map[deviceKey]int64)
	for _, it := range out {
		need[deviceKey{it.Account, it.Device}]++
	}
	keys := make([]deviceKey, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareDeviceKeys)
	args = make([]any, 0, 3*len(keys))
	for _, k := range keys {
		args = append(args, k.account, int64(k.id), need[k])
	}
	next := make(map[deviceKey]uint64, len(keys))
	err = s.eachChunk(bTakeSeqs, nil, args, func(text string, args []any) error {
		rows, err := tx.QueryContext(ctx, text, args...)
		if err != nil {
			return err
		}
		return scanAll(rows, func(r scanner) error {
			var k deviceKey
			var id, after int64
			if err := r.Scan(&k.account, &id, &after); err != nil {
				return err
			}
			k.id = uint32(id)
			next[k] = uint64(after - need[k])
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	rows := make([]any, 0, 14*len(out))
	for i := range out {
		it := &out[i]
		k := deviceKey{it.Account, it.Device}
		seq, ok := next[k]
		if !ok {
			// Locked as active above; on SQLite nothing can change in between.
			return nil, errors.New("sqlstore: device vanished within a transaction")
		}
		it.Seq = seq
		next[k] = seq + 1
		rows = append(rows, it.Account, int64(it.Device), int64(it.Seq), string(it.Kind), it.MessageID, it.ClientID,
			it.From, int64(it.FromDevice), it.To, micros(it.Timestamp), blob(it.Body), it.Group, expiresAt(it), 0)
	}
	err = s.eachChunk(bInsertItems, nil, rows, func(text string, args []any) error {
		_, err := tx.ExecContext(ctx, text, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
