package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/bus/natstest"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

type groupResp struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version uint64 `json:"version"`
	Members []struct {
		Account string `json:"account"`
		Role    string `json:"role"`
	} `json:"members"`
	Invite string `json:"invite"`
}

// groupCopies addresses every device in devs except skip; bodies are
// left out so that each copy takes the frame's shared body.
func groupCopies(skip creds, devs ...creds) []map[string]any {
	var cs []map[string]any
	for _, d := range devs {
		if d.Account == skip.Account && d.Device == skip.Device {
			continue
		}
		cs = append(cs, map[string]any{"account": d.Account, "device": d.Device})
	}
	return cs
}

// groupEvent reads the next item, which must be a group event.
func (c *client) groupEvent() (frame, parley.GroupEvent) {
	c.t.Helper()
	it := c.next("item")
	var e parley.GroupEvent
	if it.Kind != "group" || json.Unmarshal(it.Body, &e) != nil || e.Group != it.Group {
		c.t.Fatalf("item %+v (%s), want a group event", it, it.Body)
	}
	return it, e
}

func TestGroupsEndToEnd(t *testing.T) {
	n := startNode(t, app.Config{})
	a1 := registerWithKeys(t, n, "+4915100000301")
	a2 := registerWithKeys(t, n, "+4915100000301")
	b1 := registerWithKeys(t, n, "+4915100000302")
	b2 := registerWithKeys(t, n, "+4915100000302")
	c1 := registerWithKeys(t, n, "+4915100000303")
	c2 := registerWithKeys(t, n, "+4915100000303")
	dave := registerWithKeys(t, n, "+4915100000304")
	all := []creds{a1, a2, b1, b2, c1, c2}

	var g groupResp
	if st := call(t, "POST", n.base+"/v1/groups", a1.Token, map[string]any{"name": "Trip", "members": []string{b1.Account, "+" + c1.Account}}, &g); st != 201 {
		t.Fatalf("create group: status %d", st)
	}
	if g.Version != 1 || len(g.Members) != 3 || g.Members[0].Role != "admin" {
		t.Fatalf("created %+v", g)
	}
	conns := map[creds]*client{}
	for _, d := range all {
		conns[d] = connect(t, n, d)
		it, e := conns[d].groupEvent()
		if e.Action != "created" || e.Version != 1 || e.Name != "Trip" || len(e.Accounts) != 3 || it.Seq != 1 || it.From != a1.Account {
			t.Fatalf("%s.%d: created event %+v %+v", d.Account, d.Device, it, e)
		}
		conns[d].send(map[string]any{"type": "ack", "seqs": []uint64{it.Seq}})
	}

	// One group message: every other device gets exactly one copy (its seq
	// is 2 everywhere, and the next event below takes 3).
	a := conns[a1]
	a.send(map[string]any{"type": "send", "id": "g1", "group": g.ID, "body": []byte("hello group"), "copies": groupCopies(a1, all...)})
	sent := a.next("sent")
	for _, d := range all[1:] {
		it := conns[d].next("item")
		if it.Kind != "msg" || it.Group != g.ID || it.To != "" || string(it.Body) != "hello group" || it.MessageID != sent.MessageID || it.Seq != 2 {
			t.Fatalf("%s.%d got %+v", d.Account, d.Device, it)
		}
		conns[d].send(map[string]any{"type": "ack", "seqs": []uint64{it.Seq}})
	}
	// Delivery receipts go to the sending device only: one per other account's device.
	var from []string
	for range 4 {
		r := a.next("item")
		if r.Kind != "delivered" || r.MessageID != sent.MessageID || r.Group != g.ID {
			t.Fatalf("receipt %+v", r)
		}
		from = append(from, fmt.Sprintf("%s.%d", r.From, r.FromDevice))
		a.send(map[string]any{"type": "ack", "seqs": []uint64{r.Seq}})
	}
	slices.Sort(from)
	if want := []string{b1.Account + ".1", b1.Account + ".2", c1.Account + ".1", c1.Account + ".2"}; !slices.Equal(from, want) {
		t.Errorf("receipts from %v, want %v", from, want)
	}

	// Carol is removed: her devices learn of it, like everyone's.
	var e apiError
	if st := call(t, "DELETE", n.base+"/v1/groups/"+g.ID+"/members/"+b1.Account, c1.Token, nil, &e); st != 403 || e.Error.Code != "forbidden" {
		t.Fatalf("member removes member: %d %+v", st, e)
	}
	if st := call(t, "DELETE", n.base+"/v1/groups/"+g.ID+"/members/"+c1.Account, a1.Token, nil, nil); st != 204 {
		t.Fatalf("remove carol: status %d", st)
	}
	for _, d := range all {
		it, ev := conns[d].groupEvent()
		wantSeq := uint64(3)
		if d == a1 {
			wantSeq = 6 // created, four receipts
		}
		if ev.Action != "removed" || ev.Version != 2 || !slices.Equal(ev.Accounts, []string{c1.Account}) || ev.Actor != a1.Account || it.Seq != wantSeq {
			t.Fatalf("%s.%d: removal event %+v %+v", d.Account, d.Device, it, ev)
		}
		conns[d].send(map[string]any{"type": "ack", "seqs": []uint64{it.Seq}})
	}

	// Sends still addressed to carol are stale; without her they go through.
	a.send(map[string]any{"type": "send", "id": "g2", "group": g.ID, "body": []byte("x"), "copies": groupCopies(a1, all...)})
	if f := a.next("error"); f.Code != "stale_devices" || f.Devices[c1.Account] == nil || len(f.Devices[c1.Account]) != 0 || len(f.Devices) != 1 {
		t.Fatalf("send to removed member: %+v, want stale_devices dropping carol", f)
	}
	a.send(map[string]any{"type": "send", "id": "g2", "group": g.ID, "body": []byte("without carol"), "copies": groupCopies(a1, a2, b1, b2)})
	a.next("sent")
	for _, d := range []creds{a2, b1, b2} {
		if it := conns[d].next("item"); string(it.Body) != "without carol" {
			t.Fatalf("%s.%d got %+v", d.Account, d.Device, it)
		}
	}
	for _, d := range []creds{c1, c2} {
		items, err := n.m.Store().Fetch(t.Context(), d.Account, d.Device, 0, 10, time.Now())
		if err != nil || slices.ContainsFunc(items, func(it parley.Item) bool { return it.Kind == parley.KindMessage }) {
			t.Errorf("removed device %s.%d has %+v, %v", d.Account, d.Device, items, err) // (its ack of the event may still be on its way)
		}
	}

	// Non-members: not_found everywhere, as if the group did not exist.
	for _, req := range []struct{ method, path string }{
		{"GET", "/v1/groups/" + g.ID}, {"GET", "/v1/groups/" + g.ID + "/members/devices"}, {"PATCH", "/v1/groups/" + g.ID},
		{"POST", "/v1/groups/" + g.ID + "/invite"}, {"GET", "/v1/groups/gaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	} {
		var body any
		if req.method == "PATCH" {
			body = map[string]string{"name": "mine"}
		}
		if st := call(t, req.method, n.base+req.path, c1.Token, body, &e); st != 404 || e.Error.Code != "not_found" {
			t.Errorf("%s %s by a non-member: %d %+v", req.method, req.path, st, e)
		}
	}
	conns[c1].send(map[string]any{"type": "send", "id": "c1", "group": g.ID, "body": []byte("x"), "copies": groupCopies(c1, a1)})
	if f := conns[c1].next("error"); f.Code != "not_found" {
		t.Fatalf("send by a non-member: %+v", f)
	}

	// Bob links a new device: the next send is stale with bob's current list.
	b3 := registerWithKeys(t, n, "+4915100000302")
	a.send(map[string]any{"type": "send", "id": "g3", "group": g.ID, "body": []byte("y"), "copies": groupCopies(a1, a2, b1, b2)})
	if f := a.next("error"); f.Code != "stale_devices" || !slices.Equal(f.Devices[b1.Account], []uint32{1, 2, b3.Device}) {
		t.Fatalf("after bob linked a device: %+v", f)
	}
	var devs struct {
		Devices map[string][]uint32 `json:"devices"`
	}
	if st := call(t, "GET", n.base+"/v1/groups/"+g.ID+"/members/devices", a1.Token, nil, &devs); st != 200 ||
		!slices.Equal(devs.Devices[a1.Account], []uint32{a2.Device}) || len(devs.Devices[b1.Account]) != 3 || len(devs.Devices) != 2 {
		t.Fatalf("group devices: %d %+v", st, devs)
	}
	a.send(map[string]any{"type": "send", "id": "g3", "group": g.ID, "body": []byte("y"), "copies": groupCopies(a1, a2, b1, b2, b3)})
	a.next("sent")

	// Invite links: preview, join, revoke.
	var inv struct{ Code string }
	if st := call(t, "POST", n.base+"/v1/groups/"+g.ID+"/invite", a1.Token, nil, &inv); st != 200 || len(inv.Code) != 26 {
		t.Fatalf("create invite: %d %+v", st, inv)
	}
	var preview struct {
		Name    string `json:"name"`
		Members int    `json:"members"`
	}
	if st := call(t, "GET", n.base+"/v1/groups/invite/"+inv.Code, dave.Token, nil, &preview); st != 200 || preview.Name != "Trip" || preview.Members != 2 {
		t.Fatalf("preview: %d %+v", st, preview)
	}
	if st := call(t, "GET", n.base+"/v1/groups/invite/"+inv.Code, "", nil, &e); st != 401 {
		t.Fatalf("preview without auth: %d", st)
	}
	if st := call(t, "POST", n.base+"/v1/groups/invite/"+inv.Code+"/join", dave.Token, nil, &g); st != 200 || len(g.Members) != 3 || g.Invite != "" {
		t.Fatalf("join: %d %+v", st, g)
	}
	if _, ev := a.groupEvent(); ev.Action != "joined" || ev.Actor != dave.Account {
		t.Fatalf("join event %+v", ev)
	}
	if st := call(t, "DELETE", n.base+"/v1/groups/"+g.ID+"/invite", a1.Token, nil, nil); st != 204 {
		t.Fatalf("revoke invite: %d", st)
	}
	if st := call(t, "POST", n.base+"/v1/groups/invite/"+inv.Code+"/join", c1.Token, nil, &e); st != 404 || e.Error.Code != "not_found" {
		t.Fatalf("join with a revoked code: %d %+v", st, e)
	}

	// Roles, rename, list, leave.
	if st := call(t, "PUT", n.base+"/v1/groups/"+g.ID+"/admins/"+b1.Account, a1.Token, nil, &g); st != 200 || g.Members[1].Role != "admin" {
		t.Fatalf("promote bob: %d %+v", st, g)
	}
	if st := call(t, "PATCH", n.base+"/v1/groups/"+g.ID, b1.Token, map[string]string{"name": "Trip 2026"}, &g); st != 200 || g.Name != "Trip 2026" {
		t.Fatalf("rename: %d %+v", st, g)
	}
	var list struct {
		Groups []groupResp `json:"groups"`
	}
	if st := call(t, "GET", n.base+"/v1/groups", dave.Token, nil, &list); st != 200 || len(list.Groups) != 1 || list.Groups[0].Name != "Trip 2026" {
		t.Fatalf("list: %d %+v", st, list)
	}
	if st := call(t, "DELETE", n.base+"/v1/groups/"+g.ID+"/members/"+a1.Account, a1.Token, nil, nil); st != 204 {
		t.Fatalf("leave: %d", st)
	}
	if st := call(t, "GET", n.base+"/v1/groups/"+g.ID, a1.Token, nil, &e); st != 404 {
		t.Fatalf("get after leaving: %d", st)
	}
}

// Group events and group messages reach members connected to another
// node (PostgreSQL and a NATS cluster).
func TestGroupsMultiNode(t *testing.T) {
	natsURL := natstest.URL(t)
	dsn := pgtest.DSN(t)
	na := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "node-a"})
	nb := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "node-b"})
	alice := registerWithKeys(t, na, "+4915100000311")
	bob := registerWithKeys(t, nb, "+4915100000312")
	b := connect(t, nb, bob)
	a := connect(t, na, alice)
	var g groupResp
	if st := call(t, "POST", na.base+"/v1/groups", alice.Token, map[string]any{"name": "x", "members": []string{bob.Account}}, &g); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if _, ev := b.groupEvent(); ev.Action != "created" {
		t.Fatalf("bob on node b: %+v", ev)
	}
	a.send(map[string]any{"type": "send", "id": "1", "group": g.ID, "body": []byte("across"), "copies": groupCopies(alice, bob)})
	a.next("sent")
	if it := b.next("item"); string(it.Body) != "across" || it.Group != g.ID {
		t.Fatalf("bob on node b got %+v", it)
	}
	if st := call(t, "DELETE", na.base+"/v1/groups/"+g.ID+"/members/"+bob.Account, alice.Token, nil, nil); st != 204 {
		t.Fatalf("remove: %d", st)
	}
	if _, ev := b.groupEvent(); ev.Action != "removed" {
		t.Fatalf("bob's removal on node b: %+v", ev)
	}
}
