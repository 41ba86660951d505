package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// groupEvents returns the decoded group events notified so far to
// device dev of account, and forgets every notified item.
func (f *fixture) groupEvents(t *testing.T, account string, dev uint32) []parley.GroupEvent {
	t.Helper()
	f.notes.mu.Lock()
	defer f.notes.mu.Unlock()
	var out []parley.GroupEvent
	for _, it := range f.notes.items {
		if it.Kind != parley.KindGroup || it.Account != account || it.Device != dev {
			continue
		}
		var e parley.GroupEvent
		if err := json.Unmarshal(it.Body, &e); err != nil {
			t.Fatalf("event body %q: %v", it.Body, err)
		}
		if e.Group != it.Group {
			t.Errorf("event for %s in an item of group %s", e.Group, it.Group)
		}
		out = append(out, e)
	}
	return out
}

func (f *fixture) clearNotes() {
	f.notes.mu.Lock()
	f.notes.items = nil
	f.notes.mu.Unlock()
}

func actions(es []parley.GroupEvent) []string {
	var as []string
	for _, e := range es {
		as = append(as, fmt.Sprintf("%s@%d", e.Action, e.Version))
	}
	return as
}

func TestGroups(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	gs := service.NewGroups(f.store, f.notes, f.clock, quiet())
	alice := f.register(t, "+4915130000001").Device
	bob := f.register(t, "+4915130000002").Device
	bob2 := f.register(t, "+4915130000002").Device
	carol := f.register(t, "+4915130000003").Device
	dave := f.register(t, "+4915130000004").Device

	_, err := gs.Create(ctx, alice, "", nil)
	wantCode(t, err, parley.EINVALID)
	_, err = gs.Create(ctx, alice, "x", []string{"4915139999999"})
	wantCode(t, err, parley.ENOTFOUND)

	g, err := gs.Create(ctx, alice, "Team", []string{bob.Account, "+" + carol.Account, alice.Account})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !parley.ValidGroupID(g.ID) || g.Version != 1 || len(g.Members) != 3 || g.Members[0].Role != parley.RoleAdmin || g.Members[0].Account != alice.Account {
		t.Fatalf("created %+v", g)
	}
	for _, d := range []*parley.Device{alice, bob, bob2, carol} {
		if got := actions(f.groupEvents(t, d.Account, d.ID)); !slices.Equal(got, []string{"created@1"}) {
			t.Errorf("%s got %v, want created@1", d.Address(), got)
		}
	}
	f.clearNotes()

	// Outsiders see nothing; members who are not admins may not change.
	_, err = gs.Get(ctx, dave, g.ID)
	wantCode(t, err, parley.ENOTFOUND)
	_, err = gs.AddMembers(ctx, dave, g.ID, []string{dave.Account})
	wantCode(t, err, parley.ENOTFOUND)
	_, err = gs.Devices(ctx, dave, g.ID)
	wantCode(t, err, parley.ENOTFOUND)
	_, err = gs.AddMembers(ctx, bob, g.ID, []string{dave.Account})
	wantCode(t, err, parley.EFORBIDDEN)
	_, err = gs.Rename(ctx, bob, g.ID, "mine")
	wantCode(t, err, parley.EFORBIDDEN)
	_, err = gs.Get(ctx, alice, service.NewGroupID())
	wantCode(t, err, parley.ENOTFOUND)

	devs, err := gs.Devices(ctx, bob, g.ID)
	if err != nil || !slices.Equal(devs[bob.Account], []uint32{bob2.ID}) || !slices.Equal(devs[alice.Account], []uint32{alice.ID}) {
		t.Errorf("Devices = %v, %v", devs, err)
	}

	g, err = gs.AddMembers(ctx, alice, g.ID, []string{dave.Account, bob.Account})
	if err != nil || g.Version != 2 || len(g.Members) != 4 {
		t.Fatalf("AddMembers = %+v, %v", g, err)
	}
	if es := f.groupEvents(t, dave.Account, dave.ID); len(es) != 1 || es[0].Action != "added" || !slices.Equal(es[0].Accounts, []string{dave.Account}) || es[0].Actor != alice.Account {
		t.Errorf("dave's events = %+v", es)
	}
	// Adding members who are in already changes nothing.
	if g, err = gs.AddMembers(ctx, alice, g.ID, []string{dave.Account}); err != nil || g.Version != 2 {
		t.Fatalf("AddMembers again = %+v, %v", g, err)
	}
	f.clearNotes()

	// A removed member's devices hear of it, like everyone else's.
	g, err = gs.RemoveMember(ctx, alice, g.ID, carol.Account)
	if err != nil || g.Member(carol.Account) != nil || g.Version != 3 {
		t.Fatalf("RemoveMember = %+v, %v", g, err)
	}
	for _, d := range []*parley.Device{carol, bob2, dave} {
		if es := f.groupEvents(t, d.Account, d.ID); len(es) != 1 || es[0].Action != "removed" || es[0].Accounts[0] != carol.Account {
			t.Errorf("%s: events %+v, want removed carol", d.Address(), es)
		}
	}
	_, err = gs.Get(ctx, carol, g.ID)
	wantCode(t, err, parley.ENOTFOUND)
	_, err = gs.RemoveMember(ctx, alice, g.ID, carol.Account)
	wantCode(t, err, parley.ENOTFOUND)

	// The only admin cannot step down; promote someone first.
	_, err = gs.SetAdmin(ctx, alice, g.ID, alice.Account, false)
	wantCode(t, err, parley.ECONFLICT)
	if g, err = gs.Rename(ctx, alice, g.ID, "Team 2"); err != nil || g.Name != "Team 2" || g.Version != 4 {
		t.Fatalf("Rename = %+v, %v", g, err)
	}
	f.clearNotes()

	// The last admin leaves: the longest-standing member (bob) becomes admin.
	g, err = gs.Leave(ctx, alice, g.ID)
	if err != nil || g.Member(alice.Account) != nil || g.Member(bob.Account).Role != parley.RoleAdmin || g.Version != 6 {
		t.Fatalf("Leave = %+v, %v", g, err)
	}
	if got := actions(f.groupEvents(t, bob.Account, bob.ID)); !slices.Equal(got, []string{"left@5", "promoted@6"}) {
		t.Errorf("bob's events = %v", got)
	}
	if got := actions(f.groupEvents(t, alice.Account, alice.ID)); !slices.Equal(got, []string{"left@5"}) {
		t.Errorf("alice's events = %v", got)
	}
	if es := f.groupEvents(t, dave.Account, dave.ID); len(es) != 2 || es[1].Actor != "" {
		t.Errorf("the promotion is made by the server: %+v", es)
	}

	// Invite links.
	code, err := gs.CreateInvite(ctx, bob, g.ID)
	if err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}
	_, err = gs.CreateInvite(ctx, dave, g.ID)
	wantCode(t, err, parley.EFORBIDDEN)
	p, err := gs.PreviewInvite(ctx, carol, code)
	if err != nil || p.Name != "Team 2" || p.Members != 2 {
		t.Fatalf("PreviewInvite = %+v, %v", p, err)
	}
	if g, err = gs.JoinByInvite(ctx, carol, code); err != nil || g.Member(carol.Account) == nil || g.Version != 7 {
		t.Fatalf("JoinByInvite = %+v, %v", g, err)
	}
	if g, err = gs.JoinByInvite(ctx, carol, code); err != nil || g.Version != 7 {
		t.Fatalf("JoinByInvite again = %+v, %v", g, err)
	}
	if err := gs.RevokeInvite(ctx, bob, g.ID); err != nil {
		t.Fatal(err)
	}
	_, err = gs.JoinByInvite(ctx, alice, code)
	wantCode(t, err, parley.ENOTFOUND)
	_, err = gs.PreviewInvite(ctx, alice, code)
	wantCode(t, err, parley.ENOTFOUND)

	list, err := gs.List(ctx, carol)
	if err != nil || len(list) != 1 || list[0].ID != g.ID {
		t.Errorf("List(carol) = %+v, %v", list, err)
	}

	// Everyone leaves: the group is deleted.
	for _, d := range []*parley.Device{bob, dave, carol} {
		if _, err := gs.Leave(ctx, d, g.ID); err != nil {
			t.Fatalf("Leave(%s): %v", d.Account, err)
		}
	}
	if _, err := f.store.Group(ctx, g.ID); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("empty group still stored: %v", err)
	}
}

func TestGroupRateLimits(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	gs := service.NewGroups(f.store, f.notes, f.clock, quiet())
	gs.CreatesPerHour, gs.JoinsPerHour = 2, 1
	alice := f.register(t, "+4915130000011").Device
	bob := f.register(t, "+4915130000012").Device
	g, err := gs.Create(ctx, alice, "g", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gs.Create(ctx, alice, "g", nil); err != nil {
		t.Fatal(err)
	}
	_, err = gs.Create(ctx, alice, "g", nil)
	wantCode(t, err, parley.ERATELIMIT)
	code, err := gs.CreateInvite(ctx, alice, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gs.PreviewInvite(ctx, bob, code); err != nil {
		t.Fatal(err)
	}
	_, err = gs.JoinByInvite(ctx, bob, code)
	wantCode(t, err, parley.ERATELIMIT)
}

// Two admins adding members at the same time never take a group past
// parley.MaxGroupMembers.
func TestGroupMemberCapConcurrent(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	gs := service.NewGroups(f.store, f.notes, f.clock, quiet())
	alice := f.register(t, "+4915130000021").Device
	bob := f.register(t, "+4915130000022").Device
	const base, adders, each = 1000, 8, 4 // room for 24 more: 6 adders
	var members []string
	for i := range base + adders*each {
		id := fmt.Sprintf("49151400%05d", i)
		if _, _, err := f.store.EnsureAccount(ctx, id, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		members = append(members, id)
	}
	g, err := gs.Create(ctx, alice, "big", append([]string{bob.Account}, members[:base-2]...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gs.SetAdmin(ctx, alice, g.ID, bob.Account, true); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := range adders {
		by := []*parley.Device{alice, bob}[i%2]
		add := members[base+i*each : base+(i+1)*each]
		wg.Go(func() {
			_, err := gs.AddMembers(ctx, by, g.ID, add)
			mu.Lock()
			codes[parley.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	g, err = gs.Get(ctx, alice, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Members) != parley.MaxGroupMembers || codes[""] != 6 || codes[parley.ETOOLARGE] != adders-6 {
		t.Errorf("%d members after %v, want %d (6 adds, the rest too_large)", len(g.Members), codes, parley.MaxGroupMembers)
	}
	if len(g.Members) > parley.MaxGroupMembers {
		t.Errorf("%d members, over the cap of %d", len(g.Members), parley.MaxGroupMembers)
	}
}

func TestGroupSend(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	gs := service.NewGroups(f.store, f.notes, f.clock, quiet())
	alice := f.register(t, "+4915130000031").Device
	alice2 := f.register(t, "+4915130000031").Device
	bob := f.register(t, "+4915130000032").Device
	carol := f.register(t, "+4915130000033").Device
	keys := service.NewKeys(f.store, nil, f.clock, quiet())
	for _, d := range []*parley.Device{alice, alice2, bob, carol} {
		upload(t, keys, d, 1) // devices with keys must get a copy
	}
	g, err := gs.Create(ctx, alice, "send", []string{bob.Account})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("ciphertext")
	env := func(id string, to ...*parley.Device) *parley.Envelope {
		e := &parley.Envelope{Group: g.ID, ClientID: id}
		for _, d := range to {
			e.Copies = append(e.Copies, parley.Copy{Account: d.Account, Device: d.ID, Body: body})
		}
		return e
	}

	_, err = f.msg.Send(ctx, carol, env("c1", alice, bob))
	wantCode(t, err, parley.ENOTFOUND)
	_, err = f.msg.Send(ctx, alice, env("a1", bob, carol))
	wantCode(t, err, parley.ESTALE)
	var e *parley.Error
	if !errors.As(err, &e) || len(e.Devices) != 2 || !slices.Equal(e.Devices[alice.Account], []uint32{alice2.ID}) || len(e.Devices[carol.Account]) != 0 {
		t.Errorf("stale devices = %v, want alice's other device and carol dropped", e.Devices)
	}
	withTo := env("a2", bob, alice2)
	withTo.To = bob.Account
	_, err = f.msg.Send(ctx, alice, withTo)
	wantCode(t, err, parley.EINVALID)

	f.clearNotes()
	d, err := f.msg.Send(ctx, alice, env("a3", bob, alice2))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	for _, it := range d.Items {
		if it.Group != g.ID || it.To != "" || it.Kind != parley.KindMessage {
			t.Errorf("item %+v, want group %s and no to", it, g.ID)
		}
	}
	// Bob acknowledges: the receipt goes to alice's sending device only.
	items, err := f.msg.Fetch(ctx, bob, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	last := items[len(items)-1]
	if last.MessageID != d.MessageID {
		t.Fatalf("bob's last item = %+v", last)
	}
	f.clearNotes()
	if err := f.msg.Ack(ctx, bob.Account, bob.ID, []uint64{last.Seq}); err != nil {
		t.Fatal(err)
	}
	f.notes.mu.Lock()
	receipts := slices.Clone(f.notes.items)
	f.notes.mu.Unlock()
	if len(receipts) != 1 || receipts[0].Account != alice.Account || receipts[0].Device != alice.ID ||
		receipts[0].Kind != parley.KindDelivered || receipts[0].Group != g.ID {
		t.Errorf("receipts = %+v, want one to alice's sending device", receipts)
	}

	// Too many bytes in all: refused before anything is stored.
	big := &parley.Envelope{Group: g.ID, ClientID: "big"}
	for range parley.MaxGroupSendBytes/parley.MaxBodySize + 1 {
		big.Copies = append(big.Copies, parley.Copy{Account: bob.Account, Device: bob.ID, Body: make([]byte, parley.MaxBodySize)})
	}
	_, err = f.msg.Send(ctx, alice, big)
	wantCode(t, err, parley.ETOOLARGE)
}

// Joins by one invite link at the same time never pass the cap either.
func TestGroupConcurrentJoins(t *testing.T) {
	ctx := context.Background()
	f := setup(t, service.Limits{})
	gs := service.NewGroups(f.store, f.notes, f.clock, quiet())
	alice := f.register(t, "+4915130000041").Device
	var members []string
	for i := range parley.MaxGroupMembers - 4 {
		id := fmt.Sprintf("49151500%05d", i)
		if _, _, err := f.store.EnsureAccount(ctx, id, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		members = append(members, id)
	}
	g, err := gs.Create(ctx, alice, "almost full", members) // alice and 1020: room for 3
	if err != nil {
		t.Fatal(err)
	}
	code, err := gs.CreateInvite(ctx, alice, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	var joiners []*parley.Device
	for i := range 6 {
		joiners = append(joiners, f.register(t, fmt.Sprintf("+49151300001%02d", i)).Device)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for _, d := range joiners {
		wg.Go(func() {
			_, err := gs.JoinByInvite(ctx, d, code)
			mu.Lock()
			codes[parley.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	g, err = gs.Get(ctx, alice, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Members) != parley.MaxGroupMembers || codes[""] != 3 || codes[parley.ETOOLARGE] != 3 {
		t.Errorf("%d members after joins %v, want %d (3 joined, 3 too_large)", len(g.Members), codes, parley.MaxGroupMembers)
	}
}
