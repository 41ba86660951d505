package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func inboxConv(f *bizFixture, customer string, preview string) *parley.Conversation {
	return &parley.Conversation{ID: parley.ConversationID(f.n.ID, customer), Business: f.b.ID, Number: f.n.ID, Customer: customer,
		LastSealed: []byte(preview)}
}

func inboxMsg(id, dir string, d time.Duration) *parley.InboxMessage {
	m := &parley.InboxMessage{ID: id, Direction: dir, Type: "text", Sealed: []byte("sealed " + id), CreatedAt: t0.Add(d), UpdatedAt: t0.Add(d)}
	if dir == parley.DirectionOut {
		m.Status = parley.OutboundAccepted
	}
	if dir == parley.DirectionNote {
		m.Type, m.Agent = "note", "agent-1"
	}
	return m
}

func testInbox(t *testing.T, open func(t *testing.T) parley.Store) {
	// A customer's conversations with two businesses are found for their
	// export, and the erasure of their business data deletes them with
	// their messages and notes, leaving other customers' alone.
	t.Run("CustomerExportAndErase", func(t *testing.T) {
		s := open(t)
		ctx := ctxT(t)
		f1, f2 := mustBusiness(t, s), mustBusiness(t, s)
		cust, other := newPhone(), newPhone()
		for _, r := range []struct {
			f    *bizFixture
			cust string
			id   string
			dir  string
		}{{f1, cust, "wamid.x1", parley.DirectionIn}, {f1, cust, "note.x1", parley.DirectionNote}, {f2, cust, "wamid.x2", parley.DirectionIn},
			{f1, other, "wamid.y1", parley.DirectionIn}} {
			if _, err := s.RecordInboxMessage(ctx, inboxConv(r.f, r.cust, "p"), inboxMsg(r.id, r.dir, 0)); err != nil {
				t.Fatal(err)
			}
		}
		convs, err := s.CustomerConversations(ctx, cust)
		if err != nil || len(convs) != 2 || convs[0].Customer != cust || convs[1].Customer != cust || convs[0].Business == convs[1].Business {
			t.Fatalf("CustomerConversations = %+v, %v", convs, err)
		}
		n, err := s.EraseBusinessDataOf(ctx, cust)
		if err != nil || n != 5 { // three messages (one a note) and two conversations
			t.Fatalf("EraseBusinessDataOf = %d, %v; want 5 rows", n, err)
		}
		if convs, err := s.CustomerConversations(ctx, cust); err != nil || len(convs) != 0 {
			t.Fatalf("after erasure: %+v, %v", convs, err)
		}
		if ms, err := s.InboxMessages(ctx, parley.ConversationID(f1.n.ID, cust), time.Time{}, 10); err != nil || len(ms) != 0 {
			t.Fatalf("messages after erasure: %+v, %v", ms, err)
		}
		if convs, err := s.CustomerConversations(ctx, other); err != nil || len(convs) != 1 {
			t.Fatalf("another customer's conversation after erasure: %+v, %v", convs, err)
		}
	})
	t.Run("RecordAndList", func(t *testing.T) {
		s := open(t)
		ctx := ctxT(t)
		f := mustBusiness(t, s)
		cust := newPhone()
		rec, err := s.RecordInboxMessage(ctx, inboxConv(f, cust, "p1"), inboxMsg("wamid.in1", parley.DirectionIn, 0))
		if err != nil {
			t.Fatal(err)
		}
		c := rec.Conversation
		if !rec.NewConversation || !rec.NewMessage || c.State != parley.ConversationOpen || c.Unread != 1 || !c.LastInboundAt.Equal(at(0)) ||
			!c.LastAt.Equal(at(0)) || string(c.LastSealed) != "p1" || c.Business != f.b.ID || c.Customer != cust || c.Version != 1 {
			t.Fatalf("first record = %+v, conversation %+v", rec, c)
		}
		// The same message again changes nothing.
		rec, err = s.RecordInboxMessage(ctx, inboxConv(f, cust, "p1 again"), inboxMsg("wamid.in1", parley.DirectionIn, 0))
		if err != nil || rec.NewMessage || rec.NewConversation || rec.Conversation.Unread != 1 || rec.Conversation.Version != 1 {
			t.Fatalf("duplicate record = %+v (%+v), %v", rec, rec.Conversation, err)
		}
		// An outbound message sets the preview, not the unread count; an
		// older message does not replace a newer preview.
		rec, err = s.RecordInboxMessage(ctx, inboxConv(f, cust, "p2"), inboxMsg("wamid.out1", parley.DirectionOut, time.Minute))
		if err != nil || rec.Conversation.Unread != 1 || string(rec.Conversation.LastSealed) != "p2" || !rec.Conversation.LastAt.Equal(at(time.Minute)) {
			t.Fatalf("outbound record = %+v, %v", rec.Conversation, err)
		}
		rec, err = s.RecordInboxMessage(ctx, inboxConv(f, cust, "old"), inboxMsg("wamid.in0", parley.DirectionIn, -time.Minute))
		if err != nil || rec.Conversation.Unread != 2 || string(rec.Conversation.LastSealed) != "p2" || !rec.Conversation.LastInboundAt.Equal(at(0)) {
			t.Fatalf("older inbound = %+v, %v", rec.Conversation, err)
		}
		// A note changes only the version.
		v := rec.Conversation.Version
		rec, err = s.RecordInboxMessage(ctx, inboxConv(f, cust, "note"), inboxMsg("note.1", parley.DirectionNote, 2*time.Minute))
		if err != nil || rec.Conversation.Version != v+1 || string(rec.Conversation.LastSealed) != "p2" || rec.Conversation.Unread != 2 {
			t.Fatalf("note = %+v, %v", rec.Conversation, err)
		}
		msgs, err := s.InboxMessages(ctx, c.ID, time.Time{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range msgs {
			ids = append(ids, m.ID)
		}
		if want := []string{"note.1", "wamid.out1", "wamid.in1", "wamid.in0"}; !slices.Equal(ids, want) {
			t.Fatalf("InboxMessages = %v, want %v", ids, want)
		}
		m := msgs[1]
		if m.Conversation != c.ID || m.Business != f.b.ID || m.Direction != parley.DirectionOut || !bytes.Equal(m.Sealed, []byte("sealed wamid.out1")) ||
			m.Status != parley.OutboundAccepted || !m.CreatedAt.Equal(at(time.Minute)) {
			t.Fatalf("message = %+v", m)
		}
		if msgs, err := s.InboxMessages(ctx, c.ID, at(0), 1); err != nil || len(msgs) != 1 || msgs[0].ID != "wamid.in0" {
			t.Fatalf("InboxMessages before t0 = %+v, %v", msgs, err)
		}
		recent, err := s.RecentInboxMessages(ctx, f.b.ID, 10)
		if err != nil || len(recent) != 3 || recent[0].ID != "wamid.out1" {
			t.Fatalf("RecentInboxMessages = %+v, %v (notes are left out)", recent, err)
		}
		if got, err := s.Conversation(ctx, c.ID); err != nil || got.Unread != 2 {
			t.Fatalf("Conversation = %+v, %v", got, err)
		}
		_, err = s.Conversation(ctx, "nope")
		wantCode(t, "Conversation(unknown)", err, parley.ENOTFOUND)
	})

	t.Run("Status", func(t *testing.T) {
		s := open(t)
		ctx := ctxT(t)
		f := mustBusiness(t, s)
		cust := newPhone()
		if _, err := s.RecordInboxMessage(ctx, inboxConv(f, cust, "x"), inboxMsg("wamid.o", parley.DirectionOut, 0)); err != nil {
			t.Fatal(err)
		}
		// The same message with its agent (the sender recorded it after its
		// status did): the agent is kept, nothing else changes.
		withAgent := inboxMsg("wamid.o", parley.DirectionOut, time.Hour)
		withAgent.Agent, withAgent.Sealed = "agent-7", []byte("other")
		if rec, err := s.RecordInboxMessage(ctx, inboxConv(f, cust, "y"), withAgent); err != nil || rec.NewMessage {
			t.Fatalf("record again with agent = %+v, %v", rec, err)
		}
		withAgent.Agent = "agent-8"
		s.RecordInboxMessage(ctx, inboxConv(f, cust, "y"), withAgent)
		if ms, _ := s.InboxMessages(ctx, parley.ConversationID(f.n.ID, cust), time.Time{}, 5); len(ms) != 1 || ms[0].Agent != "agent-7" ||
			string(ms[0].Sealed) != "sealed wamid.o" || !ms[0].CreatedAt.Equal(at(0)) {
			t.Fatalf("after recording again: %+v", ms)
		}
		m, changed, err := s.SetInboxStatus(ctx, "wamid.o", parley.OutboundDelivered, 0, t0.Add(time.Second))
		if err != nil || !changed || m.Status != parley.OutboundDelivered || !m.UpdatedAt.Equal(at(time.Second)) || m.Conversation == "" {
			t.Fatalf("SetInboxStatus delivered = %+v, %v, %v", m, changed, err)
		}
		m, changed, err = s.SetInboxStatus(ctx, "wamid.o", parley.OutboundSent, 0, t0)
		if err != nil || changed || m.Status != parley.OutboundDelivered {
			t.Fatalf("SetInboxStatus back to sent = %+v, %v, %v", m, changed, err)
		}
		m, changed, err = s.SetInboxStatus(ctx, "wamid.o", parley.OutboundFailed, 131047, t0)
		if err != nil || !changed || m.ErrorCode != 131047 {
			t.Fatalf("SetInboxStatus failed = %+v, %v, %v", m, changed, err)
		}
		_, _, err = s.SetInboxStatus(ctx, "wamid.none", parley.OutboundSent, 0, t0)
		wantCode(t, "SetInboxStatus(unknown)", err, parley.ENOTFOUND)
	})

	// RecordInboxStatuses does for each message what RecordInboxMessage
	// and SetInboxStatus do one after the other, in one transaction.
	t.Run("Statuses", func(t *testing.T) {
		s := open(t)
		ctx := ctxT(t)
		f := mustBusiness(t, s)
		c1, c2 := newPhone(), newPhone()
		// Recorded before (by the inbox's sender, with its agent) and
		// failed already: it keeps its status, code and content.
		old := inboxMsg("wamid.old", parley.DirectionOut, 0)
		old.Agent = "agent-7"
		if _, err := s.RecordInboxMessage(ctx, inboxConv(f, c1, "old"), old); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SetInboxStatus(ctx, "wamid.old", parley.OutboundFailed, 131026, at(time.Second)); err != nil {
			t.Fatal(err)
		}
		failed := func(id string, d time.Duration) parley.InboxMessage {
			m := *inboxMsg(id, parley.DirectionOut, d)
			m.Status, m.ErrorCode, m.UpdatedAt = parley.OutboundFailed, 131047, t0.Add(d+time.Minute)
			return m
		}
		cs := []parley.Conversation{*inboxConv(f, c1, "a"), *inboxConv(f, c1, "b"), *inboxConv(f, c2, "c"), *inboxConv(f, c1, "old again")}
		ms := []parley.InboxMessage{failed("wamid.a", time.Second), failed("wamid.b", 2*time.Second), failed("wamid.c", 3*time.Second),
			failed("wamid.old", 4*time.Second)}
		recs, moved, err := s.RecordInboxStatuses(ctx, cs, ms)
		if err != nil || len(recs) != 4 || len(moved) != 4 {
			t.Fatalf("RecordInboxStatuses = %d records, %d moved, %v", len(recs), len(moved), err)
		}
		for i, want := range []struct{ newMsg, newConv, moved bool }{{true, false, true}, {true, false, true}, {true, true, true}, {false, false, false}} {
			if recs[i].NewMessage != want.newMsg || recs[i].NewConversation != want.newConv || (moved[i] != nil) != want.moved {
				t.Errorf("item %d: record %+v, moved %+v; want %+v", i, recs[i], moved[i], want)
			}
			if recs[i].Conversation == nil || recs[i].Conversation.ID != cs[i].ID {
				t.Errorf("item %d: conversation %+v, want %s", i, recs[i].Conversation, cs[i].ID)
			}
			if ms[i].Conversation != cs[i].ID || ms[i].Business != f.b.ID {
				t.Errorf("item %d: message in %q of %q", i, ms[i].Conversation, ms[i].Business)
			}
		}
		if m := moved[1]; m == nil || m.Status != parley.OutboundFailed || m.ErrorCode != 131047 || !m.UpdatedAt.Equal(at(2*time.Second+time.Minute)) ||
			string(m.Sealed) != "sealed wamid.b" || m.Conversation != cs[1].ID {
			t.Errorf("moved[1] = %+v", m)
		}
		if c := recs[1].Conversation; string(c.LastSealed) != "b" || !c.LastAt.Equal(at(2*time.Second)) {
			t.Errorf("conversation after b: preview %q at %v", c.LastSealed, c.LastAt)
		}
		got, err := s.InboxMessages(ctx, parley.ConversationID(f.n.ID, c1), time.Time{}, 10)
		if err != nil || len(got) != 3 {
			t.Fatalf("InboxMessages = %+v, %v", got, err)
		}
		want := map[string]parley.InboxMessage{"wamid.b": ms[1], "wamid.a": ms[0]}
		for _, m := range got {
			if m.ID == "wamid.old" {
				if m.Status != parley.OutboundFailed || m.ErrorCode != 131026 || m.Agent != "agent-7" || string(m.Sealed) != "sealed wamid.old" {
					t.Errorf("old message changed: %+v", m)
				}
				continue
			}
			w := want[m.ID]
			if m.Status != parley.OutboundFailed || m.ErrorCode != 131047 || !m.UpdatedAt.Equal(at(w.UpdatedAt.Sub(t0))) || !m.CreatedAt.Equal(at(w.CreatedAt.Sub(t0))) {
				t.Errorf("stored %s = %+v; want failed 131047 created %v updated %v", m.ID, m, w.CreatedAt, w.UpdatedAt)
			}
		}
		_, _, err = s.RecordInboxStatuses(ctx, cs[:1], nil)
		wantCode(t, "RecordInboxStatuses(mismatched)", err, parley.EINVALID)
	})

	t.Run("FilterAndUpdate", func(t *testing.T) {
		s := open(t)
		ctx := ctxT(t)
		f, other := mustBusiness(t, s), mustBusiness(t, s)
		c1, c2, c3 := "4930111", "4930222", "4940333"
		for i, cu := range []string{c1, c2, c3} {
			if _, err := s.RecordInboxMessage(ctx, inboxConv(f, cu, "x"), inboxMsg(fmt.Sprintf("w.%d", i), parley.DirectionIn, time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RecordInboxMessage(ctx, inboxConv(other, c1, "x"), inboxMsg("w.other", parley.DirectionIn, 0)); err != nil {
			t.Fatal(err)
		}
		conv, _ := s.Conversation(ctx, parley.ConversationID(f.n.ID, c2))
		conv.State, conv.Assignee, conv.Labels, conv.Unread = parley.ConversationPending, "agent-a", []string{"vip", "urgent"}, 0
		v := conv.Version
		if err := s.UpdateConversation(ctx, conv); err != nil || conv.Version != v+1 {
			t.Fatalf("UpdateConversation = %v, version %d", err, conv.Version)
		}
		stale := *conv
		stale.Version = v
		wantCode(t, "UpdateConversation(stale)", s.UpdateConversation(ctx, &stale), parley.ECONFLICT)
		unknown := *conv
		unknown.ID = "unknown"
		wantCode(t, "UpdateConversation(unknown)", s.UpdateConversation(ctx, &unknown), parley.ENOTFOUND)

		list := func(fl parley.ConversationFilter) []string {
			t.Helper()
			fl.Business = f.b.ID
			cs, err := s.Conversations(ctx, fl)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range cs {
				if c.Business != f.b.ID {
					t.Fatalf("conversation of another business: %+v", c)
				}
				out = append(out, c.Customer)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    parley.ConversationFilter
			want []string
		}{
			{"all", parley.ConversationFilter{}, []string{c3, c2, c1}},
			{"state", parley.ConversationFilter{State: parley.ConversationPending}, []string{c2}},
			{"assignee", parley.ConversationFilter{Assignee: "agent-a"}, []string{c2}},
			{"unassigned", parley.ConversationFilter{Assignee: "none"}, []string{c3, c1}},
			{"label", parley.ConversationFilter{Label: "urgent"}, []string{c2}},
			{"labelPrefix", parley.ConversationFilter{Label: "urg"}, nil},
			{"unread", parley.ConversationFilter{Unread: true}, []string{c3, c1}},
			{"customer", parley.ConversationFilter{Customer: "4930"}, []string{c2, c1}},
			{"before", parley.ConversationFilter{Before: t0.Add(2 * time.Minute)}, []string{c2, c1}},
			{"limit", parley.ConversationFilter{Limit: 1}, []string{c3}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := list(tc.f); !slices.Equal(got, tc.want) {
					t.Errorf("Conversations(%+v) = %v, want %v", tc.f, got, tc.want)
				}
			})
		}
		got, _ := s.Conversation(ctx, conv.ID)
		if !slices.Equal(got.Labels, []string{"vip", "urgent"}) || got.Assignee != "agent-a" || got.State != parley.ConversationPending {
			t.Fatalf("stored conversation = %+v", got)
		}
		// A resolved conversation reopens when the customer writes.
		got.State = parley.ConversationResolved
		if err := s.UpdateConversation(ctx, got); err != nil {
			t.Fatal(err)
		}
		rec, err := s.RecordInboxMessage(ctx, inboxConv(f, c2, "again"), inboxMsg("w.again", parley.DirectionIn, time.Hour))
		if err != nil || rec.Conversation.State != parley.ConversationOpen || rec.Conversation.Unread != 1 {
			t.Fatalf("reopen = %+v, %v", rec.Conversation, err)
		}

		// Labels: deleting one takes it off conversations.
		for _, l := range []parley.Label{{Business: f.b.ID, Name: "vip", Color: "#ff0000"}, {Business: f.b.ID, Name: "urgent", Color: "#00ff00"},
			{Business: other.b.ID, Name: "vip", Color: "#0000ff"}} {
			if err := s.PutLabel(ctx, &l); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutLabel(ctx, &parley.Label{Business: f.b.ID, Name: "vip", Color: "#123456"}); err != nil {
			t.Fatal(err)
		}
		labels, err := s.Labels(ctx, f.b.ID)
		if err != nil || len(labels) != 2 || labels[0].Name != "urgent" || labels[1].Color != "#123456" {
			t.Fatalf("Labels = %+v, %v", labels, err)
		}
		if err := s.DeleteLabel(ctx, f.b.ID, "vip"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "DeleteLabel(again)", s.DeleteLabel(ctx, f.b.ID, "vip"), parley.ENOTFOUND)
		got, _ = s.Conversation(ctx, conv.ID)
		if !slices.Equal(got.Labels, []string{"urgent"}) {
			t.Fatalf("labels after deleting vip = %v", got.Labels)
		}
		if l, _ := s.Labels(ctx, other.b.ID); len(l) != 1 {
			t.Fatalf("the other business's labels = %+v", l)
		}
	})

	t.Run("QuickRepliesAndSettings", func(t *testing.T) {
		s := open(t)
		ctx := ctxT(t)
		f, other := mustBusiness(t, s), mustBusiness(t, s)
		for _, q := range []parley.QuickReply{{Business: f.b.ID, Shortcut: "/thanks", Text: "Thank you {{name}}", UpdatedAt: t0},
			{Business: f.b.ID, Shortcut: "/hours", Text: "9 to 5", UpdatedAt: t0}, {Business: f.b.ID, Shortcut: "/hours", Text: "9 to 6", UpdatedAt: t0}} {
			if err := s.PutQuickReply(ctx, &q); err != nil {
				t.Fatal(err)
			}
		}
		qs, err := s.QuickReplies(ctx, f.b.ID)
		if err != nil || len(qs) != 2 || qs[0].Shortcut != "/hours" || qs[0].Text != "9 to 6" || !qs[1].UpdatedAt.Equal(at(0)) {
			t.Fatalf("QuickReplies = %+v, %v", qs, err)
		}
		if qs, _ := s.QuickReplies(ctx, other.b.ID); len(qs) != 0 {
			t.Fatalf("other business sees %+v", qs)
		}
		wantCode(t, "DeleteQuickReply(other business)", s.DeleteQuickReply(ctx, other.b.ID, "/hours"), parley.ENOTFOUND)
		if err := s.DeleteQuickReply(ctx, f.b.ID, "/hours"); err != nil {
			t.Fatal(err)
		}
		// At most MaxQuickReplies per business; replacing one at the limit
		// is fine.
		for i := len(qs) - 1; i < parley.MaxQuickReplies; i++ {
			if err := s.PutQuickReply(ctx, &parley.QuickReply{Business: f.b.ID, Shortcut: fmt.Sprintf("/q%d", i), Text: "t", UpdatedAt: t0}); err != nil {
				t.Fatalf("quick reply %d: %v", i, err)
			}
		}
		wantCode(t, "PutQuickReply(one too many)", s.PutQuickReply(ctx, &parley.QuickReply{Business: f.b.ID, Shortcut: "/more", Text: "t"}), parley.ETOOLARGE)
		if err := s.PutQuickReply(ctx, &parley.QuickReply{Business: f.b.ID, Shortcut: "/thanks", Text: "changed"}); err != nil {
			t.Fatalf("replacing at the limit: %v", err)
		}

		st, err := s.InboxSettings(ctx, f.b.ID)
		if err != nil || st.Version != 0 || st.GreetingEnabled {
			t.Fatalf("InboxSettings (never set) = %+v, %v", st, err)
		}
		st.GreetingEnabled, st.Greeting, st.UpdatedAt = true, "Hello {{name}}", t0
		if err := s.PutInboxSettings(ctx, st); err != nil || st.Version != 1 {
			t.Fatalf("PutInboxSettings = %v, version %d", err, st.Version)
		}
		stale := *st
		stale.Version = 0
		wantCode(t, "PutInboxSettings(second insert)", s.PutInboxSettings(ctx, &stale), parley.ECONFLICT)
		st.AwayEnabled, st.Away = true, "closed"
		if err := s.PutInboxSettings(ctx, st); err != nil || st.Version != 2 {
			t.Fatalf("PutInboxSettings update = %v, version %d", err, st.Version)
		}
		stale.Version = 1
		wantCode(t, "PutInboxSettings(stale)", s.PutInboxSettings(ctx, &stale), parley.ECONFLICT)
		got, err := s.InboxSettings(ctx, f.b.ID)
		if err != nil || !got.GreetingEnabled || got.Greeting != "Hello {{name}}" || !got.AwayEnabled || got.Away != "closed" || got.Version != 2 {
			t.Fatalf("InboxSettings = %+v, %v", got, err)
		}
	})
}

func testAgents(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("CRUD", func(t *testing.T) {
		s := open(t)
		ctx := ctxT(t)
		f := mustBusiness(t, s)
		a := &parley.Agent{ID: "ag-" + newPhone(), Business: f.b.ID, Email: newPhone() + "@example.com", Name: "Ann", Role: parley.AgentOwner,
			PasswordHash: "$argon2id$x", CreatedAt: t0}
		if err := s.CreateAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
		dup := *a
		dup.ID = "ag-other"
		wantCode(t, "CreateAgent(same email)", s.CreateAgent(ctx, &dup), parley.ECONFLICT)
		// The same email may be an agent of another business too.
		g := mustBusiness(t, s)
		other := *a
		other.ID, other.Business, other.CreatedAt = "ag-other-"+newPhone(), g.b.ID, at(1)
		if err := s.CreateAgent(ctx, &other); err != nil {
			t.Fatalf("CreateAgent(same email, other business): %v", err)
		}
		byEmail, err := s.AgentsByEmail(ctx, a.Email, 10)
		if err != nil || len(byEmail) != 2 || byEmail[0].ID != a.ID || byEmail[1].ID != other.ID || byEmail[1].Business != g.b.ID {
			t.Fatalf("AgentsByEmail = %+v, %v; want the two agents, oldest first", byEmail, err)
		}
		got := &byEmail[0]
		if got.PasswordHash != a.PasswordHash || got.TOTPSealed != nil || !got.CreatedAt.Equal(at(0)) {
			t.Fatalf("AgentsByEmail[0] = %+v", got)
		}
		if one, err := s.AgentsByEmail(ctx, a.Email, 1); err != nil || len(one) != 1 || one[0].ID != a.ID {
			t.Fatalf("AgentsByEmail(limit 1) = %+v, %v", one, err)
		}
		if none, err := s.AgentsByEmail(ctx, "nobody-"+a.Email, 10); err != nil || len(none) != 0 {
			t.Fatalf("AgentsByEmail(unknown) = %+v, %v", none, err)
		}
		// UpdateAgent leaves the role alone (a stale copy cannot undo a role change).
		a.Name, a.Role, a.PasswordHash, a.TOTPSealed, a.TOTPLastStep = "Anna", parley.AgentAdmin, "$argon2id$y", []byte("totp"), 42
		if err := s.UpdateAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err = s.Agent(ctx, a.ID)
		if err != nil || got.Name != "Anna" || got.Role != parley.AgentOwner || got.PasswordHash != "$argon2id$y" || string(got.TOTPSealed) != "totp" || got.TOTPLastStep != 42 {
			t.Fatalf("Agent = %+v, %v", got, err)
		}
		// SetAgentRole: the only owner cannot step down; with a second
		// owner one can; unknown and other businesses' agents are ENOTFOUND.
		_, err = s.SetAgentRole(ctx, f.b.ID, a.ID, parley.AgentAdmin)
		wantCode(t, "SetAgentRole(last owner)", err, parley.ECONFLICT)
		_, err = s.SetAgentRole(ctx, "other-business", a.ID, parley.AgentAdmin)
		wantCode(t, "SetAgentRole(other business)", err, parley.ENOTFOUND)
		_, err = s.SetAgentRole(ctx, f.b.ID, "ag-nobody", parley.AgentAdmin)
		wantCode(t, "SetAgentRole(unknown)", err, parley.ENOTFOUND)
		b := &parley.Agent{ID: "ag-b-" + newPhone(), Business: f.b.ID, Email: newPhone() + "@example.com", Name: "Ben", Role: parley.AgentMember,
			PasswordHash: "h", CreatedAt: t0}
		if err := s.CreateAgent(ctx, b); err != nil {
			t.Fatal(err)
		}
		if old, err := s.SetAgentRole(ctx, f.b.ID, b.ID, parley.AgentOwner); err != nil || old != parley.AgentMember {
			t.Fatalf("SetAgentRole(promote) = %q, %v", old, err)
		}
		if old, err := s.SetAgentRole(ctx, f.b.ID, a.ID, parley.AgentAdmin); err != nil || old != parley.AgentOwner {
			t.Fatalf("SetAgentRole(demote with another owner) = %q, %v", old, err)
		}
		_, err = s.SetAgentRole(ctx, f.b.ID, b.ID, parley.AgentMember)
		wantCode(t, "SetAgentRole(now the last owner)", err, parley.ECONFLICT)
		// Two owners demote each other at the same moment: one wins.
		if _, err := s.SetAgentRole(ctx, f.b.ID, a.ID, parley.AgentOwner); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		for _, id := range []string{a.ID, b.ID} {
			go func() { _, err := s.SetAgentRole(ctx, f.b.ID, id, parley.AgentAdmin); errs <- err }()
		}
		e1, e2 := <-errs, <-errs
		if (e1 == nil) == (e2 == nil) || !(parley.Match(e1, parley.ECONFLICT) || parley.Match(e2, parley.ECONFLICT)) {
			t.Fatalf("concurrent demotions of the two owners: %v, %v; want one success and one ECONFLICT", e1, e2)
		}
		// RemoveTeamAgent: same rule for removals, also when two owners
		// remove each other at once.
		for _, id := range []string{a.ID, b.ID} {
			if _, err := s.SetAgentRole(ctx, f.b.ID, id, parley.AgentOwner); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, "RemoveTeamAgent(other business)", s.RemoveTeamAgent(ctx, "other-business", a.ID), parley.ENOTFOUND)
		wantCode(t, "RemoveTeamAgent(unknown)", s.RemoveTeamAgent(ctx, f.b.ID, "ag-nobody"), parley.ENOTFOUND)
		for _, id := range []string{a.ID, b.ID} {
			go func() { errs <- s.RemoveTeamAgent(ctx, f.b.ID, id) }()
		}
		e1, e2 = <-errs, <-errs
		if (e1 == nil) == (e2 == nil) || !(parley.Match(e1, parley.ECONFLICT) || parley.Match(e2, parley.ECONFLICT)) {
			t.Fatalf("concurrent removals of the two owners: %v, %v; want one success and one ECONFLICT", e1, e2)
		}
		if _, err := s.Agent(ctx, a.ID); err != nil { // a was removed: recreate it, and remove b, for what follows
			if err := s.CreateAgent(ctx, a); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteAgent(ctx, b.ID); err != nil {
				t.Fatal(err)
			}
		}
		if as, err := s.Agents(ctx, f.b.ID); err != nil || len(as) != 1 {
			t.Fatalf("Agents = %+v, %v", as, err)
		}
		// Lock-out after max failures; success clears the count.
		for i := 1; i <= 3; i++ {
			locked, err := s.AgentLoginFailed(ctx, a.ID, 3, t0.Add(time.Hour))
			if err != nil || locked != (i == 3) {
				t.Fatalf("failure %d: locked %v, %v", i, locked, err)
			}
		}
		got, _ = s.Agent(ctx, a.ID)
		if !got.LockedUntil.Equal(at(time.Hour)) || got.Failures != 0 {
			t.Fatalf("after lock-out: %+v", got)
		}
		s.AgentLoginFailed(ctx, a.ID, 3, t0)
		if err := s.AgentLoginSucceeded(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.Agent(ctx, a.ID); got.Failures != 0 {
			t.Fatalf("failures after success = %d", got.Failures)
		}

		// Sessions.
		x := &parley.AgentSession{ID: "s1", Hash: []byte("hash-" + a.ID), CSRFHash: []byte("csrf"), Agent: a.ID, Business: f.b.ID,
			UserAgent: "test", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateAgentSession(ctx, x); err != nil {
			t.Fatal(err)
		}
		x2 := *x
		x2.ID, x2.Hash, x2.CreatedAt = "s2", []byte("hash2-"+a.ID), t0.Add(time.Second)
		if err := s.CreateAgentSession(ctx, &x2); err != nil {
			t.Fatal(err)
		}
		gs, err := s.AgentSession(ctx, x.Hash)
		if err != nil || gs.ID != "s1" || !bytes.Equal(gs.CSRFHash, []byte("csrf")) || gs.Business != f.b.ID || !gs.ExpiresAt.Equal(at(time.Hour)) {
			t.Fatalf("AgentSession = %+v, %v", gs, err)
		}
		if err := s.TouchAgentSession(ctx, "s1", t0.Add(time.Minute), t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if gs, _ = s.AgentSession(ctx, x.Hash); !gs.ExpiresAt.Equal(at(2*time.Hour)) || !gs.LastSeenAt.Equal(at(time.Minute)) {
			t.Fatalf("touched session = %+v", gs)
		}
		ss, err := s.AgentSessions(ctx, a.ID, t0)
		if err != nil || len(ss) != 2 || ss[0].ID != "s2" {
			t.Fatalf("AgentSessions = %+v, %v", ss, err)
		}
		if ss, _ := s.AgentSessions(ctx, a.ID, t0.Add(90*time.Minute)); len(ss) != 1 {
			t.Fatalf("AgentSessions after s2 expired = %+v", ss)
		}
		if err := s.RevokeAgentSession(ctx, a.ID, "s2", t0); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "RevokeAgentSession(again)", s.RevokeAgentSession(ctx, a.ID, "s2", t0), parley.ENOTFOUND)
		wantCode(t, "RevokeAgentSession(other agent)", s.RevokeAgentSession(ctx, "ag-other", "s1", t0), parley.ENOTFOUND)
		if gs, _ = s.AgentSession(ctx, x2.Hash); !gs.RevokedAt.Equal(at(0)) {
			t.Fatalf("revoked session = %+v", gs)
		}
		if err := s.RevokeAgentSession(ctx, a.ID, "", t0); err != nil {
			t.Fatal(err)
		}
		if ss, _ := s.AgentSessions(ctx, a.ID, t0); len(ss) != 0 {
			t.Fatalf("sessions after revoking all = %+v", ss)
		}

		if err := s.DeleteAgent(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.Agent(ctx, a.ID)
		wantCode(t, "Agent(deleted)", err, parley.ENOTFOUND)
		_, err = s.AgentSession(ctx, x.Hash)
		wantCode(t, "AgentSession(deleted agent)", err, parley.ENOTFOUND)
		wantCode(t, "DeleteAgent(again)", s.DeleteAgent(ctx, a.ID), parley.ENOTFOUND)
	})

	t.Run("RoundRobin", func(t *testing.T) {
		s := open(t)
		ctx := ctxT(t)
		f := mustBusiness(t, s)
		var ids []string
		for i := range 3 {
			a := &parley.Agent{ID: fmt.Sprintf("rr-%s-%d", f.b.ID, i), Business: f.b.ID, Email: fmt.Sprintf("rr%d-%s@example.com", i, f.b.ID),
				Role: parley.AgentMember, PasswordHash: "h", CreatedAt: t0}
			if err := s.CreateAgent(ctx, a); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		// TouchAgent only moves forward.
		s.TouchAgent(ctx, ids[1], t0.Add(-time.Hour))
		if a, _ := s.Agent(ctx, ids[1]); !a.LastSeenAt.Equal(at(-time.Hour)) {
			t.Fatalf("LastSeenAt = %v", a.LastSeenAt)
		}
		s.TouchAgent(ctx, ids[1], t0.Add(-2*time.Hour))
		if a, _ := s.Agent(ctx, ids[1]); !a.LastSeenAt.Equal(at(-time.Hour)) {
			t.Fatalf("LastSeenAt went back to %v", a.LastSeenAt)
		}
		_, err := s.NextAgent(ctx, f.b.ID, t0, t0)
		wantCode(t, "NextAgent(nobody online)", err, parley.ENOTFOUND)
		s.TouchAgent(ctx, ids[0], t0.Add(time.Second))
		s.TouchAgent(ctx, ids[2], t0.Add(time.Second))
		var got []string
		for i := range 4 {
			a, err := s.NextAgent(ctx, f.b.ID, t0, t0.Add(time.Duration(i+1)*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, a.ID)
		}
		if want := []string{ids[0], ids[2], ids[0], ids[2]}; !slices.Equal(got, want) {
			t.Fatalf("round robin = %v, want %v", got, want)
		}
	})

	t.Run("Audit", func(t *testing.T) {
		s := open(t)
		ctx := ctxT(t)
		f, other := mustBusiness(t, s), mustBusiness(t, s)
		for i := range 3 {
			e := &parley.AuditEntry{Business: f.b.ID, Agent: "a1", Action: fmt.Sprintf("act%d", i), Target: "c1", Detail: "d", At: t0}
			if err := s.AppendAudit(ctx, e); err != nil || e.Seq == 0 {
				t.Fatalf("AppendAudit = %v, seq %d", err, e.Seq)
			}
		}
		s.AppendAudit(ctx, &parley.AuditEntry{Business: other.b.ID, Action: "x", At: t0})
		es, err := s.Audit(ctx, f.b.ID, 0, 10)
		if err != nil || len(es) != 3 || es[0].Action != "act2" || es[2].Agent != "a1" || !es[0].At.Equal(at(0)) {
			t.Fatalf("Audit = %+v, %v", es, err)
		}
		if page, _ := s.Audit(ctx, f.b.ID, es[0].Seq, 1); len(page) != 1 || page[0].Action != "act1" {
			t.Fatalf("Audit page = %+v", page)
		}
		// The database itself refuses to change the log.
		if r, ok := s.(Reopener); ok {
			if err := r.Exec(ctx, "UPDATE inbox_audit SET action = 'forged'"); err == nil {
				t.Error("an UPDATE of inbox_audit succeeded")
			}
			if err := r.Exec(ctx, "DELETE FROM inbox_audit"); err == nil {
				t.Error("a DELETE from inbox_audit succeeded")
			}
		}
	})
}

// testInboxRetention: a sweep deletes the resolved conversations of a
// business that keeps them for a number of days once they are older than
// that (with their messages and notes), the website visitors'
// conversations and visitors inactive longer than the web retention, in
// batches, and nothing else.
func testInboxRetention(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	ctx := ctxT(t)
	f, other := mustBusiness(t, s), mustBusiness(t, s)
	day := 24 * time.Hour
	record := func(f *bizFixture, customer, id, dir string, d time.Duration) {
		t.Helper()
		if _, err := s.RecordInboxMessage(ctx, inboxConv(f, customer, "p"), inboxMsg(id, dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	resolve := func(f *bizFixture, customer string) {
		t.Helper()
		c, err := s.Conversation(ctx, parley.ConversationID(f.n.ID, customer))
		if err != nil {
			t.Fatal(err)
		}
		c.State = parley.ConversationResolved
		if err := s.UpdateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	old1, old2, recent, open1, kept := newPhone(), newPhone(), newPhone(), newPhone(), newPhone()
	record(f, old1, "r.old1", parley.DirectionIn, 0)
	record(f, old1, "r.old1.note", parley.DirectionNote, time.Hour)
	record(f, old2, "r.old2", parley.DirectionIn, 2*day)
	record(f, recent, "r.recent", parley.DirectionIn, 20*day)
	record(f, open1, "r.open", parley.DirectionIn, 0) // old but not resolved
	record(other, kept, "r.kept", parley.DirectionIn, 0)
	for _, c := range []string{old1, old2, recent} {
		resolve(f, c)
	}
	resolve(other, kept) // other keeps conversations (no retention)
	st, err := s.InboxSettings(ctx, f.b.ID)
	if err != nil {
		t.Fatal(err)
	}
	st.RetentionDays, st.UpdatedAt = 30, t0
	if err := s.PutInboxSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, err := s.InboxSettings(ctx, f.b.ID); err != nil || got.RetentionDays != 30 {
		t.Fatalf("InboxSettings = %+v, %v; want RetentionDays 30", got, err)
	}

	// Two visitors: one gone for long (its conversation is open), one seen lately.
	for _, v := range []struct {
		id   string
		seen time.Duration
	}{{"rv-old", 0}, {"rv-new", 9 * day}} {
		if err := s.CreateWebVisitor(ctx, &parley.WebVisitor{ID: v.id, Business: f.b.ID, Number: f.n.ID, Hash: []byte("hash-" + v.id),
			Origin: "https://shop.example", CreatedAt: at(0)}); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchWebVisitor(ctx, v.id, at(v.seen)); err != nil {
			t.Fatal(err)
		}
		record(f, parley.WebCustomer(v.id), "r."+v.id, parley.DirectionIn, v.seen)
	}

	// Now is day 40: resolved and older than day 10 goes; web older than day 5 goes.
	now, webBefore := at(40*day), at(5*day)
	swept, err := s.SweepInbox(ctx, now, webBefore, 1) // batches of one
	if err != nil {
		t.Fatal(err)
	}
	if len(swept) != 1 || swept[0].Business != f.b.ID || swept[0].Conversations != 2 || swept[0].Web != 1 || swept[0].Messages != 4 {
		t.Fatalf("SweepInbox = %+v; want business %s: 2 conversations, 1 web, 4 messages", swept, f.b.ID)
	}
	for _, c := range []string{old1, old2, parley.WebCustomer("rv-old")} {
		id := parley.ConversationID(f.n.ID, c)
		if _, err := s.Conversation(ctx, id); !parley.Match(err, parley.ENOTFOUND) {
			t.Errorf("Conversation(%s) after the sweep: %v, want ENOTFOUND", c, err)
		}
		if ms, err := s.InboxMessages(ctx, id, time.Time{}, 10); err != nil || len(ms) != 0 {
			t.Errorf("messages of %s after the sweep: %d, %v", c, len(ms), err)
		}
	}
	for _, c := range []struct {
		f        *bizFixture
		customer string
	}{{f, recent}, {f, open1}, {other, kept}, {f, parley.WebCustomer("rv-new")}} {
		if _, err := s.Conversation(ctx, parley.ConversationID(c.f.n.ID, c.customer)); err != nil {
			t.Errorf("Conversation(%s) was swept: %v", c.customer, err)
		}
	}
	if _, err := s.WebVisitor(ctx, []byte("hash-rv-old")); !parley.Match(err, parley.ENOTFOUND) {
		t.Errorf("the visitor inactive for long: %v, want ENOTFOUND", err)
	}
	if _, err := s.WebVisitor(ctx, []byte("hash-rv-new")); err != nil {
		t.Errorf("the recent visitor was swept: %v", err)
	}
	if swept, err := s.SweepInbox(ctx, now, webBefore, 100); err != nil || len(swept) != 0 {
		t.Errorf("second sweep = %+v, %v; want nothing", swept, err)
	}
	// Without a web retention (zero webBefore) visitors stay.
	if swept, err := s.SweepInbox(ctx, at(400*day), time.Time{}, 100); err != nil || len(swept) != 1 || swept[0].Web != 0 || swept[0].Conversations != 1 {
		t.Errorf("sweep without web retention = %+v, %v; want only the resolved conversation of day 20", swept, err)
	}
	if _, err := s.WebVisitor(ctx, []byte("hash-rv-new")); err != nil {
		t.Errorf("a sweep without web retention removed a visitor: %v", err)
	}
}
