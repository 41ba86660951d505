package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// consentEntry makes a valid entry for a customer.
func consentEntry(t testing.TB, business, customer, action string, purposes ...string) *parley.ConsentEntry {
	t.Helper()
	e := &parley.ConsentEntry{Business: business, Customer: customer, CustomerKey: "key-" + customer, Action: action,
		Purposes: purposes, Source: parley.ConsentSource{Type: parley.SourceWebsiteForm, ID: "form-1", Evidence: "ip 192.0.2.1, ticked box"},
		RecordedAt: t0, Salt: "00112233445566778899aabbccddeeff"}
	if err := e.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	e.PersonalDigest = parley.PersonalDigest(e.Salt, e.Customer, e.Source.Evidence)
	return e
}

// verifyLedger checks a business's whole chain against its head and
// returns the first error.
func verifyLedger(t testing.TB, s parley.Store, business string) (int64, error) {
	t.Helper()
	c := parley.ConsentChain{Business: business}
	for {
		page, err := s.ConsentEntries(ctxT(t), business, c.Seq, 7)
		if err != nil {
			t.Fatalf("ConsentEntries: %v", err)
		}
		for i := range page {
			if err := c.Next(&page[i]); err != nil {
				return c.Seq, err
			}
		}
		if len(page) < 7 {
			break
		}
	}
	seq, hash, err := s.ConsentHead(ctxT(t), business)
	if err != nil {
		t.Fatalf("ConsentHead: %v", err)
	}
	if seq != c.Seq || hash != c.Hash {
		return c.Seq, fmt.Errorf("head is %d %s, the chain ends at %d %s", seq, hash, c.Seq, c.Hash)
	}
	return c.Seq, nil
}

func mustAppend(t testing.TB, s parley.Store, e *parley.ConsentEntry, events ...parley.WebhookEvent) {
	t.Helper()
	if err := s.AppendConsent(ctxT(t), e, events); err != nil {
		t.Fatalf("AppendConsent(%s %v): %v", e.Action, e.Purposes, err)
	}
}

func testConsent(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("Chain", func(t *testing.T) {
		s := open(t)
		biz, cust := graphID(), newPhone()
		a := consentEntry(t, biz, cust, parley.ConsentOptIn, "Marketing", "flight  updates", "marketing")
		mustAppend(t, s, a)
		if a.Seq != 1 || a.PrevHash != "" || a.Hash != parley.EntryHash(a) || !slices.Equal(a.Purposes, []string{"flight updates", "marketing"}) {
			t.Fatalf("first entry %+v", a)
		}
		b := consentEntry(t, biz, cust, parley.ConsentOptOut, "marketing")
		mustAppend(t, s, b)
		if b.Seq != 2 || b.PrevHash != a.Hash {
			t.Fatalf("second entry seq %d prev %s, want 2 %s", b.Seq, b.PrevHash, a.Hash)
		}
		// Another business has its own chain.
		other := consentEntry(t, graphID(), cust, parley.ConsentOptIn, "marketing")
		mustAppend(t, s, other)
		if other.Seq != 1 || other.PrevHash != "" {
			t.Fatalf("other business's first entry: seq %d prev %q", other.Seq, other.PrevHash)
		}
		if n, err := verifyLedger(t, s, biz); err != nil || n != 2 {
			t.Fatalf("verify = %d, %v; want 2 entries, nil", n, err)
		}
		got, err := s.ConsentEntries(ctxT(t), biz, 0, 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("ConsentEntries = %v, %v", got, err)
		}
		if g := got[0]; g.Customer != cust || g.Source != a.Source || !g.RecordedAt.Equal(at(0)) || g.Salt != a.Salt || g.Erased() {
			t.Errorf("stored entry %+v, want %+v", g, a)
		}
		states, err := s.ConsentStates(ctxT(t), biz, "key-"+cust)
		if err != nil || len(states) != 2 {
			t.Fatalf("ConsentStates = %v, %v", states, err)
		}
		if states[0].Purpose != "flight updates" || states[0].Action != parley.ConsentOptIn || states[1].Purpose != "marketing" ||
			states[1].Action != parley.ConsentOptOut || states[1].Seq != 2 {
			t.Errorf("states %+v: want flight updates in, marketing out at 2", states)
		}
		if st, _ := s.ConsentStates(ctxT(t), biz, "key-nobody"); len(st) != 0 {
			t.Errorf("states of an unknown customer: %v", st)
		}
	})
	t.Run("ReplayedOptOutWritesNothing", func(t *testing.T) {
		s := open(t)
		biz, cust := graphID(), newPhone()
		mustAppend(t, s, consentEntry(t, biz, cust, parley.ConsentOptOut, "marketing"))
		ev := parley.WebhookEvent{ID: "consent-replay-" + cust, Endpoint: "ep", Key: "k", Body: []byte(`{}`), CreatedAt: t0}
		err := s.AppendConsent(ctxT(t), consentEntry(t, biz, cust, parley.ConsentOptOut, "marketing"), []parley.WebhookEvent{ev})
		wantCode(t, "replayed opt-out", err, parley.ECONFLICT)
		if parley.ErrorReason(err) != parley.ReasonConsentReplay {
			t.Errorf("reason %q, want %q", parley.ErrorReason(err), parley.ReasonConsentReplay)
		}
		if seq, _, _ := s.ConsentHead(ctxT(t), biz); seq != 1 {
			t.Errorf("head after a replay is %d, want 1", seq)
		}
		if open, _, _ := s.WebhookDepth(ctxT(t)); open != 0 {
			t.Errorf("a refused append enqueued %d webhook events", open)
		}
		// An opt-out naming a purpose not yet opted out is no replay; its
		// event is committed with it.
		mustAppend(t, s, consentEntry(t, biz, cust, parley.ConsentOptOut, "marketing", "offers"), ev)
		if open, _, _ := s.WebhookDepth(ctxT(t)); open != 1 {
			t.Errorf("webhook events after an append: %d, want 1", open)
		}
		// Opting in again, then out, is fine.
		mustAppend(t, s, consentEntry(t, biz, cust, parley.ConsentOptIn, "marketing"))
		mustAppend(t, s, consentEntry(t, biz, cust, parley.ConsentOptOut, "marketing"))
		if n, err := verifyLedger(t, s, biz); err != nil || n != 4 {
			t.Fatalf("verify = %d, %v", n, err)
		}
	})
	t.Run("ConcurrentAppendsNeverFork", func(t *testing.T) {
		s := open(t)
		nodes := []parley.Store{s}
		if r, ok := s.(Reopener); ok { // a second node on the same database
			s2, err := r.Reopen(ctxT(t))
			if err != nil {
				t.Fatalf("Reopen: %v", err)
			}
			t.Cleanup(func() { s2.Close() })
			nodes = append(nodes, s2)
		}
		biz := graphID()
		const workers, each = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(node parley.Store) {
				defer wg.Done()
				cust := newPhone()
				for i := 0; i < each; i++ {
					action := parley.ConsentOptIn
					if i%2 == 1 {
						action = parley.ConsentOptOut
					}
					if err := node.AppendConsent(ctxT(t), consentEntry(t, biz, cust, action, "marketing"), nil); err != nil {
						errs <- err
					}
				}
			}(nodes[w%len(nodes)])
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent append: %v", err)
		}
		if n, err := verifyLedger(t, s, biz); err != nil || n != workers*each {
			t.Fatalf("after concurrent appends: %d entries, %v; want %d in one chain", n, err, workers*each)
		}
	})
	t.Run("ErasureKeepsTheChain", func(t *testing.T) {
		s := open(t)
		biz, biz2, cust, other := graphID(), graphID(), newPhone(), newPhone()
		mustAppend(t, s, consentEntry(t, biz, cust, parley.ConsentOptIn, "marketing"))
		mustAppend(t, s, consentEntry(t, biz, other, parley.ConsentOptIn, "marketing"))
		mustAppend(t, s, consentEntry(t, biz, cust, parley.ConsentOptOut, "marketing"))
		mustAppend(t, s, consentEntry(t, biz2, cust, parley.ConsentOptIn, "news"))
		n, err := s.EraseConsents(ctxT(t), "key-"+cust, t0.Add(time.Hour))
		if err != nil || n != 3 {
			t.Fatalf("EraseConsents = %d, %v; want 3", n, err)
		}
		if n, _ := s.EraseConsents(ctxT(t), "key-"+cust, t0.Add(2*time.Hour)); n != 0 {
			t.Errorf("erasing again erased %d entries", n)
		}
		for _, b := range []string{biz, biz2} {
			if _, err := verifyLedger(t, s, b); err != nil {
				t.Errorf("ledger of %s after erasure: %v", b, err)
			}
		}
		got, err := s.CustomerConsents(ctxT(t), "", "key-"+cust)
		if err != nil || len(got) != 3 {
			t.Fatalf("CustomerConsents = %v, %v", got, err)
		}
		for _, e := range got {
			if e.Customer != "" || e.Source.Evidence != "" || e.Salt != "" || !e.ErasedAt.Equal(at(time.Hour)) || e.PersonalDigest == "" ||
				e.Source.ID != "form-1" || e.Action == "" {
				t.Errorf("erased entry %+v: want personal fields empty, the rest kept", e)
			}
		}
		if one, _ := s.CustomerConsents(ctxT(t), biz2, "key-"+cust); len(one) != 1 || one[0].Purposes[0] != "news" {
			t.Errorf("CustomerConsents of one business = %+v", one)
		}
		// The other customer is untouched; the opt-out still suppresses.
		if o, _ := s.CustomerConsents(ctxT(t), biz, "key-"+other); len(o) != 1 || o[0].Customer != other {
			t.Errorf("the other customer's entry %+v", o)
		}
		if st, _ := s.ConsentStates(ctxT(t), biz, "key-"+cust); len(st) != 1 || st[0].Action != parley.ConsentOptOut {
			t.Errorf("states after erasure %+v, want marketing opted out", st)
		}
	})
	t.Run("TamperingIsDetected", func(t *testing.T) {
		s := open(t)
		r, ok := s.(Reopener)
		if !ok {
			t.Skip("the store cannot run SQL directly")
		}
		biz, cust := graphID(), newPhone()
		for i := 0; i < 3; i++ {
			mustAppend(t, s, consentEntry(t, biz, cust, []string{parley.ConsentOptIn, parley.ConsentOptOut}[i%2], "marketing"))
		}
		if err := r.Exec(ctxT(t), "UPDATE consent_entries SET action = 'opt_in' WHERE business = '"+biz+"' AND seq = 2"); err != nil {
			t.Fatal(err)
		}
		if n, err := verifyLedger(t, s, biz); err == nil || n != 1 {
			t.Errorf("verify after changing an action: %d, %v; want a failure after entry 1", n, err)
		}
		if err := r.Exec(ctxT(t), "UPDATE consent_entries SET action = 'opt_out' WHERE business = '"+biz+"' AND seq = 2"); err != nil {
			t.Fatal(err)
		}
		if _, err := verifyLedger(t, s, biz); err != nil {
			t.Fatalf("verify after undoing the change: %v", err)
		}
		if err := r.Exec(ctxT(t), "DELETE FROM consent_entries WHERE business = '"+biz+"' AND seq = 2"); err != nil {
			t.Fatal(err)
		}
		if _, err := verifyLedger(t, s, biz); err == nil {
			t.Error("verify passed with an entry deleted")
		}
	})
	t.Run("TamperedFields", func(t *testing.T) {
		r, ok := open(t).(Reopener)
		if !ok {
			t.Skip("the store cannot run SQL directly")
		}
		for _, set := range []string{"evidence = 'forged'", "customer = '4915199999999'", "recorded_at = recorded_at + 1", "purposes = 'news'", "source_type = 'api'"} {
			s := r.(parley.Store)
			biz, cust := graphID(), newPhone()
			mustAppend(t, s, consentEntry(t, biz, cust, parley.ConsentOptIn, "marketing"))
			mustAppend(t, s, consentEntry(t, biz, cust, parley.ConsentOptOut, "marketing"))
			if _, err := verifyLedger(t, s, biz); err != nil {
				t.Fatalf("verify before tampering: %v", err)
			}
			if err := r.Exec(ctxT(t), "UPDATE consent_entries SET "+set+" WHERE business = '"+biz+"' AND seq = 1"); err != nil {
				t.Fatal(err)
			}
			if n, err := verifyLedger(t, s, biz); err == nil || n != 0 {
				t.Errorf("verify after SET %s: %d, %v; want a failure at entry 1", set, n, err)
			}
		}
	})
	t.Run("Keywords", func(t *testing.T) {
		s := open(t)
		biz := graphID()
		k, err := s.ConsentKeywords(ctxT(t), biz)
		if err != nil || !slices.Equal(k.Stop, parley.DefaultStopKeywords) || !slices.Equal(k.Start, parley.DefaultStartKeywords) {
			t.Fatalf("default keywords %+v, %v", k, err)
		}
		if k.Match("  Stop ") != parley.ConsentOptOut || k.Match("ABMELDEN") != parley.ConsentOptOut || k.Match("Start") != parley.ConsentOptIn || k.Match("stop please") != "" {
			t.Errorf("Match on the defaults is wrong")
		}
		put := &parley.ConsentKeywords{Business: biz, Stop: []string{"Halt", "UNSUBSCRIBE"}, Start: []string{}, UpdatedAt: t0}
		if err := put.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := s.PutConsentKeywords(ctxT(t), put); err != nil {
			t.Fatal(err)
		}
		k, err = s.ConsentKeywords(ctxT(t), biz)
		if err != nil || !slices.Equal(k.Stop, []string{"halt", "unsubscribe"}) || len(k.Start) != 0 || !k.UpdatedAt.Equal(at(0)) {
			t.Fatalf("keywords %+v, %v", k, err)
		}
		if k.Match("stop") != "" || k.Match("HALT") != parley.ConsentOptOut {
			t.Errorf("Match after the change is wrong")
		}
	})
	t.Run("BusinessDataOf", func(t *testing.T) {
		s := open(t)
		cust, other := newPhone(), newPhone()
		num := graphID()
		for i, c := range []string{cust, other} {
			if err := s.PutBusinessMessage(ctxT(t), &parley.BusinessMessage{MessageID: fmt.Sprintf("m-%s-%d", c, i), WAMID: "wamid.x" + c,
				Number: num, Customer: c, Inbound: true, CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			if err := s.TouchWindow(ctxT(t), num, c, t0); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Reach(ctxT(t), "1234567890123456", c, t0, t0, -1); err != nil {
				t.Fatal(err)
			}
		}
		d, err := s.BusinessDataOf(ctxT(t), cust)
		if err != nil || len(d.Messages) != 1 || d.Messages[0].WAMID != "wamid.x"+cust || !d.Messages[0].Inbound ||
			len(d.Windows) != 1 || d.Windows[0].Number != num || len(d.Reach) != 1 {
			t.Fatalf("BusinessDataOf = %+v, %v", d, err)
		}
		if n, err := s.EraseBusinessDataOf(ctxT(t), cust); err != nil || n != 3 {
			t.Fatalf("EraseBusinessDataOf = %d, %v; want 3 rows", n, err)
		}
		if d, _ := s.BusinessDataOf(ctxT(t), cust); len(d.Messages)+len(d.Windows)+len(d.Reach) != 0 {
			t.Errorf("after erasure: %+v", d)
		}
		if d, _ := s.BusinessDataOf(ctxT(t), other); len(d.Messages) != 1 || len(d.Windows) != 1 || len(d.Reach) != 1 {
			t.Errorf("another customer's data was erased too: %+v", d)
		}
	})
}
