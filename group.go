package parley

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Group roles.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Limits of groups.
const (
	MaxGroupMembers  = 1024
	MaxGroupNameSize = 128 // bytes of UTF-8
	// MaxGroupCopies bounds the device copies of one group send: every
	// member with the default device limit (8). A copy without its own
	// body costs about 40 bytes of frame, so 8192 of them and a shared
	// body still fit the 1 MiB frame.
	MaxGroupCopies = MaxGroupMembers * 8
	// MaxGroupSendBytes bounds the bytes one group send stores: each
	// device's copy is a mailbox row of its own (docs/ARCHITECTURE.md,
	// "Groups"), so a body's size times the devices it goes to is what
	// counts. 16 MiB carries a 2 KiB message to 8192 devices; larger
	// content travels as an encrypted attachment.
	MaxGroupSendBytes = 16 << 20
)

// Group is a set of accounts that messages are fanned out to. The server
// keeps membership and roles; message contents are end-to-end encrypted
// by the clients (Sender Keys). The name is metadata the server sees.
type Group struct {
	ID        string // "g" and 26 base32 characters: 128 random bits
	Name      string
	CreatedAt time.Time
	Version   uint64 // counts membership, role and name changes; 1 after creation
	Invite    string // the current invite code; "" when none
	Members   []GroupMember
}

// GroupMember is one account in a group.
type GroupMember struct {
	Account  string
	Role     string // RoleAdmin or RoleMember
	JoinedAt time.Time
}

// Member returns the member with account, or nil.
func (g *Group) Member(account string) *GroupMember {
	for i := range g.Members {
		if g.Members[i].Account == account {
			return &g.Members[i]
		}
	}
	return nil
}

// ValidGroupID reports whether id has the form of a group id.
func ValidGroupID(id string) bool {
	if len(id) != 27 || id[0] != 'g' {
		return false
	}
	for _, c := range id[1:] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// ValidateGroupName checks a group name: 1 to MaxGroupNameSize bytes of
// valid UTF-8 without control characters.
func ValidateGroupName(name string) error {
	if strings.TrimSpace(name) == "" {
		return Errorf(EINVALID, "group name must not be empty")
	}
	if len(name) > MaxGroupNameSize {
		return Errorf(EINVALID, "group name is longer than %d bytes", MaxGroupNameSize)
	}
	if !utf8.ValidString(name) {
		return Errorf(EINVALID, "group name is not valid UTF-8")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return Errorf(EINVALID, "group name contains a control character")
		}
	}
	return nil
}

// Group event actions: the Action of a GroupEvent.
const (
	GroupCreated  = "created"
	GroupAdded    = "added"
	GroupJoined   = "joined" // by invite link; Accounts is the joiner
	GroupRemoved  = "removed"
	GroupLeft     = "left"
	GroupPromoted = "promoted"
	GroupDemoted  = "demoted"
	GroupRenamed  = "renamed"
)

// GroupEvent is the body of a KindGroup mailbox item: one membership
// change, written by the server as JSON (docs/protocol.md, "Groups").
type GroupEvent struct {
	Group   string `json:"group"`
	Version uint64 `json:"version"` // the group's version after the change
	Action  string `json:"action"`
	// Actor is the account that made the change; empty when the server
	// made it (an admin appointed because the last admin left).
	Actor    string   `json:"actor,omitempty"`
	Accounts []string `json:"accounts"`       // the accounts the change is about
	Name     string   `json:"name,omitempty"` // created, renamed: the group's name
}

// Body encodes e as the body of its mailbox item.
func (e *GroupEvent) Body() []byte {
	b, _ := json.Marshal(e) // cannot fail: strings and numbers only
	return b
}

// GroupChange is what a change function decides about a group; the store
// applies it in the transaction that read the group.
type GroupChange struct {
	Name    *string           // new name
	Invite  *string           // new invite code; "" revokes it
	Add     []GroupMember     // new members
	Remove  []string          // accounts leaving the group
	Roles   map[string]string // account → new role, for members that stay
	Delete  bool              // the group is deleted (it has no members left)
	Version uint64            // the new version; the same as before for changes without events
	// Events are delivered in the same transaction. An item with Device 0
	// goes to every active device of its Account; its Seq is set by the
	// store.
	Events []Item
}

// GroupStore keeps groups and their members. Changes run one at a time
// per group, on any node: the store locks the group, reads it, calls the
// change function and applies its result with its events in one
// transaction, so rules checked by the function (caps, roles) hold.
type GroupStore interface {
	// CreateGroup stores a new group with its members and delivers events
	// in the same transaction; it returns the items delivered.
	CreateGroup(ctx context.Context, g *Group, events []Item) ([]Item, error)
	// Group returns the group with its members by JoinedAt (then
	// account); ENOTFOUND when there is none.
	Group(ctx context.Context, id string) (*Group, error)
	// GroupByInvite returns the id of the group whose current invite
	// code is code; ENOTFOUND when none.
	GroupByInvite(ctx context.Context, code string) (string, error)
	// GroupsOf lists the groups account is a member of, without members.
	GroupsOf(ctx context.Context, account string) ([]Group, error)
	// ChangeGroup locks the group, passes it to change and applies the
	// change with its events, in one transaction. change runs while the
	// store holds its write transaction: it must be quick and must not
	// call the store; its error is returned and nothing is written. It
	// returns the group after the change (nil when deleted) and the items
	// delivered. ENOTFOUND when there is no such group.
	ChangeGroup(ctx context.Context, id string, change func(g *Group) (*GroupChange, error)) (*Group, []Item, error)
	// GroupDevices returns the active device ids of every member, by
	// account; a member without active devices has an empty list.
	// ENOTFOUND when there is no such group.
	GroupDevices(ctx context.Context, id string) (map[string][]uint32, error)
}
