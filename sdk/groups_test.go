package sdk_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/sdk"
)

// groupEvent returns the next group event, skipping everything else.
func (d *device) groupEvent() *sdk.GroupChanged {
	d.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-d.m.Events():
			if !ok {
				d.t.Fatalf("events closed")
			}
			if g, ok := ev.(*sdk.GroupChanged); ok {
				if g.Err != nil {
					d.t.Fatalf("group event: %v", g.Err)
				}
				ack(d.t, g)
				return g
			}
		case <-timeout:
			d.t.Fatalf("no group event within 10s")
		}
	}
}

// sharedText builds a group send whose copies all take one shared body,
// and records the device lists it was called with.
type sharedText struct {
	text  string
	calls []map[string][]uint32
}

func (s *sharedText) build(devs map[string][]uint32) ([]byte, []sdk.Copy, error) {
	s.calls = append(s.calls, devs)
	var cs []sdk.Copy
	for acct, ids := range devs {
		for _, id := range ids {
			cs = append(cs, sdk.Copy{Account: acct, Device: id})
		}
	}
	return sdk.TextPayload(s.text), cs, nil
}

func TestGroups(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	aliceC := s.register("+4915100000401", "alice")
	bobC := s.register("+4915100000402", "bob")
	carolC := s.register("+4915100000403", "carol")
	alice, bob, carol := run(t, aliceC, sdk.Options{}), run(t, bobC, sdk.Options{}), run(t, carolC, sdk.Options{})
	api := alice.m.Client()

	g, err := api.CreateGroup(ctx, "Book club", bobC.Account, "+"+carolC.Account)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if len(g.Members) != 3 || g.Members[0].Role != sdk.RoleAdmin || g.Version != 1 {
		t.Fatalf("created %+v", g)
	}
	for _, d := range []*device{alice, bob, carol} {
		if ev := d.groupEvent(); ev.Event.Action != sdk.GroupCreated || ev.Event.Group != g.ID || ev.Event.Name != "Book club" {
			t.Fatalf("created event %+v", ev)
		}
	}

	hello := &sharedText{text: "hello club"}
	r, err := alice.m.SendGroup(ctx, sdk.GroupOutgoing{Group: g.ID, Build: hello.build})
	if err != nil {
		t.Fatalf("SendGroup: %v", err)
	}
	for _, d := range []*device{bob, carol} {
		m := d.message()
		if m.Group != g.ID || m.Text != "hello club" || m.ID != r.MessageID || m.To != "" {
			t.Fatalf("group message %+v", m)
		}
		ack(t, m)
	}

	// Bob links a device: alice's cached lists are stale; SendGroup
	// rebuilds with the server's lists.
	bob2C := linkDevice(t, s, bobC, "tablet")
	bob2 := run(t, bob2C, sdk.Options{})
	again := &sharedText{text: "second"}
	if _, err := alice.m.SendGroup(ctx, sdk.GroupOutgoing{Group: g.ID, Build: again.build}); err != nil {
		t.Fatalf("SendGroup after link: %v", err)
	}
	if len(again.calls) != 2 || !slices.Equal(again.calls[1][bobC.Account], []uint32{bobC.Device, bob2C.Device}) {
		t.Fatalf("Build calls %v, want a second with bob's new device", again.calls)
	}
	if m := bob2.message(); m.Text != "second" || m.Group != g.ID {
		t.Fatalf("bob's new device got %+v", m)
	}

	// Carol is removed and hears of it; the next send leaves her out.
	if err := api.RemoveGroupMember(ctx, g.ID, carolC.Account); err != nil {
		t.Fatalf("RemoveGroupMember: %v", err)
	}
	if ev := carol.groupEvent(); ev.Event.Action != sdk.GroupRemoved || !slices.Equal(ev.Event.Accounts, []string{carolC.Account}) {
		t.Fatalf("carol's removal %+v", ev)
	}
	alice.groupEvent() // the removal; it also drops alice's cached lists
	after := &sharedText{text: "without carol"}
	if _, err := alice.m.SendGroup(ctx, sdk.GroupOutgoing{Group: g.ID, Build: after.build}); err != nil {
		t.Fatalf("SendGroup after removal: %v", err)
	}
	if _, ok := after.calls[len(after.calls)-1][carolC.Account]; ok {
		t.Errorf("carol still addressed: %v", after.calls)
	}
	carol.none(300 * time.Millisecond)
	if _, err := carol.m.Client().Group(ctx, g.ID); sdk.ErrorCode(err) != sdk.CodeNotFound {
		t.Errorf("carol reads the group: %v", err)
	}

	// Invite links.
	code, err := api.CreateGroupInvite(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := carol.m.Client().PreviewGroupInvite(ctx, code)
	if err != nil || p.Name != "Book club" || p.Members != 2 {
		t.Fatalf("preview %+v, %v", p, err)
	}
	if g, err = carol.m.Client().JoinGroup(ctx, code); err != nil || len(g.Members) != 3 {
		t.Fatalf("join %+v, %v", g, err)
	}
	if err := api.RevokeGroupInvite(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	dave := sdk.NewClient(*s.register("+4915100000404", "dave"))
	if _, err := dave.JoinGroup(ctx, code); sdk.ErrorCode(err) != sdk.CodeNotFound {
		t.Errorf("join with a revoked code: %v", err)
	}

	// Roles and names; leaving.
	if g, err = api.SetGroupAdmin(ctx, g.ID, bobC.Account, true); err != nil || g.Members[1].Role != sdk.RoleAdmin {
		t.Fatalf("promote: %+v, %v", g, err)
	}
	if g, err = bob.m.Client().RenameGroup(ctx, g.ID, "Reading club"); err != nil || g.Name != "Reading club" {
		t.Fatalf("rename: %+v, %v", g, err)
	}
	if err := api.LeaveGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if gs, err := api.Groups(ctx); err != nil || len(gs) != 0 {
		t.Errorf("alice's groups after leaving: %+v, %v", gs, err)
	}
	if gs, err := bob.m.Client().Groups(ctx); err != nil || len(gs) != 1 || gs[0].Name != "Reading club" {
		t.Errorf("bob's groups: %+v, %v", gs, err)
	}
}
