package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Groups: membership over HTTP, group events on the Messenger's Events,
// and group sends with caller-built copies. This file does no encryption:
// a group message's copies come from the caller (Sender Keys live in the
// crypto package).

// Group roles.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Group is a group as its member sees it.
type Group struct {
	ID        string
	Name      string
	Version   uint64 // counts membership, role and name changes
	CreatedAt time.Time
	Members   []GroupMember // by join time; empty in Groups lists
	Invite    string        // the invite code, shown to admins only; "" when none
}

// GroupMember is one member of a group.
type GroupMember struct {
	Account  string
	Role     string // RoleAdmin or RoleMember
	JoinedAt time.Time
}

type groupJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Version   uint64 `json:"version"`
	CreatedAt int64  `json:"created_at"`
	Members   []struct {
		Account  string `json:"account"`
		Role     string `json:"role"`
		JoinedAt int64  `json:"joined_at"`
	} `json:"members"`
	Invite string `json:"invite"`
}

func (g *groupJSON) group() *Group {
	out := &Group{ID: g.ID, Name: g.Name, Version: g.Version, CreatedAt: time.Unix(g.CreatedAt, 0), Invite: g.Invite}
	for _, m := range g.Members {
		out.Members = append(out.Members, GroupMember{Account: m.Account, Role: m.Role, JoinedAt: time.Unix(m.JoinedAt, 0)})
	}
	return out
}

func groupPath(id string, rest ...string) string {
	p := "/v1/groups/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func (c *Client) groupCall(ctx context.Context, method, path string, in any) (*Group, error) {
	var g groupJSON
	if err := c.do(ctx, method, path, in, &g); err != nil {
		return nil, err
	}
	return g.group(), nil
}

func digitsAll(accounts []string) []string {
	out := make([]string, len(accounts))
	for i, a := range accounts {
		out[i] = digits(a)
	}
	return out
}

// CreateGroup creates a group with the caller as admin and members (digits,
// or E.164 with +) as members.
func (c *Client) CreateGroup(ctx context.Context, name string, members ...string) (*Group, error) {
	in := struct {
		Name    string   `json:"name"`
		Members []string `json:"members"`
	}{name, digitsAll(members)}
	return c.groupCall(ctx, "POST", "/v1/groups", in)
}

// Groups lists the caller's groups (without members).
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	var out struct {
		Groups []groupJSON `json:"groups"`
	}
	if err := c.do(ctx, "GET", "/v1/groups", nil, &out); err != nil {
		return nil, err
	}
	gs := make([]Group, len(out.Groups))
	for i := range out.Groups {
		gs[i] = *out.Groups[i].group()
	}
	return gs, nil
}

// Group returns a group with its members; not_found when the caller is not
// a member.
func (c *Client) Group(ctx context.Context, id string) (*Group, error) {
	return c.groupCall(ctx, "GET", groupPath(id), nil)
}

// GroupDevices returns the active device ids of every member, by account
// (the own list excludes this device): the copies a group send must carry.
func (c *Client) GroupDevices(ctx context.Context, id string) (map[string][]uint32, error) {
	var out struct {
		Devices map[string][]uint32 `json:"devices"`
	}
	if err := c.do(ctx, "GET", groupPath(id, "members", "devices"), nil, &out); err != nil {
		return nil, err
	}
	return out.Devices, nil
}

// RenameGroup changes the group's name (admins only).
func (c *Client) RenameGroup(ctx context.Context, id, name string) (*Group, error) {
	in := struct {
		Name string `json:"name"`
	}{name}
	return c.groupCall(ctx, "PATCH", groupPath(id), in)
}

// AddGroupMembers adds accounts to the group (admins only).
func (c *Client) AddGroupMembers(ctx context.Context, id string, accounts ...string) (*Group, error) {
	in := struct {
		Members []string `json:"members"`
	}{digitsAll(accounts)}
	return c.groupCall(ctx, "POST", groupPath(id, "members"), in)
}

// RemoveGroupMember removes account from the group (admins only); for the
// own account it leaves the group.
func (c *Client) RemoveGroupMember(ctx context.Context, id, account string) error {
	return c.do(ctx, "DELETE", groupPath(id, "members", digits(account)), nil, nil)
}

// LeaveGroup takes the own account out of the group.
func (c *Client) LeaveGroup(ctx context.Context, id string) error {
	return c.RemoveGroupMember(ctx, id, c.Account)
}

// SetGroupAdmin promotes a member to admin or demotes an admin (admins
// only; a group keeps at least one admin).
func (c *Client) SetGroupAdmin(ctx context.Context, id, account string, admin bool) (*Group, error) {
	method := "DELETE"
	if admin {
		method = "PUT"
	}
	return c.groupCall(ctx, method, groupPath(id, "admins", digits(account)), nil)
}

// CreateGroupInvite makes a new invite code for the group, replacing the
// previous one (admins only).
func (c *Client) CreateGroupInvite(ctx context.Context, id string) (string, error) {
	var out struct {
		Code string `json:"code"`
	}
	if err := c.do(ctx, "POST", groupPath(id, "invite"), nil, &out); err != nil {
		return "", err
	}
	return out.Code, nil
}

// RevokeGroupInvite revokes the group's invite code (admins only).
func (c *Client) RevokeGroupInvite(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", groupPath(id, "invite"), nil, nil)
}

// InvitePreview is what an invite code shows before joining.
type InvitePreview struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// PreviewGroupInvite returns the name and size of the group of an invite
// code; not_found when the code is unknown or revoked.
func (c *Client) PreviewGroupInvite(ctx context.Context, code string) (*InvitePreview, error) {
	var p InvitePreview
	if err := c.do(ctx, "GET", groupPath("invite", code), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// JoinGroup joins the group of an invite code.
func (c *Client) JoinGroup(ctx context.Context, code string) (*Group, error) {
	return c.groupCall(ctx, "POST", groupPath("invite", code, "join"), nil)
}

// Group event actions (GroupEvent.Action).
const (
	GroupCreated  = "created"
	GroupAdded    = "added"
	GroupJoined   = "joined"
	GroupRemoved  = "removed"
	GroupLeft     = "left"
	GroupPromoted = "promoted"
	GroupDemoted  = "demoted"
	GroupRenamed  = "renamed"
)

// GroupEvent is one membership change, as the server wrote it.
type GroupEvent struct {
	Group    string   `json:"group"`
	Version  uint64   `json:"version"` // the group's version after the change
	Action   string   `json:"action"`
	Actor    string   `json:"actor"` // "" when the server made the change
	Accounts []string `json:"accounts"`
	Name     string   `json:"name"` // created, renamed
}

// GroupChanged is a membership change of a group this account is (or, for
// removed and left, was) a member of. A client that keeps a sender key for
// the group must make a new one when someone was removed or left, before
// its next group message. Like messages, it needs Ack.
type GroupChanged struct {
	Event      GroupEvent
	MessageID  string // the event's id: the same on every device
	From       string // the account whose request made the change
	FromDevice uint32
	Timestamp  time.Time
	Seq        uint64
	Err        error // set when the body could not be decoded; still Ack it
	acker
}

var _ Event = (*GroupChanged)(nil)

func (*GroupChanged) event() {}

func groupKey(id string) string { return "g:" + id }

// groupChanged makes the event of a "group" item and forgets the cached
// device lists of the group.
func (m *Messenger) groupChanged(f *Frame, a acker) *GroupChanged {
	ev := &GroupChanged{MessageID: f.MessageID, From: f.From, FromDevice: f.FromDevice,
		Timestamp: time.UnixMilli(f.Timestamp), Seq: f.Seq, acker: a}
	if err := json.Unmarshal(f.Body, &ev.Event); err != nil {
		ev.Err = fmt.Errorf("decode group event: %w", err)
	}
	m.forgetGroups(f.Group)
	if sc, ok := m.opt.Cipher.(*SignalCipher); ok && ev.Err == nil &&
		(ev.Event.Action == GroupRemoved || ev.Event.Action == GroupLeft) {
		// Senders of the group rotate their keys on their next message
		// (SealGroup); here the leavers' keys are dropped.
		if err := sc.LeftGroup(context.Background(), ev.Event.Group, ev.Event.Accounts); err != nil {
			m.log.Warn("parley could not drop the sender keys of members who left", "group", ev.Event.Group, "err", err)
		} else if err := m.saveCipher(); err != nil {
			m.log.Error("parley could not save the cipher state", "err", err)
		}
	}
	return ev
}

// forgetGroups drops the cached device lists of the given groups, or of
// every group when none is given.
func (m *Messenger) forgetGroups(ids ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(ids) == 0 {
		m.groupDevices = nil
		return
	}
	for _, id := range ids {
		delete(m.groupDevices, id)
	}
}

// GroupDevices returns the device lists a group send must cover (cached;
// refetched after group events, own device changes and stale_devices).
func (m *Messenger) GroupDevices(ctx context.Context, group string) (map[string][]uint32, error) {
	m.mu.Lock()
	d, ok := m.groupDevices[group]
	m.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := m.client.GroupDevices(ctx, group)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.groupDevices == nil {
		m.groupDevices = map[string]map[string][]uint32{}
	}
	m.groupDevices[group] = d
	m.mu.Unlock()
	return d, nil
}

// GroupOutgoing is a group message whose ciphertexts the caller makes.
type GroupOutgoing struct {
	Group string
	// ClientID makes the send idempotent; empty: a new random id.
	ClientID string
	// Build returns the copies for the given devices (account → device
	// ids; the own list excludes this device): body is the ciphertext of
	// every copy that has no Body of its own (the Sender Key message, the
	// same for every device), copies name every device once. Build is
	// called again with fresh lists after a stale_devices answer.
	Build func(devices map[string][]uint32) (body []byte, copies []Copy, err error)
	// Media and ExpiresIn are as in Outgoing.
	Media     []string
	ExpiresIn time.Duration
}

// GroupMessage is a group message to encrypt and send.
type GroupMessage struct {
	Group     string
	Plaintext []byte // the payload, e.g. TextPayload("hi")
	ClientID  string // as in Outgoing
	Media     []string
	ExpiresIn time.Duration
}

// SendGroupMessage encrypts a message for every device of every member
// of the group and sends it: with a SignalCipher, once with this device's
// sender key, plus the key itself (over 1:1 sessions) for devices that
// do not have it yet (see SignalCipher.SealGroup); with another Cipher,
// the plaintext as the shared body.
func (m *Messenger) SendGroupMessage(ctx context.Context, out GroupMessage) (*SendResult, error) {
	id := out.ClientID
	if id == "" {
		id = NewClientID()
	}
	if err := m.opt.Sent.PutSent(&SentRecord{ClientID: id, Group: out.Group, Plaintext: out.Plaintext, At: time.Now()}); err != nil {
		return nil, fmt.Errorf("sent store: %w", err)
	}
	var commit func()
	build := func(devs map[string][]uint32) ([]byte, []Copy, error) {
		sc, ok := m.opt.Cipher.(*SignalCipher)
		if !ok {
			var copies []Copy
			for acct, ids := range devs {
				for _, d := range ids {
					copies = append(copies, Copy{Account: acct, Device: d})
				}
			}
			return out.Plaintext, copies, nil
		}
		body, copies, c, err := sc.SealGroup(ctx, out.Group, devs, out.Plaintext)
		if err != nil {
			return nil, nil, err
		}
		commit = c
		// Saved before the send leaves, as for 1:1 messages.
		if err := m.saveCipher(); err != nil {
			return nil, nil, err
		}
		return body, copies, nil
	}
	r, err := m.SendGroup(ctx, GroupOutgoing{Group: out.Group, ClientID: id, Build: build, Media: out.Media, ExpiresIn: out.ExpiresIn})
	if err != nil {
		return nil, err
	}
	if commit != nil {
		commit()
		if err := m.saveCipher(); err != nil {
			m.log.Error("parley could not save the cipher state", "err", err)
		}
	}
	return r, nil
}

// SendGroupText sends a text message to a group and returns its id.
func (m *Messenger) SendGroupText(ctx context.Context, group, text string) (string, error) {
	r, err := m.SendGroupMessage(ctx, GroupMessage{Group: group, Plaintext: TextPayload(text)})
	if err != nil {
		return "", err
	}
	return r.MessageID, nil
}

// SendGroup sends a group message and returns once the server has
// committed it, rebuilding the copies after stale_devices answers (member
// or device changes) with the group's current device lists.
func (m *Messenger) SendGroup(ctx context.Context, out GroupOutgoing) (*SendResult, error) {
	if out.Build == nil {
		return nil, fmt.Errorf("sdk: SendGroup needs Build")
	}
	m.mu.Lock()
	stopped, stopErr := m.stopped, m.stopErr
	m.mu.Unlock()
	if stopped {
		return nil, stopErr
	}
	id := out.ClientID
	if id == "" {
		id = NewClientID()
	}
	for attempt := 0; ; attempt++ {
		devs, err := m.GroupDevices(ctx, out.Group)
		if err != nil {
			return nil, err
		}
		body, copies, err := out.Build(cloneDevices(devs))
		if err != nil {
			return nil, err
		}
		res, stale, err := m.sendFrame(ctx, &Frame{Type: "send", ID: id, Group: out.Group, Body: body, Copies: copies,
			Media: out.Media, ExpiresIn: int64(out.ExpiresIn / time.Second)}, attempt >= maxStaleRetries)
		if stale == nil {
			return res, err
		}
		m.forgetGroups(out.Group)
	}
}

func cloneDevices(d map[string][]uint32) map[string][]uint32 {
	out := make(map[string][]uint32, len(d))
	for a, ids := range d {
		out[a] = slices.Clone(ids)
	}
	return out
}
