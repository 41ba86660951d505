package service

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// GroupStore is what the groups service needs from storage.
type GroupStore interface {
	parley.GroupStore
	Account(ctx context.Context, id string) (*parley.Account, error)
	parley.RateStore
}

// Defaults of the groups service.
const (
	DefaultGroupCreatesPerHour = 30  // per account
	DefaultGroupJoinsPerHour   = 120 // invite previews and joins per account
)

// Groups keeps group membership: who is in a group, who administers it,
// and its invite link. Every change is delivered as a KindGroup item to
// every active device of every member and of the members it removed, in
// the same transaction as the change (parley.GroupStore.ChangeGroup), so
// that a client that was offline learns of every removal and rotates its
// sender key. The rules run inside that transaction, on the group as it
// is then, so they hold across nodes.
//
// A group is visible only to its members: for anyone else every call
// answers ENOTFOUND, as if the group did not exist.
type Groups struct {
	store  GroupStore
	notify Notifier
	clock  parley.Clock
	log    *slog.Logger

	CreatesPerHour int // groups one account may create per hour
	JoinsPerHour   int // invite previews and joins of one account per hour
}

// NewGroups returns the groups service.
func NewGroups(store GroupStore, notify Notifier, clock parley.Clock, log *slog.Logger) *Groups {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Groups{store: store, notify: notify, clock: clock, log: log,
		CreatesPerHour: DefaultGroupCreatesPerHour, JoinsPerHour: DefaultGroupJoinsPerHour}
}

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewGroupID returns a random group id: "g" and 128 random bits in
// lower-case base32 (27 characters), so ids cannot be guessed.
func NewGroupID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "g" + b32.EncodeToString(b)
}

// newInviteCode returns a random invite code: 128 bits, 26 characters.
func newInviteCode() string {
	b := make([]byte, 16)
	rand.Read(b)
	return b32.EncodeToString(b)
}

func (s *Groups) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Groups) hit(ctx context.Context, key string, limit int) error {
	ok, retry, err := s.store.Hit(ctx, key, time.Hour, limit, s.clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return &parley.Error{Code: parley.ERATELIMIT, Message: fmt.Sprintf("too many requests; try again in %s", retry.Round(time.Second))}
	}
	return nil
}

func noGroup() error { return parley.Errorf(parley.ENOTFOUND, "no such group") }

// events returns one KindGroup item per account for every device (Device
// 0), all with one message id, so that clients drop duplicates.
func (s *Groups) events(by *parley.Device, e *parley.GroupEvent, now time.Time, to []string) []parley.Item {
	body := e.Body()
	id := NewMessageID(now)
	items := make([]parley.Item, 0, len(to))
	for _, a := range to {
		items = append(items, parley.Item{Account: a, Kind: parley.KindGroup, MessageID: id,
			From: by.Account, FromDevice: by.ID, Group: e.Group, Timestamp: now, Body: body})
	}
	return items
}

func accounts(ms []parley.GroupMember) []string {
	as := make([]string, len(ms))
	for i, m := range ms {
		as[i] = m.Account
	}
	return as
}

// checkAccounts validates and deduplicates account ids and checks that
// each has an account. Accounts are never deleted, so checking outside the
// change's transaction is enough.
func (s *Groups) checkAccounts(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) > parley.MaxGroupMembers {
		return nil, parley.Errorf(parley.ETOOLARGE, "a group has at most %d members", parley.MaxGroupMembers)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimPrefix(id, "+")
		if !parley.ValidAccountID(id) {
			return nil, parley.Errorf(parley.EINVALID, "members must be phone numbers in digits")
		}
		if slices.Contains(out, id) {
			continue
		}
		if _, err := s.store.Account(ctx, id); parley.Match(err, parley.ENOTFOUND) {
			return nil, parley.Errorf(parley.ENOTFOUND, "%s has no Parley account", id)
		} else if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// Create makes a group with the caller as its admin and members as
// members.
func (s *Groups) Create(ctx context.Context, by *parley.Device, name string, members []string) (*parley.Group, error) {
	const op = "groups.Create"
	if err := parley.ValidateGroupName(name); err != nil {
		return nil, err
	}
	members = slices.DeleteFunc(slices.Clone(members), func(a string) bool { return strings.TrimPrefix(a, "+") == by.Account })
	members, err := s.checkAccounts(ctx, members)
	if err != nil {
		return nil, err
	}
	if len(members)+1 > parley.MaxGroupMembers {
		return nil, parley.Errorf(parley.ETOOLARGE, "a group has at most %d members", parley.MaxGroupMembers)
	}
	if err := s.hit(ctx, "group-create:"+by.Account, s.CreatesPerHour); err != nil {
		return nil, err
	}
	now := s.now()
	g := &parley.Group{ID: NewGroupID(), Name: name, CreatedAt: now, Version: 1,
		Members: []parley.GroupMember{{Account: by.Account, Role: parley.RoleAdmin, JoinedAt: now}}}
	for _, a := range members {
		g.Members = append(g.Members, parley.GroupMember{Account: a, Role: parley.RoleMember, JoinedAt: now})
	}
	all := accounts(g.Members)
	e := &parley.GroupEvent{Group: g.ID, Version: 1, Action: parley.GroupCreated, Actor: by.Account, Accounts: all, Name: name}
	items, err := s.store.CreateGroup(ctx, g, s.events(by, e, now, all))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	s.notify.Items(items)
	return g, nil
}

// Get returns a group the caller is a member of.
func (s *Groups) Get(ctx context.Context, by *parley.Device, id string) (*parley.Group, error) {
	if !parley.ValidGroupID(id) {
		return nil, noGroup()
	}
	g, err := s.store.Group(ctx, id)
	if err != nil {
		return nil, err
	}
	if g.Member(by.Account) == nil {
		return nil, noGroup()
	}
	return g, nil
}

// List returns the caller's groups, without members.
func (s *Groups) List(ctx context.Context, by *parley.Device) ([]parley.Group, error) {
	return s.store.GroupsOf(ctx, by.Account)
}

// Devices returns the active devices of every member (for the caller's
// own account, every other device): the copies a group send must carry.
func (s *Groups) Devices(ctx context.Context, by *parley.Device, id string) (map[string][]uint32, error) {
	if !parley.ValidGroupID(id) {
		return nil, noGroup()
	}
	m, err := s.store.GroupDevices(ctx, id)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, noGroup()
	} else if err != nil {
		return nil, err
	}
	own, ok := m[by.Account]
	if !ok {
		return nil, noGroup()
	}
	m[by.Account] = slices.DeleteFunc(slices.Clone(own), func(d uint32) bool { return d == by.ID })
	return m, nil
}

// change runs rule on the locked group after checking that the caller is
// a member (and an admin, when admin is set), then notifies the devices
// of the delivered events.
func (s *Groups) change(ctx context.Context, by *parley.Device, id string, admin bool,
	rule func(g *parley.Group, now time.Time) (*parley.GroupChange, error)) (*parley.Group, error) {
	if !parley.ValidGroupID(id) {
		return nil, noGroup()
	}
	now := s.now()
	g, items, err := s.store.ChangeGroup(ctx, id, func(g *parley.Group) (*parley.GroupChange, error) {
		me := g.Member(by.Account)
		if me == nil {
			return nil, noGroup()
		}
		if admin && me.Role != parley.RoleAdmin {
			return nil, parley.Errorf(parley.EFORBIDDEN, "only admins can do this")
		}
		return rule(g, now)
	})
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err) // domain errors keep their code and message
	}
	s.notify.Items(items)
	return g, nil
}

// AddMembers adds accounts to the group (admins only). Accounts already
// in it are left alone; a call that adds nobody changes nothing.
func (s *Groups) AddMembers(ctx context.Context, by *parley.Device, id string, add []string) (*parley.Group, error) {
	if len(add) == 0 {
		return nil, parley.Errorf(parley.EINVALID, "name at least one account to add")
	}
	add, err := s.checkAccounts(ctx, add)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, by, id, true, func(g *parley.Group, now time.Time) (*parley.GroupChange, error) {
		var fresh []string
		for _, a := range add {
			if g.Member(a) == nil {
				fresh = append(fresh, a)
			}
		}
		if len(fresh) == 0 {
			return &parley.GroupChange{}, nil
		}
		if len(g.Members)+len(fresh) > parley.MaxGroupMembers {
			return nil, parley.Errorf(parley.ETOOLARGE, "a group has at most %d members; it has %d", parley.MaxGroupMembers, len(g.Members))
		}
		c := &parley.GroupChange{Version: g.Version + 1}
		for _, a := range fresh {
			c.Add = append(c.Add, parley.GroupMember{Account: a, Role: parley.RoleMember, JoinedAt: now})
		}
		e := &parley.GroupEvent{Group: g.ID, Version: c.Version, Action: parley.GroupAdded, Actor: by.Account, Accounts: fresh}
		c.Events = s.events(by, e, now, append(accounts(g.Members), fresh...))
		return c, nil
	})
}

// RemoveMember removes account from the group (admins only). Removing
// oneself is Leave.
func (s *Groups) RemoveMember(ctx context.Context, by *parley.Device, id, account string) (*parley.Group, error) {
	account = strings.TrimPrefix(account, "+")
	if account == by.Account {
		return s.Leave(ctx, by, id)
	}
	if !parley.ValidAccountID(account) {
		return nil, parley.Errorf(parley.EINVALID, "account must be a phone number in digits")
	}
	return s.change(ctx, by, id, true, func(g *parley.Group, now time.Time) (*parley.GroupChange, error) {
		if g.Member(account) == nil {
			return nil, parley.Errorf(parley.ENOTFOUND, "%s is not a member of this group", account)
		}
		c := &parley.GroupChange{Version: g.Version + 1, Remove: []string{account}}
		e := &parley.GroupEvent{Group: g.ID, Version: c.Version, Action: parley.GroupRemoved, Actor: by.Account, Accounts: []string{account}}
		// The removed member hears of it too: everyone, then, is every member before the change.
		c.Events = s.events(by, e, now, accounts(g.Members))
		return c, nil
	})
}

// Leave takes the caller out of the group. When the last admin leaves, the
// longest-standing member becomes admin (a second event, made by the
// server); when the last member leaves, the group is deleted. It returns
// the group as it is afterwards (nil when deleted).
func (s *Groups) Leave(ctx context.Context, by *parley.Device, id string) (*parley.Group, error) {
	return s.change(ctx, by, id, false, func(g *parley.Group, now time.Time) (*parley.GroupChange, error) {
		before := accounts(g.Members)
		c := &parley.GroupChange{Version: g.Version + 1, Remove: []string{by.Account}}
		e := &parley.GroupEvent{Group: g.ID, Version: c.Version, Action: parley.GroupLeft, Actor: by.Account, Accounts: []string{by.Account}}
		c.Events = s.events(by, e, now, before)
		rest := slices.DeleteFunc(slices.Clone(g.Members), func(m parley.GroupMember) bool { return m.Account == by.Account })
		if len(rest) == 0 {
			c.Delete = true
			return c, nil
		}
		if !slices.ContainsFunc(rest, func(m parley.GroupMember) bool { return m.Role == parley.RoleAdmin }) {
			heir := rest[0].Account // members come by JoinedAt, then account
			c.Version++
			c.Roles = map[string]string{heir: parley.RoleAdmin}
			p := &parley.GroupEvent{Group: g.ID, Version: c.Version, Action: parley.GroupPromoted, Accounts: []string{heir}}
			c.Events = append(c.Events, s.events(by, p, now, accounts(rest))...)
		}
		return c, nil
	})
}

// SetAdmin promotes a member to admin or demotes an admin (admins only).
// A group always keeps an admin: demoting the last one is a conflict.
func (s *Groups) SetAdmin(ctx context.Context, by *parley.Device, id, account string, admin bool) (*parley.Group, error) {
	account = strings.TrimPrefix(account, "+")
	if !parley.ValidAccountID(account) {
		return nil, parley.Errorf(parley.EINVALID, "account must be a phone number in digits")
	}
	role, action := parley.RoleMember, parley.GroupDemoted
	if admin {
		role, action = parley.RoleAdmin, parley.GroupPromoted
	}
	return s.change(ctx, by, id, true, func(g *parley.Group, now time.Time) (*parley.GroupChange, error) {
		m := g.Member(account)
		if m == nil {
			return nil, parley.Errorf(parley.ENOTFOUND, "%s is not a member of this group", account)
		}
		if m.Role == role {
			return &parley.GroupChange{}, nil
		}
		if !admin {
			admins := 0
			for _, x := range g.Members {
				if x.Role == parley.RoleAdmin {
					admins++
				}
			}
			if admins == 1 {
				return nil, parley.Errorf(parley.ECONFLICT, "a group needs an admin: promote another member first")
			}
		}
		c := &parley.GroupChange{Version: g.Version + 1, Roles: map[string]string{account: role}}
		e := &parley.GroupEvent{Group: g.ID, Version: c.Version, Action: action, Actor: by.Account, Accounts: []string{account}}
		c.Events = s.events(by, e, now, accounts(g.Members))
		return c, nil
	})
}

// Rename changes the group's name (admins only).
func (s *Groups) Rename(ctx context.Context, by *parley.Device, id, name string) (*parley.Group, error) {
	if err := parley.ValidateGroupName(name); err != nil {
		return nil, err
	}
	return s.change(ctx, by, id, true, func(g *parley.Group, now time.Time) (*parley.GroupChange, error) {
		if g.Name == name {
			return &parley.GroupChange{}, nil
		}
		c := &parley.GroupChange{Version: g.Version + 1, Name: &name}
		e := &parley.GroupEvent{Group: g.ID, Version: c.Version, Action: parley.GroupRenamed, Actor: by.Account,
			Accounts: []string{}, Name: name}
		c.Events = s.events(by, e, now, accounts(g.Members))
		return c, nil
	})
}

// CreateInvite makes a new invite code for the group, replacing the one
// before (admins only). Invite links change no membership: no event.
func (s *Groups) CreateInvite(ctx context.Context, by *parley.Device, id string) (string, error) {
	code := newInviteCode()
	_, err := s.change(ctx, by, id, true, func(*parley.Group, time.Time) (*parley.GroupChange, error) {
		return &parley.GroupChange{Invite: &code}, nil
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// RevokeInvite revokes the group's invite code (admins only).
func (s *Groups) RevokeInvite(ctx context.Context, by *parley.Device, id string) error {
	none := ""
	_, err := s.change(ctx, by, id, true, func(*parley.Group, time.Time) (*parley.GroupChange, error) {
		return &parley.GroupChange{Invite: &none}, nil
	})
	return err
}

// InvitePreview is what an invite link shows before joining.
type InvitePreview struct {
	Name    string
	Members int
}

func validInviteCode(code string) bool {
	if len(code) != 26 {
		return false
	}
	_, err := b32.DecodeString(code)
	return err == nil
}

func noInvite() error {
	return parley.Errorf(parley.ENOTFOUND, "no group has this invite link; it may have been revoked")
}

// PreviewInvite shows the name and size of the group an invite code is
// for. Previews count against the join rate limit.
func (s *Groups) PreviewInvite(ctx context.Context, by *parley.Device, code string) (*InvitePreview, error) {
	if !validInviteCode(code) {
		return nil, noInvite()
	}
	if err := s.hit(ctx, "group-join:"+by.Account, s.JoinsPerHour); err != nil {
		return nil, err
	}
	id, err := s.store.GroupByInvite(ctx, code)
	if err != nil {
		return nil, err
	}
	g, err := s.store.Group(ctx, id)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, noInvite()
	} else if err != nil {
		return nil, err
	}
	return &InvitePreview{Name: g.Name, Members: len(g.Members)}, nil
}

// JoinByInvite adds the caller to the group of an invite code. Joining a
// group one is in already changes nothing.
func (s *Groups) JoinByInvite(ctx context.Context, by *parley.Device, code string) (*parley.Group, error) {
	if !validInviteCode(code) {
		return nil, noInvite()
	}
	if err := s.hit(ctx, "group-join:"+by.Account, s.JoinsPerHour); err != nil {
		return nil, err
	}
	id, err := s.store.GroupByInvite(ctx, code)
	if err != nil {
		return nil, err
	}
	now := s.now()
	g, items, err := s.store.ChangeGroup(ctx, id, func(g *parley.Group) (*parley.GroupChange, error) {
		if g.Invite != code {
			return nil, noInvite() // revoked or replaced since it was looked up
		}
		if g.Member(by.Account) != nil {
			return &parley.GroupChange{}, nil
		}
		if len(g.Members)+1 > parley.MaxGroupMembers {
			return nil, parley.Errorf(parley.ETOOLARGE, "the group is full (%d members)", parley.MaxGroupMembers)
		}
		c := &parley.GroupChange{Version: g.Version + 1,
			Add: []parley.GroupMember{{Account: by.Account, Role: parley.RoleMember, JoinedAt: now}}}
		e := &parley.GroupEvent{Group: g.ID, Version: c.Version, Action: parley.GroupJoined, Actor: by.Account, Accounts: []string{by.Account}}
		c.Events = s.events(by, e, now, append(accounts(g.Members), by.Account))
		return c, nil
	})
	if err != nil {
		if parley.Match(err, parley.ENOTFOUND) {
			return nil, noInvite()
		}
		return nil, fmt.Errorf("groups.JoinByInvite: %w", err)
	}
	s.notify.Items(items)
	return g, nil
}
