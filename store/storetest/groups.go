package storetest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

var groupSeq atomic.Int64

// newGroupID returns a group id not used before in this process (digits
// 0, 1, 8 and 9 are not base32, but the store does not check).
func newGroupID() string { return fmt.Sprintf("g%026d", groupSeq.Add(1)) }

// groupEvent is a KindGroup item for every device of account.
func groupEvent(group, account, action string, version uint64) parley.Item {
	e := parley.GroupEvent{Group: group, Version: version, Action: action, Accounts: []string{account}}
	return parley.Item{Account: account, Kind: parley.KindGroup, MessageID: fmt.Sprintf("e-%s-%d", group, version),
		From: account, FromDevice: 1, Group: group, Timestamp: t0, Body: e.Body()}
}

func mustCreateGroup(t *testing.T, s parley.Store, admin string, members ...string) *parley.Group {
	t.Helper()
	g := &parley.Group{ID: newGroupID(), Name: "team", CreatedAt: t0, Version: 1,
		Members: []parley.GroupMember{{Account: admin, Role: parley.RoleAdmin, JoinedAt: t0}}}
	for i, m := range members {
		g.Members = append(g.Members, parley.GroupMember{Account: m, Role: parley.RoleMember, JoinedAt: t0.Add(time.Duration(i+1) * time.Second)})
	}
	if _, err := s.CreateGroup(ctxT(t), g, nil); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	return g
}

func accountsOf(g *parley.Group) []string {
	var as []string
	for _, m := range g.Members {
		as = append(as, m.Account)
	}
	return as
}

func testGroups(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("CreateReadList", func(t *testing.T) {
		s := open(t)
		alice, bob := mustAccount(t, s), mustAccount(t, s)
		a1, b1 := mustDevice(t, s, alice), mustDevice(t, s, bob)
		b2 := mustDevice(t, s, bob)
		// Bob's second device has an item already: the event takes seq 2.
		if err := s.Deliver(ctxT(t), &parley.Delivery{Items: []parley.Item{item(alice, bob, b2, "before")}}); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeDevice(ctxT(t), bob, b1, t0); err != nil {
			t.Fatal(err)
		}
		g := &parley.Group{ID: newGroupID(), Name: "Lunch 🍜", CreatedAt: t0, Version: 1, Members: []parley.GroupMember{
			{Account: alice, Role: parley.RoleAdmin, JoinedAt: t0},
			{Account: bob, Role: parley.RoleMember, JoinedAt: t0.Add(time.Second)},
		}}
		out, err := s.CreateGroup(ctxT(t), g, []parley.Item{groupEvent(g.ID, alice, parley.GroupCreated, 1), groupEvent(g.ID, bob, parley.GroupCreated, 1)})
		if err != nil {
			t.Fatalf("CreateGroup: %v", err)
		}
		var got []string
		for _, it := range out {
			got = append(got, fmt.Sprintf("%s.%d#%d", it.Account, it.Device, it.Seq))
		}
		want := []string{fmt.Sprintf("%s.%d#1", alice, a1), fmt.Sprintf("%s.%d#2", bob, b2)}
		if !slices.Equal(got, want) {
			t.Errorf("delivered %v, want %v (revoked devices skipped)", got, want)
		}
		items := fetchAll(t, s, bob, b2)
		if len(items) != 2 || items[1].Kind != parley.KindGroup || items[1].Group != g.ID || string(items[1].Body) != string(out[1].Body) {
			t.Errorf("bob's mailbox = %+v, want the event after the earlier item", items)
		}

		r, err := s.Group(ctxT(t), g.ID)
		if err != nil {
			t.Fatalf("Group: %v", err)
		}
		if r.Name != g.Name || r.Version != 1 || !r.CreatedAt.Equal(at(0)) || r.Invite != "" || len(r.Members) != 2 ||
			r.Members[0] != (parley.GroupMember{Account: alice, Role: parley.RoleAdmin, JoinedAt: at(0)}) ||
			r.Members[1] != (parley.GroupMember{Account: bob, Role: parley.RoleMember, JoinedAt: at(time.Second)}) {
			t.Errorf("Group = %+v", r)
		}
		_, err = s.Group(ctxT(t), newGroupID())
		wantCode(t, "Group(unknown)", err, parley.ENOTFOUND)

		other := mustCreateGroup(t, s, bob)
		gs, err := s.GroupsOf(ctxT(t), bob)
		if err != nil {
			t.Fatalf("GroupsOf: %v", err)
		}
		if len(gs) != 2 || gs[0].ID != g.ID || gs[1].ID != other.ID || gs[0].Name != g.Name {
			t.Errorf("GroupsOf(bob) = %+v", gs)
		}
		if gs, _ := s.GroupsOf(ctxT(t), mustAccount(t, s)); gs == nil || len(gs) != 0 {
			t.Errorf("GroupsOf(stranger) = %#v, want empty", gs)
		}
		if _, err := s.CreateGroup(ctxT(t), &parley.Group{ID: g.ID, Name: "again", CreatedAt: t0, Version: 1}, nil); err == nil {
			t.Error("CreateGroup with a taken id succeeded")
		}
	})

	t.Run("Change", func(t *testing.T) {
		s := open(t)
		alice, bob, carol := mustAccount(t, s), mustAccount(t, s), mustAccount(t, s)
		mustDevice(t, s, alice)
		bd := mustDevice(t, s, bob)
		g := mustCreateGroup(t, s, alice, bob)

		name, invite := "renamed", "code-1"
		after, out, err := s.ChangeGroup(ctxT(t), g.ID, func(cur *parley.Group) (*parley.GroupChange, error) {
			if cur.Version != 1 || len(cur.Members) != 2 {
				t.Errorf("change sees %+v", cur)
			}
			return &parley.GroupChange{Name: &name, Invite: &invite, Version: 2,
				Add:    []parley.GroupMember{{Account: carol, Role: parley.RoleMember, JoinedAt: t0.Add(time.Hour)}},
				Remove: []string{bob}, Roles: map[string]string{alice: parley.RoleMember},
				Events: []parley.Item{groupEvent(g.ID, bob, parley.GroupRemoved, 2)}}, nil
		})
		if err != nil {
			t.Fatalf("ChangeGroup: %v", err)
		}
		if after.Name != name || after.Version != 2 || after.Invite != invite || !slices.Equal(accountsOf(after), []string{alice, carol}) ||
			after.Members[0].Role != parley.RoleMember {
			t.Errorf("after = %+v", after)
		}
		if len(out) != 1 || out[0].Account != bob || out[0].Device != bd || out[0].Seq != 1 {
			t.Errorf("events = %+v, want one to the removed member's device", out)
		}
		if id, err := s.GroupByInvite(ctxT(t), invite); err != nil || id != g.ID {
			t.Errorf("GroupByInvite = %q, %v", id, err)
		}
		if gs, _ := s.GroupsOf(ctxT(t), bob); len(gs) != 0 {
			t.Errorf("bob still lists %+v", gs)
		}

		// A failing change writes nothing, events included.
		boom := parley.Errorf(parley.EFORBIDDEN, "no")
		_, _, err = s.ChangeGroup(ctxT(t), g.ID, func(*parley.Group) (*parley.GroupChange, error) { return nil, boom })
		wantCode(t, "failing change", err, parley.EFORBIDDEN)

		// Revoking the invite: the code no longer finds the group.
		none := ""
		if _, _, err := s.ChangeGroup(ctxT(t), g.ID, func(*parley.Group) (*parley.GroupChange, error) {
			return &parley.GroupChange{Invite: &none}, nil
		}); err != nil {
			t.Fatal(err)
		}
		_, err = s.GroupByInvite(ctxT(t), invite)
		wantCode(t, "revoked invite", err, parley.ENOTFOUND)
		// Two groups without invites do not collide; two with the same code do.
		h := mustCreateGroup(t, s, carol)
		dup := "same-code"
		for i, id := range []string{g.ID, h.ID} {
			_, _, err := s.ChangeGroup(ctxT(t), id, func(*parley.Group) (*parley.GroupChange, error) {
				return &parley.GroupChange{Invite: &dup}, nil
			})
			if (err == nil) != (i == 0) {
				t.Errorf("invite %d: err = %v", i, err)
			}
		}

		// Deleting: the members go too; events still reach the leaver.
		after, out, err = s.ChangeGroup(ctxT(t), g.ID, func(*parley.Group) (*parley.GroupChange, error) {
			return &parley.GroupChange{Delete: true, Events: []parley.Item{groupEvent(g.ID, bob, parley.GroupLeft, 3)}}, nil
		})
		if err != nil || after != nil || len(out) != 1 {
			t.Fatalf("delete: %+v %+v %v", after, out, err)
		}
		_, err = s.Group(ctxT(t), g.ID)
		wantCode(t, "deleted group", err, parley.ENOTFOUND)
		_, _, err = s.ChangeGroup(ctxT(t), g.ID, func(*parley.Group) (*parley.GroupChange, error) { return &parley.GroupChange{}, nil })
		wantCode(t, "change deleted group", err, parley.ENOTFOUND)
		if gs, _ := s.GroupsOf(ctxT(t), alice); len(gs) != 0 {
			t.Errorf("alice still lists %+v", gs)
		}
	})

	t.Run("Devices", func(t *testing.T) {
		s := open(t)
		alice, bob, carol := mustAccount(t, s), mustAccount(t, s), mustAccount(t, s)
		a1 := mustDevice(t, s, alice)
		a2 := mustDevice(t, s, alice)
		b1 := mustDevice(t, s, bob)
		if err := s.RevokeDevice(ctxT(t), bob, b1, t0); err != nil {
			t.Fatal(err)
		}
		g := mustCreateGroup(t, s, alice, bob, carol)
		got, err := s.GroupDevices(ctxT(t), g.ID)
		if err != nil {
			t.Fatalf("GroupDevices: %v", err)
		}
		if len(got) != 3 || !slices.Equal(got[alice], []uint32{a1, a2}) || got[bob] == nil || len(got[bob]) != 0 || len(got[carol]) != 0 {
			t.Errorf("GroupDevices = %v", got)
		}
		_, err = s.GroupDevices(ctxT(t), newGroupID())
		wantCode(t, "GroupDevices(unknown)", err, parley.ENOTFOUND)
	})

	t.Run("MessagesCarryGroup", func(t *testing.T) {
		s := open(t)
		p := newPair(t, s)
		d := p.delivery("grp")
		for i := range d.Items {
			d.Items[i].Group = "gabc"
		}
		if err := s.Deliver(ctxT(t), d); err != nil {
			t.Fatal(err)
		}
		it := d.Items[0]
		if got := fetchAll(t, s, it.Account, it.Device); len(got) != 1 || got[0].Group != "gabc" {
			t.Fatalf("fetched %+v, want group gabc", got)
		}
		var deleted []parley.Item
		if _, err := s.AckWith(ctxT(t), it.Account, it.Device, []uint64{it.Seq}, func(del []parley.Item) []parley.Item {
			deleted = del
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(deleted) != 1 || deleted[0].Group != "gabc" {
			t.Errorf("AckWith saw %+v, want group gabc", deleted)
		}
	})

	// Changes to one group run one at a time on any node, each seeing the
	// commits before it, so a cap checked by the change function holds.
	t.Run("ConcurrentCap", func(t *testing.T) {
		s := open(t)
		var nodes []parley.Store
		nodes = append(nodes, s)
		if r, ok := s.(Reopener); ok {
			s2, err := r.Reopen(ctxT(t))
			if err != nil {
				t.Fatalf("Reopen: %v", err)
			}
			defer s2.Close()
			nodes = append(nodes, s2)
		}
		admin := mustAccount(t, s)
		mustDevice(t, s, admin)
		g := mustCreateGroup(t, s, admin)
		const capacity, adders, each = 11, 12, 2 // room for 5 adders
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, full := 0, 0
		for i := range adders {
			var add []parley.GroupMember
			for range each {
				add = append(add, parley.GroupMember{Account: mustAccount(t, s), Role: parley.RoleMember, JoinedAt: t0})
			}
			node := nodes[i%len(nodes)]
			wg.Go(func() {
				_, _, err := node.ChangeGroup(ctxT(t), g.ID, func(cur *parley.Group) (*parley.GroupChange, error) {
					if len(cur.Members)+len(add) > capacity {
						return nil, parley.Errorf(parley.ETOOLARGE, "full")
					}
					ev := groupEvent(g.ID, admin, parley.GroupAdded, cur.Version+1)
					return &parley.GroupChange{Add: add, Version: cur.Version + 1, Events: []parley.Item{ev}}, nil
				})
				mu.Lock()
				defer mu.Unlock()
				switch parley.ErrorCode(err) {
				case "":
					ok++
				case parley.ETOOLARGE:
					full++
				default:
					t.Errorf("ChangeGroup: %v", err)
				}
			})
		}
		// Messages to the same device meanwhile, through the batcher of
		// the other node: group changes and batches lock device rows in
		// one order, so neither deadlocks nor fails.
		other := mustAccount(t, s)
		wg.Go(func() {
			for i := range 20 {
				it := item(other, admin, 1, fmt.Sprintf("c%d", i))
				if err := nodes[len(nodes)-1].Deliver(ctxT(t), &parley.Delivery{From: other, FromDevice: 1, ClientID: it.ClientID,
					MessageID: it.MessageID, Timestamp: t0, Items: []parley.Item{it}}); err != nil {
					t.Errorf("Deliver: %v", err)
				}
			}
		})
		wg.Wait()
		r, err := s.Group(ctxT(t), g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ok != 5 || full != adders-5 || len(r.Members) != 11 || r.Version != 6 {
			t.Errorf("%d changes succeeded, %d were full; %d members, version %d; want 5, %d, 11, 6", ok, full, len(r.Members), r.Version, adders-5)
		}
		// Every successful change delivered its event to the admin's
		// device, among the messages, with seqs without gaps.
		items := fetchAll(t, s, admin, 1)
		events := 0
		for i, it := range items {
			if it.Seq != uint64(i+1) {
				t.Fatalf("admin's seqs %v, want 1..%d", seqsOf(items), len(items))
			}
			if it.Kind == parley.KindGroup {
				events++
			}
		}
		if events != 5 || len(items) != 25 {
			t.Errorf("admin has %d events in %d items, want 5 in 25", events, len(items))
		}
	})
}
